"""Helpers for API tests: request bodies and an authenticated client per role."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PLACED = "2026-11-20T10:00:00+08:00"


def order_body(order_no: str = "TM-1001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_no": order_no,
        "channel": "tmall",
        "currency": "CNY",
        "placed_at": PLACED,
        "paid_at": "2026-11-20T10:05:00+08:00",
        "shipped_at": "2026-11-21T09:00:00+08:00",
        "delivered_at": "2026-11-22T15:00:00+08:00",
        "customer": {
            "name": "李娜",
            "email": "lina@example.cn",
            "phone": "13912345678",
            "tier": "gold",
        },
        "lines": [
            {
                "sku": "AP-TS-001",
                "name": "纯棉T恤",
                "category": "apparel",
                "quantity": 2,
                "unit_price": "79.00",
            },
            {
                "sku": "EL-EB-501",
                "name": "蓝牙耳机",
                "category": "electronics",
                "quantity": 1,
                "unit_price": "899.00",
                "discount": "50.00",
            },
        ],
        "shipping_fee": "12.00",
        "payments": [{"method": "alipay", "amount": "1019.00", "reference": "ALI-2026-1"}],
    }
    body.update(overrides)
    return body


def request_body(order_no: str = "TM-1001", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_no": order_no,
        "type": "return_and_refund",
        "reason": "quality_issue",
        "description": "屏幕有划痕",
        "lines": [{"sku": "AP-TS-001", "quantity": 1}],
    }
    body.update(overrides)
    return body


class Api:
    """A TestClient that speaks as one role at a time: ``api.as_("cs").post(...)``."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens
        self.role = "admin"

    def as_(self, role: str) -> Api:
        other = Api(self.client, self.tokens)
        other.role = role
        return other

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[self.role]}", **(extra or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.put(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def act(self, request_id: int | str, action: str, **body: Any) -> Any:
        return self.post(f"/api/v1/refund-requests/{request_id}/{action}", json=body or None)
