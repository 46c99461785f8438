"""A list or an export asked for a union out of the viewer's reach shows the viewer's own
scope, says so on the page, and the export's audit row names the union it covered."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from gonghui.common.models import AuditAction, AuditEntry
from tests.conftest import World, login

from .test_export_scope import _records


def notice(union_id: int) -> str:
    return f"您无权查看「编号 {union_id}」的组织，或该组织不存在；已显示您有权查看的范围。"


def _exported(response: object) -> list[str]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]  # type: ignore[attr-defined]
    return [
        " ".join(str(c.value) for c in row if c.value is not None)
        for row in sheet.iter_rows(min_row=2)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["members:list", "care:visits", "care:donations"])
def test_a_list_asked_for_another_schools_union_says_it_shows_the_own_scope(
    world: World, name: str
) -> None:
    _records(world.branch, world.member, "高中")
    chair = login(world.chair)

    response = chair.get(reverse(name), {"union": world.other_school.pk})

    assert response.status_code == 200
    assert notice(world.other_school.pk) in response.content.decode()
    assert "张三" in response.content.decode()  # the chair's own scope is what it shows


@pytest.mark.django_db
def test_a_union_that_does_not_exist_gets_the_same_words(world: World) -> None:
    response = login(world.chair).get(reverse("members:list"), {"union": 999999})
    assert notice(999999) in response.content.decode()
    # …and a union in reach no notice at all.
    fine = login(world.chair).get(reverse("members:list"), {"union": world.branch.pk})
    assert "您无权查看" not in fine.content.decode()


@pytest.mark.django_db
def test_the_other_filters_still_apply_when_the_union_is_refused(world: World) -> None:
    _records(world.branch, world.member, "高中")
    _records(world.other_branch, world.other_branch_member, "初中")
    chair = login(world.chair)
    response = chair.get(reverse("care:visits"), {"union": world.other_school.pk, "q": "李四"})
    names = {v.member.name for v in response.context["page"]}
    assert names == {"李四"}


def _export_audit(client: Client, kind: str, **query: object) -> tuple[list[str], AuditEntry]:
    response = client.get(reverse("imports:export", args=[kind]), query)
    assert response.status_code == 200
    return _exported(response), AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("id")


@pytest.mark.django_db
def test_an_export_asked_for_a_union_out_of_reach_audits_the_union_it_covered(
    world: World,
) -> None:
    _records(world.branch, world.member, "高中")
    officer = login(world.officer)

    rows, entry = _export_audit(officer, "members", union=world.other_school.pk)

    assert any("张三" in r for r in rows)
    assert entry.union == world.branch  # the officer's scope, not the school asked for
    assert entry.changes["范围"] == ["", "高中部分工会"]
    assert "所选组织不在导出人的查看范围内" in entry.summary
    # The next page says so.
    page = officer.get(reverse("members:list"))
    assert notice(world.other_school.pk) in page.content.decode()


@pytest.mark.django_db
def test_an_export_of_the_whole_scope_and_of_a_chosen_union_name_it(world: World) -> None:
    _records(world.branch, world.member, "高中")
    _records(world.other_branch, world.other_branch_member, "初中")
    chair = login(world.chair)

    _, everything = _export_audit(chair, "visits")
    assert everything.union == world.school
    assert everything.changes["范围"] == ["", "第一中学工会"]

    _, branch = _export_audit(chair, "visits", union=world.other_branch.pk)
    assert branch.union == world.other_branch
    assert "所选组织不在" not in branch.summary
    # Seen in the chair's log, where an export without a union once had no place.
    log = chair.get(reverse("common:audit"), {"action": "export"})
    assert [e.pk for e in log.context["page"]] == [branch.pk, everything.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["subsidies", "donations", "activities", "honours", "unions"])
def test_every_kind_of_export_keeps_to_the_union_of_its_list(world: World, kind: str) -> None:
    _records(world.branch, world.member, "高中")
    _records(world.other_branch, world.other_branch_member, "初中")
    rows, entry = _export_audit(login(world.chair), kind, union=world.other_branch.pk)
    assert rows and not any("高中" in r or "张三" in r for r in rows), rows
    assert entry.union == world.other_branch
