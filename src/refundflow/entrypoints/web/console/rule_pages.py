"""The policy editor's rules: one rule edited on its own page (conditions from the policy
module's fact and operator pickers, the outcome, its options and what the customer is told),
saved into the draft where asked; rules moved, switched on and off, and deleted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.domain.errors import InvalidInputError, NotFoundError
from refundflow.entrypoints.web.console import policy_form
from refundflow.entrypoints.web.console.access import read_form, settings_editor
from refundflow.entrypoints.web.console.policy_draft import (
    form_int,
    problems_of,
    save_draft,
    seen_of,
)
from refundflow.entrypoints.web.console.policy_pages import HOME, policy_page
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import Caller, run
from refundflow.entrypoints.web.i18n import language
from refundflow.policy.explain import Labels
from refundflow.services import policies

router = APIRouter(include_in_schema=False)


@router.post(HOME + "/rules/{number}/{what}")
async def change_rule(request: Request, number: int, what: str) -> Response:
    """Move rule ``number`` (1-based) up or down, switch it on or off, or delete it."""
    index = number - 1

    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)

        def change(rules: list[Any]) -> None:
            if not 0 <= index < len(rules):
                raise InvalidInputError(f"there is no rule {number}")
            if what in ("up", "down"):
                other = index - 1 if what == "up" else index + 1
                if 0 <= other < len(rules):
                    rules[index], rules[other] = rules[other], rules[index]
            elif what == "toggle":
                rules[index] = {**rules[index], "enabled": not rules[index].get("enabled", True)}
            elif what == "delete":
                del rules[index]
            else:
                raise InvalidInputError("unknown rule action")

        try:
            await run(caller.box, save_draft, caller, form_int(form), change, seen=seen_of(form))
        except InvalidInputError as exc:
            return await policy_page(request, caller, problems=problems_of(exc), status=422)
        return RedirectResponse(f"{HOME}?saved=1", status_code=303)

    return await guarded(request, body)


async def _editor_page(
    request: Request,
    caller: Caller,
    index: int | None,
    rule: dict[str, Any],
    *,
    version: int,
    seen: str,
    position: int,
    count: int,
    problems: list[dict[str, str]] | None = None,
    extra_rows: int = 1,
    status: int = 200,
) -> Response:
    at = index if index is not None else position - 1

    def names() -> Labels:
        with caller.box.uows(write=False) as uow:
            return policies.labels(uow)

    lang = language(request)
    known = policy_form.known_values(await run(caller.box, names), lang)
    return await page(
        request,
        "console/policy_rule.html",
        {
            "index": index,
            "f": policy_form.rule_to_form(rule, extra_rows),
            "version": version,
            "seen": seen,
            "position": position,
            "count": count,
            "facts": policy_form.fact_choices(lang),
            "known": known,
            "operators": policy_form.OPERATOR_CHOICES,
            "outcomes": policy_form.OUTCOMES,
            "problems": problems or [],
            "inline": policy_form.inline(problems or [], at),
        },
        status,
        caller.actor,
    )


@router.get(HOME + "/rules/{which}", response_class=HTMLResponse)
async def rule_editor(request: Request, which: str) -> Response:
    """The editor of rule ``which`` (1-based), or of a new rule (``new``)."""

    async def body() -> Response:
        caller = settings_editor(request)
        draft = await run(caller.box, policies.get_draft, caller.box.uows, caller.actor)
        rules = draft["rules"]
        if which == "new":
            rule: dict[str, Any] = {"enabled": True, "outcome": "review", "conditions": []}
            return await _editor_page(
                request,
                caller,
                None,
                rule,
                version=draft["version"],
                seen=draft["updated_at"] or "",
                position=len(rules) + 1,
                count=len(rules) + 1,
                extra_rows=2,
            )
        index = int(which) - 1 if which.isdigit() else -1
        if not 0 <= index < len(rules):
            raise NotFoundError(f"the draft has no rule {which}")
        return await _editor_page(
            request,
            caller,
            index,
            rules[index],
            version=draft["version"],
            seen=draft["updated_at"] or "",
            position=index + 1,
            count=len(rules),
        )

    return await guarded(request, body)


@router.post(HOME + "/rules/{which}", response_class=HTMLResponse)
async def save_rule(request: Request, which: str) -> Response:
    """Save the rule into the draft at the position asked for; or (``more``) show one more
    empty condition row without saving."""

    async def body() -> Response:
        form = await read_form(request)
        caller = settings_editor(request)
        rule = policy_form.rule_from_form(form)
        index = int(which) - 1 if which.isdigit() else None
        raw_position = form.get("position")
        position = (
            int(raw_position) if isinstance(raw_position, str) and raw_position.isdigit() else 0
        )
        draft = await run(caller.box, policies.get_draft, caller.box.uows, caller.actor)
        count = len(draft["rules"]) + (1 if index is None else 0)
        position = min(max(position or count, 1), count)
        version = form_int(form) or draft["version"]
        seen = seen_of(form)
        if form.get("more"):
            return await _editor_page(
                request,
                caller,
                index,
                rule,
                version=version,
                seen=seen or "",
                position=position,
                count=count,
            )

        def change(rules: list[Any]) -> None:
            if index is not None:
                if not 0 <= index < len(rules):
                    raise InvalidInputError(f"there is no rule {which}")
                del rules[index]
            rules.insert(position - 1, rule)

        try:
            await run(caller.box, save_draft, caller, version, change, seen=seen)
        except InvalidInputError as exc:
            return await _editor_page(
                request,
                caller,
                index,
                rule,
                version=version,
                seen=seen or "",
                position=position,
                count=count,
                problems=problems_of(exc),
                extra_rows=0,
                status=422,
            )
        return RedirectResponse(f"{HOME}?saved=1", status_code=303)

    return await guarded(request, body)
