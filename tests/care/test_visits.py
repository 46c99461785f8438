"""慰问: caps warned or enforced, yearly sums per member and item, festival gifts as
goods only, policies inherited down the tree, batches for a whole branch, reversals,
permissions and the audit log."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.care import services
from gonghui.care.choices import (
    CapEnforcement,
    CapPreset,
    EntryState,
    Recipient,
    VisitForm,
    VisitReason,
    VisitVariant,
)
from gonghui.care.models import CarePolicy, Visit
from gonghui.care.queries import policy_for
from gonghui.care.report import facts
from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.common.reporting import Period
from gonghui.members import services as member_services
from gonghui.members.choices import ChangeKind
from gonghui.members.models import Member
from gonghui.org.models import Union

from .. import factories as f
from ..conftest import World

D = Decimal
DAY = dt.date(2025, 6, 1)
YEAR = Period.year(2025)

SICK, FESTIVAL, BIRTHDAY = VisitReason.SICK, VisitReason.FESTIVAL, VisitReason.BIRTHDAY
CASH, GOODS, VOUCHER = VisitForm.CASH, VisitForm.GOODS, VisitForm.VOUCHER
WARN, BLOCK = CapEnforcement.WARN, CapEnforcement.BLOCK


def text(exc: pytest.ExceptionInfo[Any]) -> str:
    return " ".join(exc.value.messages)


def written() -> tuple[int, int]:
    """What a refused write must leave as it was."""
    return Visit.objects.count(), AuditEntry.objects.count()


def set_policy(union: Union, preset: str = CapPreset.ANHUI, **kw: Any) -> CarePolicy:
    return services.policy_set(actor=None, union=union, preset=preset, **kw)


def visit(actor: Any, member: Member | None, amount: Any, **kw: Any) -> Visit:
    kw.setdefault("date", DAY)
    kw.setdefault("reason", SICK)
    kw.setdefault("form", CASH)
    return services.visit_create(actor=actor, member=member, amount=amount, **kw)


def retire(member: Member, on: dt.date = dt.date(2024, 7, 1)) -> Member:
    member_services.member_change(actor=None, member=member, kind=ChangeKind.RETIRE, date=on)
    return Member.objects.get(pk=member.pk)


# One visit ------------------------------------------------------------------------------


def test_a_visit_within_the_cap_is_saved_with_its_fields(world: World) -> None:
    v = visit(world.officer, world.member, "800", visitors=" 王主席 ", note="住院")
    v.refresh_from_db()
    assert (v.union, v.member, v.recipient, v.recipient_name) == (
        world.group,
        world.member,
        Recipient.MEMBER,
        "张三",
    )
    assert (v.reason, v.variant, v.form, v.amount) == (SICK, "", CASH, D("800.00"))
    assert (v.visitors, v.note, v.over_cap, v.cap_note) == ("王主席", "住院", False, "")
    assert (v.state, v.created_by) == (EntryState.VALID, world.officer)


def test_warn_policy_asks_to_confirm_then_saves_marked_over_cap(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=WARN)
    before = written()
    with pytest.raises(services.OverCap) as exc:
        visit(world.officer, world.member, 1200)
    warning = "本次生病住院慰问 1200 元，超过全年上限 1000 元（安徽现行标准）。"
    assert exc.value.warning == warning
    assert exc.value.message_dict == {"amount": [warning]}
    assert written() == before

    v = visit(world.officer, world.member, 1200, confirm_over_cap=True)
    v.refresh_from_db()
    assert v.over_cap is True
    assert v.cap_note == warning
    entry = audit.history(v).get()
    assert entry.summary == "登记生病住院慰问：张三，1200 元（超标准，已确认）"


def test_block_policy_refuses_even_when_confirmed_and_writes_nothing(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    before = written()
    for confirm in (False, True):
        with pytest.raises(ServiceError) as exc:
            visit(world.officer, world.member, 1200, confirm_over_cap=confirm)
        assert not isinstance(exc.value, services.OverCap)
        assert text(exc) == (
            "本次生病住院慰问 1200 元，超过全年上限 1000 元（安徽现行标准）。"
            "本工会规定超标不能保存，请调整金额。"
        )
    assert written() == before
    # At the cap itself it is saved.
    assert visit(world.officer, world.member, 1000).over_cap is False


def test_without_any_policy_the_default_anhui_preset_warns(world: World) -> None:
    assert not CarePolicy.objects.exists()
    with pytest.raises(services.OverCap, match="安徽现行"):
        visit(world.officer, world.member, 2001, reason=VisitReason.WEDDING)
    assert visit(world.officer, world.member, 2000, reason=VisitReason.WEDDING).over_cap is False


def test_overrides_of_the_union_apply_to_visits(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK, overrides={"birthday": 500})
    assert visit(world.officer, world.member, 450, reason=BIRTHDAY, form=GOODS).over_cap is False
    with pytest.raises(ServiceError, match="超过全年上限 500 元"):
        visit(world.officer, world.member, 51, reason=BIRTHDAY, form=GOODS)


def test_policy_set_refuses_bad_overrides_and_settings(world: World) -> None:
    with pytest.raises(ServiceError, match="没有「outing」这一项上限"):
        set_policy(world.school, overrides={"outing": 200})
    with pytest.raises(ServiceError, match="生日慰问不能为负数"):
        set_policy(world.school, overrides={"birthday": -1})
    with pytest.raises(ServiceError, match="低保标准不能为负数"):
        set_policy(world.school, dibao_line=D(-1))
    with pytest.raises(ServiceError, match="请选择一个标准"):
        set_policy(world.school, preset="shanghai")
    with pytest.raises(ServiceError, match="请选择超标时的处理方式"):
        set_policy(world.school, enforcement="ignore")
    for ratio in (D(0), D("5.01")):
        with pytest.raises(ServiceError, match=r"意外致困比例请填写 0\.01 到 5 之间的数"):
            set_policy(world.school, accident_ratio=ratio)
    assert not CarePolicy.objects.exists()


def test_only_the_chair_of_the_union_sets_its_policy(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.policy_set(actor=world.officer, union=world.school, preset=CapPreset.FUJIAN)
    with pytest.raises(PermissionDenied):
        services.policy_set(actor=world.other_officer, union=world.branch, preset=CapPreset.FUJIAN)
    with pytest.raises(PermissionDenied):
        services.policy_set(actor=world.outsider, union=world.school, preset=CapPreset.FUJIAN)
    assert not CarePolicy.objects.exists()
    services.policy_set(actor=world.officer, union=world.branch, preset=CapPreset.FUJIAN)
    services.policy_set(actor=world.chair, union=world.school, preset=CapPreset.NONE)
    assert CarePolicy.objects.count() == 2


# Yearly sums ----------------------------------------------------------------------------


def test_yearly_sum_of_the_same_item_across_visits(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    visit(world.officer, world.member, 300, reason=BIRTHDAY, form=GOODS, date=dt.date(2025, 2, 1))
    with pytest.raises(ServiceError) as exc:
        visit(world.officer, world.member, "0.01", reason=BIRTHDAY, form=GOODS)
    assert text(exc).startswith(
        "今年已发放生日慰问 300 元，加上本次 0.01 元共 300.01 元，超过全年上限 300 元"
    )
    # Another item and another member are not touched by it.
    visit(world.officer, world.member, 2000, reason=VisitReason.WEDDING)
    visit(world.chair, world.other_branch_member, 300, reason=BIRTHDAY, form=GOODS)


def test_sick_and_sick_with_surgery_share_one_yearly_cap(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)  # 住院 1000, 手术 2000
    visit(world.officer, world.member, 800, date=dt.date(2025, 3, 1))
    # 800 + 1200 = 2000: the surgery cap.
    visit(
        world.officer,
        world.member,
        1200,
        variant=VisitVariant.SURGERY,
        date=dt.date(2025, 4, 1),
    )
    with pytest.raises(ServiceError) as exc:
        visit(world.officer, world.member, 1, variant=VisitVariant.SURGERY)
    assert "今年已发放住院手术慰问 2000 元，加上本次 1 元共 2001 元，超过全年上限 2000 元" in text(
        exc
    )
    # A plain stay in a year that had surgery is held to the surgery cap too.
    with pytest.raises(ServiceError) as exc:
        visit(world.officer, world.member, 1)
    assert "今年已发放住院手术慰问 2000 元，加上本次 1 元共 2001 元，超过全年上限 2000 元" in text(
        exc
    )


def test_surgery_spending_counts_against_a_later_plain_stay(world: World) -> None:
    """After a stay with surgery, the year's 住院慰问 is held to the surgery cap (2000),
    not to the plain one (1000) it would already exceed."""
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    visit(world.officer, world.member, 1500, variant=VisitVariant.SURGERY, date=dt.date(2025, 3, 1))
    visit(world.officer, world.member, 500)  # 2000: within the surgery cap
    with pytest.raises(ServiceError, match="今年已发放住院手术慰问 2000 元"):
        visit(world.officer, world.member, 1)


def test_member_death_and_relative_death_have_separate_caps(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    reason = VisitReason.BEREAVEMENT
    relative = visit(world.officer, world.member, 1000, reason=reason, variant="")
    assert relative.variant == VisitVariant.RELATIVE_DEATH  # the default variant
    visit(world.officer, world.member, 2000, reason=reason, variant=VisitVariant.MEMBER_DEATH)
    with pytest.raises(ServiceError, match="直系亲属去世慰问 1000 元"):
        visit(world.officer, world.member, 1, reason=reason, variant=VisitVariant.RELATIVE_DEATH)
    with pytest.raises(ServiceError, match="会员去世慰问 2000 元"):
        visit(world.officer, world.member, 1, reason=reason, variant=VisitVariant.MEMBER_DEATH)


def test_a_visit_in_another_year_does_not_count(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    visit(world.officer, world.member, 900, date=dt.date(2024, 12, 31))
    visit(world.officer, world.member, 900, date=dt.date(2025, 1, 1))
    visit(world.officer, world.member, 900, date=dt.date(2026, 1, 1))
    with pytest.raises(ServiceError, match="今年已发放生病住院慰问 900 元"):
        visit(world.officer, world.member, 101, date=dt.date(2025, 12, 31))


def test_reversed_visits_do_not_count_towards_the_cap(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    wrong = visit(world.officer, world.member, 900)
    services.visit_reverse(actor=world.officer, visit=wrong, reason="金额登记错误")
    assert visit(world.officer, world.member, 1000).over_cap is False


def test_hardship_visits_are_capped_per_payment(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    for _ in range(3):
        visit(world.officer, world.member, 2000, reason=VisitReason.HARDSHIP)
    with pytest.raises(ServiceError, match="超过每次上限 2000 元"):
        visit(world.officer, world.member, "2000.01", reason=VisitReason.HARDSHIP)


def test_summer_and_other_visits_have_no_cap(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    assert visit(world.officer, world.member, 99999, reason=VisitReason.SUMMER).over_cap is False
    assert visit(world.officer, world.member, 99999, reason=VisitReason.OTHER).over_cap is False


def test_a_named_retiree_off_the_roster_is_capped_per_visit(world: World) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    kw = dict(union=world.school, recipient=Recipient.RETIREE, recipient_name="老周")
    first = visit(world.chair, None, 1000, **kw)
    assert (first.union, first.member, first.recipient_name) == (world.school, None, "老周")
    visit(world.chair, None, 1000, **kw)  # no roster entry to add up
    with pytest.raises(ServiceError, match="超过全年上限 1000 元"):
        visit(world.chair, None, 1001, **kw)


def test_a_retained_member_is_visited_as_a_retiree(world: World) -> None:
    old = retire(f.member(world.group, "丙"))
    assert visit(world.officer, old, 500).recipient == Recipient.RETIREE


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"reason": "party"}, "请选择慰问事由"),
        ({"form": "gold"}, "请选择慰问形式"),
        ({"amount": "-1"}, "金额不能为负数"),
        ({"amount": "abc"}, "金额请填写数字"),
        ({"date": dt.date.today() + dt.timedelta(days=1)}, "慰问日期不能晚于今天"),
        ({"recipient": Recipient.FAMILY}, "请填写家属姓名"),
        ({"member": None, "union": "school"}, "请填写被慰问的会员"),
        ({"member": None, "union": "school", "recipient_name": "某人"}, "在职会员请从名册中选择"),
        ({"member": None}, "请选择所属工会"),
    ],
)
def test_bad_visits_are_refused(world: World, kw: dict[str, Any], message: str) -> None:
    kw = {"member": world.member, "amount": 100, **kw}
    if kw.get("union") == "school":
        kw["union"] = world.school
    before = written()
    with pytest.raises(ServiceError, match=message):
        visit(world.chair, kw.pop("member"), kw.pop("amount"), **kw)
    assert written() == before


# Festival gifts -------------------------------------------------------------------------


@pytest.mark.parametrize("form", [CASH, VOUCHER])
def test_festival_cash_or_vouchers_are_refused_while_goods_only_is_on(
    world: World, form: str
) -> None:
    before = written()
    with pytest.raises(ServiceError, match="节日慰问只能发放实物") as exc:
        visit(world.officer, world.member, 200, reason=FESTIVAL, form=form)
    assert list(exc.value.message_dict) == ["form"]
    assert written() == before
    # Goods are fine; cash is fine for other reasons.
    visit(world.officer, world.member, 200, reason=FESTIVAL, form=GOODS, goods="月饼")
    visit(world.officer, world.member, 200, reason=VisitReason.SUMMER, form=form)


@pytest.mark.parametrize("form", [CASH, VOUCHER])
def test_festival_cash_or_vouchers_are_allowed_when_the_union_turns_the_rule_off(
    world: World, form: str
) -> None:
    set_policy(world.school, festival_goods_only=False)
    assert visit(world.officer, world.member, 200, reason=FESTIVAL, form=form).form == form


def test_a_branch_may_keep_the_goods_rule_that_the_school_turned_off(world: World) -> None:
    set_policy(world.school, festival_goods_only=False)
    set_policy(world.branch, festival_goods_only=True)
    with pytest.raises(ServiceError, match="节日慰问只能发放实物"):
        visit(world.officer, world.member, 200, reason=FESTIVAL, form=CASH)
    visit(world.chair, world.other_branch_member, 200, reason=FESTIVAL, form=CASH)


# Policy inheritance ---------------------------------------------------------------------


def test_a_policy_set_at_the_school_applies_below_and_a_branch_may_tighten_it(
    world: World,
) -> None:
    assert policy_for(world.group).source is None
    set_policy(world.school, CapPreset.FUJIAN, enforcement=BLOCK)  # 住院 500
    assert policy_for(world.group).source == world.school
    assert policy_for(world.group).preset == CapPreset.FUJIAN
    with pytest.raises(ServiceError, match="超过全年上限 500 元（福建标准）"):
        visit(world.officer, world.member, 600)

    # A branch may not loosen what the school set …
    with pytest.raises(ServiceError) as exc:
        set_policy(world.branch, CapPreset.ANHUI, enforcement=BLOCK)  # 住院 1000
    assert "生病住院慰问上限不能高于上级「第一中学工会」的 500 元" in text(exc)
    with pytest.raises(ServiceError, match="本工会不能改为只提醒"):
        set_policy(world.branch, CapPreset.FUJIAN, enforcement=WARN)
    # … but may tighten it, for itself only.
    set_policy(world.branch, CapPreset.FUJIAN, enforcement=BLOCK, overrides={"sick": 400})
    assert policy_for(world.group).source == world.branch
    assert policy_for(world.group).caps["sick"] == D(400)
    assert policy_for(world.other_group).caps["sick"] == D(500)
    visit(world.officer, world.member, 400)
    with pytest.raises(ServiceError, match="超过全年上限 400 元"):
        visit(world.officer, world.member, 1)
    visit(world.chair, world.other_branch_member, 500)

    services.policy_clear(actor=world.officer, union=world.branch)
    assert policy_for(world.group).source == world.school
    # Back under the school's 500: 400 already given, 101 more passes it.
    with pytest.raises(ServiceError, match=r"今年已发放生病住院慰问 400 元.*（福建标准）"):
        visit(world.officer, world.member, 101)


def test_a_tighter_policy_above_still_binds_a_looser_one_set_before_it(world: World) -> None:
    """The school tightens after a group set its own: each cap in force is the lowest
    on the path, a block above blocks below."""
    set_policy(world.group, CapPreset.ANHUI)  # 结婚 2000, warn
    set_policy(world.school, CapPreset.ANHUI_2018, enforcement=BLOCK)  # 结婚 600
    in_force = policy_for(world.group)
    assert (in_force.source, in_force.caps["wedding"], in_force.blocks) == (
        world.group,
        D(600),
        True,
    )
    with pytest.raises(ServiceError, match="超过全年上限 600 元"):
        visit(world.officer, world.member, 601, reason=VisitReason.WEDDING)


def test_a_group_policy_beats_the_branch_and_the_school(world: World) -> None:
    set_policy(world.school, CapPreset.NONE)
    set_policy(world.branch, CapPreset.FUJIAN)
    set_policy(world.group, CapPreset.ANHUI_2018, enforcement=BLOCK, overrides=FUJIAN_OR_LOWER)
    assert policy_for(world.group).preset == CapPreset.ANHUI_2018
    assert policy_for(world.branch).preset == CapPreset.FUJIAN
    assert policy_for(world.school).preset == CapPreset.NONE
    assert policy_for(world.district).source is None
    with pytest.raises(ServiceError, match="安徽2018年"):
        visit(world.officer, world.member, 601, reason=VisitReason.WEDDING)


#: Anhui 2018's caps brought down to Fujian's where Fujian's are lower.
FUJIAN_OR_LOWER = {"festival": 1300, "childbirth": 500, "sick": 500, "retirement": 500}


def test_policy_set_twice_updates_the_one_row_and_clear_is_audited(world: World) -> None:
    first = set_policy(world.school, CapPreset.FUJIAN, dibao_line=D(900))
    second = set_policy(world.school, CapPreset.ANHUI, enforcement=BLOCK)
    assert first.pk == second.pk
    row = CarePolicy.objects.get()
    assert (row.preset, row.enforcement, row.dibao_line) == (CapPreset.ANHUI, BLOCK, None)
    entries = list(audit.history(row).order_by("id").values_list("action", flat=True))
    assert entries == [AuditAction.CREATE, AuditAction.UPDATE]
    services.policy_clear(actor=world.chair, union=world.school)
    assert not CarePolicy.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.DELETE, union=world.school).count() == 1
    services.policy_clear(actor=world.chair, union=world.school)  # nothing to clear: no-op


def test_policy_clear_needs_the_approve_permission(world: World) -> None:
    set_policy(world.branch, CapPreset.FUJIAN)
    with pytest.raises(PermissionDenied):
        services.policy_clear(actor=world.other_officer, union=world.branch)
    assert CarePolicy.objects.filter(union=world.branch).exists()


# Batches --------------------------------------------------------------------------------


@pytest.fixture
def branch_people(world: World) -> dict[str, Member]:
    """高中部 (A1): 张三 (world), 甲 and 乙 in the group, 丁 at the branch itself, and 丙
    retired; 李四 is in 初中部 (A2) and never part of an A1 batch."""
    return {
        "甲": f.member(world.group, "甲"),
        "乙": f.member(world.group, "乙"),
        "丁": f.member(world.branch, "丁"),
        "丙": retire(f.member(world.group, "丙")),
    }


def batch_kw(world: World, **kw: Any) -> dict[str, Any]:
    return {
        "union": world.branch,
        "date": dt.date(2025, 9, 15),
        "reason": FESTIVAL,
        "form": GOODS,
        "amount": 200,
        **kw,
    }


def test_batch_preview_reaches_the_current_members_of_the_subtree(
    world: World, branch_people: dict[str, Member]
) -> None:
    preview = services.visit_batch_preview(actor=world.officer, **batch_kw(world))
    names = {m.name for m in preview.members}
    assert names == {"张三", "甲", "乙", "丁"}
    assert (preview.amount, preview.total, preview.over_cap, preview.skipped) == (
        D("200.00"),
        D("800.00"),
        [],
        0,
    )
    with_retirees = services.visit_batch_preview(
        actor=world.officer, **batch_kw(world), include_retirees=True
    )
    assert {m.name for m in with_retirees.members} == {"张三", "甲", "乙", "丁", "丙"}
    assert with_retirees.total == D("1000.00")
    assert Visit.objects.count() == 0  # a preview writes nothing


def test_batch_visits_each_member_and_a_retiree_as_retiree(
    world: World, branch_people: dict[str, Member]
) -> None:
    before = AuditEntry.objects.count()
    made = services.visit_batch(
        actor=world.officer, **batch_kw(world), goods="月饼", include_retirees=True
    )
    assert len(made) == 5
    rows = Visit.objects.order_by("recipient_name")
    assert {(v.recipient_name, v.recipient, v.union_id) for v in rows} == {
        ("张三", Recipient.MEMBER, world.group.pk),
        ("甲", Recipient.MEMBER, world.group.pk),
        ("乙", Recipient.MEMBER, world.group.pk),
        ("丁", Recipient.MEMBER, world.branch.pk),
        ("丙", Recipient.RETIREE, world.group.pk),
    }
    assert {(v.amount, v.goods, v.reason, v.form, v.over_cap) for v in rows} == {
        (D("200.00"), "月饼", FESTIVAL, GOODS, False)
    }
    assert len({v.batch for v in rows}) == 1 and rows[0].batch
    assert {v.created_by_id for v in rows} == {world.officer.pk}
    # One audit row for the whole batch, none per visit.
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.latest("id")
    assert entry.union == world.branch
    assert entry.summary == "批量登记节日慰问：高中部分工会 5 人，每人 200 元，共 1000 元"
    assert entry.changes["人数"] == ["", 5]
    assert entry.changes["批次"] == ["", rows[0].batch]
    assert entry.actor == world.officer


def test_batch_preview_lists_the_members_over_their_cap(
    world: World, branch_people: dict[str, Member]
) -> None:
    visit(world.officer, world.member, 1900, reason=FESTIVAL, form=GOODS, date=dt.date(2025, 2, 1))
    visit(
        world.officer,
        branch_people["甲"],
        1800,
        reason=FESTIVAL,
        form=GOODS,
        date=dt.date(2025, 5, 1),
    )
    # Last year's festival gifts do not count.
    visit(
        world.officer,
        branch_people["乙"],
        2000,
        reason=FESTIVAL,
        form=GOODS,
        date=dt.date(2024, 9, 1),
    )
    preview = services.visit_batch_preview(actor=world.officer, **batch_kw(world))
    assert [(m.name, w) for m, w in preview.over_cap] == [
        (
            "张三",
            "张三：今年已发放节日慰问 1900 元，加上本次 200 元共 2100 元，"
            "超过全年上限 2000 元（安徽现行标准）。",
        )
    ]


def test_batch_over_cap_under_warn_needs_confirmation(
    world: World, branch_people: dict[str, Member]
) -> None:
    set_policy(world.school, enforcement=WARN)
    visit(world.officer, world.member, 1900, reason=FESTIVAL, form=GOODS, date=dt.date(2025, 2, 1))
    before = written()
    with pytest.raises(services.OverCap) as exc:
        services.visit_batch(actor=world.officer, **batch_kw(world))
    assert exc.value.warning.startswith("张三共 1 人超过标准：张三：今年已发放节日慰问 1900 元")
    assert written() == before

    made = services.visit_batch(actor=world.officer, **batch_kw(world), confirm_over_cap=True)
    assert len(made) == 4
    over = {
        v.recipient_name: (v.over_cap, v.cap_note)
        for v in Visit.objects.filter(batch=made[0].batch)
    }
    assert over["张三"][0] is True
    assert over["张三"][1].startswith("张三：今年已发放节日慰问 1900 元")
    assert {name for name, (flag, _) in over.items() if not flag} == {"甲", "乙", "丁"}
    assert AuditEntry.objects.latest("id").changes["超标准人数"] == ["", 1]


def test_batch_over_cap_under_block_stops_the_whole_batch(
    world: World, branch_people: dict[str, Member]
) -> None:
    set_policy(world.school, enforcement=BLOCK)
    visit(world.officer, world.member, 1900, reason=FESTIVAL, form=GOODS, date=dt.date(2025, 2, 1))
    before = written()
    for confirm in (False, True):
        with pytest.raises(ServiceError) as exc:
            services.visit_batch(actor=world.officer, **batch_kw(world), confirm_over_cap=confirm)
        assert not isinstance(exc.value, services.OverCap)
        assert text(exc).startswith("张三共 1 人超过标准：")
        assert text(exc).endswith("本工会规定超标不能保存，请调整金额。")
    assert written() == before


def test_a_batch_saved_twice_on_the_same_day_skips_those_already_visited(
    world: World, branch_people: dict[str, Member]
) -> None:
    first = services.visit_batch(actor=world.officer, **batch_kw(world))
    assert len(first) == 4
    newcomer = f.member(world.group, "新人")
    preview = services.visit_batch_preview(actor=world.officer, **batch_kw(world))
    assert ([m.name for m in preview.members], preview.skipped) == (["新人"], 4)
    second = services.visit_batch(actor=world.officer, **batch_kw(world))
    assert [v.member for v in second] == [newcomer]
    assert Visit.objects.count() == 5
    before = written()
    with pytest.raises(ServiceError, match="这一天已为这些会员登记过同样的慰问"):
        services.visit_batch(actor=world.officer, **batch_kw(world))
    assert written() == before
    # Another day is another batch.
    assert (
        len(services.visit_batch(actor=world.officer, **batch_kw(world, date=dt.date(2025, 9, 16))))
        == 5
    )


def test_a_reversed_visit_is_not_skipped_by_the_next_batch(
    world: World, branch_people: dict[str, Member]
) -> None:
    first = services.visit_batch(actor=world.officer, **batch_kw(world))
    mine = next(v for v in first if v.member == world.member)
    services.visit_reverse(actor=world.officer, visit=mine, reason="漏发")
    again = services.visit_batch(actor=world.officer, **batch_kw(world))
    assert [v.member for v in again] == [world.member]


def test_batch_refuses_festival_cash_future_dates_and_empty_subtrees(
    world: World, branch_people: dict[str, Member]
) -> None:
    empty = f.union("空小组", "group", world.branch)
    before = written()
    with pytest.raises(ServiceError, match="节日慰问只能发放实物"):
        services.visit_batch(actor=world.officer, **batch_kw(world, form=CASH))
    with pytest.raises(ServiceError, match="慰问日期不能晚于今天"):
        services.visit_batch(
            actor=world.officer, **batch_kw(world, date=dt.date.today() + dt.timedelta(days=1))
        )
    with pytest.raises(ServiceError, match="金额必须大于 0"):
        services.visit_batch(actor=world.officer, **batch_kw(world, amount=0))
    with pytest.raises(ServiceError, match="「空小组」及其下级组织没有在册会员"):
        services.visit_batch(actor=world.officer, **batch_kw(world, union=empty))
    assert written() == before


def test_batch_excludes_members_who_left(world: World, branch_people: dict[str, Member]) -> None:
    member_services.member_change(
        actor=None, member=branch_people["甲"], kind=ChangeKind.WITHDRAW, date=dt.date(2025, 1, 1)
    )
    made = services.visit_batch(actor=world.officer, **batch_kw(world), include_retirees=True)
    assert {v.recipient_name for v in made} == {"张三", "乙", "丁", "丙"}


def test_batch_checks_each_member_against_the_policy_of_their_own_union(
    world: World, branch_people: dict[str, Member]
) -> None:
    set_policy(world.school, CapPreset.ANHUI, enforcement=WARN)  # 节日 2000
    set_policy(world.group, CapPreset.FUJIAN, enforcement=BLOCK)  # 节日 1300, blocks
    # One visit to 张三 (高中语文组) of 1500 is refused …
    with pytest.raises(ServiceError):
        visit(world.officer, world.member, 1500, reason=FESTIVAL, form=GOODS)
    # … and so must be the same amount in a batch for the branch.
    with pytest.raises(ServiceError):
        services.visit_batch(actor=world.officer, **batch_kw(world, amount=1500))


# Reversals ------------------------------------------------------------------------------


def test_visit_reverse_writes_a_negative_row_and_marks_the_original(world: World) -> None:
    original = visit(world.officer, world.member, 500, date=dt.date(2025, 3, 1))
    reversal = services.visit_reverse(actor=world.officer, visit=original, reason=" 重复登记 ")
    original.refresh_from_db()
    assert original.state == EntryState.REVERSED
    assert original.amount == D("500.00")  # the original is never edited
    reversal.refresh_from_db()
    assert reversal.state == EntryState.REVERSAL
    assert reversal.amount == D("-500.00")
    assert reversal.reverses == original
    assert (reversal.member, reversal.reason, reversal.union) == (world.member, SICK, world.group)
    assert reversal.date == dt.date.today()
    assert reversal.note == "冲销 2025-03-01 的记录：重复登记"
    entry = audit.history(original).latest("id")
    assert entry.changes == {"状态": ["有效", "已冲销"], "原因": ["", "重复登记"]}


def test_a_visit_cannot_be_reversed_twice_nor_a_reversal_reversed(world: World) -> None:
    original = visit(world.officer, world.member, 500)
    reversal = services.visit_reverse(actor=world.officer, visit=original, reason="错误")
    before = written()
    with pytest.raises(ServiceError, match="已经冲销过"):
        services.visit_reverse(actor=world.officer, visit=original, reason="再次")
    with pytest.raises(ServiceError, match="已经冲销过，或本身就是冲销记录"):
        services.visit_reverse(actor=world.officer, visit=reversal, reason="再次")
    assert written() == before


def test_a_reversal_needs_a_reason(world: World) -> None:
    original = visit(world.officer, world.member, 500)
    with pytest.raises(ServiceError, match="请说明冲销的原因"):
        services.visit_reverse(actor=world.officer, visit=original, reason="  ")
    original.refresh_from_db()
    assert original.state == EntryState.VALID


def test_the_report_figures_net_a_reversed_visit_out(world: World) -> None:
    keep = visit(world.officer, world.member, 300, date=dt.date(2025, 3, 1))
    wrong = visit(world.officer, world.member, 500, date=dt.date(2025, 4, 1))
    services.visit_reverse(actor=world.officer, visit=wrong, reason="重复登记")
    figures = {x.key: x.value for x in facts(union=world.school, period=YEAR)}
    assert figures["care.visits"] == 1
    assert figures["care.visits.amount"] == D("300.00")
    assert figures["care.visits.sick"] == 1
    # Nor does the reversal, dated today, show in this year's figures.
    now = Period.year(dt.date.today().year)
    figures_now = {x.key: x.value for x in facts(union=world.school, period=now)}
    assert figures_now["care.visits"] == 0
    assert figures_now["care.visits.amount"] == D("0.00")
    assert keep.state == EntryState.VALID


# Permissions and audit ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_officer", "outsider", "member_user"])
def test_officers_outside_the_members_subtree_may_not_record_visits(world: World, who: str) -> None:
    actor = getattr(world, who)
    before = written()
    with pytest.raises(PermissionDenied):
        visit(actor, world.member, 100)
    with pytest.raises(PermissionDenied):
        services.visit_batch(actor=actor, **batch_kw(world))
    with pytest.raises(PermissionDenied):
        services.visit_batch_preview(actor=actor, **batch_kw(world))
    assert written() == before


@pytest.mark.parametrize("who", ["other_officer", "outsider", "member_user"])
def test_they_may_not_reverse_a_visit_either(world: World, who: str) -> None:
    original = visit(world.officer, world.member, 100)
    before = written()
    with pytest.raises(PermissionDenied):
        services.visit_reverse(actor=getattr(world, who), visit=original, reason="试试")
    assert written() == before
    original.refresh_from_db()
    assert original.state == EntryState.VALID


def test_the_officer_of_a_branch_may_not_record_for_the_school_itself(world: World) -> None:
    with pytest.raises(PermissionDenied):
        visit(
            world.officer,
            None,
            100,
            union=world.school,
            recipient=Recipient.RETIREE,
            recipient_name="老周",
        )


def test_each_visit_is_audited_once(world: World) -> None:
    before = AuditEntry.objects.count()
    a = visit(world.officer, world.member, 100)
    b = visit(world.chair, world.other_branch_member, 200, reason=BIRTHDAY, form=GOODS)
    assert AuditEntry.objects.count() == before + 2
    entry = audit.history(a).get()
    assert (entry.action, entry.actor, entry.union) == (
        AuditAction.CREATE,
        world.officer,
        world.group,
    )
    assert entry.summary == "登记生病住院慰问：张三，100 元"
    assert entry.changes["金额（元）"] == ["", "100.00"]
    assert audit.history(b).get().summary == "登记生日慰问：李四，200 元"


def test_an_amount_too_large_for_the_ledger_is_refused_with_a_message(world: World) -> None:
    set_policy(world.school, CapPreset.NONE)
    with pytest.raises(ServiceError):
        visit(world.chair, world.member, 10**10, reason=VisitReason.OTHER)
