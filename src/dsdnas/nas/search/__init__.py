"""The search: the typed trial record (`records`), one trial (`objective`), the study and
its storage (`study`, `storage`), the loop with its budget and claims (`loop`, `budget`,
`claim`), what it reports (`events`, `results`) and how a model is picked (`select`)."""
