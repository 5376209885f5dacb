"""refundflow's benchmarks: `make bench` (``python -m bench``), read bench/README.md.

Each suite (``bench.suites``) measures something and returns ``Row``s (``bench.rows``);
``bench.report`` prints them as one table and keeps them in ``bench/results.json``.
"""
