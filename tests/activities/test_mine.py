"""我的活动 and the member's other pages: they offer what the member may join and nothing
else; the officers' list sends a member there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from gonghui.activities import services
from gonghui.activities.services import ActivityFields
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


def test_a_cancelled_activity_the_member_signed_up_for_is_shown_with_its_reason(
    world: World,
) -> None:
    mine = records.activity(world, "周末读书会", start_date=TODAY + dt.timedelta(days=3))
    services.register(actor=None, activity=mine, member=world.member)
    services.activity_cancel(actor=None, activity=mine, reason="场地维修")
    theirs = records.activity(world, "周末登山", start_date=TODAY + dt.timedelta(days=3))
    services.register(actor=None, activity=theirs, member=f.member(world.group, "赵一"))
    services.activity_cancel(actor=None, activity=theirs, reason="暴雨")

    page = login(world.member_user).get(reverse("activities:mine"))

    assert [r.activity.title for r in page.context["cancelled"]] == ["周末读书会"]
    html = page.content.decode()
    assert "取消原因：场地维修" in html
    assert "周末登山" not in html and "暴雨" not in html


def test_a_member_joins_a_club_of_their_own_line_only(world: World) -> None:
    member = login(world.member_user)
    school_choir = services.club_create(actor=None, union=world.school, name="教工合唱队")
    other_team = services.club_create(actor=None, union=world.other_branch, name="乒乓球队")

    refused = member.post(reverse("activities:club_join", args=[other_team.pk]))
    assert refused.status_code == 404
    assert not other_team.memberships.exists()

    member.post(reverse("activities:club_join", args=[school_choir.pk]))
    assert list(school_choir.memberships.values_list("member__name", flat=True)) == ["张三"]


@pytest.mark.parametrize("days", [1, -1])
def test_the_questions_stay_hidden_outside_the_answering_dates(world: World, days: int) -> None:
    a = records.quiz_activity(world)
    services.activity_update(
        actor=None,
        activity=a,
        fields=ActivityFields(
            title=a.title,
            category="quiz",
            start_date=TODAY + dt.timedelta(days=days),
        ),
    )
    url = reverse("activities:quiz", args=[a.pk])
    page = login(world.member_user).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "工会会员会费为工资的？" not in html
    assert "请在这段时间内答题" in html
    answered = login(world.member_user).post(url, {})
    assert "工会会员会费为工资的？" not in answered.content.decode()
    assert not a.quiz.attempts.exists()


def test_the_questions_show_while_the_contest_runs(world: World) -> None:
    a = records.quiz_activity(world)
    html = login(world.member_user).get(reverse("activities:quiz", args=[a.pk])).content
    assert "工会会员会费为工资的？" in html.decode()
