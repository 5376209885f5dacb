"""A hypothesis state machine over the core lifecycle on SQLite: orders of several units,
requests for some of them (refund only, return and refund), every action by every role with
the input it needs — approve in full or in part, ship back, receive, inspect (pass, fail,
back to review), reject, appeal, cancel, execute to store credit, finance's marks. After
every step it checks:

- per order line: units held by live requests ≤ units bought; per order: money held by live
  requests ≤ money paid (an appeal brings a released request back only if it still fits);
- a refused action changed nothing (the request's stored document is as it was);
- a role the permission table denies is refused, whatever the state;
- every timeline step is in the lifecycle table; terminal states stay terminal.

At least 10,000 steps per run (100,000 with ``REFUNDFLOW_LONG=1``, ``make test-long``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from refundflow.domain.actors import Actor, ActorKind
from refundflow.domain.errors import PermissionDeniedError, RefundflowError
from refundflow.domain.lifecycle import TERMINAL, TRANSITIONS, Action, Status
from refundflow.domain.permissions import Role, may
from refundflow.entrypoints.bootstrap import Container, bootstrap
from refundflow.entrypoints.settings import Settings
from refundflow.services import intake
from refundflow.services.actions import ActionInput, perform
from refundflow.services.clock import ManualClock
from tests.conftest import REVIEW_EVERYTHING, publish
from tests.integration.payouts import paid_order, rows

STEPS = 100_000 if os.environ.get("REFUNDFLOW_LONG") == "1" else 10_000
ROLES = [Role.CS, Role.WAREHOUSE, Role.FINANCE, Role.MANAGER, Role.INTEGRATION]
INPUTS: dict[Action, list[dict[str, Any]]] = {
    Action.APPROVE: [{}, {"requires_return": False}, {"amount": "1.00"}],
    Action.REJECT: [{"reason": "超出七天无理由期限"}],
    Action.CANCEL: [{"reason": "不要了"}],
    Action.RETURN_SHIPMENT: [{"carrier": "SF", "tracking_no": "SF1234567"}],
    Action.CARRIER_DELIVERED: [{}],
    Action.RECEIVE: [{}],
    Action.INSPECT: [{"result": "pass"}, {"result": "fail", "reason": "人为损坏"}],
    Action.FINANCE_APPROVE: [{}],
    Action.EXECUTE: [{}],
    Action.RETRY: [{}],
    Action.MARK_REFUNDED: [{"reference": "FIN-1"}],
    Action.MARK_FAILED: [{"reason": "账户异常"}],
    Action.SHIP_REPLACEMENT: [{"carrier": "SF", "tracking_no": "SF7654321"}],
    Action.APPEAL: [{"reason": "请再看一下照片"}],
}


class World:
    template: Path
    tmp: Path
    steps = 0
    examples = 0
    refused = 0
    denied = 0


class LifecycleMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        World.examples += 1
        path = World.tmp / f"life{World.examples}.db"
        shutil.copy(World.template, path)
        self.clock = ManualClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
        self.box: Container = bootstrap(
            Settings(database_url=f"sqlite:///{path}", environment="test"), clock=self.clock.now
        )
        publish(self.box, REVIEW_EVERYTHING)
        self.final: dict[int, str] = {}
        self.count = 0

    def teardown(self) -> None:
        self.box.close()

    def _doc(self, rid: int) -> Any:
        """What is stored of one request: its row, its document, its timeline and lines."""
        return [
            rows(self.box, f"SELECT * FROM {table} WHERE {key} = {rid}")
            for table, key in (
                ("refund_requests", "id"),
                ("refund_request_docs", "request_id"),
                ("refund_request_events", "request_id"),
                ("refund_request_lines", "request_id"),
                ("refunds", "request_id"),
            )
        ]

    # ------------------------------------------------------------------ rules
    @rule(target=orders, units=st.integers(1, 3), price=st.integers(1, 500))
    def order(self, units: int, price: int) -> str:
        World.steps += 1
        self.count += 1
        order_no = f"L{World.examples}-{self.count}"
        paid_order(
            self.box,
            None,
            order_no,
            [("store_credit", f"{units * price}.00")],
            price=f"{price}.00",
            quantity=units,
        )
        return order_no

    @rule(
        target=requests,
        order=orders,
        units=st.integers(1, 3),
        kind=st.sampled_from(["refund_only", "return_and_refund"]),
    )
    def request(self, order: str, units: int, kind: str) -> int:
        World.steps += 1
        try:
            view = intake.submit_refund_request(
                self.box.uows,
                intake.SubmitRefundRequest(order, kind, "quality_issue", [("SKU-1", units)]),
                Actor(ActorKind.STAFF, Role.CS, "cs-1", "cs"),
            ).view
        except RefundflowError:
            World.refused += 1
            return 0
        return int(view["id"])

    def _perform(
        self, rid: int, action: Action, role: Role, fields: dict[str, Any], who: int
    ) -> None:
        actor = Actor(ActorKind.STAFF, role, f"{role.value}-{who}", "x")
        before = self._doc(rid)
        try:
            perform(
                self.box.uows,
                str(rid),
                action,
                actor,
                ActionInput(**fields),
                options=self.box.payout_options,
            )
        except PermissionDeniedError:
            assert not may(role, action), (role, action)
            World.denied += 1
            assert self._doc(rid) == before, "a refusal changed the request"
        except RefundflowError:
            assert may(role, action), (role, action, "a denied role got past the check")
            World.refused += 1
            assert self._doc(rid) == before, "a refusal changed the request"
        else:
            assert may(role, action), (role, action)

    @rule(
        rid=requests,
        action=st.sampled_from(list(Action)),
        role=st.sampled_from(ROLES),
        data=st.data(),
    )
    def act(self, rid: int, action: Action, role: Role, data: st.DataObject) -> None:
        """Anything, by anyone: the table and the lifecycle decide."""
        World.steps += 1
        if rid:
            fields = data.draw(st.sampled_from(INPUTS[action]))
            self._perform(rid, action, role, fields, data.draw(st.integers(1, 2)))

    @rule(
        rid=requests,
        pick=st.integers(0, 13),
        who=st.integers(0, 5),
        variant=st.integers(0, 2),
        second=st.integers(1, 2),
    )
    def progress(self, rid: int, pick: int, who: int, variant: int, second: int) -> None:
        """A next step the request's status allows, by a role that may take it (so that
        requests travel the whole lifecycle: rejections, appeals, returns, refunds). The
        draws do not depend on the database, so hypothesis can replay and shrink."""
        World.steps += 1
        if not rid:
            return
        (status,) = rows(self.box, f"SELECT status FROM refund_requests WHERE id = {rid}")[0]
        moves = sorted(TRANSITIONS[Status(status)])
        if not moves:
            return
        action = moves[pick % len(moves)]
        roles = [r for r in ROLES if may(r, action)] or [Role.ADMIN]
        inputs = INPUTS[action]
        self._perform(rid, action, roles[who % len(roles)], inputs[variant % len(inputs)], second)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def units_and_money_never_exceed_the_order(self) -> None:
        for line_id, bought, held in rows(
            self.box,
            "SELECT ol.id, ol.quantity, COALESCE((SELECT SUM(l.quantity) FROM "
            "refund_request_lines l JOIN refund_requests r ON r.id = l.request_id WHERE "
            "l.order_line_id = ol.id AND r.status NOT IN ('rejected', 'cancelled')), 0) "
            "FROM order_lines ol",
        ):
            assert held <= bought, (line_id, held, bought)
        for order_id, paid, held in rows(
            self.box,
            "SELECT o.id, (SELECT SUM(p.amount_minor) FROM payments p WHERE p.order_id = o.id), "
            "COALESCE((SELECT SUM(COALESCE(r.amount_refunded_minor, r.amount_approved_minor, "
            "r.amount_requested_minor)) FROM refund_requests r WHERE r.order_id = o.id AND "
            "r.status NOT IN ('rejected', 'cancelled')), 0) FROM orders o",
        ):
            assert held <= paid, (order_id, held, paid)

    @invariant()
    def every_move_is_in_the_table_and_terminal_stays_terminal(self) -> None:
        for action, before, after in rows(
            self.box,
            "SELECT action, from_status, to_status FROM refund_request_events "
            "WHERE from_status IS NOT NULL",
        ):
            if action in {a.value for a in Action}:
                moves = TRANSITIONS[Status(before)]
                assert Status(after) in moves[Action(action)], (action, before, after)
        for rid, status in rows(self.box, "SELECT id, status FROM refund_requests"):
            if rid in self.final:
                assert status == self.final[rid], (rid, status)
            if Status(status) in TERMINAL:
                self.final[rid] = status


@pytest.fixture
def world(sqlite_template: Path, tmp_path: Path) -> Iterator[None]:
    World.template, World.tmp = sqlite_template, tmp_path
    World.steps = World.examples = World.refused = World.denied = 0
    yield  # noqa: PT022 (World is shared with the machine, reset for each test)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_lifecycle_invariants_hold_over_ten_thousand_random_steps(world: None) -> None:
    machine_settings = settings(
        max_examples=25,
        stateful_step_count=100,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    rounds = 0
    while World.steps < STEPS:
        run_state_machine_as_test(LifecycleMachine, settings=machine_settings)
        rounds += 1
        assert rounds < 200, "the machine stopped making steps"
    print(
        f"\nlifecycle machine: {World.steps} steps in {World.examples} examples, "
        f"{World.denied} refused by role, {World.refused} refused by state or input"
    )
    assert World.steps >= STEPS
    assert World.denied > 0 and World.refused > 0
