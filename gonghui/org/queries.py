"""Reads of the union tree and of users, through the viewer's scope."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from gonghui.common.errors import ServiceError
from gonghui.common.scope import Perm, visible

from .models import RoleAssignment, Union, User, subtree_q


def find_union(name_or_code: str) -> Union:
    """A union by its code or exact name, for the command line and imports."""
    text = name_or_code.strip()
    by_code = Union.objects.filter(code__iexact=text).first()
    if by_code:
        return by_code
    matches = list(Union.objects.filter(name=text)[:3])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ServiceError(f"找不到名称或代码为「{text}」的工会组织。")
    codes = "、".join(f"{u.code}（{u.name}）" for u in matches)
    raise ServiceError(f"名称为「{text}」的工会组织不止一个，请改用代码：{codes}。")


def unions(viewer: User, perm: Perm = Perm.ORG_VIEW) -> QuerySet[Union]:
    """The nodes ``viewer`` may see, with their number of members and children."""
    return visible(Union.objects.all(), viewer, perm, via="")


def tree(
    viewer: User, *, root: Union | None = None, kind: str = "", include_archived: bool = False
) -> QuerySet[Union]:
    qs = unions(viewer)
    if root is not None:
        qs = qs.filter(subtree_q(root.path))
    if kind:
        qs = qs.filter(kind=kind)
        if root is not None:
            # "分工会 under X" means below X: X itself is not one of its own branches.
            qs = qs.exclude(pk=root.pk)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs.annotate(
        child_count=Count("children", filter=Q(children__archived_at__isnull=True), distinct=True)
    ).order_by("path")


def users(viewer: User) -> QuerySet[User]:
    """Users holding a role, or waiting for one to be confirmed, somewhere in the part
    of the tree ``viewer`` manages."""
    from .grants import pending_q

    roles = visible(RoleAssignment.objects.all(), viewer, Perm.USERS_MANAGE)
    return User.objects.filter(Q(pk__in=roles.values("user_id")) | pending_q(viewer)).order_by(
        "username"
    )


def roles_of(viewer: User, user: User) -> QuerySet[RoleAssignment]:
    return visible(user.roles.select_related("union"), viewer, Perm.USERS_MANAGE)


def common_ancestor(union_ids: set[int]) -> Union | None:
    """The deepest node above (or at) every one of ``union_ids``: where an import's
    summary sits in the audit log, so that each chair above sees it."""
    if not union_ids:
        return None
    paths = list(Union.objects.filter(pk__in=union_ids).values_list("path", flat=True))
    prefix = paths[0]
    for p in paths[1:]:
        while not p.startswith(prefix):
            prefix = prefix[: prefix[:-1].rfind(".") + 1]
    if not prefix:
        return None
    return Union.objects.filter(path=prefix).first()
