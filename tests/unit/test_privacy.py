"""Masks: enough of a phone or an account to recognise it, not enough to use it."""

from __future__ import annotations

from refundflow.domain.permissions import Operation, Role, may
from refundflow.domain.privacy import mask_account_no, mask_phone, masked_order, masked_refund


def test_a_phone_shows_its_prefix_and_last_four_digits() -> None:
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("+86 138-1234-1234") == "138****1234"
    assert mask_phone("+8613812341234") == "138****1234"
    assert mask_phone("12345") == "****"
    assert mask_phone(None) == ""


def test_an_account_number_shows_its_last_four_digits_only() -> None:
    assert mask_account_no("6225 8801 1234 5678") == "****5678"
    assert mask_account_no("1234") == "****"
    assert mask_account_no("") == ""


def test_masking_a_view_leaves_the_original_untouched() -> None:
    order = {"customer": {"name": "李娜", "phone": "13912345678"}}
    assert masked_order(order)["customer"]["phone"] == "139****5678"
    assert order["customer"]["phone"] == "13912345678"
    refund = {"payout_account": {"account_name": "王芳", "account_no": "6225880112345678"}}
    assert masked_refund(refund)["payout_account"] == {
        "account_name": "王芳",
        "account_no": "****5678",
    }
    assert masked_refund({"payout_account": None}) == {"payout_account": None}


def test_phones_unmask_for_customer_service_and_accounts_for_finance() -> None:
    phone = {r for r in Role if may(r, Operation.UNMASK_PHONE)}
    bank = {r for r in Role if may(r, Operation.UNMASK_BANK)}
    assert phone == {Role.CS, Role.MANAGER, Role.ADMIN}
    assert bank == {Role.FINANCE, Role.ADMIN}
