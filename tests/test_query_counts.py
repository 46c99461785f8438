"""Query counts pinned on the roster list, the dashboard and the report figures.

Each page is fetched with the small world and again after adding 55 members (and some
of their changes); both must take exactly the pinned number of queries, so an N+1 (a
query per row, per union or per fact) fails here. When a change adds a query
on purpose, update the number and say why in the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gonghui.members import services as member_services
from gonghui.members.choices import EmploymentType

from . import factories as f
from .conftest import World, login

# Given names whose pinyin initial is s, so that 「zs」 finds every 张… row.
GIVEN = "三森顺松帅爽胜升书淑"
EMPLOYMENT = list(EmploymentType.values)


def grow(world: World, n: int = 55) -> None:
    """``n`` more members across branch A1 (and A2), some with a change this year."""
    today = dt.date.today()
    for i in range(n):
        union = world.group if i % 3 else world.other_group
        member = f.member(
            union,
            f"张{GIVEN[i % len(GIVEN)]}{GIVEN[(i // len(GIVEN)) % len(GIVEN)]}",
            employee_no=f"G{i:04d}",
            employment_type=EMPLOYMENT[i % len(EMPLOYMENT)],
            phone=f.phone(),
        )
        if i % 5 == 0:
            member_services.member_change(
                actor=None, member=member, kind="retire", date=today.replace(day=1)
            )


Query = Callable[[World], dict[str, Any]]

PAGES: list[tuple[str, str, Query, int]] = [
    ("roster", "members:list", lambda w: {}, 6),
    ("roster-search", "members:list", lambda w: {"q": "zs"}, 6),
    ("roster-subtree", "members:list", lambda w: {"union": w.branch.pk, "status": "active"}, 7),
    ("roster-page-2", "members:list", lambda w: {"q": "zs", "page": 2}, 6),
    # The dashboard and the figures hold every app's figures: the roster's, the care
    # figures' five (visits, hardship files, subsidies, donations, whether any coverage
    # programme exists), the activities' five (activities, attendance, awards, the
    # roster's size and of it those who took part) and the honours' one (tests/care, tests/activities pin them with
    # more data). The dashboard adds its to-do list: six (tests/reports/test_todo.py).
    ("dashboard", "dashboard", lambda w: {}, 27),
    ("figures", "reports:figures", lambda w: {}, 20),
    (
        "figures-branch",
        "reports:figures",
        lambda w: {"union": w.branch.pk, "start": "2020-01-01", "end": "2030-12-31"},
        21,
    ),
]


def test_query_counts_are_pinned_and_constant_as_rows_grow(world: World) -> None:
    """One world grown once: every page's count with 3 members, then with 58."""
    client = login(world.chair)

    def measure() -> dict[str, int]:
        counts: dict[str, int] = {}
        for label, url_name, query, _ in PAGES:
            url = reverse(url_name)
            client.get(url, query(world))  # warm per-process caches (content types …)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url, query(world))
            assert response.status_code == 200, label
            counts[label] = len(ctx.captured_queries)
        return counts

    pinned = {label: n for label, _, _, n in PAGES}
    small = measure()
    roster_before = client.get(reverse("members:list")).context["page"].paginator.count
    grow(world)
    large = measure()
    roster_after = client.get(reverse("members:list")).context["page"].paginator.count

    # The plain roster lists who is 在册: every fifth newcomer has retired (保留会籍).
    assert roster_after == roster_before + 55 - 11, "the growth must show on the roster"
    assert {"small world": small, "grown world": large} == {
        "small world": pinned,
        "grown world": pinned,
    }
