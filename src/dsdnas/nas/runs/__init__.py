"""Run storage: the run directory's file names (`rundir`), trained models on disk
(`artifacts`), and their standalone export (`export`)."""
