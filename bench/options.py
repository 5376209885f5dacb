"""How long and how hard a run measures, as chosen on the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console


@dataclass(frozen=True, slots=True)
class RunOptions:
    rounds: int = 5
    seconds: float = 3.0  # one round of one endpoint
    warmup: float = 2.0  # per endpoint, before its first round; not reported
    connections: int = 16
    verbose: bool = False
    console: Console = field(default_factory=Console)

    def as_json(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "seconds": self.seconds,
            "warmup": self.warmup,
            "connections": self.connections,
        }
