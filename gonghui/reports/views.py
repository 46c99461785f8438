from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render

from gonghui.common import audit
from gonghui.common.reporting import Fact, Period
from gonghui.common.scope import Perm, get_visible_or_404, grants, top_unions
from gonghui.common.web import AuthedRequest
from gonghui.org.models import Union

from .forms import PeriodForm
from .registry import all_facts, compute, paragraphs, todo


def _roster_first(facts: list[Fact]) -> list[Fact]:
    """The roster's figures lead the dashboard; the rest follow in report order."""
    return sorted(facts, key=lambda f: not f.key.startswith("members."))


def dashboard(request: AuthedRequest) -> HttpResponse:
    """Home: the officer's to-do list (each app's ``queries.todo``), then the figures of
    each union she oversees, this year so far, the roster's first.

    A member without an officer's role has nothing to oversee: self-service instead.
    """
    g = grants(request.user)
    if not (g.any(Perm.REPORT_VIEW) or g.any(Perm.ROSTER_VIEW)):
        return redirect("members:me")
    today = dt.date.today()
    period = Period.year(today.year)
    roots = list(top_unions(request.user, Perm.REPORT_VIEW)[:5]) or list(
        top_unions(request.user, Perm.ROSTER_VIEW)[:5]
    )
    panels = [(u, _roster_first(all_facts(u, period))) for u in roots]
    recent = None
    if g.any(Perm.AUDIT_VIEW):
        recent = list(audit.entries_for(request.user)[:8])
    return render(
        request,
        "reports/dashboard.html",
        {
            "todo": todo(request.user, today),
            "panels": panels,
            "period": period,
            "recent": recent,
            "can_add": g.any(Perm.ROSTER_EDIT),
            "can_roster": g.any(Perm.ROSTER_VIEW),
        },
    )


def figures(request: AuthedRequest) -> HttpResponse:
    """All report figures for a union and a period, each linked to its records."""
    if not grants(request.user).any(Perm.REPORT_VIEW):
        raise PermissionDenied("您没有查看工作报告的权限。")
    form = PeriodForm(request.GET)
    period = form.period()
    roots = list(top_unions(request.user, Perm.REPORT_VIEW))
    union: Union | None = roots[0] if roots else None
    if request.GET.get("union"):
        union = get_visible_or_404(
            Union.objects.all(), request.user, Perm.REPORT_VIEW, via="", pk=request.GET["union"]
        )
    computed = compute(union, period) if union else []
    texts = paragraphs(union, period, computed) if union else {}
    sections = [(s, facts, texts.get(s.key, [])) for s, facts in computed]
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
