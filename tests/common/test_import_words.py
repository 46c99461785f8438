"""Imports take the words real sheets use: synonyms, prefixes and abbreviations of a
choice, names of unions written short; every error of a row at once; a failed import
says on the list that nothing was written.

The member roster and the union tree are here (the engine's own kinds); the ledgers'
sheets are in tests/care and tests/activities.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gonghui.common.imports.columns import AmbiguousChoice, Column, ColumnType, get_spec
from gonghui.common.imports.engine import Result, run_import
from gonghui.common.imports.names import NameIndex
from gonghui.common.imports.normalize import CellError, converter
from gonghui.common.models import ImportRecord, ImportStatus
from gonghui.members.choices import EmploymentType, MemberStatus
from gonghui.members.models import Member
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User
from tests import factories as f
from tests.conftest import World, login
from tests.imports import files


def run(
    tmp_path: Path,
    kind: str,
    rows: list[list[Any]],
    *,
    actor: User | None = None,
    union: Union | None = None,
    title: str | None = None,
    name: str = "sheet",
) -> Result:
    path = files.xlsx(tmp_path / f"{name}.xlsx", rows, title=title, text_columns=[2])
    return run_import(
        spec=get_spec(kind),
        path=path,
        file_name=path.name,
        actor=actor,
        default_union=union,
        commit=True,
    )


def cell(kind: str, key: str) -> Any:
    return converter(get_spec(kind).column(key))


# Choices ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "key", "written", "value"),
    [
        # 会员状态 as rosters write it
        ("members", "status", "在会", MemberStatus.ACTIVE),
        ("members", "status", "正常", MemberStatus.ACTIVE),
        ("members", "status", "在职", MemberStatus.ACTIVE),
        ("members", "status", "转出", MemberStatus.TRANSFERRED_OUT),
        ("members", "status", "退会", MemberStatus.WITHDRAWN),
        ("members", "status", "退休", MemberStatus.RETAINED),
        # 性别
        ("members", "gender", "男性", "M"),
        ("members", "gender", "女性", "F"),
        ("members", "gender", "M", "M"),
        ("members", "gender", "f", "F"),
        # 用工形式
        ("members", "employment_type", "正式", EmploymentType.STAFF),
        ("members", "employment_type", "事业编", EmploymentType.STAFF),
        ("members", "employment_type", "合同工", EmploymentType.CONTRACT),
        ("members", "employment_type", "派遣", EmploymentType.DISPATCHED),
        ("members", "employment_type", "临时工", EmploymentType.TEMPORARY),
        ("members", "employment_type", "返聘", EmploymentType.REHIRED),
        # 学历, 政治面貌, 民族
        ("members", "education", "本科", "大学本科"),
        ("members", "education", "大专", "大学专科"),
        ("members", "education", "硕士", "硕士研究生"),
        ("members", "education", "中专", "中专/中技"),
        ("members", "political_status", "党员", "中共党员"),
        ("members", "political_status", "团员", "共青团员"),
        ("members", "ethnicity", "回", "回族"),
        # 类型 of a union
        ("unions", "kind", "分会", UnionKind.BRANCH),
        ("unions", "kind", "小组", UnionKind.GROUP),
    ],
)
def test_a_choice_accepts_the_synonyms_people_write(
    kind: str, key: str, written: str, value: str
) -> None:
    assert cell(kind, key)(written) == value


@pytest.mark.parametrize(
    ("kind", "key", "written", "value"),
    [
        ("subsidies", "source", "本级工会", "own"),  # the start of 本级工会经费
        ("members", "employment_type", "劳务", EmploymentType.DISPATCHED),  # 劳务派遣
        ("members", "status", "保留", MemberStatus.RETAINED),  # 保留会籍
        ("honours", "level", "省部", "provincial"),
        ("visits", "reason", "夏季", "summer"),  # 夏季送清凉
        ("subsidies", "kind", "困补", "hardship"),  # an abbreviation of 困难补助
        ("visits", "form", "购物", "voucher"),  # the start of 购物卡/券
    ],
)
def test_a_choice_accepts_a_unique_start_or_abbreviation(
    kind: str, key: str, written: str, value: str
) -> None:
    assert cell(kind, key)(written) == value


def test_an_ambiguous_start_names_the_candidates() -> None:
    with pytest.raises(CellError, match=r"^「退」可能是：退休、退会，请写完整$"):
        cell("members", "status")("退")
    with pytest.raises(CellError, match="「中共」可能是：中共党员、中共预备党员"):
        cell("members", "political_status")("中共")
    with pytest.raises(CellError, match="不在可选范围内"):
        cell("members", "status")("出差")


def test_a_choice_matcher_works_from_the_declaration() -> None:
    col = Column(
        "k",
        "色",
        ColumnType.CHOICE,
        choices=(("r", "红色"), ("g", "绿色"), ("b", "蓝/靛")),
        choice_aliases={"赤": "r"},
    )
    matcher = col.choice_matcher()
    assert matcher.match("赤") == "r"
    assert matcher.match("红") == "r"
    assert matcher.match("靛") == "b"  # a part of a label written with a slash
    assert matcher.match("紫") is None
    assert col.aliases_of("r") == ["赤"]
    with pytest.raises(AmbiguousChoice):
        Column(
            "k", "色", ColumnType.CHOICE, choices=(("a", "红色"), ("b", "红旗"))
        ).choice_matcher().match("红")


def test_the_template_notes_show_the_synonyms_of_each_choice(world: World) -> None:
    response = login(world.chair).get("/imports/members/template/")
    book = openpyxl.load_workbook(__import__("io").BytesIO(response.content))
    notes = book["填写说明"]
    text = "\n".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    assert "在册（也认：在会、正常、在职" in text
    assert "在编（也认：正式" in text
    assert "只写开头几个字或简称" in text


# Names --------------------------------------------------------------------------------


def test_a_name_is_found_by_code_exact_name_start_or_part() -> None:
    items = [("后勤服务分工会", "HQ"), ("后勤保障分工会", "HB"), ("教务处分工会", "JW")]
    index = NameIndex(items, name=lambda i: i[0], code=lambda i: i[1])
    assert index.find("hq").item == items[0]
    assert index.find("后勤服务分工会").item == items[0]
    assert index.find("后勤服务").item == items[0]  # start
    assert index.find("教务处").item == items[2]
    assert index.find("保障分工会").item == items[1]  # part
    assert index.find("后勤").ambiguous
    # In name order, whatever order the rows came in.
    assert index.candidates_text(index.find("后勤")) == "「后勤保障分工会」、「后勤服务分工会」"
    assert index.find("后").item is None and not index.find("后").candidates  # too short
    assert index.find("食堂").item is None


# Members ------------------------------------------------------------------------------


MEMBER_HEADERS = ["姓名（必填）", "性别", "身份证号码", "手机", "所属工会", "用工形式", "学历",
                  "政治面貌", "会员状态", "民族", "工号"]  # fmt: skip


def test_a_messy_roster_imports_whole_and_again_unchanged(world: World, tmp_path: Path) -> None:
    # Given a roster kept by hand: a title row, headers with 必填, short union names,
    # the words of another system, full-width digits in a 工号, an emoji name.
    rows = [
        MEMBER_HEADERS,
        ["周一", "女性", f.id_number(male=False), "", "高中部", "正式", "本科", "党员", "在会",
         "汉", "Ａ１０１"],
        ["吴二", "男", f.id_number(), "", "语文组", "合同工", "大专", "群众", "正常", "回族",
         "A102"],
        ["郑三", "M", f.id_number(), "", "初中部", "派遣", "硕士", "团员", "在职", "汉族",
         "A103"],
        ["王四", "F", f.id_number(male=False), "", "YZCZSX", "临时工", "中专", "无", "转出",
         "满", "A104"],
        ["冯五", "男士", f.id_number(), "", "第一中学", "返聘", "高中", "群众", "退会", "汉",
         "A105"],
        ["陈👨\u200d👩\u200d👧", "男", f.id_number(), "", "高中语文组", "在编", "博士", "群众",
         "保留", "汉", "A106"],
    ]  # fmt: skip
    first = run(tmp_path, "members", rows, actor=world.chair, union=world.school, title="名册")
    assert first.written, first.error_lines()
    assert first.plan is not None and first.plan.created == 6
    stored = {
        m.name: (m.union.code, m.gender, m.employment_type, m.education, m.status, m.employee_no)
        for m in Member.objects.filter(employee_no__startswith="A1").select_related("union")
    }
    assert stored == {
        "周一": ("YZGZ", "F", "staff", "大学本科", "active", "A101"),
        "吴二": ("YZGZYW", "M", "contract", "大学专科", "active", "A102"),
        "郑三": ("YZCZ", "M", "dispatched", "硕士研究生", "active", "A103"),
        "王四": ("YZCZSX", "F", "temporary", "中专/中技", "transferred_out", "A104"),
        "冯五": ("YZ", "M", "rehired", "高中", "withdrawn", "A105"),
        "陈👨\u200d👩\u200d👧": ("YZGZYW", "M", "staff", "博士研究生", "retained", "A106"),
    }
    # When the same sheet is imported again, then nothing changes.
    again = run(tmp_path, "members", rows, actor=world.chair, union=world.school, name="again")
    assert again.written, again.error_lines()
    assert again.plan is not None
    assert (again.plan.created, again.plan.updated, again.plan.unchanged) == (0, 0, 6)


def test_a_union_named_short_or_ambiguously(world: World, tmp_path: Path) -> None:
    f.union("初中英语组", parent=world.other_branch, code="YZCZYY")
    rows = [
        MEMBER_HEADERS,
        ["甲", "男", f.id_number(), "", "初中", "", "", "", "", "", ""],  # 初中部分工会, 数学组, 英语组
        ["乙", "男", f.id_number(), "", "第二中学", "", "", "", "", "", ""],  # out of reach
        ["丙", "男", f.id_number(), "", "英语", "", "", "", "", "", ""],  # 初中英语组 only, in reach
    ]  # fmt: skip
    result = run(tmp_path, "members", rows, actor=world.chair, union=world.school)
    assert result.error_lines() == [
        "第2行「所属工会」：「初中」可能是：「初中数学组（代码 YZCZSX）」、「初中英语组（代码 YZCZYY）」、"
        "「初中部分工会（代码 YZCZ）」，请写完整的名称或代码",
        "第3行「所属工会」：找不到名称或代码为「第二中学」的工会组织",
    ]


def test_every_error_of_a_row_is_reported_at_once(world: World, tmp_path: Path) -> None:
    # Given a row with four independent errors: an unknown union, a wrong 用工形式, a
    # 10-digit phone and a gender that is not the one of its 身份证号.
    rows = [
        MEMBER_HEADERS,
        ["孙六", "女", f.id_number(male=True), "1381234567", "后勤分工会", "钟点工", "", "", "",
         "", ""],
    ]  # fmt: skip
    result = run(tmp_path, "members", rows, actor=world.chair, union=world.school)
    # Then all four are reported in one pass.
    text = result.error_lines()
    assert len(text) == 4, text
    assert text[0] == "第2行「性别」：与身份证号不符（身份证号显示为男）。"
    assert text[1].startswith("第2行「手机」：")
    assert text[2] == "第2行「所属工会」：找不到名称或代码为「后勤分工会」的工会组织"
    assert text[3].startswith("第2行「用工形式」：「钟点工」不在可选范围内")
    assert not Member.objects.filter(name="孙六").exists()


# Unions -------------------------------------------------------------------------------


def test_a_messy_union_sheet_imports_whole_and_again_unchanged(
    world: World, tmp_path: Path
) -> None:
    rows = [
        ["组织名称", "上级", "层级", "职工数", "编码"],
        ["后勤服务分工会", "第一中学", "分会", "３０", "ＨＱ"],
        ["食堂小组", "后勤服务", "小组", "12", ""],
        ["保安组", "HQ", "组", "", ""],
        ["高三年级组", "高中部", "工会小组", "20", ""],
    ]
    first = run(tmp_path, "unions", rows, actor=world.chair, union=world.school)
    assert first.written, first.error_lines()
    hq = Union.objects.get(code="HQ")
    assert (hq.parent_id, hq.kind, hq.headcount) == (world.school.pk, UnionKind.BRANCH, 30)
    assert Union.objects.get(name="食堂小组").parent_id == hq.pk
    assert Union.objects.get(name="保安组").parent_id == hq.pk
    assert Union.objects.get(name="高三年级组").parent_id == world.branch.pk
    again = run(tmp_path, "unions", rows, actor=world.chair, union=world.school, name="again")
    assert again.written, again.error_lines()
    assert again.plan is not None
    assert (again.plan.created, again.plan.updated, again.plan.unchanged) == (0, 0, 4)


# The list of imports ---------------------------------------------------------------------


def test_the_import_list_says_a_refused_import_wrote_nothing(world: World) -> None:
    refused = ImportRecord.objects.create(
        kind="members",
        actor=world.chair,
        actor_name="chair",
        union=world.school,
        file_name="roster.xlsx",
        status=ImportStatus.INVALID,
        total_rows=3,
        created_count=3,
        error_count=2,
        finished_at=dt.datetime.now(dt.UTC),
    )
    page = login(world.chair).get("/imports/").content.decode()
    row = page[page.index(f"#{refused.pk}") :].split("</tr>")[0]
    assert "未写入：2 处错误" in row
    assert '<td class="hide-sm">3</td>' not in row
