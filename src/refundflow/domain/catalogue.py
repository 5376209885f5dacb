"""The event catalogue: every event refundflow publishes to webhook subscribers, with its
version and the JSON Schema of its ``data``.

An event goes out in one envelope whose shape never changes::

    {"id": "evt_…", "type": "refund_request.status_changed", "version": 1,
     "created_at": "2026-11-26T02:00:00+00:00", "data": {…}}

Compatibility rule: adding a field to ``data`` keeps the version (receivers must ignore
fields they do not know); removing, renaming or retyping one is a new ``version``. Only types
listed here are published: a branch that adds a domain event registers it here (one
``register`` call with its schema) and it reaches subscribers with no other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from refundflow.domain.lifecycle import Action, RequestType, Status

ENVELOPE_VERSION = 1


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    version: int
    summary_zh: str
    summary_en: str
    data_schema: dict[str, Any]

    def envelope_schema(self) -> dict[str, Any]:
        """The JSON Schema of a whole delivery of this event type."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://refundflow.example/schemas/events/{self.name}/v{self.version}",
            "title": self.name,
            "description": f"{self.summary_zh} / {self.summary_en}",
            "type": "object",
            "required": ["id", "type", "version", "created_at", "data"],
            "properties": {
                "id": {"type": "string", "pattern": "^evt_[0-9]+$"},
                "type": {"const": self.name},
                "version": {"const": self.version},
                "created_at": {"type": "string", "format": "date-time"},
                "data": self.data_schema,
            },
            "additionalProperties": False,
        }

    def describe(self) -> dict[str, Any]:
        return {
            "type": self.name,
            "version": self.version,
            "description": {"zh-CN": self.summary_zh, "en": self.summary_en},
            "schema": self.envelope_schema(),
        }


CATALOGUE: dict[str, EventType] = {}


def register(event_type: EventType) -> EventType:
    CATALOGUE[event_type.name] = event_type
    return event_type


def published(name: str) -> EventType | None:
    return CATALOGUE.get(name)


# ---------------------------------------------------------------- shared pieces of schemas
MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "decimal string"}
NULLABLE_TEXT = {"type": ["string", "null"]}
ACTOR = {
    "type": "object",
    "required": ["kind", "role", "id", "name"],
    "properties": {
        "kind": {"enum": ["customer", "staff", "integration", "policy", "system"]},
        "role": {"type": "string"},
        "id": NULLABLE_TEXT,
        "name": {"type": "string"},
    },
}
REQUEST_SUMMARY: dict[str, Any] = {
    "id": {"type": "integer"},
    "number": {"type": "string", "pattern": r"^RF\d{8}-\d{6,}$"},
    "order_no": {"type": "string"},
    "type": {"enum": [t.value for t in RequestType]},
    "status": {"enum": [s.value for s in Status]},
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "amount_requested": MONEY,
}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(properties),
        "properties": properties,
        "additionalProperties": True,
    }


REFUND_REQUEST_CREATED = register(
    EventType(
        "refund_request.created",
        1,
        "新的退款申请已提交（尚未被政策决定）",
        "A refund request was submitted (before the policy decided it)",
        _object(REQUEST_SUMMARY),
    )
)

REFUND_REQUEST_DECIDED = register(
    EventType(
        "refund_request.decided",
        1,
        "退款政策对新申请作出决定：批准、拒绝或转人工审核",
        "The refund policy decided a new request: approve, reject or review",
        _object(
            {
                **REQUEST_SUMMARY,
                "outcome": {"enum": ["approve", "reject", "review"]},
                "policy_version": {"type": ["integer", "null"]},
                "rule": NULLABLE_TEXT,
            }
        ),
    )
)

REFUND_REQUEST_STATUS_CHANGED = register(
    EventType(
        "refund_request.status_changed",
        1,
        "退款申请的一次生命周期操作（状态可能不变，如登记退货物流）",
        "A lifecycle action on a refund request (the status may stay, e.g. a return shipment)",
        _object(
            {
                **REQUEST_SUMMARY,
                "action": {"enum": [a.value for a in Action]},
                "from_status": {"enum": [s.value for s in Status]},
                "to_status": {"enum": [s.value for s in Status]},
                "actor": ACTOR,
                "reason": NULLABLE_TEXT,
            }
        ),
    )
)

INVENTORY_LINE: dict[str, Any] = {
    "request_id": {"type": "integer"},
    "number": REQUEST_SUMMARY["number"],
    "order_no": {"type": "string"},
    "sku": {"type": "string"},
    "quantity": {"type": "integer", "minimum": 1},
    "grade": {"enum": ["A", "B", "C"]},
}

INVENTORY_RESTOCKED = register(
    EventType(
        "inventory.restocked",
        1,
        "退货质检通过、可再次销售（A 级全新，B 级有瑕疵），库存系统应加回",
        "A returned line passed inspection and can be sold again (grade A as new, B with "
        "defects): the inventory system should add it back",
        _object(INVENTORY_LINE),
    )
)

INVENTORY_SCRAPPED = register(
    EventType(
        "inventory.scrapped",
        1,
        "退货质检为 C 级、不可再销售，应报废或退回供应商",
        "A returned line was graded C, not resellable: scrap it or send it to the supplier",
        _object(INVENTORY_LINE),
    )
)

SURVEY_ANSWERED = register(
    EventType(
        "survey.answered",
        1,
        "客户对一次退款服务作出评价（1–5 分，问题是否解决）",
        "A customer rated a refund (1–5, and whether the problem was solved)",
        _object(
            {
                "request_id": {"type": "integer"},
                "number": REQUEST_SUMMARY["number"],
                "csat": {"type": "integer", "minimum": 1, "maximum": 5},
                "resolved": {"type": ["boolean", "null"]},
            }
        ),
    )
)
