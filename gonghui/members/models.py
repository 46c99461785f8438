"""会员: the roster and the history of each member's membership."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from gonghui.common.models import TimeStampedModel

from .choices import (
    CURRENT_STATUSES,
    EDUCATIONS,
    ETHNICITIES,
    POLITICAL_STATUSES,
    ChangeKind,
    EmploymentType,
    Gender,
    MemberStatus,
)

#: ``Member.name_sort``'s length: a name of 50 characters, each at most a syllable of six
#: letters and its end mark, then its code point in six hex digits.
NAME_SORT_LENGTH = 50 * (6 + 1) + 50 * 6


class Member(TimeStampedModel):
    """One person on one union's roster.

    The same person may appear more than once in the tree only as history: after a
    转出 from one union they are registered (转入) by the next. At most one row per
    身份证号 is current (在册 or 保留会籍); a partial unique index enforces it.

    ``status`` follows the membership history (:class:`MembershipChange`) and is written
    only by ``members.services``. 身份证号 and 手机号 are stored encrypted, with a keyed
    hash for look-ups and a masked form for lists (see ``common.crypto``).
    """

    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField("姓名", max_length=50)
    # The pinyin search looks it up by prefix (member_pinyin_idx).
    name_pinyin = models.CharField("姓名拼音", max_length=200, editable=False)
    # The roster's order: syllable by syllable, surname first, then the characters (see
    # services.name_readings). Indexed by member_name_walk_idx, which leads with it.
    name_sort = models.CharField("姓名排序", max_length=NAME_SORT_LENGTH, editable=False)
    name_initials = models.CharField("拼音首字母", max_length=50, db_index=True, editable=False)
    gender = models.CharField("性别", max_length=1, choices=Gender.choices, blank=True)
    id_number_enc = models.TextField("身份证号（密文）", blank=True, editable=False)
    id_number_hash = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField("身份证号", max_length=18, blank=True, editable=False)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    phone_enc = models.TextField("手机号（密文）", blank=True, editable=False)
    phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    phone_masked = models.CharField("手机号", max_length=11, blank=True, editable=False)
    employee_no = models.CharField("工号", max_length=32, blank=True)
    department = models.CharField("部门", max_length=100, blank=True)
    job_title = models.CharField("职务", max_length=100, blank=True)
    employment_type = models.CharField(
        "用工形式", max_length=12, choices=EmploymentType.choices, default=EmploymentType.STAFF
    )
    ethnicity = models.CharField(
        "民族", max_length=10, blank=True, choices=[(e, e) for e in ETHNICITIES]
    )
    political_status = models.CharField(
        "政治面貌", max_length=10, blank=True, choices=[(p, p) for p in POLITICAL_STATUSES]
    )
    education = models.CharField(
        "学历", max_length=10, blank=True, choices=[(e, e) for e in EDUCATIONS]
    )
    work_start_date = models.DateField("参加工作日期", null=True, blank=True)
    join_date = models.DateField("入会日期", null=True, blank=True)
    card_no = models.CharField("会员证号", max_length=32, blank=True)
    status = models.CharField(
        "会员状态", max_length=16, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    monthly_wage = models.DecimalField(
        "月工资（元）",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="会费基数，会费为其 0.5%",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="登录账号",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )

    class Meta:
        verbose_name = "会员"
        verbose_name_plural = "会员"
        ordering = ["name_sort", "id"]
        indexes = [
            # The roster's order, and each row's union beside it: a page of a large result
            # walks this index and checks the union without reading the row (see
            # queries.RosterPaginator).
            models.Index(fields=["name_sort", "id", "union"], name="member_name_walk_idx"),
            # The pinyin search (``zhangs``): a prefix range of its own.
            models.Index(fields=["name_pinyin"], name="member_pinyin_idx"),
            models.Index(fields=["union", "status"], name="member_union_status_idx"),
            # A name search (name contains 「王云」) reads names by union without the rows.
            models.Index(fields=["union", "name"], name="member_union_name_idx"),
            # members.temporary and the 用工形式 filter: by union, without the rows.
            models.Index(fields=["union", "employment_type"], name="member_union_employment_idx"),
            models.Index(fields=["employee_no"], name="member_employee_no_idx"),
            models.Index(fields=["card_no"], name="member_card_no_idx"),
            models.Index(fields=["id_number_hash"], name="member_id_hash_idx"),
            models.Index(fields=["phone_hash"], name="member_phone_hash_idx"),
            models.Index(fields=["birth_date"], name="member_birth_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                condition=Q(status__in=CURRENT_STATUSES) & ~Q(id_number_hash=""),
                name="member_one_current_per_id_number",
                violation_error_message="该身份证号已有一位在册会员。",
            ),
            models.UniqueConstraint(
                fields=["card_no"],
                condition=~Q(card_no=""),
                name="member_card_no_unique",
                violation_error_message="会员证号已被使用。",
            ),
            models.CheckConstraint(
                condition=Q(monthly_wage__isnull=True) | Q(monthly_wage__gte=0),
                name="member_wage_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def age(self, on: dt.date | None = None) -> int | None:
        if not self.birth_date:
            return None
        on = on or dt.date.today()
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))

    @classmethod
    def field_choices(cls, name: str) -> list[tuple[str, str]]:
        field = cls._meta.get_field(name)
        assert isinstance(field, models.Field)
        return list(field.choices or [])

    @property
    def is_current(self) -> bool:
        return self.status in CURRENT_STATUSES


class MembershipChange(models.Model):
    """One event in a member's membership: 入会, 转入, 转出, 退休/保留会籍, 退会, 恢复, 去世.

    The history is the record; ``Member.status`` is its latest consequence. ``union`` is
    the union that recorded the change (the member's union at the time), so a transfer
    keeps its place in the old union's figures after the member has gone.
    """

    member = models.ForeignKey(
        Member, verbose_name="会员", on_delete=models.CASCADE, related_name="changes"
    )
    union = models.ForeignKey(
        "org.Union", verbose_name="登记工会", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField("变动类型", max_length=16, choices=ChangeKind.choices)
    date = models.DateField("日期")
    other_org = models.CharField(
        "转出去向/转入来源", max_length=100, blank=True, help_text="转入、转出时填写对方单位"
    )
    note = models.CharField("备注", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="登记人",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "会籍变动"
        verbose_name_plural = "会籍变动"
        ordering = ["date", "id"]
        indexes = [
            # A member's latest change on a date, kind included: an index-only probe per
            # member for the roster as of a date (queries.on_roster_as_of).
            models.Index(fields=["member", "date", "id", "kind"], name="change_member_latest_idx"),
            models.Index(fields=["union", "kind", "date"], name="change_union_kind_date_idx"),
            # The changes of a period (queries.changed_between: joined, left).
            models.Index(fields=["kind", "date", "member"], name="change_kind_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"
