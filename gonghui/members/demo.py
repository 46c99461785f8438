"""Demo data for the roster: about 600 teachers and staff with a year of changes."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal
from typing import Any

from django.db.models import Count

from gonghui.common.validators import with_check_digit
from gonghui.org.choices import Role
from gonghui.org.models import Union, User
from gonghui.org.services import union_update, user_create

from .choices import ChangeKind, EmploymentType, MemberStatus
from .models import Member
from .services import member_change, member_create, member_link_user

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "上官", "诸葛"]
MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国志国庆文斌海峰晨"
FEMALE = "芳娜敏静丽艳娟霞燕玲桂丹萍红婷雪琳晶妍茜月莉颖倩琴云洁梅凤慧璐瑶怡蕾佳欣悦蓉薇"
SUBJECT_TITLES = ["教师", "教师", "教师", "教师", "班主任", "班主任", "教研组长", "备课组长"]
ADMIN_TITLES = [
    "办公室主任",
    "教务员",
    "会计",
    "出纳",
    "校医",
    "图书管理员",
    "信息技术员",
    "副校长",
    "德育主任",
]
SUPPORT = [
    ("保安", EmploymentType.DISPATCHED),
    ("保洁员", EmploymentType.TEMPORARY),
    ("食堂职工", EmploymentType.CONTRACT),
    ("宿管员", EmploymentType.DISPATCHED),
    ("水电工", EmploymentType.CONTRACT),
]
OTHER_UNIONS = [
    "滨江区第三中学工会",
    "西湖区实验中学工会",
    "萧山区第五高级中学工会",
    "上城区教育发展中心工会",
    "拱墅区文澜小学工会",
]
REGIONS = [
    "330108",
    "330106",
    "330102",
    "330109",
    "330110",
    "330122",
    "330381",
    "341602",
    "362430",
    "430521",
    "410102",
]

#: Officers are members too: each demo login of an officer of 第一中学 has a record in
#: the group where they work, so that their own pages (我的) show it. (login in
#: ctx["users"], name when the login comes later, group, gender, job title.) The
#: district's chair (quzong) is left without one: the demo has no union of the district
#: office's own staff for her to belong to.
OFFICERS = [
    ("chair", "", "行政组", "F", "工会主席"),
    ("organiser", "", "初中语文组", "M", "教师"),
    ("officer", "", "高中数学组", "M", "教研组长"),
    ("treasurer", "孙丽", "行政组", "F", "会计"),  # care.demo: caiwu
    ("welfare", "赵红梅", "初中英语组", "F", "教师"),  # care.demo: fuli
]

# How many members each group gets (about 600 in all).
SIZES = [
    22,
    23,
    21,
    25,
    24,
    21,
    23,
    20,
    19,
    13,
    15,  # 第一中学 (11 groups)
    32,
    31,
    30,
    28,
    27,
    32,
    26,  # 第二中学 (7 groups)
    35,
    34,
    29,
    37,
    26,
]  # 实验小学 (5 groups)


def _name(rng: random.Random, gender: str) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.01 else rng.choice(SURNAMES)
    chars = MALE if gender == "M" else FEMALE
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
    return surname + given


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


def _id_number(rng: random.Random, birth: dt.date, gender: str, used: set[str]) -> str:
    """A valid 身份证号 of someone born on ``birth``, not in ``used`` (added to it)."""
    while True:
        seq = rng.randint(0, 499) * 2 + (1 if gender == "M" else 0)
        number = with_check_digit(f"{rng.choice(REGIONS)}{birth:%Y%m%d}{seq:03d}")
        if number not in used:
            used.add(number)
            return number


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        prefix = rng.choice(["138", "139", "137", "150", "151", "158", "186", "189", "177", "135"])
        phone = prefix + f"{rng.randint(0, 99999999):08d}"
        if phone not in used:
            used.add(phone)
            return phone


def build(ctx: dict[str, Any]) -> None:
    rng = random.Random(2024)
    today = dt.date.today()
    year_ago = today - dt.timedelta(days=365)
    groups: list[Union] = ctx["groups"]
    used_ids: set[str] = set()
    used_phones: set[str] = set()
    serial = 0
    members: list[Member] = []
    newcomers = 0

    for group, size in zip(groups, SIZES, strict=True):
        dept = group.name
        for _ in range(size):
            serial += 1
            gender = "F" if rng.random() < 0.62 else "M"
            birth = _date_between(rng, dt.date(1966, 1, 1), dt.date(2001, 12, 31))
            number = _id_number(rng, birth, gender, used_ids)
            phone = _phone(rng, used_phones)
            work_start = max(
                birth.replace(year=birth.year + 22)
                if not (birth.month == 2 and birth.day == 29)
                else dt.date(birth.year + 22, 3, 1),
                dt.date(1988, 8, 1),
            )
            work_start = min(work_start, today - dt.timedelta(days=400))
            employment = EmploymentType.STAFF
            title = rng.choice(SUBJECT_TITLES)
            education = rng.choices(["硕士研究生", "大学本科", "大学专科"], [25, 68, 7])[0]
            if "行政" in dept or "后勤" in dept:
                if rng.random() < 0.45:
                    title, employment = rng.choice(SUPPORT)
                    education = rng.choices(
                        ["高中", "中专/中技", "初中及以下", "大学专科"], [40, 25, 20, 15]
                    )[0]
                else:
                    title = rng.choice(ADMIN_TITLES)
            elif rng.random() < 0.08:
                employment = EmploymentType.CONTRACT
            elif birth.year < 1966 + 1 and rng.random() < 0.5:
                employment = EmploymentType.REHIRED
            # Roughly one in twenty joined in the last year (new teachers each September).
            is_new = rng.random() < 0.3 if birth.year >= 1996 else rng.random() < 0.015
            join_kind = ChangeKind.JOIN
            other_org = ""
            registered_on = None
            if is_new:
                join_date = _date_between(
                    rng, year_ago + dt.timedelta(days=20), today - dt.timedelta(days=5)
                )
                work_start = join_date - dt.timedelta(days=rng.randint(5, 40))
                if rng.random() < 0.3:
                    # Arrived from another school's union: joined there years ago.
                    join_kind, other_org = ChangeKind.TRANSFER_IN, rng.choice(OTHER_UNIONS)
                    registered_on = join_date
                    work_start = min(work_start, dt.date(birth.year + 22, 9, 1))
                    join_date = work_start + dt.timedelta(days=rng.randint(30, 120))
                newcomers += 1
            else:
                join_date = _date_between(
                    rng, work_start + dt.timedelta(days=30), year_ago - dt.timedelta(days=1)
                )
            member = member_create(
                actor=None,
                union=group,
                join_kind=join_kind,
                other_org=other_org,
                registered_on=registered_on,
                name=_name(rng, gender),
                id_number=number,
                phone=phone,
                employee_no=f"{groups.index(group) // 8 + 1}{serial:04d}",
                department=dept,
                job_title=title,
                employment_type=employment,
                ethnicity=rng.choices(
                    ["汉族", "回族", "满族", "蒙古族", "畲族", "土家族"], [93, 2, 2, 1, 1, 1]
                )[0],
                # 共青团员 only up to 28 (团章); the young are more often 团员, less often 党员.
                political_status=rng.choices(
                    ["中共党员", "群众", "共青团员", "民盟盟员", "九三学社社员", "中共预备党员"],
                    [20, 30, 45, 1, 1, 3]
                    if birth.year >= today.year - 28
                    else [38, 55, 0, 3, 2, 2],
                )[0],
                education=education,
                work_start_date=work_start,
                join_date=join_date,
                monthly_wage=Decimal(rng.randrange(4200, 14500, 10)),
            )
            members.append(member)

    # A year of changes among those who were there before.
    veterans = [m for m in members if m.join_date and m.join_date < year_ago]
    rng.shuffle(veterans)
    older = sorted(veterans[:80], key=lambda m: m.birth_date or today)
    plan = (
        [(m, ChangeKind.RETIRE, "光荣退休，保留会籍") for m in older[:7]]
        + [(m, ChangeKind.TRANSFER_OUT, "") for m in veterans[80:85]]
        + [(m, ChangeKind.WITHDRAW, "本人申请退会") for m in veterans[85:87]]
        + [(veterans[87], ChangeKind.DEATH, "因病去世")]
    )
    for member, kind, note in plan:
        member_change(
            actor=None,
            member=member,
            kind=kind,
            date=_date_between(rng, year_ago + dt.timedelta(days=10), today - dt.timedelta(days=3)),
            other_org=rng.choice(OTHER_UNIONS) if kind == ChangeKind.TRANSFER_OUT else "",
            note=note,
        )

    # One member with a self-service login: a teacher in 高中语文组.
    member = next(m for m in members if m.union_id == groups[0].pk and m.status == "active")
    user = user_create(
        actor=None,
        username="huiyuan",
        full_name=member.name,
        password=ctx["logins"][0][2],
        union=member.union,
        role=Role.MEMBER,
    )
    member_link_user(actor=None, member=member, user=user)
    ctx["logins"].insert(
        2, (f"会员（{member.name}，{member.union.name}）", "huiyuan", ctx["logins"][0][2])
    )
    officers = _officers(ctx, used_ids, used_phones, serial)
    ctx["member_count"] = len(members) + len(officers)
    ctx["newcomers"] = newcomers
    _headcounts(ctx)


def _officers(
    ctx: dict[str, Any], used_ids: set[str], used_phones: set[str], serial: int
) -> list[Member]:
    """The officers' own records, linked to their logins where these exist already.

    Made after everyone else, with a random generator of their own, so that the rest of
    the demo (who retires, who is visited in hospital) stays as it was; they take no
    part in the year's changes. The records of logins a later builder makes are left in
    ``ctx["officer_members"]`` for it to link.
    """
    rng = random.Random(2026)
    today = dt.date.today()
    users: dict[str, User] = ctx["users"]
    by_name = {g.name: g for g in ctx["groups"]}
    officers: dict[str, Member] = {}
    for key, name, group_name, gender, title in OFFICERS:
        user = users.get(key)
        group = by_name[group_name]
        birth = _date_between(rng, dt.date(1970, 1, 1), dt.date(1988, 12, 31))
        work_start = dt.date(birth.year + 22, 8, 1)
        serial += 1
        member = member_create(
            actor=None,
            union=group,
            join_kind=ChangeKind.JOIN,
            name=user.full_name if user else name,
            gender=gender,
            id_number=_id_number(rng, birth, gender, used_ids),
            phone=_phone(rng, used_phones),
            employee_no=f"{ctx['groups'].index(group) // 8 + 1}{serial:04d}",
            department=group_name,
            job_title=title,
            employment_type=EmploymentType.STAFF,
            ethnicity="汉族",
            political_status="中共党员",
            education=rng.choice(["硕士研究生", "大学本科"]),
            work_start_date=work_start,
            join_date=min(work_start + dt.timedelta(days=rng.randint(30, 200)), today),
            monthly_wage=Decimal(rng.randrange(9000, 14500, 10)),
        )
        if user is not None:
            member_link_user(actor=None, member=member, user=user)
        officers[key] = member
    ctx["officer_members"] = officers
    return list(officers.values())


def _headcounts(ctx: dict[str, Any]) -> None:
    """职工人数 that add up, as a chair reads them in 组织.

    A group's staff are the members on its roster (在册) and a few who have not joined; a
    branch's, a school's and the district's are those of the nodes under them (and of
    any member registered at the node itself). A school keeps the headcount the tree was
    built with: its staff who are not members are spread over its groups, at least one
    each and the rest by size.
    """
    rng = random.Random(2027)
    on_roster = dict(
        Member.objects.filter(status=MemberStatus.ACTIVE)
        .values("union")
        .annotate(n=Count("id"))
        .values_list("union", "n")
    )
    groups: list[Union] = ctx["groups"]
    headcount: dict[int, int] = {}
    for school in ctx["schools"]:
        mine = [g for g in groups if g.path.startswith(school.path)]
        members = sum(on_roster.get(g.pk, 0) for g in mine)
        staff = max(school.headcount, members + len(mine))
        # One in every group (no group is all members), the rest where the people are.
        weights = [on_roster.get(g.pk, 0) + 1 for g in mine]
        outside = Counter(mine) + Counter(
            rng.choices(mine, weights=weights, k=staff - members - len(mine))
        )
        for g in mine:
            headcount[g.pk] = on_roster.get(g.pk, 0) + outside[g]
    # Bottom up: the deepest nodes first, each adding itself to its parent.
    nodes = sorted([*ctx["branches"], *ctx["schools"], ctx["root"]], key=lambda u: -u.depth)
    for node in nodes:
        headcount[node.pk] = on_roster.get(node.pk, 0) + sum(
            headcount[u.pk] for u in [*groups, *nodes] if u.parent_id == node.pk
        )
    for node in [*groups, *nodes]:
        if node.headcount != headcount[node.pk]:
            union_update(actor=None, union=node, headcount=headcount[node.pk])
