"""荣誉 pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gonghui.common.scope import Perm, can, get_visible_or_404, grants
from gonghui.common.web import (
    AuthedRequest,
    add_errors,
    date_param,
    paginate,
    posted,
    query_without_page,
)
from gonghui.org.models import Union

from . import queries, services
from .choices import HonourKind, Level
from .forms import HonourForm
from .models import Honour


def honour_list(request: AuthedRequest) -> HttpResponse:
    if not grants(request.user).any(Perm.HONOUR_VIEW):
        raise PermissionDenied("您没有查看荣誉的权限。")
    union = None
    if request.GET.get("union"):
        union = get_visible_or_404(
            Union.objects.all(), request.user, Perm.HONOUR_VIEW, via="", pk=request.GET["union"]
        )
    kind = request.GET.get("kind", "") if request.GET.get("kind") in HonourKind.values else ""
    level = request.GET.get("level", "") if request.GET.get("level") in Level.values else ""
    qs = queries.honours(
        request.user,
        union=union,
        start=date_param(request, "start"),
        end=date_param(request, "end"),
        kind=kind,
        level=level,
    )
    page = paginate(request, qs, 50)
    for h in page:
        h.can_edit = can(request.user, Perm.HONOUR_EDIT, h.union)
    return render(
        request,
        "honours/list.html",
        {
            "page": page,
            "query": query_without_page(request),
            "union": union,
            "kind": kind,
            "kinds": HonourKind.choices,
            "start": date_param(request, "start"),
            "end": date_param(request, "end"),
            "can_edit": grants(request.user).any(Perm.HONOUR_EDIT),
        },
    )


@require_http_methods(["GET", "POST"])
def honour_create(request: AuthedRequest) -> HttpResponse:
    if not grants(request.user).any(Perm.HONOUR_EDIT):
        raise PermissionDenied("您没有登记荣誉的权限。")
    form = HonourForm(posted(request), viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            honour = services.honour_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记：{honour}。")
            return redirect("honours:list")
    return render(request, "honours/form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def honour_update(request: AuthedRequest, pk: int) -> HttpResponse:
    honour = get_visible_or_404(
        Honour.objects.select_related("union", "member"), request.user, Perm.HONOUR_EDIT, pk=pk
    )
    form = HonourForm(posted(request), viewer=request.user, initial=HonourForm.initial_of(honour))
    if request.method == "POST" and form.is_valid():
        try:
            honour = services.honour_update(actor=request.user, honour=honour, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已保存：{honour}。")
            return redirect("honours:list")
    return render(request, "honours/form.html", {"form": form, "honour": honour})


@require_POST
def honour_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    honour = get_visible_or_404(
        Honour.objects.select_related("union"), request.user, Perm.HONOUR_EDIT, pk=pk
    )
    services.honour_delete(actor=request.user, honour=honour)
    messages.success(request, f"已删除：{honour}。")
    return redirect("honours:list")
