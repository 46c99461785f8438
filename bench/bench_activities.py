"""Time 文体活动与培训's and 荣誉's report figures over the data of gen_activities.

    .venv/bin/python bench/bench_activities.py --db sqlite
    .venv/bin/python bench/bench_activities.py --db postgres
    .venv/bin/python bench/bench_activities.py --db postgres --explain        # the root's plans
    .venv/bin/python bench/bench_activities.py --db sqlite --explain union   # … one 基层工会's
    .venv/bin/python bench/bench_activities.py --db sqlite --by-branch       # and the 参与率 page

Through the real code, in one process: ``activities.report.facts`` and
``honours.report.facts`` for the federation (all 100,000 members, 50,000 activities,
2,000,000 registrations), one 基层工会 and its largest group, over a year (2025: every
activity of it has begun, so all count). Each case gets warm-up calls, then ``--runs``
timed ones, the cases taking turns, so that a busy neighbour on the machine slows them
all alike; the SQL queries per call are counted with ``CaptureQueriesContext``. Then
each query of the federation's figures alone (its SQL as sent, through a cursor);
``reports.registry.compute`` for the federation (every section of the report); and the
real ``gonghui report`` command in a new process. The load average is printed before
and after. ``--by-branch`` adds the figures of the 参与率 page (``period_participation``
and ``participation_by_branch``, as ``activities.views.participation`` calls them) for
the federation and the 基层工会 as two more cases. ``--explain`` prints each query's
plan instead: PostgreSQL's as run (``EXPLAIN (ANALYZE, BUFFERS)``, or as planned when it
would not finish), SQLite's as planned (``EXPLAIN QUERY PLAN``) with the query's time.

A query that runs longer than ``--timeout`` seconds is stopped (PostgreSQL's
``statement_timeout``; on SQLite a progress handler) and its case reported as such,
rather than waiting for it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import benchenv
from bench_care import load_average, percentile, stats

#: What each query reads, by the table it selects from.
LABELS = {
    "activities_activity": "活动 activities: count, training sessions, hours",
    "activities_registration": "签到 attendance: all, training",
    "activities_award": "获奖 awards",
    "members_member": "参与率 participation: on the roster at year end",
    "honours_honour": "荣誉 honours: individual, collective",
}
#: The figure shown beside each case.
HEADLINE = {"activities": "activities.attendance", "honours": "honours.individual"}


class TimedOut(Exception):
    pass


class Limit:
    """Stop any query that runs past ``seconds``: PostgreSQL's ``statement_timeout``;
    on SQLite a progress handler that interrupts the statement."""

    def __init__(self, seconds: float) -> None:
        from django.db import connection

        self.seconds = seconds
        self.until = float("inf")
        self.connection = connection
        connection.ensure_connection()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(seconds * 1000)}")
        else:
            connection.connection.set_progress_handler(self._interrupt, 20_000)

    def _interrupt(self) -> int:
        return 1 if time.perf_counter() > self.until else 0

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(…)``, or ``TimedOut`` if one of its queries ran too long."""
        from django.db import OperationalError

        self.until = time.perf_counter() + self.seconds
        try:
            return fn(*args, **kwargs)
        except OperationalError as e:
            text = str(e)
            if "statement timeout" in text or "interrupted" in text:
                raise TimedOut(f"> {self.seconds:g} s") from None
            raise
        finally:
            self.until = float("inf")


@dataclass
class Case:
    key: str  # "root", "union", "group"
    app: str  # "activities", "honours"; "participation" for the 参与率 page
    label: str
    union: Any
    fn: Callable[..., Any]
    times: list[float] = field(default_factory=list)
    queries: int = 0
    facts: Any = None  # what fn returned: the report's facts, or the page's figures
    failed: str = ""

    @property
    def name(self) -> str:
        if self.app == "participation":
            return (
                f"参与率 page (`period_participation` + `participation_by_branch`) · {self.label}"
            )
        return f"`{self.app}.report.facts` · {self.label}"

    @property
    def figure(self) -> str:
        if self.app == "participation":
            overall, branches = self.facts
            return f"participation = {overall.rate}% ({len(branches)} unions below)"
        key = HEADLINE[self.app]
        value = next(f.value for f in self.facts if f.key == key)
        return f"{key} = {value:,}"


def participation_page(*, union: Any, period: Any) -> tuple[Any, list[Any]]:
    """The figures of the 参与率 page, as ``activities.views.participation`` gets them."""
    from gonghui.activities.queries import participation_by_branch, period_participation

    return period_participation(union, period), participation_by_branch(union, period)


def label(sql: str) -> str:
    # The outer FROM: a subquery's table has an alias (U0).
    found = re.search(r'FROM "(\w+)"(?!\s+[A-Z]\d)', sql)
    table = found.group(1) if found else "?"
    text = LABELS.get(table, table)
    if table == "members_member" and "activities_registration" in sql:
        text += ", of them attended"
    return text


def build_cases(args: argparse.Namespace) -> list[Case]:

    from gonghui.activities.report import facts as activity_facts
    from gonghui.honours.report import facts as honour_facts
    from gonghui.org.models import Union

    root = Union.objects.get(code=benchenv.ROOT_CODE)
    union = Union.objects.get(code=args.union_code)
    group = benchenv.largest_group(union)
    found = []
    for app, fn in (("activities", activity_facts), ("honours", honour_facts)):
        found += [
            Case("root", app, f"{root.name}（全部）", root, fn),
            Case("union", app, f"基层工会 {union.name}", union, fn),
            Case("group", app, f"工会小组 {union.name}·{group.name}", group, fn),
        ]
    if args.by_branch:  # (a group has no unions below it: its page is one count)
        found += [
            Case("root", "participation", f"{root.name}（全部）", root, participation_page),
            Case("union", "participation", f"基层工会 {union.name}", union, participation_page),
        ]
    return found


def sent(ctx: Any) -> list[str]:
    """The queries a context captured."""
    return [q["sql"] for q in ctx.captured_queries]


def measure(cases: list[Case], period: Any, runs: int, warmup: int, limit: Limit) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for case in cases:
        try:
            for _ in range(warmup):
                limit.call(case.fn, union=case.union, period=period)
            with CaptureQueriesContext(connection) as ctx:
                case.facts = limit.call(case.fn, union=case.union, period=period)
            case.queries = len(sent(ctx))
        except TimedOut as e:
            case.failed = str(e)
    for _ in range(runs):
        for case in cases:
            if case.failed:
                continue
            started = time.perf_counter()
            case.fn(union=case.union, period=period)
            case.times.append((time.perf_counter() - started) * 1000)


def captured(case: Case, period: Any, limit: Limit) -> list[str]:
    """The SQL of one call, as sent (also when a query of it was stopped)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx, contextlib.suppress(TimedOut):
        limit.call(case.fn, union=case.union, period=period)
    return sent(ctx)


def per_query(
    cases: list[Case], period: Any, runs: int, limit: Limit
) -> list[tuple[str, float | None, float | str]]:
    """Each query of the root's figures run alone (the SQL as sent): p50, max ms."""
    from django.db import connection

    def run(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            cursor.fetchall()

    found: list[tuple[str, float | None, float | str]] = []
    for case in cases:
        if case.key != "root" or case.app == "participation":
            continue
        for sql in captured(case, period, limit):
            times = []
            try:
                for _ in range(runs):
                    started = time.perf_counter()
                    limit.call(run, sql)
                    times.append((time.perf_counter() - started) * 1000)
            except TimedOut as e:
                found.append((label(sql), None, str(e)))
                continue
            found.append((label(sql), statistics.median(times), max(times)))
    return found


def explain(cases: list[Case], period: Any, limit: Limit) -> None:
    from django.db import connection

    def run(cursor: Any, sql: str) -> list[Any]:
        cursor.execute(sql)
        return cursor.fetchall()

    for case in cases:
        print(f"## {case.name}, {period}\n")
        with connection.cursor() as cursor:
            for i, sql in enumerate(captured(case, period, limit), start=1):
                print(f"### {i}. {label(sql)}\n\n{sql}\n")
                if connection.vendor == "postgresql":
                    try:
                        rows = limit.call(run, cursor, "EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    except TimedOut as e:
                        print(f"(EXPLAIN ANALYZE stopped: {e}; the plan as estimated)")
                        rows = run(cursor, "EXPLAIN " + sql)
                    print("\n".join(row[0] for row in rows))
                else:
                    depth: dict[int, int] = {0: 0}
                    for node, parent, _, detail in run(cursor, "EXPLAIN QUERY PLAN " + sql):
                        depth[node] = depth.get(parent, 0) + 1
                        print("  " * depth[node] + detail)
                    started = time.perf_counter()
                    try:
                        limit.call(run, cursor, sql)
                        print(f"({(time.perf_counter() - started) * 1000:.1f} ms)")
                    except TimedOut as e:
                        print(f"(stopped: {e})")
                print()


def compute_times(root: Any, period: Any, runs: int, limit: Limit) -> dict[str, Any]:
    """``reports.registry.compute`` for the root: every section of the report."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gonghui.reports.registry import compute

    try:
        limit.call(compute, root, period)
        with CaptureQueriesContext(connection) as ctx:
            limit.call(compute, root, period)
    except TimedOut as e:
        return {"failed": str(e)}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        compute(root, period)
        times.append((time.perf_counter() - started) * 1000)
    return {"times": times, "queries": len(sent(ctx))}


def counts(period: Any) -> str:
    from gonghui.activities.models import Activity, Award, Registration
    from gonghui.honours.models import Honour

    year = period.start.year
    rows = [
        ("activities", Activity.objects.count()),
        (f"{year:d}", Activity.objects.filter(start_date__year=year).count()),
        ("registrations", Registration.objects.count()),
        ("awards", Award.objects.count()),
        ("honours", Honour.objects.count()),
    ]
    text = ", ".join(f"{n:,} {what}" for what, n in rows)
    return text.replace(f" {year:d},", f" of them in {year:d},")


def table(db: str, cases: list[Case], period: Any, extra: dict[str, Any], loads: list[str]) -> str:
    med = statistics.median
    root = cases[0]
    runs = max(len(c.times) for c in cases)
    lines = [
        f"**{db}** · {extra['counts']} · {runs} runs per case after warm-up · "
        f"load average (1/5/15 min) before {loads[0]}, after {loads[1]}",
        "",
        "| case | p50 ms | p95 ms | max ms | SQL queries | figure | < 1 s (p95) |",
        "|---|---:|---:|---:|---:|---|:---:|",
    ]

    def ok(times: list[float]) -> str:
        return "yes" if percentile(times, 95) < 1000 else "**no**"

    for case in cases:
        if case.failed:
            lines.append(f"| {case.name} | stopped: {case.failed} | | | | | **no** |")
            continue
        lines.append(
            f"| {case.name} | {stats(case.times)} | {case.queries} | {case.figure} "
            f"| {ok(case.times)} |"
        )
    c = extra["compute"]
    name = f"`reports.registry.compute` · {root.label}, all sections"
    if "failed" in c:
        lines.append(f"| {name} | stopped: {c['failed']} | | | | | **no** |")
    else:
        lines.append(f"| {name} | {stats(c['times'])} | {c['queries']} | | {ok(c['times'])} |")
    c = extra.get("command")
    if c and "failed" in c:
        lines.append(f"| `{c['cmd']}` (new process) | {c['failed']} | | | | | **no** |")
    elif c:
        lines.append(
            f"| `{c['cmd']}` (new process, {len(c['times'])} runs; of it starting Django "
            f"≈ {med(c['startup']):.0f} ms) | {med(c['times']):.0f} | "
            f"{percentile(c['times'], 95):.0f} | {max(c['times']):.0f} | | | |"
        )
    lines += [
        "",
        f"Each query of the figures for {root.label}, alone (SQL as sent, p50 / max ms):",
        "",
        "| # | reads | p50 ms | max ms |",
        "|---:|---|---:|---:|",
    ]
    for i, (what, p50, top) in enumerate(extra["queries"], start=1):
        if p50 is None:
            lines.append(f"| {i} | {what} | stopped: {top} | |")
        else:
            lines.append(f"| {i} | {what} | {p50:.1f} | {top:.1f} |")
    report_cases = [c for c in cases if c.key == "root" and c.app != "participation"]
    facts = [f for c in report_cases if not c.failed for f in c.facts]
    if facts:
        lines += [
            "",
            f"Facts ({root.label}, {period}): " + ", ".join(f"{f.key} = {f.value}" for f in facts),
        ]
    c = extra.get("command")
    if c and facts and (differs := benchenv.command_differs(c, {f.key: f.value for f in facts})):
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
        "--timeout", type=float, default=60, help="单条查询超过此秒数即中止并记为失败"
    )
    parser.add_argument(
        "--explain",
        nargs="?",
        const="root",
        choices=["root", "union", "group"],
        help="打印各查询的执行计划（默认：总工会）",
    )
    parser.add_argument(
        "--by-branch",
        action="store_true",
        help="另测参与率页的数字（总工会、基层工会的 participation_by_branch）",
    )
    parser.add_argument("--no-report", action="store_true", help="不测 gonghui report 命令")
    parser.add_argument("--json", metavar="FILE", help="另存原始计时")
    args = parser.parse_args(argv)
    url = benchenv.configure(args.db)

    from gonghui.activities.models import Activity

    if not Activity.objects.exists():
        sys.exit(
            f"库中没有活动：请先运行 bench/gen_roster.py 和 bench/gen_activities.py --db {args.db}。"
        )
    return run(args, url)


def run(args: argparse.Namespace, url: str) -> int:
    from django.db import connection

    from gonghui.common.reporting import Period

    limit = Limit(args.timeout)
    period = Period.year(args.year)
    cases = build_cases(args)
    if args.explain:
        explain([c for c in cases if c.key == args.explain], period, limit)
        return 0
    version = connection.Database.sqlite_version if connection.vendor == "sqlite" else ""
    loads = [load_average()]
    print(
        f"{connection.vendor} {version} · load average {loads[0]} · {len(cases)} cases × "
        f"({args.warmup} warm-up + {args.runs}) runs …",
        file=sys.stderr,
        flush=True,
    )
    measure(cases, period, args.runs, args.warmup, limit)
    extra: dict[str, Any] = {
        "counts": counts(period),
        "queries": per_query(cases, period, max(5, args.runs // 2), limit),
        "compute": compute_times(cases[0].union, period, args.runs, limit),
    }
    if not args.no_report:
        extra["command"] = benchenv.report_command(
            cases[0].union, period, url, args.report_runs, args.timeout
        )
    loads.append(load_average())
    print(table(args.db, cases, period, extra, loads))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "db": args.db,
                    "load": loads,
                    "cases": [
                        {
                            "case": c.key,
                            "app": c.app,
                            "ms": c.times,
                            "queries": c.queries,
                            "failed": c.failed,
                        }
                        for c in cases
                    ],
                    "compute": extra["compute"],
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
