"""The no-code policy editor: the published version and the draft, rules edited one at a
time (conditions from pickers), reordered, switched on and off; the draft simulated on
stored history and published. Every change goes through the same use cases as
``/api/v1/policies`` (``services.policies``, ``services.simulation``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from refundflow.domain.errors import ConflictError, InvalidInputError, NotFoundError
from refundflow.entrypoints.web.console import policy_form
from refundflow.entrypoints.web.console.access import check_form, settings_editor
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import Caller, run
from refundflow.entrypoints.web.i18n import language, translate
from refundflow.entrypoints.web.portal_auth import CSRF_FIELD
from refundflow.policy.document import TIERS
from refundflow.policy.explain import Labels
from refundflow.policy.facts import FACTS
from refundflow.services import policies, simulation

router = APIRouter(include_in_schema=False)
HOME = "/console/policy"


async def _form(request: Request) -> FormData:
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_form(request, token if isinstance(token, str) else None)
    return form


def _condition_text(condition: dict[str, Any], lang: str) -> str:
    spec = FACTS.get(condition["fact"])
    label = (spec.label_zh if lang == "zh-CN" else spec.label_en) if spec else condition["fact"]
    value = condition["value"]
    shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"{label} {condition['operator']} {shown}"


def _overview(caller: Caller, lang: str) -> dict[str, Any]:
    uows, actor = caller.box.uows, caller.actor
    draft = policies.get_draft(uows, actor)
    versions = policies.list_versions(uows, actor)
    published_row = next((v for v in versions if v["status"] == "published"), None)
    published = (
        policies.get_version(uows, actor, published_row["version"]) if published_row else None
    )
    return {
        "draft": draft,
        "published": published,
        "versions": versions[:10],
        "draft_text": policies.draft_text(uows, actor, lang),
        **_differences(draft, published),
    }


def _differences(draft: dict[str, Any], published: dict[str, Any] | None) -> dict[str, Any]:
    """How the draft differs from the published version: each draft rule new, changed or
    moved (by id), and the published rules the draft no longer has."""
    old_rules = published["rules"] if published else []
    before = {rule["id"]: (i, rule) for i, rule in enumerate(old_rules)}
    marks = []
    for i, rule in enumerate(draft["rules"]):
        old = before.get(rule["id"])
        if old is None:
            marks.append("new")
        elif old[1] != rule:
            marks.append("changed")
        else:
            marks.append("moved" if old[0] != i else "")
    kept = {rule["id"] for rule in draft["rules"]}
    removed = [rule for rule in old_rules if rule["id"] not in kept]
    return {"marks": marks, "removed": removed}


def _period(caller: Caller) -> tuple[str, str]:
    today = caller.box.uows.clock().astimezone(caller.box.settings.tz).date()
    return (today - timedelta(days=30)).isoformat(), (today + timedelta(days=1)).isoformat()


async def _policy_page(
    request: Request,
    caller: Caller,
    *,
    problems: list[dict[str, str]] | None = None,
    status: int = 200,
    flash: str | None = None,
) -> Response:
    lang = language(request)
    context = await run(caller.box, _overview, caller, lang)
    start, end = _period(caller)
    return await page(
        request,
        "console/policy.html",
        {
            **context,
            "problems": problems or [],
            "flash": translate(flash, lang) if flash else None,
            "sim_from": start,
            "sim_to": end,
            "when": lambda c: _condition_text(c, lang),
            "tiers": TIERS,
        },
        status,
        caller.actor,
    )


@router.get(HOME, response_class=HTMLResponse)
async def policy(request: Request) -> Response:
    async def body() -> Response:
        caller = settings_editor(request)
        params = request.query_params
        flash = None
        if params.get("saved"):
            flash = "c_draft_saved"
        elif params.get("published", "").isdigit():
            flash = "c_published_now"
        return await _policy_page(request, caller, flash=flash)

    return await guarded(request, body)


def _save(
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
    _unchanged_since(draft, seen)
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


def _unchanged_since(draft: dict[str, Any], seen: str | None) -> None:
    """A draft keeps its version number while it is edited, so the form also carries when
    the draft it shows was saved: a form older than the draft changes nothing."""
    if seen is not None and seen != (draft["updated_at"] or ""):
        raise ConflictError(
            "the draft was changed since this page was opened: reload it and apply your "
            "changes again",
            details={"updated_at": draft["updated_at"]},
        )


def _seen(form: FormData) -> str | None:
    value = form.get("seen")
    return value if isinstance(value, str) else None


def _version(form: FormData, name: str = "version") -> int | None:
    value = form.get(name)
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _problems(exc: InvalidInputError) -> list[dict[str, str]]:
    found = exc.details.get("problems") if isinstance(exc.details, dict) else None
    return list(found) if found else [{"rule": "policy", "field": "", "message": exc.message}]


@router.post(HOME + "/rules/{number}/{what}")
async def change_rule(request: Request, number: int, what: str) -> Response:
    """Move rule ``number`` (1-based) up or down, switch it on or off, or delete it."""
    index = number - 1

    async def body() -> Response:
        form = await _form(request)
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
            await run(caller.box, _save, caller, _version(form), change, seen=_seen(form))
        except InvalidInputError as exc:
            return await _policy_page(request, caller, problems=_problems(exc), status=422)
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
        form = await _form(request)
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
        version = _version(form) or draft["version"]
        seen = _seen(form)
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
            await run(caller.box, _save, caller, version, change, seen=seen)
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
                problems=_problems(exc),
                extra_rows=0,
                status=422,
            )
        return RedirectResponse(f"{HOME}?saved=1", status_code=303)

    return await guarded(request, body)


@router.post(HOME + "/trust-quota")
async def trust_quota(request: Request) -> Response:
    """The money each customer tier may have approved by the policy over 30 days (the
    ``trust_quota_left`` fact); a tier left empty has none."""

    async def body() -> Response:
        form = await _form(request)
        caller = settings_editor(request)
        quota = {}
        for tier in TIERS:
            value = form.get(f"quota_{tier}")
            if isinstance(value, str) and value.strip():
                quota[tier] = value.strip()
        try:
            await run(
                caller.box,
                _save,
                caller,
                _version(form),
                lambda rules: None,
                quota,
                seen=_seen(form),
            )
        except InvalidInputError as exc:
            return await _policy_page(request, caller, problems=_problems(exc), status=422)
        return RedirectResponse(f"{HOME}?saved=1", status_code=303)

    return await guarded(request, body)


def _day(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(value if isinstance(value, str) else "")
    except ValueError:
        raise InvalidInputError(f"{field}: a date such as 2026-11-01") from None


@router.post(HOME + "/simulate", response_class=HTMLResponse)
async def simulate(request: Request) -> Response:
    """Re-decide the stored requests of a period under the saved draft (htmx: the result
    alone; a plain post: the whole page with it)."""

    async def body() -> Response:
        form = await _form(request)
        caller = settings_editor(request)
        partial = request.headers.get("hx-request") == "true"
        context: dict[str, Any] = {"result": None, "error": None}
        status = 200
        try:
            tz = caller.box.settings.tz
            start = datetime.combine(_day(form.get("from"), "from"), time(), tz).astimezone(UTC)
            end = datetime.combine(_day(form.get("to"), "to"), time(), tz).astimezone(UTC)
            draft = await run(caller.box, policies.get_draft, caller.box.uows, caller.actor)
            if draft["updated_at"] is None:
                raise InvalidInputError("save the draft first: only a saved draft is simulated")
            context["result"] = await run(
                caller.box,
                simulation.simulate,
                caller.box.uows,
                caller.actor,
                draft["version"],
                start,
                end,
                minutes_per_review=caller.box.settings.minutes_per_review,
            )
        except InvalidInputError as exc:
            context["error"] = exc.message
            status = 422
        if partial:
            return await page(
                request, "console/partials/simulation.html", context, status, caller.actor
            )
        lang = language(request)
        overview = await run(caller.box, _overview, caller, lang)
        return await page(
            request,
            "console/policy.html",
            {
                **overview,
                "problems": [],
                "simulation": context,
                "sim_from": form.get("from"),
                "sim_to": form.get("to"),
                "when": lambda c: _condition_text(c, lang),
                "tiers": TIERS,
            },
            status,
            caller.actor,
        )

    return await guarded(request, body)


@router.post(HOME + "/publish")
async def publish(request: Request) -> Response:
    async def body() -> Response:
        form = await _form(request)
        caller = settings_editor(request)
        draft = await run(caller.box, policies.get_draft, caller.box.uows, caller.actor)
        _unchanged_since(draft, _seen(form))  # publish what was looked at
        published = await run(caller.box, policies.publish_draft, caller.box.uows, caller.actor)
        return RedirectResponse(f"{HOME}?published={published['version']}", status_code=303)

    return await guarded(request, body)
