"""The choices of 关爱服务: visits, hardship files, subsidies, donations, coverage."""

from django.db import models

from gonghui.common.states import Kind, register


class VisitReason(models.TextChoices):
    SICK = "sick", "生病住院"
    CHILDBIRTH = "childbirth", "生育"
    WEDDING = "wedding", "结婚"
    BEREAVEMENT = "bereavement", "丧葬"
    BIRTHDAY = "birthday", "生日"
    FESTIVAL = "festival", "节日"
    RETIREMENT = "retirement", "退休"
    SUMMER = "summer", "夏季送清凉"
    HARDSHIP = "hardship", "困难"
    OTHER = "other", "其他"


class VisitVariant(models.TextChoices):
    """What a cap depends on besides the reason: a hospital stay with surgery has a
    higher cap, and a death of the member a higher one than of a close relative."""

    NONE = "", "—"
    SURGERY = "surgery", "手术"
    MEMBER_DEATH = "member_death", "会员本人去世"
    RELATIVE_DEATH = "relative_death", "直系亲属去世"


#: The variants each reason may take (the first is the default).
REASON_VARIANTS: dict[str, tuple[str, ...]] = {
    VisitReason.SICK: (VisitVariant.NONE, VisitVariant.SURGERY),
    VisitReason.BEREAVEMENT: (VisitVariant.RELATIVE_DEATH, VisitVariant.MEMBER_DEATH),
}


class VisitForm(models.TextChoices):
    CASH = "cash", "现金"
    GOODS = "goods", "实物"
    VOUCHER = "voucher", "购物卡/券"


class Recipient(models.TextChoices):
    MEMBER = "member", "在职会员"
    RETIREE = "retiree", "退休职工"
    FAMILY = "family", "会员家属"


class EntryState(models.TextChoices):
    """A money row is never edited: a mistake is undone by a reversing row (红字冲销),
    and the original is marked as reversed. Figures count the valid rows only."""

    VALID = "valid", "有效"
    REVERSED = "reversed", "已冲销"
    REVERSAL = "reversal", "冲销记录"


class CapEnforcement(models.TextChoices):
    WARN = "warn", "提醒（确认后仍可保存）"
    BLOCK = "block", "禁止（超标不能保存）"


class CapPreset(models.TextChoices):
    ANHUI = "anhui", "安徽现行"
    ANHUI_2018 = "anhui_2018", "安徽2018年"
    FUJIAN = "fujian", "福建"
    NONE = "none", "不设上限"


class CapItem(models.TextChoices):
    """The items a cap is set for, 元 per member per year (one-off for hardship)."""

    FESTIVAL = "festival", "节日慰问（全年合计）"
    BIRTHDAY = "birthday", "生日慰问"
    WEDDING = "wedding", "结婚慰问"
    CHILDBIRTH = "childbirth", "生育慰问"
    SICK = "sick", "生病住院慰问"
    SICK_SURGERY = "sick_surgery", "住院手术慰问"
    MEMBER_DEATH = "member_death", "会员去世慰问"
    RELATIVE_DEATH = "relative_death", "直系亲属去世慰问"
    RETIREMENT = "retirement", "退休慰问"
    HARDSHIP = "hardship", "困难慰问、一次性困难补助（每次）"
    PRIZE_FIRST = "prize_first", "文体活动一等奖奖品（每项）"
    OUTING_DAY = "outing_day", "参观、疗休养（每人每天）"


class HardshipCategory(models.TextChoices):
    DEEP = "deep", "深度困难"
    RELATIVE = "relative", "相对困难"
    ACCIDENT = "accident", "意外致困"
    NONE = "none", "不符合建档条件"


class HardshipStatus(models.TextChoices):
    OPEN = "open", "在档"
    CLOSED = "closed", "已脱档"


class SubsidyKind(models.TextChoices):
    HARDSHIP = "hardship", "困难补助"
    ILLNESS = "illness", "大病补助"
    EDUCATION = "education", "助学"
    OTHER = "other", "其他"


class SubsidyStatus(models.TextChoices):
    APPLIED = "applied", "已申请"
    REVIEWED = "reviewed", "已审核"
    APPROVED = "approved", "已批准"
    PAID = "paid", "已发放"
    REJECTED = "rejected", "未通过"


#: The subsidy workflow: from each status, the statuses it may move to.
SUBSIDY_TRANSITIONS: dict[str, tuple[str, ...]] = {
    SubsidyStatus.APPLIED: (SubsidyStatus.REVIEWED, SubsidyStatus.REJECTED),
    SubsidyStatus.REVIEWED: (SubsidyStatus.APPROVED, SubsidyStatus.REJECTED),
    # An approval can still be withdrawn before the money goes out (the member left …).
    SubsidyStatus.APPROVED: (SubsidyStatus.PAID, SubsidyStatus.REJECTED),
    SubsidyStatus.PAID: (),
    SubsidyStatus.REJECTED: (),
}


class FundSource(models.TextChoices):
    OWN = "own", "本级工会经费"
    UPPER = "upper", "上级工会补助"


class DonorKind(models.TextChoices):
    MEMBER = "member", "会员"
    PERSON = "person", "个人（非会员）"
    UNIT = "unit", "单位"


class CoverageKind(models.TextChoices):
    MEDICAL = "medical", "综合医疗保障"
    MUTUAL = "mutual", "职工互助保险"
    CHECKUP = "checkup", "健康体检"
    OTHER = "other", "其他"


#: The programmes whose enrolment is the report's 投保率.
INSURANCE_KINDS = (CoverageKind.MEDICAL, CoverageKind.MUTUAL)


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "已申报"
    PAID = "paid", "已赔付"
    REJECTED = "rejected", "未获赔"


# The kind of each state, for its badge (gonghui.common.states).
register(
    EntryState,
    {
        EntryState.VALID: Kind.DONE,
        EntryState.REVERSED: Kind.VOIDED,
        EntryState.REVERSAL: Kind.ENDED,
    },
)
register(HardshipStatus, {HardshipStatus.OPEN: Kind.ONGOING, HardshipStatus.CLOSED: Kind.ENDED})
register(
    SubsidyStatus,
    {
        # Each waits for the next hand: review, approval, payment.
        SubsidyStatus.APPLIED: Kind.WAITING,
        SubsidyStatus.REVIEWED: Kind.WAITING,
        SubsidyStatus.APPROVED: Kind.WAITING,
        SubsidyStatus.PAID: Kind.DONE,
        SubsidyStatus.REJECTED: Kind.REFUSED,
    },
)
register(
    ClaimStatus,
    {
        ClaimStatus.SUBMITTED: Kind.WAITING,
        ClaimStatus.PAID: Kind.DONE,
        ClaimStatus.REJECTED: Kind.REFUSED,
    },
)
