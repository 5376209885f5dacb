"""``python -m bench [-v] [--only SUITE]``: run the suites, print one table, save the JSON."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console

from bench import report
from bench.errors import BenchError
from bench.options import RunOptions
from bench.rows import Row
from bench.suites import SUITES

BUSY = 0.15  # the share of all CPUs taken by other programs above which figures are suspect


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every round")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SUITES),
        metavar="SUITE",
        help=f"run only this suite (repeatable): {', '.join(sorted(SUITES))}",
    )
    defaults = RunOptions()
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="per round")
    parser.add_argument("--warmup", type=float, default=defaults.warmup, help="per endpoint")
    parser.add_argument("--connections", type=int, default=defaults.connections)
    parser.add_argument("--output", type=Path, default=report.RESULTS, help="results JSON")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a row misses its target")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Piped output (make bench | tee) would otherwise wrap the 11-column table at 80.
    console = Console(width=None if sys.stdout.isatty() else 160)
    options = RunOptions(
        rounds=args.rounds,
        seconds=args.seconds,
        warmup=args.warmup,
        connections=args.connections,
        verbose=args.verbose,
        console=console,
    )
    machine = report.machine()
    busy = machine["cpu_busy_at_start"]
    if busy is not None and busy > BUSY:
        console.print(
            f"[yellow]other programs keep {busy:.0%} of the CPUs busy: expect low, noisy "
            "figures[/yellow]"
        )
    rows: list[Row] = []
    started = time.monotonic()
    try:
        for name in args.only or list(SUITES):
            suite = SUITES[name]
            console.print(f"[bold]{name}[/bold]: {suite.summary}")
            rows += suite.run(options)
    except BenchError as exc:
        console.print(f"[bold red]bench failed:[/bold red] {exc}", highlight=False)
        return 1
    console.print(report.table(rows))
    for row in rows:
        if row.others_cpu_share is not None and row.others_cpu_share > BUSY:
            console.print(
                f"[yellow]{row.label}: other programs took {row.others_cpu_share:.0%} of the "
                "CPUs while it was measured; run again on a quieter machine[/yellow]"
            )
    report.write_results(rows, options.as_json(), path=args.output, started=machine)
    console.print(
        f"{machine['cpu_count']} CPUs, {machine['platform']}; "
        f"took {time.monotonic() - started:.0f} s; figures saved to {args.output}"
    )
    if args.strict and any(row.met is False for row in rows):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
