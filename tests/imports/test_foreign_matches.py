"""The import check is no membership oracle: of a person the importer may not see it
says only that they are a member elsewhere, audits every such find as a look-up of
personal data, and refuses past a daily limit, telling the union above."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from gonghui.common import crypto
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.members.models import Member
from tests import factories as f
from tests.conftest import World, login

from .test_members_import import run

pytestmark = pytest.mark.django_db

FOREIGN = "已是其他工会的在册会员（请与上级工会联系办理转会）"


def _row(name: str, number: str = "", phone: str = "") -> list[Any]:
    return [name, number, phone, "", "", "", "", "", ""]


def _number(member: Member) -> str:
    return crypto.decrypt(member.id_number_enc)


def _guesses(world: World) -> list[list[Any]]:
    """A 身份证号 of the other branch (same school) and one of the other school."""
    return [
        _row("猜一", _number(world.other_branch_member)),
        _row("猜二", _number(world.other_school_member)),
    ]


def test_a_branch_chair_learns_only_that_a_guess_is_a_member_elsewhere(
    world: World, tmp_path: Path
) -> None:
    # Given the branch chair (高中部分工会) uploads guessed numbers and a phone
    phone = f.phone()
    f.member(world.other_school_group, "有手机的人", phone=phone)
    rows = [*_guesses(world), _row("猜三", f.id_number(), phone)]
    # When her import is checked
    result = run(tmp_path, rows, actor=world.officer, union=world.branch, commit=False)
    # Then each find says no union, no path, no name
    lines = result.error_lines()
    assert lines == [
        f"第2行「身份证号」：该身份证号{FOREIGN}",
        f"第3行「身份证号」：该身份证号{FOREIGN}",
        f"第4行「手机号」：该手机号的主人{FOREIGN}，请核对",
    ]
    for word in ("初中", "第二中学", "英语组", "李四", "王五", "有手机的人"):
        assert not any(word in line for line in lines)
    # and the finds are audited as one look-up of personal data, at her union
    (entry,) = AuditEntry.objects.filter(action=AuditAction.VIEW_PII)
    assert entry.actor == world.officer and entry.union == world.branch
    assert entry.summary.startswith("导入比对：查到其他工会的在册会员 3 位")
    assert entry.changes["人数"] == ["", 3]


def test_the_chair_who_may_see_the_other_branch_is_told_where(world: World, tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [_row("猜一", _number(world.other_branch_member))],
        actor=world.chair,
        union=world.branch,
        commit=False,
    )
    (line,) = result.error_lines()
    assert "初中数学组" in line and FOREIGN not in line
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_PII).exists()


def test_past_the_daily_limit_the_import_is_refused_and_the_union_above_told(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.GONGHUI_IMPORT_MAX_FOREIGN_MATCHES_PER_DAY = 2
    officer = {"actor": world.officer, "union": world.branch, "commit": False}
    # Given two finds today, within the limit
    first = run(tmp_path, _guesses(world), **officer)
    assert len(first.errors) == 2 and not first.problem
    # When one more guess is checked
    extra = f.member(world.other_school_group, "第三位", id_number=f.id_number())
    second = run(tmp_path, [_row("猜三", _number(extra))], **officer)
    # Then the import is refused whole, saying nothing of the row
    assert second.problem.startswith(
        "今天通过导入比对查到的其他工会会员已超过每日 2 位的上限，本次导入未执行"
    )
    assert second.errors == [] and "第三位" not in second.problem
    # and the chair of the level above (第一中学工会) has it on her log page
    notice = AuditEntry.objects.get(summary__startswith="请上级核实")
    assert notice.union == world.school and notice.actor == world.officer
    assert "超过每日 2 位的上限" in notice.summary
    page = login(world.chair).get(reverse("common:audit")).content.decode()
    assert "请上级核实" in page
    # and the branch chair's own log does not show the notice of the level above
    assert notice.union not in {world.branch, world.group}
