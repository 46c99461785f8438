"""Roster writes: derived fields, duplicates across the tree, card numbers, the
membership state machine, personal numbers and denied writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.members import services
from gonghui.members.choices import (
    STATUS_AFTER,
    TRANSITIONS,
    ChangeKind,
    EmploymentType,
    MemberStatus,
)
from gonghui.members.models import Member, MembershipChange
from gonghui.org import services as org_services
from gonghui.org.choices import Portfolio, Role, UnionKind
from gonghui.org.models import Union

from .. import factories as f
from ..conftest import World

TODAY = dt.date.today()


def _errors(exc: pytest.ExceptionInfo[ServiceError]) -> dict[str, str]:
    return {k: " ".join(v) for k, v in exc.value.message_dict.items()}


def _state() -> tuple[Any, ...]:
    """Everything a denied write must leave as it was."""
    return (
        list(Member.objects.order_by("pk").values()),
        list(MembershipChange.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
        list(Union.objects.order_by("pk").values_list("card_seq", flat=True)),
    )


# Creating ------------------------------------------------------------------------------


def test_birth_date_and_gender_come_from_the_id_number(world: World) -> None:
    number = f.id_number(birth=dt.date(1990, 2, 28), male=False)
    member = services.member_create(
        actor=world.officer, union=world.group, name=" 李 娜 ", id_number=number.lower()
    )
    assert member.birth_date == dt.date(1990, 2, 28)
    assert member.gender == "F"
    assert member.name == "李 娜"
    assert member.id_number_masked == number[:6] + "********" + number[-4:]
    assert member.status == MemberStatus.ACTIVE
    assert member.join_date == TODAY
    change = member.changes.get()
    assert (change.kind, change.date, change.union) == (ChangeKind.JOIN, TODAY, world.group)
    assert change.created_by == world.officer
    entry = audit.history(member).get(action=AuditAction.CREATE)
    assert entry.changes["性别"] == ["", "女"]
    assert entry.changes["出生日期"] == ["", "1990-02-28"]


def test_mismatched_birth_date_and_gender_are_refused(world: World) -> None:
    number = f.id_number(birth=dt.date(1985, 6, 15), male=True)
    with pytest.raises(ServiceError) as exc:
        f.member(world.group, "王五", id_number=number, birth_date=dt.date(1985, 6, 16), gender="F")
    assert _errors(exc) == {
        "birth_date": "出生日期与身份证号不符（身份证号中为 1985-06-15），留空即可自动填写。",
        "gender": "性别与身份证号不符（身份证号显示为男）。",
    }


def test_without_an_id_number_the_given_birth_date_and_gender_stay(world: World) -> None:
    member = f.member(
        world.group, "外籍教师", id_number="", birth_date=dt.date(1980, 1, 1), gender="M"
    )
    assert (member.birth_date, member.gender, member.id_number_masked) == (
        dt.date(1980, 1, 1),
        "M",
        "",
    )


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"name": "  "}, {"name": "请填写姓名。"}),
        ({"id_number": "11010519491231002"}, {"id_number": "只有 17 位"}),
        ({"phone": "010-12345678"}, {"phone": "不是有效的手机号"}),
        ({"ethnicity": "火星族"}, {"ethnicity": "民族「火星族」不在可选范围内。"}),
        ({"employment_type": "freelance"}, {"employment_type": "不在可选范围内"}),
        ({"monthly_wage": Decimal("-1")}, {"monthly_wage": "月工资不能为负数。"}),
        ({"join_date": TODAY + dt.timedelta(days=1)}, {"join_date": "入会日期不能晚于今天。"}),
        (
            {
                "id_number": f.id_number(birth=dt.date(1990, 1, 1)),
                "work_start_date": dt.date(1989, 1, 1),
            },
            {"work_start_date": "参加工作日期早于出生日期，请核对。"},
        ),
    ],
)
def test_bad_fields_are_refused_with_chinese_messages(
    world: World, fields: dict[str, Any], errors: dict[str, str]
) -> None:
    kw: dict[str, Any] = {"name": "测试", **fields}
    before = _state()
    with pytest.raises(ServiceError) as exc:
        f.member(world.group, **kw)
    found = _errors(exc)
    assert found.keys() == errors.keys()
    for key, text in errors.items():
        assert text in found[key]
    assert _state() == before


def test_members_cannot_belong_to_a_federation_or_an_archived_node(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        f.member(world.district, "张三丰")
    assert _errors(exc) == {
        "union": "「区教育工会」是总工会，会员应登记在基层工会、分工会或工会小组。"
    }
    empty = f.union("临时组", UnionKind.GROUP, world.branch)
    org_services.union_archive(actor=None, union=empty)
    with pytest.raises(ServiceError) as exc:
        f.member(Union.objects.get(pk=empty.pk), "张三丰")
    assert _errors(exc) == {"union": "「临时组」已归档，不能登记会员。"}


# Duplicates ----------------------------------------------------------------------------


@pytest.fixture
def wang(world: World) -> tuple[Member, str, str]:
    """A member of the other school, with known numbers."""
    number, phone = f.id_number(), "13700001111"
    member = f.member(world.other_school_group, "王芳", id_number=number, phone=phone)
    return member, number, phone


def test_duplicate_id_number_anywhere_is_refused_without_naming_a_hidden_member(
    world: World, wang: tuple[Member, str, str]
) -> None:
    _, number, phone = wang
    with pytest.raises(ServiceError) as exc:
        services.member_create(
            actor=world.chair,
            union=world.group,
            name="王芳",
            id_number=number,
            phone=f"+86 {phone}",
        )
    errors = _errors(exc)
    where = "「区教育工会 / 第二中学工会 / 英语组」的一位在册会员"
    assert errors["id_number"].startswith(f"该身份证号已是{where}。同一人只能在一处入会")
    assert "转出" in errors["id_number"]
    assert errors["phone"] == f"该手机号已登记在{where}名下，请核对。"
    # The chair of the first school may not see the second school's roster: no name.
    assert "王芳" not in " ".join(errors.values())


def test_duplicate_is_named_to_a_viewer_who_may_see_it(
    world: World, wang: tuple[Member, str, str]
) -> None:
    member, number, _ = wang
    district_chair = f.user("district_chair", world.district)
    with pytest.raises(ServiceError) as exc:
        services.member_create(
            actor=district_chair, union=world.group, name="王芳", id_number=number
        )
    assert _errors(exc)["id_number"].startswith(
        f"该身份证号已是「区教育工会 / 第二中学工会 / 英语组」的在册会员「王芳」（会员证号 {member.card_no}）。"
    )


def test_duplicate_check_also_guards_updates(world: World, wang: tuple[Member, str, str]) -> None:
    _, _, phone = wang
    with pytest.raises(ServiceError) as exc:
        services.member_update(actor=world.chair, member=world.member, phone=phone)
    assert "该手机号已登记在" in _errors(exc)["phone"]


def test_transfer_out_then_register_elsewhere_then_no_way_back(world: World) -> None:
    number = f.id_number()
    old = f.member(world.group, "周八", id_number=number, phone="13600002222")
    services.member_change(
        actor=world.officer,
        member=old,
        kind=ChangeKind.TRANSFER_OUT,
        date=dt.date(2024, 6, 30),
        other_org="第二中学工会",
    )

    # The new union registers them (转入) with the same numbers: allowed.
    new = services.member_create(
        actor=world.outsider,
        union=world.other_school_group,
        name="周八",
        id_number=number,
        phone="13600002222",
        join_kind=ChangeKind.TRANSFER_IN,
        other_org="第一中学工会",
        join_date=dt.date(2024, 7, 1),
    )
    assert new.status == MemberStatus.ACTIVE
    assert new.card_no.startswith("EZ-")
    assert Member.objects.filter(id_number_hash=old.id_number_hash).count() == 2
    assert new.changes.get().kind == ChangeKind.TRANSFER_IN

    # Bringing the old row back would make the person a member twice.
    with pytest.raises(ServiceError) as exc:
        services.member_change(
            actor=world.officer, member=old, kind=ChangeKind.TRANSFER_IN, date=dt.date(2024, 8, 1)
        )
    assert "同一人只能在一处入会" in _errors(exc)["kind"]
    old.refresh_from_db()
    assert old.status == MemberStatus.TRANSFERRED_OUT


# Card numbers --------------------------------------------------------------------------


def test_card_numbers_count_per_grassroots_union_across_its_branches(world: World) -> None:
    # world: 张三 (高中语文组) and 李四 (初中数学组) share 第一中学's sequence; 王五 has his own.
    assert world.member.card_no == "YZ-00001"
    assert world.other_branch_member.card_no == "YZ-00002"
    assert world.other_school_member.card_no == "EZ-00001"
    assert f.member(world.school, "校级会员").card_no == "YZ-00003"
    assert f.member(world.branch, "分工会会员").card_no == "YZ-00004"


def test_card_numbers_are_editable_and_unique(world: World) -> None:
    manual = f.member(world.group, "手工编号", card_no=" yz-00005 ")
    assert manual.card_no == "YZ-00005"
    # The automatic numbering skips a number already taken by hand.
    assert f.member(world.group, "甲").card_no == "YZ-00003"
    assert f.member(world.group, "乙").card_no == "YZ-00004"
    assert f.member(world.group, "丙").card_no == "YZ-00006"
    with pytest.raises(ServiceError) as exc:
        f.member(world.group, "丁", card_no="yz-00003")
    assert "已被「高中语文组」的会员使用" in _errors(exc)["card_no"]

    with pytest.raises(ServiceError) as exc:
        f.member(world.other_school_group, "重复", card_no="YZ-00001")
    assert _errors(exc) == {
        "card_no": "会员证号「YZ-00001」已被「高中语文组」的会员使用，请换一个或留空自动编号。"
    }
    edited = services.member_update(actor=world.officer, member=world.member, card_no="gz-001")
    assert edited.card_no == "GZ-001"
    with pytest.raises(ServiceError):
        services.member_update(
            actor=world.chair, member=world.other_branch_member, card_no="GZ-001"
        )
    # Clearing the number gives the next free one.
    cleared = services.member_update(actor=world.officer, member=world.member, card_no="")
    assert cleared.card_no.startswith("YZ-")
    assert Member.objects.filter(card_no=cleared.card_no).count() == 1


# The membership state machine ----------------------------------------------------------

#: A change that puts a fresh (在册) member into each status.
REACH: dict[str, str | None] = {
    MemberStatus.ACTIVE: None,
    MemberStatus.RETAINED: ChangeKind.RETIRE,
    MemberStatus.TRANSFERRED_OUT: ChangeKind.TRANSFER_OUT,
    MemberStatus.WITHDRAWN: ChangeKind.WITHDRAW,
    MemberStatus.DECEASED: ChangeKind.DEATH,
}


@pytest.fixture
def group(db: None) -> Union:
    school = f.union("第一中学工会", UnionKind.UNION, None, code="YZ")
    return f.union("语文组", UnionKind.GROUP, school)


@pytest.mark.parametrize("kind", list(ChangeKind))
@pytest.mark.parametrize("status", list(MemberStatus))
def test_state_machine(group: Union, status: str, kind: str) -> None:
    member = f.member(group, "孙九", join_date=dt.date(2020, 3, 1))
    reach = REACH[status]
    if reach:
        services.member_change(actor=None, member=member, kind=reach, date=dt.date(2021, 1, 1))
    member.refresh_from_db()
    assert member.status == status

    if kind in TRANSITIONS[status]:
        change = services.member_change(
            actor=None, member=member, kind=kind, date=dt.date(2022, 1, 1), note=" 说明 "
        )
        member.refresh_from_db()
        assert member.status == STATUS_AFTER[kind]
        assert (change.kind, change.date, change.note) == (kind, dt.date(2022, 1, 1), "说明")
        entry = AuditEntry.objects.filter(action=AuditAction.CHANGE).latest("id")
        assert entry.changes == {
            "会员状态": [MemberStatus(status).label, MemberStatus(STATUS_AFTER[kind]).label]
        }
    else:
        before = _state()
        with pytest.raises(ServiceError) as exc:
            services.member_change(actor=None, member=member, kind=kind, date=dt.date(2022, 1, 1))
        allowed = "、".join(ChangeKind(k).label for k in TRANSITIONS[status]) or "无"
        assert _errors(exc) == {
            "kind": f"会员当前为「{MemberStatus(status).label}」，不能办理"
            f"「{ChangeKind(kind).label}」；可办理：{allowed}。"
        }
        assert _state() == before


def test_changes_stay_in_date_order_and_never_in_the_future(group: Union) -> None:
    member = f.member(group, "孙九", join_date=dt.date(2020, 3, 1))
    with pytest.raises(ServiceError) as exc:
        services.member_change(actor=None, member=member, kind="retire", date=dt.date(2020, 2, 29))
    assert _errors(exc) == {"date": "变动日期不能早于上一次变动（2020-03-01 入会）。"}
    with pytest.raises(ServiceError) as exc:
        services.member_change(
            actor=None, member=member, kind="retire", date=TODAY + dt.timedelta(days=1)
        )
    assert _errors(exc) == {"date": "变动日期不能晚于今天。"}

    # The same day as the last change, and today, are fine.
    services.member_change(actor=None, member=member, kind="retire", date=dt.date(2020, 3, 1))
    services.member_change(actor=None, member=member, kind="restore", date=TODAY)
    assert [c.kind for c in member.changes.all()] == ["join", "retire", "restore"]
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE


def test_rejoining_after_withdrawal_keeps_the_history(group: Union) -> None:
    member = f.member(group, "孙九", join_date=dt.date(2020, 3, 1))
    services.member_change(actor=None, member=member, kind="withdraw", date=dt.date(2021, 5, 1))
    services.member_change(actor=None, member=member, kind="join", date=dt.date(2023, 5, 1))
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    assert [(c.kind, c.date.year) for c in member.changes.all()] == [
        ("join", 2020),
        ("withdraw", 2021),
        ("join", 2023),
    ]


# Pinyin --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pinyin", "initials"),
    [
        ("张三", "zhangsan", "zs"),
        ("曾小明", "zengxiaoming", "zxm"),
        ("单田芳", "shantianfang", "stf"),
        ("欧阳娜娜", "ouyangnana", "oynn"),
        ("吕梁", "lvliang", "ll"),
        ("李 娜", "lina", "ln"),
    ],
)
def test_pinyin_and_initials(group: Union, name: str, pinyin: str, initials: str) -> None:
    assert services.name_pinyin(name) == (pinyin, initials)
    member = f.member(group, name)
    assert (member.name_pinyin, member.name_initials) == (pinyin, initials)


def test_pinyin_follows_a_rename(world: World) -> None:
    member = services.member_update(actor=world.officer, member=world.member, name="曾三")
    assert (member.name_pinyin, member.name_initials) == ("zengsan", "zs")


# Personal numbers ----------------------------------------------------------------------


def test_reveal_needs_the_pii_permission_and_is_audited(world: World) -> None:
    number = f.id_number()
    member = f.member(world.group, "吴十", id_number=number, phone="13511112222")
    plain = f.user("weiyuan", world.school, Role.COMMITTEE)
    organiser = f.user("zuzhi", world.school, Role.COMMITTEE, portfolio=Portfolio.ORGANISATION)

    before = AuditEntry.objects.filter(action=AuditAction.VIEW_PII).count()
    for denied in (plain, world.other_officer, world.member_user):
        with pytest.raises(PermissionDenied):
            services.member_reveal(actor=denied, member=member, field="id_number")
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PII).count() == before

    assert services.member_reveal(actor=organiser, member=member, field="id_number") == number
    assert (
        services.member_reveal(actor=world.officer, member=member, field="phone") == "13511112222"
    )
    rows = AuditEntry.objects.filter(action=AuditAction.VIEW_PII, object_id=str(member.pk))
    assert {(r.actor, r.summary) for r in rows} == {
        (organiser, "查看「吴十」的完整身份证号"),
        (world.officer, "查看「吴十」的完整手机号"),
    }
    with pytest.raises(ServiceError):
        services.member_reveal(actor=world.officer, member=member, field="name_pinyin")


def test_numbers_are_stored_encrypted(world: World) -> None:
    number = f.id_number()
    member = f.member(world.group, "吴十", id_number=number, phone="13511112222")
    row = Member.objects.filter(pk=member.pk).values().get()
    assert number not in str(row)
    assert "13511112222" not in str(row)
    assert row["phone_masked"] == "135****2222"


# Denied writes leave nothing behind ----------------------------------------------------


def test_officer_of_another_branch_cannot_write_and_leaves_no_trace(world: World) -> None:
    before = _state()
    intruder = world.other_officer
    with pytest.raises(PermissionDenied):
        services.member_update(actor=intruder, member=world.member, name="改名")
    with pytest.raises(PermissionDenied):
        services.member_change(
            actor=intruder, member=world.member, kind="withdraw", date=dt.date(2024, 1, 1)
        )
    with pytest.raises(PermissionDenied):
        services.member_create(
            actor=intruder, union=world.group, name="新人", id_number=f.id_number()
        )
    with pytest.raises(PermissionDenied):
        services.member_link_user(actor=intruder, member=world.member, user=None)
    # Moving one's own member into another branch needs rights there too.
    own = f.member(world.other_group, "自己人")
    before = _state()
    with pytest.raises(PermissionDenied):
        services.member_update(actor=intruder, member=own, union=world.group)
    assert _state() == before


def test_a_member_cannot_edit_even_their_own_record(world: World) -> None:
    before = _state()
    with pytest.raises(PermissionDenied):
        services.member_update(actor=world.member_user, member=world.member, phone="13800000000")
    assert _state() == before


def test_update_is_audited_with_what_changed(world: World) -> None:
    services.member_update(
        actor=world.officer,
        member=world.member,
        employment_type=EmploymentType.CONTRACT,
        monthly_wage=Decimal("6800"),
    )
    entry = AuditEntry.objects.filter(
        action=AuditAction.UPDATE, object_id=str(world.member.pk)
    ).latest("id")
    assert entry.actor == world.officer
    assert entry.changes == {"用工形式": ["在编", "合同制"], "月工资（元）": ["", "6800"]}


def test_transfer_in_is_dated_on_arrival_not_on_the_original_join_date(group: Union) -> None:
    member = f.member(
        group,
        "周转",
        join_date=dt.date(2015, 9, 1),
        join_kind=ChangeKind.TRANSFER_IN,
        registered_on=dt.date(2024, 9, 1),
        other_org="西湖区实验中学工会",
    )
    (change,) = member.changes.all()
    assert (change.kind, change.date, change.other_org) == (
        ChangeKind.TRANSFER_IN,
        dt.date(2024, 9, 1),
        "西湖区实验中学工会",
    )
    assert member.join_date == dt.date(2015, 9, 1)
    with pytest.raises(ServiceError) as exc:
        f.member(
            group,
            "未来",
            join_kind=ChangeKind.TRANSFER_IN,
            registered_on=dt.date.today() + dt.timedelta(days=1),
        )
    assert "不能晚于今天" in str(exc.value)


def test_editing_the_join_date_moves_the_join_change_the_report_counts(group: Union) -> None:
    member = f.member(group, "改期", join_date=dt.date(2020, 3, 1))
    services.member_update(actor=None, member=member, join_date=dt.date(2021, 4, 2))
    assert list(member.changes.values_list("kind", "date")) == [
        (ChangeKind.JOIN, dt.date(2021, 4, 2))
    ]
    services.member_change(
        actor=None, member=member, kind=ChangeKind.RETIRE, date=dt.date(2022, 1, 1)
    )
    with pytest.raises(ServiceError) as exc:
        services.member_update(actor=None, member=member, join_date=dt.date(2023, 1, 1))
    assert "不能晚于之后的会籍变动" in exc.value.message_dict["join_date"][0]
    assert member.changes.get(kind=ChangeKind.JOIN).date == dt.date(2021, 4, 2)


def test_one_login_links_to_one_member(world: World) -> None:
    other = f.member(world.group, "另一人")
    with pytest.raises(ServiceError) as exc:
        services.member_link_user(actor=None, member=other, user=world.member_user)
    assert "已关联会员「张三」" in str(exc.value)


def test_a_new_number_with_the_same_mask_is_still_audited(world: World) -> None:
    member = f.member(world.group, "同尾号", phone="13812345678")
    before = AuditEntry.objects.count()
    services.member_update(actor=None, member=member, phone="13899995678")
    entry = AuditEntry.objects.latest("id")
    assert AuditEntry.objects.count() == before + 1
    assert entry.changes["手机号"] == ["138****5678", "138****5678（已更改，内容加密）"]
    assert "13899995678" not in str(entry.changes)


def test_employee_numbers_are_unique_within_one_grassroots_union(world: World) -> None:
    # world.member (张三, 高中语文组) has 工号 T001; 初中数学组 is in the same school.
    with pytest.raises(ServiceError) as exc:
        f.member(world.other_group, "李重号", employee_no="T001")
    assert "工号「T001」已是" in exc.value.message_dict["employee_no"][0]
    # Another school numbers its own staff: T001 there is someone else.
    f.member(world.other_school_group, "王同号", employee_no="T001")
    # Once 张三 has left, the number may be given again.
    services.member_change(
        actor=None,
        member=world.member,
        kind=ChangeKind.TRANSFER_OUT,
        date=dt.date.today(),
        other_org="外单位工会",
    )
    f.member(world.other_group, "李接号", employee_no="T001")


def test_a_join_date_before_the_birth_date_is_refused(group: Union) -> None:
    with pytest.raises(ServiceError) as exc:
        f.member(
            group,
            "早入会",
            id_number=f.id_number(dt.date(1992, 6, 7)),
            join_date=dt.date(1990, 1, 1),
        )
    assert exc.value.message_dict["join_date"] == ["入会日期早于出生日期，请核对。"]


def test_the_latest_change_can_be_taken_back_and_is_audited(group: Union) -> None:
    member = f.member(group, "误转出")
    services.member_change(
        actor=None,
        member=member,
        kind=ChangeKind.TRANSFER_OUT,
        date=dt.date.today(),
        other_org="外区工会",
    )
    member.refresh_from_db()
    assert member.status == MemberStatus.TRANSFERRED_OUT
    services.member_change_undo(actor=None, member=member)
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE
    assert list(member.changes.values_list("kind", flat=True)) == [ChangeKind.JOIN]
    entry = AuditEntry.objects.latest("id")
    assert entry.changes["撤销的会籍变动"][0].endswith("转出（外区工会）")
    assert entry.changes["会员状态"] == ["已转出", "在册"]
    with pytest.raises(ServiceError) as exc:
        services.member_change_undo(actor=None, member=member)
    assert "第一条会籍记录" in str(exc.value)
