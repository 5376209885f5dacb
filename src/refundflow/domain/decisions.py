"""A decision of the refund policy on a new request, as the request keeps it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Explanation:
    staff: str
    customer: str


@dataclass(frozen=True, slots=True)
class Decision:
    """``outcome`` is approve, reject or review; ``rule`` is None when no rule matched
    (or no policy is published), which always means review."""

    outcome: str
    policy_version: int | None
    rule: str | None
    rule_name: str | None
    rule_number: int | None
    explanations: Mapping[str, Explanation]
    requires_return: bool | None = None
    auto_execute: bool = False
    fast_track: bool = False
    priority: str = "normal"
    queue: str | None = None
    offer: Mapping[str, Any] = field(default_factory=dict)

    def explanation(self, lang: str) -> Explanation:
        return self.explanations.get(lang) or next(iter(self.explanations.values()))

    def as_dict(self, lang: str) -> dict[str, Any]:
        chosen = self.explanation(lang)
        return {
            "outcome": self.outcome,
            "rule": self.rule,
            "rule_name": self.rule_name,
            "rule_number": self.rule_number,
            "policy_version": self.policy_version,
            "explanation_staff": chosen.staff,
            "explanation_customer": chosen.customer,
            "explanations": {
                code: {"staff": e.staff, "customer": e.customer}
                for code, e in self.explanations.items()
            },
            "requires_return": self.requires_return,
            "auto_execute": self.auto_execute,
            "fast_track": self.fast_track,
            "priority": self.priority,
            "queue": self.queue,
            "offer": dict(self.offer),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            outcome=data["outcome"],
            policy_version=data.get("policy_version"),
            rule=data.get("rule"),
            rule_name=data.get("rule_name"),
            rule_number=data.get("rule_number"),
            explanations={
                code: Explanation(e["staff"], e["customer"])
                for code, e in data.get("explanations", {}).items()
            },
            requires_return=data.get("requires_return"),
            auto_execute=bool(data.get("auto_execute")),
            fast_track=bool(data.get("fast_track")),
            priority=data.get("priority", "normal"),
            queue=data.get("queue"),
            offer=data.get("offer") or {},
        )
