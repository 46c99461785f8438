"""Money roles (主席, 财务) granted by an officer wait for a second officer; audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.org import grants
from gonghui.org import services as org_services
from gonghui.org.choices import Role
from gonghui.org.models import PendingGrant, RoleAssignment, User

from .. import factories as f
from ..conftest import World, login


def _new(world: World, actor: User, role: str, username: str = "newcomer") -> User:
    return org_services.user_create(
        actor=actor,
        username=username,
        full_name="新来的",
        password=f.PASSWORD,
        union=world.branch,
        role=role,
    )


@pytest.mark.parametrize("role", [Role.TREASURER, Role.CHAIR])
def test_an_officer_granting_a_money_role_asks_a_second_officer(world: World, role: str) -> None:
    user = _new(world, world.officer, role)

    assert not RoleAssignment.objects.filter(user=user).exists()
    grant = PendingGrant.objects.get(user=user, role=role)
    assert grant.requested_by == world.officer
    asked = AuditEntry.objects.get(action=AuditAction.GRANT, object_id=str(user.pk))
    assert asked.actor == world.officer and "待上级主席或另一位主席确认" in asked.summary

    grants.grant_confirm(actor=world.chair, grant=grant)

    assert RoleAssignment.objects.filter(user=user, union=world.branch, role=role).exists()
    confirmed = AuditEntry.objects.filter(action=AuditAction.GRANT, actor=world.chair).get()
    assert "确认授予" in confirmed.summary and world.officer.display_name in confirmed.summary


def test_other_roles_are_granted_at_once(world: World) -> None:
    user = _new(world, world.officer, Role.COMMITTEE)
    assert RoleAssignment.objects.filter(user=user, role=Role.COMMITTEE).exists()
    assert not PendingGrant.objects.exists()


def test_a_login_the_requester_made_cannot_confirm(world: World) -> None:
    # Given the branch chair made a second chair login (itself waiting) and a 财务,
    second = _new(world, world.officer, Role.CHAIR, username="second_chair")
    grants.grant_confirm(actor=world.chair, grant=PendingGrant.objects.get(user=second))
    treasurer = _new(world, world.officer, Role.TREASURER, username="t")
    grant = PendingGrant.objects.get(user=treasurer)

    # then her own second chair may not confirm her request,
    with pytest.raises(ServiceError, match="申请人创建的账号"):
        grants.grant_confirm(actor=second, grant=grant)
    # and an officer of another branch cannot reach it.
    with pytest.raises(ServiceError):
        grants.grant_confirm(actor=world.other_officer, grant=grant)
    assert PendingGrant.objects.get(pk=grant.pk).status == "pending"


def test_the_users_page_shows_waiting_grants_and_the_chair_confirms(world: World) -> None:
    officer = login(world.officer)
    response = officer.post(
        reverse("org:user_create"),
        {
            "username": "cashier",
            "full_name": "出纳",
            "password": "Qiang-mima-2024",
            "password2": "Qiang-mima-2024",
            "union": world.branch.pk,
            "role": Role.TREASURER,
        },
        follow=True,
    )
    assert "须由上级工会主席或本工会另一位主席" in response.content.decode()
    user = User.objects.get(username="cashier")
    # The requester sees it waiting, without a confirm button; the chair above has one.
    mine = officer.get(reverse("org:users")).content.decode()
    assert "待确认的角色" in mine and "确认授予" not in mine
    chair = login(world.chair)
    assert "确认授予" in chair.get(reverse("org:users")).content.decode()
    grant = PendingGrant.objects.get(user=user)

    chair.post(reverse("org:grant_decide", args=[grant.pk, "confirm"]))

    assert RoleAssignment.objects.filter(user=user, role=Role.TREASURER).exists()


def test_the_requester_may_withdraw_and_the_refusal_is_audited(world: World) -> None:
    user = _new(world, world.officer, Role.TREASURER)
    grant = PendingGrant.objects.get(user=user)
    grants.grant_refuse(actor=world.officer, grant=grant)
    assert PendingGrant.objects.get(pk=grant.pk).status == "refused"
    assert AuditEntry.objects.filter(action=AuditAction.REVOKE, actor=world.officer).exists()
    with pytest.raises(ServiceError, match="已处理过"):
        grants.grant_confirm(actor=world.chair, grant=grant)
