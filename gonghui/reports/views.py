from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render

from gonghui.common.reporting import Period
from gonghui.common.scope import Perm, get_visible_or_404, grants, top_unions
from gonghui.common.web import AuthedRequest
from gonghui.org.models import Union

from .registry import compute

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    union = forms.IntegerField(widget=forms.HiddenInput, required=False)
    start = forms.DateField(label="从", widget=DATE)
    end = forms.DateField(label="到", widget=DATE)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "结束日期不能早于开始日期。")
        return data


def _this_year() -> Period:
    return Period.year(dt.date.today().year)


def dashboard(request: AuthedRequest) -> HttpResponse:
    """Home: the roster figures of each union the user oversees, this year so far."""
    g = grants(request.user)
    if not (g.any(Perm.REPORT_VIEW) or g.any(Perm.ROSTER_VIEW)):
        return redirect("members:me")
    period = _this_year()
    roots = list(top_unions(request.user, Perm.REPORT_VIEW)[:5]) or list(
        top_unions(request.user, Perm.ROSTER_VIEW)[:5]
    )
    panels = [(u, [f for _, facts in compute(u, period) for f in facts]) for u in roots]
    return render(request, "reports/dashboard.html", {"panels": panels, "period": period})


def figures(request: AuthedRequest) -> HttpResponse:
    """All report figures for a union and a period, each linked to its records."""
    if not grants(request.user).any(Perm.REPORT_VIEW):
        raise PermissionDenied("您没有查看工作报告的权限。")
    period = _this_year()
    form = PeriodForm(request.GET or None, initial={"start": period.start, "end": period.end})
    roots = list(top_unions(request.user, Perm.REPORT_VIEW))
    union: Union | None = roots[0] if roots else None
    if form.is_valid():
        period = Period(form.cleaned_data["start"], form.cleaned_data["end"])
        if form.cleaned_data.get("union"):
            union = get_visible_or_404(
                Union.objects.all(),
                request.user,
                Perm.REPORT_VIEW,
                via="",
                pk=form.cleaned_data["union"],
            )
    sections = compute(union, period) if union else []
    return render(
        request,
        "reports/figures.html",
        {
            "form": form,
            "union": union,
            "period": period,
            "sections": sections,
            "roots": roots,
        },
    )
