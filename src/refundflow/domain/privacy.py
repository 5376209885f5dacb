"""Personal data as the API shows it by default: masked, enough to recognise a customer or
an account, not enough to call them or pay into it. Showing a field in full is a separate
permission (``permissions.Operation.UNMASK_*``) that the caller must also ask for."""

from __future__ import annotations

import copy
import re
from typing import Any

_NOT_DIGITS = re.compile(r"\D")


def mask_phone(phone: str | None) -> str:
    """138****1234: the network prefix and the last four digits (China's +86 left out)."""
    if not phone:
        return ""
    digits = _NOT_DIGITS.sub("", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else "****"


def mask_account_no(account_no: str | None) -> str:
    """****5678: the last four digits only, as banks print them."""
    if not account_no:
        return ""
    digits = _NOT_DIGITS.sub("", account_no)
    return f"****{digits[-4:]}" if len(digits) >= 8 else "****"


def masked_order(view: dict[str, Any]) -> dict[str, Any]:
    """An order view with the customer's phone masked."""
    shown = copy.deepcopy(view)
    customer = shown.get("customer") or {}
    if customer.get("phone"):
        customer["phone"] = mask_phone(customer["phone"])
    return shown


def masked_refund(view: dict[str, Any]) -> dict[str, Any]:
    """A refund record view with the payee's account number masked."""
    shown = copy.deepcopy(view)
    account = shown.get("payout_account") or {}
    if account.get("account_no"):
        account["account_no"] = mask_account_no(account["account_no"])
    return shown


def masked_preferences(view: dict[str, Any]) -> dict[str, Any]:
    """A customer's notification preferences with every phone masked."""
    shown = copy.deepcopy(view)
    if shown.get("contact_phone"):
        shown["contact_phone"] = mask_phone(shown["contact_phone"])
    contact = shown.get("order_contact") or {}
    if contact.get("phone"):
        contact["phone"] = mask_phone(contact["phone"])
    return shown
