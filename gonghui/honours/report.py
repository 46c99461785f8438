"""荣誉's figures for the work report, and the honours named in it."""

from __future__ import annotations

from django.db.models import Count, Q

from gonghui.common.reporting import Fact, Period, source_url
from gonghui.org.models import Union, in_subtree

from .choices import HIGHLIGHT_LEVELS, HonourKind, Level
from .models import Honour

#: Honours named one by one in the report's paragraph (the highest first).
HIGHLIGHTS = 8


def _in_period(union: Union, period: Period) -> Q:
    return in_subtree(union) & Q(date__gte=period.start, date__lte=period.end)


def facts(*, union: Union, period: Period) -> list[Fact]:
    counts = Honour.objects.filter(_in_period(union, period)).aggregate(
        individual=Count("pk", filter=Q(kind=HonourKind.INDIVIDUAL)),
        collective=Count("pk", filter=Q(kind=HonourKind.COLLECTIVE)),
    )
    within = {"union": union.pk, "start": period.start.isoformat(), "end": period.end.isoformat()}

    def url(**extra: str) -> str:
        return source_url("honours:list", **within, **extra)

    return [
        Fact(
            "honours.individual", "个人荣誉", counts["individual"], "人次", url(kind="individual")
        ),
        Fact("honours.collective", "集体荣誉", counts["collective"], "项", url(kind="collective")),
    ]


def paragraphs(*, union: Union, period: Period, facts: dict[str, Fact]) -> list[str]:
    """The honours of the period: how many, and the highest of them by name."""
    people = facts["honours.individual"].value if "honours.individual" in facts else 0
    teams = facts["honours.collective"].value if "honours.collective" in facts else 0
    if not people and not teams:
        return []
    parts = []
    if people:
        parts.append(f"个人荣誉{people}人次")
    if teams:
        parts.append(f"集体荣誉{teams}项")
    text = f"{period.in_words}，共获得" + "、".join(parts) + "。"
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
