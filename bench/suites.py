"""The registry of suites: a suite measures one area and returns rows for the common table.

To add one (policy decisions/s, simulation, dashboard queries, import rate, worker
refunds/s), write a module with ``run(options: RunOptions) -> list[Row]`` and list it here;
``python -m bench --only NAME`` then runs it alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import (
    dashboard_suite,
    http_pairs,
    import_suite,
    payouts_suite,
    policy_suite,
    simulation_suite,
)
from bench.options import RunOptions
from bench.rows import Row


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    summary: str
    run: Callable[[RunOptions], list[Row]]


SUITES: dict[str, Suite] = {
    suite.name: suite
    for suite in (
        Suite(
            "http",
            "REST API through real HTTP against bare endpoints of the same uvicorn process",
            http_pairs.run,
        ),
        Suite(
            "policy",
            "decisions/s of a compiled 25-rule policy against hand-written Python",
            policy_suite.run,
        ),
        Suite(
            "payouts",
            "refunds/s through the worker against the local Alipay server, outbox lag",
            payouts_suite.run,
        ),
        Suite(
            "simulation",
            "simulating a draft policy over 1,000,000 stored requests against the bare read",
            simulation_suite.run,
        ),
        Suite(
            "import",
            "order lines/s of `refundflow import orders` (CSV → SQLite) against bare executemany",
            import_suite.run,
        ),
        Suite(
            "dashboard",
            "every dashboard figure over 1,000,000 stored requests against the same SQL, bare",
            dashboard_suite.run,
        ),
    )
}
