"""The subsidies waiting for an officer's step (the dashboard's 补助待审核/审批/发放): exactly
those whose page offers her that step, under the four-eyes rules, counted in SQL."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.urls import reverse

from gonghui.care import queries, services
from gonghui.care.choices import SubsidyKind
from gonghui.care.models import Subsidy
from gonghui.members.services import member_link_user
from gonghui.org import grants
from gonghui.org import services as org_services
from gonghui.org.choices import Role
from gonghui.org.models import PendingGrant, User
from tests import factories as f
from tests.conftest import World, login

KINDS = itertools.cycle(SubsidyKind.values)


def apply(world: World, member: object, actor: User | None) -> Subsidy:
    return services.subsidy_apply(
        actor=actor,
        member=member,  # type: ignore[arg-type]
        kind=next(KINDS),
        amount=500,
        reason="家中困难",
        applied_on=dt.date.today(),
    )


def made_by(world: World, maker: User, username: str, role: str) -> User:
    return org_services.user_create(
        actor=maker,
        username=username,
        full_name=username,
        password=f.PASSWORD,
        union=world.branch,
        role=role,
    )


@pytest.fixture
def office(world: World) -> dict[str, User]:
    """The people who handle subsidies at the school and its branches."""
    treasurer = f.user("caiwu", world.school, Role.TREASURER)
    committee = f.user("weiyuan", world.school, Role.COMMITTEE)
    # The branch chair made a 委员 (who needs no confirmation) and a 财务 (whose money
    # role the school chair confirmed: a person of her own).
    sock = made_by(world, world.officer, "sock", Role.COMMITTEE)
    cashier = made_by(world, world.officer, "cashier", Role.TREASURER)
    grants.grant_confirm(actor=world.chair, grant=PendingGrant.objects.get(user=cashier))
    # A 委员 who is also a member asking for help herself.
    needy = f.member(world.group, "赵六")
    member_link_user(actor=None, member=needy, user=committee)
    return {
        "chair": world.chair,
        "officer": world.officer,
        "other_officer": world.other_officer,
        "outsider": world.outsider,
        "treasurer": treasurer,
        "committee": committee,
        "sock": sock,
        "cashier": cashier,
        "member": world.member_user,
    }


def subsidies(world: World, office: dict[str, User]) -> list[Subsidy]:
    """Applications at every step, handled by different hands: branch A1's, and one of
    branch A2's."""
    o = office
    names = iter("甲乙丙丁戊己庚辛壬癸")

    def a1() -> object:
        return f.member(world.group, f"会员{next(names)}")

    needy = world.member.__class__.objects.get(name="赵六")
    applied = apply(world, world.member, world.member_user)  # by 张三 himself
    on_behalf = apply(world, a1(), world.officer)  # by the branch chair
    own = apply(world, needy, o["committee"])  # the 委员 for herself
    elsewhere = apply(world, world.other_branch_member, world.other_officer)  # branch A2
    reviewed_by_officer = apply(world, a1(), world.officer)
    services.subsidy_review(actor=o["committee"], subsidy=reviewed_by_officer)
    reviewed_by_committee = apply(world, a1(), None)
    services.subsidy_review(actor=o["committee"], subsidy=reviewed_by_committee)
    reviewed_by_branch = apply(world, a1(), None)
    services.subsidy_review(actor=world.officer, subsidy=reviewed_by_branch)
    approved = apply(world, a1(), None)
    services.subsidy_review(actor=world.officer, subsidy=approved)
    services.subsidy_approve(actor=world.chair, subsidy=approved)
    approved_a2 = apply(world, world.other_branch_member, world.other_officer)
    services.subsidy_review(actor=o["committee"], subsidy=approved_a2)
    services.subsidy_approve(actor=world.chair, subsidy=approved_a2)
    paid = apply(world, a1(), None)
    services.subsidy_review(actor=o["committee"], subsidy=paid)
    services.subsidy_approve(actor=world.officer, subsidy=paid)
    services.subsidy_pay(actor=o["treasurer"], subsidy=paid, paid_on=dt.date.today())
    return [
        Subsidy.objects.get(pk=s.pk)
        for s in (
            applied,
            on_behalf,
            own,
            elsewhere,
            reviewed_by_officer,
            reviewed_by_committee,
            reviewed_by_branch,
            approved,
            approved_a2,
            paid,
        )
    ]


def offered(client: object, subsidy: Subsidy) -> bool:
    """Whether the subsidy's page offers its next step to the viewer."""
    response = client.get(reverse("care:subsidy", args=[subsidy.pk]))  # type: ignore[attr-defined]
    if response.status_code == 404:
        return False
    may = response.context["may"]
    return bool(may["review"] or may["approve"] or may["pay"])


@pytest.mark.parametrize("two_hands", [False, True], ids=["3 人经手", "2 人经手"])
def test_waiting_for_her_step_is_what_each_page_offers_her(
    world: World, office: dict[str, User], two_hands: bool
) -> None:
    if two_hands:
        services.policy_set(actor=world.chair, union=world.school, preset="anhui", min_handlers=2)
    made = subsidies(world, office)
    for name, user in office.items():
        client = login(user)
        expected = {s.pk for s in made if offered(client, s)}
        assert set(queries.awaiting(user).values_list("pk", flat=True)) == expected, name


def test_the_counts_split_by_step_and_follow_scope(world: World, office: dict[str, User]) -> None:
    subsidies(world, office)
    today = dt.date.today()

    def counts(user: User) -> dict[str, int]:
        return {
            t.key: t.count
            for t in queries.todo(user, today=today)
            if t.key.startswith("care.subsidies.")
        }

    # The school chair reviews every application of the school, approves the three
    # reviewed by others, and pays neither of the two she approved.
    assert counts(world.chair) == {
        "care.subsidies.review": 4,
        "care.subsidies.approve": 3,
        "care.subsidies.pay": 0,
    }
    # The branch chair sees branch A1 only: not what she applied for, nor approves what
    # she reviewed, nor pays what she reviewed (three hands).
    assert counts(world.officer) == {
        "care.subsidies.review": 2,
        "care.subsidies.approve": 1,
        "care.subsidies.pay": 0,
    }
    # The treasurer pays both approved ones, and has no other step.
    assert counts(office["treasurer"]) == {"care.subsidies.pay": 2}
    assert counts(world.member_user) == {}


def test_the_list_behind_each_step_shows_the_same_subsidies(
    world: World, office: dict[str, User]
) -> None:
    subsidies(world, office)
    client = login(world.chair)
    for item in queries.todo(world.chair, today=dt.date.today()):
        if not item.key.startswith("care.subsidies."):
            continue
        page = client.get(item.url)
        assert page.status_code == 200, item.url
        assert page.context["page"].paginator.count == item.count, item.key
        step = item.key.rsplit(".", 1)[1]
        assert {s.pk for s in page.context["page"]} == set(
            queries.awaiting(world.chair, step).values_list("pk", flat=True)
        )
