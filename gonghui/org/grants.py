"""Money roles need a second officer: a role that approves or pays (主席, 财务: ``care.
approve`` / ``care.pay``) is given only when someone other than the officer who asked
confirms it, the chair of the level above or a second chair of the union.

Else a branch chair could make two logins with roles of her choosing (委员, 财务) and
push a subsidy through every step alone. ``role_grant`` turns such a grant by an officer
into a :class:`PendingGrant`; the system (``actor=None``: demo, command line) and the
installation's superusers grant directly. Every request, confirmation and refusal is
audited.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction
from gonghui.common.scope import ROLE_PERMS, Perm, can, forget, grants, require, visible

from .choices import Role
from .models import GrantStatus, PendingGrant, RoleAssignment, Union, User

MONEY_PERMS = frozenset({Perm.CARE_APPROVE, Perm.CARE_PAY})


def is_money_role(role: str) -> bool:
    return bool(ROLE_PERMS.get(role, frozenset()) & MONEY_PERMS)


def needs_confirmation(actor: User | None, role: str) -> bool:
    return actor is not None and not grants(actor).superuser and is_money_role(role)


def _label(grant: PendingGrant) -> str:
    return f"{grant.union.name} {Role(grant.role).label}"


def may_confirm(actor: User, grant: PendingGrant) -> bool:
    """Someone who manages users at the grant's union, and is neither the officer who
    asked, nor a login that officer made, nor the person the role is for."""
    if grant.status != GrantStatus.PENDING:
        return False
    if actor.pk in (grant.requested_by_id, grant.user_id):
        return False
    if grant.requested_by_id is not None and actor.created_by_id == grant.requested_by_id:
        return False
    return can(actor, Perm.USERS_MANAGE, grant.union)


@transaction.atomic
def grant_request(
    *, actor: User, user: User, union: Union, role: str, portfolio: str = ""
) -> PendingGrant:
    """Ask for a money role for ``user``: it waits for a second officer."""
    require(actor, Perm.USERS_MANAGE, union)
    if RoleAssignment.objects.filter(user=user, union=union, role=role).exists():
        raise ServiceError({"role": f"「{user.display_name}」已是{union.name}{Role(role).label}。"})
    grant, created = PendingGrant.objects.get_or_create(
        user=user,
        union=union,
        role=role,
        status=GrantStatus.PENDING,
        defaults={"portfolio": portfolio, "requested_by": actor},
    )
    if not created:
        raise ServiceError({"role": f"「{_label(grant)}」的授权已在等待确认，无需重复申请。"})
    audit.record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=user,
        union=union,
        changes={"待确认角色": ["", _label(grant)]},
        summary=f"申请授予「{user.display_name}」{_label(grant)}（涉及审批或发放资金，"
        "待上级主席或另一位主席确认）",
    )
    return grant


@transaction.atomic
def grant_confirm(*, actor: User, grant: PendingGrant) -> RoleAssignment:
    """A second officer confirms: the role is given now."""
    grant = (
        PendingGrant.objects.select_for_update().select_related("user", "union").get(pk=grant.pk)
    )
    if grant.status != GrantStatus.PENDING:
        raise ServiceError("这项授权已处理过。")
    if not may_confirm(actor, grant):
        raise ServiceError(
            "这项授权须由申请人以外、有用户管理权限的上级主席或另一位主席确认；"
            "申请人本人、受授权人和申请人创建的账号都不能确认。"
        )
    if grant.union.is_archived:
        raise ServiceError(f"「{grant.union.name}」已归档，不能在其上授予角色。")
    assignment, _ = RoleAssignment.objects.get_or_create(
        user=grant.user, union=grant.union, role=grant.role, defaults={"portfolio": grant.portfolio}
    )
    grant.status = GrantStatus.CONFIRMED
    grant.decided_by = actor
    grant.decided_at = timezone.now()
    grant.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    requester = grant.requested_by.display_name if grant.requested_by else "—"
    audit.record(
        actor=actor,
        action=AuditAction.GRANT,
        obj=grant.user,
        union=grant.union,
        changes={"角色": ["", str(assignment)], "申请人": ["", requester]},
        summary=f"确认授予「{grant.user.display_name}」{assignment}（{requester}申请）",
    )
    forget(grant.user)
    return assignment


@transaction.atomic
def grant_refuse(*, actor: User, grant: PendingGrant) -> PendingGrant:
    """The confirming officer, or the one who asked, drops the request."""
    grant = (
        PendingGrant.objects.select_for_update().select_related("user", "union").get(pk=grant.pk)
    )
    if grant.status != GrantStatus.PENDING:
        raise ServiceError("这项授权已处理过。")
    if actor.pk != grant.requested_by_id and not may_confirm(actor, grant):
        require(actor, Perm.USERS_MANAGE, None)  # only a superuser beyond those two
    grant.status = GrantStatus.REFUSED
    grant.decided_by = actor
    grant.decided_at = timezone.now()
    grant.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=grant.user,
        union=grant.union,
        changes={"待确认角色": [_label(grant), ""]},
        summary=f"不予授予「{grant.user.display_name}」{_label(grant)}",
    )
    return grant


def pending(viewer: User, user: User | None = None) -> QuerySet[PendingGrant]:
    """Requests waiting in the part of the tree ``viewer`` manages."""
    qs = PendingGrant.objects.filter(status=GrantStatus.PENDING).select_related(
        "user", "union", "requested_by"
    )
    if user is not None:
        qs = qs.filter(user=user)
    return visible(qs, viewer, Perm.USERS_MANAGE)


def pending_q(viewer: User) -> Q:
    """Users with a request waiting in ``viewer``'s part of the tree (the users list)."""
    return Q(pk__in=pending(viewer).values("user_id"))
