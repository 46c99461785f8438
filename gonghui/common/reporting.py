"""The contract between the apps and ``reports``: a period and the facts computed over it.

Each app may have a ``report.py`` with a function ``facts(*, union, period)`` that
returns its :class:`Fact` list for ``union``'s whole subtree. ``reports`` finds these
modules the way the admin finds ``admin.py``; an app never imports ``reports``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.urls import reverse


@dataclass(frozen=True)
class Period:
    """A closed date range: a calendar year, a school year or a union's term (届)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"结束日期 {self.end} 早于开始日期 {self.start}。")

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31))

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    @property
    def in_words(self) -> str:
        """The period as a report says it: 2025年 for a calendar year, 2023年至2025年 for a
        term of whole years, else its dates."""
        s, e = self.start, self.end
        if (s.month, s.day, e.month, e.day) == (1, 1, 12, 31):
            return f"{s.year}年" if s.year == e.year else f"{s.year}年至{e.year}年"
        return f"{s.year}年{s.month}月{s.day}日至{e.year}年{e.month}月{e.day}日"


Number = int | Decimal | None


@dataclass(frozen=True)
class Fact:
    """One figure of the work report, traceable to the records that yield it.

    ``key`` is stable (``members.joined``); ``source`` is the URL of the filtered list
    of those records; ``value`` is ``None`` when it cannot be computed (the note says why).
    """

    key: str
    label: str
    value: Number
    unit: str
    source: str
    note: str = ""

    def as_json(self) -> dict[str, object]:
        value: object = self.value
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else float(value)
        data: dict[str, object] = {
            "key": self.key,
            "label": self.label,
            "value": value,
            "unit": self.unit,
            "source": self.source,
        }
        if self.note:
            data["note"] = self.note
        return data


def source_url(view: str, **params: object) -> str:
    """The address of the filtered list behind a figure (blank parameters left out)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)
    return f"{reverse(view)}?{query}"


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in per cent, one decimal, rounded half up; ``None`` of nothing."""
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
