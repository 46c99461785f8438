"""Demo data for 荣誉: the year's honours of the first school, its people and its groups."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from gonghui.members.choices import MemberStatus
from gonghui.members.models import Member
from gonghui.org.models import Union, subtree_q

from . import services
from .choices import HonourKind, Level

PEOPLE = [
    ("全国优秀教师", Level.NATIONAL, "教育部", 250),
    ("省师德先进个人", Level.PROVINCIAL, "省教育厅", 200),
    ("市五一劳动奖章", Level.CITY, "市总工会", 240),
    ("市技术能手", Level.CITY, "市人力资源和社会保障局", 150),
    ("区优秀班主任", Level.COUNTY, "区教育局", 100),
    ("区优秀班主任", Level.COUNTY, "区教育局", 100),
    ("区教育工会优秀会员", Level.SECTOR, "滨江区教育工会", 60),
    ("区教育工会优秀会员", Level.SECTOR, "滨江区教育工会", 60),
    ("校级岗位能手", Level.UNIT, "第一中学", 30),
    ("校级岗位能手", Level.UNIT, "第一中学", 30),
    ("校级岗位能手", Level.UNIT, "第一中学", 30),
]


def build(ctx: dict[str, Any]) -> None:
    rng = random.Random(7)
    today = timezone.localdate()
    first: Union = ctx["schools"][0]
    staff = list(
        Member.objects.filter(subtree_q(first.path, "union__path"), status=MemberStatus.ACTIVE)
        .select_related("union")
        .order_by("pk")
    )
    for (title, level, body, days), member in zip(
        PEOPLE, rng.sample(staff, len(PEOPLE)), strict=True
    ):
        services.honour_create(
            actor=None,
            kind=HonourKind.INDIVIDUAL,
            member=member,
            title=title,
            level=level,
            awarded_by=body,
            date=today - dt.timedelta(days=days),
        )
    services.honour_create(
        actor=None,
        kind=HonourKind.COLLECTIVE,
        union=first,
        recipient=first.name,
        title="市模范职工之家",
        level=Level.CITY,
        awarded_by="市总工会",
        date=today - dt.timedelta(days=220),
    )
    group = ctx["groups"][0]
    services.honour_create(
        actor=None,
        kind=HonourKind.COLLECTIVE,
        union=group,
        recipient=group.name,
        title="区先进教研组",
        level=Level.COUNTY,
        awarded_by="区教育局",
        date=today - dt.timedelta(days=120),
    )
