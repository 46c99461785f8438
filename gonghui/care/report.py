"""关爱服务's figures for the work report, and its paragraph.

Every figure is one aggregate over the care ledgers of the union's subtree in the
period (valid rows only: reversed entries and their reversals cancel out), so the
number of queries does not grow with the data.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum

from gonghui.common.reporting import Fact, Period, percent, source_url
from gonghui.members.models import Member
from gonghui.members.queries import on_roster_as_of
from gonghui.org.models import Union, in_subtree, subtree_q

from .choices import (
    INSURANCE_KINDS,
    DonorKind,
    EntryState,
    Recipient,
    SubsidyStatus,
    VisitReason,
)
from .models import CoverageProgramme, Donation, Enrolment, HardshipFile, Subsidy, Visit
from .queries import covering_q, on_file_q
from .rules import money


def facts(*, union: Union, period: Period) -> list[Fact]:
    start, end = period.start, period.end
    within = dict(start=start.isoformat(), end=end.isoformat())
    visits = Visit.objects.filter(
        in_subtree(union), date__gte=start, date__lte=end, state=EntryState.VALID
    ).order_by()
    # Counting ``date`` (never null), not ``id``: the index holds it, so PostgreSQL
    # answers from the index alone instead of scanning the table (bench/bench_care.py).
    v = visits.aggregate(
        count=Count("date"),
        amount=Sum("amount"),
        sick=Count("date", filter=Q(reason=VisitReason.SICK)),
        retirees=Count("date", filter=Q(recipient=Recipient.RETIREE)),
        birthdays=Count("date", filter=Q(reason=VisitReason.BIRTHDAY)),
    )
    files = HardshipFile.objects.filter(in_subtree(union)).filter(on_file_q(end)).count()
    s = (
        Subsidy.objects.filter(
            in_subtree(union), status=SubsidyStatus.PAID, paid_on__gte=start, paid_on__lte=end
        )
        .order_by()
        .aggregate(count=Count("id"), amount=Sum("paid_amount"))
    )
    donations = Donation.objects.filter(
        in_subtree(union), date__gte=start, date__lte=end, state=EntryState.VALID
    ).order_by()
    d = donations.aggregate(
        amount=Sum("amount"),
        members=Count("member", distinct=True, filter=Q(donor_kind=DonorKind.MEMBER)),
        people=Count("donor_name", distinct=True, filter=Q(donor_kind=DonorKind.PERSON)),
    )
    rate, rate_note = _coverage_rate(union, period)
    visits_url = source_url("care:visits", union=union.pk, **within)
    return [
        Fact("care.visits", "走访慰问", v["count"], "人次", visits_url),
        Fact("care.visits.amount", "慰问金额（含慰问品）", _money(v["amount"]), "元", visits_url),
        Fact(
            "care.visits.sick",
            "探望生病住院职工",
            v["sick"],
            "人次",
            source_url("care:visits", union=union.pk, reason=VisitReason.SICK, **within),
        ),
        Fact(
            "care.visits.retirees",
            "慰问退休职工",
            v["retirees"],
            "人次",
            source_url("care:visits", union=union.pk, recipient=Recipient.RETIREE, **within),
        ),
        Fact(
            "care.birthdays",
            "生日慰问",
            v["birthdays"],
            "人次",
            source_url("care:visits", union=union.pk, reason=VisitReason.BIRTHDAY, **within),
        ),
        Fact(
            "care.hardship.files",
            "在档困难职工",
            files,
            "户",
            source_url("care:hardship", union=union.pk, as_of=end.isoformat()),
        ),
        Fact(
            "care.subsidies",
            "发放补助",
            s["count"],
            "人次",
            source_url("care:subsidies", union=union.pk, status=SubsidyStatus.PAID, **within),
        ),
        Fact(
            "care.subsidies.amount",
            "补助金额",
            _money(s["amount"]),
            "元",
            source_url("care:subsidies", union=union.pk, status=SubsidyStatus.PAID, **within),
        ),
        Fact(
            "care.donations.donors",
            "参与捐款",
            d["members"] + d["people"],
            "人",
            source_url("care:donations", union=union.pk, **within),
        ),
        Fact(
            "care.donations.amount",
            "捐款金额",
            _money(d["amount"]),
            "元",
            source_url("care:donations", union=union.pk, **within),
        ),
        Fact(
            "care.coverage.rate",
            "综合医疗保障投保率",
            rate,
            "%",
            source_url("care:coverage", union=union.pk, year=end.year),
            rate_note,
        ),
    ]


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(Decimal("0.01"))


def _coverage_rate(union: Union, period: Period) -> tuple[Decimal | None, str]:
    """Members on the roster at the period's end who are enrolled in a 综合医疗保障 or
    互助保险 programme of the period ÷ those members. A programme covers its union's
    subtree, so a branch's rate counts the school's programme too."""
    programmes = CoverageProgramme.objects.filter(
        covering_q(union),
        kind__in=INSURANCE_KINDS,
        year__gte=period.start.year,
        year__lte=period.end.year,
    )
    if not programmes.exists():
        # Nobody is enrolled in anything: 0%, and the note says why.
        return Decimal(0), "期间没有登记综合医疗保障或职工互助保险项目。"
    roster = on_roster_as_of(
        Member.objects.filter(subtree_q(union.path, "union__path")), period.end
    )
    # One pass over the roster, the enrolled as one list: a probe per member and
    # programme (EXISTS) cost SQLite a third of a second on 100,000 members.
    enrolled_ids = Enrolment.objects.filter(programme__in=programmes).values("member_id")
    counts = roster.aggregate(
        total=Count("pk"), enrolled=Count("pk", filter=Q(pk__in=enrolled_ids))
    )
    total, enrolled = counts["total"], counts["enrolled"]
    if not total:
        return None, "期末没有在册会员。"
    return percent(enrolled, total), f"期末在册会员 {total} 人，其中参保 {enrolled} 人。"


def paragraphs(*, union: Union, period: Period, facts: dict[str, Fact]) -> list[str]:
    """关爱服务 in the manner of the reference reports, saying only what the figures
    support: a sentence whose figure is zero or unknown is left out."""

    def n(key: str) -> Decimal | int:
        value = facts[key].value if key in facts else None
        return value if value is not None else 0

    parts: list[str] = []
    if n("care.visits"):
        sentence = f"工会关心职工生活，共走访慰问职工{n('care.visits')}人次"
        if n("care.visits.amount"):
            sentence += f"，发放慰问金和慰问品共计{money(Decimal(n('care.visits.amount')))}元"
        details = []
        if n("care.visits.sick"):
            details.append(f"探望生病住院职工{n('care.visits.sick')}人次")
        if n("care.birthdays"):
            details.append(f"为职工送上生日祝福{n('care.birthdays')}人次")
        if n("care.visits.retirees"):
            details.append(f"慰问退休职工{n('care.visits.retirees')}人次")
        if details:
            sentence += "。其中" + "，".join(details)
        parts.append(sentence + "。")
    help_parts = []
    if n("care.hardship.files"):
        help_parts.append(f"在档困难职工{n('care.hardship.files')}户")
    if n("care.subsidies"):
        help_parts.append(
            f"发放各类补助{n('care.subsidies')}人次，"
            f"金额{money(Decimal(n('care.subsidies.amount')))}元"
        )
    if help_parts:
        parts.append("认真做好困难职工帮扶工作，" + "；".join(help_parts) + "。")
    if n("care.donations.amount"):
        donors = f"{n('care.donations.donors')}人参与，" if n("care.donations.donors") else ""
        parts.append(
            f"组织开展爱心捐款，{donors}共捐款{money(Decimal(n('care.donations.amount')))}元。"
        )
    if facts.get("care.coverage.rate") and facts["care.coverage.rate"].value:
        rate = Decimal(facts["care.coverage.rate"].value).normalize()
        parts.append(f"为职工办理综合医疗保障，投保率达{rate:f}%。")
    return ["".join(parts)] if parts else []
