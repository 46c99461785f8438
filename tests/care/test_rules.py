"""关爱服务's rules as pure functions: the cap presets (DOMAIN.md, 「Spending」), the
union's overrides over them, the cap items visits count against, and the hardship
formula with its exclusions (DOMAIN.md, 「Hardship files」), on worked numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gonghui.care import rules, services
from gonghui.care.choices import (
    CapEnforcement,
    CapItem,
    CapPreset,
    HardshipCategory,
    VisitReason,
    VisitVariant,
)
from gonghui.care.queries import DEFAULT_POLICY, Policy

D = Decimal

# The presets as DOMAIN.md tabulates them (written out again here, not read from the
# code, so that a changed amount in ``rules.PRESETS`` fails a test).
DOMAIN_CAPS: dict[str, dict[str, Decimal | None]] = {
    CapPreset.ANHUI_2018: {
        CapItem.FESTIVAL: D(1500),
        CapItem.BIRTHDAY: D(300),
        CapItem.WEDDING: D(600),
        CapItem.CHILDBIRTH: D(600),
        CapItem.SICK: D(1000),
        CapItem.SICK_SURGERY: D(1000),
        CapItem.MEMBER_DEATH: D(2000),
        CapItem.RELATIVE_DEATH: D(1000),
        CapItem.RETIREMENT: D(1000),
        CapItem.HARDSHIP: D(2000),
        CapItem.PRIZE_FIRST: D(500),  # sports and culture prizes (Anhui, Ningxia)
        CapItem.OUTING_DAY: D(200),  # outings, per person per day
    },
    CapPreset.ANHUI: {
        CapItem.FESTIVAL: D(2000),
        CapItem.BIRTHDAY: D(300),
        CapItem.WEDDING: D(2000),
        CapItem.CHILDBIRTH: D(1000),
        CapItem.SICK: D(1000),
        CapItem.SICK_SURGERY: D(2000),
        CapItem.MEMBER_DEATH: D(2000),
        CapItem.RELATIVE_DEATH: D(1000),
        CapItem.RETIREMENT: D(1000),
        CapItem.HARDSHIP: D(2000),
        CapItem.PRIZE_FIRST: D(500),
        CapItem.OUTING_DAY: D(200),
    },
    CapPreset.FUJIAN: {
        CapItem.FESTIVAL: D(1300),
        CapItem.BIRTHDAY: D(300),
        CapItem.WEDDING: None,
        CapItem.CHILDBIRTH: D(500),
        CapItem.SICK: D(500),
        CapItem.SICK_SURGERY: D(1000),
        CapItem.MEMBER_DEATH: D(2000),
        CapItem.RELATIVE_DEATH: D(1000),
        CapItem.RETIREMENT: D(500),
        CapItem.HARDSHIP: D(2000),
        CapItem.PRIZE_FIRST: None,  # no prize cap named for Fujian
        CapItem.OUTING_DAY: D(200),
    },
    CapPreset.NONE: dict.fromkeys(CapItem.values),
}

PRESET_LABELS = {
    CapPreset.ANHUI: "安徽现行",
    CapPreset.ANHUI_2018: "安徽2018年",
    CapPreset.FUJIAN: "福建",
    CapPreset.NONE: "不设上限",
}

# The words each item's warning names it by.
ITEM_WORDS = {
    CapItem.FESTIVAL: "节日慰问",
    CapItem.BIRTHDAY: "生日慰问",
    CapItem.WEDDING: "结婚慰问",
    CapItem.CHILDBIRTH: "生育慰问",
    CapItem.SICK: "生病住院慰问",
    CapItem.SICK_SURGERY: "住院手术慰问",
    CapItem.MEMBER_DEATH: "会员去世慰问",
    CapItem.RELATIVE_DEATH: "直系亲属去世慰问",
    CapItem.RETIREMENT: "退休慰问",
    CapItem.HARDSHIP: "困难慰问、一次性困难补助",
    CapItem.PRIZE_FIRST: "文体活动一等奖奖品",
    CapItem.OUTING_DAY: "参观、疗休养",
}


def policy(preset: str, overrides: dict[str, object] | None = None) -> Policy:
    return Policy(
        preset=preset,
        caps=rules.caps_of(preset, overrides),
        enforcement=CapEnforcement.WARN,
        festival_goods_only=True,
        birthday_cake_only=True,
        dibao_line=None,
        accident_ratio=rules.DEFAULT_ACCIDENT_RATIO,
        winners_share=rules.DEFAULT_WINNERS_SHARE,
    )


# Presets -------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", list(DOMAIN_CAPS))
def test_each_preset_has_the_caps_of_domain_md(preset: str) -> None:
    assert rules.caps_of(preset) == DOMAIN_CAPS[preset]


def test_every_preset_names_every_item_and_anhui_is_the_default() -> None:
    assert set(rules.PRESETS) == set(CapPreset.values)
    for caps in rules.PRESETS.values():
        assert set(caps) == set(CapItem.values)
    assert rules.DEFAULT_PRESET == CapPreset.ANHUI
    assert DEFAULT_POLICY.caps == DOMAIN_CAPS[CapPreset.ANHUI]
    assert DEFAULT_POLICY.enforcement == CapEnforcement.WARN
    assert DEFAULT_POLICY.festival_goods_only is True
    assert DEFAULT_POLICY.dibao_line is None


def test_an_unknown_preset_falls_back_to_the_default() -> None:
    assert rules.caps_of("shanghai") == DOMAIN_CAPS[CapPreset.ANHUI]


def test_caps_of_returns_a_copy_that_callers_may_change() -> None:
    caps = rules.caps_of(CapPreset.FUJIAN)
    caps[CapItem.FESTIVAL] = D(1)
    assert rules.caps_of(CapPreset.FUJIAN)[CapItem.FESTIVAL] == D(1300)
    assert rules.PRESETS[CapPreset.FUJIAN][CapItem.FESTIVAL] == D(1300)


_CAPPED = [
    (preset, item, cap)
    for preset, caps in DOMAIN_CAPS.items()
    for item, cap in caps.items()
    if cap is not None
]
_UNCAPPED = [
    (preset, item)
    for preset, caps in DOMAIN_CAPS.items()
    for item, cap in caps.items()
    if cap is None
]


@pytest.mark.parametrize(("preset", "item", "cap"), _CAPPED)
def test_cap_warning_allows_the_cap_exactly_and_warns_one_fen_above(
    preset: str, item: str, cap: Decimal
) -> None:
    p = policy(preset)
    assert services.cap_warning(policy=p, item=item, amount=cap) is None
    warning = services.cap_warning(policy=p, item=item, amount=cap + D("0.01"))
    basis = f"（{PRESET_LABELS[preset]}标准）"
    amount = rules.money(cap + D("0.01"))
    if item in rules.PER_PAYMENT:
        expected = (
            f"本次{ITEM_WORDS[item]} {amount} 元，超过每次上限 {rules.money(cap)} 元{basis}。"
        )
    else:
        expected = (
            f"本次{ITEM_WORDS[item]} {amount} 元，超过全年上限 {rules.money(cap)} 元{basis}。"
        )
    assert warning == expected


@pytest.mark.parametrize(("preset", "item"), _UNCAPPED)
def test_cap_warning_is_silent_where_the_preset_sets_no_cap(preset: str, item: str) -> None:
    assert services.cap_warning(policy=policy(preset), item=item, amount=D(999999)) is None


def test_fujian_names_no_wedding_cap_and_the_none_preset_no_cap_at_all() -> None:
    fujian = policy(CapPreset.FUJIAN)
    assert services.cap_warning(policy=fujian, item=CapItem.WEDDING, amount=D(50000)) is None
    assert services.cap_warning(policy=fujian, item=CapItem.CHILDBIRTH, amount=D(501)) is not None
    unlimited = policy(CapPreset.NONE)
    for item in CapItem.values:
        assert services.cap_warning(policy=unlimited, item=item, amount=D(10**9)) is None


def test_cap_warning_without_an_item_is_silent() -> None:
    assert services.cap_warning(policy=policy(CapPreset.ANHUI), item=None, amount=D(10**6)) is None


def test_yearly_items_add_what_was_spent_this_year() -> None:
    p = policy(CapPreset.ANHUI)
    # 1500 already given, 500 more: exactly the 2000 cap.
    assert (
        services.cap_warning(policy=p, item=CapItem.FESTIVAL, amount=D(500), spent=D(1500)) is None
    )
    assert services.cap_warning(
        policy=p, item=CapItem.FESTIVAL, amount=D("500.50"), spent=D(1500), who="张三："
    ) == (
        "张三：今年已发放节日慰问 1500 元，加上本次 500.50 元共 2000.50 元，"
        "超过全年上限 2000 元（安徽现行标准）。"
    )


def test_hardship_is_capped_per_payment_not_per_year() -> None:
    assert (
        frozenset({CapItem.HARDSHIP, CapItem.PRIZE_FIRST, CapItem.OUTING_DAY}) == rules.PER_PAYMENT
    )
    p = policy(CapPreset.ANHUI)
    # 1900 given already this year: another 2000 is still within the per-grant cap …
    assert (
        services.cap_warning(policy=p, item=CapItem.HARDSHIP, amount=D(2000), spent=D(1900)) is None
    )
    # … while the same sums on a yearly item pass its cap.
    assert services.cap_warning(policy=p, item=CapItem.MEMBER_DEATH, amount=D(2000), spent=D(1900))
    # One grant above 2000 warns whatever was spent before, and says 每次.
    assert (
        services.cap_warning(
            policy=p, item=CapItem.HARDSHIP, amount=D(2001), spent=D(0), who="李四："
        )
        == "李四：本次困难慰问、一次性困难补助 2001 元，超过每次上限 2000 元（安徽现行标准）。"
    )


# Overrides ------------------------------------------------------------------------------


def test_overrides_replace_single_items_of_the_preset() -> None:
    caps = rules.caps_of(
        CapPreset.FUJIAN,
        {
            CapItem.BIRTHDAY: "500",
            CapItem.FESTIVAL: None,
            CapItem.RETIREMENT: "",
            CapItem.WEDDING: 800,
        },
    )
    expected = dict(DOMAIN_CAPS[CapPreset.FUJIAN])
    expected.update(
        {
            CapItem.BIRTHDAY: D(500),
            CapItem.FESTIVAL: None,
            CapItem.RETIREMENT: None,
            CapItem.WEDDING: D(800),
        }
    )
    assert caps == expected


def test_overrides_of_unknown_items_are_ignored() -> None:
    assert rules.caps_of(CapPreset.ANHUI, {"outing": "200"}) == DOMAIN_CAPS[CapPreset.ANHUI]


def test_cap_warning_uses_the_override_not_the_preset() -> None:
    p = policy(CapPreset.ANHUI, {CapItem.BIRTHDAY: "500.50", CapItem.FESTIVAL: None})
    assert services.cap_warning(policy=p, item=CapItem.BIRTHDAY, amount=D("500.50")) is None
    assert services.cap_warning(policy=p, item=CapItem.BIRTHDAY, amount=D(501)) == (
        "本次生日慰问 501 元，超过全年上限 500.50 元（安徽现行标准）。"
    )
    assert services.cap_warning(policy=p, item=CapItem.FESTIVAL, amount=D(100000)) is None
    # The items not overridden keep the preset's cap.
    assert services.cap_warning(policy=p, item=CapItem.WEDDING, amount=D(2001)) is not None


# Cap items ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "variant", "item"),
    [
        (VisitReason.SICK, VisitVariant.NONE, CapItem.SICK),
        (VisitReason.SICK, VisitVariant.SURGERY, CapItem.SICK_SURGERY),
        (VisitReason.BEREAVEMENT, VisitVariant.MEMBER_DEATH, CapItem.MEMBER_DEATH),
        (VisitReason.BEREAVEMENT, VisitVariant.RELATIVE_DEATH, CapItem.RELATIVE_DEATH),
        (VisitReason.BEREAVEMENT, VisitVariant.NONE, CapItem.RELATIVE_DEATH),
        (VisitReason.FESTIVAL, VisitVariant.NONE, CapItem.FESTIVAL),
        (VisitReason.BIRTHDAY, VisitVariant.NONE, CapItem.BIRTHDAY),
        (VisitReason.WEDDING, VisitVariant.NONE, CapItem.WEDDING),
        (VisitReason.CHILDBIRTH, VisitVariant.NONE, CapItem.CHILDBIRTH),
        (VisitReason.RETIREMENT, VisitVariant.NONE, CapItem.RETIREMENT),
        (VisitReason.HARDSHIP, VisitVariant.NONE, CapItem.HARDSHIP),
        (VisitReason.SUMMER, VisitVariant.NONE, None),
        (VisitReason.OTHER, VisitVariant.NONE, None),
    ],
)
def test_cap_item_of_each_reason(reason: str, variant: str, item: str | None) -> None:
    assert rules.cap_item(reason, variant) == item


def test_cap_item_ignores_the_variant_of_reasons_without_variants() -> None:
    assert rules.cap_item(VisitReason.FESTIVAL, VisitVariant.SURGERY) == CapItem.FESTIVAL
    assert rules.cap_item(VisitReason.SICK, VisitVariant.MEMBER_DEATH) == CapItem.SICK


def test_a_hospital_stay_with_and_without_surgery_share_one_yearly_cap() -> None:
    assert rules.items_for(CapItem.SICK) == (CapItem.SICK, CapItem.SICK_SURGERY)
    assert rules.items_for(CapItem.SICK_SURGERY) == (CapItem.SICK, CapItem.SICK_SURGERY)
    assert rules.items_for(CapItem.MEMBER_DEATH) == (CapItem.MEMBER_DEATH,)
    assert rules.items_for(CapItem.FESTIVAL) == (CapItem.FESTIVAL,)


def test_money_reads_as_in_the_messages() -> None:
    assert rules.money(D(1500)) == "1500"
    assert rules.money(D("1500.5")) == "1500.50"
    assert rules.money(D("833.333")) == "833.33"
    assert rules.money(D("0")) == "0"


def test_year_of_and_one_year_before_around_29_february() -> None:
    assert rules.year_of(dt.date(2025, 6, 1)) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert rules.one_year_before(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)
    assert rules.one_year_after(dt.date(2024, 2, 29)) == dt.date(2025, 2, 28)
    assert rules.one_year_before(dt.date(2025, 6, 1)) == dt.date(2024, 6, 1)


# The hardship formula -------------------------------------------------------------------

ON = dt.date(2025, 6, 1)


def household(**kw: object) -> rules.Household:
    kw.setdefault("size", 1)
    kw.setdefault("income", D(0))
    return rules.Household(**kw)  # type: ignore[arg-type]


def test_per_capita_monthly_income_is_income_less_expenses_over_12_over_size() -> None:
    h = household(size=3, income=D(36000), expenses=D(6000))
    assert rules.per_capita_monthly(h) == D("833.33")
    # 10000 ÷ 12 ÷ 3 = 277.777… rounds half up to the fen.
    assert rules.per_capita_monthly(household(size=3, income=D(10000))) == D("277.78")
    assert rules.per_capita_monthly(household(size=2, income=D("100.20"))) == D("4.18")  # 4.175


def test_a_household_of_nobody_is_an_error() -> None:
    with pytest.raises(ValueError, match="家庭人口至少为 1 人"):
        rules.per_capita_monthly(household(size=0, income=D(1000)))


def test_deep_hardship_worked_example() -> None:
    result = rules.assess(household(size=3, income=D(36000), expenses=D(6000)), dibao=D(900), on=ON)
    assert result.category == HardshipCategory.DEEP
    assert result.per_capita_monthly == D("833.33")
    assert result.reasons == ["人均月收入 833.33 元，不高于低保标准 900 元"]
    assert result.eligible


def test_exactly_the_dibao_line_is_deep_and_one_fen_above_is_relative() -> None:
    at = rules.assess(household(size=1, income=D(10800)), dibao=D(900), on=ON)
    assert (at.category, at.per_capita_monthly) == (HardshipCategory.DEEP, D("900.00"))
    above = rules.assess(household(size=1, income=D("10800.12")), dibao=D(900), on=ON)
    assert (above.category, above.per_capita_monthly) == (HardshipCategory.RELATIVE, D("900.01"))


def test_relative_hardship_at_exactly_twice_the_dibao_line() -> None:
    # 43200 ÷ 12 ÷ 2 = 1800 = 2 × 900.
    result = rules.assess(household(size=2, income=D(43200)), dibao=D(900), on=ON)
    assert result.category == HardshipCategory.RELATIVE
    assert result.per_capita_monthly == D("1800.00")
    assert result.reasons == ["人均月收入 1800 元，不高于低保标准的两倍 1800 元"]
    assert result.eligible


def test_one_fen_above_twice_the_dibao_line_is_not_eligible() -> None:
    result = rules.assess(household(size=2, income=D("43200.24")), dibao=D(900), on=ON)
    assert result.category == HardshipCategory.NONE
    assert result.per_capita_monthly == D("1800.01")
    assert result.reasons == ["人均月收入 1800.01 元，高于低保标准的两倍 1800 元"]
    assert not result.eligible


def test_accident_when_hardship_costs_exceed_80_percent_of_income() -> None:
    # 100000 ÷ 12 ÷ 2 = 4166.67 a month: far above 2 × 低保, but the year's costs …
    over = rules.assess(
        household(size=2, income=D(100000), hardship_costs=D("80000.01")), dibao=D(900), on=ON
    )
    assert over.category == HardshipCategory.ACCIDENT
    assert over.per_capita_monthly == D("4166.67")
    assert over.reasons == ["当年因灾、因病支出 80000.01 元，超过家庭收入的 80%"]
    # … exactly 80% is not more than 80%.
    at = rules.assess(
        household(size=2, income=D(100000), hardship_costs=D(80000)), dibao=D(900), on=ON
    )
    assert at.category == HardshipCategory.NONE


def test_the_accident_ratio_is_a_setting() -> None:
    h = household(size=2, income=D(100000), hardship_costs=D(60000))
    assert rules.assess(h, dibao=D(900), on=ON).category == HardshipCategory.NONE
    half = rules.assess(h, dibao=D(900), accident_ratio=D("0.50"), on=ON)
    assert half.category == HardshipCategory.ACCIDENT
    assert half.reasons == ["当年因灾、因病支出 60000 元，超过家庭收入的 50%"]


def test_income_categories_come_before_accident() -> None:
    h = household(size=3, income=D(36000), expenses=D(6000), hardship_costs=D(50000))
    assert rules.assess(h, dibao=D(900), on=ON).category == HardshipCategory.DEEP


EXCLUSIONS = [
    ("multiple_homes", "家庭拥有两套及以上住房"),
    ("owns_business", "家庭经营商铺或雇用他人"),
    ("private_school", "子女就读收费高于公办学校两倍的民办学校，或自费出国留学"),
]


@pytest.mark.parametrize(("flag", "reason"), EXCLUSIONS)
def test_each_exclusion_makes_a_poor_household_ineligible(flag: str, reason: str) -> None:
    h = household(
        size=3, income=D(36000), expenses=D(6000), hardship_costs=D(50000), **{flag: True}
    )
    result = rules.assess(h, dibao=D(900), on=ON)
    assert result.category == HardshipCategory.NONE
    assert result.per_capita_monthly == D("833.33")
    assert result.reasons == [reason]
    assert not result.eligible


def test_all_exclusions_are_listed_together() -> None:
    h = household(
        size=1,
        income=D(0),
        multiple_homes=True,
        owns_business=True,
        private_school=True,
        migrant_worker=True,
    )
    assert rules.assess(h, dibao=D(900), on=ON).reasons == [
        "家庭拥有两套及以上住房",
        "家庭经营商铺或雇用他人",
        "子女就读收费高于公办学校两倍的民办学校，或自费出国留学",
        "农民工须与本单位建立劳动关系满一年",
        "农民工须入会满一年",
    ]


@pytest.mark.parametrize(
    ("labour_since", "member_since", "reasons"),
    [
        (dt.date(2024, 6, 1), dt.date(2024, 6, 1), []),  # exactly one year: enough
        (dt.date(2024, 6, 2), dt.date(2020, 1, 1), ["农民工须与本单位建立劳动关系满一年"]),
        (dt.date(2020, 1, 1), dt.date(2024, 6, 2), ["农民工须入会满一年"]),
        (None, dt.date(2020, 1, 1), ["农民工须与本单位建立劳动关系满一年"]),
        (dt.date(2020, 1, 1), None, ["农民工须入会满一年"]),
        (
            dt.date(2025, 1, 1),
            dt.date(2025, 1, 1),
            ["农民工须与本单位建立劳动关系满一年", "农民工须入会满一年"],
        ),
    ],
)
def test_migrant_workers_need_a_year_of_labour_relationship_and_membership(
    labour_since: dt.date | None, member_since: dt.date | None, reasons: list[str]
) -> None:
    h = household(
        size=1,
        income=D(6000),
        migrant_worker=True,
        labour_since=labour_since,
        member_since=member_since,
    )
    result = rules.assess(h, dibao=D(900), on=ON)
    if reasons:
        assert (result.category, result.reasons) == (HardshipCategory.NONE, reasons)
    else:
        assert result.category == HardshipCategory.DEEP  # 500 a month


def test_the_year_of_a_migrant_worker_is_counted_from_the_assessment_day() -> None:
    h = household(
        size=1,
        income=D(6000),
        migrant_worker=True,
        labour_since=dt.date(2023, 2, 28),
        member_since=dt.date(2023, 2, 28),
    )
    assert rules.assess(h, dibao=D(900), on=dt.date(2024, 2, 29)).eligible
    assert not rules.assess(h, dibao=D(900), on=dt.date(2024, 2, 27)).eligible


def test_the_one_year_rule_applies_to_migrant_workers_only() -> None:
    h = household(
        size=1, income=D(6000), labour_since=dt.date(2025, 5, 1), member_since=dt.date(2025, 5, 1)
    )
    assert rules.assess(h, dibao=D(900), on=ON).category == HardshipCategory.DEEP


@pytest.mark.parametrize("dibao", [None, D(0)])
def test_without_a_dibao_line_nobody_qualifies_by_income(dibao: Decimal | None) -> None:
    result = rules.assess(household(size=1, income=D(1200)), dibao=dibao, on=ON)
    assert result.category == HardshipCategory.NONE
    assert result.per_capita_monthly == D("100.00")
    assert result.reasons == ["本工会尚未设置当地低保标准，无法按收入认定，请在「开支标准」中填写"]
    assert not result.eligible


def test_without_a_dibao_line_an_accident_still_qualifies() -> None:
    h = household(size=2, income=D(50000), hardship_costs=D(45000))
    result = rules.assess(h, dibao=None, on=ON)
    assert result.category == HardshipCategory.ACCIDENT
    assert result.reasons == ["当年因灾、因病支出 45000 元，超过家庭收入的 80%"]
