"""Writing the audit log. Every service calls :func:`record` inside its transaction."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from .models import AuditAction, AuditEntry
from .scope import Perm, grants, scope_q, visible

if TYPE_CHECKING:
    from gonghui.org.models import Union, User

# The client's address, set per request by the middleware, so services need not pass it.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)

#: Placeholder written to the log in place of a changed personal number.
MASKED_CHANGE = "（已更改，内容加密）"


#: How the log shows a yes/no field.
YES, NO = "是", "否"


def display(value: Any) -> Any:
    """A value as the log shows it: JSON-safe, yes/no and choices in Chinese."""
    if isinstance(value, bool):
        return YES if value else NO
    if value is None or value == "":
        return ""
    if isinstance(value, models.Choices):
        return value.label
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset | Mapping):
        raise TypeError(f"操作日志的值应是单个值，不是 {type(value).__name__}：{value!r}")
    return str(value)


def as_pairs(changes: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """``changes`` in the one shape the log keeps: ``{中文字段名: [旧, 新]}``.

    Every page reads both ends of every value, so a value given alone (a create, a
    count, the member a registration is for) becomes ``["", value]``; each end goes
    through :func:`display`. Anything else (a list of three, a nested dict) is a
    mistake of the caller and raises ``TypeError``.
    """
    result: dict[str, list[Any]] = {}
    for label, value in (changes or {}).items():
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise TypeError(f"操作日志「{label}」应是 [旧, 新]，收到 {value!r}")
            old, new = value
        else:
            old, new = "", value
        result[str(label)] = [display(old), display(new)]
    return result


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values of ``obj`` as the log shows them, keyed by field name."""
    result: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if getattr(field, "choices", None):
            value = getattr(obj, f"get_{name}_display")()
        elif field.is_relation:
            value = getattr(obj, name)
        else:
            value = getattr(obj, name)
        result[name] = display(value)
    return result


def diff(
    model: type[models.Model], before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, list[Any]]:
    """``{中文字段名: [旧, 新]}`` for the fields that differ."""
    changes: dict[str, list[Any]] = {}
    for name, new in after.items():
        old = before.get(name, "")
        if old != new:
            label = str(model._meta.get_field(name).verbose_name)  # type: ignore[union-attr]
            changes[label] = [old, new]
    return changes


def record(
    *,
    actor: User | None,
    action: AuditAction | str,
    obj: models.Model | None = None,
    union: Union | None = None,
    changes: Mapping[str, Any] | None = None,
    summary: str = "",
) -> AuditEntry:
    """Insert one audit row. Call it inside the service's transaction.

    ``changes`` maps a Chinese label to ``[old, new]`` (a create passes ``["", new]``);
    it is stored through :func:`as_pairs`.
    """
    entry = AuditEntry(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=_actor_name(actor),
        action=str(action),
        union=union,
        summary=summary[:500],
        changes=as_pairs(changes),
        ip=current_ip.get(),
    )
    if obj is not None:
        entry.content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        entry.object_id = str(obj.pk)
        entry.object_repr = str(obj)[:200]
    entry.save(force_insert=True)
    return entry


def _actor_name(actor: User | None) -> str:
    if actor is None or not actor.pk:
        return "系统"
    return actor.display_name


def history(obj: models.Model) -> models.QuerySet[AuditEntry]:
    """The log of one object, newest first."""
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk)).select_related("actor")


#: The permission that reads the records of each app; an entry about such a record is
#: shown only where the viewer may read the record itself (经审 reads the care and
#: activity ledgers, not the roster).
_READ_PERMS = {
    "members": Perm.ROSTER_VIEW,
    "care": Perm.CARE_VIEW,
    "activities": Perm.ACTIVITY_VIEW,
    "honours": Perm.HONOUR_VIEW,
    "org": Perm.ORG_VIEW,
}


def entries_for(viewer: User) -> models.QuerySet[AuditEntry]:
    """The log rows ``viewer`` may read: those placed in their 操作日志 scope, less the
    rows about records of an app they may not read there."""
    qs = visible(AuditEntry.objects.all(), viewer, Perm.AUDIT_VIEW)
    g = grants(viewer)
    if g.superuser:
        return qs
    reach = g.paths.get(Perm.AUDIT_VIEW, [])
    for app, perm in _READ_PERMS.items():
        if all(g.reaches(perm, path) for path in reach):
            continue
        kinds = ContentType.objects.filter(app_label=app).values_list("pk", flat=True)
        readable = scope_q(viewer, perm)
        assert readable is not None
        qs = qs.filter(Q(content_type__isnull=True) | ~Q(content_type__in=kinds) | readable)
    return qs
