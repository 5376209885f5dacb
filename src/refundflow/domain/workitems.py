"""Work items and timers: a step's owner, deadline and the clocks that watch it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ItemKind(StrEnum):
    STATUS = "status"  # the step the request's status waits on
    COMPLAINT = "complaint"
    FOLLOW_UP = "follow_up"


class ItemState(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TimerKind(StrEnum):
    REMIND = "remind"
    BREACH = "breach"
    AUTO = "auto"


@dataclass(slots=True)
class WorkItem:
    request_id: int
    kind: ItemKind
    queue: str
    step: str
    state: ItemState
    priority: str
    created_at: datetime
    due_at: datetime | None = None
    business_hours: bool = False
    owner: str | None = None
    complaint_id: int | None = None
    closed_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    note: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Timer:
    work_item_id: int
    request_id: int
    kind: TimerKind
    due_at: datetime
    action: str | None = None
    id: int | None = None
