"""The roster's figures for the work report (组织建设: 会员人数、入会、转出、入会率)."""

from __future__ import annotations

from decimal import Decimal

from gonghui.common.reporting import Fact, Period, percent, source_url
from gonghui.org.models import Union, subtree_q

from .choices import JOIN_KINDS, LEAVE_KINDS, TEMPORARY_EMPLOYMENT, MemberStatus
from .models import Member
from .queries import changed_between, on_roster_as_of


def roster_url(**params: object) -> str:
    return source_url("members:list", **params)


def facts(*, union: Union, period: Period) -> list[Fact]:
    members = Member.objects.filter(subtree_q(union.path, "union__path"))
    end = period.end.isoformat()
    start = period.start.isoformat()
    on_roster = on_roster_as_of(members, period.end)

    total = on_roster.count()
    temporary = on_roster.filter(employment_type__in=TEMPORARY_EMPLOYMENT).count()
    everyone = Member.objects.all()
    joined = changed_between(everyone, JOIN_KINDS, period.start, period.end, union).count()
    left = changed_between(everyone, LEAVE_KINDS, period.start, period.end, union).count()

    total_url = roster_url(union=union.pk, status=MemberStatus.ACTIVE, as_of=end)
    rate: Decimal | None = None
    note = ""
    if union.headcount:
        rate = percent(total, union.headcount)
        if total > union.headcount:
            note = (
                f"会员人数（{total}）超过「{union.name}」填写的职工人数（{union.headcount}），"
                "请核对职工人数。"
            )
    else:
        note = f"「{union.name}」未填写职工人数，无法计算入会率。"
    return [
        Fact("members.total", "会员人数", total, "人", total_url),
        Fact(
            "members.joined",
            "新入会（含转入）",
            joined,
            "人",
            roster_url(
                union=union.pk, changed=list(JOIN_KINDS), changed_from=start, changed_to=end
            ),
        ),
        Fact(
            "members.left",
            "减少会员（转出、退会、去世）",
            left,
            "人",
            roster_url(
                union=union.pk, changed=list(LEAVE_KINDS), changed_from=start, changed_to=end
            ),
        ),
        Fact("members.rate", "入会率", rate, "%", total_url, note),
        Fact(
            "members.temporary",
            "劳务派遣及临时用工会员",
            temporary,
            "人",
            roster_url(
                union=union.pk,
                status=MemberStatus.ACTIVE,
                as_of=end,
                employment_type=list(TEMPORARY_EMPLOYMENT),
            ),
        ),
    ]


def paragraphs(*, union: Union, period: Period, facts: dict[str, Fact]) -> list[str]:
    """组织建设, from the roster's figures (and the tree's, of the same section): only
    what they say; a figure of zero or unknown leaves its words out."""

    def n(key: str) -> Decimal | int:
        value = facts[key].value if key in facts else None
        return value if value is not None else 0

    if not n("members.total"):
        return []
    text = f"{union.name}现有会员{n('members.total')}人"
    if n("members.rate"):
        text += f"，入会率{Decimal(n('members.rate')).normalize():f}%"
    text += "。"
    moves = []
    if n("members.joined"):
        moves.append(f"新入会（含转入）{n('members.joined')}人")
    if n("members.left"):
        moves.append(f"转出、退会等减少{n('members.left')}人")
    if moves:
        text += "期间" + "，".join(moves) + "。"
    below = []
    if n("org.branches"):
        below.append(f"分工会{n('org.branches')}个")
    if n("org.groups"):
        below.append(f"工会小组{n('org.groups')}个")
    if below:
        text += "下设" + "、".join(below) + "。"
    if n("members.temporary"):
        text += f"劳务派遣及临时用工会员{n('members.temporary')}人。"
    return [text]
