"""The activities, attendance and honours sheets in their users' words: categories,
marks and levels as people write them; unions, activities and clubs named short, or
created with the import; a collective honour that names a union goes to it."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gonghui.activities import services
from gonghui.activities.models import Activity, Club, Registration
from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import Result, run_import
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.honours.models import Honour
from gonghui.org.models import Union, User
from tests import factories as f
from tests.conftest import World
from tests.imports import files

from . import records

ON = dt.date(2025, 5, 10)


def run(
    tmp_path: Path,
    kind: str,
    rows: list[list[Any]],
    *,
    actor: User | None,
    union: Union | None,
    name: str = "sheet",
    commit: bool = True,
) -> Result:
    path = files.xlsx(tmp_path / f"{name}.xlsx", rows, title="2025年台账")
    return run_import(
        spec=get_spec(kind),
        path=path,
        file_name=path.name,
        actor=actor,
        default_union=union,
        commit=commit,
    )


def counts(result: Result) -> tuple[int, int, int]:
    assert result.plan is not None
    return result.plan.created, result.plan.updated, result.plan.unchanged


# 活动 ----------------------------------------------------------------------------------


ACTIVITIES = [
    ["活动", "活动类型", "活动日期", "结束日期", "组织单位", "兴趣小组", "课时"],
    ["教职工气排球赛", "球赛", "2025/5/10", "", "高中部", "", ""],
    ["师德专题讲座", "讲座", "2025年4月2日", "", "一中", "", "２"],
    ["春季踏青", "踏青", "2025.4.12", "2025.4.13", "YZCZ", "", ""],
    ["合唱排练", "合唱", "20250415", "", "第一中学", "教工合唱队", ""],  # no such club yet
    ["迎新联欢", "联欢会", ON, "", "", "", ""],  # the union imported into
]


def test_a_messy_activities_sheet_imports_whole_and_again_unchanged(
    world: World, tmp_path: Path
) -> None:
    preview = run(
        tmp_path, "activities", ACTIVITIES, actor=world.chair, union=world.school, commit=False
    )
    assert preview.ok, preview.error_lines()
    assert preview.plan is not None
    assert preview.plan.creates == ["兴趣小组「教工合唱队」（第一中学工会）"]
    assert not Club.objects.exists()
    first = run(tmp_path, "activities", ACTIVITIES, actor=world.chair, union=world.school)
    assert first.written, first.error_lines()
    stored = {
        a.title: (a.category, a.union.code, a.club.name if a.club else "")
        for a in Activity.objects.select_related("union", "club")
    }
    assert stored == {
        "教职工气排球赛": ("sports", "YZGZ", ""),
        "师德专题讲座": ("training", "YZ", ""),
        "春季踏青": ("outing", "YZCZ", ""),
        "合唱排练": ("arts", "YZ", "教工合唱队"),
        "迎新联欢": ("festival", "YZ", ""),
    }
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE, summary="成立兴趣小组：教工合唱队"
    ).exists()
    again = run(
        tmp_path, "activities", ACTIVITIES, actor=world.chair, union=world.school, name="again"
    )
    assert again.written and counts(again) == (0, 0, 5)
    assert Club.objects.count() == 1


def test_a_club_named_short_and_no_create(world: World, tmp_path: Path) -> None:
    services.club_create(actor=None, union=world.school, name="教工合唱队")
    rows = [ACTIVITIES[0], ["合唱排练", "文艺", ON, "", "", "合唱", ""]]
    result = run(tmp_path, "activities", rows, actor=world.chair, union=world.school)
    assert result.written, result.error_lines()
    assert Activity.objects.get().club.name == "教工合唱队"  # type: ignore[union-attr]
    path = files.xlsx(
        tmp_path / "c.xlsx", [ACTIVITIES[0], ["舞蹈", "文艺", ON, "", "", "舞蹈队", ""]]
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import", "activities", str(path), "--union", "YZ", "--no-create",
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert "「第一中学工会」没有兴趣小组「舞蹈队」" in err.getvalue()
    assert Club.objects.count() == 1


# 签到 ----------------------------------------------------------------------------------


ATTENDANCE = [
    ["活动", "签到日期", "职工姓名", "员工号", "出勤"],
    ["气排球", ON, "张三", "", "到场"],  # the start of 气排球赛
    ["气排球赛", ON, "", "T102", "已签"],
    ["气排球赛", ON, "孙三", "", "请假"],
    ["2025年教职工运动会", ON, "张三", "", "√"],  # no such activity yet
    ["2025年教职工运动会", ON + dt.timedelta(days=1), "钱二", "", "缺席"],
]


@pytest.fixture
def people(world: World) -> dict[str, Any]:
    return {
        "钱二": f.member(world.group, "钱二", employee_no="T102"),
        "孙三": f.member(world.group, "孙三", employee_no="T103"),
    }


def test_a_messy_attendance_sheet_finds_its_activity_and_creates_the_missing_one(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    volleyball = records.activity(world, "气排球赛", start_date=ON)
    preview = run(
        tmp_path, "attendance", ATTENDANCE, actor=world.chair, union=world.school, commit=False
    )
    assert preview.ok, preview.error_lines()
    assert preview.plan is not None
    assert preview.plan.creates == [
        "活动「2025年教职工运动会」（第一中学工会，2025-05-10 至 2025-05-11）"
    ]
    assert Activity.objects.count() == 1
    first = run(tmp_path, "attendance", ATTENDANCE, actor=world.chair, union=world.school)
    assert first.written, first.error_lines()
    games = Activity.objects.get(title="2025年教职工运动会")
    assert (games.union, games.start_date, games.end_date) == (
        world.school,
        ON,
        ON + dt.timedelta(days=1),
    )
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE, summary="发布活动：2025年教职工运动会"
    ).exists()
    marks = sorted(Registration.objects.values_list("activity__title", "member__name", "status"))
    assert marks == [
        ("2025年教职工运动会", "张三", "attended"),
        ("2025年教职工运动会", "钱二", "absent"),
        ("气排球赛", "孙三", "absent"),
        ("气排球赛", "张三", "attended"),
        ("气排球赛", "钱二", "attended"),
    ]
    assert volleyball.pk
    again = run(
        tmp_path, "attendance", ATTENDANCE, actor=world.chair, union=world.school, name="again"
    )
    assert again.written and counts(again) == (0, 0, 5)
    assert Activity.objects.count() == 2


def test_attendance_without_create_refuses_an_unknown_activity(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    records.activity(world, "教工气排球赛", start_date=ON)
    records.activity(world, "学生气排球赛", start_date=ON)
    rows = [ATTENDANCE[0], ["气排球赛", ON, "张三", "", "到"], ["运动会", ON, "张三", "", "到"]]
    result = run_import(
        spec=get_spec("attendance"),
        path=files.xlsx(tmp_path / "a.xlsx", rows),
        file_name="a.xlsx",
        actor=world.chair,
        default_union=world.school,
        commit=True,
        create_missing=False,
    )
    assert result.error_lines() == [
        "第2行「活动」：这一天的「气排球赛」可能是：「学生气排球赛（高中部分工会）」、"
        "「教工气排球赛（高中部分工会）」，请写完整的活动名称",
        "第3行「活动」：系统中没有活动「运动会」：请先在「文体 › 活动」中登记或导入该活动，"
        "或去掉 --no-create 随导入新建",
    ]
    assert Activity.objects.count() == 2 and not Registration.objects.exists()


# 荣誉 ----------------------------------------------------------------------------------


HONOURS = [
    ["获奖人", "荣誉类型", "荣誉", "等级", "颁发单位", "获奖日期", "职工号"],
    ["张三", "先进个人", "优秀教师", "地市级", "市教育局", "2025-09-10", ""],
    ["第一中学", "先进集体", "模范职工之家", "全国", "全国总工会", "2025-04-28", ""],
    ["高中部", "集体", "工人先锋号", "省部", "省总工会", "2025-04-28", ""],
    ["初中数学组", "集体荣誉", "巾帼文明岗", "区县", "区总工会", "2025-03-08", ""],
    ["钱二", "个人", "师德标兵", "校级", "", "2025-01-20", "T102"],
]


def test_a_messy_honours_sheet_imports_whole_and_again_unchanged(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    # Imported without choosing a union: the collectives name their unions.
    first = run(tmp_path, "honours", HONOURS, actor=world.chair, union=None)
    assert first.written, first.error_lines()
    stored = sorted(
        Honour.objects.values_list("recipient", "kind", "union__code", "level", "title")
    )
    assert stored == [
        ("初中数学组", "collective", "YZCZSX", "county", "巾帼文明岗"),
        ("张三", "individual", "YZGZYW", "city", "优秀教师"),
        ("第一中学工会", "collective", "YZ", "national", "模范职工之家"),
        ("钱二", "individual", "YZGZYW", "unit", "师德标兵"),
        ("高中部分工会", "collective", "YZGZ", "provincial", "工人先锋号"),
    ]
    again = run(tmp_path, "honours", HONOURS, actor=world.chair, union=None, name="again")
    assert again.written and counts(again) == (0, 0, 5)


def test_a_collective_honour_naming_a_union_out_of_reach_or_ambiguously(
    world: World, tmp_path: Path
) -> None:
    rows = [
        HONOURS[0],
        ["初中", "集体", "先进集体", "市级", "", "2025-04-28", ""],  # 初中部分工会, 初中数学组
        ["第二中学工会", "集体", "先进集体", "市级", "", "2025-04-28", ""],
    ]
    result = run(tmp_path, "honours", rows, actor=world.chair, union=None)
    assert result.error_lines() == [
        "第3行「获奖人」：「初中」可能是：「初中数学组（代码 YZCZSX）」、「初中部分工会（代码 YZCZ）」，"
        "请写完整的组织名称",
        "第4行「获奖人」：「第二中学工会」不是您可以导入的范围内的工会组织：请写工会组织的名称，"
        "或导入时指定这项集体荣誉归入的工会（网页上选择「导入到」，命令行用 --union）",
    ]


def test_a_blank_kind_naming_a_union_in_full_is_a_collective(world: World, tmp_path: Path) -> None:
    rows = [
        ["获奖者", "荣誉称号", "级别", "日期"],
        ["高中部分工会", "工人先锋号", "市级", "2025-04-28"],
        ["张三", "优秀教师", "市级", "2025-04-28"],
    ]
    result = run(tmp_path, "honours", rows, actor=world.chair, union=world.school)
    assert result.written, result.error_lines()
    assert sorted(Honour.objects.values_list("recipient", "kind", "union__code")) == [
        ("张三", "individual", "YZGZYW"),
        ("高中部分工会", "collective", "YZGZ"),
    ]
