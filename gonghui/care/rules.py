"""The rules of 关爱服务 as data and pure functions: spending caps and hardship files.

Provinces and units set the caps (``shared/DOMAIN.md``): they are presets a union picks
and may override item by item (``CarePolicy``), never constants in the code. The
hardship formula follows the 困难职工建档 rules; the 低保 line and the 意外致困 ratio are
settings of the union.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .choices import (
    REASON_VARIANTS,
    CapItem,
    CapPreset,
    HardshipCategory,
    VisitReason,
    VisitVariant,
)

D = Decimal
ZERO = Decimal(0)

#: 元 per member per year (``HARDSHIP``: per grant); ``None``: the preset sets no cap.
#: 《基层工会经费收支管理办法》 leaves the amounts to the provinces; these are theirs.
PRESETS: dict[str, dict[str, Decimal | None]] = {
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
        CapItem.PRIZE_FIRST: D(500),
        CapItem.OUTING_DAY: D(200),
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
        CapItem.WEDDING: None,  # the Fujian rules name no amount for weddings
        CapItem.CHILDBIRTH: D(500),
        CapItem.SICK: D(500),
        CapItem.SICK_SURGERY: D(1000),
        CapItem.MEMBER_DEATH: D(2000),
        CapItem.RELATIVE_DEATH: D(1000),
        CapItem.RETIREMENT: D(500),
        CapItem.HARDSHIP: D(2000),
        CapItem.PRIZE_FIRST: None,  # the Fujian rules name no prize cap
        CapItem.OUTING_DAY: D(200),
    },
    CapPreset.NONE: dict.fromkeys(CapItem.values),
}

#: Items whose cap applies to each payment alone, not to the year's sum per member.
PER_PAYMENT = frozenset({CapItem.HARDSHIP, CapItem.PRIZE_FIRST, CapItem.OUTING_DAY})

#: Sports and culture prizes: winners no more than this share of those who took part
#: (Anhui, Ningxia: a third).
DEFAULT_WINNERS_SHARE = Decimal("0.33")

#: The preset of a union that has not chosen one (nor has any union above it).
DEFAULT_PRESET = CapPreset.ANHUI


def cap_item(reason: str, variant: str = "") -> str | None:
    """The cap item a visit counts against, or ``None`` (夏季送清凉, 其他: no cap)."""
    if reason == VisitReason.SICK:
        return CapItem.SICK_SURGERY if variant == VisitVariant.SURGERY else CapItem.SICK
    if reason == VisitReason.BEREAVEMENT:
        if variant == VisitVariant.MEMBER_DEATH:
            return CapItem.MEMBER_DEATH
        return CapItem.RELATIVE_DEATH
    direct = {
        VisitReason.FESTIVAL: CapItem.FESTIVAL,
        VisitReason.BIRTHDAY: CapItem.BIRTHDAY,
        VisitReason.WEDDING: CapItem.WEDDING,
        VisitReason.CHILDBIRTH: CapItem.CHILDBIRTH,
        VisitReason.RETIREMENT: CapItem.RETIREMENT,
        VisitReason.HARDSHIP: CapItem.HARDSHIP,
    }
    return direct.get(VisitReason(reason))


def items_for(item: str) -> tuple[str, ...]:
    """The items whose spending shares one yearly cap: a stay with surgery and one
    without are both 住院慰问 (the surgery cap is the higher of the two)."""
    if item in (CapItem.SICK, CapItem.SICK_SURGERY):
        return (CapItem.SICK, CapItem.SICK_SURGERY)
    return (item,)


def caps_of(
    preset: str, overrides: Mapping[str, object] | None = None
) -> dict[str, Decimal | None]:
    """Every item's cap: the preset's, with the union's own amounts over it.

    An override of ``None`` or ``""`` means "no cap" for that item.
    """
    caps = dict(PRESETS.get(preset, PRESETS[DEFAULT_PRESET]))
    for key, value in (overrides or {}).items():
        if key in caps:
            caps[key] = None if value in (None, "") else D(str(value))
    return caps


def clean_variant(reason: str, variant: str) -> str:
    """The variant a visit keeps: one its reason allows, else the reason's default."""
    allowed = REASON_VARIANTS.get(reason, (VisitVariant.NONE,))
    return variant if variant in allowed else allowed[0]


def year_of(date: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(date.year, 1, 1), dt.date(date.year, 12, 31)


def money(value: Decimal) -> str:
    """``1500`` → ``1500``, ``1500.5`` → ``1500.50``: how amounts read in messages."""
    value = value.quantize(D("0.01"))
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"


# Hardship files -------------------------------------------------------------------------

#: 意外致困: the year's hardship costs exceed this share of household income (Qingdao).
DEFAULT_ACCIDENT_RATIO = D("0.80")


@dataclass(frozen=True)
class Household:
    """The figures of one household, as a hardship file records them (元 per year)."""

    size: int
    income: Decimal  # household annual disposable income
    expenses: Decimal = ZERO  # unavoidable expenses (medical, schooling …)
    hardship_costs: Decimal = ZERO  # this year's costs of an accident or illness
    multiple_homes: bool = False
    owns_business: bool = False
    private_school: bool = False  # children in private schools over 2× public fees, or abroad
    migrant_worker: bool = False
    labour_since: dt.date | None = None  # 农民工: start of the labour relationship
    member_since: dt.date | None = None  # 入会日期


@dataclass(frozen=True)
class Assessment:
    category: str
    per_capita_monthly: Decimal | None
    reasons: list[str] = field(default_factory=list)  # why excluded, or why this category

    @property
    def eligible(self) -> bool:
        return self.category != HardshipCategory.NONE


def per_capita_monthly(h: Household) -> Decimal:
    """(household annual disposable income − unavoidable expenses) ÷ 12 ÷ household size."""
    if h.size < 1:
        raise ValueError("家庭人口至少为 1 人。")
    value = (h.income - h.expenses) / 12 / h.size
    return value.quantize(D("0.01"), rounding=ROUND_HALF_UP)


def exclusions(h: Household, on: dt.date) -> list[str]:
    """The presets' reasons a household may not be filed, in Chinese."""
    found: list[str] = []
    if h.multiple_homes:
        found.append("家庭拥有两套及以上住房")
    if h.owns_business:
        found.append("家庭经营商铺或雇用他人")
    if h.private_school:
        found.append("子女就读收费高于公办学校两倍的民办学校，或自费出国留学")
    if h.migrant_worker:
        year_ago = one_year_before(on)
        if h.labour_since is None or h.labour_since > year_ago:
            found.append("农民工须与本单位建立劳动关系满一年")
        if h.member_since is None or h.member_since > year_ago:
            found.append("农民工须入会满一年")
    return found


def one_year_before(on: dt.date) -> dt.date:
    return _shift_year(on, -1)


def one_year_after(on: dt.date) -> dt.date:
    return _shift_year(on, 1)


def _shift_year(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year + years)
    except ValueError:  # 29 February
        return on.replace(year=on.year + years, day=28)


def assess(
    h: Household,
    *,
    dibao: Decimal | None,
    accident_ratio: Decimal = DEFAULT_ACCIDENT_RATIO,
    on: dt.date | None = None,
) -> Assessment:
    """The category of a household (DOMAIN.md, 困难职工建档).

    深度困难: per-capita monthly income ≤ the local 低保 line; 相对困难: ≤ 2 × 低保;
    意外致困: the year's hardship costs exceed ``accident_ratio`` of household income.
    A household hit by an exclusion is not eligible whatever its income.
    """
    on = on or dt.date.today()
    pcm = per_capita_monthly(h)
    excluded = exclusions(h, on)
    if excluded:
        return Assessment(HardshipCategory.NONE, pcm, excluded)
    if dibao is not None and dibao > 0:
        if pcm <= dibao:
            return Assessment(
                HardshipCategory.DEEP,
                pcm,
                [f"人均月收入 {money(pcm)} 元，不高于低保标准 {money(dibao)} 元"],
            )
        if pcm <= 2 * dibao:
            return Assessment(
                HardshipCategory.RELATIVE,
                pcm,
                [f"人均月收入 {money(pcm)} 元，不高于低保标准的两倍 {money(2 * dibao)} 元"],
            )
    if h.hardship_costs > 0 and h.hardship_costs > accident_ratio * h.income:
        share = (accident_ratio * 100).quantize(D("1"))
        return Assessment(
            HardshipCategory.ACCIDENT,
            pcm,
            [f"当年因灾、因病支出 {money(h.hardship_costs)} 元，超过家庭收入的 {share}%"],
        )
    reasons = []
    if dibao is None or dibao <= 0:
        reasons.append("本工会尚未设置当地低保标准，无法按收入认定，请在「开支标准」中填写")
    else:
        reasons.append(f"人均月收入 {money(pcm)} 元，高于低保标准的两倍 {money(2 * dibao)} 元")
    return Assessment(HardshipCategory.NONE, pcm, reasons)
