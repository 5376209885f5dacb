"""The one way a suite says it could not measure: ``BenchError`` (``python -m bench`` exits 1).

A suite raises it rather than report a figure it cannot vouch for: a request that failed, a
server that did not start, a load generator that is missing.
"""

from __future__ import annotations


class BenchError(Exception):
    pass
