"""荣誉: the honours members, teams and unions received (先进个人, 技术能手, 模范职工之家…)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from gonghui.common.models import TimeStampedModel

from .choices import HonourKind, Level


class Honour(TimeStampedModel):
    """One honour: to a member (个人), or to a team or a union (集体).

    ``union`` places it in the tree for scope and the report: the member's union, the
    honoured union, or (for a team) the union that recorded it.
    """

    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("类型", max_length=12, choices=HonourKind.choices)
    member = models.ForeignKey(
        "members.Member",
        verbose_name="获奖会员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="honours",
    )
    recipient = models.CharField("获奖者", max_length=100, help_text="个人的姓名，或集体的名称")
    title = models.CharField("荣誉称号", max_length=100)
    level = models.CharField("级别", max_length=12, choices=Level.choices)
    awarded_by = models.CharField("授予单位", max_length=100, blank=True)
    date = models.DateField("授予日期")
    note = models.CharField("备注", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "荣誉"
        verbose_name_plural = "荣誉"
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["date", "union", "kind", "level"], name="honour_report_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=HonourKind.COLLECTIVE) | Q(member__isnull=False),
                name="honour_individual_has_member",
                violation_error_message="个人荣誉请填写获奖会员。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient}：{self.title}"
