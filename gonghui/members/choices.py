from django.db import models

from gonghui.common.states import Kind, register


class Gender(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class EmploymentType(models.TextChoices):
    STAFF = "staff", "在编"
    CONTRACT = "contract", "合同制"
    DISPATCHED = "dispatched", "劳务派遣"
    TEMPORARY = "temporary", "临时/制度外"
    REHIRED = "rehired", "退休返聘"


#: Counted as 临时性用工 in the report (劳务派遣, 临时, 制度外).
TEMPORARY_EMPLOYMENT = (EmploymentType.DISPATCHED, EmploymentType.TEMPORARY)


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "在册"
    RETAINED = "retained", "保留会籍"
    TRANSFERRED_OUT = "transferred_out", "已转出"
    WITHDRAWN = "withdrawn", "已退会"
    DECEASED = "deceased", "已去世"


register(
    MemberStatus,
    {
        MemberStatus.ACTIVE: Kind.DONE,
        # 退休保留会籍: still a member, under way rather than finished or waiting.
        MemberStatus.RETAINED: Kind.ONGOING,
        MemberStatus.TRANSFERRED_OUT: Kind.ENDED,
        MemberStatus.WITHDRAWN: Kind.ENDED,
        MemberStatus.DECEASED: Kind.ENDED,
    },
)

#: Statuses that hold a place in the tree: the same person may hold only one.
CURRENT_STATUSES = (MemberStatus.ACTIVE, MemberStatus.RETAINED)


class ChangeKind(models.TextChoices):
    JOIN = "join", "入会"
    TRANSFER_IN = "transfer_in", "转入"
    TRANSFER_OUT = "transfer_out", "转出"
    RETIRE = "retire", "退休/保留会籍"
    WITHDRAW = "withdraw", "退会"
    RESTORE = "restore", "恢复"
    DEATH = "death", "去世"


#: The status a member has after each kind of change.
STATUS_AFTER: dict[str, str] = {
    ChangeKind.JOIN: MemberStatus.ACTIVE,
    ChangeKind.TRANSFER_IN: MemberStatus.ACTIVE,
    ChangeKind.RESTORE: MemberStatus.ACTIVE,
    ChangeKind.TRANSFER_OUT: MemberStatus.TRANSFERRED_OUT,
    ChangeKind.RETIRE: MemberStatus.RETAINED,
    ChangeKind.WITHDRAW: MemberStatus.WITHDRAWN,
    ChangeKind.DEATH: MemberStatus.DECEASED,
}

#: The changes allowed from each status; ``""`` is a member not yet on the roster.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "": (ChangeKind.JOIN, ChangeKind.TRANSFER_IN),
    MemberStatus.ACTIVE: (
        ChangeKind.TRANSFER_OUT,
        ChangeKind.RETIRE,
        ChangeKind.WITHDRAW,
        ChangeKind.DEATH,
    ),
    MemberStatus.RETAINED: (
        ChangeKind.RESTORE,
        ChangeKind.TRANSFER_OUT,
        ChangeKind.WITHDRAW,
        ChangeKind.DEATH,
    ),
    MemberStatus.TRANSFERRED_OUT: (ChangeKind.TRANSFER_IN,),
    MemberStatus.WITHDRAWN: (ChangeKind.JOIN, ChangeKind.RESTORE),
    MemberStatus.DECEASED: (),
}

#: Changes that put someone on the roster (members.joined) and take them off it (members.left).
JOIN_KINDS = (ChangeKind.JOIN, ChangeKind.TRANSFER_IN)
LEAVE_KINDS = (ChangeKind.TRANSFER_OUT, ChangeKind.WITHDRAW, ChangeKind.DEATH)
#: After one of these, the member counts in members.total.
ACTIVE_AFTER = tuple(k for k, s in STATUS_AFTER.items() if s == MemberStatus.ACTIVE)


ETHNICITIES = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
]

POLITICAL_STATUSES = [
    "中共党员",
    "中共预备党员",
    "共青团员",
    "民革党员",
    "民盟盟员",
    "民建会员",
    "民进会员",
    "农工党党员",
    "致公党党员",
    "九三学社社员",
    "台盟盟员",
    "无党派人士",
    "群众",
]

EDUCATIONS = ["博士研究生", "硕士研究生", "大学本科", "大学专科", "中专/中技", "高中", "初中及以下"]


class AgeBand(models.TextChoices):
    UNDER_35 = "-35", "35岁以下"
    FROM_35 = "35-45", "35–44岁"
    FROM_45 = "45-55", "45–54岁"
    FROM_55 = "55-", "55岁及以上"
