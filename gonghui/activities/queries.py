"""Reads of 文体活动与培训: always through the viewer's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from gonghui.common.reporting import Period, percent
from gonghui.common.scope import Perm, grants, visible
from gonghui.common.todo import Todo
from gonghui.members.choices import CURRENT_STATUSES
from gonghui.members.models import Member
from gonghui.members.queries import on_roster_as_of
from gonghui.org.models import Union, User, in_subtree, subtree_q

from .choices import HOLDING, ActivityStatus, Category, RegStatus
from .models import Activity, Club, ClubMembership, Quiz, Registration


def activities(viewer: User, *, union: Union | None = None) -> QuerySet[Activity]:
    qs = visible(Activity.objects.all(), viewer, Perm.ACTIVITY_VIEW)
    if union is not None:
        qs = qs.filter(subtree_q(union.path, "union__path"))
    return qs.select_related("union", "audience", "club")


def week_of(day: dt.date) -> Period:
    """The week (Monday to Sunday) ``day`` falls in."""
    monday = day - dt.timedelta(days=day.weekday())
    return Period(monday, monday + dt.timedelta(days=6))


def starting_in(viewer: User, period: Period) -> QuerySet[Activity]:
    """The activities in ``viewer``'s scope that start in ``period`` and are not cancelled."""
    return activities(viewer).filter(
        status=ActivityStatus.OPEN, start_date__gte=period.start, start_date__lte=period.end
    )


def todo(viewer: User, *, today: dt.date) -> list[Todo]:
    """The dashboard's line for whoever organises activities (``common.todo``): those
    starting this week, to get ready and take attendance. One query."""
    if not grants(viewer).any(Perm.ACTIVITY_EDIT):
        return []
    week = week_of(today)
    query = urlencode({"start": week.start, "end": week.end, "status": ActivityStatus.OPEN})
    return [
        Todo(
            key="activities.this_week",
            label="本周开始的活动",
            count=starting_in(viewer, week).count(),
            url=f"{reverse('activities:list')}?{query}",
            unit="项",
            note=f"{week.start:%m-%d} 至 {week.end:%m-%d}",
        )
    ]


def with_counts(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    """Each activity with its places taken, its waitlist and its attendance."""
    return qs.annotate(
        held=Count("registrations", filter=Q(registrations__status__in=HOLDING)),
        waiting=Count("registrations", filter=Q(registrations__status=RegStatus.WAITLISTED)),
        came=Count("registrations", filter=Q(registrations__status=RegStatus.ATTENDED)),
    )


def held(period: Period) -> QuerySet[Activity]:
    """Every activity held in ``period`` (by its first day), whoever organised it: not
    cancelled, and begun (one still to come has not been held, whatever the period)."""
    return Activity.objects.filter(_held_q(period))


def _held_q(period: Period, prefix: str = "") -> Q:
    """:func:`held` as a condition, on an activity reached through ``prefix``."""
    return Q(
        **{
            f"{prefix}start_date__gte": period.start,
            f"{prefix}start_date__lte": min(period.end, timezone.localdate()),
            f"{prefix}status": ActivityStatus.OPEN,
        }
    )


def period_activities(union: Union, period: Period) -> QuerySet[Activity]:
    """The activities ``union``'s subtree held in ``period``."""
    return held(period).filter(in_subtree(union))


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


def may_see_as_member(activity: Activity, member: Member) -> bool:
    """A member sees an activity's own page when they may take part (:func:`eligible`)
    or already hold a place or a record in it (one who has since moved keeps it)."""
    return (
        eligible(activity).filter(pk=member.pk).exists()
        or Registration.objects.filter(activity=activity, member=member).exists()
    )


@dataclass(frozen=True)
class Participation:
    """Distinct members who attended ÷ eligible members."""

    attended: int
    eligible: int

    @property
    def rate(self) -> Decimal | None:
        return percent(self.attended, self.eligible)


def activity_participation(activity: Activity) -> Participation:
    """Of those who may take part now, how many came (one query)."""
    came = Registration.objects.filter(activity=activity, status=RegStatus.ATTENDED).values(
        "member_id"
    )
    counts = eligible(activity).aggregate(
        total=Count("pk"), came=Count("pk", filter=Q(pk__in=came))
    )
    return Participation(counts["came"], counts["total"])


#: Up to this many members on a roster, participation is looked up member by member
#: (each one's own registrations, by the member index, joined to their activities);
#: past it, the period's whole attendance is read once and matched against the roster.
#: Both count the same. On SQLite the one costs about 0.025 ms a member, the other a
#: fixed 0.2 s for a city's year (a 工会小组 of 410: 11 ms against 197; a 基层工会 of 5,672:
#: 130 against 199); PostgreSQL plans both alike. See bench/README.md.
MEMBER_BY_MEMBER_UP_TO = 5_000


def _attended(roster_size: int, period: Period, category: str | None = None) -> Q:
    """The roster's members who attended an activity of the period, whoever organised it
    and wherever they were then: a branch's teachers at the school's sports day count
    for the branch as for the school, and one who has since moved counts where they are
    now. A ``WHERE`` condition on the roster (in an aggregate's ``FILTER`` PostgreSQL
    would search the list once per member: > 30 s for a city's year)."""
    if roster_size <= MEMBER_BY_MEMBER_UP_TO:
        # Joined, not ``activity IN (…)``: with the list SQLite would probe every activity
        # of the period for each member (14 s for a 基层工会 of a city's year).
        mine = Registration.objects.filter(
            _held_q(period, "activity__"), member_id=OuterRef("pk"), status=RegStatus.ATTENDED
        )
        if category:
            mine = mine.filter(activity__category=category)
        return Q(Exists(mine))
    acts = held(period)
    if category:
        acts = acts.filter(category=category)
    attended = Registration.objects.filter(
        status=RegStatus.ATTENDED, activity__in=acts.values("pk")
    )
    return Q(pk__in=attended.values("member_id"))


def period_participation(
    union: Union, period: Period, *, category: str | None = None
) -> Participation:
    """Over a period: the members on ``union``'s roster at its end who attended at least
    one activity of the period (held anywhere they could go) ÷ all of them."""
    roster = on_roster_as_of(
        Member.objects.filter(subtree_q(union.path, "union__path")), period.end
    )
    total = roster.count()
    came = roster.filter(_attended(total, period, category)).count() if total else 0
    return Participation(came, total)


def participation_by_branch(union: Union, period: Period) -> list[tuple[Union, Participation]]:
    """The period's participation for each union directly below ``union`` (its 分工会 and
    小组), counted as :func:`period_participation` counts each, in two queries."""
    children = list(Union.objects.filter(parent=union, archived_at__isnull=True).order_by("path"))
    if not children:
        return []
    roster = on_roster_as_of(
        Member.objects.filter(subtree_q(union.path, "union__path")), period.end
    )
    per_child = {
        f"n{child.pk}": Count("pk", filter=subtree_q(child.path, "union__path"))
        for child in children
    }
    total = roster.aggregate(**per_child)
    size = sum(total.values())
    came = roster.filter(_attended(size, period)).aggregate(**per_child)
    return [
        (child, Participation(came[f"n{child.pk}"] or 0, total[f"n{child.pk}"]))
        for child in children
    ]


@dataclass(frozen=True)
class QuizStats:
    answered: int
    passed: int
    eligible: int

    @property
    def pass_rate(self) -> Decimal | None:
        """通过率 of everyone who may take part ("100%通过了网上测试")."""
        return percent(self.passed, self.eligible)


def quiz_stats(quiz: Quiz, activity: Activity) -> QuizStats:
    counts = quiz.attempts.aggregate(
        answered=Count("pk"), passed=Count("pk", filter=Q(passed=True))
    )
    return QuizStats(counts["answered"], counts["passed"], eligible(activity).count())


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
        .select_related("union", "club", "quiz")
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
