"""Latency lookup tables: per-layer latencies measured once on a target device (`_table`), made and
checked there (`_measure`, the constants fitted by `_fit`), summed per candidate anywhere;
`LatencySource` says whether a search times its candidates or reads a table."""

from dsdnas.nas.lut._fit import mape, spearman, spearman_text
from dsdnas.nas.lut._measure import calibrate, check_table, fill_table, whole_ms
from dsdnas.nas.lut._source import LatencySource
from dsdnas.nas.lut._table import IDENTITY, LatencyTable, LutError, check_identity, load_table

__all__ = [
    "IDENTITY",
    "LatencySource",
    "LatencyTable",
    "LutError",
    "calibrate",
    "check_identity",
    "check_table",
    "fill_table",
    "load_table",
    "mape",
    "spearman",
    "spearman_text",
    "whole_ms",
]
