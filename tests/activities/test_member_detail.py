"""A member's page of an activity: what they sign up for, before they sign up; and
nothing of the officers' (others' names, edit buttons)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from gonghui.activities import services
from tests import factories as f
from tests.conftest import World, login

from . import records

TODAY = dt.date.today()


def test_a_member_sees_the_fee_deadline_places_and_the_signup_button(world: World) -> None:
    closes = timezone.now() + dt.timedelta(days=2)
    a = records.activity(
        world,
        "全校登山",
        union=world.school,
        category="outing",
        start_date=TODAY + dt.timedelta(days=5),
        capacity=3,
        cost=Decimal(50),
        signup_closes=closes,
        description="集合地点：东门",
    )
    services.register(actor=None, activity=a, member=f.member(world.other_group, "钱七"))

    page = login(world.member_user).get(reverse("activities:detail", args=[a.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "集合地点：东门" in html
    assert "50" in html and "元" in html
    assert timezone.localtime(closes).strftime("%Y-%m-%d %H:%M") in html
    assert "剩余 2 个" in html
    assert reverse("activities:signup", args=[a.pk]) in html
    # Nothing of the officers': not who else signed up, no edit, no history.
    assert "钱七" not in html
    assert reverse("activities:edit", args=[a.pk]) not in html
    assert reverse("activities:enter", args=[a.pk]) not in html


def test_a_signed_up_member_sees_their_place_and_can_cancel_it(world: World) -> None:
    r = records.signed_up(world)
    html = login(world.member_user).get(reverse("activities:detail", args=[r.activity_id]))
    text = html.content.decode()
    assert "已报名" in text
    assert reverse("activities:registration_cancel", args=[r.pk]) in text
    assert reverse("activities:signup", args=[r.activity_id]) not in text


def test_a_member_gets_404_for_an_activity_they_may_not_join(world: World) -> None:
    theirs = records.activity(world, "初中部拔河", union=world.other_branch)
    club_only = records.activity(world, "舞蹈排练", club=records.club(world))
    member = login(world.member_user)
    for a in (theirs, club_only):
        assert member.get(reverse("activities:detail", args=[a.pk])).status_code == 404
    # A login with no roster entry has nothing to join.
    stranger = login(f.user("visitor", world.group, "member"))
    assert stranger.get(reverse("activities:detail", args=[theirs.pk])).status_code == 404


def test_my_activities_link_to_the_activity_page_and_the_club_button_says_leave_the_club(
    world: World,
) -> None:
    a = records.activity(world, "分工会气排球赛", start_date=TODAY + dt.timedelta(days=1))
    records.membership(world)
    html = login(world.member_user).get(reverse("activities:mine")).content.decode()
    assert reverse("activities:detail", args=[a.pk]) in html
    clubs = html.split('id="my-clubs"')[1].split("</section>")[0]
    assert ">退出小组</button>" in clubs
    assert ">退出</button>" not in clubs
