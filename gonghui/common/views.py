from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import requires_csrf_token

from gonghui.org.models import Union, subtree_q

from . import audit
from .forms import DATE, Form
from .models import AuditAction, AuditEntry
from .scope import Perm, get_visible_or_404, grants
from .web import AuthedRequest, paginate, render_page


class AuditFilterForm(Form):
    q = forms.CharField(
        label="搜索",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "对象、摘要或操作人", "type": "search"}),
    )
    action = forms.ChoiceField(
        label="操作", required=False, choices=[("", "全部"), *AuditAction.choices]
    )
    start = forms.DateField(label="从", required=False, widget=DATE)
    end = forms.DateField(label="到", required=False, widget=DATE)
    union = forms.IntegerField(required=False, widget=forms.HiddenInput)


def audit_log(request: AuthedRequest) -> HttpResponse:
    """The searchable audit log of the part of the tree the viewer chairs."""
    if not grants(request.user).any(Perm.AUDIT_VIEW):
        raise PermissionDenied("只有主席和经审可以查看操作日志。")
    form = AuditFilterForm(request.GET or None)
    qs = audit.entries_for(request.user)
    root = None
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            text = data["q"].strip()
            qs = qs.filter(
                Q(summary__icontains=text)
                | Q(object_repr__icontains=text)
                | Q(actor_name__icontains=text)
            )
        if data["action"]:
            qs = qs.filter(action=data["action"])
        if data["start"]:
            qs = qs.filter(at__date__gte=data["start"])
        if data["end"]:
            qs = qs.filter(at__date__lt=data["end"] + dt.timedelta(days=1))
        if data["union"]:
            root = get_visible_or_404(
                Union.objects.all(), request.user, Perm.AUDIT_VIEW, via="", pk=data["union"]
            )
            qs = qs.filter(subtree_q(root.path, "union__path"))
    page = paginate(request, qs.select_related("union", "content_type"), 50)
    for entry in page:
        entry.link = _link(entry)
    query = request.GET.copy()
    query.pop("page", None)
    filtered = any(k not in ("page", "union") and any(v) for k, v in request.GET.lists())
    return render_page(
        request,
        "common/audit.html",
        {
            "form": form,
            "page": page,
            "root": root,
            "query": query.urlencode(),
            "filtered": filtered,
        },
        "common/partials/audit_rows.html",
    )


#: The page of each kind of logged object. The page checks the viewer's scope itself.
_PAGES = {
    ("members", "member"): "members:detail",
    ("org", "union"): "org:detail",
    ("org", "user"): "org:user_detail",
}


def _link(entry: AuditEntry) -> str:
    ct = entry.content_type
    name = _PAGES.get((ct.app_label, ct.model)) if ct else None
    if not name or not entry.object_id.isdigit():
        return ""
    return reverse(name, args=[int(entry.object_id)])


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The form was older than the session (logged out and in again in another tab, or
    left open overnight): say so in Chinese and how to get the work through."""
    return render(request, "csrf_failure.html", status=403)


def admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """Django admin's login page, replaced: sign in through the workbench's own login
    (the same throttling and audit as every other login), then come back to the admin."""
    from django.contrib.auth.views import redirect_to_login

    if request.user.is_authenticated:
        # Signed in but not staff: the admin is not for this account.
        raise PermissionDenied("此账号不能进入系统管理。")
    target = request.GET.get("next") or reverse("admin:index")
    return redirect_to_login(target, reverse("login"))
