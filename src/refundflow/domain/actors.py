"""Who did something: every timeline event names its actor."""

from __future__ import annotations

from dataclasses import dataclass
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

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, Role.SYSTEM, None, name)

    @classmethod
    def policy(cls, version: int) -> Actor:
        return cls(ActorKind.POLICY, Role.SYSTEM, str(version), f"policy v{version}")

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind.value, "role": self.role.value, "id": self.id, "name": self.name}
