"""Reads of 关爱服务: always through the viewer's scope (``common.scope.visible``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.lookups import StartsWith
from django.urls import reverse

from gonghui.common.scope import Perm, grants, scope_q, visible
from gonghui.common.todo import Todo
from gonghui.members.choices import CURRENT_STATUSES, MemberStatus
from gonghui.members.models import Member
from gonghui.org.models import GrantStatus, PendingGrant, Union, User, subtree_q

from .choices import (
    CapEnforcement,
    CapItem,
    EntryState,
    HardshipStatus,
    SubsidyStatus,
    VisitReason,
    VisitVariant,
)
from .models import (
    CarePolicy,
    CoverageProgramme,
    Donation,
    DonationDrive,
    HardshipFile,
    HospitalStay,
    Subsidy,
    SubsidyEvent,
    Visit,
)
from .rules import (
    DEFAULT_ACCIDENT_RATIO,
    DEFAULT_PRESET,
    DEFAULT_WINNERS_SHARE,
    PRESETS,
    caps_of,
    one_year_after,
    one_year_before,
    year_of,
)

# Policies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """The caps and settings in force at a union: its own, or the nearest above it."""

    preset: str
    caps: dict[str, Decimal | None]
    enforcement: str
    festival_goods_only: bool
    birthday_cake_only: bool
    dibao_line: Decimal | None
    accident_ratio: Decimal
    winners_share: Decimal | None
    #: The union whose policy this is (``None``: nobody set one; the defaults).
    source: Union | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    #: How many different people review, approve and pay a subsidy (3, or 2 in a very
    #: small union); the strictest on the path holds.
    min_handlers: int = 3

    @property
    def blocks(self) -> bool:
        return self.enforcement == CapEnforcement.BLOCK

    @property
    def preset_label(self) -> str:
        from .choices import CapPreset

        return CapPreset(self.preset).label if self.preset in CapPreset.values else self.preset


DEFAULT_POLICY = Policy(
    preset=DEFAULT_PRESET,
    caps=dict(PRESETS[DEFAULT_PRESET]),
    enforcement=CapEnforcement.WARN,
    festival_goods_only=True,
    birthday_cake_only=True,
    dibao_line=None,
    accident_ratio=DEFAULT_ACCIDENT_RATIO,
    winners_share=DEFAULT_WINNERS_SHARE,
)


def policy_of(rows: list[CarePolicy]) -> Policy:
    """The policy in force under ``rows``, the policies on a union's path from the top
    down. A union sets its own caps and settings, but a union above it still binds it:
    each cap is the lowest on the path, a block above blocks below, a goods-only rule
    above holds below. The 低保 line and the 意外致困 ratio are local: the nearest."""
    if not rows:
        return DEFAULT_POLICY
    own = rows[-1]
    caps: dict[str, Decimal | None] = {}
    for row in rows:
        for item, cap in caps_of(row.preset, row.overrides).items():
            if cap is not None and (caps.get(item) is None or cap < caps[item]):  # type: ignore[operator]
                caps[item] = cap
            else:
                caps.setdefault(item, cap)
    return Policy(
        preset=own.preset,
        caps=caps,
        enforcement=CapEnforcement.BLOCK
        if any(r.enforcement == CapEnforcement.BLOCK for r in rows)
        else CapEnforcement.WARN,
        festival_goods_only=any(r.festival_goods_only for r in rows),
        birthday_cake_only=any(r.birthday_cake_only for r in rows),
        dibao_line=next((r.dibao_line for r in reversed(rows) if r.dibao_line is not None), None),
        accident_ratio=own.accident_ratio,
        winners_share=min(
            (r.winners_share for r in rows if r.winners_share is not None), default=None
        ),
        source=own.union,
        overrides=dict(own.overrides or {}),
        min_handlers=max(r.min_handlers for r in rows),
    )


def _on_path(rows: list[CarePolicy], union: Union) -> list[CarePolicy]:
    return sorted(
        (r for r in rows if union.path.startswith(r.union.path)), key=lambda r: r.union.depth
    )


def policy_for(union: Union) -> Policy:
    """The policy in force at ``union`` (see :func:`policy_of`). One query."""
    ids = [*union.ancestor_ids(), union.pk]
    rows = list(CarePolicy.objects.filter(union_id__in=ids).select_related("union"))
    return policy_of(_on_path(rows, union))


def policies_for(root: Union, unions: Iterable[Union]) -> dict[int, Policy]:
    """``{union id: policy in force}`` for unions of ``root``'s subtree, in one query:
    the policies of ``root``'s ancestors and of its subtree."""
    rows = list(
        CarePolicy.objects.filter(
            Q(union_id__in=[*root.ancestor_ids(), root.pk]) | subtree_q(root.path, "union__path")
        ).select_related("union")
    )
    return {union.pk: policy_of(_on_path(rows, union)) for union in unions}


# Lists ----------------------------------------------------------------------------------


@dataclass
class VisitFilter:
    union: Union | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    reason: list[str] = field(default_factory=list)
    recipient: list[str] = field(default_factory=list)
    q: str = ""
    member: int | None = None
    over_cap: bool = False
    batch: str = ""
    #: Reversed rows and their reversals are shown only when asked (冲销记录).
    all_states: bool = False


def visits(viewer: User, f: VisitFilter | None = None) -> QuerySet[Visit]:
    f = f or VisitFilter()
    qs = visible(Visit.objects.all(), viewer, Perm.CARE_VIEW)
    if f.union is not None:
        qs = qs.filter(subtree_q(f.union.path, "union__path"))
    if f.start:
        qs = qs.filter(date__gte=f.start)
    if f.end:
        qs = qs.filter(date__lte=f.end)
    if f.reason:
        qs = qs.filter(reason__in=f.reason)
    if f.recipient:
        qs = qs.filter(recipient__in=f.recipient)
    if f.q.strip():
        qs = qs.filter(recipient_name__contains=f.q.strip())
    if f.member:
        qs = qs.filter(member_id=f.member)
    if f.over_cap:
        qs = qs.filter(over_cap=True)
    if f.batch:
        qs = qs.filter(batch=f.batch)
    if not f.all_states:
        qs = qs.filter(state=EntryState.VALID)
    return qs.select_related("union", "member").order_by("-date", "-id")


def visit_totals(qs: QuerySet[Visit]) -> dict[str, Any]:
    """人次 and 元 of a list of visits (valid rows only), in one query."""
    valid = qs.filter(state=EntryState.VALID).order_by()
    return valid.aggregate(count=Count("id"), amount=Sum("amount"))


def item_q(item: str) -> Q:
    """The visits that count against ``item``'s yearly cap (a stay with surgery and
    one without are one 住院慰问)."""
    if item in (CapItem.SICK, CapItem.SICK_SURGERY):
        return Q(reason=VisitReason.SICK)
    if item == CapItem.MEMBER_DEATH:
        return Q(reason=VisitReason.BEREAVEMENT, variant=VisitVariant.MEMBER_DEATH)
    if item == CapItem.RELATIVE_DEATH:
        return Q(reason=VisitReason.BEREAVEMENT) & ~Q(variant=VisitVariant.MEMBER_DEATH)
    return Q(reason=item)


@dataclass(frozen=True)
class Spent:
    """One member's spending on one cap item in one year."""

    total: Decimal = Decimal(0)
    surgery: bool = False  # a stay that needed surgery: the year has the surgery cap


def year_spending(member_ids: Iterable[int], item: str, year: int) -> dict[int, Spent]:
    """What each member was given on ``item`` in ``year`` (valid visits): one query,
    for one visit, a batch or a whole imported file alike."""
    start, end = year_of(dt.date(year, 1, 1))
    rows = (
        Visit.objects.filter(
            item_q(item),
            member_id__in=list(member_ids),
            state=EntryState.VALID,
            date__gte=start,
            date__lte=end,
        )
        .order_by()
        .values("member_id")
        .annotate(total=Sum("amount"), surgery=Count("id", filter=Q(variant=VisitVariant.SURGERY)))
    )
    return {r["member_id"]: Spent(r["total"], bool(r["surgery"])) for r in rows}


def hardship_files(
    viewer: User, *, union: Union | None = None, status: str = "", as_of: dt.date | None = None
) -> QuerySet[HardshipFile]:
    qs = visible(HardshipFile.objects.all(), viewer, Perm.CARE_VIEW)
    if union is not None:
        qs = qs.filter(subtree_q(union.path, "union__path"))
    if as_of is not None:
        qs = qs.filter(on_file_q(as_of))
    elif status:
        qs = qs.filter(status=status)
    return qs.select_related("member", "union")


def on_file_q(date: dt.date) -> Q:
    """Files open at the end of ``date``: opened by then and not closed by then."""
    return Q(opened_on__lte=date) & (Q(closed_on__isnull=True) | Q(closed_on__gt=date))


def subsidies(viewer: User) -> QuerySet[Subsidy]:
    return visible(Subsidy.objects.all(), viewer, Perm.CARE_VIEW).select_related(
        "member", "union", "applicant"
    )


#: The steps of the subsidy workflow an officer takes: the status each waits in, the
#: permission that takes it, and what the to-do list calls it.
STEPS: dict[str, tuple[str, Perm, str]] = {
    "review": (SubsidyStatus.APPLIED, Perm.CARE_EDIT, "审核"),
    "approve": (SubsidyStatus.REVIEWED, Perm.CARE_APPROVE, "审批"),
    "pay": (SubsidyStatus.APPROVED, Perm.CARE_PAY, "发放"),
}


def vouchers(user: User) -> QuerySet[PendingGrant]:
    """The confirmations of a money role for ``user`` by someone other than the officer
    who made the login (``services.subsidy_handler_refusal``: such a login stands for a
    person of its own)."""
    return PendingGrant.objects.filter(user=user, status=GrantStatus.CONFIRMED).exclude(
        decided_by_id=user.created_by_id
    )


def _policy_on_path() -> QuerySet[CarePolicy]:
    """The policies on the path of the outer query's subsidy's union (its own and those
    above it), as a subquery."""
    outer = ExpressionWrapper(OuterRef("union__path"), output_field=CharField())
    return CarePolicy.objects.filter(StartsWith(outer, F("union__path")))


def awaiting(viewer: User, step: str = "") -> QuerySet[Subsidy]:
    """Subsidies waiting for a step ``viewer`` may take now (``step``: one of
    :data:`STEPS`, else any): in her scope for that step's permission, and allowed by
    the rules the services enforce, here in SQL so that counting them is one query:

    - nobody decides on their own application, nor on a subsidy to themselves
      (``services._not_own``);
    - the approver neither reviews nor pays, and with 最少经手人数 3 (unless the policy
      on the union's path says 2) the reviewer does not pay either; a login does not
      take a later step of an application its maker handled unless a second officer
      vouched for it (``services.subsidy_handler_refusal``).
    """
    where = Q(pk__in=[])
    for name, (status, perm, _) in STEPS.items():
        if step and name != step:
            continue
        scope = scope_q(viewer, perm)
        where |= Q(status=status) if scope is None else Q(status=status) & scope
    qs = visible(Subsidy.objects.filter(where), viewer, Perm.CARE_VIEW)
    qs = qs.exclude(applicant=viewer).exclude(member__user=viewer)

    def handled_by(user_id: int, status: str | None = None) -> Exists:
        events = SubsidyEvent.objects.filter(subsidy=OuterRef("pk"), actor_id=user_id)
        return Exists(events.filter(to_status=status) if status else events)

    policy = _policy_on_path()
    two_hands = Exists(policy.filter(min_handlers__lt=3)) & ~Exists(
        policy.filter(min_handlers__gte=3)
    )
    reviewed, approved = (
        handled_by(viewer.pk, SubsidyStatus.REVIEWED),
        handled_by(viewer.pk, SubsidyStatus.APPROVED),
    )
    qs = qs.exclude(Q(status=SubsidyStatus.REVIEWED) & reviewed)
    qs = qs.exclude(Q(status=SubsidyStatus.APPROVED) & approved)
    qs = qs.exclude(Q(status=SubsidyStatus.APPROVED) & reviewed & ~two_hands)
    maker = viewer.created_by_id
    if maker is not None and maker != viewer.pk:
        by_maker = Q(applicant_id=maker) | handled_by(maker)
        qs = qs.exclude(by_maker & ~Exists(vouchers(viewer)))
    return qs


def drives(viewer: User) -> QuerySet[DonationDrive]:
    return (
        visible(DonationDrive.objects.all(), viewer, Perm.CARE_VIEW)
        .select_related("union")
        .annotate(
            total=Sum("donations__amount", filter=Q(donations__state=EntryState.VALID)),
            gifts=Count("donations", filter=Q(donations__state=EntryState.VALID)),
        )
    )


def donations_of(drive: DonationDrive, *, all_states: bool = False) -> QuerySet[Donation]:
    qs = drive.donations.select_related("member", "union").order_by("-date", "-id")
    return qs if all_states else qs.filter(state=EntryState.VALID)


def drive_totals(drive: DonationDrive) -> dict[str, Any]:
    return donation_totals(drive.donations.all())


def donation_totals(qs: QuerySet[Donation]) -> dict[str, Any]:
    """Amount, gifts and donors of a list of gifts: donors are members and named people
    (a unit is no 人), each counted once."""
    from .choices import DonorKind

    valid = qs.filter(state=EntryState.VALID).order_by()
    totals = valid.aggregate(
        amount=Sum("amount"),
        gifts=Count("id"),
        members=Count("member", distinct=True, filter=Q(donor_kind=DonorKind.MEMBER)),
        people=Count("donor_name", distinct=True, filter=Q(donor_kind=DonorKind.PERSON)),
    )
    totals["donors"] = totals.pop("members") + totals.pop("people")
    return totals


def programmes(viewer: User) -> QuerySet[CoverageProgramme]:
    return (
        visible(CoverageProgramme.objects.all(), viewer, Perm.CARE_VIEW)
        .select_related("union")
        .annotate(enrolled=Count("enrolments", distinct=True))
    )


def covering_q(union: Union, field: str = "union") -> Q:
    """Programmes that cover ``union``'s members: those of the union, of a union above
    it (a school's cover reaches its branches) or of one below it."""
    return subtree_q(union.path, f"{field}__path") | Q(
        **{f"{field}_id__in": [*union.ancestor_ids(), union.pk]}
    )


def eligible_members(union: Union) -> QuerySet[Member]:
    """Members a programme of ``union`` covers: those on its subtree's roster (在册)."""
    return Member.objects.filter(subtree_q(union.path, "union__path"), status=MemberStatus.ACTIVE)


def eligible_counts(unions: Iterable[Union]) -> dict[int, int]:
    """``{union id: members on its subtree's roster}`` for many unions, in one query."""
    unions = list(unions)
    if not unions:
        return {}
    counts = Member.objects.filter(status=MemberStatus.ACTIVE).aggregate(
        **{f"u{u.pk}": Count("pk", filter=subtree_q(u.path, "union__path")) for u in unions}
    )
    return {u.pk: counts[f"u{u.pk}"] for u in unions}


# Reminders ------------------------------------------------------------------------------


@dataclass
class Reminders:
    #: member, age this year, 逢五逢十 retiree, already given this year's birthday visit
    birthdays: list[tuple[Member, int, bool, bool]]
    in_hospital: list[HospitalStay]
    reviews_due: list[HardshipFile]
    birthdays_total: int = 0


def birthdays(viewer: User, today: dt.date) -> QuerySet[Member]:
    """Members in ``viewer``'s care scope whose birthday falls in ``today``'s month, each
    with ``greeted``: whether this year's birthday visit is recorded."""
    greeted = Visit.objects.filter(
        member=OuterRef("pk"),
        reason=VisitReason.BIRTHDAY,
        state=EntryState.VALID,
        date__gte=dt.date(today.year, 1, 1),
    )
    return (
        visible(Member.objects.all(), viewer, Perm.CARE_VIEW)
        .filter(status__in=CURRENT_STATUSES, birth_date__month=today.month)
        .annotate(greeted=Exists(greeted))
    )


def unvisited_stays(viewer: User) -> QuerySet[HospitalStay]:
    """Hospital stays with no 生病住院 visit on or after the admission."""
    visited = Visit.objects.filter(
        member=OuterRef("member"),
        reason=VisitReason.SICK,
        state=EntryState.VALID,
        date__gte=OuterRef("admitted_on"),
    )
    return visible(HospitalStay.objects.all(), viewer, Perm.CARE_VIEW).filter(~Exists(visited))


def reviews_due(viewer: User, today: dt.date) -> QuerySet[HardshipFile]:
    """Open hardship files whose yearly review falls due within 30 days (or is past)."""
    year_before = one_year_before(today + dt.timedelta(days=30))
    return (
        visible(HardshipFile.objects.all(), viewer, Perm.CARE_VIEW)
        .filter(status=HardshipStatus.OPEN)
        .filter(
            Q(last_reviewed_on__lte=year_before)
            | Q(last_reviewed_on__isnull=True, opened_on__lte=year_before)
        )
    )


def reminders(viewer: User, today: dt.date | None = None, limit: int = 200) -> Reminders:
    """This month's birthdays, members in hospital not yet visited, files due for review."""
    today = today or dt.date.today()
    members = birthdays(viewer, today)
    rows = members.select_related("union").order_by("birth_date__day", "name_sort", "pk")[:limit]
    listed: list[tuple[Member, int, bool, bool]] = []
    for m in rows:
        assert m.birth_date is not None
        age = today.year - m.birth_date.year
        milestone = m.status == MemberStatus.RETAINED and age % 5 == 0
        listed.append((m, age, milestone, bool(m.greeted)))  # type: ignore[attr-defined]
    stays = unvisited_stays(viewer).select_related("member", "union").order_by("admitted_on")
    files = (
        reviews_due(viewer, today)
        .select_related("member", "union")
        .order_by("last_reviewed_on", "opened_on")
    )
    return Reminders(
        birthdays=listed,
        in_hospital=list(stays[:limit]),
        reviews_due=list(files[:limit]),
        birthdays_total=members.count(),
    )


def todo(viewer: User, *, today: dt.date) -> list[Todo]:
    """The dashboard's care items (``common.todo``): the subsidies waiting for a step she
    may take, one line per step she holds; and, for whoever records care, the reminders
    of 关爱服务's home page (in hospital not visited, this month's birthdays, hardship
    files due for review). Four queries."""
    g = grants(viewer)
    items: list[Todo] = []
    held = {name: step for name, step in STEPS.items() if g.any(step[1])}
    if held:
        counts = (
            awaiting(viewer)
            .order_by()
            .aggregate(
                **{
                    name: Count("pk", filter=Q(status=status))
                    for name, (status, _, _) in held.items()
                }
            )
        )
        for name, (_, _, verb) in held.items():
            items.append(
                Todo(
                    key=f"care.subsidies.{name}",
                    label=f"补助待{verb}",
                    count=counts[name],
                    url=f"{reverse('care:subsidies')}?todo={name}",
                    unit="笔",
                )
            )
    if not g.any(Perm.CARE_EDIT):
        return items
    home = reverse("care:home")
    people = (
        birthdays(viewer, today)
        .order_by()
        .aggregate(total=Count("pk"), waiting=Count("pk", filter=Q(greeted=False)))
    )
    items += [
        Todo(
            key="care.in_hospital",
            label="住院未探望",
            count=unvisited_stays(viewer).count(),
            url=f"{home}#in-hospital",
            unit="人",
        ),
        Todo(
            key="care.birthdays",
            label="本月生日",
            count=people["total"],
            url=f"{home}#birthdays",
            unit="人",
            note=f"其中 {people['waiting']} 人未慰问" if people["total"] else "",
        ),
        Todo(
            key="care.reviews_due",
            label="困难档案待复核",
            count=reviews_due(viewer, today).count(),
            url=f"{home}#reviews-due",
            unit="户",
            note="30 天内到期",
        ),
    ]
    return items


def review_due_on(file: HardshipFile) -> dt.date:
    """Files are reviewed yearly: a year after the last review (or the opening)."""
    return one_year_after(file.last_reviewed_on or file.opened_on)


# Self-service ---------------------------------------------------------------------------


def own_records(member: Member) -> dict[str, Any]:
    """What a member sees of their own care records."""
    return {
        "visits": list(
            Visit.objects.filter(member=member, state=EntryState.VALID).order_by("-date")[:100]
        ),
        "subsidies": list(
            Subsidy.objects.filter(member=member)
            .prefetch_related("attachments")
            .order_by("-applied_on", "-id")
        ),
        "donations": list(
            Donation.objects.filter(member=member, state=EntryState.VALID)
            .select_related("drive")
            .order_by("-date")[:100]
        ),
    }
