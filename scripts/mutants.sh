#!/usr/bin/env bash
# Mutation testing of the promise-carrying modules (scripts/mutants.py): the first run about an
# hour on 2 cores, later ones minutes (each module keeps its verdicts):
#   scripts/mutants.sh                 # all of them
#   scripts/mutants.sh recovery twins  # some (scripts/mutants.sh --list names them)
# Needs mutmut (pip install "mutmut==3.8.1"); not part of the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
"$python" -c "import mutmut" 2>/dev/null || "$python" -m pip install -q "mutmut==3.8.1"
exec "$python" scripts/mutants.py "$@"
