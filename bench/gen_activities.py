"""Add 文体活动与培训 and 荣誉 data to the roster database of gen_roster, for bench_activities.

    .venv/bin/python bench/gen_roster.py --db sqlite         # first: the tree and 100,000 members
    .venv/bin/python bench/gen_activities.py --db sqlite     # then: 50,000 activities …
    .venv/bin/python bench/gen_activities.py --db postgres

Three years (2023–2025) of the federation's activities over the members gen_roster made:
about 50,000 activities organised by its ~693 unions (mostly by the 基层工会 and their
分工会, some by 工会小组, a few city-wide by the federation), about 2,000,000
registrations, the prizes of the matches and shows, the unions' clubs with their
members, and about 20,000 honours. The activities and honours tables are dropped first
and made again by their apps' migrations (so they are empty, and a migration edited in
place since the last run applies): the data is the same on every run (everything has
its own random seed).

Each row is what the services would leave. Who signs up is a member of the activity's
audience subtree (or of its club) on the roster that day, the keen more often than
others, and some never; one row per activity and member. A full activity puts the
late-comers on the waitlist; a cancelled place is 已取消; after the day the places held
are 已签到 or 缺席 (a few activities never took attendance and stay 已报名); walk-ins
are added as present by the officer; a cancelled activity keeps its sign-ups as they
were. Prizes go to those who came, no more than a third of them. Rows are written in
batches (activities, awards, clubs and honours with ``bulk_create``; the registrations
with the driver's ``executemany`` on SQLite and ``COPY`` on PostgreSQL, since building
2,000,000 model instances would be most of the run), with the tables' secondary indexes
dropped during the load and rebuilt after it; PostgreSQL is ``VACUUM ANALYZE``d.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time
import zoneinfo
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import benchenv
from gen_roster import UNIONS, log, secondary_indexes_dropped

SEED = 20260315
YEARS = (2023, 2024, 2025)
ACTIVITIES = 50_000
REGISTRATIONS = 2_000_000
HONOURS = 20_000
D = Decimal
UTC = dt.UTC
LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")

#: Each kind of organiser's share of the activities; within a kind a union's share grows
#: with its members (by the power below).
LEVEL_SHARE = {"federation": 0.012, "union": 0.44, "branch": 0.39, "group": 0.158}
SIZE_POWER = 0.6
#: Registrations of a typical activity by organiser (before the scale that makes the
#: total come to --registrations).
LEVEL_SIZE = {"federation": 500.0, "union": 80.0, "branch": 35.0, "group": 14.0}
CATEGORY_WEIGHTS: dict[str, dict[str, int]] = {
    "federation": {
        "sports": 25,
        "arts": 20,
        "training": 20,
        "quiz": 12,
        "festival": 8,
        "volunteer": 10,
        "reading": 5,
    },
    "union": {
        "sports": 20,
        "arts": 12,
        "training": 22,
        "reading": 8,
        "quiz": 7,
        "outing": 8,
        "festival": 12,
        "volunteer": 9,
        "other": 2,
    },
    "branch": {
        "sports": 18,
        "arts": 10,
        "training": 20,
        "reading": 9,
        "quiz": 5,
        "outing": 10,
        "festival": 14,
        "volunteer": 12,
        "other": 2,
    },
    "group": {
        "sports": 15,
        "arts": 8,
        "training": 16,
        "reading": 14,
        "quiz": 3,
        "outing": 12,
        "festival": 18,
        "volunteer": 12,
        "other": 2,
    },
}
CATEGORY_SIZE = {
    "sports": 1.2,
    "arts": 0.8,
    "training": 1.0,
    "reading": 0.6,
    "quiz": 2.2,
    "outing": 0.7,
    "festival": 1.6,
    "volunteer": 0.4,
    "other": 0.6,
}
#: How often an activity of the category has a capacity (名额).
CAPACITY_SHARE = {
    "sports": 0.2,
    "arts": 0.2,
    "training": 0.55,
    "reading": 0.05,
    "quiz": 0.0,
    "outing": 0.9,
    "festival": 0.1,
    "volunteer": 0.3,
    "other": 0.1,
}
#: When activities happen, by month (festivals follow their own dates).
MONTHS: dict[str, list[int]] = {
    "default": [5, 3, 10, 11, 11, 9, 6, 4, 10, 11, 12, 8],
    "outing": [1, 1, 4, 12, 12, 8, 7, 5, 8, 12, 8, 2],
    "volunteer": [3, 2, 20, 8, 8, 6, 5, 4, 8, 8, 8, 10],
    "training": [5, 3, 12, 12, 11, 11, 6, 3, 11, 10, 12, 6],
}
YEAR_WEIGHTS = [0.31, 0.33, 0.36]

TEMPLATES: dict[str, list[str]] = {
    "sports": ["职工气排球比赛", "职工乒乓球比赛", "羽毛球混合团体赛", "职工趣味运动会",
               "篮球友谊赛", "健步走活动", "拔河比赛", "职工足球联赛", "登山比赛",
               "职工游泳比赛", "象棋围棋比赛", "八段锦展示赛", "广播体操比赛", "跳绳踢毽比赛"],
    "arts": ["职工书画摄影展", "职工文艺汇演", "职工合唱比赛", "书法比赛", "“劳动者之歌”歌咏会",
             "职工才艺展示", "摄影作品征集评选", "插花手工沙龙", "朗诵比赛", "职工舞蹈大赛"],
    "training": ["安全生产知识培训", "工会干部业务培训", "职业技能提升培训", "心理健康讲座",
                 "急救知识与心肺复苏培训", "办公软件应用培训", "劳动法律法规讲座",
                 "新入职职工岗前培训", "质量管理专题培训", "消防安全培训", "财务知识培训",
                 "职业健康讲座"],
    "reading": ["“书香职工”读书分享会", "读书征文活动", "好书推荐交流会", "职工读书月活动",
                "经典诵读活动"],
    "quiz": ["工会知识竞赛", "安全生产知识竞赛", "法律知识网上答题", "职业道德知识竞赛",
             "消防安全知识竞赛", "健康知识网上答题"],
    "outing": ["职工疗休养", "劳模疗休养", "红色教育基地参观", "春季踏青活动",
               "秋季职工户外拓展", "先进企业参观学习", "农家乐一日游"],
    "volunteer": ["学雷锋志愿服务", "社区志愿服务", "无偿献血活动", "植树活动",
                  "关爱留守儿童志愿活动", "文明交通志愿服务", "敬老院慰问志愿服务"],
    "other": ["职工座谈会", "职工心声恳谈会", "青年职工联谊会"],
}  # fmt: skip
#: Festivals and the months they fall in.
FESTIVALS = [
    ("元旦游园活动", [12, 1]),
    ("迎新春联欢会", [1, 2]),
    ("元宵猜灯谜活动", [2]),
    ("三八妇女节活动", [3]),
    ("五一劳动节庆祝活动", [4, 5]),
    ("端午包粽子活动", [5, 6]),
    ("中秋联欢会", [9]),
    ("国庆文艺活动", [9, 10]),
]
PLACES: dict[str, list[str]] = {
    "sports": ["职工体育馆", "单位运动场", "市全民健身中心", "羽毛球馆", "乒乓球室"],
    "arts": ["职工活动中心", "礼堂", "市文化馆", "多功能厅"],
    "training": ["培训教室", "多功能厅", "会议室", "线上"],
    "reading": ["职工书屋", "图书室", "线上"],
    "quiz": ["线上", "多功能厅"],
    "outing": ["千岛湖", "黄山", "井冈山", "武当山", "恩施大峡谷", "木兰山", "红安红色教育基地"],
    "festival": ["职工活动中心", "职工食堂", "礼堂"],
    "volunteer": ["社区服务中心", "市中心血站", "敬老院", "江滩公园"],
    "other": ["会议室", "职工之家"],
}
CANCEL_REASONS = ["因天气原因取消", "场地临时无法使用", "报名人数不足", "与上级工作安排冲突"]
HOURS = [D(2), D(3), D(4), D(6), D(8), D(12), D(16)]
HOURS_WEIGHTS = [30, 15, 20, 12, 12, 6, 5]
#: A member's keenness: how likely they sign up (0: never comes to anything).
KEEN = [0.0, 0.3, 0.6, 1.0, 1.6, 2.5]
KEEN_WEIGHTS = [13, 18, 23, 22, 15, 9]
KEEN_MAX = max(KEEN)
#: How a registration came in: by the member, by an officer, on the door (QR), imported.
SOURCES = ["self", "officer", "qr", "import"]
SOURCE_WEIGHTS = [55, 30, 10, 5]

#: Clubs, and the category of their activities.
CLUB_NAMES = {"职工合唱队": "arts", "乒乓球队": "sports", "羽毛球队": "sports", "篮球队": "sports",
              "足球队": "sports", "摄影协会": "arts", "书画社": "arts", "瑜伽健身社": "sports",
              "太极拳队": "sports", "读书会": "reading", "徒步俱乐部": "sports", "舞蹈队": "arts",
              "棋牌协会": "sports", "跑步团": "sports"}  # fmt: skip
CLUB_EVENTS = ["月度活动", "集中训练", "交流活动", "友谊赛", "汇报展示"]

# Honours: level, weight; who awards; titles (individual, collective).
LEVELS = ["unit", "county", "sector", "city", "provincial", "national"]
LEVEL_WEIGHTS = [40, 28, 14, 12, 5, 1]
SECTOR_BODY = {
    "school": "江城市教育工会",
    "hospital": "江城市卫生健康系统工会",
    "bank": "江城市金融工会",
    "company": "江城市产业工会联合会",
}
COUNTY_BODIES = [
    "江城市江岸区总工会",
    "江城市江汉区总工会",
    "江城市硚口区总工会",
    "江城市汉阳区总工会",
]
INDIVIDUAL_TITLES: dict[str, list[str]] = {
    "unit": ["优秀工会会员", "优秀工会积极分子", "先进工作者", "岗位能手", "优秀员工"],
    "county": ["优秀工会积极分子", "先进工作者", "最美职工", "技术能手"],
    "sector": ["技术能手", "服务标兵", "岗位能手", "先进个人"],
    "city": ["劳动模范", "五一劳动奖章", "技术能手", "三八红旗手", "优秀工会工作者"],
    "provincial": ["五一劳动奖章", "劳动模范", "技术能手", "三八红旗手"],
    "national": ["五一劳动奖章", "全国劳动模范", "全国技术能手"],
}
SECTOR_TITLES = {
    "school": ["优秀教师", "优秀班主任", "师德标兵"],
    "hospital": ["优秀医师", "优秀护士", "最美医生"],
    "bank": ["服务明星", "优秀客户经理"],
    "company": ["安全生产先进个人", "技术标兵", "节能降耗先进个人"],
}
COLLECTIVE_TITLES: dict[str, list[str]] = {
    "group": ["工人先锋号", "先进班组", "巾帼文明岗", "先进职工小家", "青年文明号"],
    "branch": ["先进分工会", "模范职工小家", "工人先锋号", "巾帼文明岗"],
    "union": ["模范职工之家", "先进基层工会", "五一劳动奖状", "厂务公开民主管理先进单位"],
}


class Person:
    """A member as the data needs them: where, who, when on the roster, how keen."""

    __slots__ = ("dates", "gender", "id", "keen", "name", "statuses", "union")

    def __init__(self, pk: int, union: int, name: str, gender: str) -> None:
        self.id = pk
        self.union = union
        self.name = name
        self.gender = gender
        self.dates: list[dt.date] = []
        self.statuses: list[str] = []
        self.keen = 0.0

    def status_on(self, d: dt.date) -> str:
        dates = self.dates
        if len(dates) == 1:
            return self.statuses[0] if d >= dates[0] else ""
        i = bisect_right(dates, d) - 1
        return self.statuses[i] if i >= 0 else ""

    def weight_on(self, d: dt.date) -> float:
        """How likely to sign up for something on ``d``: 0 off the roster; retirees less."""
        status = self.status_on(d)
        if status == "active":
            return self.keen
        if status == "retained":
            return self.keen * 0.25
        return 0.0


@dataclass
class Node:
    pk: int
    path: str
    kind: str
    name: str
    label: str  # the name with its 基层工会's, for titles and collective honours
    sector: str
    base: int | None  # the 基层工会 (depth 1) at or above it
    people: list[Person] = field(default_factory=list)
    clubs: list[Club] = field(default_factory=list)


@dataclass
class Club:
    pk: int
    name: str
    category: str
    members: list[Person]


@dataclass
class Plan:
    """One activity before it is written: who organises it, who may come (the
    organiser's subtree, one 分工会 of it, or a club), what, when, how many."""

    node: Node
    audience: Node
    category: str
    start: dt.date
    size: float
    club: Club | None = None

    @property
    def pool(self) -> list[Person]:
        return self.club.members if self.club else self.audience.people


def short(label: str) -> str:
    """「江城市人民医院外科分工会」→「江城市人民医院外科」, for titles."""
    return label.removesuffix("分工会").removesuffix("工会")


# Loading --------------------------------------------------------------------------------


def load(started: float) -> tuple[dict[int, Node], list[Person]]:
    from gonghui.members.choices import STATUS_AFTER
    from gonghui.members.models import Member, MembershipChange
    from gonghui.org.models import Union

    sectors = {f"JC{i + 1:02d}": sector for i, (_, sector, _) in enumerate(UNIONS)}
    rows = list(
        Union.objects.order_by("path").values_list("pk", "path", "depth", "kind", "name", "code")
    )
    nodes: dict[int, Node] = {}
    by_path: dict[str, Node] = {}
    for pk, path, depth, kind, name, code in rows:
        parent = by_path.get(path[: path.rstrip(".").rfind(".") + 1]) if depth else None
        base = parent.base if parent is not None and parent.base is not None else None
        if depth == 1:
            base = pk
        sector = sectors.get(code, parent.sector if parent is not None else "company")
        if depth <= 1:
            label = name
        elif kind == "group" and parent is not None and parent.kind == "branch":
            label = parent.label.removesuffix("分工会") + name
        else:
            label = (parent.label.removesuffix("工会") if parent else "") + name
        node = Node(pk, path, kind, name, label, sector, base)
        nodes[pk] = node
        by_path[path] = node
    people: list[Person] = []
    by_id: dict[int, Person] = {}
    members = Member.objects.order_by("pk").values_list("pk", "union_id", "name", "gender")
    for pk, union_id, name, gender in members.iterator(chunk_size=5000):
        p = Person(pk, union_id, name, gender)
        people.append(p)
        by_id[pk] = p
        for seg in nodes[union_id].path.split(".")[:-1]:
            nodes[int(seg)].people.append(p)
    changes = MembershipChange.objects.order_by("member_id", "date", "pk").values_list(
        "member_id", "kind", "date"
    )
    for member_id, kind, date in changes.iterator(chunk_size=10000):
        p = by_id[member_id]
        p.dates.append(date)
        p.statuses.append(STATUS_AFTER[kind])
    rng = random.Random(f"{SEED}-keen")
    for p in people:
        p.keen = rng.choices(KEEN, KEEN_WEIGHTS)[0]
    log(f"读入组织 {len(nodes)} 个、会员 {len(people):,} 人", started)
    return nodes, people


# Sampling -------------------------------------------------------------------------------


def sample(rng: random.Random, pool: list[Person], k: int, on: dt.date) -> list[Person]:
    """Up to ``k`` different members of ``pool`` who may come on ``on``, the keen likelier.

    A few out of many: draw and accept by weight (rejection), a handful of draws per
    place. Many out of few: weighted sampling without replacement over the whole pool
    (Efraimidis–Spirakis keys).
    """
    n = len(pool)
    if k <= 0 or n == 0:
        return []
    if k * 3 < n:
        chosen: dict[int, Person] = {}
        tries = 0
        limit = 60 * k + 200
        rand, rint = rng.random, rng.randrange
        while len(chosen) < k and tries < limit:
            tries += 1
            p = pool[rint(n)]
            if p.id in chosen or p.keen == 0.0:
                continue
            if rand() * KEEN_MAX < p.weight_on(on):
                chosen[p.id] = p
        return list(chosen.values())
    keyed = []
    for p in pool:
        w = p.weight_on(on)
        if w > 0:
            keyed.append((-math.log(1.0 - rng.random()) / w, p.id, p))
    keyed.sort()
    return [p for _, _, p in keyed[:k]]


# Clubs ----------------------------------------------------------------------------------


def write_clubs(nodes: dict[int, Node], started: float) -> None:
    """Three to eight clubs in each 基层工会 (by its size), one in some 分工会."""
    from gonghui.activities.models import Club as ClubRow
    from gonghui.activities.models import ClubMembership

    rng = random.Random(f"{SEED}-clubs")
    rows: list[Any] = []
    chosen_sets: list[list[Person]] = []
    categories: list[str] = []
    owners: list[Node] = []
    on = dt.date(2023, 1, 1)
    for node in nodes.values():
        if node.kind == "union":
            n = min(8, 3 + len(node.people) // 1500)
        elif node.kind == "branch" and rng.random() < 0.15:
            n = 1
        else:
            continue
        for name in rng.sample(sorted(CLUB_NAMES), n):
            chosen = sample(
                rng, node.people, rng.randint(12, 80 if node.kind == "union" else 30), on
            )
            if len(chosen) < 5:
                continue
            rows.append(
                ClubRow(
                    union_id=node.pk,
                    name=name if node.kind == "union" else f"{short(node.name)}{name}",
                    description=f"{name}，每周活动一次",
                    leader_id=chosen[0].id,
                    created_at=dt.datetime(2020, 3, 1, 1, 0, tzinfo=UTC)
                    + dt.timedelta(days=rng.randint(0, 900)),
                )
            )
            chosen_sets.append(chosen)
            categories.append(CLUB_NAMES[name])
            owners.append(node)
    ClubRow.objects.bulk_create(rows, batch_size=1000)
    memberships = []
    for row, chosen, node, category in zip(rows, chosen_sets, owners, categories, strict=True):
        for p in chosen:
            joined = max(p.dates[0], row.created_at.date()) + dt.timedelta(days=rng.randint(0, 400))
            memberships.append(
                ClubMembership(club_id=row.pk, member_id=p.id, joined_on=min(joined, on))
            )
        node.clubs.append(Club(row.pk, row.name, category, chosen))
    ClubMembership.objects.bulk_create(memberships, batch_size=2000)
    log(f"兴趣小组 {len(rows)} 个，成员 {len(memberships):,} 人次", started)


# Activities -----------------------------------------------------------------------------


def plan_activities(nodes: dict[int, Node], count: int, target: int) -> list[Plan]:
    """Who organises each activity, for whom, its category, its day and its size."""
    rng = random.Random(f"{SEED}-plan")
    organisers: list[Node] = []
    weights: list[float] = []
    for kind, share in LEVEL_SHARE.items():
        level = [n for n in nodes.values() if n.kind == kind and n.people]
        total = sum(len(n.people) ** SIZE_POWER for n in level)
        for n in level:
            organisers.append(n)
            weights.append(share * len(n.people) ** SIZE_POWER / total)
    branches: dict[int, list[Node]] = {}
    for n in nodes.values():
        if n.kind == "branch" and n.base is not None and n.people:
            branches.setdefault(n.base, []).append(n)
    plans: list[Plan] = []
    for node in rng.choices(organisers, weights, k=count):
        cats = CATEGORY_WEIGHTS[node.kind]
        category = rng.choices(list(cats), list(cats.values()))[0]
        year = rng.choices(YEARS, YEAR_WEIGHTS)[0]
        if category == "festival":
            month = rng.choice(rng.choice(FESTIVALS)[1])
        else:
            month = rng.choices(range(1, 13), MONTHS.get(category, MONTHS["default"]))[0]
        start = dt.date(year, month, 1) + dt.timedelta(days=rng.randint(0, 27))
        audience, club = node, None
        fitting = [c for c in node.clubs if c.category == category]
        if fitting and rng.random() < 0.3:
            club = rng.choice(fitting)  # a club's own activity, for its members
        elif node.kind == "union" and rng.random() < 0.1 and branches.get(node.pk):
            audience = rng.choice(branches[node.pk])  # one 分工会's members only
        size = LEVEL_SIZE[node.kind] * CATEGORY_SIZE[category] * rng.lognormvariate(0, 0.6)
        plans.append(Plan(node, audience, category, start, size, club))

    # Scale the sizes so that the registrations come to about ``target``, each no more
    # than 85% of those who may come (of a club: 90%).
    def capped(p: Plan, scale: float) -> float:
        return min(p.size * scale, len(p.pool) * (0.9 if p.club else 0.85))

    scale = 1.0
    for _ in range(10):
        scale *= target / sum(capped(p, scale) for p in plans)
    for p in plans:
        p.size = capped(p, scale)
    plans.sort(key=lambda p: (p.start, p.node.path))
    return plans


def activity_row(plan: Plan, rng: random.Random) -> dict[str, Any]:
    """The fields of one activity (its title, place, days, capacity, hours, cost…)."""
    node, category, start = plan.node, plan.category, plan.start
    if category == "festival":
        fitting = [t for t, months in FESTIVALS if start.month in months] or ["职工联欢活动"]
        template = rng.choice(fitting)
    else:
        template = rng.choice(TEMPLATES[category])
    if plan.club:
        title = f"{start.year}年{plan.club.name}{rng.choice(CLUB_EVENTS)}"
    elif node.kind == "federation":
        title = f"{start.year}年全市{template}"
    else:
        title = f"{start.year}年{short(plan.audience.label)}{template}"
    days, hours, certificate, cost = 1, None, False, None
    if category == "training":
        hours = rng.choices(HOURS, HOURS_WEIGHTS)[0]
        days = 1 if hours <= 8 else rng.choice([2, 2, 3])
        certificate = hours >= 6 and rng.random() < 0.7
    elif category == "outing":
        days = rng.choices([1, 2, 3, 4, 5], [30, 20, 25, 15, 10])[0]
        cost = D(rng.randrange(180, 390, 10) * days) if days > 1 else D(rng.randrange(60, 200, 10))
    elif category == "quiz" and rng.random() < 0.4:
        days = rng.choice([3, 7, 14])  # answered online over some days
    elif category == "sports" and rng.random() < 0.2:
        days = rng.choice([2, 3])
    capacity = None
    if rng.random() < CAPACITY_SHARE[category]:
        capacity = max(10, 5 * round(plan.size * rng.uniform(0.75, 1.4) / 5))
    at = rng.choice([dt.time(9), dt.time(9, 30), dt.time(14), dt.time(14, 30), dt.time(19)])
    begins = dt.datetime.combine(start, at, LOCAL)
    opens = closes = None
    if rng.random() < 0.6:
        opens = dt.datetime.combine(
            start - dt.timedelta(days=rng.randint(10, 30)), dt.time(9), LOCAL
        )
        closes = dt.datetime.combine(
            start - dt.timedelta(days=rng.randint(1, 3)), dt.time(17), LOCAL
        )
    cancelled = rng.random() < 0.02
    return {
        "union_id": node.pk,
        "audience_id": plan.audience.pk,
        "club_id": plan.club.pk if plan.club else None,
        "title": title[:100],
        "category": category,
        "start_date": start,
        "end_date": start + dt.timedelta(days=days - 1),
        "start_time": at,
        "place": rng.choice(PLACES[category]),
        "capacity": capacity,
        "signup_opens": opens,
        "signup_closes": closes,
        "cost": cost,
        "hours": hours,
        "certificate": certificate,
        "description": f"{node.name}组织，欢迎会员踊跃参加。",
        "status": "cancelled" if cancelled else "open",
        "cancel_reason": rng.choice(CANCEL_REASONS) if cancelled else "",
        "checkin_key": f"{rng.getrandbits(192):048x}",
        "created_at": (opens or begins - dt.timedelta(days=rng.randint(7, 30))).astimezone(UTC),
    }


# Registrations --------------------------------------------------------------------------

REG_COLUMNS = (
    "activity_id",
    "member_id",
    "union_id",
    "status",
    "source",
    "created_at",
    "checked_in_at",
    "marked_by_id",
)


class RegistrationWriter:
    """Rows in batches: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, one
    transaction a batch."""

    def __init__(self, batch: int) -> None:
        from django.db import connection

        self.connection = connection
        self.sqlite = connection.vendor == "sqlite"
        self.batch = batch
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def when(self, value: dt.datetime | None) -> Any:
        if value is None or not self.sqlite:
            return value
        # As Django stores a datetime in SQLite: UTC, naive, "YYYY-MM-DD HH:MM:SS".
        return str(value.astimezone(UTC).replace(tzinfo=None))

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        from django.db import transaction

        if not self.rows:
            return
        table = "activities_registration"
        with transaction.atomic(), self.connection.cursor() as cursor:
            if self.sqlite:
                marks = ", ".join("%s" for _ in REG_COLUMNS)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(REG_COLUMNS)}) VALUES ({marks})", self.rows
                )
            else:
                copy_sql = f"COPY {table} ({', '.join(REG_COLUMNS)}) FROM STDIN"
                with cursor.cursor.copy(copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
        self.written += len(self.rows)
        self.rows = []


def write_activities(plans: list[Plan], batch: int, started: float) -> tuple[list[Any], list[Plan]]:
    """The activities, in date order (so their ids follow their dates)."""
    from django.db import transaction

    from gonghui.activities.models import Activity

    rng = random.Random(f"{SEED}-activities")
    objs = [Activity(**activity_row(plan, rng)) for plan in plans]
    for start in range(0, len(objs), batch):
        with transaction.atomic():
            Activity.objects.bulk_create(objs[start : start + batch], batch_size=batch)
    by_cat = Counter(a.category for a in objs)
    log(
        f"活动 {len(objs):,} 个（"
        + "，".join(f"{k} {n:,}" for k, n in by_cat.most_common())
        + f"；取消 {sum(a.status == 'cancelled' for a in objs):,}）",
        started,
    )
    return objs, plans


def write_registrations(
    activities: list[Any], plans: list[Plan], batch: int, started: float
) -> tuple[Counter[str], list[Any]]:
    """Each activity's sign-ups, their fate, and the prizes of its matches and shows."""
    from gonghui.activities.models import Award

    writer = RegistrationWriter(batch)
    statuses: Counter[str] = Counter()
    awards: list[Any] = []
    year = 0
    for i, (activity, plan) in enumerate(zip(activities, plans, strict=True)):
        if activity.start_date.year != year:
            if year:
                log(f"{year} 年报名写入，累计 {writer.written + len(writer.rows):,} 条", started)
            year = activity.start_date.year
        rng = random.Random(f"{SEED}-reg-{activity.pk}")
        pool = plan.pool
        k = int(plan.size) + (1 if rng.random() < plan.size % 1 else 0)
        chosen = sample(rng, pool, k, activity.start_date)
        if not chosen:
            continue
        begins = dt.datetime.combine(activity.start_date, activity.start_time, LOCAL)
        opens = activity.signup_opens or begins - dt.timedelta(days=rng.randint(7, 21))
        closes = activity.signup_closes or begins - dt.timedelta(hours=12)
        window = max((closes - opens).total_seconds(), 3600.0)
        times = sorted(opens + dt.timedelta(seconds=rng.random() * window) for _ in chosen)
        cancelled = activity.status == "cancelled"
        taken = not cancelled and rng.random() >= 0.03  # attendance taken on the day
        came_rate = rng.uniform(0.8, 0.98)
        walk_in = 0.04 if taken and activity.capacity is None else 0.0  # added on the day
        held = 0
        came: list[Person] = []
        for p, at in zip(chosen, times, strict=True):
            source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
            checked = None
            if rng.random() < walk_in:
                status, source, at = "attended", "officer", begins + dt.timedelta(minutes=5)
                checked = at
            elif rng.random() < 0.04:
                status = "cancelled"
            elif activity.capacity is not None and held >= activity.capacity:
                status = "waitlisted"
            else:
                held += 1
                if not taken:
                    status = "signed_up"
                elif rng.random() < came_rate:
                    status = "attended"
                    checked = begins + dt.timedelta(minutes=rng.randint(-30, 20))
                else:
                    status = "absent"
            if status == "attended":
                came.append(p)
            statuses[status] += 1
            writer.add(
                (
                    activity.pk,
                    p.id,
                    p.union,
                    status,
                    source,
                    writer.when(at),
                    writer.when(checked),
                    None,
                )
            )
        if activity.category in ("sports", "arts") and len(came) >= 3:
            awards.extend(prizes(rng, activity, came, plan, Award))
        if (i + 1) % 10000 == 0:
            log(f"活动 {i + 1:,} 个，报名 {writer.written + len(writer.rows):,} 条", started)
    writer.flush()
    log(f"{year} 年报名写入，共 {writer.written:,} 条", started)
    return statuses, awards


def prizes(rng: random.Random, activity: Any, came: list[Person], plan: Plan, award: Any) -> list:
    """First, second and third prizes to no more than a third of those who came; a team
    prize or two at some matches."""
    n = min(len(came) // 3, rng.randint(3, 12))
    winners = rng.sample(came, n)
    teams = rng.randint(1, 2) if activity.category == "sports" and rng.random() < 0.3 else 0
    teams = min(teams, n - 1)
    made = []
    won = dt.datetime.combine(activity.end_date, dt.time(17), LOCAL).astimezone(UTC)
    for i, p in enumerate(winners):
        rank = 1 if i == 0 else (2 if i < 3 else 3)
        prize = {1: "一等奖", 2: "二等奖", 3: "三等奖"}[rank]
        value = D({1: rng.choice([300, 500, 800]), 2: rng.choice([200, 300]), 3: 100}[rank])
        if i < teams:
            team = f"{short(plan.audience.label)}{'代表队' if i == 0 else '二队'}"
            made.append(
                award(
                    activity_id=activity.pk,
                    kind="team",
                    team=team[:100],
                    rank=rank,
                    prize=f"团体{prize}",
                    prize_value=value,
                    created_at=won,
                )
            )
        else:
            made.append(
                award(
                    activity_id=activity.pk,
                    kind="individual",
                    member_id=p.id,
                    rank=rank,
                    prize=prize,
                    prize_value=value,
                    created_at=won,
                )
            )
    return made


# Honours --------------------------------------------------------------------------------


def honour_body(level: str, node: Node, nodes: dict[int, Node], rng: random.Random) -> str:
    if level == "unit":
        return nodes[node.base].name if node.base else "江城市总工会"
    return {
        "county": rng.choice(COUNTY_BODIES),
        "sector": SECTOR_BODY[node.sector],
        "city": rng.choice(["江城市总工会", "江城市人民政府"]),
        "provincial": "湖北省总工会",
        "national": "中华全国总工会",
    }[level]


def write_honours(nodes: dict[int, Node], people: list[Person], count: int, started: float) -> int:
    """About ``count`` honours over the three years: nine in ten to members, the rest to
    groups, branches and unions; most from the unit or the district."""
    from gonghui.honours.models import Honour

    rng = random.Random(f"{SEED}-honours")
    # When honours are given: around 五一, 三八, the year's end, teachers' and nurses' days.
    months = [6, 2, 9, 14, 10, 3, 4, 3, 8, 4, 7, 30]
    groups = {kind: [n for n in nodes.values() if n.kind == kind] for kind in COLLECTIVE_TITLES}
    objs = []
    seen: set[tuple[int, str, int]] = set()
    while len(objs) < count:
        year = rng.choices(YEARS, YEAR_WEIGHTS)[0]
        d = dt.date(year, rng.choices(range(1, 13), months)[0], 1) + dt.timedelta(
            days=rng.randint(0, 27)
        )
        level = rng.choices(LEVELS, LEVEL_WEIGHTS)[0]
        if rng.random() < 0.88:
            p = rng.choice(people)
            if p.status_on(d) != "active":
                continue
            node = nodes[p.union]
            titles = INDIVIDUAL_TITLES[level]
            if level in ("unit", "county", "sector"):
                titles = titles + SECTOR_TITLES[node.sector]
            title = rng.choice(titles)
            if title == "三八红旗手" and p.gender != "F":
                title = "先进工作者"
            if (p.id, title, year) in seen:
                continue
            seen.add((p.id, title, year))
            kind, member_id, recipient = "individual", p.id, p.name
        else:
            which = rng.choices(["group", "branch", "union"], [45, 35, 20])[0]
            node = rng.choice(groups[which])
            if level == "national" and which != "union":
                level = "provincial"
            title = rng.choice(COLLECTIVE_TITLES[which])
            if title == "五一劳动奖状" and level in ("unit", "sector", "county"):
                level = "city"
            kind, member_id, recipient = "collective", None, node.label
        objs.append(
            Honour(
                union_id=node.pk,
                kind=kind,
                member_id=member_id,
                recipient=recipient[:100],
                title=title,
                level=level,
                awarded_by=honour_body(level, node, nodes, rng),
                date=d,
                created_at=dt.datetime.combine(d, dt.time(2), UTC)
                + dt.timedelta(days=rng.randint(1, 20)),
            )
        )
    objs.sort(key=lambda h: (h.date, h.union_id))
    Honour.objects.bulk_create(objs, batch_size=2000)
    by = Counter((h.kind, h.date.year) for h in objs)
    log(
        f"荣誉 {len(objs):,} 项（"
        + "，".join(
            f"{y} 年 个人 {by['individual', y]:,} / 集体 {by['collective', y]:,}" for y in YEARS
        )
        + "）",
        started,
    )
    return len(objs)


# The run --------------------------------------------------------------------------------

APPS = ("activities", "honours")


def recreate(started: float) -> None:
    """Drop the activities and honours tables and make them again from the apps' current
    migrations (emptied, numbered from 1; and a migration edited in place since the
    last run, as happens while an app is young, applies); the audit of earlier runs goes."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    from gonghui.common.models import AuditEntry

    tables = [
        t
        for t in connection.introspection.table_names()
        if t.startswith(tuple(f"{a}_" for a in APPS))
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if tables:
                cursor.execute(f"DROP TABLE {', '.join(tables)} CASCADE")
        else:
            connection.disable_constraint_checking()
            try:
                for table in tables:
                    cursor.execute(f'DROP TABLE "{table}"')
            finally:
                connection.enable_constraint_checking()
    MigrationRecorder.Migration.objects.filter(app__in=APPS).delete()
    call_command("migrate", verbosity=0)
    AuditEntry.objects.filter(content_type__app_label__in=APPS).delete()
    log(f"已重建文体活动、荣誉各表（删除 {len(tables)} 个表后按迁移重建）", started)


def totals(period_year: int) -> Iterator[str]:
    from django.db.models import Count

    from gonghui.activities import models as m
    from gonghui.honours.models import Honour

    for model in (m.Activity, m.Registration, m.Award, m.Club, m.ClubMembership, Honour):
        yield f"{model._meta.db_table}: {model.objects.count():,}"
    regs = m.Registration.objects.values("status").annotate(n=Count("id")).order_by("-n")
    yield "报名状态：" + "，".join(f"{r['status']} {r['n']:,}" for r in regs)
    year = m.Activity.objects.filter(start_date__year=period_year)
    yield (
        f"{period_year} 年：活动 {year.count():,}（其中取消 {year.filter(status='cancelled').count():,}）"
        f"，签到 {m.Registration.objects.filter(activity__in=year, status='attended').count():,}"
        f"，荣誉 {Honour.objects.filter(date__year=period_year).count():,}"
    )
    levels = Honour.objects.values("level").annotate(n=Count("id")).order_by("-n")
    yield "荣誉级别：" + "，".join(f"{r['level']} {r['n']:,}" for r in levels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--activities", type=int, default=ACTIVITIES, help="活动个数")
    parser.add_argument("--registrations", type=int, default=REGISTRATIONS, help="报名条数（约）")
    parser.add_argument("--honours", type=int, default=HONOURS, help="荣誉项数")
    parser.add_argument("--batch", type=int, default=2000, help="bulk_create 每批行数")
    parser.add_argument("--reg-batch", type=int, default=50_000, help="报名每批行数")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    url = benchenv.onto_roster(args.db)
    from django.db import connection

    log(f"已迁移：{url}", started)
    recreate(started)
    nodes, people = load(started)
    tables = [
        "activities_activity",
        "activities_registration",
        "activities_award",
        "activities_club",
        "activities_clubmembership",
        "honours_honour",
    ]
    with secondary_indexes_dropped(tables, started):
        write_clubs(nodes, started)
        plans = plan_activities(nodes, args.activities, args.registrations)
        log(f"计划活动 {len(plans):,} 个，报名约 {sum(p.size for p in plans):,.0f} 条", started)
        activities, plans = write_activities(plans, args.batch, started)
        statuses, awards = write_registrations(activities, plans, args.reg_batch, started)
        log("报名状态：" + "，".join(f"{k} {n:,}" for k, n in statuses.most_common()), started)
        from gonghui.activities.models import Award

        Award.objects.bulk_create(awards, batch_size=args.batch)
        log(f"获奖 {len(awards):,} 项", started)
        write_honours(nodes, people, args.honours, started)
    if connection.vendor == "postgresql":
        # What autovacuum would do shortly after a load of this size.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        log("VACUUM ANALYZE", started)
    for line in totals(YEARS[-1]):
        print("  " + line)
    log("完成", started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
