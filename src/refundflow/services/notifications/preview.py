"""Preview a template as each channel would send it: against a real request (its stored
document, in the language asked for) or against sample data; optionally with unsaved edits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from refundflow.domain.actors import Actor
from refundflow.domain.errors import InvalidInputError
from refundflow.domain.notifications import STAFF_NOTICES, Channel, Notice
from refundflow.domain.permissions import Operation
from refundflow.services.actions import load_request
from refundflow.services.notifications.config import Notifier
from refundflow.services.notifications.context import SAMPLE_FACTS
from refundflow.services.notifications.planning import context_for, load_document
from refundflow.services.notifications.ports import TemplateRenderError
from refundflow.services.notifications.templates import (
    _check,
    _notice,
    _sample,
    render,
    shipped,
    template_changes,
)
from refundflow.services.unit_of_work import UnitOfWorkFactory


def preview_template(
    uows: UnitOfWorkFactory,
    notifier: Notifier,
    actor: Actor,
    notice: str,
    language: str,
    *,
    request: str | None = None,
    draft: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The rendered parts per channel; ``request`` is an id or number (else sample data),
    ``draft`` replaces stored parts without saving them."""
    _check(actor, Operation.READ_SETTINGS)
    _notice(notice, language)
    with uows(write=False) as uow:
        template = uow.notifications.template(notice, language) or shipped(notice, language)
        if draft:
            template = replace(template, **template_changes(draft))
        if request is None:
            context = _sample(notifier, language)
            source = "sample"
        else:
            found = load_request(uow, request)
            doc = load_document(uow, found.id)
            assert doc is not None
            context = context_for(uow, notifier, doc, language, SAMPLE_FACTS)
            source = found.number
    staff = Notice(notice) in STAFF_NOTICES
    channels = (Channel.STAFF,) if staff else (Channel.EMAIL, Channel.SMS, Channel.APP_PUSH)
    rendered: dict[str, Any] = {}
    for channel in channels:
        try:
            rendered[channel.value] = render(notifier, template, channel, context)
        except TemplateRenderError as exc:
            raise InvalidInputError(f"{exc}", details={"channel": channel.value}) from None
    return {"notice": notice, "language": language, "data": source, "channels": rendered}
