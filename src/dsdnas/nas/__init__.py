"""The engine: architecture specs, builder, data, trainer, profiler, study and export.

Nothing here imports `dsdnas.cli`, `dsdnas.reports` or `dsdnas.search_spaces`: a search
space is passed into the study as an argument.
"""
