"""The refund policy as a use case: decide new requests, edit drafts, publish, describe.

The published version is read in the transaction that decides, so a request decided while
a new version is being published uses exactly one of the two. Published versions never
change, so each is parsed and compiled once per process and kept.
"""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.decisions import Decision, Explanation
from refundflow.domain.errors import ConflictError, NotFoundError, PermissionDeniedError
from refundflow.domain.orders import Order
from refundflow.domain.permissions import Operation, may
from refundflow.domain.requests import LANGUAGES, RefundRequest
from refundflow.policy.compiler import CompiledPolicy, compile_policy
from refundflow.policy.document import PolicyDocument, parse_document, to_wire
from refundflow.policy.explain import Labels, explain
from refundflow.policy.history import CustomerHistory, OrderSide, RequestSide, facts_for
from refundflow.policy.page import describe, render_text
from refundflow.services import audit
from refundflow.services.unit_of_work import StoredPolicy, UnitOfWork, UnitOfWorkFactory

# Compiled policies by the digest of their document: a version's document never changes once
# published, and the digest (not the number) keeps two databases in one process apart.
_compiled: dict[str, CompiledPolicy] = {}
_compiled_lock = threading.Lock()

NO_POLICY = {
    "zh-CN": Explanation("尚未发布退款政策，转人工审核", "您的申请已提交，客服将尽快审核。"),
    "en": Explanation(
        "No policy is published: sent to review",
        "Your request has been received; customer service will review it shortly.",
    ),
}


def compiled(uow: UnitOfWork, version: int, digest: str | None = None) -> CompiledPolicy:
    """The compiled ``version`` (compiled once per process for a given document)."""
    policy = _compiled.get(digest) if digest is not None else None
    if policy is None:
        stored = uow.policies.get(version)
        if stored is None:
            raise NotFoundError(f"no policy version {version}")
        policy = compile_policy(parse_document(stored.document, version=version))
        with _compiled_lock:
            if len(_compiled) > 256:
                _compiled.clear()
            _compiled[stored.digest] = policy
    return policy


def labels(uow: UnitOfWork) -> Labels:
    reasons = {r.code: {"zh-CN": r.label_zh, "en": r.label_en} for r in uow.reasons.all()}
    categories = {
        code: {"zh-CN": zh, "en": en} for code, (zh, en) in uow.policies.category_labels().items()
    }
    return Labels(reasons=reasons, categories=categories)


def request_side(request: RefundRequest) -> RequestSide:
    return RequestSide(
        amount=request.amount_requested.amount,
        currency=request.currency,
        type=request.type.value,
        reason=request.reason,
        categories=frozenset(request.categories),
        skus=frozenset(request.skus),
        intake_channel=request.intake_channel.value,
    )


def order_side(order: Order) -> OrderSide:
    return OrderSide(
        total=order.total.amount,
        channel=order.channel,
        payment_methods=frozenset(p.method.value for p in order.payments),
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
    )


def decide(uow: UnitOfWork, request: RefundRequest, order: Order) -> Decision:
    """The published policy's decision on a new request, with both explanations."""
    published = uow.policies.published()
    if published is None:
        return Decision("review", None, None, None, None, NO_POLICY)
    policy = compiled(uow, *published)
    assert order.customer.id is not None
    facts = facts_for(
        request_side(request),
        order_side(order),
        order.customer.tier.value,
        _history(uow, order.customer.id, request.id),
        request.created_at,
        policy.document.trust_quota,
    )
    return decision_for(policy.document, policy.match(facts), facts, labels(uow))


def _history(uow: UnitOfWork, customer_id: int, request_id: int) -> CustomerHistory:
    history = uow.requests.customer_history(customer_id, exclude_id=request_id)
    history.complaint_open = uow.care.open_complaint_for_customer(customer_id)
    return history


def decision_for(
    document: PolicyDocument, index: int | None, facts: dict[str, object], names: Labels
) -> Decision:
    explanations = {}
    for lang in LANGUAGES:
        text = explain(document, index, facts, lang=lang, labels=names)
        explanations[lang] = Explanation(text.staff, text.customer)
    if index is None:
        return Decision("review", document.version, None, None, None, explanations)
    rule = document.rules[index]
    offer: dict[str, Any] = {}
    if rule.options.offer is not None:
        o = rule.options.offer
        offer = {
            "exchange": o.exchange,
            "store_credit_bonus_pct": _pct(o.store_credit_bonus_pct),
            "keep_item_refund_pct": _pct(o.keep_item_refund_pct),
        }
    return Decision(
        outcome=rule.outcome.value,
        policy_version=document.version,
        rule=rule.id,
        rule_name=rule.name,
        rule_number=index + 1,
        explanations=explanations,
        requires_return=rule.options.requires_return,
        auto_execute=rule.options.auto_execute,
        fast_track=rule.options.fast_track,
        priority=rule.options.priority.value,
        queue=rule.options.queue,
        offer=offer,
    )


def _pct(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


# ---------------------------------------------------------------------------- editing
def _view(stored: StoredPolicy) -> dict[str, Any]:
    document = parse_document(stored.document, version=stored.version)
    return {
        **to_wire(document),
        "status": stored.status,
        "updated_at": stored.updated_at.isoformat() if stored.updated_at else None,
        "published_at": stored.published_at.isoformat() if stored.published_at else None,
    }


def _require(actor: Actor, operation: Operation) -> None:
    if not may(actor.role, operation):
        raise PermissionDeniedError(
            f"the {actor.role.value} role cannot "
            + ("change the policy" if operation is Operation.MANAGE_SETTINGS else "read the policy")
        )


def _by(actor: Actor) -> str:
    return f"{actor.kind.value}:{actor.id}" if actor.id else actor.kind.value


def get_draft(uows: UnitOfWorkFactory, actor: Actor) -> dict[str, Any]:
    """The draft being edited; without one, a new draft that starts as the published policy
    (not stored until it is saved)."""
    _require(actor, Operation.READ_SETTINGS)
    with uows(write=False) as uow:
        draft = uow.policies.latest("draft")
        if draft is not None:
            return _view(draft)
        published = uow.policies.latest("published")
        version = uow.policies.next_version()
    base = published.document if published else {"rules": []}
    return {
        **to_wire(parse_document(base, version=version)),
        "status": "draft",
        "updated_at": None,
        "published_at": None,
    }


def put_draft(uows: UnitOfWorkFactory, actor: Actor, raw: dict[str, Any]) -> dict[str, Any]:
    """Save the draft. The body's ``version`` must be the draft's (or, for a new draft, the
    next number), so two editors cannot silently overwrite each other."""
    _require(actor, Operation.MANAGE_SETTINGS)
    with uows() as uow:
        uow.policies.lock()
        draft = uow.policies.latest("draft")
        expected = draft.version if draft is not None else uow.policies.next_version()
        given = raw.get("version")
        if given is not None and given != expected:
            raise ConflictError(
                f"the draft is version {expected}, not {given}: reload it and apply your "
                "changes again",
                details={"version": expected},
            )
        document = parse_document({**raw, "version": expected}, version=expected)
        wire = to_wire(document)
        now = uow.now()
        if draft is None:
            uow.policies.add_draft(expected, wire, _by(actor), now)
        else:
            uow.policies.update_draft(expected, wire, _by(actor), now)
        audit.record(
            uow, actor, "policy.draft_saved", f"policy:{expected}", {"rules": len(wire["rules"])}
        )
        stored = uow.policies.get(expected)
        assert stored is not None
        uow.commit()
    return _view(stored)


def publish_draft(uows: UnitOfWorkFactory, actor: Actor) -> dict[str, Any]:
    """Publish the draft atomically: from the commit on, new requests use it."""
    _require(actor, Operation.MANAGE_SETTINGS)
    with uows() as uow:
        uow.policies.lock()
        draft = uow.policies.latest("draft")
        if draft is None:
            raise ConflictError("there is no draft to publish: save one with PUT first")
        compile_policy(parse_document(draft.document, version=draft.version))
        uow.policies.publish(draft.version, _by(actor), uow.now())
        audit.record(uow, actor, "policy.published", f"policy:{draft.version}")
        stored = uow.policies.get(draft.version)
        assert stored is not None
        uow.commit()
    return _view(stored)


def get_version(uows: UnitOfWorkFactory, actor: Actor, version: int) -> dict[str, Any]:
    _require(actor, Operation.READ_SETTINGS)
    with uows(write=False) as uow:
        stored = uow.policies.get(version)
    if stored is None:
        raise NotFoundError(f"no policy version {version}", details={"version": version})
    return _view(stored)


def list_versions(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, Any]]:
    _require(actor, Operation.READ_SETTINGS)
    with uows(write=False) as uow:
        stored = uow.policies.all()
    return [
        {
            "version": p.version,
            "status": p.status,
            "rules": len(p.document.get("rules", [])),
            "updated_at": p.updated_at.isoformat() if p.updated_at else None,
            "published_at": p.published_at.isoformat() if p.published_at else None,
            "published_by": p.published_by,
        }
        for p in stored
    ]


def published_text(uows: UnitOfWorkFactory, lang: str) -> dict[str, Any]:
    """The published policy in plain sentences for customers (no login needed)."""
    with uows(write=False) as uow:
        published = uow.policies.published()
        if published is None:
            raise NotFoundError("no refund policy is published yet")
        version = published[0]
        document = compiled(uow, *published).document
        names = labels(uow)
        stored = uow.policies.get(version)
    clauses = describe(document, lang=lang, labels=names)
    return {
        "version": version,
        "language": lang,
        "published_at": stored.published_at.isoformat() if stored and stored.published_at else None,
        "clauses": [clause.text for clause in clauses],
        "text": render_text(clauses),
    }


def draft_text(uows: UnitOfWorkFactory, actor: Actor, lang: str) -> list[str]:
    """What customers would read once the draft is published (the page is written from the
    rules, so the editor shows it next to them)."""
    draft = get_draft(uows, actor)
    raw = {"rules": draft["rules"], "trust_quota": draft["trust_quota"]}
    document = parse_document(raw, version=draft["version"])
    with uows(write=False) as uow:
        names = labels(uow)
    return [clause.text for clause in describe(document, lang=lang, labels=names)]


def ensure_published(uows: UnitOfWorkFactory, raw: dict[str, Any], at: datetime) -> bool:
    """Publish ``raw`` as version 1 if no policy exists at all (fresh installs)."""
    with uows() as uow:
        uow.policies.lock()
        if uow.policies.all():
            return False
        document = to_wire(parse_document({**raw, "version": 1}, version=1))
        uow.policies.add_draft(1, document, "system", at)
        uow.policies.publish(1, "system", at)
        uow.commit()
    return True
