"""The engine, grouped by concern: `model`, `datasets`, `training`, `runs`, `search`.

Within the engine, imports flow one way: model and datasets know nothing of the rest;
runs reads models; training writes runs; search uses them all. `files` (the atomic
writer) and `hardware` (devices) serve every part. Nothing here imports `dsdnas.api`,
`dsdnas.cli`, `dsdnas.reports` or `dsdnas.search_spaces`: a search space is passed into
the study as an argument.
"""
