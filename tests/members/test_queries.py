"""Roster reads: search by name, pinyin, initials and numbers; the list's filters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gonghui.members import services
from gonghui.members.choices import ChangeKind, EmploymentType, MemberStatus
from gonghui.members.models import Member
from gonghui.members.queries import RosterFilter, age_band_q, roster
from gonghui.org.models import User

from .. import factories as f
from ..conftest import World

TODAY = dt.date.today()


def _years_ago(years: int, days: int = 0) -> dt.date:
    try:
        day = TODAY.replace(year=TODAY.year - years)
    except ValueError:  # 29 February
        day = TODAY.replace(year=TODAY.year - years, day=28)
    return day + dt.timedelta(days=days)


def _names(viewer: User, **filters: Any) -> set[str]:
    return {m.name for m in roster(viewer, RosterFilter(**filters))}


@pytest.fixture
def people(world: World) -> World:
    """张三 (world, T001, YZ-00001) and 李四 (world) plus a few more in the school."""
    f.member(world.group, "张山峰", employee_no="T002")
    f.member(world.group, "曾小明", employee_no="A100")
    f.member(world.other_group, "欧阳娜娜", employee_no="T010")
    return world


#: What the search box finds among 张三 (T001), 李四, 张山峰 (T002), 曾小明 (A100) and
#: 欧阳娜娜 (T010), all of 第一中学 (cards YZ-00001…YZ-00005).
SEARCHES: dict[str, set[str]] = {
    "zs": {"张三", "张山峰"},
    "ZS": {"张三", "张山峰"},
    "zsf": {"张山峰"},
    "zhangs": {"张三", "张山峰"},
    "zhang san": {"张三"},
    "zeng": {"曾小明"},  # 曾 as a surname reads zeng, not ceng
    "ceng": set(),
    "oyn": {"欧阳娜娜"},
    "T00": {"张三", "张山峰"},
    "T01": {"欧阳娜娜"},
    "A1": {"曾小明"},
    "yz-0000": {"张三", "李四", "张山峰", "曾小明", "欧阳娜娜"},
    "YZ-00002": {"李四"},
    "三": {"张三"},
    "张": {"张三", "张山峰"},
    "阳娜": {"欧阳娜娜"},
    "  ": {"张三", "李四", "张山峰", "曾小明", "欧阳娜娜"},
}


def test_search(people: World) -> None:
    # One fixture for the whole table: each case is a read.
    found = {q: _names(people.chair, q=q) for q in SEARCHES}
    wrong = {q: (names, SEARCHES[q]) for q, names in found.items() if names != SEARCHES[q]}
    assert wrong == {}  # q: (found, expected)


def test_search_stays_inside_the_viewers_scope(people: World) -> None:
    assert _names(people.officer, q="oyn") == set()
    assert _names(people.officer, q="zs") == {"张三", "张山峰"}
    assert _names(people.member_user, q="zs") == set()


def test_filter_by_subtree(people: World) -> None:
    assert _names(people.chair, union=people.other_branch) == {"李四", "欧阳娜娜"}
    assert _names(people.chair, union=people.group) == {"张三", "张山峰", "曾小明"}
    # A filter outside the scope shows nothing, not the other school's roster.
    assert _names(people.officer, union=people.other_school) == set()


def test_filter_by_status_employment_and_gender(world: World) -> None:
    f.member(world.group, "派遣工", employment_type=EmploymentType.DISPATCHED)
    woman = f.member(world.group, "女教师", id_number=f.id_number(male=False))
    retired = f.member(world.group, "退休教师")
    services.member_change(actor=None, member=retired, kind="retire", date=dt.date(2024, 7, 1))

    assert _names(world.chair, status=[MemberStatus.RETAINED]) == {"退休教师"}
    assert "退休教师" not in _names(world.chair, status=[MemberStatus.ACTIVE])
    assert _names(world.chair, employment_type=[EmploymentType.DISPATCHED]) == {"派遣工"}
    assert _names(world.chair, gender="F") == {woman.name}
    assert _names(world.chair, gender="M", q="退") == {"退休教师"}


def test_age_bands_at_their_boundaries(world: World) -> None:
    def born(name: str, birth: dt.date) -> None:
        f.member(world.group, name, id_number=f.id_number(birth=birth))

    born("刚满35", _years_ago(35))
    born("明天满35", _years_ago(35, days=1))
    born("刚满45", _years_ago(45))
    born("明天满45", _years_ago(45, days=1))
    born("刚满55", _years_ago(55))

    assert _names(world.chair, age_band="-35") == {"明天满35"}
    assert _names(world.chair, age_band="35-45") == {"刚满35", "明天满45", "张三", "李四"}
    assert _names(world.chair, age_band="45-55") == {"刚满45"}
    assert _names(world.chair, age_band="55-") == {"刚满55"}
    # An unknown band filters nothing rather than failing.
    assert len(_names(world.chair, age_band="nonsense")) == 7


def test_age_band_on_29_february() -> None:
    q = age_band_q("35-45", today=dt.date(2024, 2, 29))
    # 35 years before a leap day is 28 February 1989: born then, one is 35 today.
    assert q.children == [
        ("birth_date__lte", dt.date(1989, 2, 28)),
        ("birth_date__gt", dt.date(1979, 2, 28)),
    ]


@pytest.fixture
def history(world: World) -> dict[str, Member]:
    """Members whose status changed over 2023–2024."""
    left = f.member(world.group, "退会者", join_date=dt.date(2019, 1, 1))
    services.member_change(actor=None, member=left, kind="withdraw", date=dt.date(2023, 6, 30))
    late = f.member(world.group, "新会员", join_date=dt.date(2024, 1, 1))
    moved = f.member(world.other_group, "转出者", join_date=dt.date(2019, 1, 1))
    services.member_change(
        actor=None, member=moved, kind="transfer_out", date=dt.date(2024, 12, 31)
    )
    return {"left": left, "late": late, "moved": moved}


def test_as_of_status_comes_from_the_history(world: World, history: dict[str, Member]) -> None:
    active = [MemberStatus.ACTIVE]
    assert _names(world.chair, status=active, as_of=dt.date(2023, 6, 29)) == {
        "张三",
        "李四",
        "退会者",
        "转出者",
    }
    assert _names(world.chair, status=active, as_of=dt.date(2023, 6, 30)) == {
        "张三",
        "李四",
        "转出者",
    }
    assert _names(world.chair, status=active, as_of=dt.date(2024, 1, 1)) == {
        "张三",
        "李四",
        "转出者",
        "新会员",
    }
    assert _names(world.chair, status=active, as_of=dt.date(2024, 12, 31)) == {
        "张三",
        "李四",
        "新会员",
    }
    # Today's status without a date.
    assert _names(world.chair, status=active) == {"张三", "李四", "新会员"}


def test_changed_between_dates_inclusive(world: World, history: dict[str, Member]) -> None:
    leave = [ChangeKind.TRANSFER_OUT, ChangeKind.WITHDRAW, ChangeKind.DEATH]
    assert _names(
        world.chair,
        changed=leave,
        changed_from=dt.date(2023, 6, 30),
        changed_to=dt.date(2024, 12, 31),
    ) == {"退会者", "转出者"}
    assert (
        _names(
            world.chair,
            changed=leave,
            changed_from=dt.date(2023, 7, 1),
            changed_to=dt.date(2024, 12, 30),
        )
        == set()
    )
    assert _names(world.chair, changed=[ChangeKind.JOIN], changed_from=dt.date(2024, 1, 1)) == {
        "新会员"
    }
    assert _names(world.chair, changed=[ChangeKind.JOIN], changed_to=dt.date(2019, 12, 31)) == {
        "退会者",
        "转出者",
    }


def test_the_list_query_is_one_query_whatever_the_filters(
    world: World, history: dict[str, Member], django_assert_num_queries
) -> None:
    viewer = User.objects.get(pk=world.chair.pk)
    filters = RosterFilter(
        q="z",
        union=world.school,
        status=[MemberStatus.ACTIVE],
        as_of=dt.date(2024, 12, 31),
        employment_type=[EmploymentType.STAFF],
        gender="M",
        age_band="35-45",
        changed=[ChangeKind.JOIN],
        changed_from=dt.date(2000, 1, 1),
    )
    with django_assert_num_queries(2):  # the viewer's grants, then the list
        names = {m.name for m in roster(viewer, filters)}
    assert names == {"张三"}
