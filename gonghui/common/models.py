"""Models every app shares: the abstract base and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Base for domain rows: when it was created and last changed."""

    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    CREATE = "create", "新建"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    ARCHIVE = "archive", "归档"
    RESTORE = "restore", "恢复"
    MOVE = "move", "移动"
    CHANGE = "change", "会籍变动"
    VIEW_PII = "view_pii", "查看完整个人信息"
    GRANT = "grant", "授予角色"
    REVOKE = "revoke", "撤销角色"
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOCKED = "locked", "账号锁定"
    PASSWORD = "password", "修改密码"
    IMPORT = "import", "导入"
    EXPORT = "export", "导出"


class AuditEntry(models.Model):
    """One write (or a sensitive read) by one user: who, when, what, and what changed.

    Rows are only ever inserted. ``union`` places the entry in the tree so that a chair
    sees the log of their own subtree and nothing else. ``changes`` maps a field's
    Chinese label to ``[old, new]``; personal numbers appear there masked, never in full.
    """

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=AuditAction.choices)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    union = models.ForeignKey(
        "org.Union",
        verbose_name="所属工会",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = models.CharField("摘要", max_length=500, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)

    class Meta:
        verbose_name = "操作日志"
        verbose_name_plural = "操作日志"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx"),
            models.Index(fields=["union", "-at"], name="audit_union_idx"),
            models.Index(fields=["actor", "-at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"
