"""Scope: roles at nodes → permissions by subtree → what each persona sees."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from gonghui.common.scope import (
    Perm,
    can,
    get_visible_or_404,
    grants,
    require,
    top_unions,
    visible,
)
from gonghui.members.models import Member
from gonghui.org import services
from gonghui.org.choices import Portfolio, Role, UnionKind
from gonghui.org.models import Union, User

from .. import factories as f
from ..conftest import World


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _names(user: User) -> set[str]:
    return {m.name for m in visible(Member.objects.all(), _fresh(user), Perm.ROSTER_VIEW)}


def test_grants_are_minimal_paths_from_one_query(world: World, django_assert_num_queries) -> None:
    # Chair of the branch, committee member of the whole school, viewer of the other school.
    services.role_grant(actor=None, user=world.officer, union=world.school, role=Role.COMMITTEE)
    services.role_grant(actor=None, user=world.officer, union=world.other_school, role=Role.VIEWER)
    user = _fresh(world.officer)

    with django_assert_num_queries(1):
        g = grants(user)
    with django_assert_num_queries(0):
        assert grants(user) is g

    # The branch lies inside the school: only the school's path remains.
    assert g.paths[Perm.ROSTER_VIEW] == sorted([world.school.path, world.other_school.path])
    assert g.paths[Perm.ROSTER_EDIT] == [world.school.path]
    # Only the branch chair role manages users and sees personal numbers.
    assert g.paths[Perm.USERS_MANAGE] == [world.branch.path]
    assert g.paths[Perm.ROSTER_PII] == [world.branch.path]
    assert g.reaches(Perm.ROSTER_VIEW, world.other_school_group.path)
    assert not g.reaches(Perm.ROSTER_EDIT, world.other_school_group.path)


def test_organisation_committee_member_sees_personal_numbers(world: World) -> None:
    plain = f.user("weiyuan", world.school, Role.COMMITTEE)
    organiser = f.user("zuzhi", world.school, Role.COMMITTEE, portfolio=Portfolio.ORGANISATION)
    assert not can(plain, Perm.ROSTER_PII, world.group)
    assert can(plain, Perm.ROSTER_EDIT, world.group)
    assert can(organiser, Perm.ROSTER_PII, world.group)
    assert not can(organiser, Perm.USERS_MANAGE, world.group)


@pytest.mark.parametrize(
    ("persona", "names"),
    [
        ("chair", {"张三", "李四"}),
        ("officer", {"张三"}),
        ("other_officer", {"李四"}),
        ("member_user", set()),
        ("outsider", {"王五"}),
    ],
)
def test_each_persona_sees_only_their_subtree(world: World, persona: str, names: set[str]) -> None:
    assert _names(getattr(world, persona)) == names


def test_superuser_sees_everything_and_anonymous_nothing(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    root = User.objects.create_superuser("root", password=f.PASSWORD)
    assert _names(root) == {"张三", "李四", "王五"}
    assert can(root, Perm.ORG_EDIT, None)
    assert list(visible(Member.objects.all(), AnonymousUser(), Perm.ROSTER_VIEW)) == []


def test_inactive_users_see_nothing(world: World) -> None:
    User.objects.filter(pk=world.chair.pk).update(is_active=False)
    chair = _fresh(world.chair)
    assert _names(chair) == set()
    assert not can(chair, Perm.ROSTER_VIEW, world.group)

    User.objects.filter(pk=world.chair.pk).update(is_superuser=True)
    assert _names(world.chair) == set()


def test_roles_at_archived_nodes_grant_nothing(world: World) -> None:
    branch = f.union("行政分工会", UnionKind.BRANCH, world.school)
    officer = f.user("admin_officer", branch)
    assert grants(_fresh(officer)).any(Perm.ROSTER_VIEW)

    services.union_archive(actor=world.chair, union=branch)

    assert grants(_fresh(officer)).paths == {}
    assert not can(_fresh(officer), Perm.ORG_VIEW, branch)


def test_get_visible_or_404_treats_missing_and_forbidden_alike(world: World) -> None:
    officer = _fresh(world.officer)
    qs = Member.objects.all()
    assert get_visible_or_404(qs, officer, Perm.ROSTER_VIEW, pk=world.member.pk) == world.member

    errors = []
    for pk in (world.other_branch_member.pk, 999_999, "abc"):
        with pytest.raises(Http404) as exc:
            get_visible_or_404(qs, officer, Perm.ROSTER_VIEW, pk=pk)
        errors.append(str(exc.value))
    assert len(set(errors)) == 1
    assert errors[0] == "没有找到该记录，或您无权查看。"


def test_visible_on_the_union_tree_itself(world: World) -> None:
    nodes = visible(Union.objects.all(), _fresh(world.officer), Perm.ORG_VIEW, via="")
    assert set(nodes) == {world.branch, world.group}
    assert list(top_unions(_fresh(world.chair), Perm.ROSTER_VIEW)) == [world.school]


def test_require_raises_a_chinese_permission_denied(world: World) -> None:
    require(world.officer, Perm.ROSTER_EDIT, world.group)
    with pytest.raises(PermissionDenied) as exc:
        require(world.officer, Perm.ROSTER_EDIT, world.other_group)
    assert str(exc.value) == "您没有在该工会执行此操作的权限。"
    # Only a superuser acts on "no union" (a new root).
    with pytest.raises(PermissionDenied):
        require(world.chair, Perm.ORG_EDIT, None)


def test_read_only_roles_cannot_write(world: World) -> None:
    viewer = f.user("shangji", world.school, Role.VIEWER)
    auditor = f.user("jingshen", world.school, Role.AUDITOR)
    leader = f.user("zuzhang", world.group, Role.GROUP_LEADER)
    assert can(viewer, Perm.ROSTER_VIEW, world.group)
    assert can(leader, Perm.ROSTER_VIEW, world.group)
    assert not can(leader, Perm.ROSTER_VIEW, world.other_group)
    for user in (viewer, auditor, leader):
        assert not can(user, Perm.ROSTER_EDIT, world.group)
        assert not can(user, Perm.ORG_EDIT, world.group)
    assert not can(auditor, Perm.ROSTER_VIEW, world.group)
