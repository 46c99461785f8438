"""荣誉: reached from the top navigation, and edited by the union it belongs to."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditEntry
from gonghui.honours import services
from gonghui.honours.models import Honour
from gonghui.org.choices import Role
from tests import factories as f
from tests.care import records as care
from tests.conftest import World, login

TODAY = dt.date.today()


def honour(w: World) -> Honour:
    """张三's honour: it belongs to his group, in branch A1."""
    return services.honour_create(
        actor=None,
        kind="individual",
        member=w.member,
        title="区优秀班主任",
        level="county",
        awarded_by="区教育局",
        date=TODAY - dt.timedelta(days=30),
    )


def form(w: World, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": "individual",
        "member": care.label(w),
        "title": "市优秀班主任",
        "level": "city",
        "awarded_by": "市教育局",
        "date": (TODAY - dt.timedelta(days=30)).isoformat(),
    }
    data.update(over)
    return data


def nav_labels(user: object) -> list[str]:
    response = login(user).get(reverse("members:me"))  # type: ignore[arg-type]
    return [label for _, label, _, _ in response.context["nav"]]


def test_the_top_navigation_leads_to_honours_for_those_who_may_view_them(world: World) -> None:
    assert "荣誉" in nav_labels(world.chair)
    assert "荣誉" in nav_labels(world.officer)
    # A 组长 keeps the group's care and activities, not its honours; a member has none.
    leader = f.user("zuzhang", world.group, Role.GROUP_LEADER)
    assert "荣誉" not in nav_labels(leader)
    assert "荣誉" not in nav_labels(world.member_user)
    page = login(world.officer).get(reverse("honours:list")).content.decode()
    assert f'href="{reverse("honours:list")}" class="active" aria-current="page"' in page


def test_the_owner_unions_officer_edits_an_honour_and_the_log_keeps_old_and_new(
    world: World,
) -> None:
    h = honour(world)
    client = login(world.officer)
    url = reverse("honours:update", args=[h.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"]["title"].value() == "区优秀班主任"
    assert care.label(world) in page.content.decode()  # the member box names 张三

    response = client.post(url, form(world))

    assert response.status_code == 302
    h.refresh_from_db()
    assert (h.title, h.level, h.awarded_by) == ("市优秀班主任", "city", "市教育局")
    entry = AuditEntry.objects.get(action="update", content_type__model="honour")
    assert entry.actor == world.officer
    assert entry.union == world.group
    assert entry.changes == {
        "荣誉称号": ["区优秀班主任", "市优秀班主任"],
        "级别": ["区县级", "市级"],
        "授予单位": ["区教育局", "市教育局"],
    }


def test_the_list_offers_editing_only_where_the_viewer_may_edit(world: World) -> None:
    h = honour(world)
    url = reverse("honours:update", args=[h.pk])
    assert url in login(world.officer).get(reverse("honours:list")).content.decode()
    district_viewer = f.user("shangji", world.school, Role.VIEWER)
    page = login(district_viewer).get(reverse("honours:list")).content.decode()
    assert "区优秀班主任" in page and url not in page


def test_another_branchs_officer_gets_404_and_changes_nothing(world: World) -> None:
    h = honour(world)
    client = login(world.other_officer)
    url = reverse("honours:update", args=[h.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, form(world)).status_code == 404
    h.refresh_from_db()
    assert h.title == "区优秀班主任"
    assert not AuditEntry.objects.filter(action="update", content_type__model="honour").exists()


def test_update_follows_the_rules_of_create(world: World) -> None:
    h = honour(world)
    with pytest.raises(ServiceError):
        services.honour_update(actor=world.officer, honour=h, title=" ")
    with pytest.raises(ServiceError):
        services.honour_update(actor=world.officer, honour=h, date=TODAY + dt.timedelta(days=1))
    with pytest.raises(ServiceError):  # a collective needs its union and its name
        services.honour_update(
            actor=world.officer, honour=h, kind="collective", member=None, recipient=""
        )
    # Moved to another branch's member: the officer of branch A1 may not place it there.
    with pytest.raises(PermissionDenied):
        services.honour_update(actor=world.officer, honour=h, member=world.other_branch_member)
    with pytest.raises(PermissionDenied):
        services.honour_update(actor=world.other_officer, honour=h, title="别人的荣誉")
    h.refresh_from_db()
    assert h.title == "区优秀班主任" and h.member == world.member


def test_an_individual_honour_becomes_a_collective_one_of_a_union_in_reach(world: World) -> None:
    h = honour(world)
    services.honour_update(
        actor=world.officer,
        honour=h,
        kind="collective",
        member=None,
        recipient="高中语文组",
        union=world.branch,
    )
    h.refresh_from_db()
    assert (h.kind, h.member, h.recipient, h.union) == (
        "collective",
        None,
        "高中语文组",
        world.branch,
    )
    entry = AuditEntry.objects.get(action="update", content_type__model="honour")
    assert entry.changes["类型"] == ["个人", "集体"]
    assert entry.changes["所属工会"] == ["高中语文组", "高中部分工会"]
