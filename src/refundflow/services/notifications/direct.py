"""Messages to a phone or an email that are not about a request: the portal's one-time login
code. For the portal:

    with uows() as uow:
        ...store the code's hash...
        queue_login_code(uow, notifier, contact="13912345678", code="482913", language="zh-CN")
        uow.commit()

queues the message in the caller's transaction (the code and its message commit together);
the worker sends it within a poll interval. ``send_login_code(uows, notifier, ...)`` does the
same in a transaction of its own. Either way nothing is sent from the web request.

A code message is ``sensitive``: its content is erased once it is sent or given up on, and it
is never sent after it ``expires`` (``NotificationConfig.code_valid``, 10 minutes).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from refundflow.domain.errors import ConflictError, InvalidInputError
from refundflow.domain.notifications import Channel, Notice
from refundflow.services.notifications.config import Notifier
from refundflow.services.notifications.contacts import normalise_email, normalise_phone
from refundflow.services.notifications.context import request_context
from refundflow.services.notifications.ports import NewNotification
from refundflow.services.notifications.templates import render, template_for
from refundflow.services.notifications.wording import LANGUAGES
from refundflow.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


def contact_channel(contact: str) -> tuple[Channel, str]:
    """An email goes by email, anything else is read as a phone number for SMS."""
    if "@" in contact:
        return Channel.EMAIL, normalise_email(contact, "contact")
    return Channel.SMS, normalise_phone(contact, "contact", mobile=True)


def queue_direct_message(
    uow: UnitOfWork,
    notifier: Notifier,
    *,
    contact: str,
    notice: Notice,
    facts: Mapping[str, Any],
    language: str = "zh-CN",
    customer_id: int | None = None,
    expires_at: datetime | None = None,
    sensitive: bool = False,
    key: str | None = None,
) -> int:
    """Queue ``notice`` to ``contact`` (a phone number or an email) in the caller's
    transaction; return the notification id. A repeat with the same ``key`` queues nothing
    and returns the first one's id."""
    channel, recipient = contact_channel(contact)
    if not notifier.has(channel):
        raise ConflictError(
            f"no {channel.value} channel is configured; set "
            + ("REFUNDFLOW_SMTP_URL" if channel is Channel.EMAIL else "REFUNDFLOW_SMS_PROVIDER"),
            details={"channel": channel.value},
        )
    if language not in LANGUAGES:
        raise InvalidInputError(
            f"language is one of {', '.join(LANGUAGES)}", details={"field": "language"}
        )
    occurrence = f"direct:{key or secrets.token_hex(12)}"
    if key is not None:
        # No request: the UNIQUE key cannot see NULLs, so a repeated key is looked up.
        existing = uow.notifications.find(None, notice.value, occurrence, channel, recipient)
        if existing is not None:
            return existing
    now = uow.now()
    context = request_context({}, language=language, config=notifier.config, tz=uow.tz, facts=facts)
    template = template_for(uow, notice.value, language)
    row = NewNotification(
        request_id=None,
        customer_id=customer_id,
        notice=notice.value,
        occurrence=occurrence,
        channel=channel,
        recipient=recipient,
        language=language,
        content=render(notifier, template, channel, context),
        available_at=now,
        expires_at=expires_at,
        sensitive=sensitive,
    )
    return uow.notifications.add([row], now)[0]


def queue_login_code(
    uow: UnitOfWork,
    notifier: Notifier,
    *,
    contact: str,
    code: str,
    language: str = "zh-CN",
    customer_id: int | None = None,
    key: str | None = None,
) -> int:
    """Queue the one-time login code message (SMS to a phone, email to an address)."""
    valid = notifier.config.code_valid
    return queue_direct_message(
        uow,
        notifier,
        contact=contact,
        notice=Notice.LOGIN_CODE,
        facts={"code": code, "valid_minutes": int(valid.total_seconds() // 60)},
        language=language,
        customer_id=customer_id,
        expires_at=uow.now() + valid,
        sensitive=True,
        key=key,
    )


def send_login_code(
    uows: UnitOfWorkFactory,
    notifier: Notifier,
    *,
    contact: str,
    code: str,
    language: str = "zh-CN",
    customer_id: int | None = None,
    key: str | None = None,
) -> int:
    """``queue_login_code`` in a transaction of its own."""
    with uows() as uow:
        notification_id = queue_login_code(
            uow,
            notifier,
            contact=contact,
            code=code,
            language=language,
            customer_id=customer_id,
            key=key,
        )
        uow.commit()
    return notification_id
