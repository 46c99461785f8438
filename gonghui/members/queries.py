"""Reads of the roster: always through the viewer's scope."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, When

from gonghui.common import crypto
from gonghui.common.scope import Perm, visible
from gonghui.common.validators import id_number_problem, normalize_id_number
from gonghui.org.models import Union, User, subtree_q

from .choices import ACTIVE_AFTER, CURRENT_STATUSES, AgeBand, MemberStatus
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
    """Members who were 在册 at the end of ``date`` (their latest change put them there).

    Two spellings of the same rows, one per database (bench/: 100,000 members). SQLite
    runs the latest-kind subquery once per member, each an index-only probe of
    ``change_member_latest_idx``. PostgreSQL would run it the same way, but prices that
    plan high enough to JIT-compile it, which alone costs about a second; so it gets
    "an 在册 change with no later change" (by date, then id), which it answers with two
    hash joins.
    """
    if connections[qs.db].vendor != "postgresql":
        return qs.alias(kind_then=status_as_of(date)).filter(kind_then__in=ACTIVE_AFTER)
    later = MembershipChange.objects.filter(member=OuterRef("member"), date__lte=date).filter(
        Q(date__gt=OuterRef("date")) | Q(date=OuterRef("date"), id__gt=OuterRef("id"))
    )
    latest_active = MembershipChange.objects.filter(
        ~Exists(later), member=OuterRef("pk"), date__lte=date, kind__in=ACTIVE_AFTER
    )
    return qs.filter(Exists(latest_active))


def changed_between(
    qs: QuerySet[Member],
    kinds: Iterable[str],
    start: dt.date | None,
    end: dt.date | None,
    within: Union | None = None,
) -> QuerySet[Member]:
    """Members with a change of one of ``kinds`` dated from ``start`` to ``end``,
    recorded by a union in ``within``'s subtree (where the member was at the time, not
    where they are now: moving a member later does not rewrite past figures).

    Found from the changes' side (``change_kind_date_idx``): the few changes of a
    period, not one probe per member, which SQLite would otherwise do.
    """
    changes = MembershipChange.objects.filter(kind__in=list(kinds))
    if within is not None:
        changes = changes.filter(subtree_q(within.path, "union__path"))
    if start:
        changes = changes.filter(date__gte=start)
    if end:
        changes = changes.filter(date__lte=end)
    return qs.filter(pk__in=changes.values("member_id"))


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


def roster(
    viewer: User, f: RosterFilter | None = None, *, prefix: bool = False
) -> QuerySet[Member]:
    """The members ``viewer`` may see, filtered by ``f``.

    ``prefix`` names subtrees with ``LIKE`` instead of index ranges: the same rows, for
    :class:`RosterPaginator` to fetch a page of a large result by walking the name index.
    """
    f = f or RosterFilter()
    qs = visible(Member.objects.all(), viewer, Perm.ROSTER_VIEW, prefix=prefix)
    if f.union is not None and not f.changed:  # with changes, the union is the change's
        if prefix:
            qs = qs.filter(union__path__startswith=f.union.path)
        else:
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
        qs = changed_between(qs, f.changed, f.changed_from, f.changed_to, within=f.union)
    return qs


class RosterPaginator(Paginator):
    """The roster's pages, each fetched the way that is fast for how many rows match.

    Still two queries, the count and the page, but the page query is chosen after the
    count. A page is "the matching members by name, rows n to n + 50", and the two ways
    to find it differ a thousandfold (bench/bench_roster.py, 100,000 members):

    - many matches (a federation's whole roster, a large union): ``walk`` the name
      index in order, check each row, stop after one page. ``walk`` names subtrees with
      ``LIKE`` so that SQLite, which keeps no statistics, cannot take the union index
      instead (``member_name_walk_idx`` holds each row's union beside its name);
    - few matches (a branch, a search): find the matching ids first, by the indexes
      the count used, and only then read and sort those rows. Reading every row in
      scope and sorting them all is what SQLite does otherwise for a name search.

    PostgreSQL plans both cases well from its statistics, and gets the ids first only
    for a search.
    """

    #: Walk when at least this many rows match and the page lies in their first quarter;
    #: deeper pages are reached faster by sorting, even for the whole federation.
    WALK_FROM = 5000

    def __init__(
        self,
        object_list: QuerySet[Member],
        per_page: int,
        *,
        walk: QuerySet[Member] | None = None,
        ids_first: bool = True,
    ) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.walk = walk
        self.ids_first = ids_first

    def page(self, number: int | str) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        qs = self.queryset
        if self.walk is not None and self.count >= self.WALK_FROM and top * 4 <= self.count:
            qs = self.walk
        elif self.ids_first and top > bottom:
            qs = Member.objects.filter(pk__in=qs.values("pk")).select_related("union")
        return Page(qs[bottom:top], number, self)


def roster_pages(viewer: User, f: RosterFilter | None, per_page: int) -> RosterPaginator:
    """The roster list's pages (see :class:`RosterPaginator`)."""
    f = f or RosterFilter()
    if connections[Member.objects.db].vendor != "sqlite":
        qs = roster(viewer, f).select_related("union")
        return RosterPaginator(qs, per_page, ids_first=bool(f.q.strip()))
    # Letters or digits are found by prefix through their own indexes, which SQLite
    # takes only when the subtrees are not an index range it would rather use.
    prefix = bool(f.q.strip()) and f.q.isascii()
    qs = roster(viewer, f, prefix=prefix).select_related("union")
    walk = roster(viewer, f, prefix=True).select_related("union")
    return RosterPaginator(qs, per_page, walk=walk)


def own_member(user: User) -> Member | None:
    """The roster entry linked to a logged-in member, for self-service."""
    return Member.objects.select_related("union").filter(user=user).first()


_LABELLED = re.compile(r"^(?P<name>.+?)\s*[（(](?P<code>[^）)]+)[）)]$")


def find_members(viewer: User, perm: Perm, text: str, limit: int = 20) -> list[Member]:
    """The members in ``viewer``'s scope that ``text`` names: ``张三（HX0012）`` (as the
    suggestions write them), a 身份证号, a 会员证号 or 工号, or a name. Current members
    first (as ``members.matching`` does for a sheet)."""
    text = " ".join(text.split())
    qs = visible(Member.objects.select_related("union"), viewer, perm)
    labelled = _LABELLED.match(text)
    if labelled:
        code = labelled["code"].strip()
        found = list(
            qs.filter(Q(card_no=code.upper()) | Q(employee_no=code), name=labelled["name"])[:limit]
        )
        if found:
            return found
    if not id_number_problem(text):  # a full 身份证号: by its look-up hash
        digest = crypto.lookup_hash(normalize_id_number(text), purpose="id")
        by_id = list(qs.filter(id_number_hash=digest)[:limit])
        current = [m for m in by_id if m.status in CURRENT_STATUSES]
        return current or by_id
    by_code = list(qs.filter(Q(card_no=text.upper()) | Q(employee_no=text))[:limit])
    if by_code:
        return by_code
    by_name = qs.filter(name=text).order_by(
        Case(When(status__in=CURRENT_STATUSES, then=0), default=1), "name_sort", "pk"
    )
    found = list(by_name[:limit])
    current = [m for m in found if m.status in CURRENT_STATUSES]
    return current if len(current) == 1 else found


def suggest_members(viewer: User, perm: Perm, text: str, limit: int = 12) -> list[Member]:
    """Members for the lookup box's suggestions: the roster search, current first."""
    if not text.strip():
        return []
    qs = visible(Member.objects.select_related("union"), viewer, perm).filter(search_q(text))
    return list(
        qs.order_by(Case(When(status__in=CURRENT_STATUSES, then=0), default=1), "name_sort", "pk")[
            :limit
        ]
    )
