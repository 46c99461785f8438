"""The tree's figures for the work report: how many 分工会 and 工会小组."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse

from gonghui.common.reporting import Fact, Period

from .choices import UnionKind
from .models import Union


def facts(*, union: Union, period: Period) -> list[Fact]:
    counts = (
        Union.objects.subtree(union, include_self=False)
        .filter(Q(archived_at__isnull=True) | Q(archived_at__date__gt=period.end))
        .aggregate(
            branches=Count("pk", filter=Q(kind=UnionKind.BRANCH)),
            groups=Count("pk", filter=Q(kind=UnionKind.GROUP)),
        )
    )

    def url(kind: str) -> str:
        return f"{reverse('org:list')}?{urlencode({'root': union.pk, 'kind': kind})}"

    return [
        Fact("org.branches", "分工会", counts["branches"], "个", url(UnionKind.BRANCH)),
        Fact("org.groups", "工会小组", counts["groups"], "个", url(UnionKind.GROUP)),
    ]
