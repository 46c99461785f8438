"""关爱服务's report figures on a worked year of records: every key's exact value, only
the union's subtree and only the period counted, each figure traceable to its list,
and the paragraph saying just what the figures support."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from gonghui.care import services
from gonghui.care.choices import (
    CapPreset,
    CoverageKind,
    DonorKind,
    Recipient,
    SubsidyKind,
    VisitForm,
    VisitReason,
    VisitVariant,
)
from gonghui.care.report import facts, paragraphs
from gonghui.care.services import Person
from gonghui.common.reporting import Fact, Period
from gonghui.members import services as member_services
from gonghui.members.choices import ChangeKind
from gonghui.members.models import Member
from gonghui.org.models import Union

from .. import factories as f
from ..conftest import World

D = Decimal
YEAR = Period.year(2025)
KEYS = [
    "care.visits",
    "care.visits.amount",
    "care.visits.sick",
    "care.visits.retirees",
    "care.birthdays",
    "care.hardship.files",
    "care.subsidies",
    "care.subsidies.amount",
    "care.donations.donors",
    "care.donations.amount",
    "care.coverage.rate",
]


def figures(union: Union, period: Period = YEAR) -> dict[str, Fact]:
    return {x.key: x for x in facts(union=union, period=period)}


def values(union: Union, period: Period = YEAR) -> dict[str, Any]:
    return {k: x.value for k, x in figures(union, period).items()}


def visit(member: Member | None, day: dt.date, reason: str, amount: int, **kw: Any) -> Any:
    kw.setdefault("form", VisitForm.GOODS if reason in ("festival", "birthday") else VisitForm.CASH)
    return services.visit_create(
        actor=None, member=member, date=day, reason=reason, amount=amount, **kw
    )


def paid_subsidy(
    member: Member,
    kind: str,
    applied: dt.date,
    requested: int,
    *,
    approved: int | None = None,
    paid: int | None = None,
    paid_on: dt.date | None = None,
) -> None:
    s = services.subsidy_apply(
        actor=None,
        member=member,
        kind=kind,
        amount=requested,
        reason="生活困难",
        applied_on=applied,
    )
    services.subsidy_review(actor=None, subsidy=s)
    services.subsidy_approve(actor=None, subsidy=s, amount=approved)
    if paid_on is not None:
        services.subsidy_pay(actor=None, subsidy=s, amount=paid, paid_on=paid_on)


@pytest.fixture
def year(world: World) -> World:
    """2025 at 第一中学 (and a little of 第二中学). ✓: counts for the school in 2025."""
    zhang, li, wang = world.member, world.other_branch_member, world.other_school_member
    bing = f.member(world.group, "丙")
    member_services.member_change(
        actor=None, member=bing, kind=ChangeKind.RETIRE, date=dt.date(2025, 1, 15)
    )
    bing = Member.objects.get(pk=bing.pk)
    zhao = f.member(world.group, "赵六")
    services.policy_set(actor=None, union=world.district, preset=CapPreset.ANHUI, dibao_line=D(900))

    # Visits
    visit(zhang, dt.date(2025, 3, 10), VisitReason.SICK, 500)  # ✓ sick
    visit(zhang, dt.date(2025, 5, 1), VisitReason.BIRTHDAY, 200)  # ✓ birthday
    visit(bing, dt.date(2025, 9, 15), VisitReason.FESTIVAL, 300)  # ✓ retiree
    visit(  # ✓ retiree, named only, recorded by the school itself
        None,
        dt.date(2025, 10, 1),
        VisitReason.OTHER,
        400,
        union=world.school,
        recipient=Recipient.RETIREE,
        recipient_name="老周",
    )
    visit(li, dt.date(2025, 11, 1), VisitReason.SICK, 1500, variant=VisitVariant.SURGERY)  # ✓ sick
    visit(  # ✓ a member's family
        zhang,
        dt.date(2025, 8, 1),
        VisitReason.BEREAVEMENT,
        1000,
        recipient=Recipient.FAMILY,
        recipient_name="张父",
        relation="父亲",
    )
    wrong = visit(li, dt.date(2025, 4, 1), VisitReason.WEDDING, 800)
    services.visit_reverse(actor=None, visit=wrong, reason="登记错误")  # neither row counts
    visit(zhang, dt.date(2024, 12, 31), VisitReason.SICK, 100)  # the year before
    visit(zhang, dt.date(2026, 1, 2), VisitReason.BIRTHDAY, 100)  # the year after
    visit(wang, dt.date(2025, 6, 1), VisitReason.SICK, 300)  # 第二中学

    # Hardship files
    alone = [Person("本人", "本人", D(6000))]
    services.hardship_file_open(  # ✓ open at the end of 2025
        actor=None, member=zhang, opened_on=dt.date(2025, 2, 1), cause="重病", household=alone
    )
    closed = services.hardship_file_open(
        actor=None, member=zhao, opened_on=dt.date(2024, 3, 1), cause="下岗", household=alone
    )
    services.hardship_file_close(actor=None, file=closed, date=dt.date(2025, 5, 1), reason="再就业")
    services.hardship_file_open(
        actor=None, member=wang, opened_on=dt.date(2025, 1, 1), cause="重病", household=alone
    )

    # Subsidies: counted when paid, by the paid amount
    paid_subsidy(
        zhang, SubsidyKind.HARDSHIP, dt.date(2025, 2, 20), 1000, paid_on=dt.date(2025, 3, 1)
    )  # ✓
    paid_subsidy(  # ✓ 1500 of the 1800 approved
        li,
        SubsidyKind.ILLNESS,
        dt.date(2025, 6, 1),
        2000,
        approved=1800,
        paid=1500,
        paid_on=dt.date(2025, 7, 1),
    )
    paid_subsidy(zhao, SubsidyKind.EDUCATION, dt.date(2025, 8, 1), 500)  # approved, not paid
    paid_subsidy(zhang, SubsidyKind.OTHER, dt.date(2025, 12, 20), 300, paid_on=dt.date(2026, 1, 5))
    paid_subsidy(wang, SubsidyKind.HARDSHIP, dt.date(2025, 4, 1), 700, paid_on=dt.date(2025, 5, 1))
    rejected = services.subsidy_apply(
        actor=None,
        member=zhao,
        kind=SubsidyKind.OTHER,
        amount=100,
        reason="x",
        applied_on=dt.date(2025, 3, 1),
    )
    services.subsidy_reject(actor=None, subsidy=rejected, reason="不符合条件")

    # Donations
    drive = services.drive_create(
        actor=None, union=world.school, name="2025年一日捐", start_date=dt.date(2025, 4, 1)
    )

    def give(amount: int, day: dt.date, **kw: Any) -> Any:
        return services.donation_add(actor=None, drive=drive, amount=amount, date=day, **kw)

    give(100, dt.date(2025, 4, 1), member=zhang)  # ✓
    give(50, dt.date(2025, 4, 2), member=zhang)  # ✓ the same donor
    li_gift = give(200, dt.date(2025, 4, 3), member=li)
    services.donation_reverse(actor=None, donation=li_gift, reason="重复")
    give(30, dt.date(2025, 4, 5), donor_kind=DonorKind.PERSON, donor_name="王大妈")  # ✓
    give(1000, dt.date(2025, 4, 6), donor_kind=DonorKind.UNIT, donor_name="某某公司")  # ✓ no 人
    earlier = services.drive_create(
        actor=None, union=world.school, name="2024年一日捐", start_date=dt.date(2024, 12, 1)
    )
    services.donation_add(
        actor=None, drive=earlier, amount=60, date=dt.date(2024, 12, 20), member=li
    )
    theirs = services.drive_create(
        actor=None, union=world.other_school, name="二中爱心捐", start_date=dt.date(2025, 5, 1)
    )
    services.donation_add(
        actor=None, drive=theirs, amount=80, date=dt.date(2025, 5, 1), member=wang
    )

    # Coverage: at the end of 2025 张三 李四 赵六 are on the roster, 张三 李四 insured.
    medical = services.programme_create(
        actor=None, union=world.school, year=2025, kind=CoverageKind.MEDICAL, name="综合医疗保障"
    )
    services.programme_enrol(actor=None, programme=medical, members=[zhang, li])
    other = services.programme_create(
        actor=None, union=world.other_school, year=2025, kind=CoverageKind.MUTUAL, name="互助保险"
    )
    services.programme_enrol(actor=None, programme=other)
    return world


def test_every_figure_of_the_school_on_the_worked_year(year: World) -> None:
    found = figures(year.school)
    assert list(found) == KEYS
    assert {k: x.value for k, x in found.items()} == {
        "care.visits": 6,
        "care.visits.amount": D("3900.00"),
        "care.visits.sick": 2,
        "care.visits.retirees": 2,
        "care.birthdays": 1,
        "care.hardship.files": 1,
        "care.subsidies": 2,
        "care.subsidies.amount": D("2500.00"),
        "care.donations.donors": 2,
        "care.donations.amount": D("1180.00"),
        "care.coverage.rate": D("66.7"),
    }
    assert {k: x.unit for k, x in found.items()} == {
        "care.visits": "人次",
        "care.visits.amount": "元",
        "care.visits.sick": "人次",
        "care.visits.retirees": "人次",
        "care.birthdays": "人次",
        "care.hardship.files": "户",
        "care.subsidies": "人次",
        "care.subsidies.amount": "元",
        "care.donations.donors": "人",
        "care.donations.amount": "元",
        "care.coverage.rate": "%",
    }
    assert found["care.coverage.rate"].note == "期末在册会员 3 人，其中参保 2 人。"


def test_the_figures_of_a_branch_count_its_subtree_only(year: World) -> None:
    assert values(year.branch) == {
        "care.visits": 4,  # 张三 ×3 and 丙; not 老周 (the school's) nor 李四
        "care.visits.amount": D("2000.00"),
        "care.visits.sick": 1,
        "care.visits.retirees": 1,
        "care.birthdays": 1,
        "care.hardship.files": 1,
        "care.subsidies": 1,
        "care.subsidies.amount": D("1000.00"),
        "care.donations.donors": 1,  # 王大妈 and the unit gave under the school
        "care.donations.amount": D("150.00"),
        "care.coverage.rate": D("50.0"),  # the school's programme covers 张三 of 张三 赵六
    }


def test_the_other_school_and_the_district(year: World) -> None:
    assert values(year.other_school) == {
        "care.visits": 1,
        "care.visits.amount": D("300.00"),
        "care.visits.sick": 1,
        "care.visits.retirees": 0,
        "care.birthdays": 0,
        "care.hardship.files": 1,
        "care.subsidies": 1,
        "care.subsidies.amount": D("700.00"),
        "care.donations.donors": 1,
        "care.donations.amount": D("80.00"),
        "care.coverage.rate": D("100.0"),
    }
    district = values(year.district)
    assert (district["care.visits"], district["care.visits.amount"]) == (7, D("4200.00"))
    assert (district["care.hardship.files"], district["care.subsidies.amount"]) == (2, D("3200.00"))
    assert (district["care.donations.donors"], district["care.donations.amount"]) == (
        3,
        D("1260.00"),
    )
    assert district["care.coverage.rate"] == D("75.0")  # 3 of 张三 李四 赵六 王五


def test_the_figures_follow_the_period(year: World) -> None:
    before = values(year.school, Period.year(2024))
    assert before == {
        "care.visits": 1,
        "care.visits.amount": D("100.00"),
        "care.visits.sick": 1,
        "care.visits.retirees": 0,
        "care.birthdays": 0,
        "care.hardship.files": 1,  # 赵六, closed in 2025
        "care.subsidies": 0,
        "care.subsidies.amount": D("0.00"),
        "care.donations.donors": 1,
        "care.donations.amount": D("60.00"),
        "care.coverage.rate": D(0),  # no programme in 2024
    }
    half = values(year.school, Period(dt.date(2025, 1, 1), dt.date(2025, 6, 30)))
    assert half["care.visits"] == 2  # 3-10 sick, 5-01 birthday (the 4-01 wedding was reversed)
    assert half["care.visits.amount"] == D("700.00")
    assert half["care.subsidies"] == 1
    assert half["care.hardship.files"] == 1
    after = values(year.school, Period.year(2026))
    assert (after["care.visits"], after["care.subsidies.amount"]) == (1, D("300.00"))


def test_every_source_is_the_list_of_the_union_and_the_period(year: World) -> None:
    found = figures(year.school)
    pk = f"union={year.school.pk}"
    for fact in found.values():
        assert pk in fact.source, fact.key
    within = "start=2025-01-01&end=2025-12-31"
    visits = reverse("care:visits")
    assert found["care.visits"].source == f"{visits}?{pk}&{within}"
    assert found["care.visits.amount"].source == found["care.visits"].source
    assert found["care.visits.sick"].source == f"{visits}?{pk}&reason=sick&{within}"
    assert found["care.visits.retirees"].source == f"{visits}?{pk}&recipient=retiree&{within}"
    assert found["care.birthdays"].source == f"{visits}?{pk}&reason=birthday&{within}"
    assert (
        found["care.hardship.files"].source == f"{reverse('care:hardship')}?{pk}&as_of=2025-12-31"
    )
    subsidies = f"{reverse('care:subsidies')}?{pk}&status=paid&{within}"
    assert found["care.subsidies"].source == found["care.subsidies.amount"].source == subsidies
    donations = f"{reverse('care:donations')}?{pk}&{within}"
    assert (
        found["care.donations.donors"].source == found["care.donations.amount"].source == donations
    )
    assert found["care.coverage.rate"].source == f"{reverse('care:coverage')}?{pk}&year=2025"
    assert f"union={year.branch.pk}" in figures(year.branch)["care.visits"].source


# The paragraph --------------------------------------------------------------------------


def say(union: Union, period: Period = YEAR) -> list[str]:
    return paragraphs(union=union, period=period, facts=figures(union, period))


def test_the_paragraph_states_the_numbers(year: World) -> None:
    assert say(year.school) == [
        "工会关心职工生活，共走访慰问职工6人次，发放慰问金和慰问品共计3900元。"
        "其中探望生病住院职工2人次，为职工送上生日祝福1人次，慰问退休职工2人次。"
        "认真做好困难职工帮扶工作，在档困难职工1户；发放各类补助2人次，金额2500元。"
        "组织开展爱心捐款，2人参与，共捐款1180元。"
        "为职工办理综合医疗保障，投保率达66.7%。"
    ]


def test_a_full_coverage_rate_reads_as_a_plain_number(year: World) -> None:
    assert say(year.other_school)[0].endswith("为职工办理综合医疗保障，投保率达100%。")


def test_the_paragraph_leaves_out_what_is_zero(year: World) -> None:
    assert say(year.school, Period.year(2024)) == [
        "工会关心职工生活，共走访慰问职工1人次，发放慰问金和慰问品共计100元。"
        "其中探望生病住院职工1人次。"
        "认真做好困难职工帮扶工作，在档困难职工1户。"
        "组织开展爱心捐款，1人参与，共捐款60元。"
    ]


def test_nothing_to_say_is_no_paragraph(world: World) -> None:
    assert say(world.school) == []


def test_a_visit_without_a_value_and_a_gift_by_a_unit_only(world: World) -> None:
    visit(world.member, dt.date(2025, 7, 1), VisitReason.OTHER, 0)
    drive = services.drive_create(
        actor=None, union=world.school, name="捐款", start_date=dt.date(2025, 1, 1)
    )
    services.donation_add(
        actor=None,
        drive=drive,
        amount=1000,
        date=dt.date(2025, 7, 1),
        donor_kind=DonorKind.UNIT,
        donor_name="某某公司",
    )
    assert say(world.school) == [
        "工会关心职工生活，共走访慰问职工1人次。组织开展爱心捐款，共捐款1000元。"
    ]


def test_subsidies_without_files(world: World) -> None:
    paid_subsidy(
        world.member, SubsidyKind.ILLNESS, dt.date(2025, 2, 1), 1234, paid_on=dt.date(2025, 3, 1)
    )
    assert say(world.school) == ["认真做好困难职工帮扶工作，发放各类补助1人次，金额1234元。"]


def test_the_paragraph_reads_only_the_facts_it_is_given(world: World) -> None:
    given = {
        "care.visits": Fact("care.visits", "走访慰问", 12, "人次", "/"),
        "care.visits.amount": Fact("care.visits.amount", "慰问金额", D("3456.50"), "元", "/"),
        "care.coverage.rate": Fact("care.coverage.rate", "投保率", None, "%", "/", "无项目"),
    }
    assert paragraphs(union=world.school, period=YEAR, facts=given) == [
        "工会关心职工生活，共走访慰问职工12人次，发放慰问金和慰问品共计3456.50元。"
    ]


def test_a_zero_coverage_rate_is_left_out(world: World) -> None:
    services.programme_create(
        actor=None, union=world.school, year=2025, kind=CoverageKind.MEDICAL, name="综合医疗保障"
    )
    found = figures(world.school)
    assert found["care.coverage.rate"].value == D("0.0")
    assert say(world.school) == []
