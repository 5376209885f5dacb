"""A customer signed in to the portal reaches only their own things: every customer-facing
route (found from the app's routes, so a new one is walked or the test fails), called with
customer A's session and customer B's order number, request id and number, photo id or a
survey link re-pointed at B's request, answers as if B's object did not exist — nothing of
B's in the body, nothing changed."""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from PIL import Image

from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.settings import Settings
from refundflow.entrypoints.web.pages import portal as portal_pages
from refundflow.entrypoints.web.portal_auth import CSRF_COOKIE, SESSION_COOKIE
from refundflow.entrypoints.web.routes import portal_api
from refundflow.services.clock import ManualClock
from refundflow.services.notifications.links import sign_token
from tests.conftest import snapshot
from tests.integration.api import Api, order_body, request_body

CUSTOMER_MODULES = (portal_api.__name__, portal_pages.__name__)
CSRF = "c" * 32
# Routes that name no object of anyone's, so there is nothing to substitute: signing out,
# the portal's service worker script (a static file, on main since issue 6).
# Routes that name no object of anyone else: signing out, the service worker script, and
# subscribing this browser to push (the subscription is stored for the caller only).
NO_OBJECT = {("POST", "/logout"), ("GET", "/portal-sw.js"), ("POST", "/push")}
B_PUSH = "https://push.example/b-browser"
B_ORDER = "TM-2002"
B_CUSTOMER = {"name": "王强", "phone": "13700002222", "email": "wq@example.cn"}
B_SECRET_TEXT = "乙的私密描述"
B_TRACKING = "SF7700222299"


@pytest.fixture(autouse=True)
def _everything_to_review(manual_review: int) -> None:
    """Requests wait for review, so that every customer action would be allowed."""


@pytest.fixture
def settings(db_url: str) -> Settings:
    """SMS configured, so portal codes are queued as messages the test can read."""
    return Settings(
        database_url=db_url,
        environment="test",
        token_cache_seconds=0,
        sms_provider="webhook",
        sms_url="http://127.0.0.1:9/sms",
        sms_webhook_secret="s" * 32,
        rate_limits=False,
    )


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _session(api: Api, box: Container, order_no: str, contact: str) -> str:
    lookup = {"order_no": order_no, "contact": contact}
    assert api.client.post("/api/v1/portal/lookup", json=lookup).status_code == 202
    with box.engine.connect() as conn:
        content = conn.exec_driver_sql(
            "SELECT content FROM notifications WHERE notice = 'login_code' ORDER BY id DESC"
        ).first()[0]  # type: ignore[index]
    code = re.search(r"\b(\d{6})\b", content).group(1)  # type: ignore[union-attr]
    verified = api.client.post("/api/v1/portal/verify", json={**lookup, "code": code})
    assert verified.status_code == 200, verified.text
    return str(verified.json()["token"])


@dataclass
class World:
    a_token: str
    a_request: dict[str, Any]
    b_request: dict[str, Any]
    b_photo: int
    forged_survey: str
    markers: list[str] = field(default_factory=list)  # B's data A must never see


@pytest.fixture
def world(api: Api, box: Container, clock: ManualClock, tmp_path: Any) -> World:
    box.photos.root = tmp_path
    integration = api.as_("integration")
    assert integration.post("/api/v1/orders", json=order_body()).status_code == 201
    b_order = order_body(B_ORDER, customer=B_CUSTOMER)
    assert integration.post("/api/v1/orders", json=b_order).status_code == 201

    b = {"Authorization": f"Bearer {_session(api, box, B_ORDER, B_CUSTOMER['phone'])}"}
    b_request = api.client.post(
        "/api/v1/portal/refund-requests",
        headers=b,
        json=request_body(B_ORDER, description=B_SECRET_TEXT),
    ).json()
    photo = api.client.post(
        f"/api/v1/portal/refund-requests/{b_request['id']}/photos",
        headers=b,
        files=[("photos", ("b.png", _png(), "image/png"))],
    )
    assert photo.status_code == 201, photo.text
    b_id = integration.get(f"/api/v1/orders/{B_ORDER}").json()["customer"]["id"]
    b_push = {"kind": "webpush", "endpoint": B_PUSH, "keys": {"p256dh": "BPk", "auth": "au"}}
    pushed = api.client.post(f"/api/v1/customers/{b_id}/push-subscriptions", headers=b, json=b_push)
    assert pushed.status_code == 201, pushed.text

    a_token = _session(api, box, "TM-1001", "13912345678")
    a = {"Authorization": f"Bearer {a_token}"}
    a_request = api.client.post(
        "/api/v1/portal/refund-requests", headers=a, json=request_body()
    ).json()
    # A's own survey link, re-pointed at B's request: the signature no longer matches.
    mine = sign_token(box.settings.secret_key, a_request["id"], clock.now() + timedelta(days=30))
    forged = f"{b_request['id']}.{mine.split('.', 1)[1]}"
    return World(
        a_token=a_token,
        a_request=a_request,
        b_request=b_request,
        b_photo=int(photo.json()["photos"][0]),
        forged_survey=forged,
        markers=[
            B_CUSTOMER["name"],
            B_CUSTOMER["phone"],
            B_CUSTOMER["phone"][-4:],
            B_CUSTOMER["email"],
            B_SECRET_TEXT,
            B_TRACKING,
        ],
    )


@dataclass(frozen=True)
class Cell:
    method: str
    path: str
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    files: bool = False
    stream: bool = False
    expected: tuple[int, ...] = (404,)
    echoed: tuple[str, ...] = ()  # B's identifiers the caller typed in (an echo is no leak)
    own: str | None = None  # the same read with A's own object: must answer 200


def _all_routes(routes: list[Any]) -> list[Any]:
    """The app's routes, routers included (FastAPI keeps an included router as one entry
    holding the ``original_router``; refundflow includes them without a prefix)."""
    flat = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        flat.extend(_all_routes(inner.routes) if inner is not None else [route])
    return flat


def customer_routes(app: Any) -> list[tuple[str, str, APIRoute]]:
    found = []
    for route in _all_routes(app.routes):
        if isinstance(route, APIRoute) and route.endpoint.__module__ in CUSTOMER_MODULES:
            found.extend((method, route.path, route) for method in sorted(route.methods))
    return found


def _actions(route: APIRoute) -> list[str]:
    if route.endpoint.__module__ == portal_api.__name__:
        return sorted(portal_api.CUSTOMER_ACTIONS)
    return sorted(portal_pages.CUSTOMER_ACTIONS)


def cells_for(method: str, path: str, route: APIRoute, w: World) -> list[Cell]:
    """Every way this route can be pointed at one of B's objects."""
    b_id, b_no = str(w.b_request["id"]), str(w.b_request["number"])
    page = route.endpoint.__module__ == portal_pages.__name__
    form = {"csrf_token": CSRF, "reason": "想看看", "carrier": "SF", "tracking_no": B_TRACKING}
    params = set(re.findall(r"{(\w+)}", path))
    # (path, what of B's the caller typed, the same path with A's object or None)
    refs: list[tuple[str, tuple[str, ...], str | None]] = []
    if params & {"request_id", "number"}:
        key = "{request_id}" if "request_id" in params else "{number}"
        mine = (str(w.a_request["id"]), str(w.a_request["number"]))
        for ref, own in zip((b_id, b_no), mine, strict=True):
            base = path.replace(key, ref)
            if "action" in params:
                refs += [(base.replace("{action}", a), (ref,), None) for a in _actions(route)]
            else:
                refs.append((base, (ref,), path.replace(key, own)))
    elif "order_no" in params:
        refs.append((path.replace("{order_no}", B_ORDER), (B_ORDER,), None))
    elif "photo_id" in params:
        refs.append((path.replace("{photo_id}", str(w.b_photo)), (), None))
    elif "token" in params:
        refs.append((path.replace("{token}", w.forged_survey), (), None))
    elif params:
        raise AssertionError(f"{method} {path}: unknown parameter(s) {params}; walk them")

    cells: list[Cell] = []
    for url, typed, own in refs:
        if method == "GET":
            stream = url.endswith(("/events", "/stream"))
            if path.endswith("{order_no}"):
                own = path.replace("{order_no}", "TM-1001")
            cells.append(Cell("GET", url, stream=stream, echoed=typed, own=None if stream else own))
        elif url.endswith("/photos"):
            cells.append(Cell("POST", url, files=True, echoed=typed))
        elif path.startswith("/survey/"):
            # An altered link is refused like an expired one: 403 with "the link expired".
            survey = {"csrf_token": CSRF, "csat": "1", "resolved": "no", "comment": "x"}
            cells.append(Cell("POST", url, form=survey, expected=(403, 404)))
        elif page and url.endswith(("/preview", "/requests")):
            fields = {"csrf_token": CSRF, "type": "refund_only", "reason": "quality_issue"}
            fields["qty_AP-TS-001"] = "1"
            # The preview fragment shows the refusal in place (200), the form a 404 page.
            expected = (200,) if url.endswith("/preview") else (404,)
            cells.append(Cell("POST", url, form=fields, expected=expected, echoed=typed))
        elif page:
            cells.append(Cell("POST", url, form=form, echoed=typed))
        else:
            body = {k: v for k, v in form.items() if k != "csrf_token"}
            cells.append(Cell("POST", url, json=body, echoed=typed))
    if refs:
        return cells

    # Routes whose object is named in the body, or that list the caller's own things.
    if (method, path) in {("GET", "/api/v1/portal/refund-requests"), ("GET", "/")}:
        return [Cell("GET", path, expected=(200,))]
    if path == "/api/v1/portal/refund-requests" or path.endswith("/preview"):
        return [Cell("POST", path, json=request_body(B_ORDER), echoed=(B_ORDER,))]
    if path == "/api/v1/portal/lookup":
        body = {"order_no": B_ORDER, "contact": "13912345678"}  # B's order, A's phone
        return [Cell("POST", path, json=body, expected=(202,), echoed=(B_ORDER,))]
    if path == "/api/v1/portal/verify":
        body = {"order_no": B_ORDER, "contact": "13912345678", "code": "123456"}
        return [Cell("POST", path, json=body, expected=(401,), echoed=(B_ORDER,))]
    if path == "/lookup":
        fields = {"csrf_token": CSRF, "order_no": B_ORDER, "contact": "13912345678"}
        return [Cell("POST", path, form=fields, expected=(200,), echoed=(B_ORDER,))]
    if path == "/push/off":  # stop B's browser's notifications by its endpoint
        body = {"csrf": CSRF, "endpoint": B_PUSH}
        return [Cell("POST", path, json=body, expected=(404,), echoed=(B_PUSH,))]
    if path == "/verify":
        fields = {"csrf_token": CSRF, "order_no": B_ORDER, "contact": "13912345678"}
        return [Cell("POST", path, form={**fields, "code": "123456"}, expected=(401,))]
    raise AssertionError(f"{method} {path} is customer-facing and not walked: add it here")


def _call(api: Api, cell: Cell, a: dict[str, str]) -> tuple[int, str]:
    client = api.client
    if cell.stream:
        # A stream that opened would never end: wait a little, then call it a leak.
        answer: list[tuple[int, str]] = []

        def run() -> None:
            response = client.get(cell.path, headers=a)
            answer.append((response.status_code, response.text))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        thread.join(timeout=15)
        return answer[0] if answer else (200, "<stream opened>")
    if cell.method == "GET":
        response = client.get(cell.path, headers=a, follow_redirects=False)
    elif cell.files:
        files = [("photos", ("a.png", _png(), "image/png"))]
        response = client.post(cell.path, headers=a, files=files, follow_redirects=False)
    elif cell.form is not None:
        response = client.post(cell.path, headers=a, data=cell.form, follow_redirects=False)
    else:
        response = client.post(cell.path, headers=a, json=cell.json, follow_redirects=False)
    return response.status_code, response.text


def test_customer_a_reaches_none_of_customer_bs_things_on_any_portal_route(
    api: Api, box: Container, world: World
) -> None:
    api.client.cookies.set(SESSION_COOKIE, world.a_token)
    api.client.cookies.set(CSRF_COOKIE, CSRF)
    a = {"Authorization": f"Bearer {world.a_token}"}
    b_number = str(world.b_request["number"])
    routes = customer_routes(api.client.app)
    assert len(routes) >= 20, "the portal's routes were not found"

    before = snapshot(box)
    checked, controls, leaks = 0, 0, []
    for method, path, route in routes:
        if (method, path) in NO_OBJECT:
            continue
        for cell in cells_for(method, path, route, world):
            assert route.path_regex.match(cell.path.split("?")[0]), (cell.path, path)
            status, body = _call(api, cell, a)
            checked += 1
            markers = [*world.markers, *([b_number] if b_number not in cell.echoed else [])]
            seen = [m for m in markers if m in body]
            if status not in cell.expected or seen:
                leaks.append(f"{cell.method} {cell.path}: {status} {seen} {body[:200]}")
            if cell.own is not None:  # the route is really reached: A's own answers 200
                response = api.client.get(cell.own, headers=a)
                assert response.status_code == 200, (cell.own, response.text[:200])
                controls += 1
    after = snapshot(box)

    print(
        f"IDOR walk: {len(routes)} route×method, {checked} cells (route × B's object) "
        f"checked, {len(leaks)} leaks; {controls} reads of A's own objects answered 200"
    )
    assert controls >= 5
    assert leaks == []
    changed = [t for t in before if before[t] != after[t]]
    # Asking for a code for B's order with A's phone sends nothing; it stores a decoy code
    # that opens nothing (customer_id NULL), as every unmatched lookup does.
    assert changed in ([], ["customer_codes"]), changed
    with box.engine.connect() as conn:
        real = "SELECT count(*) FROM customer_codes WHERE customer_id IS NOT NULL"
        assert conn.exec_driver_sql(real).scalar_one() == 2, "only A's and B's own codes"
    # A still sees their own request, so the walk did not simply run signed out.
    mine = api.client.get(f"/api/v1/portal/refund-requests/{world.a_request['id']}", headers=a)
    assert mine.status_code == 200 and mine.json()["number"] == world.a_request["number"]
