"""The roster's pages: the list and its htmx fragment, the member form, the membership
change form, revealing a personal number, and the history on the member page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.common.crypto import decrypt
from gonghui.common.models import AuditEntry
from gonghui.members import services as member_services
from gonghui.members.models import Member, MembershipChange
from gonghui.members.services import member_change
from gonghui.org.choices import Portfolio, Role
from tests import factories as f
from tests.conftest import World, login

HX = {"HX-Request": "true"}


def templates(response: Any) -> list[str]:
    return [t.name for t in response.templates if t.name]


def form_data(world: World, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "赵六",
        "union": world.group.pk,
        "employment_type": "staff",
        "join_kind": "join",
    }
    data.update(over)
    return data


def counts() -> tuple[int, int, int]:
    return Member.objects.count(), MembershipChange.objects.count(), AuditEntry.objects.count()


# The list: one view, two templates ----------------------------------------------------


def test_roster_list_is_a_full_page_without_htmx(world: World) -> None:
    response = login(world.officer).get(reverse("members:list"), {"q": "zs"})
    assert "members/list.html" in templates(response)
    html = response.content.decode()
    assert html.lstrip().startswith("<!doctype html>")
    assert 'id="roster-filters"' in html
    assert 'id="results"' in html


def test_roster_list_sends_only_the_results_fragment_to_htmx(world: World) -> None:
    response = login(world.officer).get(reverse("members:list"), {"q": "zs"}, headers=HX)
    assert templates(response)[0] == "members/partials/results.html"
    assert "members/list.html" not in templates(response)
    html = response.content.decode()
    assert "<html" not in html and 'id="roster-filters"' not in html
    assert "张三" in html and "共 1 人" in html


def test_boosted_htmx_request_gets_the_full_page(world: World) -> None:
    """hx-boost swaps the whole body, so it needs the page, not the fragment."""
    response = login(world.officer).get(
        reverse("members:list"), headers={**HX, "HX-Boosted": "true"}
    )
    assert "members/list.html" in templates(response)


def test_search_by_pinyin_initials_and_filters_by_subtree(world: World) -> None:
    chair = login(world.chair)
    found = chair.get(reverse("members:list"), {"q": "zs"}, headers=HX)
    assert [m.name for m in found.context["page"]] == ["张三"]
    subtree = chair.get(reverse("members:list"), {"union": world.other_branch.pk}, headers=HX)
    assert [m.name for m in subtree.context["page"]] == ["李四"]


def test_roster_shows_name_union_and_status_on_a_phone(world: World) -> None:
    """Columns marked hide-sm vanish below 720px; these three must not be among them."""
    html = login(world.officer).get(reverse("members:list")).content.decode()
    head = html[html.index("<thead>") : html.index("</thead>")]
    for label in ("姓名", "所属工会", "状态"):
        assert f"<th>{label}</th>" in head, label


def test_roster_empty_states_say_what_to_do(world: World) -> None:
    officer = login(world.officer)
    none_found = officer.get(reverse("members:list"), {"q": "没有这个人"}, headers=HX)
    assert "没有符合条件的会员" in none_found.content.decode()
    empty_branch = f.union("新分工会", "branch", world.school)
    chair = f.user("new_chair", empty_branch)
    page = login(chair).get(reverse("members:list")).content.decode()
    assert "名册里还没有会员" in page and reverse("members:create") in page


# Creating and editing -----------------------------------------------------------------


def test_invalid_id_number_shows_chinese_error_next_to_the_field_and_writes_nothing(
    world: World,
) -> None:
    before = counts()
    good = f.id_number()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = login(world.officer).post(reverse("members:create"), form_data(world, id_number=bad))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["id_number"] == ["身份证号校验位错误，请核对最后一位。"]
    html = response.content.decode()
    field = html[html.index('data-field="id_number"') :]
    field = field[: field.index("</div>")]
    assert "校验位错误" in field, "the error belongs next to the 身份证号 field"
    assert counts() == before


def test_required_fields_say_what_to_fill_in(world: World) -> None:
    response = login(world.officer).post(reverse("members:create"), {})
    errors = response.context["form"].errors
    assert errors["name"] == ["请填写姓名。"]
    assert errors["union"] == ["请选择所属工会。"]
    assert errors["employment_type"] == ["请选择用工形式。"]
    assert "这个字段是必填项" not in response.content.decode()


def test_bad_date_and_number_messages_name_the_field(world: World) -> None:
    response = login(world.officer).post(
        reverse("members:create"),
        form_data(world, join_date="2024-13-40", monthly_wage="很多", name="字" * 51),
    )
    errors = response.context["form"].errors
    assert errors["join_date"] == ["入会日期不是有效的日期，请按 2024-03-05 的格式填写。"]
    assert errors["monthly_wage"] == ["月工资（元）请填写数字。"]
    assert errors["name"] == ["姓名最多 50 个字（现为 51 个）。"]


def test_duplicate_id_number_names_the_union_where_the_person_is(world: World) -> None:
    number = f.id_number()
    f.member(world.other_school_group, "王五", id_number=number)
    before = counts()
    response = login(world.officer).post(
        reverse("members:create"), form_data(world, id_number=number)
    )
    assert response.status_code == 200
    message = response.context["form"].errors["id_number"][0]
    assert "第二中学工会" in message and "英语组" in message
    # The officer may not see that school's roster, so the person stays unnamed.
    assert "王五" not in message
    assert counts() == before


def test_create_registers_the_member_with_a_card_number(world: World) -> None:
    number = f.id_number(dt.date(1990, 5, 4), male=False)
    response = login(world.officer).post(
        reverse("members:create"), form_data(world, id_number=number, phone="13912345678")
    )
    member = Member.objects.get(name="赵六")
    assert response.status_code == 302
    assert response["Location"] == reverse("members:detail", args=[member.pk])
    assert decrypt(member.id_number_enc) == number
    assert member.birth_date == dt.date(1990, 5, 4) and member.gender == "F"
    assert member.card_no.startswith("YZ-")
    assert member.changes.get().kind == "join"


def test_editing_with_blank_id_number_keeps_the_stored_one(world: World) -> None:
    member = world.member
    stored = decrypt(member.id_number_enc)
    edit_url = reverse("members:edit", args=[member.pk])
    page = login(world.officer).get(edit_url).content.decode()
    assert stored not in page, "the edit form must not carry the full number"
    assert member.id_number_masked in page
    response = login(world.officer).post(
        edit_url,
        {
            "name": "张三",
            "union": world.group.pk,
            "employment_type": "staff",
            "id_number": "",
            "phone": "",
            "department": "教务处",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert decrypt(member.id_number_enc) == stored
    assert member.phone_masked == world.member.phone_masked
    assert member.department == "教务处"
    assert member.birth_date is not None


# Membership changes -------------------------------------------------------------------


def offered(client: Client, member: Member) -> list[str]:
    response = client.get(reverse("members:detail", args=[member.pk]))
    return [value for value, _ in response.context["change_form"].fields["kind"].choices if value]


def test_change_form_offers_only_transitions_allowed_from_the_current_status(
    world: World,
) -> None:
    officer = login(world.officer)
    assert offered(officer, world.member) == ["transfer_out", "retire", "withdraw", "death"]
    member_change(actor=None, member=world.member, kind="retire", date=dt.date.today())
    assert offered(officer, world.member) == ["restore", "transfer_out", "withdraw", "death"]
    member_change(actor=None, member=world.member, kind="death", date=dt.date.today())
    page = officer.get(reverse("members:detail", args=[world.member.pk])).content.decode()
    assert "当前状态下无可办理的变动" in page


def test_change_not_allowed_from_the_status_is_refused_with_the_reason(world: World) -> None:
    before = counts()
    response = login(world.officer).post(
        reverse("members:change", args=[world.member.pk]),
        {"kind": "restore", "date": dt.date.today().isoformat()},
    )
    assert response.status_code == 400
    assert response.context["change_form"].errors["kind"] == ["请从列表中选择变动类型。"]
    assert counts() == before


def test_future_change_date_is_refused_next_to_the_date(world: World) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    response = login(world.officer).post(
        reverse("members:change", args=[world.member.pk]),
        {"kind": "retire", "date": tomorrow.isoformat()},
    )
    assert response.status_code == 400
    assert response.context["change_form"].errors["date"] == ["变动日期不能晚于今天。"]
    world.member.refresh_from_db()
    assert world.member.status == "active"


def change(client: Client, member: Member, **data: str) -> Any:
    return client.post(
        reverse("members:change", args=[member.pk]), {"date": dt.date.today().isoformat(), **data}
    )


def test_the_change_type_has_no_default_and_must_be_chosen(world: World) -> None:
    officer = login(world.officer)
    page = officer.get(reverse("members:detail", args=[world.member.pk])).content.decode()
    assert '<option value="" selected>请选择</option>' in page
    before = counts()

    response = change(officer, world.member)

    assert response.status_code == 400
    assert response.context["change_form"].errors["kind"] == ["请选择变动类型。"]
    assert counts() == before


def test_transfer_out_without_a_destination_is_refused(world: World) -> None:
    before = counts()
    response = change(login(world.officer), world.member, kind="transfer_out", confirm="1")
    assert response.status_code == 400
    assert response.context["change_form"].errors["other_org"] == [
        "转出须写明去向：选择接收的工会，或填写系统外的接收单位。"
    ]
    assert counts() == before
    world.member.refresh_from_db()
    assert world.member.status == "active"


def test_withdrawal_without_a_reason_is_refused(world: World) -> None:
    before = counts()
    response = change(login(world.officer), world.member, kind="withdraw", confirm="1")
    assert response.status_code == 400
    assert response.context["change_form"].errors["note"] == [
        "退会须填写原因，如「本人申请退会」。"
    ]
    assert counts() == before


def test_transfer_out_to_a_union_of_the_tree_asks_before_it_saves(world: World) -> None:
    chair = login(world.chair)
    before = counts()
    asked = {"kind": "transfer_out", "to_union": str(world.other_group.pk)}

    response = change(chair, world.member, **asked)

    # The first post only asks; nothing is written.
    assert response.status_code == 200
    html = response.content.decode()
    trail = "区教育工会 / 第一中学工会 / 初中部分工会 / 初中数学组"
    assert f"确认将 张三 转出到「{trail}」？" in html
    assert 'name="confirm" value="1"' in html and ">确认</button>" in html
    assert counts() == before
    # 返回修改 shows the form again, still without saving.
    back = change(chair, world.member, **asked, confirm="1", edit="1")
    assert back.status_code == 200 and "确认将" not in back.content.decode()
    assert 'name="confirm"' not in back.content.decode()
    assert counts() == before

    done = change(chair, world.member, **asked, confirm="1")

    assert done.status_code == 302
    world.member.refresh_from_db()
    assert world.member.status == "transferred_out"
    assert world.member.changes.latest("id").other_org == trail


def test_transfer_out_to_a_unit_outside_the_system_and_a_withdrawal_with_its_reason(
    world: World,
) -> None:
    chair = login(world.chair)
    asked = {"kind": "transfer_out", "other_org": "市第三中学工会"}
    assert "确认将 张三 转出到「市第三中学工会」？" in change(chair, world.member, **asked).text
    assert change(chair, world.member, **asked, confirm="1").status_code == 302
    assert world.member.changes.latest("id").other_org == "市第三中学工会"

    other = world.other_branch_member
    reason = {"kind": "withdraw", "note": "本人申请退会"}
    assert "确认为 李四 办理「退会」？" in change(chair, other, **reason).text
    assert change(chair, other, **reason, confirm="1").status_code == 302
    other.refresh_from_db()
    assert other.status == "withdrawn"
    assert other.changes.latest("id").note == "本人申请退会"


def test_a_destination_is_only_for_a_transfer_out_and_given_once(world: World) -> None:
    chair = login(world.chair)
    both = change(
        chair,
        world.member,
        kind="transfer_out",
        to_union=str(world.other_group.pk),
        other_org="市第三中学工会",
    )
    assert both.status_code == 400
    assert "去向只填一处" in both.context["change_form"].errors["other_org"][0]
    retire = change(chair, world.member, kind="retire", to_union=str(world.other_group.pk))
    assert retire.context["change_form"].errors["to_union"] == ["只有转出时才选择接收的工会。"]


# Revealing personal numbers -----------------------------------------------------------


def reveal_url(member: Member, field: str = "id_number") -> str:
    return reverse("members:reveal", args=[member.pk, field])


def test_reveal_is_post_only(world: World) -> None:
    response = login(world.chair).get(reveal_url(world.member))
    assert response.status_code == 405
    assert not AuditEntry.objects.filter(action="view_pii").exists()


@pytest.mark.parametrize("portfolio", [Portfolio.ORGANISATION])
def test_organisation_committee_member_sees_the_full_number_and_is_audited(
    world: World, portfolio: str
) -> None:
    zuzhi = f.user("zuzhi", world.school, Role.COMMITTEE, portfolio=portfolio)
    response = login(zuzhi).post(reveal_url(world.member), headers=HX)
    assert response.status_code == 200
    assert templates(response) == ["members/partials/revealed.html"]
    assert decrypt(world.member.id_number_enc) in response.content.decode()
    entry = AuditEntry.objects.get(action="view_pii")
    assert entry.actor == zuzhi
    assert entry.object_id == str(world.member.pk)
    assert entry.summary == "查看「张三」的完整身份证号"
    assert decrypt(world.member.id_number_enc) not in str(entry.changes)


def test_chair_reveals_the_phone(world: World) -> None:
    response = login(world.chair).post(reveal_url(world.member, "phone"), headers=HX)
    assert decrypt(world.member.phone_enc) in response.content.decode()
    assert AuditEntry.objects.filter(action="view_pii", actor=world.chair).count() == 1


@pytest.mark.parametrize(
    "who",
    ["committee_without_portfolio", "group_leader", "member", "other_officer", "outsider"],
)
def test_reveal_is_404_without_pii_permission_and_leaves_no_audit(world: World, who: str) -> None:
    users = {
        "committee_without_portfolio": lambda: f.user("weiyuan", world.school, Role.COMMITTEE),
        "group_leader": lambda: f.user("zuzhang", world.group, Role.GROUP_LEADER),
        "member": lambda: world.member_user,
        "other_officer": lambda: world.other_officer,
        "outsider": lambda: world.outsider,
    }
    client = login(users[who]())
    before = AuditEntry.objects.count()
    assert client.post(reveal_url(world.member), headers=HX).status_code == 404
    assert client.post(reveal_url(world.member, "phone"), headers=HX).status_code == 404
    assert AuditEntry.objects.count() == before


def test_reveal_of_another_field_or_member_is_404(world: World) -> None:
    chair = login(world.chair)
    assert chair.post(reveal_url(world.member, "password")).status_code == 404
    assert chair.post(reveal_url(world.other_school_member)).status_code == 404
    gone = reverse("members:reveal", args=[999999, "id_number"])
    assert chair.post(gone).status_code == 404
    assert not AuditEntry.objects.filter(action="view_pii").exists()


def test_member_page_offers_reveal_only_to_pii_roles(world: World) -> None:
    url = reverse("members:detail", args=[world.member.pk])
    assert "显示完整" in login(world.chair).get(url).content.decode()
    weiyuan = f.user("weiyuan", world.school, Role.COMMITTEE)
    page = login(weiyuan).get(url).content.decode()
    assert "显示完整" not in page
    assert world.member.id_number_masked in page


# History and self-service -------------------------------------------------------------


def test_member_page_shows_the_history_to_editors_only(world: World) -> None:
    officer = login(world.officer)
    officer.post(
        reverse("members:edit", args=[world.member.pk]),
        {"name": "张三", "union": world.group.pk, "employment_type": "contract"},
    )
    url = reverse("members:detail", args=[world.member.pk])
    page = officer.get(url).content.decode()
    assert "修改记录" in page
    assert "用工形式" in page and "在编 → 合同制" in page
    leader = f.user("zuzhang", world.group, Role.GROUP_LEADER)
    viewer_page = login(leader).get(url)
    assert viewer_page.status_code == 200
    assert viewer_page.context["history"] is None
    assert "修改记录" not in viewer_page.content.decode()


def test_member_without_a_role_lands_on_self_service(world: World) -> None:
    member = login(world.member_user)
    response = member.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("members:me")
    page = member.get(reverse("members:me")).content.decode()
    assert "张三" in page and world.member.id_number_masked in page
    assert decrypt(world.member.id_number_enc) not in page


def test_reveal_works_without_javascript(world: World) -> None:
    """A plain form POST (no htmx) shows the member page with the full number in place."""
    from gonghui.common.crypto import decrypt

    response = login(world.chair).post(reveal_url(world.member))
    assert response.status_code == 200
    assert templates(response)[0] == "members/detail.html"
    full = decrypt(world.member.id_number_enc)
    assert f'<span class="revealed">{full}</span>' in response.content.decode()
    assert AuditEntry.objects.filter(action="view_pii", actor=world.chair).count() == 1


def test_a_chair_opens_a_self_service_login_for_a_member(world: World) -> None:
    member = f.member(world.group, "孙自助")
    client = login(world.officer)
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "开通登录账号" in page
    response = client.post(
        reverse("members:login", args=[member.pk]),
        {"username": "sunzizhu", "password": "Self-service-2024"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.user is not None and member.user.username == "sunzizhu"
    me = Client()
    assert me.login(username="sunzizhu", password="Self-service-2024")
    assert "孙自助" in me.get(reverse("members:me")).content.decode()
    assert me.get(reverse("members:list")).status_code == 403
    again = client.post(
        reverse("members:login", args=[member.pk]),
        {"username": "sunzizhu2", "password": "Self-service-2024"},
    )
    assert "已有登录账号" in again.content.decode()


def test_the_plain_roster_is_who_is_on_it_now_and_says_so(world: World) -> None:
    retired = f.member(world.group, "退休者")
    member_services.member_change(actor=None, member=retired, kind="retire", date=dt.date.today())
    client = login(world.officer)
    response = client.get(reverse("members:list"))
    names = {m.name for m in response.context["page"]}
    assert names == {"张三"}
    assert response.context["form"]["status"].value() == ["active"]
    everyone = client.get(reverse("members:list"), {"q": ""})
    assert {m.name for m in everyone.context["page"]} == {"张三", "退休者"}
    page2 = client.get(reverse("members:list"), {"page": "1"})
    assert {m.name for m in page2.context["page"]} == {"张三"}


def test_as_of_works_only_with_the_on_roster_status(world: World) -> None:
    response = login(world.chair).get(
        reverse("members:list"), {"as_of": "2024-12-31", "status": ["active", "retained"]}
    )
    assert "请只勾选状态「在册」" in response.context["form"].errors["as_of"][0]
