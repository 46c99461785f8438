"""捐款 and 医疗保障: gifts by members of the drive's subtree, other people and units,
reversals, who counts as a donor; enrolment of a subtree or of single members,
claims by enrolled members only, their decision, and the 投保率 on worked numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.care import services
from gonghui.care.choices import ClaimStatus, CoverageKind, DonorKind, EntryState
from gonghui.care.models import (
    Claim,
    CoverageProgramme,
    Donation,
    DonationDrive,
    Enrolment,
)
from gonghui.care.queries import donation_totals, drive_totals, drives
from gonghui.care.report import facts
from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditEntry
from gonghui.common.reporting import Period
from gonghui.members import services as member_services
from gonghui.members.choices import ChangeKind
from gonghui.members.models import Member

from .. import factories as f
from ..conftest import World

D = Decimal
DAY = dt.date(2025, 5, 20)


def text(exc: pytest.ExceptionInfo[Any]) -> str:
    return " ".join(exc.value.messages)


def money_rows() -> tuple[int, int]:
    return Donation.objects.count(), AuditEntry.objects.count()


def coverage_rows() -> tuple[int, int, int]:
    return Enrolment.objects.count(), Claim.objects.count(), AuditEntry.objects.count()


def leave(member: Member, kind: str, on: dt.date) -> None:
    member_services.member_change(actor=None, member=member, kind=kind, date=on)


@pytest.fixture
def drive(world: World) -> DonationDrive:
    return services.drive_create(
        actor=world.officer,
        union=world.branch,
        name="2025年慈善一日捐",
        start_date=dt.date(2025, 5, 1),
        purpose="帮扶困难职工",
    )


def give(world: World, drive: DonationDrive, amount: Any, **kw: Any) -> Donation:
    kw.setdefault("date", DAY)
    return services.donation_add(actor=world.officer, drive=drive, amount=amount, **kw)


# Drives ---------------------------------------------------------------------------------


def test_drive_create_refuses_bad_drives(world: World, drive: DonationDrive) -> None:
    assert (drive.union, drive.created_by) == (world.branch, world.officer)
    with pytest.raises(ServiceError, match="请填写活动名称"):
        services.drive_create(actor=None, union=world.branch, name=" ", start_date=DAY)
    with pytest.raises(ServiceError, match="已有名为「2025年慈善一日捐」的捐款活动"):
        services.drive_create(
            actor=None, union=world.branch, name=" 2025年慈善一日捐 ", start_date=DAY
        )
    with pytest.raises(ServiceError, match="结束日期不能早于开始日期"):
        services.drive_create(
            actor=None,
            union=world.branch,
            name="爱心捐款",
            start_date=DAY,
            end_date=DAY - dt.timedelta(days=1),
        )
    with pytest.raises(PermissionDenied):
        services.drive_create(
            actor=world.other_officer, union=world.branch, name="爱心捐款", start_date=DAY
        )
    assert DonationDrive.objects.count() == 1
    # The same name in another union is another drive.
    services.drive_create(
        actor=None, union=world.other_branch, name="2025年慈善一日捐", start_date=DAY
    )


# Donations ------------------------------------------------------------------------------


def test_a_member_of_the_drive_subtree_gives_under_their_own_union(
    world: World, drive: DonationDrive
) -> None:
    gift = give(world, drive, "100", member=world.member)
    gift.refresh_from_db()
    assert (gift.donor_kind, gift.member, gift.donor_name, gift.union) == (
        DonorKind.MEMBER,
        world.member,
        "张三",
        world.group,
    )
    assert (gift.amount, gift.state, gift.created_by) == (
        D("100.00"),
        EntryState.VALID,
        world.officer,
    )
    assert audit.history(gift).get().summary == "登记捐款：2025年慈善一日捐，张三 100 元"


def test_a_member_outside_the_drive_subtree_is_refused(world: World, drive: DonationDrive) -> None:
    before = money_rows()
    with pytest.raises(ServiceError) as exc:
        services.donation_add(
            actor=world.chair, drive=drive, amount=100, date=DAY, member=world.other_branch_member
        )
    assert exc.value.message_dict == {"member": ["李四不在「高中部分工会」范围内。"]}
    with pytest.raises(ServiceError, match="请填写捐款的会员"):
        give(world, drive, 100)
    assert money_rows() == before


def test_a_person_and_a_unit_give_under_the_drive_union(world: World, drive: DonationDrive) -> None:
    person = give(world, drive, 50, donor_kind=DonorKind.PERSON, donor_name=" 王大妈 ")
    assert (person.donor_kind, person.donor_name, person.member, person.union) == (
        DonorKind.PERSON,
        "王大妈",
        None,
        world.branch,
    )
    # A member passed along with another kind is dropped: the gift is not theirs.
    unit = give(
        world,
        drive,
        5000,
        donor_kind=DonorKind.UNIT,
        donor_name="某某科技公司",
        member=world.member,
    )
    assert (unit.donor_kind, unit.member, unit.union) == (DonorKind.UNIT, None, world.branch)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"donor_kind": DonorKind.PERSON, "donor_name": " "}, "请填写捐款人或捐款单位的名称"),
        ({"donor_kind": DonorKind.UNIT}, "请填写捐款人或捐款单位的名称"),
        ({"donor_kind": "robot", "donor_name": "x"}, "请选择捐款人类型"),
        ({"amount": 0}, "捐款金额必须大于 0"),
        ({"amount": "-10"}, "捐款金额必须大于 0"),
        ({"date": dt.date.today() + dt.timedelta(days=1)}, "捐款日期不能晚于今天"),
    ],
)
def test_bad_donations_are_refused(
    world: World, drive: DonationDrive, kw: dict[str, Any], message: str
) -> None:
    kw = {"amount": 100, "member": world.member, **kw}
    before = money_rows()
    with pytest.raises(ServiceError, match=message):
        give(world, drive, kw.pop("amount"), **kw)
    assert money_rows() == before


@pytest.mark.parametrize("who", ["other_officer", "outsider", "member_user"])
def test_only_officers_of_the_drive_union_record_gifts(
    world: World, drive: DonationDrive, who: str
) -> None:
    before = money_rows()
    with pytest.raises(PermissionDenied):
        services.donation_add(
            actor=getattr(world, who), drive=drive, amount=100, date=DAY, member=world.member
        )
    assert money_rows() == before


def test_donation_reverse(world: World, drive: DonationDrive) -> None:
    gift = give(world, drive, 200, member=world.member, date=dt.date(2025, 5, 21))
    with pytest.raises(ServiceError, match="请说明冲销的原因"):
        services.donation_reverse(actor=world.officer, donation=gift, reason=" ")
    with pytest.raises(PermissionDenied):
        services.donation_reverse(actor=world.other_officer, donation=gift, reason="错误")
    reversal = services.donation_reverse(actor=world.officer, donation=gift, reason="金额有误")
    gift.refresh_from_db()
    reversal.refresh_from_db()
    assert gift.state == EntryState.REVERSED
    assert gift.amount == D("200.00")
    assert (reversal.state, reversal.amount, reversal.reverses) == (
        EntryState.REVERSAL,
        D("-200.00"),
        gift,
    )
    assert (reversal.member, reversal.union, reversal.date) == (
        world.member,
        world.group,
        dt.date.today(),
    )
    assert reversal.note == "冲销 2025-05-21 的记录：金额有误"
    before = money_rows()
    with pytest.raises(ServiceError, match="已经冲销过"):
        services.donation_reverse(actor=world.officer, donation=gift, reason="再次")
    with pytest.raises(ServiceError, match="本身就是冲销记录"):
        services.donation_reverse(actor=world.officer, donation=reversal, reason="再次")
    assert money_rows() == before


def test_donors_are_distinct_members_and_named_people_not_units(
    world: World, drive: DonationDrive
) -> None:
    zhao = f.member(world.group, "赵六")
    give(world, drive, 100, member=world.member)
    give(world, drive, 50, member=world.member)  # the same member twice: one donor
    z = give(world, drive, 200, member=zhao)
    give(world, drive, 30, donor_kind=DonorKind.PERSON, donor_name="王大妈")
    give(world, drive, 20, donor_kind=DonorKind.PERSON, donor_name="王大妈")
    give(world, drive, 10, donor_kind=DonorKind.PERSON, donor_name="李大爷")
    give(world, drive, 1000, donor_kind=DonorKind.UNIT, donor_name="某某科技公司")
    give(world, drive, 500, donor_kind=DonorKind.UNIT, donor_name="另一家公司")
    totals = drive_totals(drive)
    assert totals == {"amount": D("1910.00"), "gifts": 8, "donors": 4}

    services.donation_reverse(actor=world.officer, donation=z, reason="重复")
    assert donation_totals(Donation.objects.filter(drive=drive)) == {
        "amount": D("1710.00"),
        "gifts": 7,
        "donors": 3,
    }
    row = drives(world.officer).get(pk=drive.pk)
    assert (row.total, row.gifts) == (D("1710.00"), 7)


def test_totals_of_a_drive_without_gifts(world: World, drive: DonationDrive) -> None:
    assert drive_totals(drive) == {"amount": None, "gifts": 0, "donors": 0}


# Coverage -------------------------------------------------------------------------------


@pytest.fixture
def people(world: World) -> dict[str, Member]:
    """高中部 (A1): 张三 (world), 甲 and 乙 in the group, 丁 at the branch; 丙 retired."""
    retiree = f.member(world.group, "丙")
    leave(retiree, ChangeKind.RETIRE, dt.date(2024, 7, 1))
    return {
        "甲": f.member(world.group, "甲"),
        "乙": f.member(world.group, "乙"),
        "丁": f.member(world.branch, "丁"),
        "丙": Member.objects.get(pk=retiree.pk),
    }


def programme(world: World, union: Any = None, **kw: Any) -> CoverageProgramme:
    kw.setdefault("actor", world.chair)
    kw.setdefault("year", 2025)
    kw.setdefault("kind", CoverageKind.MEDICAL)
    kw.setdefault("name", "职工综合医疗保障")
    return services.programme_create(union=union or world.school, **kw)


def test_programme_create_refuses_bad_programmes(world: World) -> None:
    programme(world)
    next_year = dt.date.today().year + 1
    with pytest.raises(ServiceError, match="已有「职工综合医疗保障」"):
        programme(world)
    with pytest.raises(ServiceError, match="年度请填写 2000 到"):
        programme(world, year=next_year + 1, name="远期")
    with pytest.raises(ServiceError, match="年度请填写 2000 到"):
        programme(world, year=1999, name="早期")
    with pytest.raises(ServiceError, match="请选择保障类型"):
        programme(world, kind="pension", name="养老")
    with pytest.raises(ServiceError, match="请填写项目名称"):
        programme(world, name=" ")
    with pytest.raises(PermissionDenied):
        services.programme_create(
            actor=world.officer, union=world.school, year=2025, kind=CoverageKind.MEDICAL, name="x"
        )
    assert CoverageProgramme.objects.count() == 1
    programme(world, year=next_year, name="明年的保障")


def test_enrol_the_whole_subtree_skips_those_already_enrolled(
    world: World, people: dict[str, Member]
) -> None:
    plan = programme(world, union=world.branch)
    before = AuditEntry.objects.count()
    assert services.programme_enrol(actor=world.officer, programme=plan, enrolled_on=DAY) == 4
    enrolled = set(plan.enrolments.values_list("member__name", flat=True))
    assert enrolled == {"张三", "甲", "乙", "丁"}  # not the retiree, not 初中部
    assert set(plan.enrolments.values_list("enrolled_on", flat=True)) == {DAY}
    assert AuditEntry.objects.count() == before + 1
    assert AuditEntry.objects.latest("id").changes == {"新增参保人数": ["", 4]}
    # Again: nobody new, no audit row.
    assert services.programme_enrol(actor=world.officer, programme=plan) == 0
    assert AuditEntry.objects.count() == before + 1
    newcomer = f.member(world.group, "新人")
    assert services.programme_enrol(actor=world.officer, programme=plan) == 1
    assert plan.enrolments.filter(member=newcomer).exists()


def test_enrol_single_members(world: World, people: dict[str, Member]) -> None:
    plan = programme(world)
    assert (
        services.programme_enrol(
            actor=world.chair, programme=plan, members=[world.other_branch_member]
        )
        == 1
    )
    assert (
        services.programme_enrol(
            actor=world.chair, programme=plan, members=[world.other_branch_member, world.member]
        )
        == 1
    )
    assert set(plan.enrolments.values_list("member__name", flat=True)) == {"李四", "张三"}
    assert services.programme_enrol(actor=world.chair, programme=plan) == 3  # 甲 乙 丁


def test_enrol_refuses_people_outside_the_programme_roster(
    world: World, people: dict[str, Member]
) -> None:
    plan = programme(world, union=world.branch)
    before = coverage_rows()
    for outsiders, count in (
        ([world.member, world.other_branch_member], 1),
        ([people["丙"]], 1),  # retired: 保留会籍, not 在册
        ([world.other_school_member, world.other_branch_member], 2),
    ):
        with pytest.raises(ServiceError) as exc:
            services.programme_enrol(actor=world.officer, programme=plan, members=outsiders)
        assert text(exc) == f"有 {count} 人不是「高中部分工会」的在册会员，不能参保。"
    with pytest.raises(PermissionDenied):
        services.programme_enrol(actor=world.other_officer, programme=plan)
    assert coverage_rows() == before


def test_enrol_a_member_listed_twice_once(world: World) -> None:
    plan = programme(world)
    assert (
        services.programme_enrol(
            actor=world.chair, programme=plan, members=[world.member, world.member]
        )
        == 1
    )


def test_claims_only_for_enrolled_members(world: World, people: dict[str, Member]) -> None:
    plan = programme(world)
    services.programme_enrol(actor=world.chair, programme=plan, members=[world.member])
    before = coverage_rows()
    with pytest.raises(ServiceError) as exc:
        services.claim_create(
            actor=world.chair, programme=plan, member=people["甲"], date=DAY, amount=500
        )
    assert exc.value.message_dict == {"member": ["甲没有参加「职工综合医疗保障」，不能申报理赔。"]}
    with pytest.raises(ServiceError, match="申报金额必须大于 0"):
        services.claim_create(
            actor=world.chair, programme=plan, member=world.member, date=DAY, amount=0
        )
    with pytest.raises(ServiceError, match="申报日期不能晚于今天"):
        services.claim_create(
            actor=world.chair,
            programme=plan,
            member=world.member,
            date=dt.date.today() + dt.timedelta(days=1),
            amount=10,
        )
    with pytest.raises(PermissionDenied):
        services.claim_create(
            actor=world.officer, programme=plan, member=world.member, date=DAY, amount=10
        )
    assert coverage_rows() == before
    claim = services.claim_create(
        actor=world.chair,
        programme=plan,
        member=world.member,
        date=DAY,
        amount="3200.5",
        note="住院",
    )
    assert (claim.status, claim.amount, claim.paid_amount) == (
        ClaimStatus.SUBMITTED,
        D("3200.50"),
        None,
    )


def test_claim_decide_paid_and_rejected(world: World) -> None:
    plan = programme(world)
    zhao = f.member(world.group, "赵六")
    services.programme_enrol(actor=world.chair, programme=plan)

    def claim(member: Member, amount: int) -> Claim:
        return services.claim_create(
            actor=world.chair, programme=plan, member=member, date=DAY, amount=amount
        )

    full = services.claim_decide(
        actor=world.chair, claim=claim(world.member, 3000), status=ClaimStatus.PAID, decided_on=DAY
    )
    full.refresh_from_db()
    assert (full.status, full.paid_amount, full.decided_on) == (ClaimStatus.PAID, D("3000.00"), DAY)

    part = services.claim_decide(
        actor=world.chair,
        claim=claim(zhao, 3000),
        status=ClaimStatus.PAID,
        paid_amount="1800",
        note="按比例赔付",
    )
    part.refresh_from_db()
    assert (part.paid_amount, part.note, part.decided_on) == (
        D("1800.00"),
        "按比例赔付",
        dt.date.today(),
    )

    refused = claim(world.other_branch_member, 800)
    with pytest.raises(ServiceError, match="请填写未获赔的原因"):
        services.claim_decide(actor=world.chair, claim=refused, status=ClaimStatus.REJECTED)
    with pytest.raises(ServiceError, match="请选择已赔付或未获赔"):
        services.claim_decide(actor=world.chair, claim=refused, status=ClaimStatus.SUBMITTED)
    with pytest.raises(ServiceError, match="处理日期不能晚于今天"):
        services.claim_decide(
            actor=world.chair,
            claim=refused,
            status=ClaimStatus.PAID,
            decided_on=dt.date.today() + dt.timedelta(days=1),
        )
    services.claim_decide(
        actor=world.chair, claim=refused, status=ClaimStatus.REJECTED, note="不在保障范围"
    )
    refused.refresh_from_db()
    assert (refused.status, refused.paid_amount, refused.note) == (
        ClaimStatus.REJECTED,
        None,
        "不在保障范围",
    )
    # A decided claim stays decided.
    with pytest.raises(ServiceError, match="这笔理赔已经「未获赔」，不能再改"):
        services.claim_decide(actor=world.chair, claim=refused, status=ClaimStatus.PAID)
    with pytest.raises(ServiceError, match="这笔理赔已经「已赔付」，不能再改"):
        services.claim_decide(
            actor=world.chair, claim=full, status=ClaimStatus.REJECTED, note="撤回"
        )


def test_an_enrolment_with_claims_cannot_be_removed(world: World) -> None:
    plan = programme(world)
    services.programme_enrol(
        actor=world.chair, programme=plan, members=[world.member, world.other_branch_member]
    )
    services.claim_create(
        actor=world.chair, programme=plan, member=world.member, date=DAY, amount=100
    )
    with pytest.raises(ServiceError, match="已有理赔记录，不能取消参保"):
        services.enrolment_remove(
            actor=world.chair, enrolment=plan.enrolments.get(member=world.member)
        )
    services.enrolment_remove(
        actor=world.chair, enrolment=plan.enrolments.get(member=world.other_branch_member)
    )
    assert list(plan.enrolments.values_list("member__name", flat=True)) == ["张三"]


# The coverage rate ----------------------------------------------------------------------


def rate(union: Any, year: int) -> Any:
    return {x.key: x for x in facts(union=union, period=Period.year(year))}["care.coverage.rate"]


def test_coverage_rate_on_worked_numbers(world: World) -> None:
    g, og = world.group, world.other_group
    jia, yi, ding = f.member(g, "甲"), f.member(g, "乙"), f.member(world.branch, "丁")
    wu, gui = f.member(og, "戊"), f.member(og, "癸")
    retiree = f.member(g, "丙")
    leave(retiree, ChangeKind.RETIRE, dt.date(2025, 1, 15))  # off the roster at the end of 2025
    gone = f.member(og, "己")
    leave(gone, ChangeKind.WITHDRAW, dt.date(2025, 6, 1))
    f.member(og, "庚", join_date=dt.date(2026, 1, 5))  # joined after 2025

    medical = programme(world)  # 2025, at the school
    services.programme_enrol(
        actor=world.chair, programme=medical, members=[world.other_branch_member, jia]
    )
    mutual = programme(world, union=world.branch, kind=CoverageKind.MUTUAL, name="职工互助保险")
    services.programme_enrol(actor=world.chair, programme=mutual, members=[world.member])
    below = programme(world, union=g, kind=CoverageKind.MUTUAL, name="语文组互助保险")
    services.programme_enrol(actor=world.chair, programme=below, members=[yi])
    checkup = programme(world, kind=CoverageKind.CHECKUP, name="健康体检")
    services.programme_enrol(
        actor=world.chair, programme=checkup, members=[wu, ding]
    )  # not insurance
    old = programme(world, year=2024, name="2024年综合医疗保障")
    services.programme_enrol(actor=world.chair, programme=old, members=[gui])  # another year
    other = programme(world, union=world.other_school, name="二中医疗保障", actor=None)
    services.programme_enrol(actor=None, programme=other)  # another school

    # 2025, the school: on the roster at 12-31 张三 李四 甲 乙 丁 戊 癸 (7); insured in a
    # 2025 综合医疗 or 互助 programme: 张三 李四 甲 乙 (4). 4 ÷ 7 = 57.142…%.
    school = rate(world.school, 2025)
    assert (school.value, school.unit) == (D("57.1"), "%")
    assert school.note == "期末在册会员 7 人，其中参保 4 人。"
    assert f"union={world.school.pk}" in school.source and "year=2025" in school.source
    # 高中部: 张三 甲 乙 丁; covered by the school's programme (甲), its own (张三) and
    # the group's below it (乙): 3 ÷ 4.
    branch = rate(world.branch, 2025)
    assert (branch.value, branch.note) == (D("75.0"), "期末在册会员 4 人，其中参保 3 人。")
    # 初中部: 李四 戊 癸; only 李四 insured (the school's programme): 1 ÷ 3 = 33.33…%.
    other_branch = rate(world.other_branch, 2025)
    assert (other_branch.value, other_branch.note) == (
        D("33.3"),
        "期末在册会员 3 人，其中参保 1 人。",
    )
    # 2024: 丙 and 己 were still on the roster (9); only 癸 insured that year.
    earlier = rate(world.school, 2024)
    assert (earlier.value, earlier.note) == (D("11.1"), "期末在册会员 9 人，其中参保 1 人。")
    # 第二中学: 王五 alone, insured; the district: 5 of 8.
    assert rate(world.other_school, 2025).value == D("100.0")
    assert rate(world.district, 2025).value == D("62.5")
    assert gone.pk and retiree.pk


def test_coverage_rate_is_zero_without_an_insurance_programme(world: World) -> None:
    programme(world, kind=CoverageKind.CHECKUP, name="健康体检")
    fact = rate(world.school, 2025)
    assert fact.value == D(0)
    assert fact.note == "期间没有登记综合医疗保障或职工互助保险项目。"


def test_coverage_rate_zero_when_nobody_is_enrolled(world: World) -> None:
    programme(world)
    fact = rate(world.school, 2025)
    assert (fact.value, fact.note) == (D("0.0"), "期末在册会员 2 人，其中参保 0 人。")


def test_only_current_members_give_as_members_and_not_before_the_drive(
    world: World, drive: DonationDrive
) -> None:
    leave(world.member, ChangeKind.WITHDRAW, dt.date(2025, 2, 1))
    zhang = f.member(world.group, "张四")
    before = money_rows()
    with pytest.raises(ServiceError) as exc:
        give(world, drive, 100, member=Member.objects.get(pk=world.member.pk))
    assert "目前「已退会」，不能登记为会员捐款" in text(exc)
    with pytest.raises(ServiceError) as exc:
        give(world, drive, 100, member=zhang, date=dt.date(2025, 4, 30))
    assert text(exc) == "捐款日期早于活动开始日期（2025-05-01），请核对。"
    assert money_rows() == before
