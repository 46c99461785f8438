"""The pages of the union tree, users and roles, and the login page."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from gonghui.common.models import AuditEntry
from gonghui.org.models import RoleAssignment, Union, User
from tests import factories as f
from tests.conftest import World, login

STRONG = "Qiang-mima-2024"


# Login --------------------------------------------------------------------------------


def test_login_form_asks_for_what_is_missing(db: None) -> None:
    response = Client().post(reverse("login"), {"username": "", "password": ""})
    errors = response.context["form"].errors
    assert errors["username"] == ["请填写登录名。"]
    assert errors["password"] == ["请填写密码。"]


def test_login_goes_to_the_page_asked_for(world: World) -> None:
    client = Client()
    asked = reverse("members:detail", args=[world.member.pk])
    first = client.get(asked)
    assert first.status_code == 302 and first["Location"].startswith(reverse("login"))
    response = client.post(
        first["Location"], {"username": "officer", "password": f.PASSWORD, "next": asked}
    )
    assert response["Location"] == asked


# Users and roles ----------------------------------------------------------------------


def test_chair_creates_a_user_grants_and_revokes_a_role(world: World) -> None:
    chair = login(world.chair)
    created = chair.post(
        reverse("org:user_create"),
        {
            "username": "wang_weiyuan",
            "full_name": "王委员",
            "password": STRONG,
            "union": world.school.pk,
            "role": "committee",
            "portfolio": "organisation",
        },
    )
    user = User.objects.get(username="wang_weiyuan")
    assert created["Location"] == reverse("org:user_detail", args=[user.pk])
    first = RoleAssignment.objects.get(user=user)
    assert (first.union, first.role, first.portfolio) == (
        world.school,
        "committee",
        "organisation",
    )
    assert Client().login(username="wang_weiyuan", password=STRONG)

    granted = chair.post(
        reverse("org:user_detail", args=[user.pk]),
        {"union": world.branch.pk, "role": "group_leader"},
    )
    assert granted.status_code == 302
    second = RoleAssignment.objects.get(user=user, union=world.branch)
    assert second.role == "group_leader"
    page = chair.get(reverse("org:user_detail", args=[user.pk])).content.decode()
    assert "高中部分工会 组长" in page and "第一中学工会 组织委员" in page

    revoked = chair.post(reverse("org:role_revoke", args=[second.pk]))
    assert revoked["Location"] == reverse("org:user_detail", args=[user.pk])
    assert list(RoleAssignment.objects.filter(user=user)) == [first]
    actions = list(
        AuditEntry.objects.filter(object_id=str(user.pk), actor=world.chair)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "grant", "grant", "revoke"]


def test_user_form_defaults_to_the_least_powerful_role(world: World) -> None:
    response = login(world.chair).get(reverse("org:user_create"))
    assert response.context["form"]["role"].value() == "member"


def test_weak_initial_password_is_refused_in_chinese(world: World) -> None:
    response = login(world.chair).post(
        reverse("org:user_create"),
        {
            "username": "ruomima",
            "full_name": "弱密码",
            "password": "12345678",
            "union": world.group.pk,
            "role": "member",
        },
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["password"])
    assert "密码" in errors and "数字" in errors
    assert not User.objects.filter(username="ruomima").exists()


def test_chair_cannot_revoke_their_own_chair_role_and_is_told_why(world: World) -> None:
    own = RoleAssignment.objects.get(user=world.chair)
    response = login(world.chair).post(reverse("org:role_revoke", args=[own.pk]), follow=True)
    assert "不能撤销自己的主席角色" in response.content.decode()
    assert RoleAssignment.objects.filter(pk=own.pk).exists()


def test_mismatched_password_reset_changes_nothing(world: World) -> None:
    before = User.objects.get(pk=world.member_user.pk).password
    response = login(world.chair).post(
        reverse("org:user_password", args=[world.member_user.pk]),
        {"password": STRONG, "password2": STRONG + "x"},
        follow=True,
    )
    assert "两次输入的密码不一致" in response.content.decode()
    assert User.objects.get(pk=world.member_user.pk).password == before


def test_member_changes_their_own_password(world: World) -> None:
    client = login(world.member_user)
    wrong = {"old_password": "not-my-password", "password": STRONG, "password2": STRONG}
    response = client.post(reverse("org:my_password"), wrong)
    assert response.context["form"].errors["old_password"] == ["当前密码不正确。"]
    assert not Client().login(username="member", password=STRONG)
    right = {**wrong, "old_password": f.PASSWORD}
    response = client.post(reverse("org:my_password"), right)
    assert response["Location"] == reverse("members:me")
    assert client.get(reverse("members:me")).status_code == 200, "still logged in"
    assert Client().login(username="member", password=STRONG)


# The union tree -----------------------------------------------------------------------


def test_tree_page_lists_the_viewers_subtree_indented(world: World) -> None:
    response = login(world.officer).get(reverse("org:list"))
    nodes = response.context["nodes"]
    assert [(n.name, n.indent) for n in nodes] == [("高中部分工会", 0), ("高中语文组", 1)]


def test_forbidden_placement_is_shown_next_to_the_parent(world: World) -> None:
    before = Union.objects.count()
    response = login(world.chair).post(
        reverse("org:create"), {"parent": world.group.pk, "name": "小小组", "kind": "group"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["parent"] == ["工会小组「高中语文组」下不能设工会小组。"]
    assert Union.objects.count() == before


def test_rename_shows_in_the_history_of_the_node(world: World) -> None:
    chair = login(world.chair)
    chair.post(
        reverse("org:edit", args=[world.branch.pk]),
        {"name": "高中部分工会（新）", "code": "YZGZ", "headcount": "60"},
    )
    page = chair.get(reverse("org:detail", args=[world.branch.pk])).content.decode()
    assert "高中部分工会 → 高中部分工会（新）" in page
    assert "职工人数" in page


def test_headcount_must_be_a_whole_number(world: World) -> None:
    response = login(world.chair).post(
        reverse("org:edit", args=[world.branch.pk]),
        {"name": "高中部分工会", "code": "YZGZ", "headcount": "-3"},
    )
    assert response.context["form"].errors["headcount"] == ["职工人数不能小于 0。"]


def test_a_union_name_cannot_break_out_of_the_confirm_dialog(world: World) -> None:
    """A branch officer names their group so that it would run script in the chair's
    browser when the chair clicks 归档; the name must stay inside the JS string."""
    import html
    import re

    from gonghui.org import services

    evil = "组');alert(document.domain);('"
    services.union_update(actor=world.officer, union=world.group, name=evil)
    page = login(world.chair).get(reverse("org:detail", args=[world.group.pk])).content.decode()
    # The question is a data attribute read by app.js (no inline handler under the CSP):
    # the name is only ever text there, and stays inside the attribute.
    assert "onsubmit=" not in page
    (question,) = re.findall(r'data-confirm="([^"]*)"', page)
    assert html.unescape(question) == f"归档「{evil}」及其全部下级组织？"
