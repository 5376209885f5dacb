"""Message templates: stored per notice and language, edited by managers, previewed on real
requests; and the one function that turns a template into a channel's content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from refundflow.domain.notifications import PUSH_CHANNELS, Channel, Notice
from refundflow.domain.permissions import Operation, may
from refundflow.services import audit
from refundflow.services.notifications.config import Notifier
from refundflow.services.notifications.context import SAMPLE_FACTS, SAMPLE_REQUEST, request_context
from refundflow.services.notifications.defaults import shipped_templates
from refundflow.services.notifications.ports import MessageTemplate, TemplateRenderError
from refundflow.services.notifications.wording import LANGUAGES
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

PARTS = ("subject", "text", "html", "short")
LIMITS = {"subject": 500, "text": 20_000, "html": 50_000, "short": 1_000}
_UTC8 = timezone(timedelta(hours=8))  # sample times shown as in China
_SHIPPED = {(t.notice, t.language): t for t in shipped_templates()}


def shipped(notice: str, language: str) -> MessageTemplate:
    return _SHIPPED.get((notice, language)) or _SHIPPED[(notice, "zh-CN")]


def template_for(uow: UnitOfWork, notice: str, language: str) -> MessageTemplate:
    """The stored template, else the shipped one; another language falls back to zh-CN."""
    return (
        uow.notifications.template(notice, language)
        or uow.notifications.template(notice, "zh-CN")
        or shipped(notice, language)
    )


def render(
    notifier: Notifier, template: MessageTemplate, channel: Channel, context: Mapping[str, Any]
) -> dict[str, Any]:
    """What a notification row stores for ``channel``: only the parts that channel sends."""
    renderer = notifier.renderer

    def text(source: str) -> str:
        return renderer.render(source, context).strip()

    if channel is Channel.EMAIL:
        return {
            "subject": " ".join(text(template.subject).split()),
            "text": text(template.text),
            "html": renderer.render(template.html, context, html=True),
        }
    if channel is Channel.SMS:
        values = context.get("sms", {})
        return {
            "short": text(template.short),
            "sms_template": template.sms_template,
            "sms_params": [[name, str(values.get(name, ""))] for name in template.sms_params],
        }
    if channel in PUSH_CHANNELS:
        request = context.get("request", {})
        return {
            "subject": " ".join(text(template.subject).split()),
            "short": text(template.short),
            "data": {
                "notice": template.notice,
                "request_id": str(request.get("id") or ""),
                "number": str(request.get("number") or ""),
                "link": str(context.get("link") or ""),
            },
        }
    return {"subject": " ".join(text(template.subject).split()), "text": text(template.text)}


def ensure_default_templates(uows: UnitOfWorkFactory) -> int:
    """Store the shipped templates that are missing, and refresh the stored ones no manager
    has edited; return how many were written."""
    written = 0
    with uows() as uow:
        for template in shipped_templates():
            stored = uow.notifications.template(template.notice, template.language)
            if stored is not None and (stored.customised or _same(stored, template)):
                continue
            uow.notifications.put_template(replace(template, updated_at=uow.now()))
            written += 1
        uow.commit()
    return written


def _same(a: MessageTemplate, b: MessageTemplate) -> bool:
    return all(getattr(a, part) == getattr(b, part) for part in (*PARTS, "sms_params"))


# ---------------------------------------------------------------------------- the API
def _check(actor: Actor, operation: Operation) -> None:
    if not may(actor.role, operation):
        raise PermissionDeniedError(f"the {actor.role.value} role cannot do that with templates")


def _notice(notice: str, language: str) -> None:
    if notice not in Notice.__members__.values():
        raise NotFoundError(
            f"no notice {notice!r}; notices: {', '.join(n.value for n in Notice)}",
            details={"notice": notice},
        )
    if language not in LANGUAGES:
        raise NotFoundError(
            f"language is one of {', '.join(LANGUAGES)}", details={"language": language}
        )


def template_view(template: MessageTemplate) -> dict[str, Any]:
    return {
        "notice": template.notice,
        "language": template.language,
        "subject": template.subject,
        "text": template.text,
        "html": template.html,
        "short": template.short,
        "sms_template": template.sms_template,
        "sms_params": list(template.sms_params),
        "customised": template.customised,
        "updated_by": template.updated_by,
        "updated_at": template.updated_at.isoformat() if template.updated_at else None,
    }


def list_templates(uows: UnitOfWorkFactory, actor: Actor) -> list[dict[str, Any]]:
    _check(actor, Operation.READ_SETTINGS)
    with uows(write=False) as uow:
        stored = {(t.notice, t.language): t for t in uow.notifications.templates()}
    return [template_view(stored.get(key, default)) for key, default in sorted(_SHIPPED.items())]


def get_template(
    uows: UnitOfWorkFactory, actor: Actor, notice: str, language: str
) -> dict[str, Any]:
    _check(actor, Operation.READ_SETTINGS)
    _notice(notice, language)
    with uows(write=False) as uow:
        template = uow.notifications.template(notice, language) or shipped(notice, language)
    return template_view(template)


def _sample(notifier: Notifier, language: str) -> dict[str, Any]:
    return request_context(
        SAMPLE_REQUEST,
        language=language,
        config=notifier.config,
        tz=_UTC8,
        customer_name="李娜" if language == "zh-CN" else "Li Na",
        payment_methods=["alipay"],
        facts=SAMPLE_FACTS,
    )


def _checked(notifier: Notifier, template: MessageTemplate) -> MessageTemplate:
    """Refuse a template that does not render against sample data, naming the part."""
    context = _sample(notifier, template.language)
    for part in PARTS:
        source = getattr(template, part)
        if len(source) > LIMITS[part]:
            raise InvalidInputError(
                f"{part} is longer than {LIMITS[part]} characters", details={"field": part}
            )
        try:
            notifier.renderer.render(source, context, html=part == "html")
        except TemplateRenderError as exc:
            raise InvalidInputError(f"{part}: {exc}", details={"field": part}) from None
    unknown = [name for name in template.sms_params if name not in context["sms"]]
    if unknown:
        raise InvalidInputError(
            f"sms_params may name {', '.join(sorted(context['sms']))}; not {', '.join(unknown)}",
            details={"field": "sms_params"},
        )
    return template


def template_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """The parts a body sets; a part set to null is emptied (never a None template)."""
    changes: dict[str, Any] = {k: body[k] or "" for k in PARTS if k in body}
    if "sms_template" in body:
        changes["sms_template"] = body["sms_template"] or None
    if "sms_params" in body:
        changes["sms_params"] = tuple(body["sms_params"] or ())
    return changes


def put_template(
    uows: UnitOfWorkFactory,
    notifier: Notifier,
    actor: Actor,
    notice: str,
    language: str,
    body: Mapping[str, Any],
) -> dict[str, Any]:
    """Replace a template's parts (those left out keep their current wording)."""
    _check(actor, Operation.MANAGE_SETTINGS)
    _notice(notice, language)
    changes = template_changes(body)
    with uows() as uow:
        current = uow.notifications.template(notice, language) or shipped(notice, language)
        template = _checked(
            notifier,
            replace(
                current,
                **changes,
                notice=notice,
                language=language,
                customised=True,
                updated_by=actor.id or actor.name,
                updated_at=uow.now(),
            ),
        )
        uow.notifications.put_template(template)
        audit.record(
            uow,
            actor,
            "template.changed",
            f"template:{notice}/{language}",
            {"parts": sorted(changes)},
        )
        uow.commit()
    return template_view(template)


def reset_template(
    uows: UnitOfWorkFactory, actor: Actor, notice: str, language: str
) -> dict[str, Any]:
    """Back to the shipped wording (and following it again when it changes)."""
    _check(actor, Operation.MANAGE_SETTINGS)
    _notice(notice, language)
    with uows() as uow:
        template = replace(shipped(notice, language), updated_by=actor.id, updated_at=uow.now())
        uow.notifications.put_template(template)
        audit.record(uow, actor, "template.reset", f"template:{notice}/{language}")
        uow.commit()
    return template_view(template)
