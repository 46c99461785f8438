"""The roster's order by name: surname first, syllable by syllable, the same on SQLite and
PostgreSQL (issue 10: 陈…程…陈, 段 before 杜, 方 before 范).

Ordering by the syllables run together puts 程刚 ("chenggang") between 陈安 ("chenan")
and 陈伟 ("chenwei"). ``Member.name_sort`` ends each syllable with a mark below every
letter, under byte order and under the collations a PostgreSQL database may use.
"""

from __future__ import annotations

import io
import random

import openpyxl
import pytest
from django.db import connection
from django.urls import reverse

from gonghui.members import services
from gonghui.members.models import Member
from gonghui.members.queries import RosterFilter, RosterPaginator, roster_pages
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union

from .. import factories as f
from ..conftest import World, login

#: 陈 chen, 程 cheng; 杜 du, 段 duan; 范 fan, 方 fang: each surname's people together.
GROUPED = ["陈安", "陈伟", "程刚", "杜明", "段华", "范文", "方芳"]


@pytest.fixture
def staff_room(world: World) -> Union:
    """A group of 第一中学 with the seven, entered in no particular order."""
    room = f.union("教工之家", UnionKind.GROUP, world.branch, code="YZJGZJ")
    names = GROUPED[:]
    random.Random(10).shuffle(names)
    for name in names:
        f.member(room, name)
    return room


def _sheet_names(content: bytes) -> list[str]:
    ws = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    headers = [c.value for c in ws[1]]
    column = headers.index("姓名")
    return [row[column].value for row in ws.iter_rows(min_row=2)]


def _every_order(world: World, room: Union, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model's order, the roster list (each way a page is fetched) and the export."""
    assert [m.name for m in Member.objects.filter(union=room)] == GROUPED
    for walk_from in (1, 10**9):
        monkeypatch.setattr(RosterPaginator, "WALK_FROM", walk_from)
        pages = roster_pages(world.chair, RosterFilter(union=room), 3)
        assert [m.name for n in pages.page_range for m in pages.page(n)] == GROUPED, walk_from
    client = login(world.chair)
    page = client.get(reverse("members:list"), {"union": room.pk})
    assert [m.name for m in page.context["page"]] == GROUPED
    export = client.get(reverse("imports:export", args=["members"]), {"union": room.pk})
    assert _sheet_names(export.content) == GROUPED


def test_the_roster_keeps_each_surname_together(
    world: World, staff_room: Union, monkeypatch: pytest.MonkeyPatch
) -> None:
    _every_order(world, staff_room, monkeypatch)


@pytest.mark.parametrize("locale", ["und-u-ka-shifted", "en-US"])
def test_the_order_holds_under_a_collation_that_ignores_punctuation(
    world: World, staff_room: Union, monkeypatch: pytest.MonkeyPatch, locale: str
) -> None:
    """Production PostgreSQL databases often compare text under glibc ``en_US.UTF-8`` or
    ICU, which pass over spaces and punctuation at first: the key must not rely on them."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite always compares text byte by byte")
    name = "gonghui_test_" + locale.replace("-", "_")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cursor.execute(
            f"CREATE COLLATION IF NOT EXISTS \"{name}\" (provider = icu, locale = '{locale}')"
        )
        cursor.execute(
            f'ALTER TABLE members_member ALTER COLUMN name_sort TYPE varchar(650) COLLATE "{name}"'
        )
    _every_order(world, staff_room, monkeypatch)


def test_the_key_reads_syllable_by_syllable_then_characters() -> None:
    ordered = [
        "安",
        "陈",  # a lone surname before every 陈 with a given name
        "陈安",
        "陈伟",
        "陈玮",  # the same reading: by the characters
        "陈伟明",
        "程",
        "程刚",
        "曾小明",  # 曾 as a surname reads zeng: with the z's, not the c's
        "张三",
    ]
    keys = [services.name_readings(n)[2] for n in ordered]
    assert keys == sorted(keys)
    assert all(k.isascii() and k.isalnum() and k == k.lower() for k in keys)
    # The longest name fits the column.
    longest = "庄" * 50
    assert len(services.name_readings(longest)[2]) <= Member._meta.get_field("name_sort").max_length


def test_a_rename_moves_the_member(world: World) -> None:
    services.member_update(actor=world.officer, member=world.member, name="曾三")
    world.member.refresh_from_db()
    assert world.member.name_sort == services.name_readings("曾三")[2]


def test_the_migration_fills_the_key_of_stored_members(world: World) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("gonghui.members.migrations.0004_member_name_sort")
    names = [*GROUPED, "曾小明", "欧阳娜娜", "单田芳", "阿依古丽·买买提", "Anna", "长孙无忌"]
    for name in names:
        f.member(world.group, name)
    Member.objects.update(name_sort="")

    migration.forwards(apps, None)

    got = dict(Member.objects.values_list("name", "name_sort"))
    assert got == {name: services.name_readings(name)[2] for name in got}
