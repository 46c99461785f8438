"""文体活动与培训: activities with sign-up and attendance, awards, clubs, knowledge contests.

Every write goes through ``activities.services``. A registration's status is the
member's place in the activity (报名, 候补, 签到, 缺席, 已取消); the activity row is locked
while a place is taken or given back, so that the last place goes to exactly one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from gonghui.common.models import TimeStampedModel

from .choices import ActivityStatus, AwardKind, Category, RegSource, RegStatus

USER = settings.AUTH_USER_MODEL


class Club(TimeStampedModel):
    """A 兴趣小组 or team (合唱队, 乒乓队, 健身沙龙) of a union, with its members."""

    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("名称", max_length=50)
    description = models.CharField("简介", max_length=300, blank=True)
    leader = models.ForeignKey(
        "members.Member",
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    archived_at = models.DateTimeField("停止活动时间", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "兴趣小组"
        verbose_name_plural = "兴趣小组"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["union", "name"],
                name="club_name_unique_in_union",
                violation_error_message="本工会已有同名的兴趣小组。",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ClubMembership(models.Model):
    club = models.ForeignKey(
        Club, verbose_name="兴趣小组", on_delete=models.CASCADE, related_name="memberships"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name="会员",
        on_delete=models.CASCADE,
        related_name="club_memberships",
    )
    joined_on = models.DateField("加入日期")

    class Meta:
        verbose_name = "小组成员"
        verbose_name_plural = "小组成员"
        constraints = [
            models.UniqueConstraint(
                fields=["club", "member"],
                name="club_member_once",
                violation_error_message="已是小组成员。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.club}"


class Activity(TimeStampedModel):
    """One activity: a match, a performance, a training class, an outing, a contest.

    ``union`` organised it (and owns it for scope and the report); who may join is the
    subtree of ``audience`` (by default the organiser's), or only the members of
    ``club``. A training class (类别「培训」) has its 学时 and says whether it certifies.
    """

    union = models.ForeignKey(
        "org.Union", verbose_name="组织工会", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField("活动名称", max_length=100)
    category = models.CharField("类别", max_length=12, choices=Category.choices)
    audience = models.ForeignKey(
        "org.Union",
        verbose_name="参加范围",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="该组织及其下级组织的会员可以报名",
    )
    club = models.ForeignKey(
        Club,
        verbose_name="限兴趣小组",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
    )
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")
    start_time = models.TimeField("开始时间", null=True, blank=True)
    place = models.CharField("地点", max_length=100, blank=True)
    capacity = models.PositiveIntegerField(
        "名额", null=True, blank=True, help_text="留空为不限；报满后再报名的进入候补"
    )
    signup_opens = models.DateTimeField("报名开始", null=True, blank=True)
    signup_closes = models.DateTimeField("报名截止", null=True, blank=True)
    cost = models.DecimalField(
        "人均费用（元）", max_digits=10, decimal_places=2, null=True, blank=True
    )
    hours = models.DecimalField(
        "学时",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    certificate = models.BooleanField("颁发证书", default=False)
    description = models.TextField("活动说明", blank=True)
    note = models.CharField("备注", max_length=300, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=ActivityStatus.choices, default=ActivityStatus.OPEN
    )
    cancel_reason = models.CharField("取消原因", max_length=300, blank=True)
    #: Signs the rotating check-in codes (see ``services.checkin_token``); never shown.
    checkin_key = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        USER,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "活动"
        verbose_name_plural = "活动"
        ordering = ["-start_date", "-id"]
        indexes = [
            # The report's figures over a period and a subtree, without the rows.
            models.Index(
                fields=["start_date", "union", "status", "category", "hours"],
                name="activity_report_idx",
            ),
            models.Index(fields=["union", "start_date"], name="activity_union_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="activity_ends_after_it_starts",
                violation_error_message="结束日期不能早于开始日期。",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_training(self) -> bool:
        return self.category == Category.TRAINING

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class Registration(models.Model):
    """A member's place in an activity, from sign-up to attendance.

    ``union`` is the member's union when they signed up (attendance by branch keeps it
    after a transfer). ``created_at`` orders the waitlist.
    """

    activity = models.ForeignKey(
        Activity, verbose_name="活动", on_delete=models.CASCADE, related_name="registrations"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name="会员",
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    union = models.ForeignKey(
        "org.Union", verbose_name="所属工会", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("状态", max_length=12, choices=RegStatus.choices)
    source = models.CharField(
        "方式", max_length=8, choices=RegSource.choices, default=RegSource.SELF
    )
    created_at = models.DateTimeField("报名时间", auto_now_add=True)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True)
    marked_by = models.ForeignKey(
        USER,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "报名"
        verbose_name_plural = "报名"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["activity", "status", "created_at"], name="registration_queue_idx"
            ),
            # Attendance and participation of a period: the period's activities' rows by
            # status, with the member, from the index alone. (Not an index led by union:
            # with union and activity both equalities SQLite probed every pair of them,
            # 12 million probes for a city's year; see bench/README.md.)
            models.Index(fields=["activity", "status", "member"], name="registration_report_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "member"],
                name="registration_once",
                violation_error_message="该会员已报名这个活动。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.activity}（{self.get_status_display()}）"


class Award(TimeStampedModel):
    """A result of an activity: a rank and a prize, to a member or a team."""

    activity = models.ForeignKey(
        Activity, verbose_name="活动", on_delete=models.CASCADE, related_name="awards"
    )
    kind = models.CharField(
        "获奖类型", max_length=12, choices=AwardKind.choices, default=AwardKind.INDIVIDUAL
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name="获奖会员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="awards",
    )
    team = models.CharField("获奖团体", max_length=100, blank=True)
    rank = models.PositiveSmallIntegerField(
        "名次",
        validators=[MinValueValidator(1), MaxValueValidator(999)],
        help_text="1 为一等奖或第一名",
    )
    prize = models.CharField("奖项", max_length=50, help_text="如：一等奖、优秀奖")
    prize_value = models.DecimalField(
        "奖品价值（元）",
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    over_cap = models.BooleanField("超标准", default=False)
    cap_note = models.CharField("超标说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "获奖"
        verbose_name_plural = "获奖"
        ordering = ["rank", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=AwardKind.INDIVIDUAL) & Q(member__isnull=False))
                | (Q(kind=AwardKind.TEAM) & ~Q(team="")),
                name="award_has_a_winner",
                violation_error_message="个人奖请填写获奖会员，团体奖请填写团体名称。",
            )
        ]

    def __str__(self) -> str:
        who = self.member.name if self.member_id and self.member else self.team
        return f"{who}：{self.prize}"


class Quiz(TimeStampedModel):
    """A knowledge contest's question bank and pass mark; members answer on their phones
    while the activity runs."""

    activity = models.OneToOneField(
        Activity, verbose_name="活动", on_delete=models.CASCADE, related_name="quiz"
    )
    pass_mark = models.PositiveSmallIntegerField(
        "及格分（百分制）", default=60, validators=[MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = "知识竞赛"
        verbose_name_plural = "知识竞赛"

    def __str__(self) -> str:
        return f"{self.activity}（题库）"


class Question(models.Model):
    quiz = models.ForeignKey(
        Quiz, verbose_name="竞赛", on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveSmallIntegerField("题号", default=0)
    text = models.CharField("题目", max_length=500)
    options = models.JSONField("选项", default=list)
    answer = models.JSONField("正确答案", default=list, help_text="正确选项的序号（从 0 起）")
    points = models.PositiveSmallIntegerField("分值", default=1)

    class Meta:
        verbose_name = "题目"
        verbose_name_plural = "题目"
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Attempt(models.Model):
    """A member's answers to a contest, scored when submitted (one per member)."""

    quiz = models.ForeignKey(
        Quiz, verbose_name="竞赛", on_delete=models.CASCADE, related_name="attempts"
    )
    member = models.ForeignKey(
        "members.Member", verbose_name="会员", on_delete=models.PROTECT, related_name="attempts"
    )
    answers = models.JSONField("作答", default=dict)
    score = models.PositiveSmallIntegerField("得分")
    total = models.PositiveSmallIntegerField("满分")
    passed = models.BooleanField("及格")
    submitted_at = models.DateTimeField("交卷时间", auto_now_add=True)

    class Meta:
        verbose_name = "答卷"
        verbose_name_plural = "答卷"
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "member"],
                name="attempt_once",
                violation_error_message="已经交过卷了。",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.score}/{self.total}"
