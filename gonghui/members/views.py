from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gonghui.common import audit
from gonghui.common.scope import Perm, can, get_visible_or_404, grants
from gonghui.common.web import (
    AuthedRequest,
    add_errors,
    posted,
    render_page,
    tell_refused_union,
)

from . import queries, services
from .choices import MemberStatus
from .forms import ChangeForm, MemberForm, MemberLoginForm, RosterFilterForm, member_label
from .models import Member


def _require_roster(request: AuthedRequest) -> None:
    if not grants(request.user).any(Perm.ROSTER_VIEW):
        raise PermissionDenied("您没有查看会员名册的权限。")


def member_list(request: AuthedRequest) -> HttpResponse:
    _require_roster(request)
    data = request.GET.copy()
    if not any(key != "page" for key in data):
        # The roster, unfiltered, means the members on it now (在册), as the dashboard
        # counts them; the other statuses are one click away and the box shows it.
        data.setlist("status", [MemberStatus.ACTIVE])
    form = RosterFilterForm(data, viewer=request.user)
    filters = form.to_filter()
    tell_refused_union(request, form)
    paginator = queries.roster_pages(request.user, filters, settings.GONGHUI_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = data.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "can_add": grants(request.user).any(Perm.ROSTER_EDIT),
        "filtered": any(k != "page" and any(vals) for k, vals in request.GET.lists()),
        "status_labels": [MemberStatus(v).label for v in filters.status if v in MemberStatus],
    }
    return render_page(request, "members/list.html", context, "members/partials/results.html")


def _detail_context(
    request: AuthedRequest, member: Member, change_form: ChangeForm | None = None
) -> dict[str, Any]:
    """The member page: data, timeline, and for editors the change form and history."""
    can_edit = can(request.user, Perm.ROSTER_EDIT, member.union)
    if can_edit and change_form is None:
        change_form = ChangeForm(member=member, viewer=request.user)
    return {
        "member": member,
        "changes": list(member.changes.select_related("union", "created_by")),
        "can_edit": can_edit,
        "can_reveal": can(request.user, Perm.ROSTER_PII, member.union),
        "can_manage_login": can(request.user, Perm.USERS_MANAGE, member.union),
        # The care area's links for this member (关爱), for those who may use them here.
        "can_care_view": can(request.user, Perm.CARE_VIEW, member.union),
        "can_care_edit": can(request.user, Perm.CARE_EDIT, member.union),
        "history": audit.history(member)[:50] if can_edit else None,
        "change_form": change_form if can_edit else None,
    }


def member_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(
        Member.objects.select_related("union", "user"), request.user, Perm.ROSTER_VIEW, pk=pk
    )
    return render(request, "members/detail.html", _detail_context(request, member))


@require_http_methods(["GET", "POST"])
def member_create(request: AuthedRequest) -> HttpResponse:
    if not grants(request.user).any(Perm.ROSTER_EDIT):
        raise PermissionDenied("您没有登记会员的权限。")
    form = MemberForm(
        posted(request), viewer=request.user, initial={"union": request.GET.get("union")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            member = services.member_create(
                actor=request.user,
                join_kind=form.cleaned_data["join_kind"],
                other_org=form.cleaned_data.get("other_org", ""),
                registered_on=form.cleaned_data.get("registered_on"),
                **form.fields_for_service(),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记会员「{member.name}」，会员证号 {member.card_no}。")
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/form.html", {"form": form, "member": None})


@require_http_methods(["GET", "POST"])
def member_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(
        Member.objects.select_related("union"), request.user, Perm.ROSTER_EDIT, pk=pk
    )
    form = MemberForm(
        posted(request),
        viewer=request.user,
        member=member,
        initial=MemberForm.initial_for(member),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=request.user, member=member, **form.fields_for_service())
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已保存「{member.name}」的修改。")
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/form.html", {"form": form, "member": member})


@require_POST
def member_change(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(
        Member.objects.select_related("union"), request.user, Perm.ROSTER_EDIT, pk=pk
    )
    form = ChangeForm(request.POST, member=member, viewer=request.user)
    if form.is_valid():
        if request.POST.get("confirm") != "1" or "edit" in request.POST:
            # Nothing is saved until the officer has read what will be recorded and
            # confirmed it (a second post carrying ``confirm``); 返回修改 shows the form.
            context = _detail_context(request, member, form)
            if "edit" not in request.POST:
                context["change_question"] = form.question()
            return render(request, "members/detail.html", context)
        try:
            change = services.member_change(actor=request.user, member=member, **form.change_args())
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记「{change.get_kind_display()}」。")
            return redirect("members:detail", pk=member.pk)
    member.refresh_from_db()
    context = _detail_context(request, member, form)
    return render(request, "members/detail.html", context, status=400)


@require_POST
def member_change_undo(request: AuthedRequest, pk: int) -> HttpResponse:
    member = get_visible_or_404(
        Member.objects.select_related("union"), request.user, Perm.ROSTER_EDIT, pk=pk
    )
    try:
        change = services.member_change_undo(actor=request.user, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"已撤销 {change.date:%Y-%m-%d} 的「{change.get_kind_display()}」。"
        )
    return redirect("members:detail", pk=member.pk)


@require_http_methods(["GET", "POST"])
def member_login(request: AuthedRequest, pk: int) -> HttpResponse:
    """Open a self-service login for this member (chairs, who manage users)."""
    member = get_visible_or_404(
        Member.objects.select_related("union", "user"), request.user, Perm.USERS_MANAGE, pk=pk
    )
    initial = {"username": member.employee_no or member.name_pinyin}
    form = MemberLoginForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.member_login_create(
                actor=request.user, member=member, **form.cleaned_data
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                f"已为「{member.name}」开通登录账号「{user.username}」，请把初始密码告诉本人。",
            )
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/login_form.html", {"form": form, "member": member})


@require_POST
def member_reveal(request: AuthedRequest, pk: int, field: str) -> HttpResponse:
    """The full 身份证号 or 手机号 in place of the masked one (htmx); audited."""
    if field not in ("id_number", "phone"):
        raise Http404("没有这一项。")
    member = get_visible_or_404(
        Member.objects.select_related("union"), request.user, Perm.ROSTER_PII, pk=pk
    )
    value = services.member_reveal(actor=request.user, member=member, field=field)
    if request.htmx:
        return render(request, "members/partials/revealed.html", {"value": value})
    # Without JavaScript the button posts a plain form: show the page with the number.
    context = {**_detail_context(request, member), "revealed": {field: value}}
    return render(request, "members/detail.html", context)


def me(request: AuthedRequest) -> HttpResponse:
    """Self-service: the member's own record and history."""
    member = queries.own_member(request.user)
    changes = member.changes.all() if member else []
    return render(request, "members/me.html", {"member": member, "changes": changes})


def member_suggest(request: AuthedRequest) -> HttpResponse:
    """``<option>``s for a member lookup box (``forms.MemberField``), as one types."""
    _require_roster(request)
    text = request.GET.get("q") or next((str(v) for v in request.GET.values() if v), "")
    found = queries.suggest_members(request.user, Perm.ROSTER_VIEW, text)
    members = [(member_label(m), m) for m in found]
    return render(request, "members/partials/suggestions.html", {"members": members})
