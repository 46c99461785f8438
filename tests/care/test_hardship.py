"""困难职工档案: opened with the category and per-capita income the formula gives under
the union's 低保 line, refused with the reasons, one open file per member, reviewed
yearly with the category computed again, closed with a reason, and counted in the
report as the files open at the period's end."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.care import services
from gonghui.care.choices import CapPreset, HardshipCategory, HardshipStatus
from gonghui.care.models import HardshipFile, HardshipReview, HouseholdMember
from gonghui.care.report import facts
from gonghui.care.services import Person
from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.common.reporting import Period
from gonghui.members import services as member_services
from gonghui.members.choices import ChangeKind
from gonghui.members.models import Member
from gonghui.org.models import Union

from .. import factories as f
from ..conftest import World

D = Decimal
OPENED = dt.date(2025, 3, 1)

# 24000 + 12000 + 0 = 36000 a year; less 6000 of expenses, ÷ 12 ÷ 3 = 833.33 a month.
FAMILY = [
    Person("张三", "本人", D(24000)),
    Person("李梅", "配偶", D(12000), birth_year=1986, situation="临时工"),
    Person("张小明", "子女", D(0), birth_year=2015, situation="小学在读"),
]


def text(exc: pytest.ExceptionInfo[Any]) -> str:
    return " ".join(exc.value.messages)


def written() -> tuple[int, int, int, int]:
    return (
        HardshipFile.objects.count(),
        HardshipReview.objects.count(),
        HouseholdMember.objects.count(),
        AuditEntry.objects.count(),
    )


def set_policy(union: Union, dibao: Any = 900, **kw: Any) -> None:
    services.policy_set(
        actor=None,
        union=union,
        preset=CapPreset.ANHUI,
        dibao_line=None if dibao is None else D(dibao),
        **kw,
    )


def open_file(
    member: Member,
    *,
    actor: Any = None,
    opened_on: dt.date = OPENED,
    household: list[Person] | None = None,
    **figures: Any,
) -> HardshipFile:
    if household is None:
        household = [Person(member.name, "本人", D(6000))]  # 500 a month
    return services.hardship_file_open(
        actor=actor,
        member=member,
        opened_on=opened_on,
        cause=figures.pop("cause", "本人重病"),
        household=household,
        **figures,
    )


@pytest.fixture
def dibao(world: World) -> None:
    set_policy(world.school, 900)


# Opening --------------------------------------------------------------------------------


def test_opening_computes_the_category_and_per_capita_income(world: World, dibao: None) -> None:
    file = open_file(
        world.member, actor=world.officer, household=FAMILY, expenses=6000, cause=" 配偶下岗 "
    )
    file.refresh_from_db()
    assert file.category == HardshipCategory.DEEP
    assert file.per_capita_monthly == D("833.33")
    assert (file.income, file.expenses, file.household_size) == (D("36000.00"), D("6000.00"), 3)
    assert (file.status, file.opened_on, file.last_reviewed_on) == (
        HardshipStatus.OPEN,
        OPENED,
        OPENED,
    )
    assert (file.union, file.cause, file.created_by) == (world.group, "配偶下岗", world.officer)
    people = list(file.household.values_list("name", "relation", "annual_income", "situation"))
    assert people == [
        ("张三", "本人", D("24000.00"), ""),
        ("李梅", "配偶", D("12000.00"), "临时工"),
        ("张小明", "子女", D("0.00"), "小学在读"),
    ]
    review = file.reviews.get()
    assert (review.date, review.category, review.per_capita_monthly) == (
        OPENED,
        HardshipCategory.DEEP,
        D("833.33"),
    )
    assert (review.household_size, review.income, review.reviewer) == (
        3,
        D("36000.00"),
        world.officer,
    )
    assert review.note == "建档认定：人均月收入 833.33 元，不高于低保标准 900 元"
    entry = audit.history(file).get()
    assert entry.action == AuditAction.CREATE
    assert entry.summary == "建立困难职工档案：张三（深度困难）"


def test_other_income_counts_in_the_household_income(world: World, dibao: None) -> None:
    household = [Person("张三", "本人", D(24000)), Person("张小明", "子女", D(0))]
    # (24000 + 19200 − 0) ÷ 12 ÷ 2 = 1800 = 2 × 900: 相对困难 at the boundary.
    file = open_file(world.member, household=household, other_income="19200")
    assert (file.income, file.per_capita_monthly, file.category) == (
        D("43200.00"),
        D("1800.00"),
        HardshipCategory.RELATIVE,
    )
    assert file.reviews.get().note == "建档认定：人均月收入 1800 元，不高于低保标准的两倍 1800 元"


def test_the_dibao_line_of_the_nearest_policy_is_used(world: World) -> None:
    set_policy(world.school, 900)
    set_policy(world.branch, 700)
    # 833.33 a month: 深度 under 900, 相对 under 700.
    file = open_file(world.member, household=FAMILY, expenses=6000)
    assert file.category == HardshipCategory.RELATIVE
    other = f.member(world.other_group, "孙八")
    family = [Person("孙八", p.relation, p.annual_income) for p in FAMILY]
    assert open_file(other, household=family, expenses=6000).category == HardshipCategory.DEEP


def test_the_accident_ratio_of_the_policy_is_used(world: World) -> None:
    set_policy(world.school, 900, accident_ratio=D("0.50"))
    household = [Person("张三", "本人", D(40000)), Person("李梅", "配偶", D(20000))]
    # 2500 a month, but 40000 of 60000 spent on the illness: 66.7% > 50%.
    file = open_file(world.member, household=household, hardship_costs=40000)
    assert (file.category, file.per_capita_monthly) == (HardshipCategory.ACCIDENT, D("2500.00"))
    assert file.reviews.get().note == "建档认定：当年因灾、因病支出 40000 元，超过家庭收入的 50%"


@pytest.mark.parametrize(
    ("figures", "household", "reasons"),
    [
        (
            {"multiple_homes": True, "owns_business": True},
            None,
            "家庭拥有两套及以上住房；家庭经营商铺或雇用他人",
        ),
        (
            {"private_school": True},
            None,
            "子女就读收费高于公办学校两倍的民办学校，或自费出国留学",
        ),
        ({}, [Person("张三", "本人", D(60000))], "人均月收入 5000 元，高于低保标准的两倍 1800 元"),
        (
            {"migrant_worker": True, "labour_since": dt.date(2024, 3, 2)},
            None,
            "农民工须与本单位建立劳动关系满一年",
        ),
    ],
)
def test_an_ineligible_household_is_refused_with_the_reasons(
    world: World,
    dibao: None,
    figures: dict[str, Any],
    household: list[Person] | None,
    reasons: str,
) -> None:
    before = written()
    with pytest.raises(ServiceError) as exc:
        open_file(world.member, household=household, **figures)
    assert text(exc) == f"张三家不符合建档条件：{reasons}。"
    assert written() == before


def test_a_migrant_worker_must_have_been_a_member_for_a_year(world: World, dibao: None) -> None:
    newcomer = f.member(world.group, "周九", join_date=dt.date(2024, 6, 1))
    kw = dict(migrant_worker=True, labour_since=dt.date(2020, 1, 1))
    with pytest.raises(ServiceError) as exc:
        open_file(newcomer, opened_on=dt.date(2025, 5, 31), **kw)
    assert text(exc) == "周九家不符合建档条件：农民工须入会满一年。"
    # A day later the year is complete.
    file = open_file(newcomer, opened_on=dt.date(2025, 6, 1), **kw)
    assert (file.category, file.migrant_worker, file.labour_since) == (
        HardshipCategory.DEEP,
        True,
        dt.date(2020, 1, 1),
    )


def test_without_a_dibao_line_a_file_cannot_be_opened_by_income(world: World) -> None:
    before = written()
    with pytest.raises(ServiceError) as exc:
        open_file(world.member)
    assert text(exc) == (
        "张三家不符合建档条件：本工会尚未设置当地低保标准，无法按收入认定，请在「开支标准」中填写。"
    )
    assert written() == before
    set_policy(world.school, dibao=None)
    with pytest.raises(ServiceError, match="尚未设置当地低保标准"):
        open_file(world.member)
    set_policy(world.school, dibao=900)
    assert open_file(world.member).category == HardshipCategory.DEEP


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"cause": "  "}, "请填写致困原因"),
        ({"household": [Person(" ", "本人")]}, "请至少填写一位家庭成员"),
        ({"household": [Person("张三", " ")]}, "请填写「张三」与会员的关系"),
        ({"household": [Person("张三", "本人", D(-1))]}, "「张三」的年收入不能为负数"),
        ({"expenses": -1}, "刚性支出不能为负数"),
        ({"opened_on": dt.date.today() + dt.timedelta(days=1)}, "建档日期不能晚于今天"),
    ],
)
def test_bad_openings_are_refused(
    world: World, dibao: None, kw: dict[str, Any], message: str
) -> None:
    before = written()
    with pytest.raises(ServiceError, match=message):
        open_file(world.member, **kw)
    assert written() == before


def test_a_member_who_left_cannot_be_filed(world: World, dibao: None) -> None:
    member_services.member_change(
        actor=None, member=world.member, kind=ChangeKind.WITHDRAW, date=dt.date(2025, 1, 1)
    )
    with pytest.raises(ServiceError, match="张三目前「已退会」，不能建档"):
        open_file(Member.objects.get(pk=world.member.pk))


@pytest.mark.parametrize("who", ["other_officer", "outsider", "member_user"])
def test_only_officers_of_the_members_subtree_open_files(
    world: World, dibao: None, who: str
) -> None:
    before = written()
    with pytest.raises(PermissionDenied):
        open_file(world.member, actor=getattr(world, who))
    assert written() == before


def test_one_open_file_per_member(world: World, dibao: None) -> None:
    first = open_file(world.member)
    before = written()
    with pytest.raises(ServiceError) as exc:
        open_file(world.member, opened_on=dt.date(2025, 4, 1))
    assert text(exc) == "张三已有在档的困难职工档案，请在原档案上复核。"
    assert written() == before
    # After 脱档 the member may be filed again.
    services.hardship_file_close(
        actor=world.officer, file=first, date=dt.date(2025, 5, 1), reason="配偶再就业"
    )
    second = open_file(world.member, opened_on=dt.date(2025, 9, 1))
    assert second.pk != first.pk
    assert (
        HardshipFile.objects.filter(member=world.member, status=HardshipStatus.OPEN).get() == second
    )


# Reviewing ------------------------------------------------------------------------------


def test_review_recomputes_under_the_current_dibao_line(world: World, dibao: None) -> None:
    file = open_file(world.member, household=FAMILY, expenses=6000)
    set_policy(world.school, 700)  # the line moved: 833.33 is now 相对困难
    updated, result = services.hardship_file_review(
        actor=world.officer, file=file, date=dt.date(2026, 2, 1), note=" 年度复核 "
    )
    assert result.category == HardshipCategory.RELATIVE
    updated.refresh_from_db()
    assert (updated.category, updated.per_capita_monthly, updated.last_reviewed_on) == (
        HardshipCategory.RELATIVE,
        D("833.33"),
        dt.date(2026, 2, 1),
    )
    assert updated.household.count() == 3  # kept as they were
    review = updated.reviews.order_by("-date").first()
    assert review is not None
    assert (review.date, review.category, review.reviewer) == (
        dt.date(2026, 2, 1),
        HardshipCategory.RELATIVE,
        world.officer,
    )
    assert review.note == "年度复核　人均月收入 833.33 元，不高于低保标准的两倍 1400 元"
    assert HardshipReview.objects.filter(file=file).count() == 2
    entry = audit.history(file).latest("id")
    assert entry.action == AuditAction.UPDATE
    assert entry.changes["困难类别"] == ["深度困难", "相对困难"]


def test_review_with_a_new_household_and_figures(world: World, dibao: None) -> None:
    file = open_file(world.member, household=FAMILY, expenses=6000)
    bigger = [*FAMILY, Person("张父", "父亲", D(24000), birth_year=1955, situation="退休")]
    updated, _ = services.hardship_file_review(
        actor=world.officer, file=file, date=dt.date(2026, 2, 1), household=bigger, expenses=0
    )
    # (60000 − 0) ÷ 12 ÷ 4 = 1250.
    assert (updated.income, updated.household_size, updated.per_capita_monthly) == (
        D("60000.00"),
        4,
        D("1250.00"),
    )
    assert updated.category == HardshipCategory.RELATIVE
    assert list(updated.household.values_list("name", flat=True)) == [
        "张三",
        "李梅",
        "张小明",
        "张父",
    ]
    review = updated.reviews.latest("id")
    assert (review.household_size, review.income) == (4, D("60000.00"))


def test_a_review_finding_the_household_no_longer_eligible_keeps_it_on_file(
    world: World, dibao: None
) -> None:
    file = open_file(world.member)
    updated, result = services.hardship_file_review(
        actor=world.officer,
        file=file,
        date=dt.date(2026, 2, 1),
        household=[Person("张三", "本人", D(120000))],
    )
    assert not result.eligible
    updated.refresh_from_db()
    assert (updated.status, updated.category, updated.per_capita_monthly) == (
        HardshipStatus.OPEN,
        HardshipCategory.NONE,
        D("10000.00"),
    )
    assert updated.reviews.latest("id").note == (
        "已不符合建档条件（人均月收入 10000 元，高于低保标准的两倍 1800 元），建议脱档"
    )


def test_review_dates_and_closed_files_are_checked(world: World, dibao: None) -> None:
    file = open_file(world.member)
    before = written()
    with pytest.raises(ServiceError, match="复核日期不能早于建档日期"):
        services.hardship_file_review(actor=None, file=file, date=OPENED - dt.timedelta(days=1))
    with pytest.raises(ServiceError, match="复核日期不能晚于今天"):
        services.hardship_file_review(
            actor=None, file=file, date=dt.date.today() + dt.timedelta(days=1)
        )
    with pytest.raises(PermissionDenied):
        services.hardship_file_review(actor=world.other_officer, file=file, date=OPENED)
    assert written() == before
    services.hardship_file_close(actor=None, file=file, date=dt.date(2025, 5, 1), reason="脱困")
    with pytest.raises(ServiceError, match="已脱档的档案不能复核"):
        services.hardship_file_review(actor=None, file=file, date=dt.date(2025, 6, 1))


# Closing --------------------------------------------------------------------------------


def test_close_needs_a_reason_and_a_sensible_date(world: World, dibao: None) -> None:
    file = open_file(world.member)
    before = written()
    with pytest.raises(ServiceError, match="请填写脱档原因"):
        services.hardship_file_close(actor=world.officer, file=file, date=OPENED, reason="  ")
    with pytest.raises(ServiceError, match="脱档日期不能早于建档日期"):
        services.hardship_file_close(
            actor=world.officer, file=file, date=OPENED - dt.timedelta(days=1), reason="脱困"
        )
    with pytest.raises(ServiceError, match="脱档日期不能晚于今天"):
        services.hardship_file_close(
            actor=world.officer,
            file=file,
            date=dt.date.today() + dt.timedelta(days=1),
            reason="脱困",
        )
    with pytest.raises(PermissionDenied):
        services.hardship_file_close(actor=world.outsider, file=file, date=OPENED, reason="脱困")
    assert written() == before
    file.refresh_from_db()
    assert file.status == HardshipStatus.OPEN


def test_close_records_the_date_and_the_reason(world: World, dibao: None) -> None:
    file = open_file(world.member)
    services.hardship_file_close(
        actor=world.officer, file=file, date=dt.date(2025, 10, 8), reason=" 子女参加工作，收入稳定 "
    )
    file.refresh_from_db()
    assert (file.status, file.closed_on, file.close_reason) == (
        HardshipStatus.CLOSED,
        dt.date(2025, 10, 8),
        "子女参加工作，收入稳定",
    )
    entry = audit.history(file).latest("id")
    assert entry.action == AuditAction.ARCHIVE
    assert entry.changes == {"状态": ["在档", "已脱档"], "脱档原因": ["", "子女参加工作，收入稳定"]}
    with pytest.raises(ServiceError, match="这份档案已经脱档"):
        services.hardship_file_close(
            actor=world.officer, file=file, date=dt.date(2025, 11, 1), reason="再次"
        )


# The report figure ----------------------------------------------------------------------


def test_files_counted_are_those_open_at_the_end_of_the_period(world: World) -> None:
    set_policy(world.school, 900)
    set_policy(world.other_school, 900)

    def filed(at: Union, name: str, opened: dt.date, closed: dt.date | None = None) -> None:
        file = open_file(f.member(at, name, join_date=dt.date(2015, 1, 1)), opened_on=opened)
        if closed:
            services.hardship_file_close(actor=None, file=file, date=closed, reason="脱困")

    g, og = world.group, world.other_group
    filed(g, "甲", dt.date(2023, 3, 1))  # open throughout: 2024 ✓ 2025 ✓
    filed(g, "乙", dt.date(2023, 5, 1), dt.date(2025, 2, 1))  # closed after 2024: 2024 ✓
    filed(og, "丙", dt.date(2023, 1, 10), dt.date(2024, 6, 30))  # closed within 2024
    filed(og, "丁", dt.date(2025, 1, 5), dt.date(2026, 3, 1))  # opened after 2024: 2025 ✓
    filed(og, "戊", dt.date(2024, 12, 31))  # opened on the last day: 2024 ✓ 2025 ✓
    filed(og, "己", dt.date(2024, 2, 1), dt.date(2024, 12, 31))  # closed on the last day
    filed(g, "庚", dt.date(2025, 3, 1))  # 2025 ✓
    filed(world.other_school_group, "辛", dt.date(2023, 1, 1))  # another school

    def count(union: Union, year: int) -> Any:
        figures = {x.key: x for x in facts(union=union, period=Period.year(year))}
        return figures["care.hardship.files"]

    fact = count(world.school, 2024)
    assert (fact.value, fact.unit) == (3, "户")
    assert f"union={world.school.pk}" in fact.source
    assert "as_of=2024-12-31" in fact.source
    assert count(world.school, 2025).value == 4
    assert count(world.branch, 2024).value == 2  # 甲 乙
    assert count(world.other_branch, 2024).value == 1  # 戊
    assert count(world.other_school, 2024).value == 1
    assert count(world.district, 2024).value == 4
    assert count(world.school, 2022).value == 0


def test_a_non_numeric_figure_is_refused_with_a_message(world: World, dibao: None) -> None:
    before = written()
    with pytest.raises(ServiceError):
        open_file(world.member, expenses="六千")
    assert written() == before
