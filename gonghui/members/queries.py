"""Reads of the roster: always through the viewer's scope."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from gonghui.common.scope import Perm, visible
from gonghui.org.models import Union, User, subtree_q

from .choices import ACTIVE_AFTER, AgeBand, MemberStatus
from .models import Member, MembershipChange


def prefix_q(field_name: str, prefix: str) -> Q:
    """``field`` starts with ``prefix``, as an index range (``LIKE`` may skip the index)."""
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": prefix + "\U0010ffff"})


_ASCII_WORD = re.compile(r"^[a-z]+$")


def search_q(text: str) -> Q:
    """What the roster's search box matches.

    Letters only: pinyin or its initials (``zs`` and ``zhangs`` find 张三), and 工号 or
    会员证号 that start with them. Anything with digits: 工号 or 会员证号 by prefix.
    Chinese: the name contains it.
    """
    text = text.strip()
    if not text:
        return Q()
    lowered = text.lower().replace(" ", "")
    if _ASCII_WORD.match(lowered):
        return (
            prefix_q("name_initials", lowered)
            | prefix_q("name_pinyin", lowered)
            | prefix_q("employee_no", text)
            | prefix_q("card_no", text.upper())
        )
    if text.isascii():
        return prefix_q("employee_no", text) | prefix_q("card_no", text.upper())
    return Q(name__contains=text)


def status_as_of(date: dt.date) -> Subquery:
    """The kind of each member's latest change on or before ``date``."""
    latest = MembershipChange.objects.filter(member=OuterRef("pk"), date__lte=date).order_by(
        "-date", "-id"
    )
    return Subquery(latest.values("kind")[:1])


def on_roster_as_of(qs: QuerySet[Member], date: dt.date) -> QuerySet[Member]:
    """Members who were 在册 at the end of ``date`` (their latest change put them there)."""
    return qs.alias(kind_then=status_as_of(date)).filter(kind_then__in=ACTIVE_AFTER)


def changed_between(
    qs: QuerySet[Member], kinds: Iterable[str], start: dt.date | None, end: dt.date | None
) -> QuerySet[Member]:
    changes = MembershipChange.objects.filter(member=OuterRef("pk"), kind__in=list(kinds))
    if start:
        changes = changes.filter(date__gte=start)
    if end:
        changes = changes.filter(date__lte=end)
    return qs.filter(Exists(changes))


def age_band_q(band: str, today: dt.date | None = None) -> Q:
    """Members whose age today falls in ``band`` (``"35-45"``: 35 ≤ age < 45)."""
    today = today or dt.date.today()
    low, _, high = band.partition("-")

    def born_years_ago(years: int) -> dt.date:
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    q = Q()
    if low:
        q &= Q(birth_date__lte=born_years_ago(int(low)))
    if high:
        q &= Q(birth_date__gt=born_years_ago(int(high)))
    return q


@dataclass
class RosterFilter:
    """The roster list's filters, as parsed from the query string."""

    q: str = ""
    union: Union | None = None
    status: list[str] = field(default_factory=list)
    employment_type: list[str] = field(default_factory=list)
    gender: str = ""
    age_band: str = ""
    as_of: dt.date | None = None
    changed: list[str] = field(default_factory=list)
    changed_from: dt.date | None = None
    changed_to: dt.date | None = None


def roster(viewer: User, f: RosterFilter | None = None) -> QuerySet[Member]:
    """The members ``viewer`` may see, filtered by ``f``."""
    f = f or RosterFilter()
    qs = visible(Member.objects.all(), viewer, Perm.ROSTER_VIEW)
    if f.union is not None:
        qs = qs.filter(subtree_q(f.union.path, "union__path"))
    if f.q:
        qs = qs.filter(search_q(f.q))
    if f.as_of and f.status == [MemberStatus.ACTIVE]:
        # "在册 at that date" comes from the history, not from today's status.
        qs = on_roster_as_of(qs, f.as_of)
    elif f.status:
        qs = qs.filter(status__in=f.status)
    if f.employment_type:
        qs = qs.filter(employment_type__in=f.employment_type)
    if f.gender:
        qs = qs.filter(gender=f.gender)
    if f.age_band and f.age_band in AgeBand.values:
        qs = qs.filter(age_band_q(f.age_band))
    if f.changed:
        qs = changed_between(qs, f.changed, f.changed_from, f.changed_to)
    return qs


def own_member(user: User) -> Member | None:
    """The roster entry linked to a logged-in member, for self-service."""
    return Member.objects.select_related("union").filter(user=user).first()
