"""Every write of 荣誉. One transaction each, each audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from gonghui.common import audit
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction, ImportRecord
from gonghui.common.scope import Perm, require
from gonghui.members.models import Member
from gonghui.org.models import Union, User
from gonghui.org.queries import common_ancestor

from .choices import HonourKind, Level
from .models import Honour

FIELDS = ("kind", "member", "recipient", "title", "level", "awarded_by", "date", "note")
#: What an edit may change and the log compares: the fields, and the union it belongs to.
UPDATE_FIELDS = (*FIELDS, "union")

#: A keyword of :func:`honour_update` left out: the honour keeps what it has.
_KEEP: Any = object()


def _clean(
    *,
    kind: str,
    title: str,
    level: str,
    date: dt.date,
    member: Member | None,
    recipient: str,
    union: Union | None,
) -> tuple[Union, str]:
    if kind not in HonourKind.values:
        raise ServiceError({"kind": "请选择个人或集体。"})
    if level not in Level.values:
        raise ServiceError({"level": "请选择级别。"})
    if not title.strip():
        raise ServiceError({"title": "请填写荣誉称号，如「优秀教育工作者」。"})
    if date > dt.date.today():
        raise ServiceError({"date": "授予日期不能晚于今天。"})
    if kind == HonourKind.INDIVIDUAL:
        if member is None:
            raise ServiceError({"member": "个人荣誉请填写获奖会员。"})
        return member.union, member.name
    if union is None:
        raise ServiceError({"union": "集体荣誉请选择所属工会。"})
    if not recipient.strip():
        raise ServiceError({"recipient": "请填写获奖集体的名称，如「高三年级组」。"})
    return union, recipient.strip()


@transaction.atomic
def honour_create(
    *,
    actor: User | None,
    kind: str,
    title: str,
    level: str,
    date: dt.date,
    member: Member | None = None,
    recipient: str = "",
    union: Union | None = None,
    awarded_by: str = "",
    note: str = "",
) -> Honour:
    """Record an honour: to a member (it belongs to their union), or to a collective of
    ``union`` (a team, a group, the union itself)."""
    owner, name = _clean(
        kind=kind,
        title=title,
        level=level,
        date=date,
        member=member,
        recipient=recipient,
        union=union,
    )
    if actor is not None:
        require(actor, Perm.HONOUR_EDIT, owner)
    honour = Honour.objects.create(
        union=owner,
        kind=kind,
        member=member if kind == HonourKind.INDIVIDUAL else None,
        recipient=name[:100],
        title=title.strip()[:100],
        level=level,
        awarded_by=awarded_by.strip()[:100],
        date=date,
        note=note.strip()[:300],
        created_by=actor if actor is not None and actor.pk else None,
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=honour,
        union=owner,
        changes=audit.diff(Honour, {}, audit.snapshot(honour, FIELDS)),
        summary=f"登记荣誉：{honour}（{honour.get_level_display()}）",
    )
    return honour


@transaction.atomic
def honour_update(
    *,
    actor: User | None,
    honour: Honour,
    kind: str = _KEEP,
    title: str = _KEEP,
    level: str = _KEEP,
    date: dt.date = _KEEP,
    member: Member | None = _KEEP,
    recipient: str = _KEEP,
    union: Union | None = _KEEP,
    awarded_by: str = _KEEP,
    note: str = _KEEP,
) -> Honour:
    """Correct an honour, under the rules of :func:`honour_create`. The editor must
    reach the union it belongs to and the union it will belong to: an honour does not
    leave or enter a branch behind its officers' backs. A person's honour stays with
    the union it was recorded in unless it goes to another member (who may have moved
    since; the report counts it where it was won)."""
    honour = (
        Honour.objects.select_for_update(of=("self",))
        .select_related("union", "member")
        .get(pk=honour.pk)
    )
    if actor is not None:
        require(actor, Perm.HONOUR_EDIT, honour.union)

    def keep(value: Any, current: Any) -> Any:
        return current if value is _KEEP else value

    kind = keep(kind, honour.kind)
    member = keep(member, honour.member)
    owner, name = _clean(
        kind=kind,
        title=keep(title, honour.title),
        level=keep(level, honour.level),
        date=keep(date, honour.date),
        member=member,
        recipient=keep(recipient, honour.recipient),
        union=keep(union, honour.union),
    )
    if kind == HonourKind.INDIVIDUAL and member == honour.member:
        owner = honour.union
    if actor is not None:
        require(actor, Perm.HONOUR_EDIT, owner)
    before = audit.snapshot(honour, UPDATE_FIELDS)
    honour.union = owner
    honour.kind = kind
    honour.member = member if kind == HonourKind.INDIVIDUAL else None
    honour.recipient = name[:100]
    honour.title = keep(title, honour.title).strip()[:100]
    honour.level = keep(level, honour.level)
    honour.awarded_by = keep(awarded_by, honour.awarded_by).strip()[:100]
    honour.date = keep(date, honour.date)
    honour.note = keep(note, honour.note).strip()[:300]
    changes = audit.diff(Honour, before, audit.snapshot(honour, UPDATE_FIELDS))
    if not changes:
        return honour
    honour.save()
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=honour,
        union=owner,
        changes=changes,
        summary=f"修改荣誉：{honour}（{honour.get_level_display()}）",
    )
    return honour


@transaction.atomic
def honour_delete(*, actor: User | None, honour: Honour) -> None:
    """Take back an honour recorded by mistake (the audit log keeps what it was)."""
    if actor is not None:
        require(actor, Perm.HONOUR_EDIT, honour.union)
    before = audit.snapshot(honour, FIELDS)
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=honour,
        union=honour.union,
        changes=audit.diff(Honour, before, dict.fromkeys(before, "")),
        summary=f"删除荣誉：{honour}",
    )
    honour.delete()


@dataclass
class HonourPlan:
    rows: list[Honour] = field(default_factory=list)
    record_id: int | None = None
    file_name: str = ""


@transaction.atomic
def honours_import(*, actor: User | None, plan: HonourPlan) -> None:
    """Write the honours of a checked sheet (``honours.imports``)."""
    unions = {h.union_id for h in plan.rows}
    if actor is not None:
        for union in Union.objects.filter(pk__in=unions):
            require(actor, Perm.HONOUR_EDIT, union)
        for h in plan.rows:
            h.created_by = actor
    Honour.objects.bulk_create(plan.rows, batch_size=1000)
    record = ImportRecord.objects.filter(pk=plan.record_id).first() if plan.record_id else None
    changes: dict[str, Any] = {"新增": ["", len(plan.rows)]}
    if plan.record_id:
        changes["导入记录"] = ["", plan.record_id]
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=record,
        union=common_ancestor(unions),
        summary=f"导入荣誉「{plan.file_name}」：新增 {len(plan.rows)} 条",
        changes=changes,
    )
