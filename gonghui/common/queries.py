"""Reads of the records ``common`` keeps for every app: the imports."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from .imports.columns import kinds
from .models import ImportRecord, ImportStatus
from .scope import Perm, grants, scope_q
from .todo import Todo

if TYPE_CHECKING:
    from gonghui.org.models import User

#: A failed import stays on the to-do list this long, unless a later one of the same
#: kind into the same union went through.
FAILED_DAYS = 30


def import_records(viewer: User) -> QuerySet[ImportRecord]:
    """Imports the viewer may review: into their import scope, or their own."""
    qs = ImportRecord.objects.select_related("union", "actor")
    q = scope_q(viewer, Perm.IMPORT)
    if q is None:
        return qs
    return qs.filter(q | Q(actor=viewer))


def failed_imports(viewer: User, *, today: dt.date | None = None) -> QuerySet[ImportRecord]:
    """Imports that wrote nothing (errors in the file, or a failure) in the last
    :data:`FAILED_DAYS` days and were not since done again: the same kind into the same
    union, imported in full."""
    today = today or timezone.localdate()
    since = timezone.make_aware(dt.datetime.combine(today, dt.time()) - dt.timedelta(FAILED_DAYS))
    redone = ImportRecord.objects.filter(
        kind=OuterRef("kind"),
        union=OuterRef("union"),
        status=ImportStatus.DONE,
        created_at__gt=OuterRef("created_at"),
    )
    return import_records(viewer).filter(
        ~Exists(redone),
        status__in=(ImportStatus.INVALID, ImportStatus.FAILED),
        created_at__gte=since,
    )


def may_import(viewer: User) -> bool:
    """Whether ``viewer`` may import anything (and so open the list of imports)."""
    g = grants(viewer)
    return g.superuser or any(g.any(spec.perm) for spec in kinds())


def todo(viewer: User, *, today: dt.date) -> list[Todo]:
    """The dashboard's line for imports (``common.todo``): those that failed. One query."""
    if not may_import(viewer):
        return []
    return [
        Todo(
            key="imports.failed",
            label="导入未成功",
            count=failed_imports(viewer, today=today).count(),
            url=f"{reverse('imports:list')}?failed=1",
            unit="次",
            note=f"近 {FAILED_DAYS} 天，未重新导入",
        )
    ]
