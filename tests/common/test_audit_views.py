"""The audit log page: search, filters, the htmx fragment, and scope by school."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from gonghui.common.models import AuditEntry
from gonghui.members.services import member_update
from gonghui.org.services import user_update
from tests import factories as f
from tests.conftest import World, login

HX = {"HX-Request": "true"}


def shown(response: Any) -> list[str]:
    return [e.summary for e in response.context["page"]]


def test_full_page_without_htmx_and_rows_only_with_it(world: World) -> None:
    chair = login(world.chair)
    full = chair.get(reverse("common:audit"), {"q": "张三"})
    names = [t.name for t in full.templates]
    assert "common/audit.html" in names
    assert 'id="audit-rows"' in full.content.decode()

    fragment = chair.get(reverse("common:audit"), {"q": "张三"}, headers=HX)
    assert fragment.templates[0].name == "common/partials/audit_rows.html"
    html = fragment.content.decode()
    assert "<html" not in html and 'id="audit-rows"' not in html
    assert "登记会员「张三」" in html


def test_search_by_text_matches_summary_object_and_actor(world: World) -> None:
    user_update(actor=None, user=world.chair, full_name="王海燕")
    world.chair.refresh_from_db()
    member_update(actor=world.chair, member=world.member, department="教务处")
    chair = login(world.chair)
    by_object = shown(chair.get(reverse("common:audit"), {"q": "张三"}, headers=HX))
    assert "修改会员「张三」" in by_object and "登记会员「张三」（入会）" in by_object
    assert not any("李四" in s for s in by_object)
    by_actor = chair.get(reverse("common:audit"), {"q": "王海燕"}, headers=HX)
    assert "修改会员「张三」" in shown(by_actor)
    assert all(e.actor_name == "王海燕" or "王海燕" in e.summary for e in by_actor.context["page"])


def test_filter_by_action(world: World) -> None:
    member_update(actor=world.chair, member=world.member, department="教务处")
    response = login(world.chair).get(reverse("common:audit"), {"action": "update"}, headers=HX)
    actions = {e.action for e in response.context["page"]}
    assert actions == {"update"}
    assert "修改会员「张三」" in shown(response)


def test_filter_by_date_range_includes_both_ends(world: World) -> None:
    entry = AuditEntry.objects.get(summary="登记会员「李四」（入会）")
    tz = timezone.get_current_timezone()
    AuditEntry.objects.filter(pk=entry.pk).update(
        at=dt.datetime(2024, 3, 5, 23, 30, tzinfo=tz)  # late evening, Beijing time
    )
    chair = login(world.chair)
    day = chair.get(
        reverse("common:audit"), {"start": "2024-03-05", "end": "2024-03-05"}, headers=HX
    )
    assert shown(day) == ["登记会员「李四」（入会）"]
    after = chair.get(reverse("common:audit"), {"start": "2024-03-06"}, headers=HX)
    assert "登记会员「李四」（入会）" not in shown(after)
    assert "登记会员「张三」（入会）" in shown(after)


def test_bad_date_is_explained(world: World) -> None:
    response = login(world.chair).get(reverse("common:audit"), {"start": "2024-02-30"})
    assert "从不是有效的日期" in response.content.decode()


def test_chair_of_school_a_never_sees_school_b(world: World) -> None:
    member_update(actor=world.outsider, member=world.other_school_member, department="英语组")
    chair = login(world.chair)
    everything = chair.get(reverse("common:audit"), headers=HX)
    assert all(
        e.union is not None and e.union.path.startswith(world.school.path)
        for e in everything.context["page"]
    )
    assert not any("王五" in s for s in shown(everything))
    searched = chair.get(reverse("common:audit"), {"q": "王五"}, headers=HX)
    assert shown(searched) == []
    assert "没有符合条件的记录" in searched.content.decode()
    asked = chair.get(reverse("common:audit"), {"union": world.other_school.pk})
    assert asked.status_code == 404

    # And the other way round.
    outsider = shown(login(world.outsider).get(reverse("common:audit"), headers=HX))
    assert "修改会员「王五」" in outsider
    assert not any("张三" in s or "李四" in s for s in outsider)


def test_branch_officer_sees_only_the_branch(world: World) -> None:
    response = login(world.officer).get(reverse("common:audit"), headers=HX)
    assert {e.union_id for e in response.context["page"]} <= {world.branch.pk, world.group.pk}
    assert not any("李四" in s for s in shown(response))


def test_subtree_filter_of_the_log(world: World) -> None:
    response = login(world.chair).get(
        reverse("common:audit"), {"union": world.other_branch.pk}, headers=HX
    )
    assert shown(response)
    assert all(e.union.path.startswith(world.other_branch.path) for e in response.context["page"])


def test_entries_link_to_their_object(world: World) -> None:
    html = login(world.chair).get(reverse("common:audit"), {"q": "张三"}).content.decode()
    assert f'href="{reverse("members:detail", args=[world.member.pk])}"' in html


def test_member_edit_appears_in_the_log_with_old_and_new_values(world: World) -> None:
    officer = login(world.officer)
    officer.post(
        reverse("members:edit", args=[world.member.pk]),
        {"name": "张三", "union": world.group.pk, "employment_type": "contract"},
    )
    html = officer.get(reverse("common:audit"), {"action": "update"}, headers=HX).content.decode()
    assert "修改会员「张三」" in html
    assert "用工形式</b>：在编 → 合同制" in html


def test_members_and_group_leaders_have_no_audit_log(world: World) -> None:
    assert login(world.member_user).get(reverse("common:audit")).status_code == 403
    leader = f.user("zuzhang", world.group, "group_leader")
    assert login(leader).get(reverse("common:audit")).status_code == 403
