"""Models every app shares: the abstract base and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .states import Kind, register


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


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    CHECKING = "checking", "正在检查"
    INVALID = "invalid", "有错误，未导入"
    READY = "ready", "待确认"
    RUNNING = "running", "正在导入"
    DONE = "done", "已导入"
    FAILED = "failed", "导入失败，未写入"


register(
    ImportStatus,
    {
        ImportStatus.QUEUED: Kind.WAITING,
        ImportStatus.CHECKING: Kind.ONGOING,
        ImportStatus.INVALID: Kind.REFUSED,
        ImportStatus.READY: Kind.WAITING,  # the uploader confirms the write
        ImportStatus.RUNNING: Kind.ONGOING,
        ImportStatus.DONE: Kind.DONE,
        ImportStatus.FAILED: Kind.REFUSED,
    },
)

#: Statuses after which nothing more happens to an import.
IMPORT_FINISHED = (ImportStatus.INVALID, ImportStatus.DONE, ImportStatus.FAILED)


class ImportRecord(models.Model):
    """One import of a spreadsheet (会员名册, 组织架构 …): who, when, which file, what it did.

    Written by ``common.imports``. An import either writes every row or none, so a record
    in ``invalid`` or ``failed`` left no other trace; ``errors`` keeps the row errors
    (``[row, column, message]``) so the attempt can be reviewed and fixed later.
    ``union`` places the record in the tree (the default union, or the importer's own
    top node), so a chair sees the imports of their subtree.
    """

    kind = models.CharField("类型", max_length=30)
    file_name = models.CharField("文件名", max_length=255)
    file_size = models.PositiveBigIntegerField("文件大小", default=0)
    stored_file = models.CharField("保存位置", max_length=500, blank=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("导入人姓名", max_length=150, blank=True)
    union = models.ForeignKey(
        "org.Union",
        verbose_name="导入到",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField("来源", max_length=10, default="web")
    dry_run = models.BooleanField("仅预览", default=False)
    status = models.CharField(
        "状态", max_length=12, choices=ImportStatus.choices, default=ImportStatus.CHECKING
    )
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("修改", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    error_count = models.PositiveIntegerField("错误", default=0)
    progress_done = models.PositiveIntegerField("已处理行数", default=0)
    progress_total = models.PositiveIntegerField("待处理行数", default=0)
    message = models.TextField("说明", blank=True)
    errors = models.JSONField("错误明细", default=list, blank=True)
    preview = models.JSONField("预览", default=dict, blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now, db_index=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    # The queue (common.imports.jobs): what a queued record runs once a slot frees, and
    # the signs of life of a running one, by which a crashed one is told from a slow one.
    queued_commit = models.BooleanField("排队等待写入", default=False)
    client_ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最近心跳", null=True, blank=True)
    worker = models.CharField("执行进程", max_length=100, blank=True)

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["union", "-created_at"], name="import_union_idx"),
            models.Index(fields=["actor", "-created_at"], name="import_actor_idx"),
            models.Index(fields=["status", "id"], name="import_status_idx"),
        ]

    def __str__(self) -> str:
        return f"导入 #{self.pk} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in IMPORT_FINISHED


class KeyState(models.Model):
    """Which encryption key the look-up hashes (``*_hash``) are made with, and how far
    a ``gonghui rotate-key`` has come. One row (pk 1); none means the oldest key of
    ``GONGHUI_ENCRYPTION_KEY``, as before rotation existed (``common.crypto``)."""

    hash_key_id = models.CharField("查重密钥指纹", max_length=16, blank=True)
    rotating_to = models.CharField("正在轮换到的密钥指纹", max_length=16, blank=True)
    cursor = models.BigIntegerField("已处理到的会员编号", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "密钥状态"
        verbose_name_plural = "密钥状态"

    def __str__(self) -> str:
        return f"查重密钥 {self.hash_key_id or '（最早的密钥）'}"


class RekeyHash(models.Model):
    """A member's look-up hashes under the key being rotated to, made batch by batch by
    ``gonghui rotate-key`` while the live ones stay in use, and swapped in at once at
    the end; ``from_*`` are the live hashes they were made from, so a row changed in
    between is made again at the swap."""

    member_id = models.BigIntegerField(primary_key=True)
    id_number_hash = models.CharField(max_length=64, blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)
    from_id_number_hash = models.CharField(max_length=64, blank=True)
    from_phone_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "轮换中的查重值"
        verbose_name_plural = "轮换中的查重值"

    def __str__(self) -> str:
        return f"会员 {self.member_id}"
