"""文体活动 and 荣誉 in Excel: a year's activities, the attendance taken on paper, the
honours. Organising unions by name or code, members as every ledger names them; all or
nothing; the same sheet twice adds nothing; an export imports back unchanged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from gonghui.activities import services
from gonghui.activities.models import Activity, Registration
from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import Result, run_import
from gonghui.common.imports.jobs import export_records
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.honours import services as honour_services
from gonghui.honours.models import Honour
from gonghui.members import services as member_services
from gonghui.members.models import Member
from gonghui.org.models import Union, User
from tests import factories as f
from tests.conftest import World
from tests.imports import files

from . import records

D = Decimal
ON = dt.date(2025, 5, 10)
ACTIVITY_HEADERS = ["活动名称", "类别", "开始日期", "结束日期", "组织工会", "地点", "学时", "备注"]
ATTENDANCE_HEADERS = ["活动名称", "日期", "姓名", "身份证号", "工号", "会员证号", "状态"]
HONOUR_HEADERS = ["获奖者", "类型", "荣誉称号", "级别", "授予单位", "日期", "工号"]


def run(
    tmp_path: Path,
    kind: str,
    rows: list[list[Any]],
    headers: list[str],
    *,
    actor: User | None,
    union: Union | None,
    commit: bool = True,
) -> Result:
    path = files.xlsx(tmp_path / f"{kind}.xlsx", [headers, *rows], text_columns=[3, 4, 5])
    return run_import(
        spec=get_spec(kind),
        path=path,
        file_name=f"{kind}.xlsx",
        actor=actor,
        default_union=union,
        commit=commit,
    )


def counts(result: Result) -> tuple[int, int, int]:
    assert result.plan is not None, result.error_lines()
    return result.plan.created, result.plan.updated, result.plan.unchanged


def reimport_export(tmp_path: Path, kind: str, w: World) -> Result:
    spec = get_spec(kind)
    data, count = export_records(
        spec=spec,
        actor=w.chair,
        qs=spec.export_queryset(w.chair, None),
        root=None,
        full_pii=False,
    )
    assert count > 0
    path = files.write(tmp_path / f"{kind}-导出.xlsx", data)
    return run_import(
        spec=spec,
        path=path,
        file_name=f"{kind}-导出.xlsx",
        actor=w.chair,
        default_union=w.school,
        commit=True,
    )


# Activities -----------------------------------------------------------------------------

ACTIVITY_ROWS: list[list[Any]] = [
    ["教职工气排球赛", "体育", ON, None, "高中部分工会", "学校体育馆", None, ""],
    ["读书分享会", "读书征文", dt.date(2025, 4, 23), None, "yzcz", "图书馆", None, "世界读书日"],
    ["新教师培训", "培训班", dt.date(2025, 8, 20), dt.date(2025, 8, 22), "", "", 12, ""],
    ["劳模疗休养", "疗休养", dt.date(2025, 10, 13), dt.date(2025, 10, 17), "YZ", "黄山", None, ""],
    ["师德讲座", "讲座", dt.date(2025, 9, 9), None, "第一中学工会", "报告厅", "1.5", ""],
]


def test_activities_are_imported_with_their_unions_by_name_or_code(
    world: World, tmp_path: Path
) -> None:
    result = run(
        tmp_path,
        "activities",
        ACTIVITY_ROWS,
        ACTIVITY_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    assert result.written, result.error_lines()
    assert counts(result) == (5, 0, 0)
    got = [
        (a.title, a.category, a.union.name, a.audience_id == a.union_id, a.start_date, a.end_date,
         a.hours, a.place)
        for a in Activity.objects.select_related("union").order_by("id")
    ]  # fmt: skip
    assert got == [
        ("教职工气排球赛", "sports", "高中部分工会", True, ON, ON, None, "学校体育馆"),
        ("读书分享会", "reading", "初中部分工会", True, dt.date(2025, 4, 23),
         dt.date(2025, 4, 23), None, "图书馆"),
        ("新教师培训", "training", "第一中学工会", True, dt.date(2025, 8, 20),
         dt.date(2025, 8, 22), D("12.0"), ""),
        ("劳模疗休养", "outing", "第一中学工会", True, dt.date(2025, 10, 13),
         dt.date(2025, 10, 17), None, "黄山"),
        ("师德讲座", "training", "第一中学工会", True, dt.date(2025, 9, 9),
         dt.date(2025, 9, 9), D("1.5"), "报告厅"),
    ]  # fmt: skip
    assert Activity.objects.get(title="读书分享会").note == "世界读书日"
    keys = list(Activity.objects.values_list("checkin_key", flat=True))
    assert all(len(k) >= 32 for k in keys) and len(set(keys)) == 5
    assert set(Activity.objects.values_list("created_by", flat=True)) == {world.chair.pk}
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert (entry.actor, entry.union, entry.changes["新增"]) == (world.chair, world.school, ["", 5])
    assert entry.summary == "导入活动「activities.xlsx」：5 条"


def test_the_same_activities_twice_add_nothing(world: World, tmp_path: Path) -> None:
    args: dict[str, Any] = {"actor": world.chair, "union": world.school}
    assert run(tmp_path, "activities", ACTIVITY_ROWS, ACTIVITY_HEADERS, **args).written
    again = run(tmp_path, "activities", ACTIVITY_ROWS, ACTIVITY_HEADERS, **args)
    assert counts(again) == (0, 0, 5)
    assert Activity.objects.count() == 5
    # An activity entered on the form counts as already there too.
    records.activity(world, "秋季运动会", start_date=dt.date(2025, 10, 20))
    row = ["秋季运动会", "体育", dt.date(2025, 10, 20), None, "YZGZ", "", None, ""]
    assert counts(run(tmp_path, "activities", [row], ACTIVITY_HEADERS, **args)) == (0, 0, 1)
    twice = run(tmp_path, "activities", ACTIVITY_ROWS[:1] * 2, ACTIVITY_HEADERS, **args)
    assert twice.error_lines() == ["第3行：与第2行重复"]


def test_bad_activity_rows_are_errors_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    rows = [
        ACTIVITY_ROWS[0],
        ["倒着的活动", "体育", ON, ON - dt.timedelta(days=1), "", "", None, ""],
        ["拔河", "打牌", ON, None, "", "", None, ""],
        ["远足", "参观", ON, None, "第九中学工会", "", None, ""],
        ["", "体育", ON, None, "", "", None, ""],
        ["负学时", "培训", ON, None, "", "", -2, ""],
    ]
    result = run(
        tmp_path, "activities", rows, ACTIVITY_HEADERS, actor=world.chair, union=world.school
    )
    assert not result.written
    lines = result.error_lines()
    assert lines[0] == "第3行「结束日期」：早于开始日期"
    assert lines[1].startswith("第4行「类别」：「打牌」不在可选范围内")
    assert lines[2] == "第5行「组织工会」：找不到名称或代码为「第九中学工会」的工会组织"
    assert lines[3] == "第6行「活动名称」：必填，不能为空"
    assert lines[4] == "第7行「学时」：不能为负数"
    assert len(lines) == 5
    assert Activity.objects.count() == 0
    assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()


def test_a_branch_officer_imports_into_their_branch_only(world: World, tmp_path: Path) -> None:
    rows = [
        ["教职工气排球赛", "体育", ON, None, "", "", None, ""],
        ["读书分享会", "读书", ON, None, "初中部分工会", "", None, ""],
    ]
    result = run(
        tmp_path, "activities", rows, ACTIVITY_HEADERS, actor=world.officer, union=world.branch
    )
    assert result.error_lines() == ["第3行「组织工会」：「初中部分工会」不在您可以导入的范围内"]
    refused = run(
        tmp_path, "activities", rows[:1], ACTIVITY_HEADERS, actor=world.officer, union=world.school
    )
    assert refused.problem == "您没有向「第一中学工会」导入活动的权限。"
    assert Activity.objects.count() == 0


def test_an_activity_export_imports_back_unchanged(world: World, tmp_path: Path) -> None:
    run(
        tmp_path,
        "activities",
        ACTIVITY_ROWS,
        ACTIVITY_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    records.activity(world, "合唱排练", category="arts", start_date=dt.date(2025, 11, 1))
    result = reimport_export(tmp_path, "activities", world)
    assert counts(result) == (0, 0, 6), result.error_lines()
    assert Activity.objects.count() == 6


# Attendance -----------------------------------------------------------------------------


def roster(w: World) -> dict[str, Member]:
    """赵一 (工号 T002), 钱二 (by 会员证号), 孙三 (a name of its own) in 高中语文组."""
    return {
        "赵一": f.member(w.group, "赵一", employee_no="T002"),
        "钱二": f.member(w.group, "钱二"),
        "孙三": f.member(w.group, "孙三"),
    }


def test_attendance_finds_the_activity_by_name_and_day_and_the_member_as_ledgers_do(
    world: World, tmp_path: Path
) -> None:
    people = roster(world)
    volleyball = records.activity(world, "气排球赛", start_date=ON)
    training = records.activity(
        world,
        "新教师培训",
        category="training",
        start_date=dt.date(2025, 8, 20),
        end_date=dt.date(2025, 8, 22),
    )
    services.register(actor=world.officer, activity=volleyball, member=people["钱二"])
    services.attendance_mark(actor=None, activity=volleyball, attended=[people["赵一"]])
    rows = [
        ["气排球赛", ON, "", "", "T001", "", "签到"],  # 张三: new
        ["气排球赛", ON, "", "", "", people["钱二"].card_no, "已签到"],  # signed up: updated
        ["气排球赛", ON, "孙三", "", "", "", "缺席"],  # new, absent
        ["气排球赛", ON, "赵一", "", "T002", "", ""],  # already present: unchanged
        ["新教师培训", dt.date(2025, 8, 21), "", "", "T002", "", "到"],  # its second day
    ]
    result = run(
        tmp_path, "attendance", rows, ATTENDANCE_HEADERS, actor=world.chair, union=world.school
    )
    assert result.written, result.error_lines()
    assert counts(result) == (3, 1, 1)
    got = {
        (r.activity.title, r.member.name): (r.status, r.source, r.checked_in_at is not None)
        for r in Registration.objects.select_related("activity", "member")
    }
    assert got == {
        ("气排球赛", "张三"): ("attended", "import", True),
        ("气排球赛", "钱二"): ("attended", "import", True),
        ("气排球赛", "孙三"): ("absent", "import", False),
        ("气排球赛", "赵一"): ("attended", "officer", True),
        ("新教师培训", "赵一"): ("attended", "import", True),
    }
    assert Registration.objects.get(member=people["钱二"]).marked_by == world.chair
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert (entry.actor, entry.changes["新增"]) == (world.chair, ["", 4])
    assert entry.summary == "导入签到记录「attendance.xlsx」：4 条"
    assert {training.pk, volleyball.pk} == set(
        Registration.objects.values_list("activity_id", flat=True)
    )


def test_changing_a_mark_is_an_update_and_the_same_sheet_twice_adds_nothing(
    world: World, tmp_path: Path
) -> None:
    records.activity(world, "气排球赛", start_date=ON)
    args: dict[str, Any] = {"actor": world.chair, "union": world.school}
    present = [["气排球赛", ON, "张三", "", "", "", "签到"]]
    assert counts(run(tmp_path, "attendance", present, ATTENDANCE_HEADERS, **args)) == (1, 0, 0)
    assert counts(run(tmp_path, "attendance", present, ATTENDANCE_HEADERS, **args)) == (0, 0, 1)
    absent = [["气排球赛", ON, "张三", "", "", "", "缺席"]]
    assert counts(run(tmp_path, "attendance", absent, ATTENDANCE_HEADERS, **args)) == (0, 1, 0)
    r = Registration.objects.get()
    assert (r.status, r.checked_in_at) == ("absent", None)
    twice = run(tmp_path, "attendance", present + present, ATTENDANCE_HEADERS, **args)
    assert twice.error_lines() == ["第3行：与第2行是同一活动的同一会员"]


def test_a_sheet_does_not_overrule_a_members_own_scan_at_the_door(
    world: World, tmp_path: Path
) -> None:
    today = dt.date.today()
    a = records.activity(world, "气排球赛", start_date=today)
    services.checkin_self(actor=world.member_user, activity=a, token=services.checkin_token(a))
    zhao = f.member(world.group, "赵一")
    sheet = [
        ["气排球赛", today, "张三", "", "", "", "缺席"],
        ["气排球赛", today, "赵一", "", "", "", "缺席"],
    ]
    result = run(
        tmp_path, "attendance", sheet, ATTENDANCE_HEADERS, actor=world.chair, union=world.school
    )
    [line] = result.error_lines()
    assert line.startswith("第2行「状态」：该会员已于")
    assert line.endswith(
        "扫码签到，表中却为「缺席」。请核对后把这一行改为「签到」或删去；"
        "确属误签的，请到活动页面改为缺席"
    )
    assert not result.written
    # Checked, then 赵一 scans in before the officer confirms: his scan stands.
    plan = services.ImportPlan(
        registrations=[
            Registration(
                activity=a, member=zhao, union=zhao.union, status="absent", source="import"
            )
        ]
    )
    zhao_user = f.user("zhaoyi", world.group, "member")
    member_services.member_link_user(actor=None, member=zhao, user=zhao_user)
    services.checkin_self(actor=zhao_user, activity=a, token=services.checkin_token(a))
    services.attendance_import(actor=world.chair, plan=plan)
    assert sorted(Registration.objects.values_list("member__name", "status", "source")) == [
        ("张三", "attended", "qr"),
        ("赵一", "attended", "qr"),
    ]


def test_bad_attendance_rows_are_errors_and_nothing_is_written(
    world: World, tmp_path: Path
) -> None:
    people = roster(world)
    volleyball = records.activity(world, "气排球赛", start_date=ON)
    records.activity(world, "拔河比赛", start_date=ON, union=world.other_branch)
    services.register(actor=world.officer, activity=volleyball, member=people["钱二"])
    before = list(Registration.objects.values_list("member_id", "status"))
    rows = [
        ["气排球赛", ON, "张三", "", "", "", "签到"],  # good
        ["气排球赛", ON, "钱二", "", "", "", "签到"],  # good (an update)
        ["气排球赛", ON + dt.timedelta(days=1), "孙三", "", "", "", "签到"],  # wrong day
        ["篮球赛", ON, "孙三", "", "", "", "签到"],  # no such activity: created, were all well
        ["气排球赛", ON, "李四", "", "", "", "签到"],  # branch A2: not in the audience
        ["气排球赛", ON, "", "", "T999", "", "签到"],  # nobody has that number
        ["气排球赛", ON, "赵六", "", "", "", "签到"],  # nobody has that name
        ["气排球赛", ON, "孙三", "", "", "", "迟到"],  # no such mark
    ]
    result = run(
        tmp_path, "attendance", rows, ATTENDANCE_HEADERS, actor=world.chair, union=world.school
    )
    assert not result.written
    lines = result.error_lines()
    assert lines[:4] == [
        "第4行「活动名称」：「气排球赛」在 2025-05-10 举办，与本行日期（2025-05-11）不符",
        "第6行：本活动仅限「高中部分工会」的会员参加。",
        "第7行「工号」：名册中（您可以导入的范围内）没有工号为「T999」的会员",
        "第8行「姓名」：名册中（您可以导入的范围内）没有名为「赵六」的会员",
    ]
    assert lines[4].startswith("第9行「状态」：「迟到」不在可选范围内")
    assert len(lines) == 5
    assert result.plan is not None
    assert result.plan.creates == ["活动「篮球赛」（第一中学工会，2025-05-10）"]
    assert list(Registration.objects.values_list("member_id", "status")) == before
    assert not AuditEntry.objects.filter(action=AuditAction.IMPORT).exists()


def test_attendance_of_a_member_who_left_or_of_a_club_activity_is_refused(
    world: World, tmp_path: Path
) -> None:

    gone = f.member(world.group, "赵一", employee_no="T002")
    member_services.member_change(actor=None, member=gone, kind="withdraw", date=ON)
    club = records.club(world)
    records.activity(world, "合唱排练", category="arts", start_date=ON, club=club)
    rows = [
        ["合唱排练", ON, "张三", "", "", "", "签到"],
        ["合唱排练", ON, "", "", "T002", "", "签到"],
    ]
    result = run(
        tmp_path, "attendance", rows, ATTENDANCE_HEADERS, actor=world.chair, union=world.school
    )
    assert result.error_lines() == [
        "第2行：本活动仅限「合唱队」成员参加。",
        "第3行：赵一目前「已退会」，不能报名。",
    ]


def test_an_attendance_export_imports_back_unchanged(world: World, tmp_path: Path) -> None:
    people = roster(world)
    volleyball = records.activity(world, "气排球赛", start_date=ON)
    services.attendance_mark(
        actor=None,
        activity=volleyball,
        attended=[world.member, people["赵一"], people["孙三"]],
        absent=[],
    )
    services.register(actor=world.officer, activity=volleyball, member=people["钱二"])
    services.attendance_mark(actor=None, activity=volleyball, absent=[people["钱二"]])
    result = reimport_export(tmp_path, "attendance", world)
    assert counts(result) == (0, 0, 4), result.error_lines()


# Honours --------------------------------------------------------------------------------


def test_honours_to_members_and_to_collectives(world: World, tmp_path: Path) -> None:
    zhao = f.member(world.group, "赵一", employee_no="T002")
    rows = [
        ["张三", "个人", "全国优秀教师", "全国", "教育部", dt.date(2025, 9, 10), "T001"],
        ["李四", "", "骨干教师", "省级", "安徽省教育厅", dt.date(2025, 6, 1), ""],
        ["赵一", "个人荣誉", "优秀班主任", "市级", "市教育局", dt.date(2025, 3, 15), "T002"],
        ["张三", "个人", "先进工作者", "校级", "第一中学", dt.date(2025, 1, 20), ""],
        ["高中语文组", "集体", "模范职工小家", "地市级", "市总工会", dt.date(2025, 4, 28), ""],
        ["初中数学组", "团体", "巾帼文明岗", "区县", "区总工会", dt.date(2025, 11, 11), ""],
    ]
    result = run(tmp_path, "honours", rows, HONOUR_HEADERS, actor=world.chair, union=world.school)
    assert result.written, result.error_lines()
    assert counts(result) == (6, 0, 0)
    got = [
        (h.recipient, h.kind, h.member_id, h.union, h.title, h.level, h.awarded_by, h.date)
        for h in Honour.objects.order_by("id")
    ]
    assert got == [
        ("张三", "individual", world.member.pk, world.group, "全国优秀教师", "national",
         "教育部", dt.date(2025, 9, 10)),
        ("李四", "individual", world.other_branch_member.pk, world.other_group, "骨干教师",
         "provincial", "安徽省教育厅", dt.date(2025, 6, 1)),
        ("赵一", "individual", zhao.pk, world.group, "优秀班主任", "city", "市教育局",
         dt.date(2025, 3, 15)),
        ("张三", "individual", world.member.pk, world.group, "先进工作者", "unit", "第一中学",
         dt.date(2025, 1, 20)),
        # A collective that is a union belongs to it.
        ("高中语文组", "collective", None, world.group, "模范职工小家", "city", "市总工会",
         dt.date(2025, 4, 28)),
        ("初中数学组", "collective", None, world.other_group, "巾帼文明岗", "county", "区总工会",
         dt.date(2025, 11, 11)),
    ]  # fmt: skip
    assert set(Honour.objects.values_list("created_by", flat=True)) == {world.chair.pk}
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert (entry.actor, entry.union, entry.changes["新增"]) == (world.chair, world.school, ["", 6])

    again = run(tmp_path, "honours", rows, HONOUR_HEADERS, actor=world.chair, union=world.school)
    assert counts(again) == (0, 0, 6)
    assert Honour.objects.count() == 6


def test_a_collective_honour_goes_to_the_union_it_names_or_needs_one(
    world: World, tmp_path: Path
) -> None:
    rows = [
        ["张三", "个人", "优秀教师", "市级", "", dt.date(2025, 9, 10), ""],
        ["语文教研室", "集体", "模范职工小家", "市级", "", dt.date(2025, 4, 28), ""],
        ["", "集体", "巾帼文明岗", "区级", "", dt.date(2025, 4, 28), ""],
    ]
    result = run(tmp_path, "honours", rows, HONOUR_HEADERS, actor=world.chair, union=None)
    assert result.error_lines() == [
        "第3行「获奖者」：「语文教研室」不是您可以导入的范围内的工会组织：请写工会组织的名称，"
        "或导入时指定这项集体荣誉归入的工会（网页上选择「导入到」，命令行用 --union）",
        "第4行「获奖者」：请填写获奖集体的名称",
    ]
    nameless = run(
        tmp_path, "honours", rows[2:], HONOUR_HEADERS, actor=world.chair, union=world.school
    )
    assert nameless.error_lines() == ["第2行「获奖者」：请填写获奖集体的名称"]
    assert Honour.objects.count() == 0


def test_bad_honour_rows_are_errors_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    rows = [
        ["张三", "个人", "优秀教师", "市级", "", dt.date(2025, 9, 10), ""],
        ["张三", "个人", "优秀教师", "市级", "", dt.date(2025, 9, 10), ""],
        ["王五", "个人", "优秀教师", "市级", "", dt.date(2025, 9, 10), ""],
        ["张三", "个人", "未来之星", "市级", "", tomorrow, ""],
        ["张三", "个人", "好老师", "宇宙级", "", dt.date(2025, 9, 10), ""],
        ["张三", "个人", "", "市级", "", dt.date(2025, 9, 10), ""],
    ]
    result = run(tmp_path, "honours", rows, HONOUR_HEADERS, actor=world.chair, union=world.school)
    lines = result.error_lines()
    assert lines[:3] == [
        "第3行：与第2行重复",
        "第4行「获奖者」：名册中（您可以导入的范围内）没有名为「王五」的会员",
        "第5行「日期」：不能晚于今天",
    ]
    assert lines[3].startswith("第6行「级别」：「宇宙级」不在可选范围内")
    assert lines[-1] == "第7行「荣誉称号」：必填，不能为空"
    assert len(lines) == 5
    assert Honour.objects.count() == 0


def test_two_members_of_the_same_name_may_receive_the_same_honour(
    world: World, tmp_path: Path
) -> None:
    f.member(world.branch, "张三", employee_no="T777")
    rows = [
        ["张三", "个人", "优秀共产党员", "区级", "区委教育工委", dt.date(2025, 7, 1), "T001"],
        ["张三", "个人", "优秀共产党员", "区级", "区委教育工委", dt.date(2025, 7, 1), "T777"],
    ]
    result = run(tmp_path, "honours", rows, HONOUR_HEADERS, actor=world.chair, union=world.school)
    assert result.written, result.error_lines()
    assert Honour.objects.count() == 2


def test_an_honour_export_imports_back_unchanged(world: World, tmp_path: Path) -> None:
    honour_services.honour_create(
        actor=None,
        kind="individual",
        member=world.member,
        title="全国优秀教师",
        level="national",
        awarded_by="教育部",
        date=dt.date(2025, 9, 10),
    )
    honour_services.honour_create(
        actor=None,
        kind="collective",
        union=world.school,
        recipient="第一中学工会",
        title="模范职工之家",
        level="provincial",
        date=dt.date(2025, 4, 28),
    )
    honour_services.honour_create(
        actor=None,
        kind="individual",
        member=world.other_branch_member,
        title="优秀班主任",
        level="unit",
        date=dt.date(2025, 6, 1),
    )
    result = reimport_export(tmp_path, "honours", world)
    assert counts(result) == (0, 0, 3), result.error_lines()
    assert Honour.objects.count() == 3
