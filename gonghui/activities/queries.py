"""Reads of 文体活动与培训: always through the viewer's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from gonghui.common.reporting import Period
from gonghui.common.scope import Perm, visible
from gonghui.members.choices import CURRENT_STATUSES
from gonghui.members.models import Member
from gonghui.members.queries import on_roster_as_of
from gonghui.org.models import Union, User, subtree_q

from .choices import HOLDING, ActivityStatus, Category, RegStatus
from .models import Activity, Club, ClubMembership, Registration


def activities(viewer: User, *, union: Union | None = None) -> QuerySet[Activity]:
    qs = visible(Activity.objects.all(), viewer, Perm.ACTIVITY_VIEW)
    if union is not None:
        qs = qs.filter(subtree_q(union.path, "union__path"))
    return qs.select_related("union", "audience", "club")


def with_counts(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    """Each activity with its places taken, its waitlist and its attendance."""
    return qs.annotate(
        held=Count("registrations", filter=Q(registrations__status__in=HOLDING)),
        waiting=Count("registrations", filter=Q(registrations__status=RegStatus.WAITLISTED)),
        came=Count("registrations", filter=Q(registrations__status=RegStatus.ATTENDED)),
    )


def in_subtree(union: Union) -> Q:
    """Rows of ``union``'s subtree, as ``union_id IN (…)`` (few unions, many rows)."""
    return Q(union__in=Union.objects.filter(subtree_q(union.path)).values("pk"))


def period_activities(union: Union, period: Period) -> QuerySet[Activity]:
    """The activities ``union``'s subtree held in ``period`` (by their first day): not
    cancelled, and begun (one still to come has not been held, whatever the period)."""
    return Activity.objects.filter(
        in_subtree(union),
        start_date__gte=period.start,
        start_date__lte=min(period.end, timezone.localdate()),
        status=ActivityStatus.OPEN,
    )


def eligible(activity: Activity) -> QuerySet[Member]:
    """The members who may take part (as ``services.eligibility_problem`` decides): the
    club's, or those of the audience's subtree; 在册 or 保留会籍."""
    if activity.club_id is not None:
        return Member.objects.filter(
            Exists(ClubMembership.objects.filter(club_id=activity.club_id, member=OuterRef("pk"))),
            status__in=CURRENT_STATUSES,
        )
    return Member.objects.filter(
        subtree_q(activity.audience.path, "union__path"), status__in=CURRENT_STATUSES
    )


def rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Participation:
    """Distinct members who attended ÷ eligible members."""

    attended: int
    eligible: int

    @property
    def rate(self) -> Decimal | None:
        return rate(self.attended, self.eligible)


def activity_participation(activity: Activity) -> Participation:
    """Of those who may take part now, how many came (one query)."""
    came = Registration.objects.filter(activity=activity, status=RegStatus.ATTENDED).values(
        "member_id"
    )
    counts = eligible(activity).aggregate(
        total=Count("pk"), came=Count("pk", filter=Q(pk__in=came))
    )
    return Participation(counts["came"], counts["total"])


def period_participation(
    union: Union, period: Period, *, category: str | None = None
) -> Participation:
    """Over a period: the members on ``union``'s roster at its end who attended at least
    one activity of the period held in the subtree ÷ all of them."""
    acts = period_activities(union, period)
    if category:
        acts = acts.filter(category=category)
    roster = on_roster_as_of(
        Member.objects.filter(subtree_q(union.path, "union__path")), period.end
    )
    came_ids = Registration.objects.filter(activity__in=acts, status=RegStatus.ATTENDED).values(
        "member_id"
    )
    counts = roster.aggregate(total=Count("pk"), came=Count("pk", filter=Q(pk__in=came_ids)))
    return Participation(counts["came"], counts["total"])


def participation_by_branch(union: Union, period: Period) -> list[tuple[Union, Participation]]:
    """The period's participation for each union directly below ``union`` (its 分工会 and
    小组), in one query over the roster."""
    children = list(Union.objects.filter(parent=union, archived_at__isnull=True).order_by("path"))
    if not children:
        return []
    acts = period_activities(union, period)
    roster = on_roster_as_of(
        Member.objects.filter(subtree_q(union.path, "union__path")), period.end
    )
    came_ids = Registration.objects.filter(activity__in=acts, status=RegStatus.ATTENDED).values(
        "member_id"
    )
    aggregates: dict[str, Any] = {}
    for child in children:
        under = subtree_q(child.path, "union__path")
        aggregates[f"t{child.pk}"] = Count("pk", filter=under)
        aggregates[f"c{child.pk}"] = Count("pk", filter=under & Q(pk__in=came_ids))
    counts = roster.aggregate(**aggregates)
    return [
        (child, Participation(counts[f"c{child.pk}"], counts[f"t{child.pk}"])) for child in children
    ]


# Self-service ---------------------------------------------------------------------------


def open_for(member: Member, today: dt.date | None = None) -> QuerySet[Activity]:
    """Activities a member may sign up for now or soon: of a union above them (their
    audience holds them) or of a club they are in, not yet over, not cancelled."""
    today = today or timezone.localdate()
    ancestors = [*member.union.ancestor_ids(), member.union_id]
    clubs = ClubMembership.objects.filter(member=member).values("club_id")
    return (
        Activity.objects.filter(end_date__gte=today, status=ActivityStatus.OPEN)
        .filter(Q(club__isnull=True, audience_id__in=ancestors) | Q(club_id__in=clubs))
        .select_related("union", "club")
        .order_by("start_date", "id")
    )


def my_registrations(member: Member) -> dict[int, Registration]:
    return {r.activity_id: r for r in Registration.objects.filter(member=member)}


def clubs(viewer: User) -> QuerySet[Club]:
    return (
        visible(Club.objects.filter(archived_at__isnull=True), viewer, Perm.ACTIVITY_VIEW)
        .select_related("union", "leader")
        .annotate(size=Count("memberships"))
    )


def is_training(category: str) -> bool:
    return category == Category.TRAINING
