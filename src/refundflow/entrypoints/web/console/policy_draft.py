"""The policy editor's draft: every change is applied to the draft as stored now and saved
with ``services.policies.put_draft`` (the API's use case), refused when the form is older
than the draft; and the small readers the editor's forms share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import FormData

from refundflow.domain.errors import ConflictError, InvalidInputError
from refundflow.entrypoints.web.console import policy_form
from refundflow.entrypoints.web.deps import Caller
from refundflow.services import policies


def save_draft(
    caller: Caller,
    version: int | None,
    change: Callable[[list[Any]], None],
    quota: dict[str, str] | None = None,
    *,
    seen: str | None = None,
) -> None:
    """Apply ``change`` to the draft's rules (and replace its trust quotas when given), then
    save the draft (version-checked)."""
    draft = policies.get_draft(caller.box.uows, caller.actor)
    unchanged_since(draft, seen)
    rules = list(draft["rules"])
    change(rules)
    document = {
        "version": version if version is not None else draft["version"],
        "rules": rules,
        "trust_quota": draft["trust_quota"] if quota is None else quota,
    }
    problems = policy_form.schema_problems(document)
    if problems:
        first = problems[0]
        raise InvalidInputError(
            f"{first['rule']} {first['field']}: {first['message']}",
            details={"problems": problems},
        )
    policies.put_draft(caller.box.uows, caller.actor, document)


def unchanged_since(draft: dict[str, Any], seen: str | None) -> None:
    """A draft keeps its version number while it is edited, so the form also carries when
    the draft it shows was saved: a form older than the draft changes nothing."""
    if seen is not None and seen != (draft["updated_at"] or ""):
        raise ConflictError(
            "the draft was changed since this page was opened: reload it and apply your "
            "changes again",
            details={"updated_at": draft["updated_at"]},
        )


def seen_of(form: FormData) -> str | None:
    value = form.get("seen")
    return value if isinstance(value, str) else None


def form_int(form: FormData, name: str = "version") -> int | None:
    value = form.get(name)
    return int(value) if isinstance(value, str) and value.isdigit() else None


def problems_of(exc: InvalidInputError) -> list[dict[str, str]]:
    found = exc.details.get("problems") if isinstance(exc.details, dict) else None
    return list(found) if found else [{"rule": "policy", "field": "", "message": exc.message}]
