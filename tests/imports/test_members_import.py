"""Importing the roster: all or nothing, upsert by 身份证号 / 工号 / 会员证号, scope."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import Result, run_import
from gonghui.common.imports.progress import Progress
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.members.choices import ChangeKind, MemberStatus
from gonghui.members.models import Member, MembershipChange
from gonghui.org.models import Union, User
from tests import factories as f
from tests.conftest import World

from . import files

pytestmark = pytest.mark.django_db

HEADERS = [
    "姓名",
    "身份证号",
    "手机号",
    "工号",
    "所属工会",
    "入会日期",
    "会员证号",
    "会员状态",
    "月工资",
]


def run(
    tmp_path: Path,
    rows: list[list[Any]],
    *,
    actor: User | None = None,
    union: Union | None = None,
    commit: bool = True,
    headers: list[str] = HEADERS,
    name: str = "名册.xlsx",
) -> Result:
    path = files.xlsx(tmp_path / name, [headers, *rows], text_columns=[1, 2, 3, 6])
    return run_import(
        spec=get_spec("members"),
        path=path,
        file_name=name,
        actor=actor,
        default_union=union,
        commit=commit,
    )


def _counts() -> tuple[int, int, int]:
    return Member.objects.count(), MembershipChange.objects.count(), AuditEntry.objects.count()


def test_new_members_are_registered_with_their_history(world: World, tmp_path: Path) -> None:
    a, b = f.id_number(), f.id_number(male=False)
    result = run(
        tmp_path,
        [
            ["刘一", a, "13700000001", "T101", "高中语文组", "2021-09-01", "", "", "8000"],
            ["陈二", b, "", "T102", "YZCZSX", "", "", "保留会籍", ""],
        ],
    )
    assert result.ok and result.written, result.error_lines()
    assert (result.plan.created, result.plan.updated, result.plan.unchanged) == (2, 0, 0)
    liu = Member.objects.get(name="刘一")
    assert (liu.union, liu.status, liu.join_date) == (
        world.group,
        MemberStatus.ACTIVE,
        dt.date(2021, 9, 1),
    )
    assert liu.monthly_wage == 8000 and liu.phone_masked == "137****0001"
    assert liu.card_no.startswith("YZ-")  # numbered by the 基层工会
    assert list(liu.changes.values_list("kind", "date")) == [(ChangeKind.JOIN, dt.date(2021, 9, 1))]
    chen = Member.objects.get(name="陈二")
    assert chen.status == MemberStatus.RETAINED
    assert chen.join_date == dt.date.today()
    assert list(chen.changes.values_list("kind", flat=True)) == [ChangeKind.JOIN, ChangeKind.RETIRE]
    # Card numbers come from one block of the school's counter, without gaps.
    school = Union.objects.get(pk=world.school.pk)
    numbers = sorted(
        int(c.split("-")[1])
        for c in Member.objects.filter(name__in=["刘一", "陈二"]).values_list("card_no", flat=True)
    )
    assert numbers == [school.card_seq - 1, school.card_seq]
    # One audit row for the import, naming the new members; each one's 入会 change says
    # it came from the import (no log row per new member: see members_import).
    summary = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert "新增 2 人" in summary.summary
    assert summary.union == world.school
    new_ids = sorted([liu.pk, chen.pk])
    assert summary.changes["新增会员编号"] == ["", f"{new_ids[0]}–{new_ids[1]}"]
    assert not AuditEntry.objects.filter(
        action=AuditAction.CREATE, content_type__model="member", object_id=str(liu.pk)
    ).exists()
    assert liu.changes.get().note == "导入（命令行导入）"


def test_transfer_in_when_stated(world: World, tmp_path: Path) -> None:
    headers = ["姓名", "身份证号", "所属工会", "入会方式", "转入来源"]
    result = run(
        tmp_path, [["转来的", f.id_number(), "YZGZYW", "转入", "第三中学工会"]], headers=headers
    )
    assert result.ok, result.error_lines()
    change = MembershipChange.objects.get(member__name="转来的")
    assert (change.kind, change.other_org) == (ChangeKind.TRANSFER_IN, "第三中学工会")


def test_one_bad_row_writes_nothing(world: World, tmp_path: Path) -> None:
    before = _counts()
    seq = Union.objects.get(pk=world.school.pk).card_seq
    rows = [
        [f"好人{i}", f.id_number(), "", f"G{i}", "YZGZYW", "2020-01-01", "", "", ""]
        for i in range(20)
    ]
    rows.append(["坏人", "110105194912310022", "", "", "YZGZYW", "", "", "", ""])
    result = run(tmp_path, rows)
    assert not result.ok and not result.written
    assert result.error_lines() == ["第22行「身份证号」：校验位错误，请核对最后一位。"]
    # Not a member, a change, an audit row, nor a card number.
    assert _counts() == before
    assert Union.objects.get(pk=world.school.pk).card_seq == seq


def test_every_error_is_reported_at_once(world: World, tmp_path: Path) -> None:
    rows = [
        ["", f.id_number(), "12345", "", "YZGZYW", "2024-02-30", "", "", "-5"],
        ["某人", "", "", "", "不存在的工会", "", "", "在不在", ""],
    ]
    result = run(tmp_path, rows)
    assert result.error_lines() == [
        "第2行「姓名」：必填，不能为空",
        "第2行「手机号」：不是有效的手机号（11 位，以 1 开头；现为 5 位数字）。",
        "第2行「入会日期」：「2024-02-30」不是有效日期，请写成 2024-03-05 这样的格式",
        "第2行「月工资」：不能为负数",
        "第3行「所属工会」：找不到名称或代码为「不存在的工会」的工会组织",
        "第3行「会员状态」：「在不在」不在可选范围内（可选：在册、保留会籍、已转出、已退会、已去世）",
    ]


def test_duplicates_inside_the_file(world: World, tmp_path: Path) -> None:
    number, phone = f.id_number(), f.phone()
    rows = [
        ["甲", number, phone, "D1", "YZGZYW", "", "C-1", "", ""],
        ["乙", number, phone, "D1", "YZCZSX", "", "C-1", "", ""],
    ]
    result = run(tmp_path, rows)
    assert result.error_lines() == [
        "第3行「身份证号」：与第2行的身份证号重复",
        "第3行「手机号」：与第2行的手机号重复",
        "第3行「工号」：与第2行的工号重复",  # both in 第一中学: one 工号 numbering
        "第3行「会员证号」：与第2行的会员证号重复",
    ]


def test_a_person_current_elsewhere_is_refused_and_located(world: World, tmp_path: Path) -> None:
    # 王五 is a member of 第二中学; 第一中学's chair may not re-register them.
    number = "330000198506150010"
    f.member(world.other_school_group, "赵六", id_number=f.id_number())
    other = Member.objects.get(name="王五")
    from gonghui.common import crypto

    stored = crypto.decrypt(other.id_number_enc)
    result = run(
        tmp_path,
        [["王五", stored, "", "", "YZGZYW", "", "", "", ""]],
        actor=world.chair,
        union=world.school,
    )
    (line,) = result.error_lines()
    # Not where: the chair may not see 第二中学's roster (the check is no oracle).
    assert line == "第2行「身份证号」：该身份证号已是其他工会的在册会员（请与上级工会联系办理转会）"
    assert number not in line


def test_a_phone_already_registered_is_refused(world: World, tmp_path: Path) -> None:
    from gonghui.common import crypto

    phone = crypto.decrypt(world.member.phone_enc)
    result = run(tmp_path, [["新人", f.id_number(), phone, "", "YZGZYW", "", "", "", ""]])
    (line,) = result.error_lines()
    assert (
        "该手机号已登记在「区教育工会 / 第一中学工会 / 高中部分工会 / 高中语文组」的在册会员「张三」"
        in line
    )


def test_reimport_updates_instead_of_duplicating(world: World, tmp_path: Path) -> None:
    number = f.id_number()
    first = run(tmp_path, [["周七", number, "", "E7", "YZGZYW", "2020-01-01", "", "", "5000"]])
    assert first.written
    member = Member.objects.get(name="周七")
    card = member.card_no
    # The same roster again: nothing to do.
    again = run(tmp_path, [["周七", number, "", "E7", "YZGZYW", "2020-01-01", "", "", "5000"]])
    assert (again.plan.created, again.plan.updated, again.plan.unchanged) == (0, 0, 1)
    # A changed wage and department: an update, shown in the preview before confirming.
    headers = [*HEADERS, "部门"]
    preview = run(
        tmp_path,
        [["周七", number, "", "E7", "YZGZYW", "2020-01-01", "", "", "5500", "教务处"]],
        headers=headers,
        commit=False,
    )
    assert (preview.plan.created, preview.plan.updated) == (0, 1)
    assert preview.plan.samples[0]["changes"] == [
        ["部门", "", "教务处"],
        ["月工资", "5000.00", "5500.00"],
    ]
    assert Member.objects.get(pk=member.pk).monthly_wage == 5000  # a preview writes nothing
    done = run(
        tmp_path,
        [["周七", number, "", "E7", "YZGZYW", "2020-01-01", "", "", "5500", "教务处"]],
        headers=headers,
    )
    assert done.written
    member.refresh_from_db()
    assert (member.monthly_wage, member.department, member.card_no) == (5500, "教务处", card)
    assert Member.objects.filter(name="周七").count() == 1
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(member.pk)).get()
    assert entry.changes == {"部门": ["", "教务处"], "月工资": ["5000.00", "5500.00"]}


def test_imported_names_get_the_rosters_sort_key(world: World, tmp_path: Path) -> None:
    from gonghui.members.services import name_readings

    numbers = [f.id_number() for _ in range(3)]
    rows = [
        [name, number, "", f"S{i}", "YZGZYW", "2020-01-01", "", "", ""]
        for i, (name, number) in enumerate(zip(["陈伟", "程刚", "陈安"], numbers, strict=True))
    ]
    assert run(tmp_path, rows).written
    imported = Member.objects.filter(employee_no__startswith="S")
    assert [m.name for m in imported] == ["陈安", "陈伟", "程刚"]
    # A name changed by a later import moves the member.
    rows[1][0] = "曾刚"
    assert run(tmp_path, rows).written
    renamed = Member.objects.get(employee_no="S1")
    assert (renamed.name, renamed.name_sort) == ("曾刚", name_readings("曾刚")[2])
    assert [m.name for m in imported.all()] == ["陈安", "陈伟", "曾刚"]


def test_blank_cells_keep_what_is_stored(world: World, tmp_path: Path) -> None:
    # Only name and 工号: the member is found by 工号 in the school, nothing else changes.
    result = run(tmp_path, [["张三", "", "", "T001", "YZGZYW", "", "", "", ""]])
    assert (result.plan.created, result.plan.updated, result.plan.unchanged) == (0, 0, 1)


def test_key_fallback_to_employee_number_then_card_number(world: World, tmp_path: Path) -> None:
    member = world.member
    by_emp = run(tmp_path, [["张三丰", "", "", "T001", "YZGZYW", "", "", "", ""]], commit=False)
    assert by_emp.plan.updated == 1 and by_emp.plan.samples[0]["changes"][0][:2] == ["姓名", "张三"]
    by_card = run(
        tmp_path, [["张三丰", "", "", "", "YZGZYW", "", member.card_no, "", ""]], commit=False
    )
    assert by_card.plan.updated == 1
    # The same 工号 in another school is another person.
    other = run(
        tmp_path, [["别校张三", f.id_number(), "", "T001", "EZYY", "", "", "", ""]], commit=False
    )
    assert other.ok and other.plan.created == 1


def test_a_masked_id_number_leaves_the_stored_one(world: World, tmp_path: Path) -> None:
    member = world.member
    before = (member.id_number_enc, member.id_number_hash)
    result = run(
        tmp_path,
        [
            [
                "张三",
                member.id_number_masked,
                member.phone_masked,
                "T001",
                "YZGZYW",
                "",
                "",
                "",
                "6000",
            ]
        ],
    )
    assert result.written and result.plan.updated == 1
    member.refresh_from_db()
    assert (member.id_number_enc, member.id_number_hash) == before
    assert member.monthly_wage == 6000
    # A masked number that is not this member's is refused, not silently ignored.
    wrong = run(tmp_path, [["张三", "999999********0000", "", "T001", "YZGZYW", "", "", "", ""]])
    assert "脱敏号码" in wrong.error_lines()[0]
    # A new member needs the full number.
    new = run(tmp_path, [["新来的", "110105********0021", "", "", "YZGZYW", "", "", "", ""]])
    assert new.error_lines() == [
        "第2行「身份证号」：是脱敏号码（含 *），新会员请填写完整的身份证号"
    ]


def test_an_id_that_contradicts_the_employee_number_is_refused(
    world: World, tmp_path: Path
) -> None:
    result = run(tmp_path, [["张三", f.id_number(), "", "T001", "YZGZYW", "", "", "", ""]])
    (line,) = result.error_lines()
    assert "工号「T001」已属于会员「张三」" in line


def test_status_changes_are_recorded_as_membership_changes(world: World, tmp_path: Path) -> None:
    member = world.member
    result = run(tmp_path, [["张三", "", "", "T001", "YZGZYW", "", "", "已退会", ""]])
    assert result.written, result.error_lines()
    member.refresh_from_db()
    assert member.status == MemberStatus.WITHDRAWN
    assert member.changes.order_by("-id").first().kind == ChangeKind.WITHDRAW
    back = run(tmp_path, [["张三", "", "", "T001", "YZGZYW", "", "", "在册", ""]])
    assert back.written
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    assert member.changes.order_by("-id").first().kind == ChangeKind.RESTORE
    dead = run(tmp_path, [["张三", "", "", "T001", "YZGZYW", "", "", "已去世", ""]])
    assert dead.written
    revive = run(tmp_path, [["张三", "", "", "T001", "YZGZYW", "", "", "在册", ""]])
    assert revive.error_lines() == ["第2行「会员状态」：会员当前为「已去世」，不能改为「在册」"]


def test_an_officer_imports_only_into_their_subtree(world: World, tmp_path: Path) -> None:
    ok = run(
        tmp_path,
        [["分会新人", f.id_number(), "", "", "", "", "", "", ""]],
        actor=world.officer,
        union=world.branch,
    )
    assert ok.written and Member.objects.get(name="分会新人").union == world.branch
    # A row naming a union outside the officer's branch is a row error.
    before = _counts()
    result = run(
        tmp_path,
        [
            ["越界", f.id_number(), "", "", "初中数学组", "", "", "", ""],
            ["本分会", f.id_number(), "", "", "YZGZYW", "", "", "", ""],
        ],
        actor=world.officer,
        union=world.branch,
    )
    assert result.error_lines() == ["第2行「所属工会」：「初中数学组」不在您可以导入的范围内"]
    assert _counts() == before
    # Importing into a union outside their scope is refused outright.
    refused = run(
        tmp_path,
        [["x", f.id_number(), "", "", "", "", "", "", ""]],
        actor=world.officer,
        union=world.other_branch,
    )
    assert "没有向「初中部分工会」导入" in refused.problem
    # An existing member of another branch cannot be changed through a row that finds them.
    other = world.other_branch_member
    sneaky = run(
        tmp_path,
        [["李四改", "", "", "", "YZGZYW", "", other.card_no, "", ""]],
        actor=world.officer,
        union=world.branch,
    )
    assert "会员证号" in sneaky.error_lines()[0]
    assert "已是其他工会的在册会员" in sneaky.error_lines()[0]
    assert "初中" not in sneaky.error_lines()[0]


def test_a_member_may_not_import(world: World, tmp_path: Path) -> None:
    result = run(
        tmp_path, [["x", f.id_number(), "", "", "YZGZYW", "", "", "", ""]], actor=world.member_user
    )
    assert "没有导入会员名册的权限" in result.problem


def test_ambiguous_union_names_ask_for_the_code(world: World, tmp_path: Path) -> None:
    f.union("高中语文组", parent=world.other_school, code="EZYW")
    result = run(tmp_path, [["x", f.id_number(), "", "", "高中语文组", "", "", "", ""]])
    assert result.error_lines() == [
        "第2行「所属工会」：名称为「高中语文组」的组织不止一个，请改写代码（YZGZYW、EZYW）"
    ]
    # Within the default union, the name is unique again.
    assert run(
        tmp_path, [["x", f.id_number(), "", "", "高中语文组", "", "", "", ""]], union=world.school
    ).ok


class _RegisterWhenChecked(Progress):
    """Another officer registers ``who`` in the moment between the import's check and
    its write (the check ends with its last progress report, the write starts after)."""

    def __init__(self, union: Union, name: str, id_number: str) -> None:
        self.union, self.name, self.id_number = union, name, id_number
        self.done = False

    def update(self, phase: str, done: int, total: int) -> None:
        if phase == "check" and done == total and not self.done:
            self.done = True
            f.member(self.union, self.name, id_number=self.id_number)


def test_a_registration_after_the_preview_is_caught_when_confirmed(
    world: World, tmp_path: Path
) -> None:
    number = f.id_number()
    rows = [["新人甲", number, "", "N1", "YZGZYW", "", "", "", ""]]
    officer = {"actor": world.officer, "union": world.branch}
    preview = run(tmp_path, rows, commit=False, **officer)
    assert preview.ok and preview.plan.created == 1
    # Before the officer confirms, another branch registers the same person.
    f.member(world.other_group, "别处登记的人", id_number=number)
    confirmed = run(tmp_path, rows, **officer)  # the confirm checks everything again
    assert not confirmed.written
    assert confirmed.error_lines() == [
        "第2行「身份证号」：该身份证号已是其他工会的在册会员（请与上级工会联系办理转会）"
    ]
    assert not Member.objects.filter(name="新人甲").exists()


@pytest.mark.parametrize("rebuild_indexes", [False, True])
def test_a_registration_between_the_check_and_the_write_refuses_the_write(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rebuild_indexes: bool
) -> None:
    from gonghui.common.imports import bulk

    if rebuild_indexes:
        # The way a large first import writes on SQLite: indexes dropped, then rebuilt.
        monkeypatch.setattr(bulk, "DEFER_INDEXES_MIN", 1)
    number = f.id_number()
    rows = [
        ["新人乙", f.id_number(), "", "N2", "YZGZYW", "", "", "", ""],
        ["新人丙", number, "", "N3", "YZGZYW", "", "", "", ""],
    ]
    before = _counts()
    path = files.xlsx(tmp_path / "名册.xlsx", [HEADERS, *rows], text_columns=[1, 2, 3, 6])
    result = run_import(
        spec=get_spec("members"),
        path=path,
        file_name="名册.xlsx",
        actor=None,
        default_union=None,
        commit=True,
        progress=_RegisterWhenChecked(world.other_group, "抢先登记的人", number),
    )
    assert not result.written
    assert result.problem == (
        "写入时被拒绝，未写入任何数据（数据可能刚被他人修改，请重新导入）："
        "检查之后、写入之前，有人修改了会员名册：第3行：该身份证号刚刚已被登记为在册会员"
        "「抢先登记的人」。请重新导入。"
    )
    # Only the other officer's registration is there: none of the file's rows.
    assert _counts()[0] == before[0] + 1
    assert not Member.objects.filter(name__in=["新人乙", "新人丙"]).exists()
    assert not MembershipChange.objects.filter(member__name__startswith="新人").exists()
