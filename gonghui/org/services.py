"""Every write to the union tree, users and roles. One transaction each, each audited."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction
from gonghui.common.scope import Perm, forget, grants, require

from . import grants as money_grants
from . import throttle
from .choices import ALLOWED_CHILDREN, Portfolio, Role, UnionKind
from .models import PendingGrant, RoleAssignment, Union, User, path_segment, subtree_q

UNION_FIELDS = ("name", "code", "kind", "headcount", "term_no", "term_start", "term_end")

#: Functions ``(union) -> str | None`` that other apps register (in ``AppConfig.ready``)
#: to refuse archiving a node that still holds their live rows; the string says why.
archive_guards: list[Callable[[Union], str | None]] = []


def _check_placement(kind: str, parent: Union | None) -> None:
    if parent is None:
        if kind not in (UnionKind.FEDERATION, UnionKind.UNION):
            raise ServiceError({"parent": "分工会和工会小组必须有上级工会。"})
        return
    if parent.is_archived:
        raise ServiceError({"parent": f"上级工会「{parent.name}」已归档，不能在其下新建或移入。"})
    if kind not in ALLOWED_CHILDREN[parent.kind]:
        raise ServiceError(
            {
                "parent": f"{UnionKind(parent.kind).label}「{parent.name}」下不能设"
                f"{UnionKind(kind).label}。"
            }
        )


def _check_name(name: str, parent: Union | None, exclude_pk: int | None = None) -> None:
    """Two live nodes under one parent may not share a name: officers, imports and the
    command line find a node by its name under its parent."""
    if parent is None:
        return
    qs = Union.objects.filter(parent=parent, name=name, archived_at__isnull=True)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ServiceError({"name": f"「{parent.name}」下已有名为「{name}」的组织，请换一个名称。"})


def _check_code(code: str, exclude_pk: int | None = None) -> None:
    qs = Union.objects.filter(code=code)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    other = qs.first()
    if other:
        raise ServiceError({"code": f"代码「{code}」已被「{other.name}」使用，请换一个。"})


@transaction.atomic
def union_create(
    *,
    actor: User | None,
    name: str,
    kind: str,
    parent: Union | None,
    code: str = "",
    headcount: int = 0,
    term_no: int | None = None,
    term_start: dt.date | None = None,
    term_end: dt.date | None = None,
) -> Union:
    """Add a node under ``parent`` (a root when ``parent`` is None: superusers only)."""
    if actor is not None:
        require(actor, Perm.ORG_EDIT, parent)
    name = name.strip()
    if not name:
        raise ServiceError({"name": "请填写名称。"})
    if parent is not None:
        # Lock the parent so a concurrent move cannot change the path we build on, and
        # check the fresh row: the caller's copy may predate an archive.
        parent = Union.objects.select_for_update().get(pk=parent.pk)
    _check_placement(kind, parent)
    _check_name(name, parent)
    code = code.strip().upper()
    if code:
        _check_code(code)
    placeholder = f"~{uuid.uuid4().hex}"
    union = Union(
        name=name,
        kind=kind,
        parent=parent,
        code=code or placeholder[:32],
        path=placeholder,
        depth=(parent.depth + 1) if parent else 0,
        headcount=headcount,
        term_no=term_no,
        term_start=term_start,
        term_end=term_end,
    )
    union.save()
    union.path = (parent.path if parent else "") + path_segment(union.pk)
    if not code:
        # U0042 may already have been typed by hand for another node: take the next free.
        candidate, n = f"U{union.pk:04d}", 1
        while Union.objects.filter(code=candidate).exists():
            candidate, n = f"U{union.pk:04d}-{n}", n + 1
        union.code = candidate
    union.save(update_fields=["path", "code"])
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=union,
        union=union,
        changes=audit.diff(Union, {}, audit.snapshot(union, UNION_FIELDS)),
        summary=f"新建{union.get_kind_display()}「{union.name}」",
    )
    return union


@transaction.atomic
def union_update(
    *,
    actor: User | None,
    union: Union,
    name: str | None = None,
    code: str | None = None,
    headcount: int | None = None,
    term_no: int | None = None,
    term_start: dt.date | None = None,
    term_end: dt.date | None = None,
) -> Union:
    """Rename a node or change its code, headcount or term."""
    if actor is not None:
        require(actor, Perm.ORG_EDIT, union)
    union = Union.objects.select_for_update().get(pk=union.pk)
    before = audit.snapshot(union, UNION_FIELDS)
    if name is not None:
        if not name.strip():
            raise ServiceError({"name": "名称不能为空。"})
        _check_name(name.strip(), union.parent, exclude_pk=union.pk)
        union.name = name.strip()
    if code is not None:
        code = code.strip().upper()
        if not code:
            raise ServiceError({"code": "代码不能为空。"})
        _check_code(code, exclude_pk=union.pk)
        union.code = code
    if headcount is not None:
        union.headcount = headcount
    union.term_no = term_no if term_no is not None else union.term_no
    union.term_start = term_start if term_start is not None else union.term_start
    union.term_end = term_end if term_end is not None else union.term_end
    if union.term_start and union.term_end and union.term_end < union.term_start:
        raise ServiceError({"term_end": "任期结束日期不能早于开始日期。"})
    union.save()
    changes = audit.diff(Union, before, audit.snapshot(union, UNION_FIELDS))
    if changes:
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=union,
            union=union,
            changes=changes,
            summary=f"修改「{union.name}」",
        )
    return union


@transaction.atomic
def union_move(*, actor: User | None, union: Union, new_parent: Union) -> Union:
    """Move ``union`` and its whole subtree under ``new_parent``.

    Paths of the subtree are rewritten in one UPDATE. Where a node sits is its
    parent's business: the actor needs edit rights at the old parent and at the new one
    (a branch chair cannot move their own branch out of the school).
    """
    union = Union.objects.select_for_update(of=("self",)).select_related("parent").get(pk=union.pk)
    new_parent = Union.objects.select_for_update().get(pk=new_parent.pk)
    if actor is not None:
        require(actor, Perm.ORG_EDIT, union.parent or union)
        require(actor, Perm.ORG_EDIT, new_parent)
    if new_parent.path.startswith(union.path):
        raise ServiceError({"parent": "不能移动到自身或自己的下级组织之下。"})
    if union.parent_id == new_parent.pk:
        return union
    _check_placement(union.kind, new_parent)
    _check_name(union.name, new_parent, exclude_pk=union.pk)
    old_parent_name = union.parent.name if union.parent else ""
    old_path = union.path
    new_path = new_parent.path + path_segment(union.pk)
    delta = new_parent.depth + 1 - union.depth
    Union.objects.filter(subtree_q(old_path)).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)),
        depth=F("depth") + delta,
    )
    Union.objects.filter(pk=union.pk).update(parent=new_parent)
    union.refresh_from_db()
    audit.record(
        actor=actor,
        action=AuditAction.MOVE,
        obj=union,
        union=union,
        changes={"上级工会": [old_parent_name, new_parent.name]},
        summary=f"将「{union.name}」从「{old_parent_name}」移到「{new_parent.name}」之下",
    )
    return union


@transaction.atomic
def union_archive(*, actor: User | None, union: Union) -> Union:
    """Archive a node and its subtree. It disappears from lists; its records stay.
    Closing a node is its parent's decision: the actor needs edit rights there."""
    if actor is not None:
        require(actor, Perm.ORG_EDIT, union.parent or union)
        # A chair of the top node would otherwise archive their whole tree, themselves
        # included; only a superuser (who keeps access) may close a top node.
        if union.parent is None and not grants(actor).superuser:
            raise ServiceError("不能归档最上级组织。")
    union = Union.objects.select_for_update().get(pk=union.pk)
    if union.is_archived:
        return union
    for guard in archive_guards:
        reason = guard(union)
        if reason:
            raise ServiceError(reason)
    now = timezone.now()
    count = Union.objects.filter(subtree_q(union.path), archived_at__isnull=True).update(
        archived_at=now
    )
    union.archived_at = now
    audit.record(
        actor=actor,
        action=AuditAction.ARCHIVE,
        obj=union,
        union=union,
        summary=f"归档「{union.name}」及其下级组织，共 {count} 个",
    )
    return union


@transaction.atomic
def union_restore(*, actor: User | None, union: Union) -> Union:
    """Undo an archive: the node and its subtree come back (the parent's decision too)."""
    if actor is not None:
        require(actor, Perm.ORG_EDIT, union.parent or union)
    union = Union.objects.select_for_update().get(pk=union.pk)
    if union.parent and union.parent.is_archived:
        raise ServiceError(f"上级「{union.parent.name}」已归档，请先恢复上级。")
    Union.objects.filter(subtree_q(union.path)).update(archived_at=None)
    union.archived_at = None
    audit.record(
        actor=actor,
        action=AuditAction.RESTORE,
        obj=union,
        union=union,
        summary=f"恢复「{union.name}」",
    )
    return union


# Users and roles ---------------------------------------------------------------------


def _home_union(user: User) -> Union | None:
    """Where a login's audit rows go: its highest role, so the chairs who manage the
    account (and can unlock it) see them in their audit log."""
    role = user.roles.select_related("union").order_by("union__depth").first()
    return role.union if role else None


@transaction.atomic
def login_failed(*, user: User | None, username: str, address: str, paused: bool = False) -> None:
    """Count a failed login against the name typed and the client address (a pause grows
    with each one, ``org.throttle``) and audit it: a known account's failure goes to its
    chairs' log, an unknown name's to the top of the log. The password is never kept."""
    account, addr = throttle.record_failure(username=username, address=address)
    union = _home_union(user) if user is not None else None
    where = f"，来自 {address}" if address else ""
    why = "（登录已暂停，未核对密码）" if paused else ""
    if user is not None:
        summary = f"登录失败（连续第 {account.failures} 次{where}）{why}"
    else:
        summary = (
            f"登录失败：不存在的登录名「{username[:50]}」（第 {account.failures} 次{where}）{why}"
        )
    audit.record(
        actor=user, action=AuditAction.LOGIN_FAILED, obj=user, union=union, summary=summary
    )
    for failure, what in ((account, "账号"), (addr, f"地址 {address}")):
        if failure is not None and failure.newly_paused and failure.paused_until is not None:
            audit.record(
                actor=user,
                action=AuditAction.LOCKED,
                obj=user,
                union=union,
                summary=f"连续登录失败，{what}暂停登录至 "
                f"{timezone.localtime(failure.paused_until):%H:%M}"
                + ("（已登录过的设备不受账号暂停影响）" if what == "账号" else ""),
            )


@transaction.atomic
def login_succeeded(*, user: User) -> None:
    """Record a login in the audit log (who logged in, when, from where)."""
    audit.record(
        actor=user, action=AuditAction.LOGIN, obj=user, union=_home_union(user), summary="登录"
    )


def _require_manage(actor: User, user: User) -> None:
    """A chair manages a login only if every role it holds lies in the chair's subtree,
    so a branch chair cannot reset the password of the union's chair."""
    unions = [r.union for r in user.roles.select_related("union")]
    # A login whose only role still waits for confirmation is managed where it waits.
    unions += [
        g.union for g in user.pending_grants.filter(status="pending").select_related("union")
    ]
    if not unions or (user.is_superuser and not actor.is_superuser):
        # Only a superuser manages a login with no role, or another superuser.
        require(actor, Perm.USERS_MANAGE, None)
    for union in unions:
        require(actor, Perm.USERS_MANAGE, union)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    password: str | None,
    union: Union,
    role: str = Role.MEMBER,
    portfolio: str = Portfolio.NONE,
) -> User:
    """Create a login and give it its first role at ``union``."""
    if actor is not None:
        require(actor, Perm.USERS_MANAGE, union)
    username = username.strip()
    if not username:
        raise ServiceError({"username": "请填写登录名。"})
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise ServiceError(
            {"username": "登录名只能由字母、数字、汉字和 @ . + - _ 组成，不能有空格。"}
        ) from exc
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError({"username": f"登录名「{username}」已被使用，请换一个。"})
    user = User(username=username, full_name=full_name.strip(), created_by=actor)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # the same name registered a moment ago
        raise ServiceError({"username": f"登录名「{username}」已被使用，请换一个。"}) from exc
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=user,
        union=union,
        summary=f"新建用户「{user.display_name}」（{username}）",
    )
    role_grant(actor=actor, user=user, union=union, role=role, portfolio=portfolio)
    return user


@transaction.atomic
def user_update(
    *, actor: User | None, user: User, full_name: str | None = None, is_active: bool | None = None
) -> User:
    union = _home_union(user)
    if actor is not None:
        _require_manage(actor, user)
        if user.pk == actor.pk and is_active is False:
            raise ServiceError("不能停用自己的账号。")
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"full_name": user.full_name, "is_active": user.is_active}
    if full_name is not None:
        user.full_name = full_name.strip()
    if is_active is not None:
        user.is_active = is_active
    user.save(update_fields=["full_name", "is_active"])
    after = {"full_name": user.full_name, "is_active": user.is_active}
    changes = audit.diff(User, before, after)
    if changes:
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=user,
            union=union,
            changes=changes,
            summary=f"修改用户「{user.display_name}」",
        )
    return user


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> User:
    """Set a new password (by the user, or by a chair of their subtree) and unlock."""
    union = _home_union(user)
    if actor is not None and actor.pk != user.pk:
        _require_manage(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    user.save(update_fields=["password"])
    throttle.forget_account(user.username)
    audit.record(
        actor=actor,
        action=AuditAction.PASSWORD,
        obj=user,
        union=union,
        summary=f"设置「{user.display_name}」的密码并解除锁定",
    )
    return user


@transaction.atomic
def role_grant(
    *, actor: User | None, user: User, union: Union, role: str, portfolio: str = ""
) -> RoleAssignment | PendingGrant:
    """Give ``user`` ``role`` at ``union``. A chair may grant within their subtree; a
    role that approves or pays money, granted by an officer, waits for a second one
    (returns the :class:`PendingGrant`, see ``org.grants``)."""
    if actor is not None:
        require(actor, Perm.USERS_MANAGE, union)
    if union.is_archived:
        raise ServiceError({"union": f"「{union.name}」已归档，不能在其上授予角色。"})
    if role != Role.COMMITTEE:
        portfolio = ""
    if actor is not None and money_grants.needs_confirmation(actor, role):
        return money_grants.grant_request(
            actor=actor, user=user, union=union, role=role, portfolio=portfolio
        )
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, union=union, role=role, defaults={"portfolio": portfolio}
    )
    if not created and assignment.portfolio != portfolio:
        old = assignment.get_portfolio_display()
        assignment.portfolio = portfolio
        assignment.save(update_fields=["portfolio", "updated_at"])
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=user,
            union=union,
            changes={"分工": [old, assignment.get_portfolio_display()]},
            summary=f"修改「{user.display_name}」在「{union.name}」的分工",
        )
    elif not created:
        raise ServiceError({"role": f"「{user.display_name}」已是{assignment}，无需重复授予。"})
    else:
        audit.record(
            actor=actor,
            action=AuditAction.GRANT,
            obj=user,
            union=union,
            changes={"角色": ["", str(assignment)]},
            summary=f"授予「{user.display_name}」{assignment}",
        )
    forget(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor: User | None, assignment: RoleAssignment) -> None:
    if actor is not None:
        require(actor, Perm.USERS_MANAGE, assignment.union)
        if assignment.user_id == actor.pk and assignment.role == Role.CHAIR:
            raise ServiceError("不能撤销自己的主席角色，请由上级或其他主席操作。")
    label = str(assignment)
    user = assignment.user
    audit.record(
        actor=actor,
        action=AuditAction.REVOKE,
        obj=user,
        union=assignment.union,
        changes={"角色": [label, ""]},
        summary=f"撤销「{user.display_name}」的{label}",
    )
    assignment.delete()
    forget(user)


# Bulk import (common.imports, org.imports) --------------------------------------------

if TYPE_CHECKING:
    from gonghui.common.imports.progress import Progress


def check_placement(kind: str, parent: Union | None) -> None:
    """The placement rule (which kinds may sit under which), for the importer's check."""
    _check_placement(kind, parent)


@dataclass
class UnionRow:
    """One row of a checked 组织架构 import: a node to create, or a stored one to change.

    ``parent`` is a stored union, or the ``index`` of an earlier row that creates it.
    """

    row: int
    index: int
    name: str
    kind: str
    parent: Union | int | None
    code: str = ""
    headcount: int | None = None
    existing: Union | None = None
    move: bool = False


@dataclass
class UnionImportPlan:
    record_id: int | None = None
    file_name: str = ""
    rows: list[UnionRow] = field(default_factory=list)  # parents before children


@transaction.atomic
def unions_import(
    *, actor: User | None, plan: UnionImportPlan, progress: Progress | None = None
) -> None:
    """Write a checked union-tree import in one transaction, through ``union_create``,
    ``union_update`` and ``union_move`` (each checking its rules and writing its own
    audit row), plus one audit row for the import."""
    made: dict[int, Union] = {}
    total = len(plan.rows)
    created = updated = 0
    for done, r in enumerate(plan.rows, start=1):
        parent = made[r.parent] if isinstance(r.parent, int) else r.parent
        if r.existing is not None:
            union = union_update(actor=actor, union=r.existing, name=r.name, headcount=r.headcount)
            if r.move and parent is not None:
                union = union_move(actor=actor, union=union, new_parent=parent)
            updated += 1
        else:
            union = union_create(
                actor=actor,
                name=r.name,
                kind=r.kind,
                parent=parent,
                code=r.code,
                headcount=r.headcount or 0,
            )
            created += 1
        made[r.index] = union
        if progress is not None:
            progress.update("write", done, total)
    tag = f"（导入记录 #{plan.record_id}）" if plan.record_id else "（命令行导入）"
    first = next(iter(made.values()), None)
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        union=first.parent if first is not None and first.parent_id else first,
        summary=f"导入组织架构「{plan.file_name}」：新增 {created} 个，修改 {updated} 个{tag}",
        changes={"新增": ["", created], "修改": ["", updated]},
    )
