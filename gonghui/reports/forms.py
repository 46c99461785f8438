from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from gonghui.common.forms import DATE, Form
from gonghui.common.reporting import Period


class PeriodForm(Form):
    """The period of the figures; either end left blank means this calendar year's."""

    start = forms.DateField(label="从", widget=DATE, required=False)
    end = forms.DateField(label="到", widget=DATE, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        year = Period.year(dt.date.today().year)
        data["start"] = data.get("start") or year.start
        data["end"] = data.get("end") or year.end
        if data["end"] < data["start"]:
            self.add_error("end", "结束日期不能早于开始日期。")
        return data

    def period(self) -> Period:
        """The chosen period, or this year when the form has errors."""
        if self.is_valid():
            return Period(self.cleaned_data["start"], self.cleaned_data["end"])
        return Period.year(dt.date.today().year)
