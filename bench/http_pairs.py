"""The ``http`` suite: refundflow's endpoints next to bare endpoints of the same server.

Each pair is measured A, B, A, B, … after a warm-up of each, so that whatever else the
(2-core, shared) machine does at the time falls on both sides alike; the row reports the
median of the rounds. Any failed request (HTTP ≥ 400 or a socket error) stops the run with
the first error bodies, rather than turn into a figure.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from bench import cpu, dataset, wrk
from bench.errors import BenchError
from bench.options import RunOptions
from bench.rows import Figures, Row
from bench.server import Server, serving

ORDERS = 1000
LINES_PER_ORDER = 4
SEEDED_REQUESTS = 500
API = "/api/v1/refund-requests"


@dataclass(slots=True)
class Endpoint:
    name: str  # what the table shows
    label: str  # method and path
    plan: list[wrk.PlannedRequest]
    expect: int  # the status every response must have
    cursor: int = 0  # where in ``plan`` the next run starts: creates never repeat a line
    plan_file: Path | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Sample:
    """One wrk run, the server's CPU time per request over it, and the share of the CPUs
    that other programs took meanwhile (None where /proc cannot tell)."""

    result: wrk.WrkResult
    cpu_ms_per_request: float | None
    others_share: float | None

    def as_json(self) -> dict[str, object]:
        cpu_ms = self.cpu_ms_per_request
        return {
            **self.result.as_json(),
            "server_cpu_ms_per_request": round(cpu_ms, 4) if cpu_ms is not None else None,
            "others_cpu_share": self.others_share,
        }


@dataclass(frozen=True, slots=True)
class Pair:
    key: str
    subject: Endpoint
    baseline: Endpoint
    target: float


def _pairs(data: dataset.Dataset) -> list[Pair]:
    bodies = [
        json.dumps(
            {
                "order_no": order_no,
                "type": "refund_only",
                "reason": "quality_issue",
                "lines": [{"sku": sku, "quantity": 1}],
            },
            separators=(",", ":"),
        )
        for order_no, sku in data.pairs
    ]
    creates = Endpoint(
        "create refund request",
        f"POST {API}",
        [wrk.PlannedRequest("POST", API, body) for body in bodies],
        expect=201,
        cursor=data.pairs_used,
    )
    # The same bodies, so both sides of the pair receive and parse the same bytes.
    inserts = Endpoint(
        "bare sqlite insert",
        "POST /bench/insert",
        [wrk.PlannedRequest("POST", "/bench/insert", body) for body in bodies],
        expect=201,
    )
    reads = Endpoint(
        "get refund request",
        f"GET {API}/{{id}}",
        [wrk.PlannedRequest("GET", f"{API}/{rid}") for rid in data.request_ids],
        expect=200,
    )
    hello = Endpoint(
        "hello world", "GET /bench/hello", [wrk.PlannedRequest("GET", "/bench/hello")], 200
    )
    return [
        Pair("http.create_refund_request", creates, inserts, target=0.25),
        Pair("http.get_refund_request", reads, hello, target=0.50),
    ]


class _Bench:
    """Runs wrk against one server, keeping each endpoint's place in its plan."""

    def __init__(
        self, wrk_path: str, server: Server, token: str, workdir: Path, options: RunOptions
    ) -> None:
        self.wrk = wrk_path
        self.server = server
        self.token = token
        self.workdir = workdir
        self.options = options

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def _replay(self, endpoint: Endpoint, count: int) -> list[httpx.Response]:
        """Send the next ``count`` requests of the plan one by one, as wrk would have."""
        responses = []
        with httpx.Client(
            base_url=self.server.url, headers=self._headers(), trust_env=False
        ) as client:
            for _ in range(count):
                planned = endpoint.plan[endpoint.cursor % len(endpoint.plan)]
                endpoint.cursor += 1
                responses.append(
                    client.request(planned.method, planned.path, content=planned.body or None)
                )
        return responses

    def smoke(self, endpoint: Endpoint) -> None:
        """One request by hand before wrk: a wrong status here (a redirect, an auth error)
        would otherwise be counted by wrk as a fast success."""
        (response,) = self._replay(endpoint, 1)
        if response.status_code != endpoint.expect:
            raise BenchError(
                f"{endpoint.label}: expected HTTP {endpoint.expect}, got {response.status_code}: "
                f"{response.text[:2000]}"
            )

    def measure(self, endpoint: Endpoint, seconds: float) -> Sample:
        if endpoint.plan_file is None:
            name = endpoint.label.replace("/", "_").replace(" ", "_").strip("_")
            endpoint.plan_file = wrk.write_plan(self.workdir / f"{name}.plan", endpoint.plan)
        before = cpu.Snapshot.take(self.server.pid)
        result = wrk.run(
            self.wrk,
            self.server.url,
            endpoint.plan_file,
            token=self.token,
            offset=endpoint.cursor,
            seconds=seconds,
            connections=self.options.connections,
        )
        # Requests still in flight when wrk stopped were sent but not counted: skip past them.
        endpoint.cursor += result.requests + self.options.connections
        if result.failed or not result.requests:
            raise BenchError(self._explain_failure(endpoint, result))
        after = cpu.Snapshot.take(self.server.pid)
        server_seconds = cpu.server_seconds(before, after)
        cpu_ms = server_seconds * 1000 / result.requests if server_seconds is not None else None
        return Sample(result, cpu_ms, cpu.others_share(before, after))

    def _explain_failure(self, endpoint: Endpoint, result: wrk.WrkResult) -> str:
        errors = ", ".join(f"{k} {v}" for k, v in result.errors.items() if v) or "no requests"
        lines = [f"{endpoint.label}: {result.requests} requests, failures: {errors}"]
        bad = [r for r in self._replay(endpoint, 20) if r.status_code != endpoint.expect][:3]
        if bad:
            lines.append("replayed requests that fail the same way:")
            lines += [f"  HTTP {r.status_code} {r.request.url}: {r.text[:1000]}" for r in bad]
        else:
            lines.append("20 replayed requests all succeeded (an overload or socket error?)")
        tail = self.server.log_tail()
        if tail:
            lines += ["server log (last lines):", tail]
        return "\n".join(lines)

    def run_pair(self, pair: Pair) -> Row:
        console, options = self.options.console, self.options
        for endpoint in (pair.subject, pair.baseline):
            self.smoke(endpoint)
            self.measure(endpoint, options.warmup)
        rounds: list[dict[str, Any]] = []
        subject_rounds: list[Figures] = []
        baseline_rounds: list[Figures] = []
        for number in range(1, options.rounds + 1):
            a = self.measure(pair.subject, options.seconds)
            b = self.measure(pair.baseline, options.seconds)
            subject_rounds.append(a.result.figures())
            baseline_rounds.append(b.result.figures())
            ratio = a.result.per_second / b.result.per_second
            rounds.append(
                {
                    "round": number,
                    "subject": a.as_json(),
                    "baseline": b.as_json(),
                    "ratio": round(ratio, 4),
                }
            )
            if options.verbose:
                console.print(
                    f"  round {number}: {pair.subject.name} {_brief(a)}  |  "
                    f"{pair.baseline.name} {_brief(b)}  |  ratio {ratio:.2f}"
                )
        return Row(
            key=pair.key,
            label=pair.subject.name,
            figures=Figures.median_of(subject_rounds),
            baseline_label=pair.baseline.name,
            baseline=Figures.median_of(baseline_rounds),
            target=pair.target,
            rounds=rounds,
            others_cpu_share=_median_others(rounds),
            notes={
                "endpoint": pair.subject.label,
                "baseline_endpoint": pair.baseline.label,
                # Each round's two sides ran back to back: this median is the least
                # sensitive to a machine that slows down for a while.
                "median_round_ratio": statistics.median(r["ratio"] for r in rounds),
                "median_round_cpu_ratio": _cpu_ratio(rounds),
            },
        )


def _cpu_ratio(rounds: list[dict[str, Any]]) -> float | None:
    """Baseline CPU per request ÷ refundflow CPU per request, median over rounds: the ratio
    the pair would show on an idle machine where the server is the bottleneck."""
    ratios = [
        r["baseline"]["server_cpu_ms_per_request"] / r["subject"]["server_cpu_ms_per_request"]
        for r in rounds
        if r["baseline"]["server_cpu_ms_per_request"] and r["subject"]["server_cpu_ms_per_request"]
    ]
    return round(statistics.median(ratios), 4) if ratios else None


def _median_others(rounds: list[dict[str, Any]]) -> float | None:
    shares = [
        r[side]["others_cpu_share"]
        for r in rounds
        for side in ("subject", "baseline")
        if r[side]["others_cpu_share"] is not None
    ]
    return round(statistics.median(shares), 3) if shares else None


def _brief(sample: Sample) -> str:
    rate, latency = sample.result.per_second, sample.result.latency_ms
    text = f"{rate:,.0f} req/s p50 {latency['p50']:.2f} p99 {latency['p99']:.2f} ms"
    if sample.cpu_ms_per_request is not None:
        text += f", server cpu {sample.cpu_ms_per_request:.3f} ms/req"
    if sample.others_share is not None:
        text += f", others {sample.others_share:.0%}"
    return text


def run(options: RunOptions) -> list[Row]:
    console = options.console
    wrk_path = wrk.ensure_wrk(console)  # before the data: a missing tool fails at once
    with tempfile.TemporaryDirectory(prefix="refundflow-bench-") as scratch:
        workdir = Path(scratch)
        database = workdir / "bench.db"
        with console.status("http: loading orders and requests through the services…"):
            data = dataset.build(
                database,
                order_count=ORDERS,
                lines_per_order=LINES_PER_ORDER,
                request_count=SEEDED_REQUESTS,
            )
        pairs = _pairs(data)
        with serving(database, workdir / "server.log") as server:
            bench = _Bench(wrk_path, server, data.token, workdir, options)
            rows = []
            for pair in pairs:
                if options.verbose:
                    console.print(f"[bold]{pair.subject.label}[/bold] vs {pair.baseline.label}")
                with console.status(f"http: {pair.subject.label} vs {pair.baseline.label}…"):
                    rows.append(bench.run_pair(pair))
        creates = pairs[0].subject.cursor - data.pairs_used
        notes = {
            "orders": ORDERS,
            "lines_per_order": LINES_PER_ORDER,
            "seeded_requests": SEEDED_REQUESTS,
            "creates_sent_at_most": creates,
            "requests_per_order_at_end": round((data.pairs_used + creates) / ORDERS, 1),
            "server": "1 uvicorn process, uvloop + httptools, SQLite WAL, no worker",
            "load": f"wrk, 1 thread, {options.connections} keep-alive connections",
        }
    return [replace(row, notes={**row.notes, **notes}) for row in rows]
