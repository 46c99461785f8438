"""Demo data for 文体活动与培训: a year of matches, performances, training and a contest
at the first school, with sign-ups, attendance and prizes; two clubs."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from gonghui.members.choices import MemberStatus
from gonghui.members.models import Member
from gonghui.org.models import Union, User, subtree_q

from . import services
from .choices import Category, RegStatus
from .services import ActivityFields, QuestionData

#: (days before today, title, category, place, capacity, hours, share who came)
PAST = [
    (300, "迎新春教职工联欢会", Category.FESTIVAL, "学校报告厅", None, None, 0.85),
    (270, "三八节女教工插花活动", Category.ARTS, "工会活动室", 40, None, 0.9),
    (240, "新教师班主任工作培训", Category.TRAINING, "录播教室", 60, Decimal(6), 0.95),
    (210, "教职工气排球赛", Category.SPORTS, "学校体育馆", None, None, 0.7),
    (180, "“品读好书”读书征文活动", Category.READING, "", None, None, 0.4),
    (150, "心理健康与压力疏导讲座", Category.TRAINING, "报告厅", None, Decimal(2), 0.8),
    (120, "暑期教职工疗休养", Category.OUTING, "千岛湖", 30, None, 0.95),
    (90, "教职工书法比赛", Category.ARTS, "美术教室", None, None, 0.5),
    (60, "信息化教学能力提升培训", Category.TRAINING, "计算机房", 50, Decimal(8), 0.9),
    (40, "秋季教职工趣味运动会", Category.SPORTS, "学校操场", None, None, 0.8),
    (20, "“师德师风”网上知识竞赛", Category.QUIZ, "线上", None, None, 0.0),
]

QUESTIONS = [
    QuestionData(
        "《中华人民共和国工会法》规定，工会是谁自愿结合的工人阶级群众组织？",
        ["职工", "企业", "政府", "社会团体"],
        [0],
    ),
    QuestionData("基层工会委员会每届任期几年？", ["一年", "两年", "三年或五年", "十年"], [2]),
    QuestionData(
        "教职工代表大会的法定人数不少于全体代表的几分之几？",
        ["二分之一", "三分之二", "四分之三", "五分之一"],
        [1],
    ),
    QuestionData(
        "以下哪些属于工会的基本职责？（多选）",
        ["维护职工合法权益", "组织劳动竞赛", "决定学校招生", "开展职工文体活动"],
        [0, 1, 3],
    ),
    QuestionData(
        "会员按月缴纳会费，一般为本人工资收入的百分之几？", ["0.5%", "1%", "2%", "5%"], [0]
    ),
]


def build(ctx: dict[str, Any]) -> None:
    rng = random.Random(2026)
    today = timezone.localdate()
    first: Union = ctx["schools"][0]
    chair: User = ctx["users"]["chair"]
    # Without the officers' own records: the chair enters everyone's registrations after
    # the event, and one of her own would be a sign-up by herself, closed by then.
    officers = [m.pk for m in ctx["officer_members"].values()]
    staff = list(
        Member.objects.filter(subtree_q(first.path, "union__path"), status=MemberStatus.ACTIVE)
        .exclude(pk__in=officers)
        .select_related("union")
        .order_by("pk")
    )
    choir = services.club_create(
        actor=chair, union=first, name="教工合唱队", description="每周三下午排练", leader=staff[3]
    )
    table_tennis = services.club_create(
        actor=chair,
        union=first,
        name="乒乓球队",
        description="每周二、四傍晚活动",
        leader=staff[10],
    )
    for m in rng.sample(staff, 24):
        if m.pk != staff[3].pk:
            services.club_join(actor=chair, club=choir, member=m)
    for m in rng.sample(staff, 16):
        if m.pk != staff[10].pk:
            services.club_join(actor=chair, club=table_tennis, member=m)

    # Some never come to anything: the rest make up the crowds below.
    keen = rng.sample(staff, int(len(staff) * 0.88))
    for days, title, category, place, capacity, hours, share in PAST:
        day = today - dt.timedelta(days=days)
        activity = services.activity_create(
            actor=chair,
            union=first,
            fields=ActivityFields(
                title=title,
                category=category,
                start_date=day,
                end_date={
                    Category.OUTING: day + dt.timedelta(days=2),
                    Category.QUIZ: today + dt.timedelta(days=10),  # still open to answer
                }.get(category, day),
                place=place,
                capacity=capacity,
                hours=hours,
                certificate=category == Category.TRAINING,
                cost=Decimal(580) if category == Category.OUTING else None,
            ),
        )
        if category == Category.QUIZ:
            quiz = services.quiz_set(
                actor=chair, activity=activity, pass_mark=60, questions=QUESTIONS
            )
            bank = list(quiz.questions.all())
            for m in rng.sample(keen, int(len(keen) * 0.7)):
                # Most know the answers; a few slip on the multiple choice.
                answers = {q.pk: q.answer if rng.random() < 0.85 else [q.answer[0]] for q in bank}
                services.quiz_submit(actor=None, member=m, quiz=quiz, answers=answers)
            continue
        people = rng.sample(keen, int(len(keen) * share)) if share else []
        if capacity:
            people = people[: capacity + 3]
        registered = []
        for m in people:
            r = services.register(actor=chair, activity=activity, member=m)
            if r.status == RegStatus.SIGNED_UP:
                registered.append(m)
        came = [m for m in registered if rng.random() < 0.92]
        absent = [m for m in registered if m not in came]
        services.attendance_mark(actor=chair, activity=activity, attended=came, absent=absent)
        if category in (Category.SPORTS, Category.ARTS, Category.READING) and came:
            winners = rng.sample(came, min(len(came) // 4, 6))
            for i, m in enumerate(winners):
                rank = 1 if i == 0 else (2 if i < 3 else 3)
                services.award_add(
                    actor=chair,
                    activity=activity,
                    rank=rank,
                    prize={1: "一等奖", 2: "二等奖", 3: "三等奖"}[rank],
                    prize_value=Decimal({1: 300, 2: 200, 3: 100}[rank]),
                    member=m,
                )

    # Coming up: members sign up on their phones (the demo member among them).
    volleyball = services.activity_create(
        actor=chair,
        union=first,
        fields=ActivityFields(
            title="元旦教职工羽毛球混合团体赛",
            category=Category.SPORTS,
            start_date=today + dt.timedelta(days=10),
            place="学校体育馆",
            capacity=32,
            # Sign-up closes at 17:00 three days before.
            signup_closes=timezone.make_aware(
                dt.datetime.combine(today + dt.timedelta(days=7), dt.time(17, 0))
            ),
        ),
    )
    for m in rng.sample(staff, 20):
        services.register(actor=None, activity=volleyball, member=m)
    services.activity_create(
        actor=chair,
        union=first,
        fields=ActivityFields(
            title="合唱队新年音乐会排练",
            category=Category.ARTS,
            start_date=today + dt.timedelta(days=5),
            place="音乐教室",
            club=choir,
        ),
    )
