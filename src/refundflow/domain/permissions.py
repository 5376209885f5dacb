"""Who may do what: the one permission table (DESIGN.md, "Who may do what").

Admin may do everything; a manager may do what customer service may. ``customer`` is a
portal session and ``system`` the worker and the policy; neither holds an API token.
"""

from __future__ import annotations

from enum import StrEnum

from refundflow.domain.lifecycle import Action


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CS = "cs"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    INTEGRATION = "integration"
    CUSTOMER = "customer"
    SYSTEM = "system"


STAFF_ROLES: frozenset[Role] = frozenset(
    {Role.ADMIN, Role.MANAGER, Role.CS, Role.WAREHOUSE, Role.FINANCE, Role.INTEGRATION}
)


class Operation(StrEnum):
    """Things a caller does that are not lifecycle actions."""

    CREATE_REQUEST = "create_request"
    READ_REQUEST = "read_request"
    UPSERT_ORDER = "upsert_order"
    READ_ORDER = "read_order"
    MANAGE_TOKENS = "manage_tokens"
    READ_SETTINGS = "read_settings"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_WEBHOOKS = "manage_webhooks"
    EXPORT_REQUESTS = "export_requests"
    CUSTOMER_PREFERENCES = "customer_preferences"  # read and change where messages go
    CUSTOMER_CARE = "customer_care"  # contact log, complaints, compensation, full phone numbers
    OPEN_COMPLAINT = "open_complaint"
    READ_COMPENSATION = "read_compensation"
    TAG_ROOT_CAUSE = "tag_root_cause"
    ASSIGN_WORK = "assign_work"  # hand a step to someone, or take it back from its owner
    VIEW_DASHBOARD = "view_dashboard"
    # Field-level: see a masked field in full (asked for with ?unmask=true; audited).
    UNMASK_PHONE = "unmask_phone"
    UNMASK_BANK = "unmask_bank"


_CS = frozenset({Role.CS, Role.MANAGER})

ACTION_ROLES: dict[Action | Operation, frozenset[Role]] = {
    Action.APPROVE: _CS,
    Action.REJECT: _CS,
    Action.RETURN_SHIPMENT: _CS | {Role.CUSTOMER},
    Action.RECEIVE: frozenset({Role.WAREHOUSE}),
    Action.CARRIER_DELIVERED: frozenset({Role.WAREHOUSE, Role.INTEGRATION, Role.SYSTEM}),
    Action.FINANCE_APPROVE: frozenset({Role.FINANCE}),
    Action.INSPECT: frozenset({Role.WAREHOUSE}),
    Action.SHIP_REPLACEMENT: frozenset({Role.WAREHOUSE}),
    Action.EXECUTE: frozenset({Role.FINANCE, Role.SYSTEM}),
    Action.RETRY: frozenset({Role.FINANCE, Role.SYSTEM}),
    Action.MARK_REFUNDED: frozenset({Role.FINANCE, Role.SYSTEM}),
    Action.MARK_FAILED: frozenset({Role.FINANCE, Role.SYSTEM}),
    Action.CANCEL: _CS | {Role.CUSTOMER, Role.SYSTEM},
    Action.APPEAL: _CS | {Role.CUSTOMER},
    Operation.CREATE_REQUEST: _CS | {Role.CUSTOMER, Role.INTEGRATION},
    Operation.READ_REQUEST: STAFF_ROLES | {Role.CUSTOMER},
    Operation.UPSERT_ORDER: frozenset({Role.INTEGRATION}),
    Operation.READ_ORDER: STAFF_ROLES | {Role.CUSTOMER},
    Operation.MANAGE_TOKENS: frozenset(),
    Operation.READ_SETTINGS: STAFF_ROLES,
    Operation.MANAGE_SETTINGS: frozenset({Role.MANAGER}),
    Operation.MANAGE_WEBHOOKS: frozenset({Role.MANAGER}),
    Operation.EXPORT_REQUESTS: frozenset({Role.MANAGER, Role.FINANCE}),
    Operation.VIEW_DASHBOARD: frozenset({Role.MANAGER}),
    # A customer only their own (checked by the use case).
    Operation.CUSTOMER_PREFERENCES: _CS | {Role.INTEGRATION, Role.CUSTOMER},
    Operation.CUSTOMER_CARE: _CS,
    # The shop's systems and the customer may complain too (customers through the portal).
    Operation.OPEN_COMPLAINT: _CS | {Role.INTEGRATION, Role.CUSTOMER},
    Operation.READ_COMPENSATION: _CS | {Role.FINANCE},  # finance books its cost
    Operation.TAG_ROOT_CAUSE: _CS | {Role.WAREHOUSE, Role.FINANCE},
    Operation.ASSIGN_WORK: frozenset({Role.MANAGER}),
    Operation.UNMASK_PHONE: _CS,  # to call the customer back
    Operation.UNMASK_BANK: frozenset({Role.FINANCE}),  # to pay the transfer
}


def may(role: Role, what: Action | Operation) -> bool:
    return role is Role.ADMIN or role in ACTION_ROLES[what]


def roles_for(what: Action | Operation) -> list[Role]:
    return sorted({Role.ADMIN, *ACTION_ROLES[what]})
