"""报名与签到名额: places in order, then the waitlist; a cancelled place goes to the first
who waits; who may take part (the audience's subtree, a club, members 在册); the sign-up
window, which officers entering a member bypass; attendance on the day; the audit log;
and permissions (a refused write leaves nothing behind)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from gonghui.activities import services
from gonghui.activities.choices import RegSource, RegStatus
from gonghui.activities.models import Activity, Award, Registration
from gonghui.activities.services import ActivityFields
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditEntry
from gonghui.members import services as member_services
from gonghui.members.models import Member
from tests import factories as f
from tests.conftest import World

from . import records

TODAY = dt.date.today()
LATER = TODAY + dt.timedelta(days=10)


def text(exc: pytest.ExceptionInfo[Any]) -> str:
    return " ".join(exc.value.messages)


def people(w: World, *names: str) -> list[Member]:
    """Members of 高中语文组 (branch A1), besides 张三."""
    return [f.member(w.group, name) for name in names]


def places(activity: Activity) -> list[tuple[str, str]]:
    """Each registration as (name, status), in the order they signed up."""
    return [
        (r.member.name, r.status)
        for r in Registration.objects.filter(activity=activity)
        .select_related("member")
        .order_by("created_at", "id")
    ]


def fields_of(activity: Activity, **changes: Any) -> ActivityFields:
    """The activity's own fields, with ``changes`` over them (as the edit form sends)."""
    activity.refresh_from_db()
    values: dict[str, Any] = {
        name: getattr(activity, name)
        for name in (
            "title", "category", "start_date", "end_date", "audience", "club", "start_time",
            "place", "capacity", "signup_opens", "signup_closes", "cost", "hours",
            "certificate", "description", "note",
        )
    }  # fmt: skip
    values.update(changes)
    return ActivityFields(**values)


def written() -> tuple[Any, ...]:
    """What a refused write must leave as it was."""
    return (
        list(Registration.objects.order_by("id").values_list("id", "member_id", "status")),
        list(Activity.objects.order_by("id").values_list("id", "title", "capacity", "status")),
        Award.objects.count(),
        AuditEntry.objects.count(),
    )


# Places and the waitlist ----------------------------------------------------------------


def test_places_go_in_order_until_the_capacity_then_the_waitlist_in_order(world: World) -> None:
    a = records.activity(world, capacity=2)
    zhao, qian, sun = people(world, "赵一", "钱二", "孙三")
    got = [
        services.register(actor=None, activity=a, member=m).status
        for m in (world.member, zhao, qian, sun)
    ]
    assert got == [RegStatus.SIGNED_UP, RegStatus.SIGNED_UP, RegStatus.WAITLISTED, "waitlisted"]
    assert places(a) == [
        ("张三", "signed_up"),
        ("赵一", "signed_up"),
        ("钱二", "waitlisted"),
        ("孙三", "waitlisted"),
    ]
    # Without a capacity nobody waits.
    open_one = records.activity(world, "拔河比赛")
    for m in (world.member, zhao, qian, sun):
        services.register(actor=None, activity=open_one, member=m)
    assert {s for _, s in places(open_one)} == {"signed_up"}


def test_cancelling_a_place_hands_it_to_the_first_on_the_waitlist(world: World) -> None:
    a = records.activity(world, capacity=1)
    zhao, qian = people(world, "赵一", "钱二")
    mine = services.register(actor=world.member_user, activity=a, member=world.member)
    for m in (zhao, qian):
        services.register(actor=None, activity=a, member=m)

    moved = services.registration_cancel(actor=world.member_user, registration=mine)

    assert moved is not None and moved.member == zhao
    assert places(a) == [("张三", "cancelled"), ("赵一", "signed_up"), ("钱二", "waitlisted")]
    log = list(AuditEntry.objects.order_by("-id")[:2])
    assert [e.summary for e in reversed(log)] == [
        "张三取消报名「气排球赛」",
        "赵一由候补转为「气排球赛」的正式报名",
    ]
    assert {e.actor for e in log} == {world.member_user}


def test_cancelling_a_place_on_the_waitlist_moves_nobody_up(world: World) -> None:
    a = records.activity(world, capacity=1)
    zhao, qian = people(world, "赵一", "钱二")
    services.register(actor=None, activity=a, member=world.member)
    waiting = services.register(actor=None, activity=a, member=zhao)
    services.register(actor=None, activity=a, member=qian)

    assert services.registration_cancel(actor=world.officer, registration=waiting) is None
    assert places(a) == [("张三", "signed_up"), ("赵一", "cancelled"), ("钱二", "waitlisted")]


def test_a_cancelled_or_attended_place_cannot_be_cancelled(world: World) -> None:
    a = records.activity(world)
    r = services.register(actor=None, activity=a, member=world.member)
    services.registration_cancel(actor=None, registration=r)
    with pytest.raises(ServiceError):
        services.registration_cancel(actor=None, registration=r)
    services.register(actor=None, activity=a, member=world.member)
    services.attendance_mark(actor=None, activity=a, attended=[world.member])
    again = Registration.objects.get(activity=a, member=world.member)
    with pytest.raises(ServiceError):
        services.registration_cancel(actor=None, registration=again)
    assert places(a) == [("张三", "attended")]


def test_raising_the_capacity_moves_the_waitlist_up_in_order(world: World) -> None:
    a = records.activity(world, capacity=1)
    zhao, qian, sun = people(world, "赵一", "钱二", "孙三")
    for m in (world.member, zhao, qian, sun):
        services.register(actor=None, activity=a, member=m)

    services.activity_update(actor=world.officer, activity=a, fields=fields_of(a, capacity=3))

    assert places(a) == [
        ("张三", "signed_up"),
        ("赵一", "signed_up"),
        ("钱二", "signed_up"),
        ("孙三", "waitlisted"),
    ]
    update = AuditEntry.objects.filter(summary__startswith="修改活动").get()
    assert update.summary == "修改活动：气排球赛；候补转正 2 人"
    assert update.changes == {"名额": [1, 3]}
    # No limit at all: everyone who waits gets a place.
    services.activity_update(actor=world.officer, activity=a, fields=fields_of(a, capacity=None))
    assert places(a)[-1] == ("孙三", "signed_up")


def test_a_member_cannot_sign_up_twice(world: World) -> None:
    a = records.activity(world, capacity=1)
    services.register(actor=None, activity=a, member=world.member)
    with pytest.raises(ServiceError):
        services.register(actor=None, activity=a, member=world.member)
    with pytest.raises(ServiceError):
        services.register(actor=world.officer, activity=a, member=world.member)
    waiting = f.member(world.group, "赵一")
    services.register(actor=None, activity=a, member=waiting)
    with pytest.raises(ServiceError):
        services.register(actor=None, activity=a, member=waiting)
    assert places(a) == [("张三", "signed_up"), ("赵一", "waitlisted")]


def test_the_refusal_to_sign_up_twice_reads_well(world: World) -> None:
    a = records.activity(world)
    services.register(actor=None, activity=a, member=world.member)
    with pytest.raises(ServiceError) as exc:
        services.register(actor=None, activity=a, member=world.member)
    assert "已已" not in text(exc)
    services.attendance_mark(actor=None, activity=a, attended=[world.member])
    with pytest.raises(ServiceError) as exc:
        services.registration_cancel(
            actor=None, registration=Registration.objects.get(member=world.member)
        )
    assert "已已" not in text(exc)


def test_signing_up_again_after_cancelling_goes_to_the_back_of_the_queue(world: World) -> None:
    a = records.activity(world, capacity=1)
    zhao, qian = people(world, "赵一", "钱二")
    first = services.register(actor=None, activity=a, member=world.member)
    zhao_first = services.register(actor=None, activity=a, member=zhao)
    services.register(actor=None, activity=a, member=qian)

    services.registration_cancel(actor=None, registration=zhao_first)
    again = services.register(actor=None, activity=a, member=zhao)
    assert again.status == RegStatus.WAITLISTED
    assert places(a) == [("张三", "signed_up"), ("钱二", "waitlisted"), ("赵一", "waitlisted")]

    moved = services.registration_cancel(actor=None, registration=first)
    assert moved is not None and moved.member == qian
    assert places(a) == [("张三", "cancelled"), ("钱二", "signed_up"), ("赵一", "waitlisted")]
    # 张三 signs up again: behind 赵一, who waited longer.
    services.register(actor=None, activity=a, member=world.member)
    assert places(a)[-2:] == [("赵一", "waitlisted"), ("张三", "waitlisted")]


# Who may take part ----------------------------------------------------------------------


def test_only_members_of_the_audience_subtree_may_sign_up(world: World) -> None:
    a = records.activity(world)  # branch A1's, for branch A1
    for member in (world.other_branch_member, world.other_school_member):
        with pytest.raises(ServiceError) as exc:
            services.register(actor=None, activity=a, member=member)
        assert text(exc) == "本活动仅限「高中部分工会」的会员参加。"
    # An officer entering a member does not get round it.
    with pytest.raises(ServiceError) as exc:
        services.register(actor=world.chair, activity=a, member=world.other_branch_member)
    assert text(exc) == "本活动仅限「高中部分工会」的会员参加。"
    assert places(a) == []

    # A member of the branch itself, above the group the activity is meant for.
    in_branch = f.member(world.branch, "赵一")
    narrow = records.activity(world, "语文组教研", audience=world.group)
    with pytest.raises(ServiceError) as exc:
        services.register(actor=None, activity=narrow, member=in_branch)
    assert text(exc) == "本活动仅限「高中语文组」的会员参加。"
    services.register(actor=None, activity=narrow, member=world.member)

    # Branch A1 organises for the whole school: branch A2 may come.
    wide = records.activity(world, "全校运动会", audience=world.school)
    services.register(actor=None, activity=wide, member=world.other_branch_member)
    with pytest.raises(ServiceError):
        services.register(actor=None, activity=wide, member=world.other_school_member)
    assert places(wide) == [("李四", "signed_up")]


def test_a_club_activity_is_for_the_clubs_members_only(world: World) -> None:
    club = records.club(world)
    a = records.activity(world, "合唱排练", category="arts", club=club)
    with pytest.raises(ServiceError) as exc:
        services.register(actor=None, activity=a, member=world.member)
    assert text(exc) == "本活动仅限「合唱队」成员参加。"
    with pytest.raises(ServiceError):
        services.register(actor=world.officer, activity=a, member=world.member)

    services.club_join(actor=None, club=club, member=world.member)
    assert services.register(actor=None, activity=a, member=world.member).status == "signed_up"
    assert places(a) == [("张三", "signed_up")]


@pytest.mark.parametrize(
    ("kind", "shown"), [("withdraw", "已退会"), ("transfer_out", "已转出"), ("death", "已去世")]
)
def test_members_no_longer_on_the_roster_may_not_sign_up(
    world: World, kind: str, shown: str
) -> None:
    a = records.activity(world)
    gone = f.member(world.group, "赵一")
    member_services.member_change(actor=None, member=gone, kind=kind, date=TODAY)
    gone.refresh_from_db()
    with pytest.raises(ServiceError) as exc:
        services.register(actor=None, activity=a, member=gone)
    assert text(exc) == f"赵一目前「{shown}」，不能报名。"
    with pytest.raises(ServiceError):
        services.register(actor=world.officer, activity=a, member=gone)
    with pytest.raises(ServiceError):
        services.attendance_mark(actor=world.officer, activity=a, attended=[gone])
    assert places(a) == []


# The sign-up window ---------------------------------------------------------------------


def test_sign_up_is_refused_before_the_window_opens_and_after_it_closes(world: World) -> None:
    opens = timezone.localtime().replace(microsecond=0) + dt.timedelta(days=3)
    early = records.activity(world, "秋季运动会", start_date=LATER, signup_opens=opens)
    with pytest.raises(ServiceError) as exc:
        services.register(actor=world.member_user, activity=early, member=world.member)
    assert text(exc) == f"报名尚未开始（{opens:%m月%d日 %H:%M}开始）。"

    closes = timezone.now() - dt.timedelta(hours=1)
    late = records.activity(world, "教工篮球赛", start_date=LATER, signup_closes=closes)
    with pytest.raises(ServiceError) as exc:
        services.register(actor=world.member_user, activity=late, member=world.member)
    assert text(exc) == "报名已经截止。"

    over = records.activity(world, "元旦联欢", start_date=TODAY - dt.timedelta(days=5))
    with pytest.raises(ServiceError) as exc:
        services.register(actor=None, activity=over, member=world.member)
    assert text(exc) == "活动已经结束。"
    assert Registration.objects.count() == 0

    # Inside the window: open now, closing tomorrow.
    now = records.activity(
        world,
        "读书分享会",
        start_date=LATER,
        signup_opens=timezone.now() - dt.timedelta(days=1),
        signup_closes=timezone.now() + dt.timedelta(days=1),
    )
    r = services.register(actor=world.member_user, activity=now, member=world.member)
    assert (r.status, r.source, r.marked_by) == ("signed_up", RegSource.SELF, None)


def test_an_officer_entering_a_member_bypasses_the_window_but_not_eligibility(
    world: World,
) -> None:
    opens = timezone.now() + dt.timedelta(days=3)
    early = records.activity(world, "秋季运动会", start_date=LATER, signup_opens=opens)
    late = records.activity(
        world,
        "教工篮球赛",
        start_date=LATER,
        signup_closes=timezone.now() - dt.timedelta(days=1),
        capacity=1,
    )
    for a in (early, late):
        r = services.register(actor=world.officer, activity=a, member=world.member)
        assert (r.status, r.source, r.marked_by) == ("signed_up", RegSource.OFFICER, world.officer)
    # Past the capacity, an officer's entry waits like anyone's.
    zhao = f.member(world.group, "赵一")
    assert services.register(actor=world.officer, activity=late, member=zhao).status == (
        "waitlisted"
    )
    with pytest.raises(ServiceError) as exc:
        services.register(actor=world.officer, activity=early, member=world.other_branch_member)
    assert text(exc) == "本活动仅限「高中部分工会」的会员参加。"
    assert Registration.objects.filter(member=world.other_branch_member).count() == 0


def test_a_cancelled_activity_takes_no_sign_up_from_anyone(world: World) -> None:
    a = records.activity(world, start_date=LATER)
    services.activity_cancel(actor=world.officer, activity=a, reason="场地维修")
    for actor in (None, world.member_user, world.officer):
        with pytest.raises(ServiceError) as exc:
            services.register(actor=actor, activity=a, member=world.member)
        assert text(exc) == "活动已取消：场地维修"
    with pytest.raises(ServiceError) as exc:
        services.activity_cancel(actor=world.officer, activity=a, reason="再取消一次")
    assert text(exc) == "活动已经取消。"
    with pytest.raises(ServiceError) as exc:
        services.activity_update(actor=world.officer, activity=a, fields=fields_of(a, capacity=9))
    assert text(exc) == "活动已取消，不能修改。"
    assert Registration.objects.count() == 0


def test_cancelling_an_activity_asks_for_the_reason(world: World) -> None:
    a = records.activity(world)
    with pytest.raises(ServiceError) as exc:
        services.activity_cancel(actor=world.officer, activity=a, reason="  ")
    assert text(exc) == "请填写取消的原因，报名的会员会看到它。"
    a.refresh_from_db()
    assert (a.status, a.cancel_reason) == ("open", "")


# Attendance -----------------------------------------------------------------------------


def test_attendance_marks_each_member_present_or_absent(world: World) -> None:
    a = records.activity(world)
    zhao, qian = people(world, "赵一", "钱二")
    for m in (world.member, zhao):
        services.register(actor=None, activity=a, member=m)

    done = services.attendance_mark(
        actor=world.officer, activity=a, attended=[world.member], absent=[zhao]
    )

    assert done == (1, 1)
    came = Registration.objects.get(activity=a, member=world.member)
    away = Registration.objects.get(activity=a, member=zhao)
    assert (came.status, came.marked_by, came.checked_in_at is not None) == (
        "attended",
        world.officer,
        True,
    )
    assert (away.status, away.marked_by, away.checked_in_at) == ("absent", world.officer, None)
    # Someone who never signed up and is marked absent is left out.
    assert services.attendance_mark(actor=world.officer, activity=a, absent=[qian]) == (0, 0)
    assert places(a) == [("张三", "attended"), ("赵一", "absent")]
    # A mistake put right: 赵一 came after all.
    services.attendance_mark(actor=world.officer, activity=a, attended=[zhao])
    away.refresh_from_db()
    assert away.status == "attended" and away.checked_in_at is not None


def test_a_walk_in_who_may_take_part_is_added_as_present(world: World) -> None:
    a = records.activity(world, capacity=1)
    zhao = f.member(world.group, "赵一")
    services.register(actor=None, activity=a, member=world.member)

    assert services.attendance_mark(actor=world.officer, activity=a, attended=[zhao]) == (1, 0)

    walk_in = Registration.objects.get(activity=a, member=zhao)
    assert (walk_in.status, walk_in.source, walk_in.marked_by, walk_in.union) == (
        "attended",
        RegSource.OFFICER,
        world.officer,
        world.group,
    )
    with pytest.raises(ServiceError) as exc:
        services.attendance_mark(
            actor=world.chair, activity=a, attended=[world.other_branch_member]
        )
    assert text(exc) == "本活动仅限「高中部分工会」的会员参加。"
    assert places(a) == [("张三", "signed_up"), ("赵一", "attended")]


def test_attendance_is_not_taken_before_the_activity_starts_nor_once_cancelled(
    world: World,
) -> None:
    soon = records.activity(world, start_date=TODAY + dt.timedelta(days=1))
    services.register(actor=None, activity=soon, member=world.member)
    with pytest.raises(ServiceError) as exc:
        services.attendance_mark(actor=world.officer, activity=soon, attended=[world.member])
    assert text(exc) == "活动还没开始，不能登记签到。"

    today = records.activity(world, "拔河比赛")
    services.register(actor=None, activity=today, member=world.member)
    services.activity_cancel(actor=world.officer, activity=today, reason="下雨")
    with pytest.raises(ServiceError) as exc:
        services.attendance_mark(actor=world.officer, activity=today, attended=[world.member])
    assert text(exc) == "活动已取消，不能签到。"
    assert set(Registration.objects.values_list("status", flat=True)) == {"signed_up"}


# The audit log ---------------------------------------------------------------------------


def test_every_write_is_in_the_audit_log_under_its_actor(world: World) -> None:
    start = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    zhao = f.member(world.group, "赵一")
    officer = world.officer
    a = services.activity_create(
        actor=officer,
        union=world.branch,
        fields=ActivityFields(title="气排球赛", category="sports", start_date=TODAY, capacity=1),
    )
    mine = services.register(actor=officer, activity=a, member=world.member)
    services.register(actor=officer, activity=a, member=zhao)
    services.registration_cancel(actor=officer, registration=mine)
    services.activity_update(actor=officer, activity=a, fields=fields_of(a, place="学校体育馆"))
    services.attendance_mark(actor=officer, activity=a, attended=[zhao])
    services.activity_cancel(actor=officer, activity=a, reason="场地维修")

    log = list(AuditEntry.objects.filter(id__gt=start).exclude(actor=None).order_by("id"))
    assert [e.summary for e in log] == [
        "发布活动：气排球赛",
        "张三报名「气排球赛」（已报名）",
        "赵一报名「气排球赛」（候补）",
        "张三取消报名「气排球赛」",
        "赵一由候补转为「气排球赛」的正式报名",
        "修改活动：气排球赛",
        "「气排球赛」登记签到 1 人、缺席 0 人",
        "取消活动：气排球赛",
    ]
    assert {(e.actor, e.actor_name) for e in log} == {(officer, "officer")}
    assert log[5].changes == {"地点": ["", "学校体育馆"]}
    assert log[7].changes == {"状态": ["进行中", "已取消"], "原因": ["", "场地维修"]}


# Permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_officer", "outsider"])
def test_officers_of_other_unions_are_refused_and_nothing_is_written(
    world: World, who: str
) -> None:
    actor = getattr(world, who)
    a = records.activity(world, capacity=1)
    mine = services.register(actor=None, activity=a, member=world.member)
    zhao = f.member(world.group, "赵一")
    before = written()

    attempts = [
        lambda: services.activity_create(
            actor=actor,
            union=world.branch,
            fields=ActivityFields(title="越权活动", category="sports", start_date=TODAY),
        ),
        lambda: services.activity_update(actor=actor, activity=a, fields=fields_of(a, capacity=5)),
        lambda: services.activity_cancel(actor=actor, activity=a, reason="越权"),
        lambda: services.register(actor=actor, activity=a, member=zhao),
        lambda: services.registration_cancel(actor=actor, registration=mine),
        lambda: services.attendance_mark(actor=actor, activity=a, attended=[world.member]),
        lambda: services.award_add(
            actor=actor, activity=a, rank=1, prize="一等奖", member=world.member
        ),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert written() == before


def test_a_member_signs_up_and_cancels_only_themself(world: World) -> None:
    a = records.activity(world)
    zhao = f.member(world.group, "赵一")
    theirs = services.register(actor=None, activity=a, member=zhao)
    before = written()
    with pytest.raises(PermissionDenied):
        services.register(actor=world.member_user, activity=a, member=world.other_branch_member)
    with pytest.raises(PermissionDenied):
        services.registration_cancel(actor=world.member_user, registration=theirs)
    with pytest.raises(PermissionDenied):
        services.attendance_mark(actor=world.member_user, activity=a, attended=[world.member])
    assert written() == before

    mine = services.register(actor=world.member_user, activity=a, member=world.member)
    assert (mine.source, mine.marked_by) == (RegSource.SELF, None)
    assert services.registration_cancel(actor=world.member_user, registration=mine) is None
    assert places(a) == [("赵一", "signed_up"), ("张三", "cancelled")]
