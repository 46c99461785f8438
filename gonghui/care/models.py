"""关爱服务: visits (慰问), hardship files, subsidies, donations and coverage.

Money rows (visits, donations, subsidy payments) are never edited: a mistake is undone
by a reversing row (红字冲销) that the figures net out, and both stay on the record.
Every write goes through ``care.services``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from gonghui.common.models import TimeStampedModel

from .choices import (
    CapEnforcement,
    CapPreset,
    ClaimStatus,
    CoverageKind,
    DonorKind,
    EntryState,
    FundSource,
    HardshipCategory,
    HardshipStatus,
    Recipient,
    SubsidyKind,
    SubsidyStatus,
    VisitForm,
    VisitReason,
    VisitVariant,
)
from .rules import DEFAULT_ACCIDENT_RATIO, DEFAULT_PRESET, DEFAULT_WINNERS_SHARE

if TYPE_CHECKING:
    from gonghui.org.models import Union

USER = settings.AUTH_USER_MODEL


def _money(label: str, **kw: object) -> models.DecimalField:
    return models.DecimalField(label, max_digits=12, decimal_places=2, **kw)  # type: ignore[arg-type]


class CarePolicy(TimeStampedModel):
    """A union's spending caps and hardship settings; inherited down the tree.

    A union without its own policy follows the nearest union above it that has one
    (``care.queries.policy_for``); a branch may set its own to override.
    """

    union = models.OneToOneField(
        "org.Union", verbose_name="工会组织", on_delete=models.CASCADE, related_name="care_policy"
    )
    preset = models.CharField(
        "标准", max_length=16, choices=CapPreset.choices, default=DEFAULT_PRESET
    )
    overrides = models.JSONField(
        "本工会调整的上限", default=dict, blank=True, help_text="{项目: 金额或 null（不设上限）}"
    )
    enforcement = models.CharField(
        "超标时", max_length=8, choices=CapEnforcement.choices, default=CapEnforcement.WARN
    )
    festival_goods_only = models.BooleanField(
        "节日慰问只发实物",
        default=True,
        help_text="开启时，节日慰问不能发放现金、购物卡或购物券",
    )
    birthday_cake_only = models.BooleanField(
        "生日慰问只发蛋糕或蛋糕券",
        default=True,
        help_text="开启时，生日慰问不能发放现金",
    )
    dibao_line = _money(
        "当地低保标准（元/月）", null=True, blank=True, validators=[MinValueValidator(0)]
    )
    winners_share = models.DecimalField(
        "获奖面",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        default=DEFAULT_WINNERS_SHARE,
        help_text="文体活动获奖人数不超过参加人数的这一比例（如 0.33 即三分之一）；留空不限",
    )
    min_handlers = models.PositiveSmallIntegerField(
        "最少经手人数",
        choices=[
            (3, "3 人：审核、批准、发放各由一人办理"),
            (2, "2 人（很小的工会）：审核人可兼发放"),
        ],
        default=3,
        help_text="补助的审核、批准、发放至少由几个不同的人办理；批准人始终不能审核或发放同一份申请",
    )
    accident_ratio = models.DecimalField(
        "意外致困比例",
        max_digits=4,
        decimal_places=2,
        default=DEFAULT_ACCIDENT_RATIO,
        help_text="当年因灾因病支出超过家庭收入的这一比例，认定为意外致困（如 0.80）",
    )

    class Meta:
        verbose_name = "开支标准"
        verbose_name_plural = "开支标准"

    def __str__(self) -> str:
        return f"{self.union}的开支标准"


class LedgerEntry(TimeStampedModel):
    """A row of money given (慰问, 捐款): never edited; a mistake is undone by a reversing
    row (红字冲销, ``services._reverse_entry``) and the original marked as reversed."""

    state = models.CharField(
        "状态", max_length=8, choices=EntryState.choices, default=EntryState.VALID
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name="冲销的记录",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
    )
    created_by = models.ForeignKey(
        USER,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Each kind declares these with its own labels and lengths.
    union: models.ForeignKey[Union, Union]
    amount: models.DecimalField[Decimal, Decimal]
    date: models.DateField[dt.date, dt.date]
    note: models.CharField[str, str]

    class Meta:
        abstract = True


class Visit(LedgerEntry):
    """One 慰问: who was visited, why, what was given and its value in 元.

    ``amount`` is the value of what was given, cash or goods alike (the report's
    慰问金额). ``recipient`` says whom it went to: a serving member, a retiree (on the
    roster as 保留会籍 or named only) or a member's family. ``over_cap`` records that the
    officer saved it past a cap warning, with the warning as it was shown.
    """

    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField("慰问日期")
    member = models.ForeignKey(
        "members.Member",
        verbose_name="会员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    recipient = models.CharField(
        "慰问对象", max_length=8, choices=Recipient.choices, default=Recipient.MEMBER
    )
    recipient_name = models.CharField("姓名", max_length=50)
    relation = models.CharField("与会员关系", max_length=20, blank=True)
    reason = models.CharField("慰问事由", max_length=16, choices=VisitReason.choices)
    variant = models.CharField(
        "细分", max_length=16, choices=VisitVariant.choices, blank=True, default=""
    )
    form = models.CharField("慰问形式", max_length=8, choices=VisitForm.choices)
    amount = _money("金额（元）")
    goods = models.CharField("慰问物品", max_length=200, blank=True)
    visitors = models.CharField("慰问人", max_length=200, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    over_cap = models.BooleanField("超标准", default=False)
    cap_note = models.CharField("超标说明", max_length=500, blank=True)
    batch = models.CharField("批次", max_length=32, blank=True, db_index=True)

    class Meta:
        verbose_name = "慰问"
        verbose_name_plural = "慰问"
        ordering = ["-date", "-id"]
        indexes = [
            # The report's figures over a period and a subtree: every column they read,
            # so the count and the sums never touch the table (bench/bench_care.py).
            models.Index(
                fields=["date", "union", "state", "reason", "recipient", "amount"],
                name="visit_report_idx",
            ),
            # The same for one union's subtree (a few unions, their dates): SQLite picks
            # it for a 基层工会 or below and, holding every column, never reads the table.
            models.Index(
                fields=["union", "date", "state", "reason", "recipient", "amount"],
                name="visit_union_report_idx",
            ),
            # Caps: one member's spending on one item in one year.
            models.Index(fields=["member", "reason", "date"], name="visit_member_reason_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) | Q(state=EntryState.REVERSAL),
                name="visit_amount_not_negative",
                violation_error_message="金额不能为负数。",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(state=EntryState.REVERSAL),
                name="visit_only_reversals_reverse",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_reason_display()}慰问 {self.recipient_name}"


def _photo_path(instance: VisitPhoto, filename: str) -> str:
    import uuid
    from pathlib import Path

    suffix = Path(filename).suffix.lower()[:8]
    return f"care/visits/{instance.visit_id}/{uuid.uuid4().hex}{suffix}"


class VisitPhoto(models.Model):
    """A photo of a visit. Served only through a view that checks the viewer's scope."""

    visit = models.ForeignKey(
        Visit, verbose_name="慰问", on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField("照片", upload_to=_photo_path, max_length=300)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("大小", default=0)
    uploaded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "慰问照片"
        verbose_name_plural = "慰问照片"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class HospitalStay(TimeStampedModel):
    """A member reported in hospital, so that the union visits them (a reminder until a
    生病住院 visit on or after the admission is recorded)."""

    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name="会员",
        on_delete=models.PROTECT,
        related_name="hospital_stays",
    )
    admitted_on = models.DateField("住院日期")
    discharged_on = models.DateField("出院日期", null=True, blank=True)
    hospital = models.CharField("医院", max_length=100, blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    created_by = models.ForeignKey(
        USER,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "住院登记"
        verbose_name_plural = "住院登记"
        ordering = ["-admitted_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=models.F("admitted_on")),
                name="stay_discharge_after_admission",
                violation_error_message="出院日期不能早于住院日期。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.admitted_on:%Y-%m-%d} 住院"


class HardshipFile(TimeStampedModel):
    """困难职工档案: a member's household, its figures and the category they give.

    ``category`` and ``per_capita_monthly`` are computed by ``care.rules.assess`` from
    the figures whenever the file is opened or reviewed; they are stored so that lists
    and the report can filter on them. One open file per member.
    """

    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name="会员",
        on_delete=models.PROTECT,
        related_name="hardship_files",
    )
    status = models.CharField(
        "状态", max_length=8, choices=HardshipStatus.choices, default=HardshipStatus.OPEN
    )
    category = models.CharField("困难类别", max_length=10, choices=HardshipCategory.choices)
    opened_on = models.DateField("建档日期")
    cause = models.CharField("致困原因", max_length=300)
    other_income = _money(
        "其他家庭收入（元/年）", default=Decimal(0), help_text="租金、赡养费、各类补贴等"
    )
    expenses = _money(
        "刚性支出（元/年）", default=Decimal(0), help_text="医疗、子女教育等必不可少的支出"
    )
    hardship_costs = _money(
        "当年因灾因病支出（元）", default=Decimal(0), help_text="用于认定意外致困"
    )
    household_size = models.PositiveSmallIntegerField("家庭人口", default=1)
    income = _money("家庭年可支配收入（元）", default=Decimal(0), editable=False)
    per_capita_monthly = _money("人均月收入（元）", default=Decimal(0), editable=False)
    multiple_homes = models.BooleanField("拥有两套及以上住房", default=False)
    owns_business = models.BooleanField("经营商铺或雇用他人", default=False)
    private_school = models.BooleanField("子女就读高收费民办学校或自费留学", default=False)
    migrant_worker = models.BooleanField("农民工", default=False)
    labour_since = models.DateField("劳动关系起始日期", null=True, blank=True)
    last_reviewed_on = models.DateField("上次复核日期", null=True, blank=True)
    closed_on = models.DateField("脱档日期", null=True, blank=True)
    close_reason = models.CharField("脱档原因", max_length=300, blank=True)
    created_by = models.ForeignKey(
        USER,
        verbose_name="建档人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "困难职工档案"
        verbose_name_plural = "困难职工档案"
        ordering = ["-opened_on", "-id"]
        indexes = [
            models.Index(fields=["union", "opened_on", "closed_on"], name="hardship_union_idx")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status=HardshipStatus.OPEN),
                name="hardship_one_open_file_per_member",
                violation_error_message="该会员已有在档的困难职工档案。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member}的困难职工档案（{self.opened_on:%Y}）"


class HouseholdMember(models.Model):
    """One person of a hardship file's household, the member included."""

    file = models.ForeignKey(
        HardshipFile, verbose_name="档案", on_delete=models.CASCADE, related_name="household"
    )
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("与会员关系", max_length=20)
    birth_year = models.PositiveSmallIntegerField("出生年份", null=True, blank=True)
    situation = models.CharField("就业、健康或就学情况", max_length=100, blank=True)
    annual_income = _money("年收入（元）", default=Decimal(0))

    class Meta:
        verbose_name = "家庭成员"
        verbose_name_plural = "家庭成员"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）"


class HardshipReview(models.Model):
    """A yearly review (or the opening assessment) of a hardship file, as it found it."""

    file = models.ForeignKey(
        HardshipFile, verbose_name="档案", on_delete=models.CASCADE, related_name="reviews"
    )
    date = models.DateField("复核日期")
    category = models.CharField("困难类别", max_length=10, choices=HardshipCategory.choices)
    per_capita_monthly = _money("人均月收入（元）")
    household_size = models.PositiveSmallIntegerField("家庭人口")
    income = _money("家庭年可支配收入（元）")
    note = models.CharField("复核意见", max_length=500, blank=True)
    reviewer = models.ForeignKey(
        USER,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "档案复核"
        verbose_name_plural = "档案复核"
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} 复核"


class Subsidy(TimeStampedModel):
    """A 补助: applied for, reviewed, approved, paid, or rejected with a reason.

    The workflow is the table ``choices.SUBSIDY_TRANSITIONS``; ``care.services`` moves
    it and writes a :class:`SubsidyEvent` for each move. Each amount is set once, at
    its own step, and never changed afterwards.
    """

    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name="会员", on_delete=models.PROTECT, related_name="subsidies"
    )
    kind = models.CharField("补助类型", max_length=10, choices=SubsidyKind.choices)
    status = models.CharField(
        "状态", max_length=10, choices=SubsidyStatus.choices, default=SubsidyStatus.APPLIED
    )
    reason = models.CharField("申请理由", max_length=500, blank=True)
    source = models.CharField(
        "资金来源", max_length=8, choices=FundSource.choices, default=FundSource.OWN
    )
    applied_on = models.DateField("申请日期")
    requested_amount = _money("申请金额（元）", validators=[MinValueValidator(0)])
    approved_amount = _money("批准金额（元）", null=True, blank=True)
    paid_amount = _money("发放金额（元）", null=True, blank=True)
    paid_on = models.DateField("发放日期", null=True, blank=True)
    reject_reason = models.CharField("未通过原因", max_length=300, blank=True)
    hardship_file = models.ForeignKey(
        HardshipFile,
        verbose_name="困难职工档案",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subsidies",
    )
    applicant = models.ForeignKey(
        USER,
        verbose_name="申请人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField("备注", max_length=500, blank=True)
    imported = models.BooleanField("导入的历史记录", default=False)

    class Meta:
        verbose_name = "补助"
        verbose_name_plural = "补助"
        ordering = ["-applied_on", "-id"]
        indexes = [
            models.Index(
                fields=["paid_on", "union", "status", "paid_amount"], name="subsidy_paid_idx"
            ),
            models.Index(fields=["union", "status"], name="subsidy_union_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status=SubsidyStatus.PAID, paid_on__isnull=False, paid_amount__isnull=False
                )
                | ~Q(status=SubsidyStatus.PAID),
                name="subsidy_paid_has_date_and_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member}的{self.get_kind_display()}（{self.applied_on:%Y-%m-%d}）"


class SubsidyEvent(models.Model):
    """One move of a subsidy through its workflow: who, when, from what to what."""

    subsidy = models.ForeignKey(
        Subsidy, verbose_name="补助", on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField(
        "原状态", max_length=10, choices=SubsidyStatus.choices, blank=True
    )
    to_status = models.CharField("新状态", max_length=10, choices=SubsidyStatus.choices)
    amount = _money("金额（元）", null=True, blank=True)
    note = models.CharField("意见", max_length=500, blank=True)
    actor = models.ForeignKey(
        USER,
        verbose_name="经办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("经办人姓名", max_length=150, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "补助流转"
        verbose_name_plural = "补助流转"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_to_status_display()}（{self.actor_name}）"


def _attachment_path(instance: SubsidyAttachment, filename: str) -> str:
    import uuid
    from pathlib import Path

    suffix = Path(filename).suffix.lower()[:8]
    return f"care/subsidies/{instance.subsidy_id}/{uuid.uuid4().hex}{suffix}"


class SubsidyAttachment(models.Model):
    """A paper behind a 补助 application (a hospital bill, a certificate): an image or a
    PDF, checked by its content. Served only through a view that checks the viewer's
    scope or that the subsidy is their own; there is no public URL."""

    subsidy = models.ForeignKey(
        Subsidy, verbose_name="补助", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("附件", upload_to=_attachment_path, max_length=300)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField("大小", default=0)
    uploaded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "补助附件"
        verbose_name_plural = "补助附件"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class DonationDrive(TimeStampedModel):
    """A 捐款 drive (一日捐, 爱心捐款 for a sick colleague …)."""

    union = models.ForeignKey(
        "org.Union", verbose_name="发起工会", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("活动名称", max_length=100)
    purpose = models.CharField("捐款用途", max_length=300, blank=True)
    beneficiary = models.CharField("受助对象", max_length=100, blank=True)
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    created_by = models.ForeignKey(
        USER,
        verbose_name="发起人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "捐款活动"
        verbose_name_plural = "捐款活动"
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["union", "name"],
                name="drive_name_unique_in_union",
                violation_error_message="本工会已有同名的捐款活动。",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Donation(LedgerEntry):
    """One gift to a drive, by a member, another person or a unit. Never edited: a
    mistake is reversed (see ``EntryState``)."""

    drive = models.ForeignKey(
        DonationDrive, verbose_name="捐款活动", on_delete=models.PROTECT, related_name="donations"
    )
    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    donor_kind = models.CharField(
        "捐款人类型", max_length=8, choices=DonorKind.choices, default=DonorKind.MEMBER
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name="会员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="donations",
    )
    donor_name = models.CharField("捐款人", max_length=100)
    amount = _money("金额（元）")
    date = models.DateField("捐款日期")
    note = models.CharField("备注", max_length=300, blank=True)

    class Meta:
        verbose_name = "捐款"
        verbose_name_plural = "捐款"
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(
                fields=["date", "union", "state", "member", "amount"], name="donation_report_idx"
            ),
            models.Index(fields=["drive", "state"], name="donation_drive_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) | Q(state=EntryState.REVERSAL),
                name="donation_amount_positive",
                violation_error_message="捐款金额必须大于 0。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.donor_name} 捐款 {self.amount} 元"


class CoverageProgramme(TimeStampedModel):
    """A year's 综合医疗保障, 互助保险 or health check that members are enrolled in."""

    union = models.ForeignKey(
        "org.Union", verbose_name="组织工会", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("类型", max_length=8, choices=CoverageKind.choices)
    name = models.CharField("项目名称", max_length=100)
    provider = models.CharField("承办机构", max_length=100, blank=True)
    premium = _money("每人费用（元）", null=True, blank=True, validators=[MinValueValidator(0)])
    note = models.CharField("备注", max_length=500, blank=True)

    class Meta:
        verbose_name = "保障项目"
        verbose_name_plural = "保障项目"
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["union", "year", "name"],
                name="programme_unique",
                violation_error_message="本工会该年度已有同名的保障项目。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}年{self.name}"


class Enrolment(models.Model):
    """A member enrolled in a programme."""

    programme = models.ForeignKey(
        CoverageProgramme,
        verbose_name="保障项目",
        on_delete=models.CASCADE,
        related_name="enrolments",
    )
    member = models.ForeignKey(
        "members.Member", verbose_name="会员", on_delete=models.PROTECT, related_name="enrolments"
    )
    enrolled_on = models.DateField("参保日期")

    class Meta:
        verbose_name = "参保"
        verbose_name_plural = "参保"
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "member"],
                name="enrolment_once",
                violation_error_message="该会员已参加这个项目。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} 参加 {self.programme}"


class Claim(TimeStampedModel):
    """A claim on a programme: submitted, then paid (with the amount) or rejected."""

    programme = models.ForeignKey(
        CoverageProgramme, verbose_name="保障项目", on_delete=models.PROTECT, related_name="claims"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name="会员", on_delete=models.PROTECT, related_name="claims"
    )
    date = models.DateField("申报日期")
    amount = _money("申报金额（元）", validators=[MinValueValidator(0)])
    paid_amount = _money("赔付金额（元）", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED
    )
    decided_on = models.DateField("处理日期", null=True, blank=True)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "理赔"
        verbose_name_plural = "理赔"
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.member} {self.date:%Y-%m-%d} 理赔"
