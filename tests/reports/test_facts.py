"""The roster's report figures over a hand-built history, and their traceability:
each figure's source list, opened by the chair, shows exactly that many records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gonghui.common.reporting import Fact, Period
from gonghui.members import services
from gonghui.members.choices import ChangeKind, EmploymentType
from gonghui.members.models import Member
from gonghui.org import services as org_services
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User
from gonghui.reports.registry import all_facts, compute

from .. import factories as f
from ..conftest import World, login

D = dt.date
PERIOD = Period(D(2024, 1, 1), D(2024, 12, 31))
DISPATCHED, TEMPORARY = EmploymentType.DISPATCHED, EmploymentType.TEMPORARY


def person(
    at: Union,
    name: str,
    joined: dt.date,
    *changes: tuple[str, dt.date],
    kind: str = ChangeKind.JOIN,
    employment: str = EmploymentType.STAFF,
) -> Member:
    # For a 转入 the day it arrived is the change the report counts.
    member = f.member(
        at,
        name,
        join_date=joined,
        join_kind=kind,
        employment_type=employment,
        registered_on=joined,
    )
    for change, date in changes:
        services.member_change(actor=None, member=member, kind=change, date=date)
    return member


@pytest.fixture
def history(world: World) -> World:
    """2024 in the life of 第一中学 (and a little of 第二中学).

    world already holds 张三 (高中语文组) and 李四 (初中数学组), 在册 since 2020, and 王五
    (第二中学). ``✓`` marks who counts in the school's figures for 2024.
    """
    g, og, eg = world.group, world.other_group, world.other_school_group
    # 高中部 (branch A1)
    person(g, "甲", D(2024, 3, 1), employment=DISPATCHED)  # total ✓ joined ✓ temporary ✓
    person(g, "丙", D(2019, 1, 1), ("retire", D(2024, 6, 30)))  # 保留会籍: nowhere
    ding = person(g, "丁", D(2019, 1, 1), ("transfer_out", D(2024, 7, 1)))  # left ✓
    person(g, "庚", D(2025, 1, 5))  # joined after the period: nowhere
    person(g, "壬", D(2024, 2, 1), ("withdraw", D(2024, 10, 1)))  # joined ✓ left ✓
    person(g, "癸", D(2019, 1, 1), ("transfer_out", D(2025, 2, 1)))  # total ✓ (left later)
    # 初中部 (branch A2)
    person(og, "乙", D(2024, 5, 10), kind="transfer_in", employment=TEMPORARY)  # total joined temp
    person(og, "戊", D(2019, 1, 1), ("withdraw", D(2024, 8, 1)))  # left ✓
    person(og, "己", D(2019, 1, 1), ("death", D(2024, 9, 1)))  # left ✓
    person(og, "辛", D(2018, 1, 1), ("withdraw", D(2023, 12, 31)))  # left before: nowhere
    person(og, "子", D(2019, 1, 1), ("retire", D(2023, 5, 1)), ("restore", D(2024, 4, 1)))  # total
    person(og, "丑", D(2019, 1, 1), ("retire", D(2024, 3, 1)), employment=DISPATCHED)  # nowhere
    person(og, "寅", D(2024, 12, 31))  # last day: total ✓ joined ✓
    person(og, "卯", D(2024, 1, 1))  # first day: total ✓ joined ✓
    person(og, "辰", D(2019, 1, 1), ("withdraw", D(2024, 1, 1)))  # left ✓ on the first day
    person(og, "巳", D(2019, 1, 1), ("withdraw", D(2025, 1, 1)))  # total ✓ (left the day after)
    # 第二中学: 丁 registered there after leaving, and a newcomer.
    services.member_create(
        actor=None,
        union=eg,
        name="丁",
        id_number=services.crypto.decrypt(ding.id_number_enc),
        join_kind=ChangeKind.TRANSFER_IN,
        join_date=D(2019, 1, 1),
        registered_on=D(2024, 7, 15),
    )
    person(eg, "午", D(2024, 3, 3))
    org_services.union_update(actor=None, union=world.school, headcount=120)
    world.school.refresh_from_db()
    return world


def roster_facts(union: Union) -> list[Fact]:
    """The figures of 组织建设 (this module's subject; tests/care has the care figures)."""
    return [f for f in all_facts(union, PERIOD) if f.key.split(".")[0] in ("org", "members")]


def values(union: Union) -> dict[str, object]:
    return {fact.key: fact.value for fact in roster_facts(union)}


def test_figures_of_the_school_a_branch_and_the_district(history: World) -> None:
    assert values(history.school) == {
        "org.branches": 2,
        "org.groups": 2,
        "members.total": 9,  # 张三 李四 甲 乙 癸 子 寅 卯 巳
        "members.joined": 5,  # 甲 壬 乙 寅 卯
        "members.left": 5,  # 丁 壬 戊 己 辰
        "members.rate": Decimal("7.5"),  # 9 ÷ 120
        "members.temporary": 2,  # 甲 乙
    }
    # A branch: only its own subtree.
    branch = {fact.key: fact for fact in roster_facts(history.branch)}
    assert {k: fact.value for k, fact in branch.items()} == {
        "org.branches": 0,
        "org.groups": 1,
        "members.total": 3,  # 张三 甲 癸
        "members.joined": 2,  # 甲 壬
        "members.left": 2,  # 丁 壬
        "members.rate": None,
        "members.temporary": 1,
    }
    assert branch["members.rate"].note == "「高中部分工会」未填写职工人数，无法计算入会率。"
    # The district: 丁's transfer counts on both sides, as a leaver and as a newcomer.
    assert values(history.district) == {
        "org.branches": 2,
        "org.groups": 3,
        "members.total": 12,  # the school's 9, 王五, 丁 (转入), 午
        "members.joined": 7,  # the school's 5, 丁 (转入), 午
        "members.left": 5,
        "members.rate": Decimal("2.4"),  # 12 ÷ 500
        "members.temporary": 2,
    }


def test_archived_nodes_count_until_they_were_archived(world: World) -> None:
    empty = f.union("停办组", UnionKind.GROUP, world.branch)
    org_services.union_archive(actor=None, union=empty)
    # Archived today: it still existed at the end of 2024, but not at the end of today.
    assert values(world.school)["org.groups"] == 3
    today = dt.date.today()
    now = Period(D(today.year, 1, 1), today)
    assert {f.key: f.value for f in all_facts(world.school, now)}["org.groups"] == 2


def _listed(client: Client, fact: Fact, *, strict: bool = True) -> int:
    """How many records the page at ``fact.source`` lists."""
    response = client.get(fact.source)
    assert response.status_code == 200, fact.source
    context = response.context
    if "nodes" in context:
        return len(context["nodes"])
    if strict:
        assert not context["form"].errors, (fact.source, context["form"].errors)
    count: int = context["page"].paginator.count
    return count


def test_every_source_lists_exactly_the_figure(history: World) -> None:
    """The traceability guarantee: open a figure's link, count the records listed."""
    district_chair = f.user("district_chair", history.district)
    checked = 0
    for viewer, node in (
        (history.chair, history.school),
        (history.chair, history.branch),
        (district_chair, history.district),
    ):
        client = login(viewer)
        facts = roster_facts(node)
        total = next(f.value for f in facts if f.key == "members.total")
        for fact in facts:
            if fact.key == "org.branches" and node.kind == UnionKind.BRANCH:
                continue  # see test_branch_count_source_includes_the_branch_itself
            # The rate links to the members it counts.
            expected = total if fact.key == "members.rate" else fact.value
            assert _listed(client, fact) == expected, (node.name, fact.key)
            checked += 1
    assert checked == 7 + 6 + 7


def test_district_sources_are_valid_filters(world: World) -> None:
    client = login(f.user("district_chair", world.district))
    fact = next(f for f in all_facts(world.district, PERIOD) if f.key == "members.total")
    assert not client.get(fact.source).context["form"].errors


def test_branch_count_source_lists_exactly_the_branches_below(world: World) -> None:
    fact = next(f for f in all_facts(world.branch, PERIOD) if f.key == "org.branches")
    assert _listed(login(world.chair), fact) == fact.value


def test_facts_are_json_numbers_with_sources(history: World) -> None:
    for fact in all_facts(history.school, PERIOD):
        data = fact.as_json()
        assert set(data) >= {"key", "label", "value", "unit", "source"}
        assert isinstance(data["value"], int | float) and not isinstance(data["value"], bool)
        assert str(data["source"]).startswith("/")
    rate = next(f for f in all_facts(history.school, PERIOD) if f.key == "members.rate")
    assert rate.as_json()["value"] == 7.5
    assert rate.unit == "%"


def test_sections_put_the_roster_under_organisation(world: World) -> None:
    sections = compute(world.school, PERIOD)
    assert sections[0][0].title == "组织建设"
    assert [f.key for f in sections[0][1]][:2] == ["org.branches", "org.groups"]


def _grow(world: World, n: int) -> None:
    """n more members with a join, a withdrawal or a transfer each."""
    for i in range(n):
        m = person(world.group if i % 2 else world.other_group, f"增{i}", D(2023, 1, 1))
        if i % 3 == 0:
            services.member_change(actor=None, member=m, kind="withdraw", date=D(2024, 2, 1))
        f.union(f"组{i}", UnionKind.GROUP, world.branch)


def test_query_count_is_constant_as_rows_grow(history: World) -> None:
    school = Union.objects.get(pk=history.school.pk)

    with CaptureQueriesContext(connection) as small:
        all_facts(school, PERIOD)
    _grow(history, 12)
    with CaptureQueriesContext(connection) as large:
        facts = all_facts(school, PERIOD)

    # The roster's five, the care figures' five, the activities' four and the honours'
    # one (tests/care/test_query_counts.py, tests/activities/test_query_counts.py).
    assert len(small.captured_queries) == len(large.captured_queries) == 16
    assert {f.key: f.value for f in facts}["members.total"] == 9 + 12 - 4


def test_the_chair_of_another_school_sees_none_of_it_through_the_sources(
    history: World,
) -> None:
    client = login(history.outsider)
    school_names = set(
        Member.objects.filter(union__path__startswith=history.school.path).values_list(
            "name", flat=True
        )
    ) - {"丁"}
    for fact in all_facts(history.school, PERIOD):
        response = client.get(fact.source)
        if response.status_code == 404:
            continue
        assert response.status_code == 200
        if "nodes" in response.context:
            listed = {n.name for n in response.context["nodes"]}
            assert not listed & {"高中部分工会", "初中部分工会", "高中语文组", "初中数学组"}
        else:
            listed = {m.name for m in response.context["page"].object_list}
            assert not listed & school_names, fact.key


def test_a_user_without_roles_sees_no_figures_through_the_sources(world: World) -> None:
    nobody = User.objects.create_user("nobody", password=f.PASSWORD)
    client = login(nobody)
    fact = all_facts(world.school, PERIOD)[2]
    assert client.get(fact.source).status_code == 403


def test_moving_a_member_later_does_not_rewrite_past_figures(world: World) -> None:
    """李明 joined 高中部 in 2024 and was moved to 初中部 in 2025: 高中部's 2024 figures
    still count the join, 初中部's do not, and the source lists agree."""
    moved = person(world.group, "李明", D(2024, 4, 1))
    services.member_update(actor=None, member=moved, union=world.other_group)
    chair = login(world.chair)
    for node, expected in ((world.branch, 1), (world.other_branch, 0)):
        fact = next(f for f in all_facts(node, PERIOD) if f.key == "members.joined")
        assert fact.value == expected, node.name
        assert _listed(chair, fact) == expected, node.name
