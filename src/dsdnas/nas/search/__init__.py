"""The search: the typed trial record (`records`), one trial (`objective`, with early stopping in
`stages` and `rungs`), the study and where it lives (`study`, `location`, `storage`), the loop and
its budget (`loop`, `budget`), how workers share a study (`workers`), what it reports (`events`,
`results`, `remeasure`) and how a model is picked (`select`)."""
