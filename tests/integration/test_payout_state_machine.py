"""A hypothesis state machine over the whole payout path on SQLite, with the local Alipay
server and the store-credit ledger: pay, request, approve, execute, gateway outcomes (and
faults), duplicate and reordered callbacks, cancel, retry (same route or another), finance's
manual marks. After every step it checks:

- per payment: succeeded + in-flight refunds ≤ captured (ours), refunded ≤ captured (the
  gateway's own books), and every key refunded at most once;
- no illegal transition: every timeline step is in the lifecycle table, every record change
  in the record table;
- terminal states stay terminal (requests and records);
- a request is ``refunded`` only when all its live records succeeded;
- ledger balances ≥ 0 and equal to the sum of their entries.

At least 10,000 steps per run (100,000 with ``REFUNDFLOW_LONG=1``, ``make test-long``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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

from refundflow.domain.errors import RefundflowError
from refundflow.domain.lifecycle import TERMINAL, TRANSITIONS, Action, Status
from refundflow.domain.payouts import RECORD_TRANSITIONS, PayoutRoute, RecordStatus
from refundflow.entrypoints.bootstrap import Container
from refundflow.entrypoints.worker import Worker
from refundflow.services.clock import ManualClock
from refundflow.services.payouts.callbacks import receive_callback
from tests.conftest import REVIEW_EVERYTHING, publish
from tests.integration.payouts import CS, FINANCE, Fakes, act, paid_order, payout_box, rows

STEPS = 100_000 if os.environ.get("REFUNDFLOW_LONG") == "1" else 10_000
FAULTS = [None, None, None, "reset", "5xx", "429", "malformed", "bad_signature", "fail"]


class World:
    """What lives across examples: the template database and the running fake."""

    template: Path
    tmp: Path
    fakes: Fakes
    steps = 0
    examples = 0


class PayoutMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        World.examples += 1
        path = World.tmp / f"sm{World.examples}.db"
        shutil.copy(World.template, path)
        self.clock = ManualClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
        self.box: Container = payout_box(
            f"sqlite:///{path}", World.fakes, self.clock, payout_max_unknown_attempts=2
        )
        publish(self.box, REVIEW_EVERYTHING)
        self.worker = Worker(self.box, worker_id="sm")
        self.gateway = self.box.gateways.callbacks[PayoutRoute.ALIPAY]
        self.final_requests: dict[int, str] = {}
        self.final_records: set[int] = set()
        self.count = 0

    def teardown(self) -> None:
        self.box.close()

    # ------------------------------------------------------------------ rules
    @rule(target=orders, alipay=st.integers(1, 300), credit=st.integers(0, 100))
    def pay(self, alipay: int, credit: int) -> str:
        World.steps += 1
        self.count += 1
        order_no = f"SM{World.examples}-{self.count}"
        payments = [("alipay", f"{alipay}.00")] + (
            [("store_credit", f"{credit}.00")] if credit else []
        )
        total = alipay + credit
        paid_order(self.box, World.fakes, order_no, payments, price=f"{total}.00", quantity=1)
        return order_no

    @rule(target=requests, order=orders)
    def request(self, order: str) -> int:
        World.steps += 1
        from refundflow.services import intake

        try:
            view = intake.submit_refund_request(
                self.box.uows,
                intake.SubmitRefundRequest(order, "refund_only", "quality_issue", [("SKU-1", 1)]),
                CS,
            ).view
        except RefundflowError:
            return 0
        return int(view["id"])

    def _act(self, rid: int, action: Action, **data: Any) -> None:
        World.steps += 1
        if not rid:
            return
        with contextlib.suppress(RefundflowError):
            act(
                self.box,
                rid,
                action,
                CS if action in (Action.APPROVE, Action.CANCEL) else FINANCE,
                **data,
            )

    @rule(rid=requests, partial=st.booleans())
    def approve(self, rid: int, partial: bool) -> None:
        self._act(rid, Action.APPROVE, requires_return=False, amount="1.00" if partial else None)

    @rule(rid=requests)
    def execute(self, rid: int) -> None:
        self._act(rid, Action.EXECUTE)

    @rule(rid=requests)
    def cancel(self, rid: int) -> None:
        self._act(rid, Action.CANCEL, reason="不要了")

    @rule(rid=requests, switch=st.booleans())
    def retry(self, rid: int, switch: bool) -> None:
        self._act(rid, Action.RETRY, route="store_credit" if switch else None)

    @rule(rid=requests, paid=st.booleans())
    def finance_marks(self, rid: int, paid: bool) -> None:
        if paid:
            self._act(rid, Action.MARK_REFUNDED, reference="FIN-1")
        else:
            self._act(rid, Action.MARK_FAILED, reason="对账未见")

    @rule(
        fault=st.sampled_from(FAULTS),
        op=st.sampled_from(["refund", "query"]),
        minutes=st.integers(0, 240),
    )
    def deliver(self, fault: str | None, op: str, minutes: int) -> None:
        World.steps += 1
        World.fakes.alipay.faults["refund"].clear()
        World.fakes.alipay.faults["query"].clear()
        if fault is not None:
            World.fakes.alipay.inject(fault, op=op)
        self.clock.advance(timedelta(minutes=minutes))
        self.worker.run_once()

    @rule(data=st.data(), duplicate=st.booleans(), stale=st.booleans())
    def callback(self, data: st.DataObject, duplicate: bool, stale: bool) -> None:
        World.steps += 1
        fake = World.fakes.alipay
        ours = [
            r[0]
            for r in rows(self.box, "SELECT idempotency_key FROM refunds WHERE route = 'alipay'")
        ]
        known = [key for key in ours if key in fake.refunds]
        if not known:
            return
        key = data.draw(st.sampled_from(known))
        notify_id = f"N-{World.examples}-{key}" if duplicate else None
        body = fake.notification(key, notify_id=notify_id, cumulative=0 if stale else None)
        event = self.gateway.parse_callback({}, body)
        receive_callback(self.box.uows, PayoutRoute.ALIPAY, event)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def money_never_exceeds_what_was_captured(self) -> None:
        for payment_id, captured, held, reference in rows(
            self.box,
            "SELECT p.id, p.amount_minor, COALESCE((SELECT SUM(r.amount_minor) FROM refunds r "
            "WHERE r.payment_id = p.id AND r.replaced_by IS NULL AND r.status IN ('pending', "
            "'succeeded', 'needs_reconciliation')), 0), p.reference FROM payments p",
        ):
            assert held <= captured, (payment_id, held, captured)
            if reference and reference.startswith("AL-"):
                assert World.fakes.alipay.refunded_minor(reference) <= captured
        assert all(n == 1 for n in World.fakes.alipay.refunds_made.values())

    @invariant()
    def every_move_is_in_its_table(self) -> None:
        for action, before, after in rows(
            self.box,
            "SELECT action, from_status, to_status FROM refund_request_events "
            "WHERE from_status IS NOT NULL",
        ):
            if action in {a.value for a in Action}:
                assert Status(after) in TRANSITIONS[Status(before)][Action(action)], (
                    action,
                    before,
                    after,
                )
        for (detail,) in rows(self.box, "SELECT detail FROM refund_attempts WHERE kind = 'status'"):
            before, _, after = detail.split(":")[0].partition(" → ")
            assert RecordStatus(after) in RECORD_TRANSITIONS[RecordStatus(before)], detail

    @invariant()
    def terminal_states_stay_terminal_and_refunded_means_paid(self) -> None:
        for rid, status in rows(self.box, "SELECT id, status FROM refund_requests"):
            if rid in self.final_requests:
                assert status == self.final_requests[rid], (rid, status)
            if Status(status) in TERMINAL:
                self.final_requests[rid] = status
            if status == "refunded":
                live = rows(
                    self.box,
                    f"SELECT status FROM refunds WHERE request_id = {rid} AND replaced_by IS NULL",
                )
                assert all(s == "succeeded" for (s,) in live), (rid, live)
        for record_id, status in rows(self.box, "SELECT id, status FROM refunds"):
            if record_id in self.final_records:
                assert status == "succeeded"
            if status == "succeeded":
                self.final_records.add(record_id)

    @invariant()
    def ledger_balances_are_never_negative(self) -> None:
        for balance, entries in rows(
            self.box,
            "SELECT b.balance_minor, COALESCE((SELECT SUM(e.amount_minor) FROM ledger_entries e "
            "WHERE e.customer_id = b.customer_id AND e.account = b.account AND "
            "e.currency = b.currency), 0) FROM ledger_balances b",
        ):
            assert balance >= 0
            assert balance == entries


@pytest.fixture
def world(sqlite_template: Path, tmp_path: Path) -> Iterator[None]:
    from tests.integration.payouts import running_fakes

    with running_fakes() as fakes:
        World.template, World.tmp, World.fakes = sqlite_template, tmp_path, fakes
        World.steps = World.examples = 0
        yield


@pytest.mark.slow
def test_the_payout_invariants_hold_over_ten_thousand_random_steps(world: None) -> None:
    machine_settings = settings(
        max_examples=20,
        stateful_step_count=120,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    rounds = 0
    while World.steps < STEPS:
        run_state_machine_as_test(PayoutMachine, settings=machine_settings)
        rounds += 1
        assert rounds < 200, "the machine stopped making steps"
    print(f"\nstate machine: {World.steps} steps in {World.examples} examples")
    assert World.steps >= STEPS
