"""The roster on 100,000 members, side by side with Django's admin on the same rows.

    .venv/bin/python bench/gen_roster.py --db sqlite      # once: fill the database
    .venv/bin/python bench/bench_roster.py --db sqlite    # print the table

Every request goes through the real login (``Client.login`` → the lockout backend, a
database session) and the real scope: the roster as the chair of the federation (all
100,000 members) and as a branch officer (分工会主席, a few hundred); the admin as a
superuser. Each case gets a few warm-up requests, then ``--requests`` timed ones. The
cases take turns request by request, so a noisy neighbour on the machine slows them all
alike rather than whichever case happened to be running. Then ``gonghui report --format
json`` over the whole federation: the real command in a fresh process, several times.

``--explain`` prints the query plans of the roster's queries for each case; ``--profile
NAME`` profiles one case (cProfile) instead of timing the table.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import math
import pstats
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import benchenv

#: What the issue measured for the admin here (medians, ms), for the closing line.
ISSUE_ADMIN = {"page": 32, "name": 64, "union": 38}


@dataclass
class Case:
    key: str  # the row of the table
    who: str  # chair | officer | admin
    url: str
    times: list[float] = field(default_factory=list)
    queries: int = 0
    rows: str = ""

    @property
    def name(self) -> str:
        return f"{self.who}:{self.key}"


ROWS = [
    ("page", "名册第 1 页"),
    ("name", "姓名搜索"),
    ("initials", "拼音首字母搜索 zs"),
    ("union", "筛选：一个基层工会"),
    ("group", "筛选：一个工会小组"),
    ("as_of", "年末在册（报告数字的名单）"),
]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def login(username: str) -> Any:
    from django.test import Client

    client = Client()
    if not client.login(username=username, password=benchenv.PASSWORD):
        sys.exit(f"无法以 {username} 登录：请先运行 bench/gen_roster.py。")
    return client


_OURS_COUNT = re.compile(r"共 (\d+) 人")
# The admin prints "N 条结果。 (总共 M)" when filtered, and "N 会员" under the pages.
_ADMIN_COUNT = re.compile(r"(\d+) 条结果|(\d+) 会员\s*</p>")


def result_count(case: Case, html: str) -> str:
    pattern = _ADMIN_COUNT if case.who == "admin" else _OURS_COUNT
    m = pattern.search(html)
    if not m:
        return "?"
    return next(g for g in m.groups() if g)


def build_cases(args: argparse.Namespace) -> tuple[list[Case], dict[str, Any]]:
    from django.db.models import Count
    from django.db.models.functions import Length

    from gonghui.members.models import Member
    from gonghui.org.choices import UnionKind
    from gonghui.org.models import RoleAssignment, Union, subtree_q

    root = Union.objects.get(code=benchenv.ROOT_CODE)
    union = Union.objects.get(code=args.union_code)
    group = benchenv.largest_group(union)
    branch = RoleAssignment.objects.select_related("union").get(user__username=benchenv.OFFICER)
    officer_group = (
        Union.objects.filter(subtree_q(branch.union.path), kind=UnionKind.GROUP)
        .annotate(n=Count("members"))
        .order_by("-n", "pk")
        .first()
    )
    assert group is not None and officer_group is not None
    name = args.name
    if not name:
        # The most common two-character name: a search many people will match.
        name = (
            Member.objects.annotate(n=Length("name"))
            .filter(n=2)
            .values("name")
            .annotate(c=Count("pk"))
            .order_by("-c", "name")
            .values_list("name", flat=True)
            .first()
        )
    q = args.initials
    # The list behind members.total: who was 在册 at the end of last year, from the history.
    as_of = f"/members/?status=active&as_of={dt.date.today().year - 1}-12-31"
    cases = [
        Case("page", "chair", "/members/"),
        Case("name", "chair", f"/members/?q={name}"),
        Case("initials", "chair", f"/members/?q={q}"),
        Case("union", "chair", f"/members/?union={union.pk}"),
        Case("group", "chair", f"/members/?union={group.pk}"),
        Case("as_of", "chair", as_of),
        Case("page", "officer", "/members/"),
        Case("name", "officer", f"/members/?q={name}"),
        Case("initials", "officer", f"/members/?q={q}"),
        Case("group", "officer", f"/members/?union={officer_group.pk}"),
        Case("as_of", "officer", as_of),
        Case("page", "admin", "/admin/members/member/"),
        Case("name", "admin", f"/admin/members/member/?q={name}"),
        Case("initials", "admin", f"/admin/members/member/?q={q}"),
        # The admin's filter is on the union itself; ours is its subtree (see README).
        Case("union", "admin", f"/admin/members/member/?union__id__exact={union.pk}"),
        Case("group", "admin", f"/admin/members/member/?union__id__exact={group.pk}"),
    ]
    if args.only:
        cases = [c for c in cases if c.name in args.only or c.key in args.only]
    info = {
        "root": root,
        "union": union,
        "group": group,
        "branch": branch.union,
        "officer_group": officer_group,
        "name": name,
        "members": Member.objects.count(),
    }
    return cases, info


def measure(cases: list[Case], clients: dict[str, Any], requests: int, warmup: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for case in cases:
        with CaptureQueriesContext(connection) as ctx:
            response = clients[case.who].get(case.url)
        if response.status_code != 200:
            sys.exit(f"{case.name} {case.url} → HTTP {response.status_code}")
        case.queries = len(ctx.captured_queries)
        case.rows = result_count(case, response.content.decode())
    for i in range(warmup + requests):
        for case in cases:
            client = clients[case.who]
            started = time.perf_counter()
            response = client.get(case.url)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (case.name, response.status_code)
            if i >= warmup:
                case.times.append(elapsed * 1000)


def report_timings(root: Any, url: str, runs: int) -> dict[str, Any]:
    """``gonghui report`` over the federation: the real command, and the figures alone."""
    from gonghui.common.reporting import Period
    from gonghui.reports.registry import compute

    period = Period.year(dt.date.today().year - 1)
    command = benchenv.report_command(root, period, url, runs)
    if "failed" in command:
        sys.exit(f"gonghui report {command['failed']}")
    compute_times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        compute(root, period)
        if i:
            compute_times.append((time.perf_counter() - started) * 1000)
    return {
        "cmd": command["cmd"],
        "command": command["times"],
        "startup": command["startup"],
        "compute": compute_times,
        "facts": command["facts"],
    }


def explain(cases: list[Case], clients: dict[str, Any]) -> None:
    """The plans of the roster list's two queries (count, page) for each of our cases."""
    from django.conf import settings
    from django.db.models import QuerySet
    from django.http import QueryDict

    from gonghui.members import queries
    from gonghui.members.forms import RosterFilterForm
    from gonghui.org.models import User

    for case in cases:
        if case.who == "admin":
            continue
        user = User.objects.get(
            username=benchenv.CHAIR if case.who == "chair" else benchenv.OFFICER
        )
        params = QueryDict(urlsplit(case.url).query)
        form = RosterFilterForm(params or None, viewer=user)
        pages = queries.roster_pages(
            user, form.to_filter() if params else None, settings.GONGHUI_PAGE_SIZE
        )
        print(f"\n### {case.name}  {case.url}\n")
        print("count:\n" + pages.queryset.order_by().explain())
        page = pages.page(1).object_list
        assert isinstance(page, QuerySet)
        print("page 1:\n" + page.explain())


def profile(case: Case, clients: dict[str, Any], requests: int) -> None:
    client = clients[case.who]
    for _ in range(3):
        client.get(case.url)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(requests):
        client.get(case.url)
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(60)
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def table(db: str, cases: list[Case], info: dict[str, Any], report: dict[str, Any] | None) -> str:
    by = {(c.who, c.key): c for c in cases}

    def cell(who: str, key: str) -> str:
        c = by.get((who, key))
        if not c or not c.times:
            return "—"
        return f"{statistics.median(c.times):.1f} / {percentile(c.times, 95):.1f}"

    def rows(who: str, key: str) -> str:
        c = by.get((who, key))
        return f"{c.rows} ({c.queries}q)" if c else "—"

    lines = [
        f"**{db}** · {info['members']:,} members · {len(next(iter(cases)).times)} requests per "
        f"case · p50 / p95 in ms · rows found (SQL queries per request)",
        "",
        "| case | ours, chair (all) | rows | ours, branch officer | rows "
        "| Django admin, superuser | rows | ours ≤ admin (p50) |",
        "|---|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for key, label in ROWS:
        ours = by.get(("chair", key))
        admin = by.get(("admin", key))
        verdict = "—"
        if ours and admin and ours.times and admin.times:
            ok = statistics.median(ours.times) <= statistics.median(admin.times)
            verdict = "yes" if ok else "**no**"
        lines.append(
            f"| {label} | {cell('chair', key)} | {rows('chair', key)} "
            f"| {cell('officer', key)} | {rows('officer', key)} "
            f"| {cell('admin', key)} | {rows('admin', key)} | {verdict} |"
        )
    lines += [
        "",
        f"Name searched: 「{info['name']}」; union: {info['union'].name} "
        f"(id {info['union'].pk}); group: {info['group'].name} of it (id {info['group'].pk}); "
        f"officer: {info['branch'].name}, group {info['officer_group'].name} "
        f"(id {info['officer_group'].pk}).",
    ]
    if report:
        med = statistics.median
        lines += [
            "",
            f"`{report['cmd']}` over {info['root'].name} ({len(report['command'])} runs): "
            f"command median {med(report['command']):.0f} ms "
            f"(min {min(report['command']):.0f}, max {max(report['command']):.0f}), of which "
            f"starting Django ≈ {med(report['startup']):.0f} ms; the figures alone "
            f"(`reports.registry.compute`, in process) median {med(report['compute']):.0f} ms "
            f"(max {max(report['compute']):.0f}).",
            "",
            "Facts: " + ", ".join(f"{k} = {v}" for k, v in report["facts"].items()),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=50, help="每项计时的请求数")
    parser.add_argument("--warmup", type=int, default=5, help="每项预热请求数")
    parser.add_argument("--report-runs", type=int, default=5, help="gonghui report 运行次数")
    parser.add_argument("--union-code", default="JC07", help="筛选用的基层工会代码")
    parser.add_argument("--name", default="", help="姓名搜索词（默认：最常见的两字姓名）")
    parser.add_argument("--initials", default="zs", help="拼音首字母搜索词")
    parser.add_argument("--only", nargs="*", help="只跑这些项（如 chair:page 或 page）")
    parser.add_argument("--explain", action="store_true", help="打印我们各项查询的执行计划")
    parser.add_argument("--profile", metavar="CASE", help="用 cProfile 剖析一项（如 chair:page）")
    parser.add_argument("--no-report", action="store_true", help="不测 gonghui report")
    parser.add_argument("--json", metavar="FILE", help="另存原始计时")
    args = parser.parse_args(argv)
    url = benchenv.configure(args.db)

    from django.db import connection

    cases, info = build_cases(args)
    if not info["members"]:
        sys.exit("库中没有会员：请先运行 bench/gen_roster.py。")
    clients = {
        "chair": login(benchenv.CHAIR),
        "officer": login(benchenv.OFFICER),
        "admin": login(benchenv.ADMIN),
    }
    if args.explain:
        explain(cases, clients)
        return 0
    if args.profile:
        found = [c for c in cases if c.name == args.profile]
        if not found:
            sys.exit(f"没有这一项：{args.profile}；可选：{', '.join(c.name for c in cases)}")
        profile(found[0], clients, args.requests)
        return 0
    print(
        f"{connection.vendor} {connection.Database.sqlite_version if connection.vendor == 'sqlite' else ''}"
        f" · {info['members']:,} members · {len(cases)} cases × "
        f"({args.warmup} warm-up + {args.requests}) requests …",
        file=sys.stderr,
        flush=True,
    )
    measure(cases, clients, args.requests, args.warmup)
    report = None if args.no_report else report_timings(info["root"], url, args.report_runs)
    print(table(args.db, cases, info, report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {
                    "db": args.db,
                    "cases": [
                        {"name": c.name, "url": c.url, "ms": c.times, "queries": c.queries}
                        for c in cases
                    ],
                    "report": report,
                },
                fh,
                ensure_ascii=False,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
