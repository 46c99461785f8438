"""Four eyes on subsidies: review, approval and payment by three different people (two in
a very small union, and the record says so); a login made by an officer does not take
a later step of an application that officer handled; money roles need a second officer.
Includes the walk-around of issue 10."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gonghui.care import services
from gonghui.care.choices import SubsidyKind, SubsidyStatus
from gonghui.care.models import Subsidy
from gonghui.common.errors import ServiceError
from gonghui.org import grants
from gonghui.org import services as org_services
from gonghui.org.choices import Role
from gonghui.org.models import PendingGrant, RoleAssignment, User

from .. import factories as f
from ..conftest import World, login

S = SubsidyStatus
PAID_ON = dt.date(2025, 4, 1)


def _apply(world: World, actor: User | None = None) -> Subsidy:
    return services.subsidy_apply(
        actor=actor or world.member_user,
        member=world.member,
        kind=SubsidyKind.HARDSHIP,
        amount=800,
        reason="家属住院",
        applied_on=dt.date(2025, 3, 1),
    )


def _sock(world: World, maker: User, username: str, role: str) -> User:
    return org_services.user_create(
        actor=maker,
        username=username,
        full_name=username,
        password=f.PASSWORD,
        union=world.branch,
        role=role,
    )


def test_the_reviewer_does_not_pay_what_she_reviewed(world: World) -> None:
    # Given the branch chair reviewed and the school chair approved,
    subsidy = _apply(world)
    services.subsidy_review(actor=world.officer, subsidy=subsidy)
    services.subsidy_approve(actor=world.chair, subsidy=subsidy)

    # when the reviewer (who may pay: a chair) tries to pay, she is refused,
    with pytest.raises(ServiceError, match="审核、批准、发放应由三个不同的人办理"):
        services.subsidy_pay(actor=world.officer, subsidy=subsidy, paid_on=PAID_ON)
    # and the page does not offer her the form, saying why.
    page = login(world.officer).get(reverse("care:subsidy", args=[subsidy.pk])).content.decode()
    assert 'id="pay-form"' not in page
    assert "三个不同的人" in page
    assert "至少 3 人" in page

    # A third person pays.
    treasurer = f.user("cashier", world.school, role=Role.TREASURER)
    services.subsidy_pay(actor=treasurer, subsidy=subsidy, paid_on=PAID_ON)
    assert Subsidy.objects.get(pk=subsidy.pk).status == S.PAID


def test_a_very_small_union_may_let_the_reviewer_pay_and_the_record_says_so(
    world: World,
) -> None:
    # Given the school chair set the two-person rule for her union,
    services.policy_set(actor=world.chair, union=world.school, preset="anhui", min_handlers=2)
    subsidy = _apply(world)
    services.subsidy_review(actor=world.officer, subsidy=subsidy)
    services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    # the approver still does not pay,
    with pytest.raises(ServiceError, match="审批和发放应由两个人办理"):
        services.subsidy_pay(actor=world.chair, subsidy=subsidy, paid_on=PAID_ON)

    # but the reviewer may, and the record says under which rule.
    services.subsidy_pay(actor=world.officer, subsidy=subsidy, paid_on=PAID_ON)
    paid = subsidy.events.get(to_status=S.PAID)
    assert "最少经手人数 2 人" in paid.note
    page = login(world.chair).get(reverse("care:subsidy", args=[subsidy.pk])).content.decode()
    assert "至少 2 人（很小的工会）" in page


def test_a_branch_cannot_lower_the_number_of_hands(world: World) -> None:
    with pytest.raises(ServiceError, match="本级不能减少"):
        services.policy_set(actor=world.officer, union=world.branch, preset="anhui", min_handlers=2)
    # Nor below a school that set 3 on its own record.
    services.policy_set(actor=world.chair, union=world.school, preset="anhui", min_handlers=3)
    with pytest.raises(ServiceError, match="本级不能减少"):
        services.policy_set(actor=world.officer, union=world.branch, preset="anhui", min_handlers=2)


def test_the_walk_around_of_issue_10_is_closed(world: World) -> None:
    """A branch chair creates a 委员 and a 财务 of her own and tries to push an
    application through every step alone."""
    committee = _sock(world, world.officer, "sock_committee", Role.COMMITTEE)
    treasurer = _sock(world, world.officer, "sock_treasurer", Role.TREASURER)
    assert treasurer.created_by == world.officer
    # The 财务 role waits for a second officer: the login holds no role yet.
    assert not RoleAssignment.objects.filter(user=treasurer).exists()
    assert PendingGrant.objects.get(user=treasurer).status == "pending"
    # Giving her 委员 the 财务 role waits too.
    waiting = org_services.role_grant(
        actor=world.officer, user=committee, union=world.branch, role=Role.TREASURER
    )
    assert isinstance(waiting, PendingGrant)

    # She reviews as her 委员 and approves herself,
    subsidy = _apply(world)
    services.subsidy_review(actor=committee, subsidy=subsidy)
    services.subsidy_approve(actor=world.officer, subsidy=subsidy)
    # but neither of her logins can pay, nor can she.
    for who in (treasurer, committee):
        with pytest.raises(PermissionDenied):
            services.subsidy_pay(actor=who, subsidy=subsidy, paid_on=PAID_ON)
    with pytest.raises(ServiceError):
        services.subsidy_pay(actor=world.officer, subsidy=subsidy, paid_on=PAID_ON)
    assert Subsidy.objects.get(pk=subsidy.pk).status == S.APPROVED


def test_a_login_made_by_an_officer_does_not_act_after_her_on_the_same_application(
    world: World,
) -> None:
    # Given the branch chair applied on a member's behalf,
    committee = _sock(world, world.officer, "made_by_officer", Role.COMMITTEE)
    subsidy = _apply(world, actor=world.officer)

    # the login she made cannot review it,
    with pytest.raises(ServiceError, match="由已经办理过这份申请的人创建"):
        services.subsidy_review(actor=committee, subsidy=subsidy)
    # while it may review an application she has not touched.
    other = services.subsidy_apply(
        actor=world.member_user,
        member=world.member,
        kind=SubsidyKind.ILLNESS,
        amount=300,
        reason="门诊",
        applied_on=dt.date(2025, 3, 2),
    )
    services.subsidy_review(actor=committee, subsidy=other)


def test_a_treasurer_confirmed_by_a_second_officer_may_pay_her_makers_approval(
    world: World,
) -> None:
    # Given the branch chair made a 财务 and the school chair confirmed the role,
    treasurer = _sock(world, world.officer, "real_treasurer", Role.TREASURER)
    grant = PendingGrant.objects.get(user=treasurer)
    # (neither the one who asked nor the grantee may confirm it)
    for who in (world.officer, treasurer):
        with pytest.raises(ServiceError, match="须由申请人以外"):
            grants.grant_confirm(actor=who, grant=grant)
    grants.grant_confirm(actor=world.chair, grant=grant)
    assert RoleAssignment.objects.filter(user=treasurer, role=Role.TREASURER).exists()

    # when the branch chair approves what the 委员 reviewed,
    subsidy = _apply(world)
    committee = f.user("committee", world.school, role=Role.COMMITTEE)
    services.subsidy_review(actor=committee, subsidy=subsidy)
    services.subsidy_approve(actor=world.officer, subsidy=subsidy)

    # then the vouched-for treasurer pays it.
    services.subsidy_pay(actor=treasurer, subsidy=subsidy, paid_on=PAID_ON)
    assert Subsidy.objects.get(pk=subsidy.pk).status == S.PAID
