"""The figures of 文体活动与培训 and 荣誉 for the work report, on a worked dataset: every
key's exact value for the school, a branch and the district; participation by branch
and per activity; the paragraphs; and each figure's source page, which lists exactly
the figure."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from gonghui.activities import queries, report, services
from gonghui.activities.queries import (
    Participation,
    activity_participation,
    participation_by_branch,
    period_participation,
)
from gonghui.activities.services import ActivityFields
from gonghui.common.reporting import Fact, Period
from gonghui.honours import report as honours_report
from gonghui.honours import services as honour_services
from gonghui.members import services as member_services
from gonghui.members.models import Member
from gonghui.org.models import Union
from tests import factories as f
from tests.conftest import World, login

from . import records

D = Decimal
YEAR = 2025
PERIOD = Period.year(YEAR)
TODAY = dt.date.today()


def on(month: int, day: int) -> dt.date:
    return dt.date(YEAR, month, day)


def held(w: World, title: str, union: Union, start: dt.date, came: list[Member], **kw: Any) -> Any:
    """An activity that took place, with those who came marked present."""
    a = records.activity(w, title, union=union, start_date=start, **kw)
    if came:
        services.attendance_mark(actor=None, activity=a, attended=came)
    return a


def fill(w: World) -> dict[str, Any]:
    """The worked dataset of 2025 (see each figure's test for the sums).

    第一中学工会
    ├── 高中部分工会 / 高中语文组: 张三, 赵一, 钱二, 退会甲 (withdrew 2025-06-30),
    │                              新人 (joined 2026, after the period)
    └── 初中部分工会 / 初中数学组: 李四, 孙三
    第二中学工会 / 英语组: 王五
    """
    zhao, qian = (f.member(w.group, n) for n in ("赵一", "钱二"))
    gone = f.member(w.group, "退会甲")
    f.member(w.group, "新人", join_date=dt.date(YEAR + 1, 2, 1))
    sun = f.member(w.other_group, "孙三")
    li, wang = w.other_branch_member, w.other_school_member

    volleyball = held(w, "气排球赛", w.branch, on(4, 10), [w.member, zhao])
    services.register(actor=None, activity=volleyball, member=qian, source="officer")
    services.attendance_mark(actor=None, activity=volleyball, absent=[qian])
    services.award_add(
        actor=None,
        activity=volleyball,
        rank=1,
        prize="一等奖",
        prize_value=D(300),
        member=w.member,
        confirm_over_cap=True,
    )
    etiquette = held(
        w,
        "教师礼仪培训",
        w.school,
        on(5, 20),
        [w.member, li, sun],
        category="training",
        hours=D(4),
    )
    lecture = held(
        w,
        "心理健康讲座",
        w.other_branch,
        on(9, 1),
        [li],
        category="training",
        hours=D("2.5"),
        end_date=on(9, 2),
    )
    choir = held(w, "合唱比赛", w.school, on(3, 8), [gone, w.member], category="arts")
    services.award_add(
        actor=None,
        activity=choir,
        rank=1,
        prize="团体一等奖",
        prize_value=D(500),
        team="高中语文组",
        confirm_over_cap=True,
    )
    services.award_add(
        actor=None,
        activity=choir,
        rank=2,
        prize="二等奖",
        prize_value=D(200),
        member=gone,
        confirm_over_cap=True,
    )
    member_services.member_change(actor=None, member=gone, kind="withdraw", date=on(6, 30))
    # Cancelled after 赵一 was marked present: it was not held.
    hike = held(w, "春季徒步", w.school, on(4, 1), [zhao], category="outing")
    services.activity_cancel(actor=None, activity=hike, reason="暴雨")
    # Another school's, and last year's.
    held(w, "二中篮球赛", w.other_school, on(5, 1), [wang])
    held(
        w,
        "寒假教研培训",
        w.school,
        dt.date(YEAR - 1, 12, 20),
        [qian],
        category="training",
        hours=D(3),
    )

    def honour(**kw: Any) -> None:
        honour_services.honour_create(actor=None, **kw)

    ind, col = "individual", "collective"
    honour(kind=ind, member=w.member, title="全国优秀教师", level="national",
           awarded_by="教育部", date=on(9, 10))  # fmt: skip
    honour(kind=ind, member=li, title="省级骨干教师", level="provincial",
           awarded_by="安徽省教育厅", date=on(6, 1))  # fmt: skip
    honour(kind=ind, member=zhao, title="优秀班主任", level="city",
           awarded_by="市教育局", date=on(3, 15))  # fmt: skip
    honour(kind=ind, member=qian, title="先进工作者", level="unit",
           awarded_by="第一中学", date=on(1, 20))  # fmt: skip
    honour(kind=col, union=w.group, recipient="高中语文组", title="模范职工小家",
           level="city", awarded_by="市总工会", date=on(4, 28))  # fmt: skip
    honour(kind=col, union=w.other_group, recipient="初中数学组", title="巾帼文明岗",
           level="county", awarded_by="区总工会", date=on(11, 11))  # fmt: skip
    honour(kind=ind, member=w.member, title="区优秀教师", level="county",
           awarded_by="区教育局", date=dt.date(YEAR - 1, 9, 10))  # fmt: skip
    honour(kind=ind, member=wang, title="全国模范教师", level="national",
           awarded_by="教育部", date=on(9, 10))  # fmt: skip
    return {"volleyball": volleyball, "etiquette": etiquette, "lecture": lecture}


def values(union: Union, period: Period = PERIOD) -> dict[str, Any]:
    found = report.facts(union=union, period=period) + honours_report.facts(
        union=union, period=period
    )
    return {x.key: x.value for x in found}


# The figures ----------------------------------------------------------------------------

SCHOOL = {
    # 气排球赛, 教师礼仪培训, 心理健康讲座, 合唱比赛 (not: the cancelled walk, the other
    # school's match, last year's class).
    "activities.count": 4,
    # 2 + 3 + 1 + 2 (钱二 was absent).
    "activities.attendance": 8,
    # On the roster at 2025-12-31: 张三, 赵一, 钱二, 李四, 孙三 (not 退会甲, gone; nor
    # 新人, who joined in 2026). Of them 张三, 赵一, 李四, 孙三 came: 4 / 5.
    "activities.participation_rate": D("80.0"),
    "training.sessions": 2,
    "training.attendance": 4,
    "training.hours": D("6.5"),
    # 张三's first prize; the team's and 退会甲's at the choir contest.
    "awards.count": 3,
    # 张三, 李四, 赵一, 钱二 (not 张三's of 2024, nor 王五 of the other school).
    "honours.individual": 4,
    "honours.collective": 2,
}
BRANCH = {
    "activities.count": 1,
    "activities.attendance": 2,
    "activities.participation_rate": D("66.7"),  # 张三, 赵一 of 张三, 赵一, 钱二
    "training.sessions": 0,
    "training.attendance": 0,
    "training.hours": D("0.0"),
    "awards.count": 1,
    "honours.individual": 3,
    "honours.collective": 1,
}
DISTRICT = {
    "activities.count": 5,
    "activities.attendance": 9,
    "activities.participation_rate": D("83.3"),  # and 王五: 5 / 6
    "training.sessions": 2,
    "training.attendance": 4,
    "training.hours": D("6.5"),
    "awards.count": 3,
    "honours.individual": 5,
    "honours.collective": 2,
}


def test_the_figures_of_the_school_a_branch_and_the_district(world: World) -> None:
    fill(world)
    got = {
        "school": values(world.school),
        "branch": values(world.branch),
        "district": values(world.district),
    }
    assert got == {"school": SCHOOL, "branch": BRANCH, "district": DISTRICT}
    assert all(type(got["school"][k]) is int for k in ("activities.count", "awards.count"))


def test_both_ways_of_counting_participation_agree(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small rosters are counted member by member, big ones against the period's whole
    attendance: the figures are the same either way."""
    fill(world)
    member_services.member_update(
        actor=None, member=Member.objects.get(name="赵一"), union=world.other_group
    )

    def counted() -> Any:
        return (
            [period_participation(u, PERIOD) for u in (world.school, world.branch)],
            period_participation(world.school, PERIOD, category="training"),
            participation_by_branch(world.school, PERIOD),
            participation_by_branch(world.district, PERIOD),
        )

    assert queries.MEMBER_BY_MEMBER_UP_TO >= 5
    member_by_member = counted()
    monkeypatch.setattr(queries, "MEMBER_BY_MEMBER_UP_TO", 0)
    assert counted() == member_by_member
    assert member_by_member[0] == [Participation(4, 5), Participation(1, 2)]


def test_the_period_bounds_the_figures(world: World) -> None:
    fill(world)
    spring = Period(dt.date(YEAR, 3, 1), dt.date(YEAR, 4, 30))
    got = values(world.school, spring)
    assert {k: got[k] for k in ("activities.count", "activities.attendance", "awards.count")} == {
        "activities.count": 2,  # 合唱比赛, 气排球赛
        "activities.attendance": 4,
        "awards.count": 3,
    }
    # On the roster at 30 April: the five, and 退会甲, who had not left yet and sang in
    # the choir: 张三, 赵一, 退会甲 of 6.
    assert got["activities.participation_rate"] == D("50.0")
    assert (got["honours.individual"], got["honours.collective"]) == (1, 1)
    last_year = values(world.school, Period.year(YEAR - 1))
    assert (
        last_year["training.sessions"],
        last_year["training.attendance"],
        last_year["training.hours"],
        last_year["honours.individual"],
    ) == (1, 1, D("3.0"), 1)


def test_the_participation_rate_counts_people_not_attendances(world: World) -> None:
    """张三 came to three activities: he counts once; 新人 joined after the period and is
    not on its roster; with nobody on the roster there is no rate at all."""
    fill(world)
    fact = {x.key: x for x in report.facts(union=world.school, period=PERIOD)}
    rate = fact["activities.participation_rate"]
    assert (rate.value, rate.unit, rate.note) == (
        D("80.0"),
        "%",
        "期末在册会员 5 人，其中参加过本组织或上级组织所办活动的 4 人。",
    )
    empty = f.union("退休教师协会", parent=world.school)
    nobody = {x.key: x for x in report.facts(union=empty, period=PERIOD)}
    assert nobody["activities.participation_rate"].value is None
    assert nobody["activities.participation_rate"].note == "期末没有在册会员。"


def test_activities_cancelled_or_still_to_come_are_not_counted(world: World) -> None:
    now = Period(TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=30))
    today = records.activity(world, "拔河比赛")
    services.attendance_mark(actor=None, activity=today, attended=[world.member])
    records.activity(
        world,
        "新年读书会",
        category="training",
        hours=D(2),
        start_date=TODAY + dt.timedelta(days=1),
    )
    soon = records.activity(world, "篮球赛", start_date=TODAY + dt.timedelta(days=2))
    services.register(actor=None, activity=soon, member=world.member)
    off = records.activity(world, "登山", start_date=TODAY - dt.timedelta(days=1))
    services.attendance_mark(actor=None, activity=off, attended=[world.member])
    services.activity_cancel(actor=None, activity=off, reason="封山")

    got = values(world.school, now)
    assert {k: got[k] for k in SCHOOL if k.startswith(("activities", "training"))} == {
        "activities.count": 1,
        "activities.attendance": 1,
        "activities.participation_rate": D("50.0"),  # 张三 of 张三, 李四
        "training.sessions": 0,
        "training.attendance": 0,
        "training.hours": D("0.0"),
    }


def test_participation_by_branch(world: World) -> None:
    fill(world)
    school = [(u.name, p) for u, p in participation_by_branch(world.school, PERIOD)]
    assert school == [
        ("高中部分工会", Participation(2, 3)),
        ("初中部分工会", Participation(2, 2)),
    ]
    assert [p.rate for _, p in school] == [D("66.7"), D("100.0")]
    district = [(u.name, p) for u, p in participation_by_branch(world.district, PERIOD)]
    assert district == [
        ("第一中学工会", Participation(4, 5)),
        ("第二中学工会", Participation(1, 1)),
    ]
    assert participation_by_branch(world.group, PERIOD) == []
    # A branch's own figure counts the school's activities too: 孙三 came only to the
    # school's class, and counts for 初中部分工会 as for the school.
    assert period_participation(world.other_branch, PERIOD) == Participation(2, 2)


def test_a_member_who_moved_counts_where_they_are_at_the_periods_end(world: World) -> None:
    """张三 came to his branch's match, then moved to 初中数学组: he is on that branch's
    roster at the year's end and took part, so he counts for it, and not for his old
    branch; the branch's own figure and its row in the school's table agree."""
    held(world, "气排球赛", world.branch, on(4, 10), [world.member])
    member_services.member_update(actor=None, member=world.member, union=world.other_group)

    assert period_participation(world.other_branch, PERIOD) == Participation(1, 2)
    assert period_participation(world.branch, PERIOD) == Participation(0, 0)
    assert dict(participation_by_branch(world.school, PERIOD)) == {
        world.branch: Participation(0, 0),
        world.other_branch: Participation(1, 2),
    }
    assert period_participation(world.school, PERIOD) == Participation(1, 2)


def test_participation_in_one_activity(world: World) -> None:
    acts = fill(world)
    # Eligible: the audience's members 在册 now (张三, 赵一, 钱二, 新人 for branch A1).
    assert activity_participation(acts["volleyball"]) == Participation(2, 4)
    assert activity_participation(acts["volleyball"]).rate == D("50.0")
    # The school's class: and 李四, 孙三 of branch A2.
    assert activity_participation(acts["etiquette"]) == Participation(3, 6)
    assert activity_participation(acts["lecture"]) == Participation(1, 2)

    club = records.club(world)
    for name in ("赵一", "钱二"):
        services.club_join(actor=None, club=club, member=Member.objects.get(name=name))
    rehearsal = held(world, "合唱排练", world.branch, on(10, 10), [], club=club)
    services.attendance_mark(
        actor=None, activity=rehearsal, attended=[Member.objects.get(name="赵一")]
    )
    assert activity_participation(rehearsal) == Participation(1, 2)
    assert Participation(0, 0).rate is None


def test_an_activitys_participation_never_exceeds_everyone(world: World) -> None:
    a = records.activity(world, "退休教师座谈会", audience=world.group)
    retired = f.member(world.group, "退休乙")
    member_services.member_change(actor=None, member=retired, kind="retire", date=TODAY)
    retired.refresh_from_db()
    services.attendance_mark(actor=None, activity=a, attended=[world.member, retired])
    p = activity_participation(a)
    assert p.attended <= p.eligible, p


# The paragraphs -------------------------------------------------------------------------


def paragraphs(union: Union) -> list[str]:
    found = {x.key: x for x in report.facts(union=union, period=PERIOD)}
    honours = {x.key: x for x in honours_report.facts(union=union, period=PERIOD)}
    return report.paragraphs(union=union, period=PERIOD, facts=found) + (
        honours_report.paragraphs(union=union, period=PERIOD, facts=honours)
    )


def test_the_paragraphs_say_what_the_figures_say(world: World) -> None:
    fill(world)
    assert paragraphs(world.school) == [
        "工会组织开展各类文体活动（含培训）4次，职工参加8人次，职工参与率达80%。"
        "其中举办各类培训2期，培训职工4人次，课时合计6.5学时。各项活动共评出获奖3项。",
        "2025年，共获得个人荣誉4人次、集体荣誉2项。其中，张三获教育部「全国优秀教师」（国家级）；"
        "李四获安徽省教育厅「省级骨干教师」（省部级）；赵一获市教育局「优秀班主任」（市级）；"
        "高中语文组获市总工会「模范职工小家」（市级）。",
    ]
    assert paragraphs(world.branch) == [
        "工会组织开展各类文体活动1次，职工参加2人次，职工参与率达66.7%。各项活动共评出获奖1项。",
        "2025年，共获得个人荣誉3人次、集体荣誉1项。其中，张三获教育部「全国优秀教师」（国家级）；"
        "赵一获市教育局「优秀班主任」（市级）；高中语文组获市总工会「模范职工小家」（市级）。",
    ]


def test_no_activity_and_no_honour_leave_no_paragraph(world: World) -> None:
    assert paragraphs(world.school) == []
    honour_services.honour_create(
        actor=None,
        kind="individual",
        member=world.member,
        title="先进工作者",
        level="unit",
        date=on(5, 1),
    )
    # An honour below the city level is counted, not named.
    assert paragraphs(world.school) == ["2025年，共获得个人荣誉1人次。"]
    # A term of whole years, and any other span, say their bounds.
    for period, when in (
        (Period(dt.date(YEAR - 2, 1, 1), on(12, 31)), "2023年至2025年"),
        (Period(on(3, 1), on(8, 31)), "2025年3月1日至2025年8月31日"),
    ):
        facts = {x.key: x for x in honours_report.facts(union=world.school, period=period)}
        assert honours_report.paragraphs(union=world.school, period=period, facts=facts) == [
            f"{when}，共获得个人荣誉1人次。"
        ]
    honour_services.honour_create(
        actor=None,
        kind="collective",
        union=world.other_group,
        recipient="初中数学组",
        title="先进集体",
        level="unit",
        date=on(6, 1),
    )
    # Only a team's honour: the sentence says so.
    assert paragraphs(world.other_branch) == ["2025年，共获得集体荣誉1项。"]


# The sources ----------------------------------------------------------------------------


def listed(client: Any, fact: Fact) -> Any:
    """What the figure's own page shows for it."""
    response = client.get(fact.source)
    assert response.status_code == 200, fact.source
    ctx = response.context
    if fact.key == "activities.participation_rate":
        return ctx["overall"].rate
    if fact.key == "training.hours":
        total = sum((a.hours or D(0) for a in ctx["page"].object_list), D(0))
        assert ctx["page"].paginator.count == len(ctx["page"].object_list)
        # The page's own 课时合计 says the same as its rows.
        assert D(ctx["hours"] or 0) == total, (ctx["hours"], total)
        return total.quantize(D("0.1"))
    return ctx["page"].paginator.count


@pytest.mark.parametrize("where", ["school", "branch", "district"])
def test_every_figure_opens_on_a_list_that_shows_exactly_it(world: World, where: str) -> None:
    fill(world)
    union = getattr(world, where)
    viewer = world.chair if where != "district" else f.user("district_chair", world.district)
    client = login(viewer)
    found = report.facts(union=union, period=PERIOD) + honours_report.facts(
        union=union, period=PERIOD
    )
    assert len(found) == 9
    shown = {x.key: listed(client, x) for x in found}
    assert shown == {x.key: x.value for x in found}
    assert shown == {"school": SCHOOL, "branch": BRANCH, "district": DISTRICT}[where]


def test_the_lists_behind_the_figures_name_the_records(world: World) -> None:
    fill(world)
    client = login(world.chair)
    fact = {x.key: x for x in report.facts(union=world.school, period=PERIOD)}
    activities = client.get(fact["training.sessions"].source).context["page"].object_list
    assert [a.title for a in activities] == ["心理健康讲座", "教师礼仪培训"]
    rows = client.get(fact["training.attendance"].source).context["page"].object_list
    assert sorted((r.activity.title, r.member.name) for r in rows) == [
        ("心理健康讲座", "李四"),
        ("教师礼仪培训", "孙三"),
        ("教师礼仪培训", "张三"),
        ("教师礼仪培训", "李四"),
    ]
    awards = client.get(fact["awards.count"].source).context["page"].object_list
    assert sorted(str(a) for a in awards) == [
        "张三：一等奖",
        "退会甲：二等奖",
        "高中语文组：团体一等奖",
    ]
    honours = {x.key: x for x in honours_report.facts(union=world.school, period=PERIOD)}
    people = client.get(honours["honours.individual"].source).context["page"].object_list
    assert [h.recipient for h in people] == ["张三", "李四", "赵一", "钱二"]


def test_branch_officers_open_their_own_figures_only(world: World) -> None:
    fill(world)
    branch = report.facts(union=world.branch, period=PERIOD)
    school = report.facts(union=world.school, period=PERIOD)
    officer = login(world.officer)
    assert listed(officer, branch[0]) == 1
    # The school's figures are out of the branch officer's reach, and another school's
    # chair reaches none of the branch's: every source answers as if it did not exist.
    for fact in school:
        assert officer.get(fact.source).status_code == 404, fact.key
    outsider = login(world.outsider)
    for fact in branch:
        assert outsider.get(fact.source).status_code == 404, fact.key


def test_an_award_before_the_activity_is_held_is_in_neither_figure_nor_list(
    world: World,
) -> None:
    now = Period(TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=30))
    soon = records.activity(world, "篮球赛", start_date=TODAY + dt.timedelta(days=3))
    services.award_add(actor=None, activity=soon, rank=1, prize="冠军", team="高中语文组")
    fact = {x.key: x for x in report.facts(union=world.school, period=now)}["awards.count"]
    assert listed(login(world.chair), fact) == fact.value


def test_attendance_of_an_activity_moved_to_later_is_in_neither_figure_nor_list(
    world: World,
) -> None:
    now = Period(TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=30))
    a = records.activity(world, "篮球赛")
    services.attendance_mark(actor=None, activity=a, attended=[world.member])
    services.activity_update(
        actor=None,
        activity=a,
        fields=ActivityFields(
            title="篮球赛", category="sports", start_date=TODAY + dt.timedelta(days=7)
        ),
    )
    fact = {x.key: x for x in report.facts(union=world.school, period=now)}
    attendance = fact["activities.attendance"]
    assert listed(login(world.chair), attendance) == attendance.value


def test_the_training_lists_hours_count_only_the_training_held(world: World) -> None:
    """Without 仅已举办, the list shows every class of the year, but its 课时合计 is the
    report's: a class called off or still to come teaches no hours."""
    fill(world)
    off = records.activity(
        world, "停办的培训", category="training", hours=D(8), start_date=on(6, 6)
    )
    services.activity_cancel(actor=None, activity=off, reason="讲师有事")
    response = login(world.chair).get(
        reverse("activities:list"),
        {
            "union": world.school.pk,
            "category": "training",
            "start": "2025-01-01",
            "end": "2025-12-31",
        },
    )
    assert response.context["page"].paginator.count == 3
    assert response.context["hours"] == D("6.5")
    assert 'id="training-hours">6.5</b>' in response.content.decode()
