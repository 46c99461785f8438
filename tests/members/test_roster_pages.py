"""The roster's pages are the same rows in the same order however a page is fetched.

``queries.RosterPaginator`` picks the page query after the count: walking the name index
(subtrees named by ``LIKE``), the matching ids first, or the plain query. On a small
world the thresholds are never reached, so these tests lower them and compare every
page against the plain ordered roster, on whichever database the suite runs.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghui.members.choices import ChangeKind, EmploymentType, MemberStatus
from gonghui.members.queries import RosterFilter, RosterPaginator, roster, roster_pages
from gonghui.members.services import member_change

from .. import factories as f
from ..conftest import World

NAMES = ["张三丰", "张山", "赵思", "周上", "王云", "王云敏", "李四", "欧阳娜娜", "曾小明", "张伟"]


@pytest.fixture
def crowd(world: World) -> World:
    """Thirty more members spread over both branches and the other school."""
    places = [world.group, world.other_group, world.branch, world.other_school_group]
    for i in range(30):
        m = f.member(
            places[i % len(places)],
            NAMES[i % len(NAMES)],
            employee_no=f"P{i:03d}",
            employment_type=EmploymentType.DISPATCHED if i % 4 == 0 else EmploymentType.STAFF,
        )
        if i % 7 == 0:
            member_change(actor=None, member=m, kind=ChangeKind.RETIRE, date=m.join_date)
    return world


FILTERS = {
    "all": lambda w: RosterFilter(),
    "initials": lambda w: RosterFilter(q="zs"),
    "digits": lambda w: RosterFilter(q="T01"),
    "chinese": lambda w: RosterFilter(q="王云"),
    "branch": lambda w: RosterFilter(union=w.branch),
    "retained": lambda w: RosterFilter(status=[MemberStatus.RETAINED]),
    "temporary": lambda w: RosterFilter(employment_type=[EmploymentType.DISPATCHED]),
}


@pytest.mark.parametrize("who", ["chair", "officer", "outsider"])
def test_every_page_is_the_plain_roster_in_order(
    crowd: World, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    viewer = getattr(crowd, who)
    for name, make in FILTERS.items():
        filters = make(crowd)
        expected = [
            pk for (pk,) in roster(viewer, filters).order_by("name_sort", "id").values_list("pk")
        ]
        for walk_from in (1, 10**9):
            monkeypatch.setattr(RosterPaginator, "WALK_FROM", walk_from)
            for ids_first in (True, False):
                for prefix in (False, True):
                    pages = RosterPaginator(
                        roster(viewer, filters, prefix=prefix).select_related("union"),
                        4,
                        walk=roster(viewer, filters, prefix=True).select_related("union"),
                        ids_first=ids_first,
                    )
                    got = [m.pk for n in pages.page_range for m in pages.page(n)]
                    assert got == expected, (name, walk_from, ids_first, prefix)
            pages = roster_pages(viewer, filters, 4)
            assert [m.pk for n in pages.page_range for m in pages.page(n)] == expected, name


def test_a_walked_page_is_still_two_queries(crowd: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RosterPaginator, "WALK_FROM", 1)
    pages = roster_pages(crowd.chair, RosterFilter(), 4)
    with CaptureQueriesContext(connection) as queries:
        rows = list(pages.page(1))
    assert len(rows) == 4
    assert len(queries) == 2  # the count, then the page
    if connection.vendor == "sqlite":
        assert "LIKE" in queries[1]["sql"]  # the walk: subtrees by prefix, not by range
