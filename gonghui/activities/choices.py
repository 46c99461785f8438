"""The choices of 文体活动与培训: activities, registrations, awards, clubs, contests."""

from django.db import models

from gonghui.common.states import Kind, register


class Category(models.TextChoices):
    SPORTS = "sports", "体育"
    ARTS = "arts", "文艺"
    TRAINING = "training", "培训"
    READING = "reading", "读书/征文"
    QUIZ = "quiz", "知识竞赛"
    OUTING = "outing", "参观/疗休养"
    FESTIVAL = "festival", "节日庆祝"
    VOLUNTEER = "volunteer", "志愿服务"
    OTHER = "other", "其他"


class ActivityStatus(models.TextChoices):
    OPEN = "open", "进行中"
    CANCELLED = "cancelled", "已取消"


class RegStatus(models.TextChoices):
    """A member's place in an activity. 报名 and 候补 hold or wait for a place; 签到 and
    缺席 are the attendance taken on the day; 已取消 gave the place back."""

    SIGNED_UP = "signed_up", "已报名"
    WAITLISTED = "waitlisted", "候补"
    ATTENDED = "attended", "已签到"
    ABSENT = "absent", "缺席"
    CANCELLED = "cancelled", "已取消"


#: Registrations that hold a place (count against the capacity).
HOLDING = (RegStatus.SIGNED_UP, RegStatus.ATTENDED, RegStatus.ABSENT)


class RegSource(models.TextChoices):
    SELF = "self", "本人报名"
    OFFICER = "officer", "工会登记"
    QR = "qr", "扫码签到"
    IMPORT = "import", "导入"


class AwardKind(models.TextChoices):
    INDIVIDUAL = "individual", "个人"
    TEAM = "team", "团体"


# The kind of each state, for its badge (gonghui.common.states).
register(ActivityStatus, {ActivityStatus.OPEN: Kind.ONGOING, ActivityStatus.CANCELLED: Kind.VOIDED})
register(
    RegStatus,
    {
        RegStatus.SIGNED_UP: Kind.ONGOING,
        RegStatus.WAITLISTED: Kind.WAITING,
        RegStatus.ATTENDED: Kind.DONE,
        RegStatus.ABSENT: Kind.REFUSED,
        RegStatus.CANCELLED: Kind.VOIDED,
    },
)
