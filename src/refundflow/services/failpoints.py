"""Crash points for the crash tests: ``REFUNDFLOW_FAILPOINTS="refund.after_call=0.3,..."``
makes the process kill itself with SIGKILL at a named point with that probability.

Unset (always, outside the crash tests) every ``hit`` is one dictionary lookup. SIGKILL is
what a power cut or the OOM killer does: no ``finally``, no rollback, no flush.
"""

from __future__ import annotations

import os
import random
import signal

ENV = "REFUNDFLOW_FAILPOINTS"
LOG_ENV = "REFUNDFLOW_FAILPOINTS_LOG"  # a file that gets the name of the point that fired


def _parse(text: str) -> dict[str, float]:
    points: dict[str, float] = {}
    for part in text.split(","):
        name, _, chance = part.partition("=")
        if name.strip():
            points[name.strip()] = float(chance or 1)
    return points


_POINTS = _parse(os.environ.get(ENV, ""))


def configure(text: str) -> None:
    """Set the points at run time (a forked test worker), in the variable's syntax."""
    _POINTS.clear()
    _POINTS.update(_parse(text))


def hit(name: str) -> None:
    chance = _POINTS.get(name)
    if chance is not None and random.random() < chance:  # noqa: S311 - not cryptography
        log = os.environ.get(LOG_ENV)
        if log:
            with open(log, "a") as out:
                out.write(name + "\n")
        os.kill(os.getpid(), signal.SIGKILL)
