"""补助: the workflow apply → review → approve → pay, every move the table forbids,
nobody deciding on their own application or their own benefit, the amounts each step
may set, the per-grant hardship cap, self-service, and the roles of each step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.care import services
from gonghui.care.choices import (
    SUBSIDY_TRANSITIONS,
    CapEnforcement,
    CapPreset,
    FundSource,
    SubsidyKind,
    SubsidyStatus,
)
from gonghui.care.models import Subsidy, SubsidyEvent
from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditEntry
from gonghui.members import services as member_services
from gonghui.members.models import Member
from gonghui.org.choices import Role
from gonghui.org.models import User

from .. import factories as f
from ..conftest import World

D = Decimal
S = SubsidyStatus
APPLIED_ON = dt.date(2025, 3, 1)


def text(exc: pytest.ExceptionInfo[Any]) -> str:
    return " ".join(exc.value.messages)


def written() -> tuple[Any, ...]:
    return (
        list(Subsidy.objects.order_by("pk").values()),
        SubsidyEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def apply(
    world: World,
    *,
    actor: User | None = None,
    member: Member | None = None,
    kind: str = SubsidyKind.HARDSHIP,
    amount: Any = 1000,
    **kw: Any,
) -> Subsidy:
    kw.setdefault("applied_on", APPLIED_ON)
    return services.subsidy_apply(
        actor=actor if actor is not None else world.officer,
        member=member or world.member,
        kind=kind,
        amount=amount,
        reason=kw.pop("reason", "家属重病，医疗费用负担重"),
        **kw,
    )


def payer(world: World) -> User:
    """The school's treasurer: who approved does not pay (审批与发放分离)."""
    found = User.objects.filter(username="payer").first()
    return found or f.user("payer", world.school, role=Role.TREASURER)


def bring_to(world: World, status: str, amount: Any = 1000) -> Subsidy:
    """A subsidy applied for by the officer, reviewed by the committee (here: the
    system) and moved on by the chair to ``status``."""
    payer(world)
    subsidy = apply(world, amount=amount)
    if status == S.APPLIED:
        return subsidy
    if status == S.REJECTED:
        return services.subsidy_reject(actor=world.chair, subsidy=subsidy, reason="材料不全")
    subsidy = services.subsidy_review(actor=None, subsidy=subsidy)
    if status == S.REVIEWED:
        return subsidy
    subsidy = services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    if status == S.APPROVED:
        return subsidy
    return services.subsidy_pay(actor=payer(world), subsidy=subsidy, paid_on=dt.date(2025, 4, 1))


def move(world: World, subsidy: Subsidy, to: str) -> Subsidy:
    """Try to move ``subsidy`` to ``to`` through the service that does it."""
    if to == S.REVIEWED:
        return services.subsidy_review(actor=world.chair, subsidy=subsidy)
    if to == S.APPROVED:
        return services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    if to == S.PAID:
        return services.subsidy_pay(
            actor=payer(world), subsidy=subsidy, paid_on=dt.date(2025, 4, 1)
        )
    assert to == S.REJECTED
    return services.subsidy_reject(actor=world.chair, subsidy=subsidy, reason="不符合条件")


@pytest.fixture
def treasurer(world: World) -> User:
    return f.user("treasurer", world.school, role=Role.TREASURER)


@pytest.fixture
def committee(world: World) -> User:
    return f.user("committee", world.school, role=Role.COMMITTEE)


# The workflow ---------------------------------------------------------------------------


def test_the_full_workflow_with_an_event_for_each_step(
    world: World, committee: User, treasurer: User
) -> None:
    subsidy = apply(world, amount="1500", source=FundSource.UPPER)
    assert (subsidy.status, subsidy.requested_amount, subsidy.applicant) == (
        S.APPLIED,
        D("1500.00"),
        world.officer,
    )
    assert (subsidy.union, subsidy.source, subsidy.applied_on) == (
        world.group,
        FundSource.UPPER,
        APPLIED_ON,
    )
    services.subsidy_review(actor=committee, subsidy=subsidy, note="情况属实")
    services.subsidy_approve(actor=world.chair, subsidy=subsidy, amount="1200", note="同意")
    services.subsidy_pay(
        actor=treasurer, subsidy=subsidy, paid_on=dt.date(2025, 3, 20), amount=1200, note="转账"
    )
    subsidy.refresh_from_db()
    assert subsidy.status == S.PAID
    assert (subsidy.approved_amount, subsidy.paid_amount, subsidy.paid_on) == (
        D("1200.00"),
        D("1200.00"),
        dt.date(2025, 3, 20),
    )
    events = [
        (e.from_status, e.to_status, e.amount, e.actor, e.actor_name, e.note)
        for e in subsidy.events.order_by("id")
    ]
    assert events == [
        ("", S.APPLIED, D("1500.00"), world.officer, "officer", "家属重病，医疗费用负担重"),
        (S.APPLIED, S.REVIEWED, None, committee, "committee", "情况属实"),
        (S.REVIEWED, S.APPROVED, D("1200.00"), world.chair, "chair", "同意"),
        (S.APPROVED, S.PAID, D("1200.00"), treasurer, "treasurer", "转账"),
    ]
    assert audit.history(subsidy).count() == 4


def test_amounts_default_to_the_previous_step(world: World) -> None:
    subsidy = bring_to(world, S.PAID, amount="888.80")
    subsidy.refresh_from_db()
    assert (subsidy.requested_amount, subsidy.approved_amount, subsidy.paid_amount) == (
        D("888.80"),
        D("888.80"),
        D("888.80"),
    )


def test_a_hardship_application_is_linked_to_the_open_file(world: World) -> None:
    from gonghui.care.models import HardshipFile

    services.policy_set(actor=None, union=world.school, preset=CapPreset.ANHUI, dibao_line=D(900))
    file = services.hardship_file_open(
        actor=world.officer,
        member=world.member,
        opened_on=dt.date(2025, 1, 10),
        cause="配偶重病",
        household=[services.Person("张三", "本人", D(12000))],
    )
    assert apply(world).hardship_file == file
    assert apply(world, kind=SubsidyKind.EDUCATION).hardship_file is None
    assert HardshipFile.objects.count() == 1


def test_reject_at_review_and_at_approval_keeps_the_reason(world: World) -> None:
    early = apply(world)
    services.subsidy_reject(actor=world.chair, subsidy=early, reason=" 不符合条件 ")
    early.refresh_from_db()
    assert (early.status, early.reject_reason) == (S.REJECTED, "不符合条件")
    late = bring_to(world, S.REVIEWED)
    services.subsidy_reject(actor=world.chair, subsidy=late, reason="经费不足")
    last = late.events.latest("id")
    assert (last.from_status, last.to_status, last.note) == (S.REVIEWED, S.REJECTED, "经费不足")


@pytest.mark.parametrize("status", [S.APPLIED, S.REVIEWED])
def test_reject_needs_a_reason(world: World, status: str) -> None:
    subsidy = bring_to(world, status)
    before = written()
    with pytest.raises(ServiceError, match="请填写未通过的原因") as exc:
        services.subsidy_reject(actor=world.chair, subsidy=subsidy, reason="   ")
    assert list(exc.value.message_dict) == ["reason"]
    assert written() == before


# The state machine ----------------------------------------------------------------------

_SERVICE_TARGETS = (S.REVIEWED, S.APPROVED, S.PAID, S.REJECTED)
INVALID = [
    (old, new)
    for old in S.values
    for new in _SERVICE_TARGETS
    if new not in SUBSIDY_TRANSITIONS[old]
]


def test_the_table_is_the_workflow_of_domain() -> None:
    assert SUBSIDY_TRANSITIONS == {
        S.APPLIED: (S.REVIEWED, S.REJECTED),
        S.REVIEWED: (S.APPROVED, S.REJECTED),
        S.APPROVED: (S.PAID, S.REJECTED),
        S.PAID: (),
        S.REJECTED: (),
    }
    assert len(INVALID) == 14


@pytest.mark.parametrize(("old", "new"), INVALID)
def test_every_move_the_table_forbids_is_refused(world: World, old: str, new: str) -> None:
    subsidy = bring_to(world, old)
    before = written()
    with pytest.raises(ServiceError) as exc:
        move(world, subsidy, new)
    assert text(exc) == f"「{S(old).label}」的补助不能改为「{S(new).label}」。"
    assert written() == before


@pytest.mark.parametrize("old", S.values)
def test_no_status_moves_back_to_applied(world: World, old: str) -> None:
    # No service moves a subsidy to 已申请; the state machine's one door refuses it too.
    subsidy = bring_to(world, old)
    with pytest.raises(ServiceError, match="不能改为「已申请」"):
        services._move(subsidy, S.APPLIED)


@pytest.mark.parametrize(
    ("old", "new"),
    [(old, new) for old, targets in SUBSIDY_TRANSITIONS.items() for new in targets],
)
def test_every_move_the_table_allows_is_made(world: World, old: str, new: str) -> None:
    subsidy = bring_to(world, old)
    moved = move(world, subsidy, new)
    moved.refresh_from_db()
    assert moved.status == new
    event = moved.events.latest("id")
    assert (event.from_status, event.to_status) == (old, new)


def test_approving_an_unreviewed_application_is_refused_for_its_state_first(
    world: World,
) -> None:
    subsidy = apply(world, amount=3000)  # above the 2000 hardship cap, not reviewed
    with pytest.raises(ServiceError) as exc:
        services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    assert not isinstance(exc.value, services.OverCap)
    assert text(exc) == "「已申请」的补助不能改为「已批准」。"


# Nobody decides on their own ------------------------------------------------------------


def test_a_member_applies_for_themself(world: World) -> None:
    subsidy = apply(world, actor=world.member_user)
    assert (subsidy.applicant, subsidy.member) == (world.member_user, world.member)
    assert subsidy.events.get().actor == world.member_user


def test_a_member_may_not_apply_for_another_member(world: World) -> None:
    neighbour = f.member(world.group, "赵六")
    before = written()
    with pytest.raises(PermissionDenied):
        apply(world, actor=world.member_user, member=neighbour)
    with pytest.raises(PermissionDenied):
        apply(world, actor=world.member_user, member=world.other_school_member)
    assert written() == before


def test_officers_apply_only_within_their_subtree(world: World) -> None:
    before = written()
    with pytest.raises(PermissionDenied):
        apply(world, actor=world.other_officer)
    with pytest.raises(PermissionDenied):
        apply(world, actor=world.outsider)
    assert written() == before


def test_the_applicant_may_not_review_approve_or_pay(world: World) -> None:
    subsidy = apply(world, actor=world.chair)
    with pytest.raises(ServiceError, match="不能审核自己提交或自己受益的补助申请"):
        services.subsidy_review(actor=world.chair, subsidy=subsidy)
    with pytest.raises(ServiceError, match="不能处理自己提交"):
        services.subsidy_reject(actor=world.chair, subsidy=subsidy, reason="撤回")
    services.subsidy_review(actor=world.officer, subsidy=subsidy)
    before = written()
    with pytest.raises(ServiceError, match="不能批准自己提交或自己受益的补助申请"):
        services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    assert written() == before
    second = f.user("second", world.branch)  # the reviewer does not approve (four eyes)
    services.subsidy_approve(actor=second, subsidy=subsidy)
    with pytest.raises(ServiceError, match="不能发放自己提交或自己受益的补助申请"):
        services.subsidy_pay(actor=world.chair, subsidy=subsidy)
    third = f.user("third", world.branch, role=Role.TREASURER)
    services.subsidy_pay(actor=third, subsidy=subsidy)
    subsidy.refresh_from_db()
    assert subsidy.status == S.PAID


def test_the_beneficiary_may_not_decide_even_with_the_rights_to(world: World) -> None:
    # The branch chair is also a member of the branch, and the chair applies for them.
    me = f.member(world.group, "高主席")
    member_services.member_link_user(actor=None, member=me, user=world.officer)
    subsidy = apply(world, actor=world.chair, member=me)
    before = written()
    with pytest.raises(ServiceError, match="不能审核自己提交或自己受益"):
        services.subsidy_review(actor=world.officer, subsidy=subsidy)
    assert written() == before
    committee = f.user("committee", world.school, role=Role.COMMITTEE)
    services.subsidy_review(actor=committee, subsidy=subsidy)
    with pytest.raises(ServiceError, match="不能批准自己提交或自己受益"):
        services.subsidy_approve(actor=world.officer, subsidy=subsidy)
    with pytest.raises(ServiceError, match="不能处理自己提交或自己受益"):
        services.subsidy_reject(actor=world.officer, subsidy=subsidy, reason="回避")
    # … nor pay it, once someone else approved it.
    district_chair = f.user("district_chair", world.district)
    services.subsidy_approve(actor=district_chair, subsidy=subsidy)
    with pytest.raises(ServiceError, match="不能发放自己提交或自己受益"):
        services.subsidy_pay(actor=world.officer, subsidy=subsidy)


def test_a_member_who_applied_for_themself_cannot_move_it(world: World) -> None:
    subsidy = apply(world, actor=world.member_user)
    with pytest.raises(PermissionDenied):
        services.subsidy_review(actor=world.member_user, subsidy=subsidy)
    services.subsidy_review(actor=world.officer, subsidy=subsidy)
    with pytest.raises(PermissionDenied):
        services.subsidy_approve(actor=world.member_user, subsidy=subsidy)
    services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    with pytest.raises(PermissionDenied):
        services.subsidy_pay(actor=world.member_user, subsidy=subsidy)


@pytest.mark.parametrize("who", ["other_officer", "outsider"])
def test_officers_of_other_subtrees_may_not_move_it(world: World, who: str) -> None:
    actor = getattr(world, who)
    subsidy = apply(world)
    before = written()
    with pytest.raises(PermissionDenied):
        services.subsidy_review(actor=actor, subsidy=subsidy)
    with pytest.raises(PermissionDenied):
        services.subsidy_reject(actor=actor, subsidy=subsidy, reason="不同意")
    assert written() == before
    services.subsidy_review(actor=None, subsidy=subsidy)
    before = written()
    with pytest.raises(PermissionDenied):
        services.subsidy_approve(actor=actor, subsidy=subsidy)
    assert written() == before
    services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    before = written()
    with pytest.raises(PermissionDenied):
        services.subsidy_pay(actor=actor, subsidy=subsidy)
    assert written() == before


# Amounts --------------------------------------------------------------------------------


def test_approve_more_than_requested_is_refused(world: World) -> None:
    subsidy = bring_to(world, S.REVIEWED, amount=800)
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.subsidy_approve(actor=world.chair, subsidy=subsidy, amount="800.01")
    assert exc.value.message_dict == {"amount": ["批准金额不能超过申请金额 800 元。"]}
    assert written() == before
    services.subsidy_approve(actor=world.chair, subsidy=subsidy, amount=800)


@pytest.mark.parametrize(
    ("amount", "message"), [(0, "批准金额必须大于 0"), ("x", "批准金额请填写数字")]
)
def test_approve_needs_a_positive_amount(world: World, amount: Any, message: str) -> None:
    subsidy = bring_to(world, S.REVIEWED)
    with pytest.raises(ServiceError, match=message):
        services.subsidy_approve(actor=world.chair, subsidy=subsidy, amount=amount)


def test_pay_more_than_approved_is_refused_and_less_is_recorded(world: World) -> None:
    subsidy = bring_to(world, S.REVIEWED, amount=1000)
    services.subsidy_approve(actor=world.chair, subsidy=subsidy, amount=600)
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.subsidy_pay(actor=payer(world), subsidy=subsidy, amount="600.01")
    assert exc.value.message_dict == {"amount": ["发放金额不能超过批准金额 600 元。"]}
    assert written() == before
    services.subsidy_pay(
        actor=payer(world), subsidy=subsidy, amount=550, paid_on=dt.date(2025, 5, 1)
    )
    subsidy.refresh_from_db()
    assert (subsidy.approved_amount, subsidy.paid_amount) == (D("600.00"), D("550.00"))


def test_pay_date_is_neither_in_the_future_nor_before_the_application(world: World) -> None:
    subsidy = bring_to(world, S.APPROVED)
    before = written()
    with pytest.raises(ServiceError, match="发放日期不能晚于今天"):
        services.subsidy_pay(
            actor=payer(world), subsidy=subsidy, paid_on=dt.date.today() + dt.timedelta(days=1)
        )
    with pytest.raises(ServiceError, match="发放日期不能早于申请日期"):
        services.subsidy_pay(
            actor=payer(world), subsidy=subsidy, paid_on=APPLIED_ON - dt.timedelta(days=1)
        )
    assert written() == before
    services.subsidy_pay(actor=payer(world), subsidy=subsidy, paid_on=APPLIED_ON)
    subsidy.refresh_from_db()
    assert subsidy.paid_on == APPLIED_ON


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"kind": "loan"}, "请选择补助类型"),
        ({"source": "bank"}, "请选择资金来源"),
        ({"reason": "  "}, "请写明申请理由"),
        ({"amount": 0}, "申请金额必须大于 0"),
        ({"amount": "-5"}, "申请金额必须大于 0"),
        ({"applied_on": dt.date.today() + dt.timedelta(days=1)}, "申请日期不能晚于今天"),
    ],
)
def test_bad_applications_are_refused(world: World, kw: dict[str, Any], message: str) -> None:
    before = written()
    with pytest.raises(ServiceError, match=message):
        apply(world, **kw)
    assert written() == before


def test_a_member_who_left_may_not_apply(world: World) -> None:
    from gonghui.members.choices import ChangeKind

    gone = f.member(world.group, "钱七")
    member_services.member_change(
        actor=None, member=gone, kind=ChangeKind.WITHDRAW, date=dt.date(2025, 1, 1)
    )
    with pytest.raises(ServiceError, match="钱七目前「已退会」，不能申请补助"):
        apply(world, member=gone)


# The hardship cap on approval ------------------------------------------------------------


def test_hardship_grant_over_2000_warns_and_is_approved_once_confirmed(world: World) -> None:
    services.policy_set(actor=None, union=world.school, preset=CapPreset.ANHUI)
    subsidy = bring_to(world, S.REVIEWED, amount=2500)
    before = written()
    with pytest.raises(services.OverCap) as exc:
        services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    warning = "本次困难慰问、一次性困难补助 2500 元，超过每次上限 2000 元（安徽现行标准）。"
    assert exc.value.warning == warning
    assert written() == before
    # Within the cap no confirmation is needed.
    services.subsidy_approve(actor=world.chair, subsidy=subsidy, amount=2000)
    services.subsidy_pay(actor=payer(world), subsidy=subsidy)  # done: one may apply again
    other = bring_to(world, S.REVIEWED, amount=2500)
    services.subsidy_approve(
        actor=world.chair, subsidy=other, note="特殊困难", confirm_over_cap=True
    )
    other.refresh_from_db()
    assert (other.status, other.approved_amount) == (S.APPROVED, D("2500.00"))
    assert other.events.latest("id").note == f"特殊困难（超标准已确认：{warning}）"


def test_hardship_grant_over_the_cap_is_refused_under_block(world: World) -> None:
    services.policy_set(
        actor=None, union=world.school, preset=CapPreset.ANHUI, enforcement=CapEnforcement.BLOCK
    )
    subsidy = bring_to(world, S.REVIEWED, amount=2500)
    before = written()
    with pytest.raises(ServiceError) as exc:
        services.subsidy_approve(actor=world.chair, subsidy=subsidy, confirm_over_cap=True)
    assert not isinstance(exc.value, services.OverCap)
    assert text(exc).endswith(
        "超过每次上限 2000 元（安徽现行标准）。本工会规定超标不能保存，请调整金额。"
    )
    assert written() == before
    services.subsidy_approve(actor=world.chair, subsidy=subsidy, amount=2000)


def test_the_hardship_cap_follows_the_union_override(world: World) -> None:
    services.policy_set(
        actor=None,
        union=world.branch,
        preset=CapPreset.ANHUI,
        enforcement=CapEnforcement.BLOCK,
        overrides={"hardship": 1500},
    )
    subsidy = bring_to(world, S.REVIEWED, amount=1600)
    with pytest.raises(ServiceError, match="超过每次上限 1500 元"):
        services.subsidy_approve(actor=world.chair, subsidy=subsidy)


def test_other_kinds_of_subsidy_are_not_under_the_hardship_cap(world: World) -> None:
    services.policy_set(
        actor=None, union=world.school, preset=CapPreset.ANHUI, enforcement=CapEnforcement.BLOCK
    )
    subsidy = apply(world, kind=SubsidyKind.ILLNESS, amount=20000)
    services.subsidy_review(actor=None, subsidy=subsidy)
    services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    subsidy.refresh_from_db()
    assert subsidy.approved_amount == D("20000.00")


# Roles ----------------------------------------------------------------------------------


def test_a_treasurer_may_pay_but_not_review_approve_or_reject(
    world: World, treasurer: User
) -> None:
    subsidy = apply(world)
    before = written()
    with pytest.raises(PermissionDenied):
        services.subsidy_review(actor=treasurer, subsidy=subsidy)
    with pytest.raises(PermissionDenied):
        services.subsidy_reject(actor=treasurer, subsidy=subsidy, reason="不同意")
    assert written() == before
    services.subsidy_review(actor=None, subsidy=subsidy)
    before = written()
    with pytest.raises(PermissionDenied):
        services.subsidy_approve(actor=treasurer, subsidy=subsidy)
    assert written() == before
    services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    services.subsidy_pay(actor=treasurer, subsidy=subsidy, paid_on=dt.date(2025, 4, 1))
    subsidy.refresh_from_db()
    assert subsidy.status == S.PAID


def test_a_treasurer_may_not_apply_for_a_member(world: World, treasurer: User) -> None:
    with pytest.raises(PermissionDenied):
        apply(world, actor=treasurer)


def test_a_committee_member_may_review_and_reject_at_review_but_not_approve(
    world: World, committee: User
) -> None:
    subsidy = apply(world, actor=committee)
    assert subsidy.applicant == committee  # a committee member applies on a member's behalf
    first = apply(world, kind=SubsidyKind.ILLNESS)
    services.subsidy_reject(actor=committee, subsidy=first, reason="材料不全")
    second = apply(world, kind=SubsidyKind.EDUCATION)
    services.subsidy_review(actor=committee, subsidy=second)
    before = written()
    with pytest.raises(PermissionDenied):
        services.subsidy_approve(actor=committee, subsidy=second)
    with pytest.raises(PermissionDenied):
        services.subsidy_reject(actor=committee, subsidy=second, reason="经费不足")
    with pytest.raises(PermissionDenied):
        services.subsidy_pay(actor=committee, subsidy=second)
    assert written() == before


def test_the_branch_chair_approves_within_the_branch_only(world: World) -> None:
    subsidy = apply(world, actor=world.chair, member=world.other_branch_member)
    services.subsidy_review(actor=None, subsidy=subsidy)
    with pytest.raises(PermissionDenied):
        services.subsidy_approve(actor=world.officer, subsidy=subsidy)
    services.subsidy_approve(actor=world.other_officer, subsidy=subsidy)


def test_an_approval_is_withdrawn_before_payment_by_an_approver_only(
    world: World, committee: User
) -> None:
    """The member left before the money went out: the chair withdraws the approval."""
    subsidy = bring_to(world, S.APPROVED)
    with pytest.raises(PermissionDenied):
        services.subsidy_reject(actor=committee, subsidy=subsidy, reason="会员已调离")
    withdrawn = services.subsidy_reject(actor=world.chair, subsidy=subsidy, reason="会员已调离")
    assert (withdrawn.status, withdrawn.reject_reason, withdrawn.paid_amount) == (
        S.REJECTED,
        "会员已调离",
        None,
    )
    assert [e.to_status for e in withdrawn.events.all()] == [
        S.APPLIED,
        S.REVIEWED,
        S.APPROVED,
        S.REJECTED,
    ]


def test_review_and_approval_need_two_people(world: World, committee: User) -> None:
    """Four eyes: whoever reviewed an application does not approve it too."""
    subsidy = apply(world)
    services.subsidy_review(actor=world.chair, subsidy=subsidy)
    before = written()
    with pytest.raises(ServiceError, match="审核和审批应由两个人办理"):
        services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    assert written() == before
    district_chair = f.user("district_chair", world.district)
    approved = services.subsidy_approve(actor=district_chair, subsidy=subsidy)
    assert approved.status == S.APPROVED


def test_who_approved_does_not_pay(world: World) -> None:
    """Four eyes on the money: the approver hands the payment to the treasurer."""
    subsidy = bring_to(world, S.REVIEWED)
    services.subsidy_approve(actor=world.chair, subsidy=subsidy)
    before = written()
    with pytest.raises(ServiceError, match="审批和发放应由两个人办理"):
        services.subsidy_pay(actor=world.chair, subsidy=subsidy)
    assert written() == before
    assert services.subsidy_pay(actor=payer(world), subsidy=subsidy).status == S.PAID


def test_one_open_application_of_a_kind_at_a_time_and_the_applicant_may_withdraw_it(
    world: World,
) -> None:
    first = apply(world, actor=world.member_user, amount=3000)
    before = written()
    with pytest.raises(ServiceError, match="已有一份待办的困难补助申请（3000 元，已申请）"):
        apply(world, actor=world.member_user, amount=3000)
    assert written() == before
    with pytest.raises(ServiceError, match="只有申请人本人可以撤回"):
        services.subsidy_withdraw(actor=world.chair, subsidy=first)
    withdrawn = services.subsidy_withdraw(actor=world.member_user, subsidy=first)
    assert (withdrawn.status, withdrawn.reject_reason) == (S.REJECTED, "申请人撤回")
    assert apply(world, actor=world.member_user, amount=2000).status == S.APPLIED
