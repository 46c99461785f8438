"""Writing the audit log. Every service calls :func:`record` inside its transaction."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditAction, AuditEntry

if TYPE_CHECKING:
    from gonghui.org.models import Union, User

# The client's address, set per request by the middleware, so services need not pass it.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)

#: Placeholder written to the log in place of a changed personal number.
MASKED_CHANGE = "（已更改，内容加密）"


def display(value: Any) -> Any:
    """A value as the log shows it: JSON-safe, choices as their Chinese label."""
    if value is None or value == "":
        return ""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


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
    """Insert one audit row. Call it inside the service's transaction."""
    entry = AuditEntry(
        actor=actor if actor is not None and actor.pk else None,
        actor_name=_actor_name(actor),
        action=str(action),
        union=union,
        summary=summary[:500],
        changes=dict(changes or {}),
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
