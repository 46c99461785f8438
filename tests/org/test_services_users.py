"""Users and roles: who may manage whom, and every change in the audit log."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.common.scope import Perm, can, grants
from gonghui.org import queries, services
from gonghui.org.choices import Portfolio, Role
from gonghui.org.models import LoginThrottle, RoleAssignment, User

from .. import factories as f
from ..conftest import World


def test_user_create_grants_the_first_role_and_is_audited(world: World) -> None:
    user = services.user_create(
        actor=world.officer,
        username=" wanglaoshi ",
        full_name="王老师",
        password="Zheshi-mima-1",
        union=world.group,
        role=Role.GROUP_LEADER,
    )

    assert user.username == "wanglaoshi"
    assert user.check_password("Zheshi-mima-1")
    assert [(r.union, r.role) for r in user.roles.all()] == [(world.group, Role.GROUP_LEADER)]
    rows = AuditEntry.objects.filter(object_id=str(user.pk), actor=world.officer)
    assert {r.action for r in rows} == {AuditAction.CREATE, AuditAction.GRANT}
    assert all(r.union == world.group for r in rows)
    grant = rows.get(action=AuditAction.GRANT)
    assert grant.changes == {"角色": ["", "高中语文组 组长"]}


def test_user_without_password_cannot_log_in(world: World) -> None:
    user = services.user_create(
        actor=world.chair, username="nopass", full_name="", password=None, union=world.school
    )
    assert not user.has_usable_password()


def test_usernames_are_unique_ignoring_case(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        services.user_create(
            actor=world.chair, username="CHAIR", full_name="x", password=None, union=world.school
        )
    assert exc.value.message_dict == {"username": ["登录名「CHAIR」已被使用，请换一个。"]}


def test_officer_cannot_create_users_outside_their_branch(world: World) -> None:
    before = (User.objects.count(), AuditEntry.objects.count())
    with pytest.raises(PermissionDenied):
        services.user_create(
            actor=world.officer,
            username="x",
            full_name="x",
            password=None,
            union=world.other_branch,
        )
    assert (User.objects.count(), AuditEntry.objects.count()) == before


def test_role_grant_is_audited_once_and_a_repeat_is_refused(world: World) -> None:
    services.role_grant(
        actor=world.chair,
        user=world.member_user,
        union=world.branch,
        role=Role.COMMITTEE,
        portfolio=Portfolio.ORGANISATION,
    )
    with pytest.raises(ServiceError) as exc:
        services.role_grant(
            actor=world.chair,
            user=world.member_user,
            union=world.branch,
            role=Role.COMMITTEE,
            portfolio=Portfolio.ORGANISATION,
        )
    assert "无需重复授予" in exc.value.message_dict["role"][0]

    assert RoleAssignment.objects.filter(user=world.member_user, union=world.branch).count() == 1
    grants_rows = AuditEntry.objects.filter(
        action=AuditAction.GRANT, union=world.branch, object_id=str(world.member_user.pk)
    )
    assert [r.changes for r in grants_rows] == [{"角色": ["", "高中部分工会 组织委员"]}]
    # The grant takes effect at once, for the same user object.
    assert can(world.member_user, Perm.ROSTER_PII, world.group)


def test_changing_a_portfolio_is_audited_as_an_update(world: World) -> None:
    services.role_grant(
        actor=world.chair, user=world.member_user, union=world.school, role=Role.COMMITTEE
    )
    services.role_grant(
        actor=world.chair,
        user=world.member_user,
        union=world.school,
        role=Role.COMMITTEE,
        portfolio=Portfolio.WOMEN,
    )
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, union=world.school).get()
    assert entry.changes == {"分工": ["—", "女工"]}


def test_role_grant_outside_the_subtree_is_denied(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.role_grant(
            actor=world.officer, user=world.member_user, union=world.school, role=Role.VIEWER
        )
    assert not RoleAssignment.objects.filter(union=world.school, role=Role.VIEWER).exists()


def test_role_revoke_is_audited_and_takes_effect(world: World) -> None:
    assignment = RoleAssignment.objects.get(user=world.officer)
    services.role_revoke(actor=world.chair, assignment=assignment)

    assert not RoleAssignment.objects.filter(user=world.officer).exists()
    entry = AuditEntry.objects.get(action=AuditAction.REVOKE)
    assert entry.actor == world.chair
    assert entry.changes == {"角色": ["高中部分工会 主席", ""]}
    assert grants(User.objects.get(pk=world.officer.pk)).paths == {}


def test_chair_cannot_revoke_their_own_chair_role(world: World) -> None:
    assignment = RoleAssignment.objects.get(user=world.officer)
    with pytest.raises(ServiceError) as exc:
        services.role_revoke(actor=world.officer, assignment=assignment)
    assert exc.value.messages == ["不能撤销自己的主席角色，请由上级或其他主席操作。"]
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.REVOKE).exists()


def test_officer_cannot_revoke_a_role_above_them(world: World) -> None:
    assignment = RoleAssignment.objects.get(user=world.chair)
    with pytest.raises(PermissionDenied):
        services.role_revoke(actor=world.officer, assignment=assignment)
    assert RoleAssignment.objects.filter(pk=assignment.pk).exists()


@pytest.fixture
def teacher(world: World) -> User:
    """A member of the branch who also sits on the school's committee."""
    user = f.user("teacher", world.group, Role.MEMBER)
    services.role_grant(actor=None, user=user, union=world.school, role=Role.COMMITTEE)
    return user


def test_branch_chair_cannot_reset_the_password_of_someone_above_them(
    world: World, teacher: User
) -> None:
    # The officer sees the teacher among the users of the branch…
    assert teacher in queries.users(world.officer)
    # …but may not take over their login, which reaches beyond the branch.
    with pytest.raises(PermissionDenied):
        services.user_set_password(actor=world.officer, user=teacher, password="Neue-mima-2024")
    with pytest.raises(PermissionDenied):
        services.user_update(actor=world.officer, user=teacher, is_active=False)
    teacher.refresh_from_db()
    assert teacher.check_password(f.PASSWORD)
    assert teacher.is_active
    assert not AuditEntry.objects.filter(
        object_id=str(teacher.pk), action__in=[AuditAction.PASSWORD, AuditAction.UPDATE]
    ).exists()


def test_school_chair_resets_a_password_and_unlocks(world: World, teacher: User) -> None:
    LoginThrottle.objects.create(key=f"user:{teacher.username}", failures=3)
    services.user_set_password(actor=world.chair, user=teacher, password="Neue-mima-2024")

    teacher.refresh_from_db()
    assert teacher.check_password("Neue-mima-2024")
    assert not LoginThrottle.objects.filter(key=f"user:{teacher.username}").exists()
    entry = AuditEntry.objects.get(action=AuditAction.PASSWORD)
    assert entry.actor == world.chair
    assert "Neue-mima-2024" not in str(entry.changes) + entry.summary


def test_deactivating_a_user_is_audited_and_removes_their_scope(
    world: World, teacher: User
) -> None:
    services.user_update(actor=world.chair, user=teacher, is_active=False)

    teacher = User.objects.get(pk=teacher.pk)
    assert not teacher.is_active
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, object_id=str(teacher.pk))
    assert list(entry.changes.values()) == [["是", "否"]]
    assert grants(teacher).paths == {}


def test_no_one_deactivates_themselves(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        services.user_update(actor=world.chair, user=world.chair, is_active=False)
    assert exc.value.messages == ["不能停用自己的账号。"]


def test_users_may_set_their_own_password(world: World) -> None:
    services.user_set_password(
        actor=world.member_user, user=world.member_user, password="Wo-de-mima-9"
    )
    world.member_user.refresh_from_db()
    assert world.member_user.check_password("Wo-de-mima-9")


def test_user_list_is_scoped(world: World) -> None:
    assert set(queries.users(world.officer)) == {world.officer, world.member_user}
    assert set(queries.users(world.chair)) == {
        world.chair,
        world.officer,
        world.other_officer,
        world.member_user,
    }
    assert list(queries.users(world.member_user)) == []


def test_a_chair_cannot_take_over_a_superuser_with_a_role_in_their_subtree(world: World) -> None:
    admin = f.user("root_admin", world.group, Role.MEMBER)
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    admin.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.user_set_password(actor=world.chair, user=admin, password="Taken-over-2024")
    with pytest.raises(PermissionDenied):
        services.user_update(actor=world.chair, user=admin, is_active=False)
    admin.refresh_from_db()
    assert admin.check_password(f.PASSWORD) and admin.is_active


def test_the_user_list_shows_only_roles_inside_the_viewers_tree(world: World) -> None:
    from django.urls import reverse

    from ..conftest import login

    services.role_grant(
        actor=None, user=world.member_user, union=world.other_school, role=Role.VIEWER
    )
    page = login(world.officer).get(reverse("org:users"))
    (row,) = [u for u in page.context["page"] if u.pk == world.member_user.pk]
    assert [r.union.name for r in row.roles.all()] == ["高中语文组"]


def test_login_names_have_no_spaces(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        f.user("a b", world.group)
    assert "不能有空格" in exc.value.message_dict["username"][0]
    assert f.user("李老师", world.group).username == "李老师"
