"""The two routes that never leave refundflow: the customer's store-credit / e-wallet ledger,
and bank transfers that finance pays from a payout batch."""

from __future__ import annotations

from refundflow.domain.ledger import LedgerAccount
from refundflow.domain.payouts import PayoutRoute
from refundflow.services.ledger import credit_refund
from refundflow.services.payouts.ports import GatewayResult, Outcome, RefundInstruction
from refundflow.services.unit_of_work import UnitOfWorkFactory


class LedgerGateway:
    """Credits the customer's balance in its own transaction. The credit is keyed by the
    record (unique ``ledger_entries.refund_id``), so a redelivery after a crash finds it
    instead of crediting twice."""

    def __init__(self, uows: UnitOfWorkFactory, route: PayoutRoute) -> None:
        self.uows = uows
        self.route = route
        self.account = LedgerAccount(route.value)

    def refund(self, instruction: RefundInstruction) -> GatewayResult:
        with self.uows() as uow:
            entry_id = credit_refund(
                uow,
                customer_id=instruction.payment.customer_id,
                account=self.account,
                amount=instruction.amount,
                refund_id=instruction.record_id,
                reference=instruction.key,
            )
            if entry_id is None:
                entry_id = uow.ledger.entry_for_refund(instruction.record_id)
            uow.commit()
        return GatewayResult(
            Outcome.SUCCEEDED,
            reference=f"ledger:{entry_id}",
            amount=instruction.amount,
            detail="credited",
        )

    def query(self, instruction: RefundInstruction) -> GatewayResult:
        with self.uows(write=False) as uow:
            entry_id = uow.ledger.entry_for_refund(instruction.record_id)
        if entry_id is None:
            return GatewayResult(Outcome.NOT_FOUND, detail="not credited")
        return GatewayResult(
            Outcome.SUCCEEDED,
            reference=f"ledger:{entry_id}",
            amount=instruction.amount,
            detail="credited",
        )


class BankTransferGateway:
    """Nothing is sent: the record waits for finance's payout batch and bank result."""

    route = PayoutRoute.BANK_TRANSFER

    def refund(self, instruction: RefundInstruction) -> GatewayResult:
        detail = "waiting for the payout batch"
        if not instruction.payout_account:
            detail += " (no bank account yet: retry with account_name and account_no)"
        return GatewayResult(Outcome.PROCESSING, detail=detail)

    def query(self, instruction: RefundInstruction) -> GatewayResult:
        return self.refund(instruction)
