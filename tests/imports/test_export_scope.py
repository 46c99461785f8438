"""Every kind of export writes only what the officer may see: the scope is applied once,
in ``ImportSpec.export_queryset``, for all of them; this proves it for each."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from gonghui.activities import services as activities
from gonghui.activities.services import ActivityFields
from gonghui.care import services as care
from gonghui.common.imports.columns import kinds
from gonghui.honours import services as honours
from gonghui.members.models import Member
from gonghui.org.models import Union
from tests.conftest import World, login

TODAY = dt.date.today()


def _records(union: Union, member: Member, part: str) -> None:
    """One of everything an export writes, in ``union``, for ``member``; named so that
    each row says whose it is (``part``: 高中 or 初中)."""
    care.visit_create(actor=None, member=member, date=TODAY, reason="sick", form="cash", amount=300)
    subsidy = care.subsidy_apply(
        actor=None, member=member, kind="illness", amount=1000, reason="住院"
    )
    subsidy = care.subsidy_review(actor=None, subsidy=subsidy)
    subsidy = care.subsidy_approve(actor=None, subsidy=subsidy)
    care.subsidy_pay(actor=None, subsidy=subsidy)
    drive = care.drive_create(actor=None, union=union, name=f"{part}爱心捐款", start_date=TODAY)
    care.donation_add(actor=None, drive=drive, member=member, amount=100, date=TODAY)
    activity = activities.activity_create(
        actor=None,
        union=union,
        fields=ActivityFields(title=f"{part}气排球赛", category="sports", start_date=TODAY),
    )
    activities.attendance_mark(actor=None, activity=activity, attended=[member])
    honours.honour_create(
        actor=None,
        kind="individual",
        title=f"{part}优秀教师",
        level="unit",
        date=TODAY,
        member=member,
    )


def _exported(client: Client, kind: str) -> list[str]:
    response = client.get(reverse("imports:export", args=[kind]))
    assert response.status_code == 200, kind
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    return [
        " ".join(str(c.value) for c in row if c.value is not None)
        for row in sheet.iter_rows(min_row=2)
    ]


@pytest.mark.django_db
def test_each_export_holds_only_the_officers_own_subtree(world: World) -> None:
    _records(world.branch, world.member, "高中")
    _records(world.other_branch, world.other_branch_member, "初中")
    every_kind = sorted(spec.kind for spec in kinds())
    assert {"members", "unions", "visits", "subsidies", "donations", "activities"} <= set(
        every_kind
    )
    assert {"attendance", "honours"} <= set(every_kind)

    officer, chair = login(world.officer), login(world.chair)
    for kind in every_kind:
        own = _exported(officer, kind)
        assert own and all("高中" in r or "张三" in r for r in own), (kind, own)
        assert not any("初中" in r or "李四" in r for r in own), (kind, own)
        # The chair of the school sees both branches: the other side is there to leave out.
        assert any("初中" in r or "李四" in r for r in _exported(chair, kind)), kind
