"""Reason codes: the list customers pick from, with a label per language, edited by managers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import PermissionDeniedError
from refundflow.domain.permissions import Operation, may
from refundflow.domain.reasons import ReasonCode
from refundflow.services import audit
from refundflow.services.parsing import parse_text
from refundflow.services.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class PutReason:
    code: str
    label_zh: str
    label_en: str
    active: bool = True
    position: int | None = None


def reason_view(reason: ReasonCode, position: int) -> dict[str, Any]:
    return {
        "code": reason.code,
        "label_zh": reason.label_zh,
        "label_en": reason.label_en,
        "active": reason.active,
        "position": position,
    }


def list_reasons(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, Any]]:
    if not may(actor.role, Operation.READ_SETTINGS):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot read settings")
    with uows(write=False) as uow:
        return [reason_view(reason, i) for i, reason in enumerate(uow.reasons.all())]


def put_reason(uows: UnitOfWorkFactory, actor: Actor, cmd: PutReason) -> dict[str, Any]:
    """Add or change a reason code. Codes are never deleted (requests refer to them):
    deactivate one to take it off the list customers choose from."""
    if not may(actor.role, Operation.MANAGE_SETTINGS):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot change reason codes")
    reason = ReasonCode(
        code=cmd.code,
        label_zh=parse_text(cmd.label_zh, "label_zh", limit=100),
        label_en=parse_text(cmd.label_en, "label_en", limit=100),
        active=cmd.active,
    )
    with uows() as uow:
        codes = [r.code for r in uow.reasons.all()]
        position = (
            cmd.position
            if cmd.position is not None
            else (codes.index(reason.code) if reason.code in codes else len(codes))
        )
        uow.reasons.put(reason, position)
        audit.record(
            uow,
            actor,
            "reason_code.put",
            f"reason:{reason.code}",
            {"label_zh": reason.label_zh, "label_en": reason.label_en, "active": reason.active},
        )
        uow.commit()
    return reason_view(reason, position)


def active_reasons(uows: UnitOfWorkFactory) -> list[dict[str, Any]]:
    """The reasons customers choose from (public: the portal shows them)."""
    with uows(write=False) as uow:
        return [reason_view(r, i) for i, r in enumerate(uow.reasons.all()) if r.active]
