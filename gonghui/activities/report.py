"""文体活动与职工培训's figures for the work report, and its two paragraphs.

Training is an activity of the category 培训: it counts in ``activities.*`` with every
other activity, and in ``training.*`` on its own.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum

from gonghui.common.reporting import Fact, Period, source_url
from gonghui.org.models import Union

from .choices import Category, RegStatus
from .models import Award, Registration
from .queries import period_activities, period_participation


def facts(*, union: Union, period: Period) -> list[Fact]:
    within = {"union": union.pk, "start": period.start.isoformat(), "end": period.end.isoformat()}
    held = {**within, "held": 1}
    acts = period_activities(union, period).order_by()
    training = Q(category=Category.TRAINING)
    a = acts.aggregate(
        count=Count("pk"),
        sessions=Count("pk", filter=training),
        hours=Sum("hours", filter=training),
    )
    came = Registration.objects.filter(activity__in=acts, status=RegStatus.ATTENDED).order_by()
    r = came.aggregate(
        total=Count("pk"),
        training=Count("pk", filter=Q(activity__in=acts.filter(training).values("pk"))),
    )
    awards = Award.objects.filter(activity__in=acts).count()
    p = period_participation(union, period)
    note = (
        f"期末在册会员 {p.eligible} 人，其中参加过本组织或上级组织所办活动的 {p.attended} 人。"
        if p.eligible
        else ""
    )
    hours = (a["hours"] or Decimal(0)).quantize(Decimal("0.1"))
    return [
        Fact(
            "activities.count",
            "文体活动（含培训）",
            a["count"],
            "次",
            source_url("activities:list", **held),
        ),
        Fact(
            "activities.attendance",
            "参加活动",
            r["total"],
            "人次",
            source_url("activities:attendance", **within),
        ),
        Fact(
            "activities.participation_rate",
            "职工参与率",
            p.rate,
            "%",
            source_url("activities:participation", **within),
            note or "期末没有在册会员。",
        ),
        Fact(
            "training.sessions",
            "举办培训",
            a["sessions"],
            "期",
            source_url("activities:list", category=Category.TRAINING, **held),
        ),
        Fact(
            "training.attendance",
            "培训职工",
            r["training"],
            "人次",
            source_url("activities:attendance", category=Category.TRAINING, **within),
        ),
        Fact(
            "training.hours",
            "培训课时合计",
            hours,
            "学时",
            source_url("activities:list", category=Category.TRAINING, **held),
        ),
        Fact("awards.count", "活动获奖", awards, "项", source_url("activities:awards", **within)),
    ]


def _n(facts: dict[str, Fact], key: str) -> Decimal | int:
    value = facts[key].value if key in facts else None
    return value if value is not None else 0


def paragraphs(*, union: Union, period: Period, facts: dict[str, Fact]) -> list[str]:
    """文体活动 and 教育培训 in one paragraph, in the manner of the reference reports: only
    what the figures say; a figure of zero leaves its clause out. Training is one kind of
    activity, so its sentence is a 其中 of the activities'."""
    count = _n(facts, "activities.count")
    if not count:
        return []
    sessions = _n(facts, "training.sessions")
    including = "（含培训）" if sessions else ""
    text = f"工会组织开展各类文体活动{including}{count}次"
    if _n(facts, "activities.attendance"):
        text += f"，职工参加{_n(facts, 'activities.attendance')}人次"
    if _n(facts, "activities.participation_rate"):
        rate = Decimal(_n(facts, "activities.participation_rate")).normalize()
        text += f"，职工参与率达{rate:f}%"
    text += "。"
    if sessions:
        text += f"其中举办各类培训{sessions}期"
        if _n(facts, "training.attendance"):
            text += f"，培训职工{_n(facts, 'training.attendance')}人次"
        if _n(facts, "training.hours"):
            hours = Decimal(_n(facts, "training.hours")).normalize()
            text += f"，课时合计{hours:f}学时"
        text += "。"
    if _n(facts, "awards.count"):
        text += f"各项活动共评出获奖{_n(facts, 'awards.count')}项。"
    return [text]
