from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from .scope import Perm, grants


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The areas of the workbench this user may enter, for the top navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    g = grants(user)
    items: list[tuple[str, str, str]] = []
    if g.any(Perm.REPORT_VIEW) or g.any(Perm.ROSTER_VIEW):
        items.append(("dashboard", "工作台", reverse("dashboard")))
    if g.any(Perm.ROSTER_VIEW):
        items.append(("members", "会员", reverse("members:list")))
    if g.any(Perm.CARE_VIEW):
        items.append(("care", "关爱", reverse("care:home")))
    if g.any(Perm.ACTIVITY_VIEW):
        items.append(("activities", "活动", reverse("activities:list")))
    if g.any(Perm.HONOUR_VIEW):
        items.append(("honours", "荣誉", reverse("honours:list")))
    if g.any(Perm.ORG_VIEW):
        items.append(("org", "组织", reverse("org:list")))
    if g.any(Perm.USERS_MANAGE):
        items.append(("users", "用户与角色", reverse("org:users")))
    if g.any(Perm.REPORT_VIEW):
        items.append(("reports", "工作报告", reverse("reports:figures")))
    if any(
        g.any(p)
        for p in (Perm.IMPORT, Perm.ORG_EDIT, Perm.CARE_EDIT, Perm.ACTIVITY_EDIT, Perm.HONOUR_EDIT)
    ):
        items.append(("imports", "导入记录", reverse("imports:list")))
    if g.any(Perm.AUDIT_VIEW):
        items.append(("audit", "操作日志", reverse("common:audit")))
    # Every login is a member too: their own pages stand in the menu for all, so a
    # member's ☰ holds more than one item and an officer reaches their own sign-ups.
    items.append(("me", "我的", reverse("members:me")))
    items.append(("mine", "我的活动", reverse("activities:mine")))
    items.append(("care-me", "我的关爱", reverse("care:me")))
    return {"nav": _with_active(request, items), "grants": g}


def _with_active(
    request: HttpRequest, items: list[tuple[str, str, str]]
) -> list[tuple[str, str, str, bool]]:
    """Each item with whether it is the page shown: the item whose own page it is (我的,
    我的关爱 inside 会员 and 关爱), else the item of the page's area (its namespace)."""
    exact = {key for key, _, url in items if request.path == url}
    match = request.resolver_match
    if not exact and match is not None:
        exact = {key for key, _, _ in items if key in (match.namespace, match.url_name)}
    return [(key, label, url, key in exact) for key, label, url in items]
