"""我的活动, the member's page: it offers what the member may join and nothing else, and
the officers' list sends a member there."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from gonghui.activities import services
from tests import factories as f
from tests.conftest import World, login

from . import records

TODAY = dt.date.today()


def test_a_member_sees_the_activities_and_clubs_of_their_own_line_only(world: World) -> None:
    records.activity(world, "分工会气排球赛")  # 张三's branch
    records.activity(world, "全校运动会", union=world.school)
    records.activity(world, "初中部拔河", union=world.other_branch)
    records.activity(world, "二中篮球赛", union=world.other_school)
    records.activity(world, "上月登山", start_date=TODAY - dt.timedelta(days=40))
    off = records.activity(world, "停办的读书会", start_date=TODAY + dt.timedelta(days=3))
    services.activity_cancel(actor=None, activity=off, reason="场地维修")
    services.club_create(actor=None, union=world.school, name="教工合唱队")
    services.club_create(actor=None, union=world.other_branch, name="初中部乒乓球队")
    rehearsal_club = services.club_create(actor=None, union=world.branch, name="舞蹈队")
    records.activity(world, "舞蹈排练", club=rehearsal_club)

    page = login(world.member_user).get(reverse("activities:mine"))

    assert page.status_code == 200
    assert [a.title for a, _ in page.context["rows"]] == ["分工会气排球赛", "全校运动会"]
    assert sorted(c.name for c in page.context["joinable"]) == ["教工合唱队", "舞蹈队"]
    html = page.content.decode()
    for hidden in ("初中部拔河", "二中篮球赛", "初中部乒乓球队", "舞蹈排练", "停办的读书会"):
        assert hidden not in html

    services.club_join(actor=None, club=rehearsal_club, member=world.member)
    page = login(world.member_user).get(reverse("activities:mine"))
    assert "舞蹈排练" in [a.title for a, _ in page.context["rows"]]


def test_the_officers_list_sends_a_member_to_their_own_page(world: World) -> None:
    response = login(world.member_user).get(reverse("activities:list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:mine")
    # A login with no roster entry gets the page's explanation, not an error.
    stranger = f.user("visitor", world.group, "member")
    page = login(stranger).get(reverse("activities:mine"))
    assert page.status_code == 200
    assert page.context["member"] is None
