"""The union tree, the people who log in, and the roles they hold at its nodes."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.db.models import Q

from gonghui.common.models import TimeStampedModel
from gonghui.common.states import Kind, register

from .choices import Portfolio, Role, UnionKind

#: Width of one path segment: the node's primary key, zero-padded.
SEGMENT_WIDTH = 7


def path_segment(pk: int) -> str:
    return f"{pk:0{SEGMENT_WIDTH}d}."


def subtree_range(path: str) -> tuple[str, str]:
    """``(low, high)`` such that ``low <= p < high`` holds exactly for paths under ``path``
    when strings compare byte by byte: ``/`` sorts right after ``.``, so replacing the
    final dot with ``/`` gives the first string past the subtree."""
    return path, path[:-1] + "/"


def subtree_q(path: str, field: str = "path") -> Q:
    """Rows whose ``field`` (a union path) lies in the subtree at ``path``; by index.

    SQLite compares text byte by byte (BINARY) but its ``LIKE`` ignores case and so
    skips the index: use the range. PostgreSQL compares with the database's collation,
    and many (glibc ``en_US.UTF-8``, ICU) ignore punctuation, under which the range
    would drop descendants; ``LIKE 'path%'`` is exact there and uses the
    ``varchar_pattern_ops`` index Django adds to every indexed ``CharField``.
    """
    if connection.vendor == "sqlite":
        low, high = subtree_range(path)
        return Q(**{f"{field}__gte": low, f"{field}__lt": high})
    return Q(**{f"{field}__startswith": path})


def in_subtree(union: Union, field: str = "union") -> Q:
    """Rows whose ``field`` is a union of ``union``'s subtree, as ``field_id IN (…)``: for
    the report's aggregates over big ledgers, where the unions are few and the rows many,
    each row is checked against a short list instead of being joined to the tree."""
    return Q(**{f"{field}__in": Union.objects.filter(subtree_q(union.path)).values("pk")})


class UnionQuerySet(models.QuerySet["Union"]):
    def active(self) -> UnionQuerySet:
        return self.filter(archived_at__isnull=True)

    def subtree(self, node: Union, *, include_self: bool = True) -> UnionQuerySet:
        """``node`` and everything below it: one indexed range query on ``path``."""
        qs = self.filter(subtree_q(node.path))
        return qs if include_self else qs.exclude(pk=node.pk)


class Union(TimeStampedModel):
    """A node of the union tree: 总工会, 基层工会, 分工会 or 工会小组.

    ``path`` is the materialized path of primary keys (``0000001.0000004.``), so "this
    node and everything below" is one range query on an index. It is maintained only
    by ``org.services`` (create and move), never by hand.
    """

    name = models.CharField("名称", max_length=100)
    code = models.CharField(
        "代码", max_length=32, unique=True, help_text="本系统内唯一，用于导入和命令行，如 HX01"
    )
    kind = models.CharField("类型", max_length=12, choices=UnionKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级工会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField("路径", max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField("层级", default=0, editable=False)
    headcount = models.PositiveIntegerField(
        "职工人数", default=0, help_text="本单位在职职工总数，用于计算入会率"
    )
    term_start = models.DateField("本届任期开始", null=True, blank=True)
    term_end = models.DateField("本届任期结束", null=True, blank=True)
    term_no = models.PositiveSmallIntegerField("届次", null=True, blank=True)
    card_seq = models.PositiveIntegerField("会员证号序号", default=0, editable=False)
    archived_at = models.DateTimeField("归档时间", null=True, blank=True, editable=False)

    objects = UnionQuerySet.as_manager()

    class Meta:
        verbose_name = "工会组织"
        verbose_name_plural = "工会组织"
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__isnull=True)
                | Q(term_start__isnull=True)
                | Q(term_end__gte=models.F("term_start")),
                name="union_term_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def ancestor_ids(self) -> list[int]:
        return [int(seg) for seg in self.path.split(".") if seg][:-1]


class User(AbstractUser):
    """Someone who logs in: an officer, or a member using self-service.

    ``created_by`` is the officer who made the login: the four-eyes rules of the money
    workflows (``care.services``) do not count a login as someone independent of the
    officer who made it. Failed logins are counted in :class:`LoginThrottle`.
    """

    full_name = models.CharField("姓名", max_length=50, blank=True)
    created_by = models.ForeignKey(
        "self",
        verbose_name="创建人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.get_full_name() or self.username


class RoleAssignment(TimeStampedModel):
    """A role held by a user at a node; it reaches the node's whole subtree."""

    user = models.ForeignKey(
        User, verbose_name="用户", on_delete=models.CASCADE, related_name="roles"
    )
    union = models.ForeignKey(
        Union, verbose_name="工会组织", on_delete=models.PROTECT, related_name="roles"
    )
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    portfolio = models.CharField(
        "分工", max_length=20, choices=Portfolio.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = "角色"
        verbose_name_plural = "角色"
        ordering = ["union__path", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "union", "role"], name="role_unique"),
        ]

    def __str__(self) -> str:
        label = self.get_role_display()
        if self.portfolio:
            label = f"{self.get_portfolio_display()}{label}"
        return f"{self.union.name} {label}"


class LoginThrottle(models.Model):
    """Failed logins counted per key: ``user:<登录名>`` (whether or not the name exists,
    so the answer never tells which do) or ``addr:<client address>``.

    In the database, not in a process's memory or a local cache, so that every server
    process counts the same failures (``gonghui.org.throttle``).
    """

    key = models.CharField("键", max_length=200, unique=True)
    failures = models.PositiveIntegerField("失败次数", default=0)
    last_failure_at = models.DateTimeField("最近失败", null=True, blank=True)
    blocked_until = models.DateTimeField("暂停至", null=True, blank=True)

    class Meta:
        verbose_name = "登录限速"
        verbose_name_plural = "登录限速"

    def __str__(self) -> str:
        return f"{self.key}（{self.failures} 次）"


class GrantStatus(models.TextChoices):
    PENDING = "pending", "待确认"
    CONFIRMED = "confirmed", "已确认"
    REFUSED = "refused", "已拒绝"


register(
    GrantStatus,
    {
        GrantStatus.PENDING: Kind.WAITING,
        GrantStatus.CONFIRMED: Kind.DONE,
        GrantStatus.REFUSED: Kind.REFUSED,
    },
)


class PendingGrant(TimeStampedModel):
    """A role that moves money (主席, 财务: care.approve or care.pay), asked for by one
    officer and given only when another confirms it: the chair of the level above, or a
    second officer who manages users there (``org.services.grant_confirm``)."""

    user = models.ForeignKey(
        User, verbose_name="用户", on_delete=models.CASCADE, related_name="pending_grants"
    )
    union = models.ForeignKey(
        Union, verbose_name="工会组织", on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField("角色", max_length=16, choices=Role.choices)
    portfolio = models.CharField(
        "分工", max_length=20, choices=Portfolio.choices, blank=True, default=""
    )
    status = models.CharField(
        "状态", max_length=10, choices=GrantStatus.choices, default=GrantStatus.PENDING
    )
    requested_by = models.ForeignKey(
        User, verbose_name="申请人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        User,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "待确认的授权"
        verbose_name_plural = "待确认的授权"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "union", "role"],
                condition=Q(status="pending"),
                name="pending_grant_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.union.name} {self.get_role_display()}（{self.get_status_display()}）"
