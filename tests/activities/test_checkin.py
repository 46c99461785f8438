"""扫码签到: the code on the officer's screen names no member and goes stale in
``CHECKIN_MAX_AGE`` seconds. Whoever scans it checks in themself, as the member their
login is linked to: never anyone else, and only while the activity runs."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from gonghui.activities import services
from gonghui.activities.choices import RegSource
from gonghui.activities.models import Activity, Registration
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditEntry
from gonghui.members.models import Member
from gonghui.members.services import member_link_user
from gonghui.org.choices import Role
from gonghui.org.models import User
from tests import factories as f
from tests.conftest import World, login

from . import records

TODAY = dt.date.today()
EXPIRED = "签到码已过期，请扫描现场屏幕上最新的二维码。"
INVALID = "签到码无效，请扫描现场屏幕上的二维码。"


def text(exc: pytest.ExceptionInfo[Any]) -> str:
    return " ".join(exc.value.messages)


def with_login(w: World, name: str, username: str) -> tuple[Member, User]:
    """Another member of 高中语文组 who logs in on their own phone."""
    member = f.member(w.group, name)
    user = f.user(username, w.group, Role.MEMBER)
    member_link_user(actor=None, member=member, user=user)
    member.refresh_from_db()
    return member, user


def token_from(activity: Activity, seconds_ago: float) -> str:
    """The code the screen showed ``seconds_ago`` (``django.core.signing`` stamps it with
    ``time.time()``)."""
    with mock.patch("django.core.signing.time.time", return_value=time.time() - seconds_ago):
        return services.checkin_token(activity)


def written() -> tuple[Any, ...]:
    return (
        list(
            Registration.objects.order_by("id").values_list(
                "id", "member_id", "status", "source", "checked_in_at"
            )
        ),
        AuditEntry.objects.count(),
    )


def test_a_fresh_code_checks_in_the_member_who_is_logged_in(world: World) -> None:
    a = records.activity(world)
    services.register(actor=None, activity=a, member=world.member)

    r = services.checkin_self(actor=world.member_user, activity=a, token=services.checkin_token(a))

    assert (r.member, r.status, r.source) == (world.member, "attended", RegSource.QR)
    assert r.checked_in_at is not None
    assert Registration.objects.get().status == "attended"
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (entry.actor, entry.summary) == (world.member_user, "张三扫码签到「气排球赛」")


def test_a_code_a_minute_old_is_still_good(world: World) -> None:
    a = records.activity(world)
    r = services.checkin_self(actor=world.member_user, activity=a, token=token_from(a, 60))
    assert r.status == "attended"


def test_scanning_twice_checks_in_once(world: World) -> None:
    a = records.activity(world)
    first = services.checkin_self(
        actor=world.member_user, activity=a, token=services.checkin_token(a)
    )
    before = written()
    again = services.checkin_self(
        actor=world.member_user, activity=a, token=services.checkin_token(a)
    )
    assert again.pk == first.pk and again.checked_in_at == first.checked_in_at
    assert written() == before


def test_an_expired_code_is_refused(world: World) -> None:
    a = records.activity(world)
    services.register(actor=None, activity=a, member=world.member)
    stale = token_from(a, services.CHECKIN_MAX_AGE + 5)
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=world.member_user, activity=a, token=stale)
    assert text(exc) == EXPIRED
    assert written() == before


def test_a_code_of_another_activity_or_a_tampered_code_is_refused(world: World) -> None:
    a = records.activity(world)
    other = records.activity(world, "拔河比赛")
    good = services.checkin_token(a)
    value, stamp, signature = good.split(":")
    tampered = [
        services.checkin_token(other),
        f"{other.pk}:{stamp}:{signature}",  # another activity's number under this signature
        f"{value}:{stamp}:{signature[:-2]}xx",
        f"{value}:{stamp}",
        "",
        "随便写的",
    ]
    before = written()
    for token in tampered:
        with pytest.raises(ServiceError) as exc:
            services.checkin_self(actor=world.member_user, activity=a, token=token)
        assert text(exc) == INVALID, token
    assert written() == before


def test_a_new_check_in_key_voids_the_codes_shown_before(world: World) -> None:
    """The activity's own secret key signs its codes: a code signed under another key is
    worthless, though it names the same activity."""
    a = records.activity(world)
    old = services.checkin_token(a)
    Activity.objects.filter(pk=a.pk).update(checkin_key="另一把钥匙")
    a.refresh_from_db()
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=world.member_user, activity=a, token=old)
    assert text(exc) == INVALID


def test_the_code_names_nobody_it_checks_in_whoever_is_logged_in(world: World) -> None:
    a = records.activity(world)
    zhao, zhao_user = with_login(world, "赵一", "zhaoyi")
    mine = services.register(actor=None, activity=a, member=world.member)
    code = services.checkin_token(a)

    # 赵一 scans the very code 张三 was shown: 赵一 is checked in, 张三 is not.
    theirs = services.checkin_self(actor=zhao_user, activity=a, token=code)
    assert (theirs.member, theirs.status, theirs.source) == (zhao, "attended", RegSource.QR)
    mine.refresh_from_db()
    assert (mine.status, mine.source, mine.checked_in_at) == ("signed_up", "self", None)

    # 张三 scans it, then 赵一 again: 张三's check-in stays 张三's own.
    services.checkin_self(actor=world.member_user, activity=a, token=code)
    mine.refresh_from_db()
    at = mine.checked_in_at
    services.checkin_self(actor=zhao_user, activity=a, token=code)
    mine.refresh_from_db()
    assert (mine.member, mine.status, mine.checked_in_at) == (world.member, "attended", at)
    assert Registration.objects.count() == 2


def test_a_login_without_a_roster_entry_checks_in_nobody(world: World) -> None:
    a = records.activity(world)
    services.register(actor=None, activity=a, member=world.member)
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=world.officer, activity=a, token=services.checkin_token(a))
    assert text(exc) == "您的账号尚未关联会员档案，请找现场工作人员登记签到。"
    assert written() == before


def test_the_check_in_page_checks_in_the_login_whatever_else_is_posted(world: World) -> None:
    a = records.activity(world)
    zhao, zhao_user = with_login(world, "赵一", "zhaoyi")
    services.register(actor=None, activity=a, member=world.member)
    url = reverse("activities:checkin", args=[a.pk])
    code = services.checkin_token(a)

    response = login(zhao_user).post(url, {"code": code, "member": world.member.pk})

    assert response.status_code == 200
    assert response.context["done"].member == zhao
    assert sorted(Registration.objects.values_list("member__name", "status")) == [
        ("张三", "signed_up"),
        ("赵一", "attended"),
    ]
    # The officer at the door has no roster entry: told so, nothing written.
    before = written()
    response = login(world.officer).post(url, {"code": code})
    assert response.context["error"] == "您的账号尚未关联会员档案，请找现场工作人员登记签到。"
    assert written() == before


@pytest.mark.parametrize("days", [1, -1])
def test_no_check_in_outside_the_activitys_dates(world: World, days: int) -> None:
    day = TODAY + dt.timedelta(days=days)
    a = records.activity(world, start_date=day)
    services.register(actor=world.officer, activity=a, member=world.member)
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=world.member_user, activity=a, token=services.checkin_token(a))
    assert text(exc) == f"签到时间为{day:%Y-%m-%d}，请在活动当天扫码签到。"
    assert written() == before


def test_a_multi_day_activity_takes_check_ins_on_every_day(world: World) -> None:
    a = records.activity(
        world,
        "暑期培训",
        category="training",
        start_date=TODAY - dt.timedelta(days=1),
        end_date=TODAY + dt.timedelta(days=1),
    )
    r = services.checkin_self(actor=world.member_user, activity=a, token=services.checkin_token(a))
    assert r.status == "attended"
    start, end = TODAY + dt.timedelta(days=2), TODAY + dt.timedelta(days=4)
    later = records.activity(world, "秋季培训", start_date=start, end_date=end)
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(
            actor=world.member_user, activity=later, token=services.checkin_token(later)
        )
    assert text(exc) == f"签到时间为{start:%Y-%m-%d}至{end:%Y-%m-%d}，请在活动期间扫码签到。"


def test_a_cancelled_activity_takes_no_check_in(world: World) -> None:
    a = records.activity(world)
    code = services.checkin_token(a)
    services.activity_cancel(actor=None, activity=a, reason="下雨")
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=world.member_user, activity=a, token=code)
    assert text(exc) == "活动已取消：下雨"
    assert Registration.objects.count() == 0


def test_a_member_on_the_waitlist_cannot_check_in_by_code(world: World) -> None:
    a = records.activity(world, capacity=1)
    zhao = f.member(world.group, "赵一")
    services.register(actor=None, activity=a, member=zhao)
    services.register(actor=None, activity=a, member=world.member)
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=world.member_user, activity=a, token=services.checkin_token(a))
    assert text(exc) == "您还在候补名单上，没有名额，请找现场工作人员。"
    assert written() == before


def test_a_member_who_did_not_sign_up_is_checked_in_while_places_remain(world: World) -> None:
    a = records.activity(world, capacity=2)
    services.register(actor=None, activity=a, member=f.member(world.group, "赵一"))

    r = services.checkin_self(actor=world.member_user, activity=a, token=services.checkin_token(a))

    assert (r.member, r.status, r.source, r.union) == (
        world.member,
        "attended",
        RegSource.QR,
        world.group,
    )
    # Now full: the next one who did not sign up is sent to the officer.
    _, qian_user = with_login(world, "钱二", "qianer")
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=qian_user, activity=a, token=services.checkin_token(a))
    assert text(exc) == "名额已满，您未报名此活动，请找现场工作人员。"
    assert written() == before


def test_a_member_who_cancelled_checks_in_as_a_new_arrival(world: World) -> None:
    a = records.activity(world, capacity=1)
    r = services.register(actor=None, activity=a, member=world.member)
    services.registration_cancel(actor=None, registration=r)
    back = services.checkin_self(
        actor=world.member_user, activity=a, token=services.checkin_token(a)
    )
    assert (back.status, back.source) == ("attended", RegSource.QR)
    assert Registration.objects.count() == 1


def test_a_member_outside_the_audience_cannot_check_in(world: World) -> None:
    a = records.activity(world)
    user = f.user("lisi", world.other_group, Role.MEMBER)
    member_link_user(actor=None, member=world.other_branch_member, user=user)
    with pytest.raises(ServiceError) as exc:
        services.checkin_self(actor=user, activity=a, token=services.checkin_token(a))
    assert text(exc) == "本活动仅限「高中部分工会」的会员参加。"
    assert Registration.objects.count() == 0
