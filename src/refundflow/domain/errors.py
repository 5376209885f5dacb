"""Every error the business rules raise, and the HTTP answer each one maps to.

    RefundflowError
     ├── InvalidInputError          422  the input is malformed or breaks a rule of form
     │    ├── InvalidMoneyError         a float, a bad decimal, too many decimals, bad currency
     │    └── IdempotencyKeyReusedError same Idempotency-Key, different body
     ├── NotFoundError              404  no such object, or the caller may not know it exists
     ├── PermissionDeniedError      403  the caller's role may not do this
     ├── AuthenticationError        401  no credentials, or bad ones
     └── ConflictError              409  the request is fine but the state does not allow it
          ├── IllegalTransitionError    the action is not allowed in the current status
          └── BalanceExceededError      more units or money than remain refundable

Each error carries a stable machine ``code`` and a human ``message`` that says what to fix;
``details`` holds structured data for clients (for example the allowed actions).
"""

from __future__ import annotations

from typing import Any


class RefundflowError(Exception):
    code = "error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInputError(RefundflowError):
    code = "invalid_input"


class InvalidMoneyError(InvalidInputError):
    code = "invalid_money"


class IdempotencyKeyReusedError(InvalidInputError):
    code = "idempotency_key_reused"


class NotFoundError(RefundflowError):
    code = "not_found"


class PermissionDeniedError(RefundflowError):
    code = "forbidden"


class StepUpRequiredError(PermissionDeniedError):
    """A person must confirm their password (and code) again before this action."""

    code = "step_up_required"


class AuthenticationError(RefundflowError):
    code = "unauthenticated"


class ConflictError(RefundflowError):
    code = "conflict"


class IllegalTransitionError(ConflictError):
    code = "illegal_transition"


class BalanceExceededError(ConflictError):
    code = "balance_exceeded"
