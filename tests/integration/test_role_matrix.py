"""The role × route matrix: every API route and every console route, called by every role
(the six staff roles, a customer's portal session, nobody), each answer as the permission
table (domain/permissions.py) says.

Each route below names the table entry that governs it (``table(Operation.X)``) or says
why it is public. A role the entry leaves out is refused (403, or 404 where the caller may
not learn that the object exists) and the refusal changes nothing; a role it lets in is
never refused (its answer may still be 404, 409 or 422 for the object's state). A portal
session is no API token and an API token is no portal session: each is 401 in the other's
realm. Signed-out console visitors are sent to the sign-in page.

The portal's pages (a customer's session in the ``rf_portal`` cookie) are listed too:
signed-out visitors are sent to the portal's home page.

A route that exists without a row here, or a row without a route, fails the test: a new
route must be classified.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from refundflow.adapters.security import Argon2Hasher
from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.lifecycle import Action
from refundflow.domain.permissions import STAFF_ROLES, Operation, Role, roles_for
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web import console as console_pages
from refundflow.entrypoints.web.app import create_app
from refundflow.entrypoints.web.pages import policy as policy_page
from refundflow.entrypoints.web.pages import portal as portal_pages
from refundflow.entrypoints.web.routes import portal_api
from refundflow.services import care, queues, staff_auth, webhooks
from refundflow.services.auth import add_user
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body
from tests.integration.payouts import act, approved_request, paid_order

STAFF = tuple(sorted(role.value for role in STAFF_ROLES))
PRINCIPALS = (*STAFF, "customer", "anonymous")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PASSWORD = "correct-horse-42"
CSRF = "matrix-csrf-token"


def table(what: Action | Operation) -> frozenset[str]:
    """The staff roles the permission table lets do ``what`` (admin always)."""
    return frozenset(r.value for r in roles_for(what) if r in STAFF_ROLES)


def queue_roles(queue: queues.Queue) -> frozenset[str]:
    return frozenset({"admin", *(r.value for r in queues.QUEUE_ROLES[queue])})


# Realms: who the route asks for credentials. API_OR_PORTAL: an API token, or a customer's
# portal session as the bearer (the table opens the route to customers, for their own).
API, PORTAL, CONSOLE, PUBLIC = "api", "portal", "console", "public"
API_OR_PORTAL = "api_or_portal"
PAGES = "portal_pages"  # the portal's HTML pages: the session is the rf_portal cookie


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as routed, with {placeholders} filled from the seeded world
    realm: str
    allowed: frozenset[str] = frozenset()
    why: str = ""
    values: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    form: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None
    denied: int = 403  # what a staff role left out hears
    others_get_404: bool = False  # portal: another customer's object
    others: int = 404  # what another customer hears about it


def api(method: str, path: str, allowed: frozenset[str], realm: str = API, **kw: Any) -> Row:
    return Row(method, path, realm, allowed, **kw)


def portal(method: str, path: str, *, own: bool = False, **kw: Any) -> Row:
    return Row(method, path, PORTAL, others_get_404=own, **kw)


def page(method: str, path: str, *, own: bool = False, **kw: Any) -> Row:
    kw.setdefault("denied", 303)
    return Row(method, path, PAGES, others_get_404=own, **kw)


def console(method: str, path: str, allowed: frozenset[str], **kw: Any) -> Row:
    return Row(method, path, CONSOLE, allowed, **kw)


def public(method: str, path: str, why: str, **kw: Any) -> Row:
    return Row(method, path, PUBLIC, why=why, **kw)


EVERY_STAFF = frozenset(STAFF)
SETTINGS = table(Operation.MANAGE_SETTINGS)
RULE_MOVE = {"number": "1", "what": "down"}
CARE = table(Operation.CUSTOMER_CARE)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)
MARK = {"reference": "BANK-1", "reason": "returned by the bank"}
ORDER = order_body("TM-3003", customer={"name": "赵六", "phone": "13600003333"})
REQUEST = request_body()
SUBSCRIPTION = {"url": "https://erp.example.cn/hooks/refundflow", "events": ["*"]}

ACTIONS_BY_API = [
    api(
        "POST",
        "/api/v1/refund-requests/{request_id}/{action}",
        table(action),
        values={"action": action.value},
        json={"reason": "matrix", "note": "matrix"},
    )
    for action in Action
]

ACTIONS_IN_CONSOLE = [
    console(
        "POST",
        "/console/requests/{request_id}/act/{action}",
        table(action),
        values={"action": action.value},
        form={"note": "matrix"},
    )
    for action in Action
]

ROWS: list[Row] = [
    # ------------------------------------------------------------------ public
    public("GET", "/healthz", "a liveness probe"),
    public("GET", "/readyz", "a readiness probe"),
    public("GET", "/api/v1/policies/published/text", "the refund policy customers read"),
    public(
        "POST",
        "/api/v1/portal/lookup",
        "a customer asks for a code; the same answer always",
        json={"order_no": "TM-1001", "contact": "13900000000"},
    ),
    public(
        "POST",
        "/api/v1/portal/verify",
        "a customer proves the code (the code is the credential)",
        json={"order_no": "TM-1001", "contact": "13900000000", "code": "000000"},
    ),
    public(
        "POST",
        "/api/v1/gateways/{route}/callbacks",
        "signed by the gateway, not a token",
        values={"route": "alipay"},
        content=b"not signed",
    ),
    public(
        "POST",
        "/api/v1/integrations/shopify/webhooks",
        "signed by the shop (HMAC), not a token",
        content=b"{}",
    ),
    public(
        "POST",
        "/api/v1/integrations/woocommerce/webhooks",
        "signed by the shop (HMAC), not a token",
        content=b"{}",
    ),
    public("GET", "/console/login", "the sign-in page"),
    public(
        "POST",
        "/console/login",
        "e-mail and password are the credential",
        form={"email": "nobody@shop.example.cn", "password": "wrong-password"},
    ),
    # ------------------------------------------------------------------ orders
    api("POST", "/api/v1/orders", table(Operation.UPSERT_ORDER), json=ORDER),
    api("POST", "/api/v1/orders/batch", table(Operation.UPSERT_ORDER), json={"orders": [ORDER]}),
    api("GET", "/api/v1/orders/{order_no}", table(Operation.READ_ORDER)),
    api("GET", "/api/v1/metrics/summary", table(Operation.VIEW_DASHBOARD)),
    api("GET", "/api/v1/customers/{customer_id}/store-credit", table(Operation.READ_ORDER)),
    # ------------------------------------------------------------------ refund requests
    api("POST", "/api/v1/refund-requests", table(Operation.CREATE_REQUEST), json=REQUEST),
    api("GET", "/api/v1/refund-requests", table(Operation.READ_REQUEST)),
    api("GET", "/api/v1/refund-requests/{request_id}", table(Operation.READ_REQUEST)),
    api(
        "GET",
        "/api/v1/refund-requests/export",
        table(Operation.EXPORT_REQUESTS),
        values={"_query": "?from=2026-11-01&to=2026-12-01"},
    ),
    *ACTIONS_BY_API,
    # ------------------------------------------------------------------ customer care
    api(
        "POST",
        "/api/v1/refund-requests/{request_id}/complaints",
        table(Operation.OPEN_COMPLAINT),
        json={"source": "phone", "text": "matrix"},
    ),
    api("GET", "/api/v1/complaints", CARE),
    api(
        "POST",
        "/api/v1/complaints/{complaint_id}/resolve",
        CARE,
        json={"resolution": "matrix"},
    ),
    api("GET", "/api/v1/refund-requests/{request_id}/contacts", CARE),
    api(
        "POST",
        "/api/v1/refund-requests/{request_id}/contacts",
        CARE,
        json={"channel": "call", "summary": "matrix"},
    ),
    api(
        "GET",
        "/api/v1/refund-requests/{request_id}/compensations",
        table(Operation.READ_COMPENSATION),
    ),
    api(
        "POST",
        "/api/v1/refund-requests/{request_id}/compensations",
        CARE,
        json={"kind": "points", "points": 10},
    ),
    api("GET", "/api/v1/customers/{customer_id}/compensations", table(Operation.READ_COMPENSATION)),
    api(
        "POST",
        "/api/v1/refund-requests/{request_id}/root-cause",
        table(Operation.TAG_ROOT_CAUSE),
        json={"code": "quality"},
    ),
    # ------------------------------------------------------------------ queues and work
    api("GET", "/api/v1/queues/{queue}", queue_roles(queues.Queue.CS), values={"queue": "cs"}),
    api("POST", "/api/v1/work-items/{item_id}/claim", queue_roles(queues.Queue.CS)),
    api(
        "POST",
        "/api/v1/work-items/{item_id}/release",
        table(Operation.ASSIGN_WORK),
        why="its owner or a manager; nobody owns this one",
        values={"item_id": "{spare_item_id}"},
    ),
    api(
        "POST",
        "/api/v1/work-items/{item_id}/assign",
        table(Operation.ASSIGN_WORK),
        json={"owner": "cs-1"},
    ),
    api(
        "POST",
        "/api/v1/work-items/{item_id}/complete",
        CARE,
        json={"channel": "call", "summary": "matrix"},
    ),
    api(
        "POST",
        "/api/v1/warehouse/scan",
        table(Action.RECEIVE),
        json={"code": "{request_number}"},
    ),
    # ------------------------------------------------------------------ settings
    api("GET", "/api/v1/reason-codes", table(Operation.READ_SETTINGS)),
    api(
        "PUT",
        "/api/v1/reason-codes/{code}",
        table(Operation.MANAGE_SETTINGS),
        values={"code": "matrix_reason"},
        json={"label_zh": "矩阵", "label_en": "Matrix"},
    ),
    api("GET", "/api/v1/policies", table(Operation.READ_SETTINGS)),
    api("GET", "/api/v1/policies/draft", table(Operation.READ_SETTINGS)),
    api(
        "PUT",
        "/api/v1/policies/draft",
        table(Operation.MANAGE_SETTINGS),
        json={"rules": [{"id": "all", "name": "all", "conditions": [], "outcome": "review"}]},
    ),
    api("POST", "/api/v1/policies/draft/publish", table(Operation.MANAGE_SETTINGS)),
    api(
        "GET",
        "/api/v1/policies/{version}",
        table(Operation.READ_SETTINGS),
        values={"version": "1"},
    ),
    api(
        "POST",
        "/api/v1/policies/{version}/simulate",
        table(Operation.MANAGE_SETTINGS),
        values={"version": "1"},
        json={"from": "2026-11-01T00:00:00+08:00", "to": "2026-11-30T00:00:00+08:00"},
    ),
    api("GET", "/api/v1/sla-rules", table(Operation.READ_SETTINGS)),
    api(
        "PUT",
        "/api/v1/sla-rules",
        table(Operation.MANAGE_SETTINGS),
        json=[{"step": "review", "minutes": 60}],
    ),
    api(
        "POST",
        "/api/v1/sla-rules/presets/{name}",
        table(Operation.MANAGE_SETTINGS),
        values={"name": "taobao"},
    ),
    api("GET", "/api/v1/calendar/days", table(Operation.READ_SETTINGS)),
    api(
        "PUT",
        "/api/v1/calendar/days",
        table(Operation.MANAGE_SETTINGS),
        json=[{"day": "2027-02-06", "kind": "holiday", "name": "春节"}],
    ),
    api("GET", "/api/v1/root-cause-tags", table(Operation.READ_SETTINGS)),
    api(
        "PUT",
        "/api/v1/root-cause-tags/{code}",
        table(Operation.MANAGE_SETTINGS),
        values={"code": "matrix_tag"},
        json={"label_zh": "矩阵", "label_en": "Matrix"},
    ),
    api("GET", "/api/v1/events/schema", table(Operation.READ_SETTINGS)),
    # ------------------------------------------------------------------ notifications
    api("GET", "/api/v1/notification-templates", table(Operation.READ_SETTINGS)),
    api(
        "GET",
        "/api/v1/notification-templates/{notice}/{language}",
        table(Operation.READ_SETTINGS),
    ),
    api(
        "PUT",
        "/api/v1/notification-templates/{notice}/{language}",
        table(Operation.MANAGE_SETTINGS),
        json={"subject": "矩阵"},
    ),
    api(
        "DELETE",
        "/api/v1/notification-templates/{notice}/{language}",
        table(Operation.MANAGE_SETTINGS),
    ),
    api(
        "POST",
        "/api/v1/notification-templates/{notice}/{language}/preview",
        table(Operation.READ_SETTINGS),
        json={},
    ),
    api("GET", "/api/v1/notifications", table(Operation.READ_REQUEST)),
    api(
        "GET",
        "/api/v1/customers/{customer_id}/preferences",
        table(Operation.CUSTOMER_PREFERENCES),
        realm=API_OR_PORTAL,
    ),
    api(
        "PUT",
        "/api/v1/customers/{customer_id}/preferences",
        table(Operation.CUSTOMER_PREFERENCES),
        realm=API_OR_PORTAL,
        json={"language": "en"},
    ),
    api(
        "POST",
        "/api/v1/customers/{customer_id}/push-subscriptions",
        table(Operation.CUSTOMER_PREFERENCES),
        realm=API_OR_PORTAL,
        json={"kind": "app", "endpoint": "matrix-app-token"},
    ),
    api(
        "DELETE",
        "/api/v1/customers/{customer_id}/push-subscriptions/{subscription_id}",
        table(Operation.CUSTOMER_PREFERENCES),
        realm=API_OR_PORTAL,
        values={"subscription_id": "{push_id}"},
    ),
    # ------------------------------------------------------------------ money (finance)
    api("GET", "/api/v1/refunds/queue", table(Action.MARK_REFUNDED)),
    api("GET", "/api/v1/refunds/{refund_id}", table(Action.MARK_REFUNDED)),
    api("POST", "/api/v1/refunds/{refund_id}/mark-paid", table(Action.MARK_REFUNDED), json=MARK),
    api("POST", "/api/v1/refunds/{refund_id}/mark-failed", table(Action.MARK_REFUNDED), json=MARK),
    api("POST", "/api/v1/payout-batches", table(Action.MARK_REFUNDED)),
    api("GET", "/api/v1/payout-batches/{batch_id}.csv", table(Action.MARK_REFUNDED)),
    api(
        "POST",
        "/api/v1/payout-batches/results",
        table(Action.MARK_REFUNDED),
        content=b"reference,status,bank_reference,amount,reason\n",
    ),
    api(
        "POST",
        "/api/v1/reconciliations/{route}",
        table(Action.MARK_REFUNDED),
        values={"route": "alipay"},
        content=b"not a statement\n",
    ),
    # ------------------------------------------------------------------ webhooks out
    api("GET", "/api/v1/webhook-subscriptions", table(Operation.MANAGE_WEBHOOKS)),
    api(
        "POST",
        "/api/v1/webhook-subscriptions",
        table(Operation.MANAGE_WEBHOOKS),
        json=SUBSCRIPTION,
    ),
    api(
        "GET",
        "/api/v1/webhook-subscriptions/{subscription_id}",
        table(Operation.MANAGE_WEBHOOKS),
    ),
    api(
        "PATCH",
        "/api/v1/webhook-subscriptions/{subscription_id}",
        table(Operation.MANAGE_WEBHOOKS),
        json={"description": "matrix"},
    ),
    api(
        "POST",
        "/api/v1/webhook-subscriptions/{subscription_id}/rotate-secret",
        table(Operation.MANAGE_WEBHOOKS),
    ),
    api(
        "GET",
        "/api/v1/webhook-subscriptions/{subscription_id}/deliveries",
        table(Operation.MANAGE_WEBHOOKS),
    ),
    api("GET", "/api/v1/webhook-deliveries/{delivery_id}", table(Operation.MANAGE_WEBHOOKS)),
    api(
        "POST",
        "/api/v1/webhook-deliveries/{delivery_id}/replay",
        table(Operation.MANAGE_WEBHOOKS),
    ),
    # ------------------------------------------------------------------ the portal (customers)
    portal("GET", "/api/v1/portal/orders/{order_no}", own=True),
    portal("GET", "/api/v1/portal/refund-requests"),
    portal("POST", "/api/v1/portal/refund-requests", own=True, json=REQUEST),
    portal("POST", "/api/v1/portal/refund-requests/preview", own=True, json=REQUEST),
    portal("GET", "/api/v1/portal/refund-requests/{request_id}", own=True),
    portal(
        "POST",
        "/api/v1/portal/refund-requests/{request_id}/photos",
        own=True,
        files=[("photos", ("parcel.png", PNG, "image/png"))],
    ),
    *[
        portal(
            "POST",
            "/api/v1/portal/refund-requests/{request_id}/{action}",
            own=True,
            values={"action": action.value},
        )
        for action in Action
        if Role.CUSTOMER in roles_for(action)
    ],
    portal("GET", "/api/v1/portal/refund-requests/{request_id}/events", own=True),
    # ------------------------------------------------------------------ the console
    console("GET", "/console", EVERY_STAFF - {"integration"}, why="each role's queues"),
    console("GET", "/console/requests/{request_id}", table(Operation.READ_REQUEST)),
    console("POST", "/console/requests/{request_id}/unmask", CARE, why="full phone numbers"),
    *ACTIONS_IN_CONSOLE,
    console(
        "POST",
        "/console/requests/{request_id}/{what}",
        CARE,
        values={"what": "contact"},
        form={"summary": "matrix"},
    ),
    console(
        "POST",
        "/console/requests/{request_id}/{what}",
        table(Operation.OPEN_COMPLAINT),
        values={"what": "complaint"},
        form={"text": "matrix"},
    ),
    console(
        "POST",
        "/console/requests/{request_id}/{what}",
        CARE,
        values={"what": "compensation"},
        form={"kind": "points", "points": "10"},
    ),
    console(
        "POST",
        "/console/requests/{request_id}/{what}",
        table(Operation.TAG_ROOT_CAUSE),
        values={"what": "root-cause"},
        form={"code": "quality"},
    ),
    console(
        "POST",
        "/console/complaints/{complaint_id}/resolve",
        CARE,
        form={"resolution": "matrix"},
    ),
    console(
        "POST",
        "/console/bulk",
        table(Action.APPROVE),
        form={"bulk": "approve", "item": "{item_id}:{request_id}"},
    ),
    console(
        "POST",
        "/console/bulk",
        table(Operation.ASSIGN_WORK),
        form={"bulk": "assign", "item": "{item_id}:{request_id}", "owner": "cs-1"},
    ),
    console(
        "POST",
        "/console/items/{item_id}/{what}",
        queue_roles(queues.Queue.CS),
        values={"what": "claim"},
    ),
    console(
        "POST",
        "/console/items/{item_id}/{what}",
        table(Operation.ASSIGN_WORK),
        why="its owner or a manager; nobody owns this one",
        values={"item_id": "{spare_item_id}", "what": "release"},
    ),
    console(
        "POST",
        "/console/items/{item_id}/{what}",
        CARE,
        values={"what": "follow-up"},
        form={"summary": "matrix"},
    ),
    console(
        "GET",
        "/console/photos/{photo_id}",
        EVERY_STAFF - {"integration"},
        why="customers' photos; an integration does not learn they exist",
        values={"photo_id": "1"},
        denied=404,
    ),
    console("GET", "/console/warehouse", table(Action.RECEIVE)),
    console(
        "POST", "/console/warehouse/scan", table(Action.RECEIVE), form={"code": "{request_number}"}
    ),
    console(
        "GET",
        "/console/finance",
        queue_roles(queues.Queue.FINANCE),
        why="the finance queue (managers look on); only finance settles money",
    ),
    console(
        "POST",
        "/console/finance/refunds/{record_id}/{outcome}",
        table(Action.MARK_REFUNDED),
        values={"record_id": "{refund_id}", "outcome": "mark-paid"},
        form={"reference": "BANK-1"},
    ),
    console(
        "POST",
        "/console/finance/refunds/{record_id}/{outcome}",
        table(Action.MARK_REFUNDED),
        values={"record_id": "{refund_id}", "outcome": "mark-failed"},
        form={"reason": "returned by the bank"},
    ),
    console("POST", "/console/finance/batches", table(Action.MARK_REFUNDED)),
    console("GET", "/console/finance/batches/{batch_id}.csv", table(Action.MARK_REFUNDED)),
    console("POST", "/console/finance/bank-results", table(Action.MARK_REFUNDED)),
    console("POST", "/console/finance/reconcile", table(Action.MARK_REFUNDED)),
    # The dashboard: the table's view_dashboard (managers; admins as always).
    console("GET", "/console/dashboard", table(Operation.VIEW_DASHBOARD)),
    console("GET", "/console/dashboard/live", table(Operation.VIEW_DASHBOARD)),
    console(
        "GET",
        "/console/dashboard/export/{name}.{fmt}",
        table(Operation.VIEW_DASHBOARD),
        values={"name": "reason", "fmt": "csv"},
    ),
    # The policy editor and the settings: the table's manage_settings (users: admins only).
    *[
        console(method, path, SETTINGS, **kw)
        for method, path, kw in (
            ("GET", "/console/policy", {}),
            ("POST", "/console/policy/trust-quota", {"form": {"tier": "gold", "quota": "x"}}),
            ("POST", "/console/policy/simulate", {"form": {"from": "2026-11-01"}}),
            ("POST", "/console/policy/publish", {"form": {"saved_at": "matrix"}}),
            ("POST", "/console/policy/rules/{number}/{what}", {"values": RULE_MOVE}),
            ("GET", "/console/policy/rules/{which}", {"values": {"which": "new"}}),
            ("POST", "/console/policy/rules/{which}", {"values": {"which": "new"}}),
            ("GET", "/console/settings", {}),
            ("GET", "/console/settings/{section}", {"values": {"section": "sla"}}),
            ("POST", "/console/settings/sla", {"form": {"step": "matrix"}}),
            ("POST", "/console/settings/calendar", {"form": {"days": "matrix"}}),
            ("POST", "/console/settings/sla/preset", {"form": {"name": "matrix"}}),
            ("POST", "/console/settings/reasons", {"form": {"code": "!"}}),
            ("POST", "/console/settings/root-causes", {"form": {"code": "!"}}),
            ("POST", "/console/settings/templates", {"form": {"notice": "!"}}),
            ("POST", "/console/settings/templates/preview", {"form": {"notice": "!"}}),
        )
    ],
    console("POST", "/console/settings/users", frozenset({"admin"}), form={"email": "!"}),
    console(
        "POST",
        "/console/settings/users/{user_id}",
        frozenset({"admin"}),
        values={"user_id": "999999"},
        form={"role": "cs"},
    ),
    # Step-up: the password is the check; without a session, the sign-in page.
    public("GET", "/console/step-up", "a form that asks for the password again"),
    public(
        "POST",
        "/console/step-up",
        "the password is the check",
        form={"password": PASSWORD, "next": "/console"},
    ),
    # ------------------------------------------------------------------ the portal's pages
    public("GET", "/", "the portal's home page"),
    public("GET", "/policy", "the refund policy, in plain sentences"),
    public("GET", "/portal-sw.js", "the portal's service worker"),
    public(
        "POST",
        "/lookup",
        "a customer asks for a code; the same answer always",
        form={"order_no": "TM-1001", "contact": "13900000000"},
    ),
    public(
        "POST",
        "/verify",
        "a customer proves the code (the code is the credential)",
        form={"order_no": "TM-1001", "contact": "13900000000", "code": "000000"},
    ),
    public("GET", "/survey/{token}", "the signed link is the credential", values={"token": "x"}),
    public(
        "POST",
        "/survey/{token}",
        "the signed link is the credential (this one is refused alike for everyone)",
        values={"token": "x"},
        form={"csat": "5"},
    ),
    page("GET", "/orders/{order_no}", own=True),
    page(
        "POST",
        "/orders/{order_no}/preview",
        own=True,
        form={"type": "refund_only", "reason": "quality_issue", "qty_AP-TS-001": "1"},
        denied=200,
        others=200,
        why="an htmx fragment (htmx swaps 2xx only): a refusal is the message in it",
    ),
    page(
        "POST",
        "/orders/{order_no}/requests",
        own=True,
        form={"type": "refund_only", "reason": "quality_issue", "qty_AP-TS-001": "1"},
    ),
    page("GET", "/r/{number}", own=True, values={"number": "{request_number}"}),
    page("GET", "/r/{number}/timeline", own=True, values={"number": "{request_number}"}),
    page("GET", "/r/{number}/stream", own=True, values={"number": "{request_number}"}, denied=401),
    *[
        page(
            "POST",
            "/r/{number}/{action}",
            own=True,
            values={"number": "{request_number}", "action": action.value},
        )
        for action in Action
        if Role.CUSTOMER in roles_for(action)
    ],
    page("GET", "/photos/{photo_id}", own=True, values={"photo_id": "1"}, denied=401),
    page(
        "POST",
        "/push",
        json={"csrf": CSRF, "endpoint": "https://push.example/matrix", "keys": {}},
        denied=401,
        why="the page's script: JSON answers",
    ),
    page(
        "POST",
        "/push/off",
        json={"csrf": CSRF, "endpoint": "https://push.example/matrix"},
        denied=401,
        why="the page's script: JSON answers",
    ),
    # Last: signing out ends the sessions the rows above use.
    public("POST", "/logout", "anyone may sign out of the portal"),
    public("POST", "/console/totp", "the second step of sign-in", form={"code": "000000"}),
    public("POST", "/console/logout", "anyone may sign out"),
]


# ---------------------------------------------------------------- the routes that exist
def api_routes(settings: Settings) -> set[tuple[str, str]]:
    app = create_app(settings)
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def page_routes() -> set[tuple[str, str]]:
    """The console's and the portal's pages (left out of OpenAPI; FastAPI includes routers
    lazily, so they are read from the modules' own routers)."""
    found = set()
    modules = [
        importlib.import_module(f"{console_pages.__name__}.{info.name}")
        for info in pkgutil.iter_modules(console_pages.__path__)
    ]
    for module in [*modules, portal_pages, policy_page]:
        if not hasattr(module, "router"):
            continue
        for route in module.router.routes:
            for method in route.methods - {"HEAD"}:  # type: ignore[attr-defined]
                found.add((method, route.path))  # type: ignore[attr-defined]
    return found


def _template(path: str) -> str:
    """Our placeholders back to the routed names (the matrix fills some differently)."""
    renames = {
        "/console/requests/{request_id}": "/console/requests/{ref}",
    }
    for ours, routed in renames.items():
        path = path.replace(ours, routed)
    return path


def test_every_route_is_in_the_matrix_and_every_row_is_a_route(settings: Settings) -> None:
    routes = api_routes(settings) | page_routes()
    listed = {(row.method, _template(row.path)) for row in ROWS}
    assert routes - listed == set(), "classify these routes in the matrix"
    assert listed - routes == set(), "these rows name routes that no longer exist"


# ---------------------------------------------------------------- the world the calls touch
@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """SMS configured so that a portal code can be read back; no rate limits; photos kept
    out of the working tree."""
    return Settings(
        database_url=db_url,
        environment="test",
        media_dir=str(tmp_path / "media"),
        token_cache_seconds=0,
        sms_provider="webhook",
        sms_url="http://127.0.0.1:9/sms",
        sms_webhook_secret="s" * 32,
        shopify_webhook_secret="h" * 32,
        woocommerce_webhook_secret="w" * 32,
        rate_limits=False,
    )


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """The decisions are made above the database: SQLite is enough here."""
    return sqlite_url


def _portal_token(client: TestClient, box: Container, order_no: str, phone: str) -> str:
    body = {"order_no": order_no, "contact": phone}
    assert client.post("/api/v1/portal/lookup", json=body).status_code == 202
    with box.engine.connect() as conn:
        content = (
            conn.exec_driver_sql(
                "SELECT content FROM notifications WHERE notice = 'login_code' ORDER BY id DESC"
            )
            .scalars()
            .first()
        )
    code = re.search(r"\b(\d{6})\b", str(content))
    assert code
    answer = client.post("/api/v1/portal/verify", json={**body, "code": code.group(1)})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


class QuickHasher(Argon2Hasher):
    """Argon2 at its lowest cost: the matrix signs six users in and is not about hashing."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


MANAGER = Actor(ActorKind.STAFF, Role.MANAGER, "manager-1", "manager")
CS = Actor(ActorKind.STAFF, Role.CS, "cs-1", "cs")


@dataclass
class World:
    client: TestClient
    box: Container
    tokens: dict[str, str]  # principal → API bearer token or portal token
    console: dict[str, str]  # staff role → console session token
    other_customer: str
    values: dict[str, str]


async def _one_update(
    request: Any, caller: Any, request_id: str, first: dict[str, Any]
) -> AsyncIterator[dict[str, str]]:
    yield {"event": "update", "data": "{}"}


@pytest.fixture
def world(
    settings: Settings,
    box: Container,
    tokens: dict[str, str],
    manual_review: int,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    # The live stream never ends by itself; who may open it is decided before it starts.
    monkeypatch.setattr(portal_api, "stream", _one_update)
    monkeypatch.setattr(portal_pages, "stream", _one_update)
    with TestClient(create_app(settings, container=box), raise_server_exceptions=False) as client:
        caller = Api(client, tokens)
        order = caller.as_("integration").post("/api/v1/orders", json=order_body())
        assert order.status_code == 201, order.text
        theirs = order_body(
            "TM-2002", customer={"name": "王强", "phone": "13700002222", "email": "wq@example.cn"}
        )
        assert caller.as_("integration").post("/api/v1/orders", json=theirs).status_code == 201
        mine = caller.as_("cs").post("/api/v1/refund-requests", json=request_body())
        assert mine.status_code == 201, mine.text
        spare = caller.as_("cs").post("/api/v1/refund-requests", json=request_body())
        assert spare.status_code == 201, spare.text
        customer = _portal_token(client, box, "TM-1001", "13912345678")
        other = _portal_token(client, box, "TM-2002", "13700002222")
        complaint = care.open_complaint(
            box.uows, CS, str(mine.json()["id"]), source="phone", severity="low", text="slow"
        )
        paid_order(box, None, "COD-1", [("cash_on_delivery", "100.00")])
        refund = act(box, approved_request(box, "COD-1"), Action.EXECUTE)["refunds"][0]
        subscription = webhooks.create_subscription(
            box.uows,
            MANAGER,
            webhooks.SubscriptionInput(url=SUBSCRIPTION["url"], events=["*"]),
        )
        push = caller.as_("cs").post(
            f"/api/v1/customers/{order.json()['customer']['id']}/push-subscriptions",
            json={"kind": "app", "endpoint": "seeded-app-token"},
        )
        assert push.status_code == 201, push.text
        with box.engine.connect() as conn:
            items = {
                rid: item
                for item, rid in conn.exec_driver_sql(
                    "SELECT id, request_id FROM work_items WHERE queue = 'cs' ORDER BY id"
                )
            }
        hasher = QuickHasher()
        sessions = {}
        for role in STAFF:
            email = f"{role}@shop.example.cn"
            add_user(box.uows, hasher, email=email, role=role, password=PASSWORD, name=role)
            sessions[role] = staff_auth.sign_in(box.uows, hasher, email, PASSWORD).token
        values = {
            "order_no": "TM-1001",
            "customer_id": str(order.json()["customer"]["id"]),
            "request_id": str(mine.json()["id"]),
            "request_number": mine.json()["number"],
            "item_id": str(items[mine.json()["id"]]),
            "spare_item_id": str(items[spare.json()["id"]]),
            "complaint_id": str(complaint["id"]),
            "refund_id": str(refund["id"]),
            "batch_id": "1",
            "delivery_id": "1",
            "subscription_id": str(subscription["id"]),
            "push_id": str(push.json()["id"]),
            "notice": "approved",
            "language": "zh-CN",
        }
        yield World(client, box, {**tokens, "customer": customer}, sessions, other, values)


# ---------------------------------------------------------------- calling a route as someone
def _fill(text: str, values: dict[str, str]) -> str:
    for _ in range(2):  # a value may itself name a value ("{spare_item_id}")
        text = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), text)
    return text


def _call(world: World, row: Row, who: str) -> Any:
    values = {**world.values, **row.values}
    url = _fill(row.path, values) + values.get("_query", "")
    headers: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    if row.realm == PAGES or not row.path.startswith(("/api/", "/console", "/healthz", "/readyz")):
        cookies = [f"rf_csrf={CSRF}"]
        session = {"customer": world.tokens["customer"], "other_customer": world.other_customer}
        if who in session:
            cookies.append(f"rf_portal={session[who]}")
        elif who in world.tokens:  # an API token is no portal session
            headers["Authorization"] = f"Bearer {world.tokens[who]}"
        headers["Cookie"] = "; ".join(cookies)
        if row.json is not None:
            kwargs["json"] = row.json
        elif row.method != "GET":
            form = {k: _fill(v, values) for k, v in (row.form or {}).items()}
            kwargs["data"] = {"csrf_token": CSRF, **form}
    elif row.realm == CONSOLE or row.path.startswith("/console"):
        cookies = [f"rf_csrf={CSRF}"]
        if who in world.console:
            cookies.append(f"rf_staff={world.console[who]}")
        elif who == "customer":
            cookies.append(f"rf_portal={world.tokens['customer']}")
        headers["Cookie"] = "; ".join(cookies)
        if row.method != "GET":
            form = {k: _fill(v, values) for k, v in (row.form or {}).items()}
            kwargs["data"] = {"csrf_token": CSRF, **form}
    else:
        token = {"other_customer": world.other_customer}.get(who) or world.tokens.get(who)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if row.json is not None:
            kwargs["json"] = _filled_json(row.json, values)
        elif row.content is not None:
            kwargs["content"] = row.content
        elif row.files is not None:
            kwargs["files"] = row.files
    world.client.cookies.clear()  # only the credentials this cell sends
    return world.client.request(row.method, url, headers=headers, follow_redirects=False, **kwargs)


def _filled_json(body: Any, values: dict[str, str]) -> Any:
    if isinstance(body, str):
        return _fill(body, values)
    if isinstance(body, dict):
        return {k: _filled_json(v, values) for k, v in body.items()}
    if isinstance(body, list):
        return [_filled_json(v, values) for v in body]
    return body


def _expected_refusal(row: Row, who: str) -> int | None:
    """The status a refused caller must hear, or None when the caller is let in."""
    if row.realm == PUBLIC:
        return None
    if row.realm == API:
        if who in row.allowed:
            return None
        return row.denied if who in STAFF else 401
    if row.realm == API_OR_PORTAL:
        if who in row.allowed or who == "customer":
            return None
        return {"other_customer": 404, "anonymous": 401}.get(who, row.denied)
    if row.realm in (PORTAL, PAGES):
        if who == "customer":
            return None
        if who == "other_customer":
            return row.others if row.others_get_404 else None
        return row.denied if row.realm == PAGES else 401
    if who in row.allowed:  # console
        return None
    return row.denied if who in STAFF else 303


def _cells(row: Row) -> list[str]:
    """Refused callers first (so the allowed ones cannot change what they hear)."""
    customers = row.realm in (PORTAL, API_OR_PORTAL, PAGES)
    everyone = [*PRINCIPALS, *(["other_customer"] if customers else [])]
    return sorted(everyone, key=lambda who: _expected_refusal(row, who) is None)


def test_every_role_on_every_route_is_answered_as_the_permission_table_says(
    world: World,
) -> None:
    wrong: list[str] = []
    cells = 0
    for row in ROWS:
        public_answers = set()
        before = snapshot(world.box) if row.method in WRITES else None
        for who in _cells(row):
            expected = _expected_refusal(row, who)
            answer = _call(world, row, who)
            cells += 1
            where = f"{row.method} {_fill(row.path, {**world.values, **row.values})} as {who}"
            if answer.status_code >= 500:
                wrong.append(f"{where}: {answer.status_code} {answer.text[:200]}")
            elif row.realm == PUBLIC:
                public_answers.add(answer.status_code)
            elif expected is None:
                if answer.status_code in (401, 403) or _signed_out(answer):
                    wrong.append(f"{where}: allowed but {answer.status_code} {answer.text[:200]}")
            else:
                if answer.status_code != expected or (expected == 303 and not _signed_out(answer)):
                    wrong.append(
                        f"{where}: expected {expected}, got {answer.status_code} "
                        f"{answer.text[:200]}"
                    )
                changed = before is not None and _last_refused(row, who)
                if changed and snapshot(world.box) != before:
                    wrong.append(f"{row.method} {row.path}: a refusal changed the database")
        if row.realm == PUBLIC and len(public_answers) != 1:  # who calls makes no difference
            wrong.append(f"{row.method} {row.path}: answers depend on the caller {public_answers}")
    print(f"\nrole × route matrix: {len(ROWS)} rows, {cells} cells checked")
    assert wrong == [], "\n".join(wrong)


def _last_refused(row: Row, who: str) -> bool:
    order = _cells(row)
    refused = [w for w in order if _expected_refusal(row, w) is not None]
    return bool(refused) and refused[-1] == who


def _signed_out(answer: Any) -> bool:
    """Sent to the console's sign-in page, or to the portal's home page."""
    location = answer.headers.get("location", "")
    return answer.status_code == 303 and (
        location.endswith("/console/login") or location.startswith("/?lang=")
    )


def test_a_refused_role_learns_nothing_about_the_body_a_route_expects(
    world: World, settings: Settings
) -> None:
    """The permission decision comes before the body is validated: a role the table leaves
    out hears 403 for a body of the wrong shape too, never a 422 describing the schema."""
    paths = create_app(settings).openapi()["paths"]
    wrong: list[str] = []
    cells = 0
    before = snapshot(world.box)
    for row in ROWS:
        operation = paths.get(row.path, {}).get(row.method.lower(), {})
        if row.realm not in (API, API_OR_PORTAL) or "application/json" not in operation.get(
            "requestBody", {}
        ).get("content", {}):
            continue
        for who in STAFF:
            if who in row.allowed:
                continue
            cells += 1
            answer = _call(world, replace(row, json={"matrix": ["not", "a", "field"]}), who)
            if answer.status_code != row.denied:
                wrong.append(f"{row.method} {row.path} as {who}: {answer.status_code}")
    print(f"\nbodies of the wrong shape from refused roles: {cells} cells checked")
    assert cells > 0
    assert snapshot(world.box) == before
    assert wrong == [], "\n".join(wrong)
