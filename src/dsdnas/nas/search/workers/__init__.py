"""How workers share one study, and what happens when one dies: the protocol, stated once.

A worker is one process running the search loop: a `dsdnas search` in a terminal, one of
its `--jobs` processes, or a search on another machine with the same `--storage` and
`--study`. Every worker has an id, `host:pid` (`DSDNAS_HOSTNAME` names the host).

Two locks, taken in this order and never the other way round:

- **The tables lock** (`tables_lock`) is held while a worker creates the database's
  tables (Optuna's and `dsdnas_arch_claims`) and creates or loads the study. Workers that
  start together on an empty database would otherwise all see no table, all send
  CREATE TABLE, and all but one fail. It is released before the first trial.
- **The claim lock** (`claim_lock`) is held from the moment a worker counts the study's
  evaluated and running trials until its new trial exists in the study and carries the
  worker's name. So workers never start more trials than the budget leaves, and every
  trial a holder of the lock sees either has a worker's name or was left by a worker
  that died holding the lock.

Where each lock lives is the `StorageLocation`'s answer:

| storage | claim lock | tables lock | shared by |
| --- | --- | --- | --- |
| RUN/study.db (no --storage) | file lock on RUN/claim.lock | the claim lock | the run's terminals and --jobs |
| --storage sqlite:///PATH | file lock on PATH.claim.lock | the claim lock | every run on this machine using PATH |
| --storage postgresql://... | pg_advisory_lock("dsdnas:STUDY") | pg_advisory_lock("dsdnas:tables") | every machine |
| any other server | file lock on RUN/claim.lock | the claim lock | this run directory only |

The server releases an advisory lock when its worker dies; the kernel releases a file
lock. With "any other server", workers on other machines do not share the claim lock, so
in a race they can pass the budget by one, and an unnamed trial is taken as orphaned only
once it is older than the heartbeat's grace period.

One trial, as a worker runs it (`_turns`):

1. Take the claim lock; end what dead workers left (below); count evaluated and running
   trials in one read; if the budget is full, release the lock and wait.
2. Create the trial (Optuna), write `worker` (host:pid) and `folder` on it, clearing a
   retried trial's old `reason`, and only then release the claim lock (`naming_first`).
3. Sample a candidate; write its record (`arch`, `notation`, `arch_hash`) on the trial and
   RUN/trials/N/arch.json. A finished trial with the same architecture is reused (its
   result copied). Otherwise claim the architecture's hash in `dsdnas_arch_claims`
   (`_claims`), whose primary key lets one insert win. The loser finds the holder: while
   it runs, this trial gives the candidate up (status `twin`, not counted) and another is
   sampled; once it failed, the claim is taken over with a compare-and-set on the owner
   (`_twins`).
4. Train; write weights.safetensors, then metrics.json, then tell the study. Optuna's
   heartbeat marks the trial alive meanwhile, every HEARTBEAT_S seconds (`_heartbeat`).

What a dead worker leaves, and who ends it (`_recovery`), by the next worker to hold the
claim lock, before it counts:

- Killed between creating its trial and naming itself: a RUNNING trial with no worker.
  Failed as orphaned ("its worker died as it created the trial, before naming itself on
  it"); its candidate is retried when it had one (an enqueued trial).
- A process on this machine that is gone (`kill -9`, a crash): its RUNNING trial is
  completed from its files when metrics.json says trained and the weights match the
  recorded SHA-256, or finished as stopped (PRUNED) when metrics.json says it was stopped
  at a rung, else failed with "worker HOST:PID died (process gone)" and retried.
- A worker on another machine: once its heartbeat has been silent for GRACE_S seconds,
  its trial is failed with "worker HOST:PID stopped sending heartbeats" and retried.
- A FAIL trial whose files are whole (the study write failed, the files did not; a full
  disk under study.db) is carried on, when a search starts, by a new COMPLETE trial
  (`adopted_from`) that takes over its folder.

Every "fail" above is the storage's compare-and-set on the trial's state, so of several
workers recovering at once exactly one wins. A claim in `dsdnas_arch_claims` dies with its
trial: the next worker that samples the architecture takes it over.

A run directory keeps one study's files (`_ownership`): another study, another storage,
or a study.db that was emptied or replaced under trial folders is refused before anything
is written.
"""

from dsdnas.nas.search.workers._claims import ArchClaims, create_claims_table
from dsdnas.nas.search.workers._heartbeat import GRACE_S, HEARTBEAT_S, heartbeat_options
from dsdnas.nas.search.workers._locks import AdvisoryLock, FileLock, Lock, claim_lock, tables_lock, tables_locked
from dsdnas.nas.search.workers._ownership import check_files_match, check_new_study, check_run_dir, trial_folders
from dsdnas.nas.search.workers._recovery import finished_from_files
from dsdnas.nas.search.workers._turns import Recovered, end_dead_trials, naming_first, recover_on_start
from dsdnas.nas.search.workers._twins import CandidateTwin, Twins, trained_twin

__all__ = [
    "GRACE_S",
    "HEARTBEAT_S",
    "AdvisoryLock",
    "ArchClaims",
    "CandidateTwin",
    "FileLock",
    "Lock",
    "Recovered",
    "Twins",
    "check_files_match",
    "check_new_study",
    "check_run_dir",
    "claim_lock",
    "create_claims_table",
    "end_dead_trials",
    "finished_from_files",
    "heartbeat_options",
    "naming_first",
    "recover_on_start",
    "tables_lock",
    "tables_locked",
    "trained_twin",
    "trial_folders",
]
