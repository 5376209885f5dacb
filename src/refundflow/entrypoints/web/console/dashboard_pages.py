"""The manager's dashboard: a period picker, key figures beside the previous period's,
a chart over every table, downloads of every table (CSV, Excel), and a live part that
htmx reloads every 30 seconds. The figures come from ``services.metrics`` (docs/metrics.md);
this module only lays them out."""

from __future__ import annotations

import json
from decimal import Decimal
from functools import partial
from typing import Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from refundflow.adapters.files.tables import csv_chunks, xlsx_bytes
from refundflow.domain.errors import NotFoundError
from refundflow.entrypoints.web.console.access import staff
from refundflow.entrypoints.web.console.render import guarded, page
from refundflow.entrypoints.web.deps import Caller
from refundflow.entrypoints.web.i18n import language, translate
from refundflow.services import care, metrics
from refundflow.services import reasons as reasons_service

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIVE_SECONDS = 30
# The key figures in the order of the cards, and how each is shown.
KPIS: list[tuple[str, str]] = [
    ("requests", "count"),
    ("orders", "count"),
    ("refund_rate", "rate"),
    ("amount_refunded", "money"),
    ("auto_decision_rate", "rate"),
    ("median_hours_to_refund", "hours"),
    ("p90_hours_to_refund", "hours"),
    ("median_hours_to_first_response", "hours"),
    ("p90_hours_to_first_response", "hours"),
    ("sla_compliance", "rate"),
    ("csat_avg", "score"),
    ("csat_positive_share", "rate"),
    ("complaint_rate", "rate"),
    ("appeal_rate", "rate"),
    ("exchange_share", "rate"),
    ("compensation_cost", "money"),
]
BREAKDOWNS = ("reason", "category", "sku", "channel", "tier", "root_cause")
TABLES = ("kpis", "daily", *BREAKDOWNS)
BREAKDOWN_COLUMNS = ["key", "label", "requests", "share", "refunded", "amount_refunded"]
DAILY_COLUMNS = ["day", "requests", "orders", "refunded", "auto_decided"]


def money_text(amounts: list[dict[str, str]]) -> str:
    return "; ".join(f"{m['amount']} {m['currency']}" for m in amounts) or "0"


def shown(value: Any, kind: str) -> str:
    """A figure as a card or a cell shows it."""
    if kind == "money":
        return money_text(value)
    if value is None:
        return "—"
    if kind == "rate":
        return f"{Decimal(str(value)) * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f}"
    if kind == "score":
        return f"{value:.2f}"
    return str(value)


def _labels(caller: Caller, lang: str) -> dict[str, dict[str, str]]:
    zh = lang == "zh-CN"
    reasons = reasons_service.active_reasons(caller.box.uows)
    causes = care.root_causes(caller.box.uows)
    return {
        "reason": {r["code"]: r["label_zh"] if zh else r["label_en"] for r in reasons},
        "root_cause": {
            "": translate("d_none", lang),
            **{c["code"]: c["label_zh"] if zh else c["label_en"] for c in causes},
        },
    }


def tables(
    summary: dict[str, Any], labels: dict[str, dict[str, str]], lang: str
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every table of the page as (machine column names, rows of display values)."""
    out: dict[str, tuple[list[str], list[list[Any]]]] = {
        "kpis": (
            ["figure", "label", "current", "previous"],
            [
                [
                    name,
                    translate(f"m_{name}", lang),
                    shown(summary[name], kind),
                    shown(summary["previous"][name], kind),
                ]
                for name, kind in KPIS
            ],
        ),
        "daily": (DAILY_COLUMNS, [[row[c] for c in DAILY_COLUMNS] for row in summary["daily"]]),
    }
    for dimension in BREAKDOWNS:
        names = labels.get(dimension, {})
        out[dimension] = (
            BREAKDOWN_COLUMNS,
            [
                [
                    row["key"],
                    names.get(row["key"], row["key"]),
                    row["requests"],
                    shown(row["share"], "rate"),
                    row["refunded"],
                    money_text(row["amount_refunded"]),
                ]
                for row in summary[f"by_{dimension}"]
            ],
        )
    return out


def charts(summary: dict[str, Any], labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What static/dashboard.js draws, as JSON in a data attribute (no inline script)."""
    data: dict[str, Any] = {
        "daily": {
            "days": [row["day"] for row in summary["daily"]],
            "requests": [row["requests"] for row in summary["daily"]],
            "orders": [row["orders"] for row in summary["daily"]],
            "refunded": [row["refunded"] for row in summary["daily"]],
        }
    }
    for dimension in BREAKDOWNS:
        names = labels.get(dimension, {})
        rows = summary[f"by_{dimension}"][:15]
        data[dimension] = {
            "labels": [names.get(r["key"], r["key"]) for r in rows],
            "requests": [r["requests"] for r in rows],
            "refunded": [r["refunded"] for r in rows],
        }
    return data


async def _summary(caller: Caller, request: Request) -> tuple[metrics.Period, dict[str, Any]]:
    metrics.check_access(caller.actor)
    box = caller.box
    params = request.query_params
    today = box.uows.clock().astimezone(box.settings.tz).date()
    period = metrics.parse_period(params.get("from"), params.get("to"), today)
    summary = await to_thread.run_sync(partial(metrics.summary, box.uows, caller.actor, period))
    return period, summary


async def _context(caller: Caller, request: Request) -> dict[str, Any]:
    period, summary = await _summary(caller, request)
    lang = language(request)
    labels = await to_thread.run_sync(partial(_labels, caller, lang))
    query = f"from={period.first.isoformat()}&to={period.last.isoformat()}"
    return {
        "period": period,
        "query": query,
        "summary": summary,
        "cards": [
            {
                "name": name,
                "label": translate(f"m_{name}", lang),
                "value": shown(summary[name], kind),
                "raw": json.dumps(summary[name]),
                "previous": shown(summary["previous"][name], kind),
            }
            for name, kind in KPIS
        ],
        "tables": tables(summary, labels, lang),
        "charts": json.dumps(charts(summary, labels), ensure_ascii=False),
        "table_names": TABLES,
        "breakdowns": BREAKDOWNS,
        "updated_at": caller.box.uows.clock().astimezone(caller.box.settings.tz),
        "live_seconds": LIVE_SECONDS,
    }


@router.get("/console/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    async def body() -> Response:
        caller = staff(request)
        context = await _context(caller, request)
        return await page(request, "console/dashboard.html", context, actor=caller.actor)

    return await guarded(request, body)


@router.get("/console/dashboard/live", response_class=HTMLResponse)
async def live(request: Request) -> Response:
    """The part of the page that refreshes itself (htmx, every 30 s)."""

    async def body() -> Response:
        caller = staff(request)
        context = await _context(caller, request)
        return await page(
            request, "console/partials/dashboard_live.html", context, actor=caller.actor
        )

    return await guarded(request, body)


@router.get("/console/dashboard/export/{name}.{fmt}")
async def export(request: Request, name: str, fmt: Literal["csv", "xlsx"]) -> Response:
    async def body() -> Response:
        caller = staff(request)
        metrics.check_access(caller.actor)  # before anything about the tables is told
        if name not in TABLES:
            raise NotFoundError(f"no table {name!r}; tables: {', '.join(TABLES)}")
        period, summary = await _summary(caller, request)
        lang = language(request)
        labels = await to_thread.run_sync(partial(_labels, caller, lang))
        columns, rows = tables(summary, labels, lang)[name]
        stem = f"dashboard-{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}"
        if fmt == "xlsx":
            data = await to_thread.run_sync(lambda: xlsx_bytes(columns, rows, title=name))
            media = XLSX
        else:
            data = b"".join(csv_chunks(columns, rows))
            media = "text/csv; charset=utf-8"
        return Response(
            data,
            media_type=media,
            headers={
                "Content-Disposition": f'attachment; filename="{stem}.{fmt}"',
                "Cache-Control": "no-store",
            },
        )

    return await guarded(request, body)
