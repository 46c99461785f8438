"""荣誉's figures for the work report, and the honours named in it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse

from gonghui.common.reporting import Fact, Period
from gonghui.org.models import Union, subtree_q

from .choices import HIGHLIGHT_LEVELS, HonourKind, Level
from .models import Honour

#: Honours named one by one in the report's paragraph (the highest first).
HIGHLIGHTS = 8


def _in_period(union: Union, period: Period) -> Q:
    return Q(
        union__in=Union.objects.filter(subtree_q(union.path)).values("pk"),
        date__gte=period.start,
        date__lte=period.end,
    )


def facts(*, union: Union, period: Period) -> list[Fact]:
    counts = Honour.objects.filter(_in_period(union, period)).aggregate(
        individual=Count("pk", filter=Q(kind=HonourKind.INDIVIDUAL)),
        collective=Count("pk", filter=Q(kind=HonourKind.COLLECTIVE)),
    )
    within = {"union": union.pk, "start": period.start.isoformat(), "end": period.end.isoformat()}

    def url(**extra: str) -> str:
        return f"{reverse('honours:list')}?{urlencode({**within, **extra})}"

    return [
        Fact(
            "honours.individual", "个人荣誉", counts["individual"], "人次", url(kind="individual")
        ),
        Fact("honours.collective", "集体荣誉", counts["collective"], "项", url(kind="collective")),
    ]


def _when(period: Period) -> str:
    """The period as the report says it: 2025年 for a calendar year, 2023年至2025年 for a
    term of whole years, else its dates."""
    s, e = period.start, period.end
    if (s.month, s.day, e.month, e.day) == (1, 1, 12, 31):
        return f"{s.year}年" if s.year == e.year else f"{s.year}年至{e.year}年"
    return f"{s.year}年{s.month}月{s.day}日至{e.year}年{e.month}月{e.day}日"


def paragraphs(*, union: Union, period: Period, facts: dict[str, Fact]) -> list[str]:
    """The honours of the period: how many, and the highest of them by name."""
    people = facts["honours.individual"].value if "honours.individual" in facts else 0
    teams = facts["honours.collective"].value if "honours.collective" in facts else 0
    if not people and not teams:
        return []
    parts = []
    if people:
        parts.append(f"{people}人次获得个人荣誉")
    if teams:
        parts.append(f"{teams}项集体荣誉")
    text = f"{_when(period)}，" + "，".join(parts) + "。"
    order = {level: i for i, level in enumerate(Level.values)}
    top = sorted(
        Honour.objects.filter(_in_period(union, period), level__in=HIGHLIGHT_LEVELS),
        key=lambda h: (order[h.level], h.date),
    )[:HIGHLIGHTS]
    if top:
        named = "；".join(
            f"{h.recipient}获{h.awarded_by or ''}「{h.title}」（{h.get_level_display()}）"
            for h in top
        )
        text += f"其中，{named}。"
    return [text]
