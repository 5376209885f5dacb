"""Who did something: every timeline event names its actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from refundflow.domain.permissions import Role


class ActorKind(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    INTEGRATION = "integration"
    POLICY = "policy"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    role: Role
    id: str | None = None
    name: str = ""
    # A person signed in to the console (not a system's API token) and when they last
    # confirmed their password again (step-up), for the actions that ask for it.
    person: bool = False
    stepped_up_at: datetime | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, Role.SYSTEM, None, name)

    @classmethod
    def policy(cls, version: int) -> Actor:
        return cls(ActorKind.POLICY, Role.SYSTEM, str(version), f"policy v{version}")

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind.value, "role": self.role.value, "id": self.id, "name": self.name}


# How long a step-up (password and code entered again) covers sensitive actions.
STEP_UP_WINDOW = timedelta(minutes=5)


def needs_step_up(actor: Actor, now: datetime) -> bool:
    """A person must have confirmed who they are within the window; systems with API tokens
    are scoped by their role instead (an admin issues them deliberately)."""
    if not actor.person:
        return False
    return actor.stepped_up_at is None or now - actor.stepped_up_at > STEP_UP_WINDOW
