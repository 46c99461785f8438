"""Scope: what a user may see and do, and the one helper every read goes through.

A user holds roles at nodes of the union tree (``org.RoleAssignment``). A role at a
node reaches that node's whole subtree. Each role grants a set of permissions
(:data:`ROLE_PERMS`). Every list and detail view filters with :func:`visible` and
fetches single objects with :func:`get_visible_or_404`, so that an object outside
the user's scope answers exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404

from gonghui.org.choices import Portfolio, Role
from gonghui.org.models import subtree_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from gonghui.org.models import Union, User

M = TypeVar("M", bound=models.Model)


class Perm(StrEnum):
    ORG_VIEW = "org.view"
    ORG_EDIT = "org.edit"
    USERS_MANAGE = "users.manage"
    ROSTER_VIEW = "roster.view"
    ROSTER_EDIT = "roster.edit"
    ROSTER_PII = "roster.pii"  # full 身份证号 and 手机号
    AUDIT_VIEW = "audit.view"
    REPORT_VIEW = "report.view"
    IMPORT = "import"
    CARE_VIEW = "care.view"  # visits, hardship files, subsidies, donations, coverage
    CARE_EDIT = "care.edit"  # record them; review subsidy applications
    CARE_APPROVE = "care.approve"  # approve or reject subsidies; set the caps
    CARE_PAY = "care.pay"  # pay approved subsidies
    ACTIVITY_VIEW = "activity.view"  # activities, attendance, clubs, contests
    ACTIVITY_EDIT = "activity.edit"  # organise them, take attendance, record awards
    HONOUR_VIEW = "honour.view"
    HONOUR_EDIT = "honour.edit"


_READ = {
    Perm.ORG_VIEW,
    Perm.ROSTER_VIEW,
    Perm.REPORT_VIEW,
    Perm.CARE_VIEW,
    Perm.ACTIVITY_VIEW,
    Perm.HONOUR_VIEW,
}

ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.CHAIR: frozenset(Perm),
    Role.COMMITTEE: frozenset(
        _READ
        | {Perm.ROSTER_EDIT, Perm.IMPORT, Perm.CARE_EDIT, Perm.ACTIVITY_EDIT, Perm.HONOUR_EDIT}
    ),
    # A group leader visits the sick of the group and records it.
    # … and organises the group's activities and takes attendance.
    Role.GROUP_LEADER: frozenset(
        {
            Perm.ORG_VIEW,
            Perm.ROSTER_VIEW,
            Perm.CARE_VIEW,
            Perm.CARE_EDIT,
            Perm.ACTIVITY_VIEW,
            Perm.ACTIVITY_EDIT,
        }
    ),
    Role.TREASURER: frozenset(_READ | {Perm.CARE_PAY}),
    # 经审 checks where the money went: it reads the care ledgers and their 操作日志
    # (``audit.entries_for`` leaves out the roster's rows), writes nothing.
    Role.AUDITOR: frozenset(
        {Perm.ORG_VIEW, Perm.REPORT_VIEW, Perm.CARE_VIEW, Perm.ACTIVITY_VIEW, Perm.AUDIT_VIEW}
    ),
    Role.MEMBER: frozenset(),
    Role.VIEWER: frozenset(_READ),
}

#: The 组织委员 keeps the roster and so sees personal numbers in full, as the chair does.
PORTFOLIO_PERMS: dict[str, frozenset[Perm]] = {
    Portfolio.ORGANISATION: frozenset({Perm.ROSTER_PII}),
}


@dataclass
class Grants:
    """For one user: each permission → the minimal list of subtree paths it reaches."""

    superuser: bool = False
    paths: dict[Perm, list[str]] = field(default_factory=dict)

    def reaches(self, perm: Perm, path: str) -> bool:
        if self.superuser:
            return True
        return any(path.startswith(p) for p in self.paths.get(perm, ()))

    def any(self, perm: Perm) -> bool:
        return self.superuser or bool(self.paths.get(perm))


def _minimal(paths: Iterable[str]) -> list[str]:
    """Drop paths that lie under another path in the list."""
    result: list[str] = []
    for p in sorted(set(paths)):
        if not result or not p.startswith(result[-1]):
            result.append(p)
    return result


def grants(user: User | AnonymousUser) -> Grants:
    """The user's permissions by subtree; one query, cached on the user object."""
    if not user.is_authenticated:
        return Grants()
    cached: Grants | None = getattr(user, "_gonghui_grants", None)
    if cached is not None:
        return cached
    from gonghui.org.models import RoleAssignment

    result = Grants(superuser=bool(user.is_superuser and user.is_active))
    if user.is_active:
        collected: dict[Perm, list[str]] = {}
        rows = RoleAssignment.objects.filter(
            user=user, union__archived_at__isnull=True
        ).values_list("role", "portfolio", "union__path")
        for role, portfolio, path in rows:
            perms = ROLE_PERMS.get(role, frozenset()) | PORTFOLIO_PERMS.get(portfolio, frozenset())
            for perm in perms:
                collected.setdefault(perm, []).append(path)
        result.paths = {perm: _minimal(paths) for perm, paths in collected.items()}
    user._gonghui_grants = result  # type: ignore[attr-defined]
    return result


def forget(user: User) -> None:
    """Drop the cached grants after the user's roles changed."""
    if hasattr(user, "_gonghui_grants"):
        del user._gonghui_grants


def scope_q(
    user: User | AnonymousUser, perm: Perm, via: str = "union", *, prefix: bool = False
) -> Q | None:
    """A ``Q`` for rows whose union (reached through ``via``) is in the user's scope.

    ``None`` means everything (a superuser). For the ``Union`` model itself pass
    ``via=""``. An empty scope gives a ``Q`` that matches nothing.

    Subtrees are path ranges, which both databases look up by index. ``prefix=True``
    says the same with ``LIKE 'path%'`` (the same rows), which SQLite cannot look up by
    index: for a query that should rather walk another index (its ORDER BY) and check
    each row's union, see ``members.queries.RosterPaginator``.
    """
    g = grants(user)
    if g.superuser:
        return None
    field = f"{via}__path" if via else "path"
    q = Q(pk__in=[])
    for path in g.paths.get(perm, ()):
        if prefix:
            q |= Q(**{f"{field}__startswith": path})
        else:
            q |= subtree_q(path, field)
    return q


def visible(
    qs: models.QuerySet[M],
    user: User | AnonymousUser,
    perm: Perm,
    via: str = "union",
    *,
    prefix: bool = False,
) -> models.QuerySet[M]:
    """``qs`` limited to what ``user`` may see with ``perm`` (``prefix``: see :func:`scope_q`)."""
    g = grants(user)
    if g.superuser:
        return qs
    if not g.paths.get(perm):
        return qs.none()
    q = scope_q(user, perm, via, prefix=prefix)
    assert q is not None
    return qs.filter(q)


def get_visible_or_404(
    qs: models.QuerySet[M],
    user: User | AnonymousUser,
    perm: Perm,
    via: str = "union",
    **lookup: Any,
) -> M:
    """One object through the user's scope; missing and out-of-scope both raise 404."""
    try:
        return visible(qs, user, perm, via).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("没有找到该记录，或您无权查看。") from exc


def can(user: User | AnonymousUser, perm: Perm, union: Union | None) -> bool:
    """May ``user`` use ``perm`` on something that belongs to ``union``?"""
    if union is None:
        return grants(user).superuser
    return grants(user).reaches(perm, union.path)


def require(user: User | AnonymousUser, perm: Perm, union: Union | None) -> None:
    """Raise ``PermissionDenied`` unless :func:`can`; services call this first."""
    if not can(user, perm, union):
        raise PermissionDenied("您没有在该工会执行此操作的权限。")


def top_unions(user: User | AnonymousUser, perm: Perm) -> models.QuerySet[Union]:
    """The highest nodes where ``user`` holds ``perm`` (the roots of their scope)."""
    from gonghui.org.models import Union

    g = grants(user)
    if g.superuser:
        return Union.objects.filter(parent__isnull=True, archived_at__isnull=True)
    return Union.objects.filter(path__in=g.paths.get(perm, []))
