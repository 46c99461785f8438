from django.db import models


class UnionKind(models.TextChoices):
    FEDERATION = "federation", "总工会"
    UNION = "union", "基层工会"
    BRANCH = "branch", "分工会"
    GROUP = "group", "工会小组"


#: Which kinds may sit under which. A federation may hold federations (区总工会 under
#: 市总工会) and grassroots unions; a group is always a leaf.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    UnionKind.FEDERATION: {UnionKind.FEDERATION, UnionKind.UNION},
    UnionKind.UNION: {UnionKind.BRANCH, UnionKind.GROUP},
    UnionKind.BRANCH: {UnionKind.BRANCH, UnionKind.GROUP},
    UnionKind.GROUP: set(),
}


class Role(models.TextChoices):
    CHAIR = "chair", "主席"
    COMMITTEE = "committee", "委员"
    GROUP_LEADER = "group_leader", "组长"
    TREASURER = "treasurer", "财务"
    AUDITOR = "auditor", "经审"
    MEMBER = "member", "会员"
    VIEWER = "viewer", "上级查看"


class Portfolio(models.TextChoices):
    """A committee member's field of work (分工)."""

    NONE = "", "—"
    ORGANISATION = "organisation", "组织"
    PUBLICITY = "publicity", "宣传"
    CULTURE_SPORTS = "culture_sports", "文体"
    WOMEN = "women", "女工"
    AUDIT = "audit", "经审"
    FINANCE = "finance", "财务"
    WELFARE = "welfare", "生活福利"
    LABOUR_PROTECTION = "labour_protection", "劳动保护"
