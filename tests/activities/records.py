"""Activities of branch A1 in the test world, made through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from gonghui.activities import services
from gonghui.activities.models import Activity, Award, Club, ClubMembership, Registration
from gonghui.activities.services import ActivityFields, QuestionData
from tests.conftest import World

TODAY = dt.date.today()


def activity(w: World, title: str = "气排球赛", **kw: Any) -> Activity:
    """An activity of branch A1, held today unless told otherwise."""
    union = kw.pop("union", w.branch)
    fields = ActivityFields(
        title=title,
        category=kw.pop("category", "sports"),
        start_date=kw.pop("start_date", TODAY),
        **kw,
    )
    return services.activity_create(actor=None, union=union, fields=fields)


def signed_up(w: World) -> Registration:
    """张三 signed up for today's activity."""
    return services.register(actor=None, activity=activity(w), member=w.member)


def award(w: World) -> Award:
    a = activity(w)
    services.attendance_mark(actor=None, activity=a, attended=[w.member])
    return services.award_add(
        actor=None,
        activity=a,
        rank=2,
        prize="二等奖",
        prize_value=Decimal(100),
        member=w.member,
        confirm_over_cap=True,  # one winner of one who came: past the third
    )


def club(w: World) -> Club:
    return services.club_create(actor=None, union=w.branch, name="合唱队")


def membership(w: World) -> ClubMembership:
    return services.club_join(actor=None, club=club(w), member=w.member)


def quiz_activity(w: World) -> Activity:
    a = activity(w, "工会知识竞赛", category="quiz")
    services.quiz_set(
        actor=None,
        activity=a,
        pass_mark=60,
        questions=[QuestionData("工会会员会费为工资的？", ["0.5%", "5%"], [0])],
    )
    return a
