from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gonghui.common import audit
from gonghui.common.scope import Perm, can, get_visible_or_404, grants, visible
from gonghui.common.web import AuthedRequest, add_errors, paginate, posted

from . import grants as money_grants
from . import queries, services, throttle
from .choices import UnionKind
from .forms import (
    LoginForm,
    MoveForm,
    OwnPasswordForm,
    PasswordForm,
    RoleForm,
    UnionForm,
    UserCreateForm,
)
from .models import PendingGrant, RoleAssignment, Union, User


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "org/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        services.login_succeeded(user=user)
        throttle.remember_device(self.request, response, user)
        return response


def _require(request: AuthedRequest, perm: Perm, message: str) -> None:
    if not grants(request.user).any(perm):
        raise PermissionDenied(message)


def union_list(request: AuthedRequest) -> HttpResponse:
    _require(request, Perm.ORG_VIEW, "您没有查看组织架构的权限。")
    root = None
    if request.GET.get("root"):
        root = get_visible_or_404(
            Union.objects.all(), request.user, Perm.ORG_VIEW, via="", pk=request.GET["root"]
        )
    kind = request.GET.get("kind", "")
    if kind not in UnionKind.values:
        kind = ""
    show_archived = request.GET.get("archived") == "1"
    nodes = list(queries.tree(request.user, root=root, kind=kind, include_archived=show_archived))
    base_depth = min((n.depth for n in nodes), default=0)
    for n in nodes:
        n.indent = n.depth - base_depth  # type: ignore[attr-defined]
    return render(
        request,
        "org/list.html",
        {
            "nodes": nodes,
            "root": root,
            "kind": kind,
            "kinds": UnionKind.choices,
            "show_archived": show_archived,
            "can_add": grants(request.user).any(Perm.ORG_EDIT),
        },
    )


def union_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    union = get_visible_or_404(
        Union.objects.select_related("parent"), request.user, Perm.ORG_VIEW, via="", pk=pk
    )
    from gonghui.org.models import subtree_q

    children = union.children.filter(archived_at__isnull=True).order_by("path")
    roles = RoleAssignment.objects.filter(union=union).select_related("user")
    can_edit = can(request.user, Perm.ORG_EDIT, union)
    below = Union.objects.filter(subtree_q(union.path), archived_at__isnull=True)
    counts = below.exclude(pk=union.pk).aggregate(
        branches=Count("pk", filter=Q(kind=UnionKind.BRANCH)),
        groups=Count("pk", filter=Q(kind=UnionKind.GROUP)),
    )
    return render(
        request,
        "org/detail.html",
        {
            "union": union,
            "children": children,
            "roles": roles,
            "counts": counts,
            "can_edit": can_edit,
            # Moving and archiving a node are its parent's decisions.
            "can_place": union.parent is not None
            and can(request.user, Perm.ORG_EDIT, union.parent),
            "can_roster": can(request.user, Perm.ROSTER_VIEW, union),
            "history": audit.history(union)[:30] if can_edit else None,
        },
    )


@require_http_methods(["GET", "POST"])
def union_create(request: AuthedRequest) -> HttpResponse:
    _require(request, Perm.ORG_EDIT, "您没有新建组织的权限。")
    form = UnionForm(
        posted(request),
        viewer=request.user,
        initial={"parent": request.GET.get("parent"), "kind": UnionKind.GROUP},
    )
    if request.method == "POST" and form.is_valid():
        try:
            union = services.union_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已新建「{union.name}」。")
            return redirect("org:detail", pk=union.pk)
    return render(request, "org/form.html", {"form": form, "union": None})


@require_http_methods(["GET", "POST"])
def union_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    union = get_visible_or_404(Union.objects.all(), request.user, Perm.ORG_EDIT, via="", pk=pk)
    initial = {
        k: getattr(union, k)
        for k in ("name", "code", "headcount", "term_no", "term_start", "term_end")
    }
    form = UnionForm(posted(request), viewer=request.user, editing=union, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.union_update(actor=request.user, union=union, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("org:detail", pk=union.pk)
    return render(request, "org/form.html", {"form": form, "union": union})


@require_http_methods(["GET", "POST"])
def union_move(request: AuthedRequest, pk: int) -> HttpResponse:
    union = get_visible_or_404(Union.objects.all(), request.user, Perm.ORG_EDIT, via="", pk=pk)
    form = MoveForm(posted(request), viewer=request.user, union=union)
    if request.method == "POST" and form.is_valid():
        try:
            services.union_move(
                actor=request.user, union=union, new_parent=form.cleaned_data["new_parent"]
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已移动。")
            return redirect("org:detail", pk=union.pk)
    return render(request, "org/move.html", {"form": form, "union": union})


@require_POST
def union_archive(request: AuthedRequest, pk: int) -> HttpResponse:
    union = get_visible_or_404(Union.objects.all(), request.user, Perm.ORG_EDIT, via="", pk=pk)
    try:
        if union.is_archived:
            services.union_restore(actor=request.user, union=union)
            messages.success(request, f"已恢复「{union.name}」。")
        else:
            services.union_archive(actor=request.user, union=union)
            messages.success(request, f"已归档「{union.name}」及其下级组织。")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("org:detail", pk=union.pk)


# Users and roles ---------------------------------------------------------------------


def user_list(request: AuthedRequest) -> HttpResponse:
    _require(request, Perm.USERS_MANAGE, "您没有管理用户的权限。")
    # Only the roles inside the viewer's part of the tree: a teacher who also chairs a
    # union elsewhere does not reveal that to this chair.
    qs = queries.users(request.user).prefetch_related(
        Prefetch(
            "roles",
            queryset=visible(
                RoleAssignment.objects.select_related("union"), request.user, Perm.USERS_MANAGE
            ),
        )
    )
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    waiting = _with_may(request, money_grants.pending(request.user))
    page = paginate(request, qs, 50)
    paused = throttle.paused_accounts([u.username for u in page])
    for u in page:
        u.paused = u.username.lower() in paused
    return render(
        request,
        "org/users.html",
        {"page": page, "q": q, "query": urlencode({"q": q}) if q else "", "pending": waiting},
    )


def _managed_user(request: AuthedRequest, pk: int) -> User:
    user = queries.users(request.user).filter(pk=pk).first()
    if user is None:
        raise Http404("没有找到该用户，或您无权管理。")
    return user


_WAITS = (
    "该角色涉及审批或发放资金，已提交，须由上级工会主席或本工会另一位主席在"
    "「用户与角色」中确认后才生效。"
)


@require_http_methods(["GET", "POST"])
def user_create(request: AuthedRequest) -> HttpResponse:
    _require(request, Perm.USERS_MANAGE, "您没有管理用户的权限。")
    form = UserCreateForm(posted(request), viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已新建用户「{user.display_name}」。")
            if money_grants.pending(request.user, user).exists():
                messages.info(request, _WAITS)
            return redirect("org:user_detail", pk=user.pk)
    return render(request, "org/user_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def user_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    role_form = RoleForm(posted(request), viewer=request.user)
    if request.method == "POST" and role_form.is_valid():
        try:
            given = services.role_grant(actor=request.user, user=user, **role_form.cleaned_data)
        except ValidationError as exc:
            add_errors(role_form, exc)
        else:
            if isinstance(given, PendingGrant):
                messages.info(request, _WAITS)
            else:
                messages.success(request, "已授予角色。")
            return redirect("org:user_detail", pk=user.pk)
    member = getattr(user, "member", None)
    return render(
        request,
        "org/user_detail.html",
        {
            "subject": user,
            "paused_until": throttle.paused_until(throttle.account_key(user.username)),
            "member": member
            if member and can(request.user, Perm.ROSTER_VIEW, member.union)
            else None,
            "roles": queries.roles_of(request.user, user),
            "pending": _with_may(request, money_grants.pending(request.user, user)),
            "role_form": role_form,
            "password_form": PasswordForm(user=user),
            "history": visible(audit.history(user), request.user, Perm.AUDIT_VIEW)[:30],
        },
    )


def _with_may(request: AuthedRequest, qs: object) -> list[PendingGrant]:
    rows = list(qs)  # type: ignore[call-overload]
    for g in rows:
        g.may_confirm = money_grants.may_confirm(request.user, g)
        g.may_refuse = g.may_confirm or g.requested_by_id == request.user.pk
    return rows


@require_POST
def grant_decide(request: AuthedRequest, pk: int, decision: str) -> HttpResponse:
    """确认 or 不予授予 a money role another officer asked for."""
    grant = get_visible_or_404(
        PendingGrant.objects.select_related("user", "union"),
        request.user,
        Perm.USERS_MANAGE,
        pk=pk,
    )
    try:
        if decision == "confirm":
            assignment = money_grants.grant_confirm(actor=request.user, grant=grant)
            messages.success(request, f"已确认授予「{grant.user.display_name}」{assignment}。")
        elif decision == "refuse":
            money_grants.grant_refuse(actor=request.user, grant=grant)
            messages.success(request, f"已不予授予「{grant.user.display_name}」该角色。")
        else:
            raise Http404("没有这项操作。")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("org:user_detail", pk=grant.user_id)


@require_POST
def role_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    assignment = get_visible_or_404(
        RoleAssignment.objects.select_related("user", "union"),
        request.user,
        Perm.USERS_MANAGE,
        pk=pk,
    )
    try:
        services.role_revoke(actor=request.user, assignment=assignment)
        messages.success(request, f"已撤销{assignment}。")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    if RoleAssignment.objects.filter(user=assignment.user).exists():
        return redirect("org:user_detail", pk=assignment.user_id)
    return redirect("org:users")


@require_POST
def user_password(request: AuthedRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    form = PasswordForm(request.POST, user=user)
    if form.is_valid():
        services.user_set_password(
            actor=request.user, user=user, password=form.cleaned_data["password"]
        )
        messages.success(request, f"已为「{user.display_name}」设置新密码，账号已解锁。")
    else:
        messages.error(request, "；".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("org:user_detail", pk=user.pk)


@require_POST
def user_toggle(request: AuthedRequest, pk: int) -> HttpResponse:
    user = _managed_user(request, pk)
    try:
        services.user_update(actor=request.user, user=user, is_active=not user.is_active)
        messages.success(request, "已启用该账号。" if not user.is_active else "已停用该账号。")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("org:user_detail", pk=user.pk)


@require_http_methods(["GET", "POST"])
def my_password(request: AuthedRequest) -> HttpResponse:
    form = OwnPasswordForm(posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        user = services.user_set_password(
            actor=request.user, user=request.user, password=form.cleaned_data["password"]
        )
        # The service saved a fresh copy; the session must follow *its* hash, or the
        # user is logged out by their own password change.
        update_session_auth_hash(request, user)
        messages.success(request, "密码已修改。")
        return redirect("members:me")
    return render(request, "org/password.html", {"form": form})
