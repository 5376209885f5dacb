"""The audit trail: append-only events, each carrying the hash of the one before, so that
changing or removing any row breaks the chain from there on (``verify`` names the row).
Rows are written in the same transaction as what they record, chained at commit under the
chain's lock (SQLite's write lock, a PostgreSQL advisory lock), so the chain never forks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.audit import GENESIS, chain_hash
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


def who(actor: Actor | None) -> str:
    if actor is None:
        return "anonymous"
    return f"{actor.kind.value}:{actor.id}" if actor.id else actor.kind.value


def record(
    uow: UnitOfWork,
    actor: Actor | str | None,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event in the current transaction."""
    name = actor if isinstance(actor, str) else who(actor)
    text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False, default=str)
    # A refusal may quote what the caller sent (a path): PostgreSQL text holds no NUL.
    name, subject = _printable(name), _printable(subject)
    uow.audit.stage(uow.now(), name[:100], action[:40], subject[:100], _printable(text))


def _printable(value: str) -> str:
    return value.replace("\x00", "\ufffd")


@dataclass(frozen=True, slots=True)
class ChainCheck:
    rows: int
    broken_at: int | None  # the id of the first row that does not match


def verify(uows: UnitOfWorkFactory) -> ChainCheck:
    """Recompute the chain; the first row whose hash or link does not match breaks it."""
    prev = GENESIS
    count = 0
    with uows(write=False) as uow:
        for row_id, at, actor, action, subject, detail, prev_hash, stored in uow.audit.rows():
            count += 1
            if prev_hash != prev or chain_hash(prev, at, actor, action, subject, detail) != stored:
                return ChainCheck(count, row_id)
            prev = stored
    return ChainCheck(count, None)
