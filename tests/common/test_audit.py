"""The audit log: snapshots and diffs, who and from where, and no personal numbers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.urls import reverse

from gonghui.common import audit
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.members import services
from gonghui.members.models import Member
from gonghui.org.models import Union

from .. import factories as f
from ..conftest import World, login


def test_snapshot_shows_labels_and_diff_names_fields_in_chinese(world: World) -> None:
    member = f.member(
        world.group, "赵敏", id_number=f.id_number(male=False), monthly_wage=Decimal("5600.50")
    )
    fields = ("union", "gender", "employment_type", "join_date", "monthly_wage", "department")

    before = audit.snapshot(member, fields)

    assert before == {
        "union": "高中语文组",
        "gender": "女",
        "employment_type": "在编",
        "join_date": "2020-03-01",
        "monthly_wage": "5600.50",
        "department": "",
    }
    after = {**before, "department": "语文组", "monthly_wage": "5800.00"}
    assert audit.diff(Member, before, after) == {
        "部门": ["", "语文组"],
        "月工资（元）": ["5600.50", "5800.00"],
    }
    assert audit.diff(Member, before, before) == {}


def test_record_names_the_system_and_the_client_address(world: World) -> None:
    token = audit.current_ip.set("127.0.0.1")
    try:
        entry = audit.record(actor=None, action=AuditAction.UPDATE, obj=world.school)
    finally:
        audit.current_ip.reset(token)
    assert entry.actor is None
    assert entry.actor_name == "系统"
    assert entry.ip == "127.0.0.1"
    assert entry.object_repr == "第一中学工会"
    assert audit.history(world.school).first() == entry


def test_history_lists_an_objects_rows_newest_first(world: World) -> None:
    services.member_update(actor=world.officer, member=world.member, department="语文组")
    services.member_update(actor=world.officer, member=world.member, job_title="教研组长")

    rows = list(audit.history(world.member))
    assert rows[0].changes == {"职务": ["", "教研组长"]}
    assert rows[1].changes == {"部门": ["", "语文组"]}
    assert rows[-1].action == AuditAction.CREATE
    assert all(r.object_id == str(world.member.pk) for r in rows)
    assert rows[0].actor_name == "officer"


def test_personal_numbers_never_appear_in_full_in_the_log(world: World) -> None:
    first_id = f.id_number(birth=dt.date(1990, 1, 2), male=False)
    second_id = f.id_number(birth=dt.date(1990, 1, 2), male=False)
    first_phone, second_phone = "13912345678", "15800001111"

    # Create, update both numbers, reveal both (service and page), a membership change.
    member = services.member_create(
        actor=world.chair,
        union=world.group,
        name="钱七",
        id_number=first_id,
        phone=first_phone,
        join_date=dt.date(2021, 9, 1),
    )
    services.member_update(
        actor=world.chair, member=member, id_number=second_id, phone=f"+86 {second_phone}"
    )
    assert services.member_reveal(actor=world.chair, member=member, field="phone") == second_phone
    client = login(world.chair)
    response = client.post(reverse("members:reveal", args=[member.pk, "id_number"]))
    assert response.status_code == 200
    assert second_id in response.text
    services.member_change(
        actor=world.chair, member=member, kind="retire", date=dt.date(2024, 7, 1)
    )

    entries = list(AuditEntry.objects.all())
    text = "\n".join(
        json.dumps(e.changes, ensure_ascii=False) + e.summary + e.object_repr for e in entries
    )
    for secret in (first_id, second_id, first_phone, second_phone):
        assert secret not in text
    # The rows are there and say what changed, masked.
    member_rows = AuditEntry.objects.filter(object_id=str(member.pk))
    assert member_rows.filter(action=AuditAction.VIEW_PII).count() == 2
    update = member_rows.get(action=AuditAction.UPDATE)
    assert update.changes["手机号"] == ["139****5678", "158****1111"]
    assert update.changes["身份证号"][1] == second_id[:6] + "********" + second_id[-4:]
    page_reveal = member_rows.filter(action=AuditAction.VIEW_PII).order_by("-id").first()
    assert page_reveal is not None
    assert page_reveal.ip == "127.0.0.1"
    assert page_reveal.actor == world.chair
    # Nor are they stored in clear anywhere on the member row.
    row = Member.objects.filter(pk=member.pk).values().get()
    assert second_id not in json.dumps(row, default=str)
    assert second_phone not in json.dumps(row, default=str)


def test_the_log_places_rows_in_the_tree(world: World) -> None:
    services.member_update(actor=world.officer, member=world.member, department="语文组")
    entry = audit.history(world.member).first()
    assert entry is not None
    assert entry.union == world.group
    assert isinstance(entry.union, Union)


def test_the_migration_rewrites_stored_rows_into_pairs(world: World) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("gonghui.common.migrations.0005_auditentry_changes_as_pairs")
    # Rows as the services wrote them before: lone values, yes/no, pairs, nothing.
    legacy = [
        {"会员": "许妍慧", "状态": "候补"},
        {"颁发证书": ["", True], "标题": ["", "教师培训"]},
        {"及格": False, "签到": 3, "会员状态": ["在册", "退休"]},
        {"批准金额": ["", "1500.00"], "原因": None},
        {},
    ]
    rows = [AuditEntry.objects.create(action=AuditAction.CREATE, changes=c) for c in legacy]
    untouched = AuditEntry.objects.exclude(pk__in=[r.pk for r in rows])
    before = {e.pk: e.changes for e in untouched}

    migration.forwards(apps, None)

    assert [AuditEntry.objects.get(pk=r.pk).changes for r in rows] == [
        {"会员": ["", "许妍慧"], "状态": ["", "候补"]},
        {"颁发证书": ["", "是"], "标题": ["", "教师培训"]},
        {"及格": ["", "否"], "签到": ["", 3], "会员状态": ["在册", "退休"]},
        {"批准金额": ["", "1500.00"], "原因": ["", ""]},
        {},
    ]
    # Rows already written as pairs are left as they were.
    assert {e.pk: e.changes for e in untouched} == before
