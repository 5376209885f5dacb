"""Notifications: telling customers (email, SMS, app push, FCM, Web Push) and staff
(DingTalk, WeCom, Feishu, Slack…) what happened, exactly once per notice and recipient.

The public API, for the worker, the web routes and the portal:

- ``on_outbox_message(uows, notifier, message)``: the outbox handler (``planning.TOPICS``);
- ``deliver_notifications(uows, notifier, worker_id)``: one delivery pass of a worker;
- ``queue_login_code(uow, notifier, contact=, code=, language=)`` / ``send_login_code(uows,
  …)``: the portal's one-time code, queued in the caller's (or its own) transaction;
  ``queue_direct_message`` for any other notice to a bare phone or email;
- ``survey_link`` / ``verify_token``: the signed, expiring survey links;
- ``normalise_phone`` / ``normalise_email``: contacts as messages need them;
- templates (``list_templates``, ``get_template``, ``put_template``, ``reset_template``,
  ``preview_template``), preferences (``get_preferences``, ``put_preferences``) and
  ``ensure_default_templates`` (run by ``refundflow migrate``).
"""

from refundflow.services.notifications.config import NotificationConfig, Notifier, StaffRecipient
from refundflow.services.notifications.contacts import normalise_email, normalise_phone
from refundflow.services.notifications.delivery import deliver_notifications
from refundflow.services.notifications.direct import (
    queue_direct_message,
    queue_login_code,
    send_login_code,
)
from refundflow.services.notifications.links import survey_link, verify_token
from refundflow.services.notifications.planning import TOPICS, on_outbox_message
from refundflow.services.notifications.preferences import (
    get_preferences,
    put_preferences,
    subscribe_push,
    unsubscribe_push,
)
from refundflow.services.notifications.preview import preview_template
from refundflow.services.notifications.templates import (
    ensure_default_templates,
    get_template,
    list_templates,
    put_template,
    reset_template,
)

__all__ = [
    "TOPICS",
    "NotificationConfig",
    "Notifier",
    "StaffRecipient",
    "deliver_notifications",
    "ensure_default_templates",
    "get_preferences",
    "get_template",
    "list_templates",
    "normalise_email",
    "normalise_phone",
    "on_outbox_message",
    "preview_template",
    "put_preferences",
    "put_template",
    "queue_direct_message",
    "queue_login_code",
    "reset_template",
    "send_login_code",
    "subscribe_push",
    "survey_link",
    "unsubscribe_push",
    "verify_token",
]
