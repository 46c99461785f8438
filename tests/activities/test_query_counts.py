"""Query counts pinned on the pages of 文体活动 and 荣誉 and on their figures: the same
with a few records and with many more (members signing up and attending, awards,
honours, club members, more activities), so a query per row fails here. When a change
adds a query on purpose, update the number and say why in the commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gonghui.activities import report, services
from gonghui.activities.models import Activity, Club
from gonghui.common.reporting import Period
from gonghui.honours import report as honours_report
from gonghui.honours import services as honour_services
from tests import factories as f
from tests.conftest import World, login

from . import records

TODAY = dt.date.today()
PERIOD = Period(TODAY - dt.timedelta(days=60), TODAY)


def seed(w: World) -> dict[str, int]:
    """One of each record in branch A1; returns the ids the detail pages need."""
    a = records.activity(w, capacity=100)
    services.register(actor=None, activity=a, member=w.member)
    services.attendance_mark(actor=None, activity=a, attended=[w.member])
    services.award_add(
        actor=None,
        activity=a,
        rank=1,
        prize="一等奖",
        prize_value=Decimal(200),
        member=w.member,
        confirm_over_cap=True,
    )
    club = records.club(w)
    services.club_join(actor=None, club=club, member=w.member)
    records.quiz_activity(w)
    honour_services.honour_create(
        actor=None,
        kind="individual",
        member=w.member,
        title="优秀教师",
        level="city",
        awarded_by="市教育局",
        date=TODAY,
    )
    return {"activity": a.pk, "club": club.pk}


def grow(w: World, ids: dict[str, int], n: int = 30) -> None:
    """``n`` more members of branch A1 who sign up, come, win, are honoured and join the
    club; a few more activities of every kind for the lists."""
    a = Activity.objects.get(pk=ids["activity"])
    club = Club.objects.get(pk=ids["club"])
    people = [f.member(w.group, f"王{i:02d}", employee_no=f"W{i:03d}") for i in range(n)]
    extra = [
        records.activity(w, "教工篮球赛", start_date=TODAY - dt.timedelta(days=3)),
        records.activity(w, "暑期培训", category="training", hours=Decimal(6), start_date=TODAY),
        records.activity(w, "合唱排练", category="arts", club=club),
        records.activity(w, "秋季运动会", start_date=TODAY + dt.timedelta(days=5), capacity=5),
        records.activity(w, "全校读书会", union=w.school, category="reading"),
    ]
    services.register(actor=None, activity=extra[3], member=w.member)
    for m in people:
        services.register(actor=None, activity=a, member=m)
        services.club_join(actor=None, club=club, member=m)
        services.register(actor=None, activity=extra[3], member=m)
        for b in (extra[0], extra[1], extra[2], extra[4]):
            services.attendance_mark(actor=None, activity=b, attended=[m])
        honour_services.honour_create(
            actor=None,
            kind="individual",
            member=m,
            title="先进工作者",
            level="unit",
            date=TODAY,
        )
    services.attendance_mark(actor=None, activity=a, attended=people[::2], absent=people[1::2])
    for i, m in enumerate(people[:10]):
        services.award_add(
            actor=None,
            activity=a,
            rank=i + 2,
            prize="优秀奖",
            member=m,
            confirm_over_cap=True,
        )
    for b in extra[:2]:
        services.award_add(actor=None, activity=b, rank=1, prize="团体奖", team="高中语文组")
    honour_services.honour_create(
        actor=None,
        kind="collective",
        union=w.group,
        recipient="高中语文组",
        title="模范职工小家",
        level="city",
        date=TODAY,
    )


Query = Callable[[World, dict[str, int]], tuple[str, dict[str, Any]]]
WITHIN = {"start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}

PAGES: list[tuple[str, Query, int]] = [
    ("list", lambda w, ids: (reverse("activities:list"), {}), 6),
    (
        "list-held",
        lambda w, ids: (reverse("activities:list"), {"union": w.branch.pk, "held": 1, **WITHIN}),
        7,
    ),
    ("detail", lambda w, ids: (reverse("activities:detail", args=[ids["activity"]]), {}), 10),
    ("attendance", lambda w, ids: (reverse("activities:attendance"), WITHIN), 5),
    (
        "attendance-branch",
        lambda w, ids: (reverse("activities:attendance"), {"union": w.branch.pk, **WITHIN}),
        6,
    ),
    ("participation", lambda w, ids: (reverse("activities:participation"), WITHIN), 9),
    ("awards", lambda w, ids: (reverse("activities:awards"), WITHIN), 5),
    ("clubs", lambda w, ids: (reverse("activities:clubs"), {}), 4),
    ("club", lambda w, ids: (reverse("activities:club", args=[ids["club"]]), {}), 6),
    ("honours", lambda w, ids: (reverse("honours:list"), {}), 5),
    (
        "honours-individual",
        lambda w, ids: (reverse("honours:list"), {"union": w.school.pk, "kind": "individual"}),
        6,
    ),
]
MINE = 10


def test_activity_and_honour_pages_take_a_pinned_number_of_queries(world: World) -> None:
    chair = login(world.chair)
    member = login(world.member_user)
    ids = seed(world)

    def measure() -> dict[str, int]:
        counts = {}
        pages = [(label, page, chair) for label, page, _ in PAGES]
        pages.append(("mine", lambda w, ids: (reverse("activities:mine"), {}), member))
        for label, page, client in pages:
            url, query = page(world, ids)
            client.get(url, query)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url, query)
            assert response.status_code == 200, label
            counts[label] = len(ctx.captured_queries)
        return counts

    pinned = {label: n for label, _, n in PAGES} | {"mine": MINE}
    small = measure()
    grow(world, ids)
    large = measure()
    # The pages do show the many rows.
    detail = chair.get(reverse("activities:detail", args=[ids["activity"]])).context
    assert (len(detail["held"]), len(detail["awards"])) == (31, 11)
    assert chair.get(reverse("activities:awards"), WITHIN).context["page"].paginator.count == 13
    assert chair.get(reverse("honours:list")).context["page"].paginator.count == 32
    assert member.get(reverse("activities:mine")).context["past"][0].member == world.member
    assert {"few": small, "many": large} == {"few": pinned, "many": pinned}, repr((small, large))


def test_the_figures_take_a_constant_number_of_queries(world: World) -> None:
    """活动: the activities' aggregate, the attendance's, the awards' count, and the
    participation over the roster (its size, and of it those who came); 荣誉: one
    aggregate."""
    ids = seed(world)

    def measure() -> tuple[int, int, dict[str, Any]]:
        with CaptureQueriesContext(connection) as acts:
            found = report.facts(union=world.school, period=PERIOD)
        with CaptureQueriesContext(connection) as honours:
            found += honours_report.facts(union=world.school, period=PERIOD)
        return (
            len(acts.captured_queries),
            len(honours.captured_queries),
            {x.key: x.value for x in found},
        )

    few_acts, few_honours, before = measure()
    grow(world, ids)
    many_acts, many_honours, after = measure()
    assert (few_acts, many_acts, few_honours, many_honours) == (5, 5, 1, 1)
    assert after["activities.attendance"] == before["activities.attendance"] + 135
    assert after["honours.individual"] == before["honours.individual"] + 30
