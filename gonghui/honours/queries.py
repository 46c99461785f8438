"""Reads of 荣誉, through the viewer's scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from gonghui.common.scope import Perm, visible
from gonghui.org.models import Union, User, subtree_q

from .models import Honour


def honours(
    viewer: User,
    *,
    union: Union | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    kind: str = "",
    level: str = "",
) -> QuerySet[Honour]:
    qs = visible(Honour.objects.all(), viewer, Perm.HONOUR_VIEW)
    if union is not None:
        qs = qs.filter(subtree_q(union.path, "union__path"))
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lte=end)
    if kind:
        qs = qs.filter(kind=kind)
    if level:
        qs = qs.filter(level=level)
    return qs.select_related("union", "member").order_by("-date", "-id")
