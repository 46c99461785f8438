"""Time 关爱服务's report figures over the data of gen_care (about 1,000,000 visits).

    .venv/bin/python bench/bench_care.py --db sqlite
    .venv/bin/python bench/bench_care.py --db postgres
    .venv/bin/python bench/bench_care.py --db postgres --explain        # plans of the root's queries
    .venv/bin/python bench/bench_care.py --db sqlite --explain group   # … of one group's

Through the real code, in one process: ``care.report.facts`` for the federation (all
100,000 members), one 基层工会 and one of its groups, over a year; then
``reports.registry.compute`` for the federation (every app's figures, the roster's
too); then the real ``gonghui report`` command in a new process. Each case gets warm-up
runs, then ``--runs`` timed ones, the cases taking turns, so that a busy neighbour on
the machine slows them all alike. It prints p50 / p95 / max in ms and the SQL queries
per call, then each query of the federation's figures timed alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import benchenv

#: What each query of ``care.report.facts`` reads, by the table it selects from.
LABELS = {
    "care_visit": "慰问 visits: count, amount, sick, retirees, birthdays",
    "care_hardshipfile": "在档困难职工 hardship files on file",
    "care_subsidy": "发放补助 subsidies paid",
    "care_donation": "捐款 donations: amount, donors",
    "care_coverageprogramme": "投保率: any programme?",
    "members_member": "投保率: members on the roster",
}


@dataclass
class Case:
    key: str
    label: str
    union: Any
    times: list[float] = field(default_factory=list)
    queries: int = 0
    facts: list[Any] = field(default_factory=list)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def stats(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} | {percentile(values, 95):.1f} | {max(values):.1f}"


def label(sql: str) -> str:
    found = re.search(r'FROM "(\w+)"', sql)
    table = found.group(1) if found else "?"
    text = LABELS.get(table, table)
    if table == "members_member" and "care_enrolment" in sql:
        text = "投保率: of them enrolled"
    return text


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def build_cases(args: argparse.Namespace) -> list[Case]:

    from gonghui.org.models import Union

    root = Union.objects.get(code=benchenv.ROOT_CODE)
    union = Union.objects.get(code=args.union_code)
    group = benchenv.largest_group(union)
    return [
        Case("root", f"{root.name}（全部）", root),
        Case("union", f"基层工会 {union.name}", union),
        Case("group", f"工会小组 {union.name}·{group.name}", group),
    ]


def measure(cases: list[Case], period: Any, runs: int, warmup: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gonghui.care.report import facts

    for case in cases:
        for _ in range(warmup):
            facts(union=case.union, period=period)
        with CaptureQueriesContext(connection) as ctx:
            case.facts = facts(union=case.union, period=period)
        case.queries = len(ctx.captured_queries)
    for _ in range(runs):
        for case in cases:
            started = time.perf_counter()
            facts(union=case.union, period=period)
            case.times.append((time.perf_counter() - started) * 1000)


def captured(union: Any, period: Any) -> list[str]:
    """The SQL of one call of ``facts``, as sent."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gonghui.care.report import facts

    with CaptureQueriesContext(connection) as ctx:
        facts(union=union, period=period)
    return [q["sql"] for q in ctx.captured_queries]


def per_query(union: Any, period: Any, runs: int) -> list[tuple[str, float, float]]:
    """Each query of ``facts`` run alone (the SQL as sent, through a cursor): p50, max ms."""
    from django.db import connection

    found = []
    for sql in captured(union, period):
        times = []
        with connection.cursor() as cursor:
            for _ in range(runs):
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
        found.append((label(sql), statistics.median(times), max(times)))
    return found


def explain(case: Case, period: Any) -> None:
    """The plan of each query of ``facts`` for ``case``: PostgreSQL's as run (EXPLAIN
    ANALYZE), SQLite's as planned (EXPLAIN QUERY PLAN) with the query's time alone."""
    from django.db import connection

    print(f"## {case.label}, {period}\n")
    with connection.cursor() as cursor:
        for i, sql in enumerate(captured(case.union, period), start=1):
            print(f"### {i}. {label(sql)}\n\n{sql}\n")
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                print("\n".join(row[0] for row in cursor.fetchall()))
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                depth: dict[int, int] = {0: 0}
                for node, parent, _, detail in cursor.fetchall():
                    depth[node] = depth.get(parent, 0) + 1
                    print("  " * depth[node] + detail)
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                print(f"({(time.perf_counter() - started) * 1000:.1f} ms)")
            print()


def compute_times(root: Any, period: Any, runs: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gonghui.reports.registry import compute

    compute(root, period)
    with CaptureQueriesContext(connection) as ctx:
        compute(root, period)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        compute(root, period)
        times.append((time.perf_counter() - started) * 1000)
    return times, len(ctx.captured_queries)


def counts(period: Any) -> str:
    from gonghui.care.models import Donation, Enrolment, HardshipFile, Subsidy, Visit
    from gonghui.members.models import Member

    rows = [
        ("visits", Visit.objects.count()),
        (
            f"of them valid in {period.start.year}",
            Visit.objects.filter(state="valid", date__year=period.start.year).count(),
        ),
        ("members", Member.objects.count()),
        ("hardship files", HardshipFile.objects.count()),
        ("subsidies", Subsidy.objects.count()),
        ("donations", Donation.objects.count()),
        ("enrolments", Enrolment.objects.count()),
    ]
    return ", ".join(f"{n:,} {what}" for what, n in rows)


def table(db: str, cases: list[Case], period: Any, extra: dict[str, Any], loads: list[str]) -> str:
    med = statistics.median
    root = cases[0]
    lines = [
        f"**{db}** · {extra['counts']} · {len(root.times)} runs per case after warm-up · "
        f"load average (1/5/15 min) before {loads[0]}, after {loads[1]}",
        "",
        "| case | p50 ms | p95 ms | max ms | SQL queries | care.visits | < 1 s (p95) |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for case in cases:
        visits = next(f.value for f in case.facts if f.key == "care.visits")
        ok = "yes" if percentile(case.times, 95) < 1000 else "**no**"
        lines.append(
            f"| `care.report.facts` · {case.label} | {stats(case.times)} | {case.queries} "
            f"| {visits:,} | {ok} |"
        )
    times, queries = extra["compute"]
    lines.append(
        f"| `reports.registry.compute` · {root.label}, all sections | {stats(times)} "
        f"| {queries} | | {'yes' if percentile(times, 95) < 1000 else '**no**'} |"
    )
    if extra.get("command"):
        c = extra["command"]
        lines.append(
            f"| `{c['cmd']}` (new process, {len(c['times'])} runs; of it starting Django "
            f"≈ {med(c['startup']):.0f} ms) | {med(c['times']):.0f} | {percentile(c['times'], 95):.0f} "
            f"| {max(c['times']):.0f} | | | |"
        )
    lines += [
        "",
        f"Each query of `care.report.facts` for {root.label}, alone (SQL as sent, p50 / max ms):",
        "",
    ]
    lines += ["| # | reads | p50 ms | max ms |", "|---:|---|---:|---:|"]
    for i, (what, p50, top) in enumerate(extra["queries"], start=1):
        lines.append(f"| {i} | {what} | {p50:.1f} | {top:.1f} |")
    lines += [
        "",
        f"Facts ({root.label}, {period}): " + ", ".join(f"{f.key} = {f.value}" for f in root.facts),
    ]
    in_process = {f.key: f.value for f in root.facts}
    if extra.get("command") and (differs := benchenv.command_differs(extra["command"], in_process)):
        lines.append(differs)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=20, help="每项计时次数")
    parser.add_argument("--warmup", type=int, default=3, help="每项预热次数")
    parser.add_argument("--report-runs", type=int, default=5, help="gonghui report 运行次数")
    parser.add_argument("--year", type=int, default=2025, help="统计年度")
    parser.add_argument("--union-code", default="JC07", help="基层工会代码")
    parser.add_argument(
        "--explain",
        nargs="?",
        const="root",
        choices=["root", "union", "group"],
        help="打印各查询的执行计划（默认：总工会）",
    )
    parser.add_argument("--no-report", action="store_true", help="不测 gonghui report 命令")
    parser.add_argument("--json", metavar="FILE", help="另存原始计时")
    args = parser.parse_args(argv)
    url = benchenv.configure(args.db)

    from django.db import connection

    from gonghui.care.models import Visit
    from gonghui.common.reporting import Period

    if not Visit.objects.exists():
        sys.exit(
            f"库中没有慰问记录：请先运行 bench/gen_roster.py 和 bench/gen_care.py --db {args.db}。"
        )
    period = Period.year(args.year)
    cases = build_cases(args)
    if args.explain:
        explain(next(c for c in cases if c.key == args.explain), period)
        return 0
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else ""
    loads = [load_average()]
    print(
        f"{connection.vendor} {version} · load average {loads[0]} · {len(cases)} cases × "
        f"({args.warmup} warm-up + {args.runs}) runs …",
        file=sys.stderr,
        flush=True,
    )
    measure(cases, period, args.runs, args.warmup)
    extra: dict[str, Any] = {
        "counts": counts(period),
        "queries": per_query(cases[0].union, period, max(5, args.runs // 2)),
        "compute": compute_times(cases[0].union, period, args.runs),
    }
    if not args.no_report:
        extra["command"] = benchenv.report_command(cases[0].union, period, url, args.report_runs)
        if "failed" in extra["command"]:
            sys.exit(f"gonghui report {extra['command']['failed']}")
    loads.append(load_average())
    print(table(args.db, cases, period, extra, loads))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "db": args.db,
                    "load": loads,
                    "cases": [{"case": c.key, "ms": c.times, "queries": c.queries} for c in cases],
                    "compute_ms": extra["compute"][0],
                    "command": extra.get("command"),
                    "per_query": extra["queries"],
                },
                fh,
                ensure_ascii=False,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
