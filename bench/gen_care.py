"""Add 关爱服务 data to the roster database of gen_roster, for bench_care.

    .venv/bin/python bench/gen_roster.py --db sqlite     # first: the tree and 100,000 members
    .venv/bin/python bench/gen_care.py --db sqlite       # then: about 1,000,000 visits …
    .venv/bin/python bench/gen_care.py --db postgres

Three years (2023–2025) of a city federation's care work over the members gen_roster
made: about 1,000,000 visits (慰问), 1,000 hardship files, 10,000 subsidies, a 一日捐
per 基层工会 and year with about 150,000 gifts, and a 综合医疗保障 per 基层工会 and year
with most of its members enrolled. The care tables are emptied first, so the data is
the same on every run (each union and year has its own random seed).

The federation's policy, the drives and the programmes go through the services, as an
officer's would; the rows (visits, files, subsidies, gifts, enrolments) are written with
``bulk_create`` in batches, with the tables' secondary indexes dropped during the load
and rebuilt after it. Each row is what the services would leave: a visit belongs to the
member's union and goes to a retiree when the member was 保留会籍 that day; a reversed
entry is marked 已冲销 and followed by its reversing row (negative amount, a few days
later), as ``visit_reverse`` and ``donation_reverse`` do; a file's category and
per-capita income come from ``care.rules.assess``; a paid subsidy has its date and
amount, and an event for every step it took.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import benchenv
from gen_roster import (
    FEMALE,
    MALE,
    SURNAME_WEIGHTS,
    SURNAMES,
    UNIONS,
    add_years,
    between,
    log,
    secondary_indexes_dropped,
)

SEED = 20250101
YEARS = (2023, 2024, 2025)
#: 当地低保标准 (元/月), set on the federation's policy: the hardship files follow it.
DIBAO = Decimal(900)
D = Decimal

#: The windows in which a union hands out each festival's goods, by year.
FESTIVALS: dict[str, dict[int, tuple[dt.date, dt.date]]] = {
    "春节": {
        2023: (dt.date(2023, 1, 9), dt.date(2023, 1, 19)),
        2024: (dt.date(2024, 1, 29), dt.date(2024, 2, 8)),
        2025: (dt.date(2025, 1, 13), dt.date(2025, 1, 27)),
    },
    "端午": {
        2023: (dt.date(2023, 6, 12), dt.date(2023, 6, 21)),
        2024: (dt.date(2024, 6, 3), dt.date(2024, 6, 7)),
        2025: (dt.date(2025, 5, 22), dt.date(2025, 5, 30)),
    },
    "中秋": {
        2023: (dt.date(2023, 9, 18), dt.date(2023, 9, 27)),
        2024: (dt.date(2024, 9, 9), dt.date(2024, 9, 14)),
        2025: (dt.date(2025, 9, 26), dt.date(2025, 9, 30)),
    },
}
FESTIVAL_GOODS = {
    "春节": ["大米、食用油", "年货礼包", "米、油、腊味礼盒", "干果礼盒、大米"],
    "端午": ["粽子、咸鸭蛋", "粽子礼盒"],
    "中秋": ["月饼、水果", "月饼礼盒", "月饼、食用油"],
}
VISITORS = ["工会主席", "工会副主席", "工会主席、女职工委员", "分工会主席、小组长", "工会委员"]
CAUSES = [
    "本人患重病，长期治疗",
    "配偶患病，无固定收入",
    "子女上学，家庭负担重",
    "家庭成员残疾，需长期照料",
    "单亲家庭，独自抚养子女",
    "本人因工致残，收入减少",
    "父母年老多病，赡养负担重",
]
ACCIDENT_CAUSES = ["家人突发重病，医疗支出大", "房屋遭受水灾", "家庭遭遇交通事故，医疗费用高"]
CLOSE_REASONS = ["家庭收入提高，已脱困", "子女参加工作，家庭收入增加", "本人康复返岗"]
REVERSE_REASONS = ["重复登记", "金额录入错误", "慰问对象登记错误", "日期登记错误"]
#: Who in a member's family a visit may go to, and whose surname they carry.
FAMILY = [("配偶", False), ("父亲", True), ("母亲", False), ("子女", True)]


@dataclass(slots=True)
class Person:
    """A member as the care data needs them: where, who, and their history on the roster."""

    id: int
    union: int
    base: int  # the 基层工会 (depth 1) above the member's node
    branch: str  # the name of the 分工会 above it, or ""
    name: str
    gender: str
    birth: dt.date | None
    wage: Decimal | None
    dates: list[dt.date] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    def status_on(self, d: dt.date) -> str:
        i = bisect_right(self.dates, d) - 1
        return self.statuses[i] if i >= 0 else ""

    def changes_in(self, kind: str, year: int) -> list[dt.date]:
        return [
            d for k, d in zip(self.kinds, self.dates, strict=True) if k == kind and d.year == year
        ]

    def age_in(self, year: int) -> int:
        return year - self.birth.year if self.birth else 40


@dataclass
class Base:
    """A 基层工会 and its habits: what it hands out, how much, and to whom."""

    pk: int
    code: str
    name: str
    sector: str
    people: list[Person]
    habits: dict[str, Any] = field(default_factory=dict)


# Loading --------------------------------------------------------------------------------


def load(started: float) -> tuple[Any, list[Base], dict[int, Person]]:
    from gonghui.members.choices import STATUS_AFTER
    from gonghui.members.models import Member, MembershipChange
    from gonghui.org.choices import UnionKind
    from gonghui.org.models import Union

    root = Union.objects.get(code=benchenv.ROOT_CODE)
    nodes = {
        pk: (path, depth, name)
        for pk, path, depth, name in Union.objects.values_list("pk", "path", "depth", "name")
    }
    by_path = {path: pk for pk, (path, _, _) in nodes.items()}
    sectors = {f"JC{i + 1:02d}": sector for i, (_, sector, _) in enumerate(UNIONS)}
    bases: dict[int, Base] = {}
    for u in Union.objects.filter(parent=root, kind=UnionKind.UNION).order_by("code", "pk"):
        bases[u.pk] = Base(u.pk, u.code, u.name, sectors.get(u.code, "company"), [])
    width = len(root.path)
    people: dict[int, Person] = {}
    rows = Member.objects.order_by("pk").values_list(
        "pk", "union_id", "name", "gender", "birth_date", "monthly_wage"
    )
    for pk, union_id, name, gender, birth, wage in rows.iterator(chunk_size=5000):
        path, depth, _ = nodes[union_id]
        base = by_path.get(path[: 2 * width])
        if base not in bases:
            continue
        branch = nodes[by_path[path[: 3 * width]]][2] if depth >= 2 else ""
        person = Person(pk, union_id, base, branch, name, gender, birth, wage)
        people[pk] = person
        bases[base].people.append(person)
    changes = MembershipChange.objects.order_by("member_id", "date", "pk").values_list(
        "member_id", "kind", "date"
    )
    for member_id, kind, date in changes.iterator(chunk_size=10000):
        person = people.get(member_id)
        if person is not None:
            person.dates.append(date)
            person.kinds.append(kind)
            person.statuses.append(STATUS_AFTER[kind])
    for base in bases.values():
        base.habits = habits(base)
    log(f"读入会员 {len(people):,} 人，{len(bases)} 个基层工会", started)
    return root, list(bases.values()), people


def habits(base: Base) -> dict[str, Any]:
    """What one union does, the same every year (amounts rise a little)."""
    rng = random.Random(f"{SEED}-habits-{base.code}")
    summer: str | None
    if base.sector == "company":
        summer = "生产" if rng.random() < 0.8 else "all"
    elif base.sector == "hospital":
        summer = "后勤" if rng.random() < 0.6 else None
    else:
        summer = "all" if rng.random() < 0.2 else None
    return {
        "spring": rng.choice([300, 400, 500, 600, 800]),
        "autumn": rng.choice([200, 300, 400, 500]),
        "dragon": rng.choice([100, 150, 200]) if rng.random() < 0.45 else 0,
        "women": rng.choice([100, 150, 200]) if rng.random() < 0.4 else 0,
        "birthday": rng.choice(["day", "day", "month", None]),
        "birthday_amount": rng.choice([100, 200, 200, 300]),
        "birthday_form": rng.choice(["voucher", "goods"]),
        "summer": summer,
        "summer_amount": rng.choice([50, 80, 100, 150]),
        "donate": rng.uniform(0.35, 0.75),
        "enrol": rng.uniform(0.85, 0.98),
    }


# Visits ---------------------------------------------------------------------------------

#: One visit before it is written: date, union, member, recipient, recipient_name,
#: relation, reason, variant, form, amount, goods, visitors, note, over_cap, cap_note,
#: batch, and the days after which it is reversed (0: never).
VisitRow = tuple[Any, ...]


def family_name(rng: random.Random, person: Person, relation: str, same_surname: bool) -> str:
    surname = person.name[0] if same_surname else rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    chars = MALE if relation in ("父亲",) or (relation == "子女" and rng.random() < 0.5) else FEMALE
    if relation == "配偶":
        chars = FEMALE if person.gender == "M" else MALE
    return surname + rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")


def year_visits(
    base: Base, year: int, files: dict[int, list[tuple[dt.date, dt.date | None]]]
) -> list[VisitRow]:
    """One union's visits of one year: the festivals, birthdays and summer in batches,
    and each member's own occasions."""
    from gonghui.members.choices import MemberStatus

    rng = random.Random(f"{SEED}-visits-{base.code}-{year}")
    h = base.habits
    rise = (year - YEARS[0]) * 50
    rows: list[VisitRow] = []
    today = dt.date.today()
    first_day, last_day = dt.date(year, 1, 1), dt.date(year, 12, 31)

    def visitors() -> str:
        return rng.choice(VISITORS)

    def batch() -> str:
        return f"{rng.getrandbits(128):032x}"

    def add(
        d: dt.date,
        p: Person,
        recipient: str,
        reason: str,
        form: str,
        amount: int,
        *,
        name: str = "",
        relation: str = "",
        variant: str = "",
        goods: str = "",
        who: str = "",
        note: str = "",
        over: str = "",
        batch_id: str = "",
    ) -> None:
        d = min(max(d, first_day), last_day)  # the year's own records
        if d > today:
            return
        reverse = rng.randint(1, 20) if rng.random() < 0.004 else 0
        rows.append(
            (
                d,
                p.union,
                p.id,
                recipient,
                name or p.name,
                relation,
                reason,
                variant,
                form,
                D(amount),
                goods,
                who or visitors(),
                note,
                bool(over),
                over,
                batch_id,
                reverse,
            )
        )

    active, retained = MemberStatus.ACTIVE, MemberStatus.RETAINED
    # Festivals: every member on the roster that day; retirees too, but not at 端午.
    for festival, windows in FESTIVALS.items():
        amount = {"春节": h["spring"] + rise, "端午": h["dragon"], "中秋": h["autumn"] + rise}[
            festival
        ]
        if not amount:
            continue
        d = between(rng, *windows[year])
        b, goods, who = batch(), rng.choice(FESTIVAL_GOODS[festival]), visitors()
        for p in base.people:
            status = p.status_on(d)
            if status == active:
                add(d, p, "member", "festival", "goods", amount, goods=goods, who=who, batch_id=b)
            elif status == retained and festival != "端午":
                add(d, p, "retiree", "festival", "goods", amount, goods=goods, who=who, batch_id=b)
    # 三八节: the women members, in the unions that mark it.
    if h["women"]:
        d = between(rng, dt.date(year, 3, 4), dt.date(year, 3, 8))
        b, who = batch(), "工会女职工委员会"
        for p in base.people:
            if p.gender == "F" and p.status_on(d) == active:
                add(
                    d,
                    p,
                    "member",
                    "festival",
                    "goods",
                    h["women"],
                    goods="鲜花、护肤品",
                    who=who,
                    batch_id=b,
                )
    # Birthdays: on the day, or in a batch on the first of the month; retirees at 逢五逢十.
    if h["birthday"]:
        month_batches = {m: batch() for m in range(1, 13)}
        goods = "生日蛋糕券" if h["birthday_form"] == "voucher" else "生日蛋糕"
        for p in base.people:
            if p.birth is None:
                continue
            try:
                day = p.birth.replace(year=year)
            except ValueError:  # 29 February
                day = dt.date(year, 2, 28)
            d = day.replace(day=1) if h["birthday"] == "month" else day
            b = month_batches[d.month] if h["birthday"] == "month" else ""
            status = p.status_on(d)
            if status == active:
                add(
                    d,
                    p,
                    "member",
                    "birthday",
                    h["birthday_form"],
                    h["birthday_amount"],
                    goods=goods,
                    batch_id=b,
                )
            elif status == retained and p.age_in(year) % 5 == 0:
                add(d, p, "retiree", "birthday", "goods", 300, goods="生日蛋糕、慰问品", batch_id=b)
    # 夏季送清凉: the production (or support) staff, or everyone.
    if h["summer"]:
        d = between(rng, dt.date(year, 7, 1), dt.date(year, 8, 10))
        b, who = batch(), visitors()
        for p in base.people:
            if h["summer"] != "all" and h["summer"] not in p.branch:
                continue
            if p.status_on(d) == active:
                add(
                    d,
                    p,
                    "member",
                    "summer",
                    "goods",
                    h["summer_amount"],
                    goods="绿豆、白糖、防暑药品",
                    who=who,
                    batch_id=b,
                )
    # Each member's own occasions.
    spring = FESTIVALS["春节"][year][0]
    for p in base.people:
        age = p.age_in(year)
        d = between(rng, dt.date(year, 1, 1), dt.date(year, 12, 31))
        if p.status_on(d) == active:
            if rng.random() < (0.055 if age >= 50 else 0.035):
                surgery = rng.random() < 0.25
                amount = rng.choice([1000, 1500, 2000] if surgery else [500, 800, 1000])
                form, goods = ("cash", "") if rng.random() < 0.75 else ("goods", "鲜花、水果")
                over = ""
                if not surgery and rng.random() < 0.01:
                    amount = 1500
                    over = "本次生病住院慰问 1500 元，超过全年上限 1000 元（安徽现行标准）。"
                if rng.random() < 0.05:
                    relation, same = rng.choice(FAMILY)
                    add(
                        d,
                        p,
                        "family",
                        "sick",
                        form,
                        amount,
                        name=family_name(rng, p, relation, same),
                        relation=relation,
                        goods=goods,
                        over=over,
                    )
                else:
                    add(
                        d,
                        p,
                        "member",
                        "sick",
                        form,
                        amount,
                        variant="surgery" if surgery else "",
                        goods=goods,
                        over=over,
                    )
            elif 23 <= age <= 40 and rng.random() < 0.03:
                add(d, p, "member", "childbirth", "cash", rng.choice([500, 800, 1000]))
            elif 22 <= age <= 34 and rng.random() < 0.025:
                add(d, p, "member", "wedding", "cash", rng.choice([500, 1000, 2000]))
            elif rng.random() < (0.02 if age >= 35 else 0.008):
                add(
                    d,
                    p,
                    "member",
                    "bereavement",
                    "cash",
                    rng.choice([500, 800, 1000]),
                    variant="relative_death",
                )
            elif rng.random() < 0.008:
                add(
                    d,
                    p,
                    "member",
                    "other",
                    rng.choice(["cash", "goods"]),
                    rng.choice([200, 300, 500]),
                    note="工伤慰问",
                )
        for day in p.changes_in("retire", year):
            form, goods = ("goods", "退休纪念品") if rng.random() < 0.5 else ("cash", "")
            add(
                day + dt.timedelta(days=rng.randint(0, 14)),
                p,
                "retiree",
                "retirement",
                form,
                rng.choice([500, 800, 1000]),
                goods=goods,
            )
        for day in p.changes_in("death", year):
            relation, same = rng.choice(FAMILY[:1] + FAMILY[3:])
            add(
                day + dt.timedelta(days=rng.randint(1, 7)),
                p,
                "family",
                "bereavement",
                "cash",
                2000,
                name=family_name(rng, p, relation, same),
                relation=relation,
                variant="member_death",
            )
        # 春节送温暖: those on the hardship file then.
        d = spring - dt.timedelta(days=rng.randint(3, 12))
        for opened, closed in files.get(p.id, []):
            if (
                opened <= d
                and (closed is None or closed > d)
                and p.status_on(d) in (active, retained)
            ):
                add(
                    d,
                    p,
                    "member" if p.status_on(d) == active else "retiree",
                    "hardship",
                    "cash",
                    rng.choice([500, 800, 1000, 1500, 2000]),
                    note="春节送温暖",
                )
    return rows


def write_visits(
    bases: list[Base],
    files: dict[int, list[tuple[dt.date, dt.date | None]]],
    batch_size: int,
    started: float,
) -> Counter[str]:
    from django.db import transaction

    from gonghui.care.models import Visit

    made: Counter[str] = Counter()
    for year in YEARS:
        rows = [row for base in bases for row in year_visits(base, year, files)]
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            with transaction.atomic():
                objs = [
                    Visit(
                        union_id=union,
                        date=d,
                        member_id=member,
                        recipient=recipient,
                        recipient_name=name[:50],
                        relation=relation,
                        reason=reason,
                        variant=variant,
                        form=form,
                        amount=amount,
                        goods=goods,
                        visitors=who,
                        note=note,
                        over_cap=over_cap,
                        cap_note=cap_note,
                        batch=batch,
                        state="reversed" if reverse else "valid",
                        created_at=dt.datetime.combine(d, dt.time(10), dt.UTC),
                    )
                    for (
                        d,
                        union,
                        member,
                        recipient,
                        name,
                        relation,
                        reason,
                        variant,
                        form,
                        amount,
                        goods,
                        who,
                        note,
                        over_cap,
                        cap_note,
                        batch,
                        reverse,
                    ) in chunk
                ]
                Visit.objects.bulk_create(objs, batch_size=batch_size)
                reversals = []
                for obj, row in zip(objs, chunk, strict=True):
                    if not row[-1]:
                        continue
                    on = obj.date + dt.timedelta(days=row[-1])
                    why = REVERSE_REASONS[obj.pk % len(REVERSE_REASONS)]
                    reversals.append(
                        Visit(
                            union_id=obj.union_id,
                            date=on,
                            member_id=obj.member_id,
                            recipient=obj.recipient,
                            recipient_name=obj.recipient_name,
                            relation=obj.relation,
                            reason=obj.reason,
                            variant=obj.variant,
                            form=obj.form,
                            amount=-obj.amount,
                            goods=obj.goods,
                            visitors=obj.visitors,
                            note=f"冲销 {obj.date:%Y-%m-%d} 的记录：{why}",
                            state="reversal",
                            reverses_id=obj.pk,
                            created_at=dt.datetime.combine(on, dt.time(15), dt.UTC),
                        )
                    )
                Visit.objects.bulk_create(reversals, batch_size=batch_size)
            made["visits"] += len(objs)
            made["reversals"] += len(reversals)
            made.update(r[6] for r in chunk)
        log(
            f"{year} 年慰问 {len(rows):,} 人次；累计 {made['visits'] + made['reversals']:,} 行",
            started,
        )
    return made


# Hardship files and subsidies -----------------------------------------------------------


def write_files(bases: list[Base], started: float) -> list[Any]:
    """About 1,000 hardship files, opened from 2019 on; a quarter closed since."""
    from gonghui.care import rules
    from gonghui.care.models import HardshipFile, HardshipReview, HouseholdMember
    from gonghui.members.choices import CURRENT_STATUSES

    rng = random.Random(f"{SEED}-files")
    today = dt.date.today()
    # Members still on the roster; the lower the wage, the likelier a file.
    pool = [p for b in bases for p in b.people if p.statuses and p.statuses[-1] in CURRENT_STATUSES]
    weights = [1.0 / float(p.wage or 8000) ** 2 for p in pool]
    chosen: dict[int, Person] = {}
    wanted = min(1000, len(pool) // 50)  # 1% of the members at 100,000
    while len(chosen) < wanted:
        p = rng.choices(pool, weights)[0]
        chosen.setdefault(p.id, p)
    files, people, reviews = [], [], []
    for p in sorted(chosen.values(), key=lambda p: p.id):
        first = p.dates[0]
        opened = between(
            rng, max(dt.date(2019, 1, 1), first + dt.timedelta(days=400)), dt.date(2025, 10, 31)
        )
        if opened > today or p.status_on(opened) not in CURRENT_STATUSES:
            continue
        size = rng.choices([1, 2, 3, 4, 5], [4, 18, 40, 28, 10])[0]
        kind = rng.choices(["deep", "relative", "accident"], [30, 55, 15])[0]
        pcm = {
            "deep": rng.uniform(450, 880),
            "relative": rng.uniform(950, 1750),
            "accident": rng.uniform(1900, 3200),
        }[kind]
        expenses = D(rng.randrange(0, 24000, 100))
        disposable = D(round(pcm * 12 * size)) + expenses
        other_income = D(rng.randrange(0, 3000, 100)) if rng.random() < 0.3 else D(0)
        earners = disposable - other_income
        household = [
            (
                "本人",
                p.name,
                p.birth.year if p.birth else None,
                "在职",
                earners if size == 1 else (earners * D(rng.uniform(0.6, 1))).quantize(D(1)),
            )
        ]
        rest = earners - household[0][4]
        relations = ["配偶", "子女", "子女", "父亲", "母亲"][: size - 1]
        for i, relation in enumerate(relations):
            income = rest if i == 0 else D(0)
            situation = {
                "配偶": "务农" if income else "无业",
                "子女": "在校学生",
                "父亲": "退休",
                "母亲": "无业",
            }[relation]
            same = relation in ("子女", "父亲")
            household.append(
                (relation, family_name(rng, p, relation, same), None, situation, income)
            )
        income = sum((row[4] for row in household), D(0)) + other_income
        costs = (income * D(rng.uniform(0.85, 2.0))).quantize(D(1)) if kind == "accident" else D(0)
        assessed = rules.assess(
            rules.Household(
                size=size,
                income=income,
                expenses=expenses,
                hardship_costs=costs,
                member_since=first,
            ),
            dibao=DIBAO,
            on=opened,
        )
        if not assessed.eligible:
            continue
        closed = None
        if rng.random() < 0.25:
            closed = between(rng, opened + dt.timedelta(days=365), today - dt.timedelta(days=30))
            if closed <= opened:
                closed = None
        review_dates = [opened]
        while True:
            nxt = add_years(review_dates[-1], 1)
            if nxt > today or (closed and nxt >= closed):
                break
            review_dates.append(nxt)
        file = HardshipFile(
            union_id=p.union,
            member_id=p.id,
            status="closed" if closed else "open",
            category=assessed.category,
            opened_on=opened,
            cause=rng.choice(ACCIDENT_CAUSES if kind == "accident" else CAUSES),
            other_income=other_income,
            expenses=expenses,
            hardship_costs=costs,
            household_size=size,
            income=income,
            per_capita_monthly=assessed.per_capita_monthly or D(0),
            last_reviewed_on=review_dates[-1],
            closed_on=closed,
            close_reason=rng.choice(CLOSE_REASONS) if closed else "",
            created_at=dt.datetime.combine(opened, dt.time(9), dt.UTC),
        )
        files.append(file)
        people.append(
            [
                HouseholdMember(
                    name=name[:50],
                    relation=relation,
                    birth_year=birth_year,
                    situation=situation,
                    annual_income=income,
                )
                for relation, name, birth_year, situation, income in household
            ]
        )
        reviews.append(
            [
                HardshipReview(
                    date=d,
                    category=file.category,
                    per_capita_monthly=file.per_capita_monthly,
                    household_size=size,
                    income=income,
                    note="建档认定：" + "；".join(assessed.reasons)
                    if d == opened
                    else "年度复核：家庭情况无变化",
                )
                for d in review_dates
            ]
        )
    HardshipFile.objects.bulk_create(files)
    for file, rows in zip(files, people, strict=True):
        for row in rows:
            row.file_id = file.pk
    for file, rows in zip(files, reviews, strict=True):
        for row in rows:
            row.file_id = file.pk
    HouseholdMember.objects.bulk_create([r for rows in people for r in rows], batch_size=2000)
    HardshipReview.objects.bulk_create([r for rows in reviews for r in rows], batch_size=2000)
    log(
        f"困难职工档案 {len(files):,} 份（其中已脱档 {sum(1 for f in files if f.closed_on):,}）",
        started,
    )
    return files


def write_subsidies(bases: list[Base], files: list[Any], started: float) -> None:
    """About 10,000 subsidies: most paid, some rejected, the newest still on their way."""
    from gonghui.care.models import Subsidy, SubsidyEvent
    from gonghui.members.choices import CURRENT_STATUSES

    rng = random.Random(f"{SEED}-subsidies")
    today = dt.date.today()
    everyone = [p for b in bases for p in b.people]
    by_id = {p.id: p for p in everyone}
    # (member, kind, applied_on, requested, file)
    wanted: list[tuple[Person, str, dt.date, Decimal, Any]] = []
    for f in files:
        for year in YEARS:
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                d = between(rng, dt.date(year, 1, 1), dt.date(year, 12, 20))
                if f.opened_on <= d and (f.closed_on is None or f.closed_on > d):
                    wanted.append(
                        (by_id[f.member_id], "hardship", d, D(rng.randrange(1000, 5001, 500)), f)
                    )
    plan = [
        ("illness", 2600, (3000, 20001, 1000)),
        ("education", 3000, (1000, 5001, 500)),
        ("other", 900, (500, 3001, 500)),
    ]
    scale = len(everyone) / 100_000  # the counts are for gen_roster's 100,000 members
    for kind, n, (low, high, step) in plan:
        for _ in range(round(n * scale)):
            year = rng.choice(YEARS)
            if kind == "education":
                d = between(rng, dt.date(year, 8, 1), dt.date(year, 9, 20))
            else:
                d = between(rng, dt.date(year, 1, 1), dt.date(year, 12, 20))
            wanted.append((rng.choice(everyone), kind, d, D(rng.randrange(low, high, step)), None))
    # The newest applications, still in the workflow.
    for _ in range(round(600 * scale)):
        wanted.append(
            (
                rng.choice(everyone),
                rng.choice(["hardship", "illness", "other"]),
                between(rng, today - dt.timedelta(days=60), today),
                D(rng.randrange(1000, 5001, 500)),
                None,
            )
        )
    reasons = {
        "hardship": "家庭生活困难，申请困难补助",
        "illness": "本人患重病住院，医疗费用高",
        "education": "子女考入大学，学费负担重",
        "other": "家中遭遇意外，申请临时补助",
    }
    subsidies, events = [], []
    for p, kind, applied, requested, f in sorted(wanted, key=lambda w: (w[2], w[0].id)):
        if p.status_on(applied) not in CURRENT_STATUSES:
            continue
        recent = applied > today - dt.timedelta(days=61)
        if recent:
            status = rng.choices(
                ["applied", "reviewed", "approved", "paid", "rejected"], [30, 25, 20, 20, 5]
            )[0]
        else:
            status = "rejected" if rng.random() < 0.09 else "paid"
        steps = {
            "applied": ["applied"],
            "reviewed": ["applied", "reviewed"],
            "approved": ["applied", "reviewed", "approved"],
            "paid": ["applied", "reviewed", "approved", "paid"],
            "rejected": ["applied", "rejected"]
            if rng.random() < 0.5
            else ["applied", "reviewed", "rejected"],
        }[status]
        approved = paid = paid_on = None
        if "approved" in steps:
            approved = (
                min(requested, D(2000))
                if kind == "hardship"
                else (requested * D(rng.choice(["1", "0.8", "0.6", "0.5"]))).quantize(D(100))
            )
        if status == "paid":
            paid, paid_on = approved, min(applied + dt.timedelta(days=rng.randint(7, 45)), today)
        s = Subsidy(
            union_id=p.union,
            member_id=p.id,
            kind=kind,
            status=status,
            reason=reasons[kind],
            source="upper" if kind == "hardship" and rng.random() < 0.4 else "own",
            applied_on=applied,
            requested_amount=requested,
            approved_amount=approved,
            paid_amount=paid,
            paid_on=paid_on,
            reject_reason="经核实，家庭收入不符合补助条件" if status == "rejected" else "",
            hardship_file=f,
            created_at=dt.datetime.combine(applied, dt.time(9), dt.UTC),
        )
        subsidies.append(s)
        amounts = {"applied": requested, "approved": approved, "paid": paid}
        previous = ""
        for step in steps:
            events.append((s, previous, step, amounts.get(step)))
            previous = step
    Subsidy.objects.bulk_create(subsidies, batch_size=2000)
    SubsidyEvent.objects.bulk_create(
        [
            SubsidyEvent(
                subsidy_id=s.pk,
                from_status=old,
                to_status=new,
                amount=amount,
                actor_name="工会主席" if new in ("approved", "rejected") else "工会经审委员",
            )
            for s, old, new, amount in events
        ],
        batch_size=2000,
    )
    by_status = Counter(s.status for s in subsidies)
    log(f"补助 {len(subsidies):,} 笔（{dict(by_status)}），流转记录 {len(events):,} 条", started)


# Donations and coverage -----------------------------------------------------------------


def drives_and_programmes(root: Any, bases: list[Base], started: float) -> tuple[dict, dict]:
    """One 一日捐 and one 综合医疗保障 per 基层工会 and year, through the services."""
    from django.db import transaction

    from gonghui.care import services
    from gonghui.org.models import Union

    with transaction.atomic():
        services.policy_set(actor=None, union=root, preset="anhui", dibao_line=DIBAO)
    drives, programmes = {}, {}
    unions = Union.objects.in_bulk([b.pk for b in bases])
    for base in bases:
        union = unions[base.pk]
        for year in YEARS:
            drives[base.pk, year] = services.drive_create(
                actor=None,
                union=union,
                name=f"{year}年慈善一日捐",
                start_date=dt.date(year, 9, 1),
                end_date=dt.date(year, 9, 30),
                purpose="帮扶困难职工、资助困难学生和慈善救助",
                beneficiary="困难职工及社会困难群体",
            )
            programmes[base.pk, year] = services.programme_create(
                actor=None,
                union=union,
                year=year,
                kind="medical",
                name="职工综合医疗保障",
                provider="江城市职工保障互助会",
                premium=D(100),
            )
    log(
        f"开支标准 1 条（低保 {DIBAO} 元/月）；捐款活动 {len(drives)} 个；保障项目 {len(programmes)} 个",
        started,
    )
    return drives, programmes


def write_donations(
    bases: list[Base], drives: dict, batch_size: int, started: float
) -> Counter[str]:
    from django.db import transaction

    from gonghui.care.models import Donation
    from gonghui.members.choices import MemberStatus

    made: Counter[str] = Counter()
    for year in YEARS:
        objs: list[Any] = []
        flags: list[int] = []
        for base in bases:
            rng = random.Random(f"{SEED}-donations-{base.code}-{year}")
            drive = drives[base.pk, year]
            rate = base.habits["donate"]
            for p in base.people:
                d = between(rng, dt.date(year, 9, 1), dt.date(year, 9, 25))
                if p.status_on(d) != MemberStatus.ACTIVE or rng.random() >= rate:
                    continue
                if p.wage and rng.random() < 0.6:
                    amount = max(D(50), (p.wage / D("21.75")).quantize(D(1)))
                else:
                    amount = D(rng.choice([50, 100, 100, 200, 200, 300, 500]))
                objs.append(
                    Donation(
                        drive_id=drive.pk,
                        union_id=p.union,
                        donor_kind="member",
                        member_id=p.id,
                        donor_name=p.name,
                        amount=amount,
                        date=d,
                    )
                )
                flags.append(rng.randint(1, 10) if rng.random() < 0.003 else 0)
            for _ in range(max(1, len(base.people) // 80)):
                relation, same = rng.choice(FAMILY)
                someone = rng.choice(base.people)
                objs.append(
                    Donation(
                        drive_id=drive.pk,
                        union_id=base.pk,
                        donor_kind="person",
                        donor_name=family_name(rng, someone, relation, same),
                        amount=D(rng.choice([50, 100, 200, 500])),
                        date=between(rng, dt.date(year, 9, 1), dt.date(year, 9, 25)),
                        note=rng.choice(["退休职工", "职工家属"]),
                    )
                )
                flags.append(0)
            if rng.random() < 0.7:
                objs.append(
                    Donation(
                        drive_id=drive.pk,
                        union_id=base.pk,
                        donor_kind="unit",
                        donor_name=base.name.removesuffix("工会"),
                        amount=D(rng.randrange(10000, 50001, 1000)),
                        date=dt.date(year, 9, 28),
                    )
                )
                flags.append(0)
        order = sorted(
            range(len(objs)), key=lambda i: (objs[i].date, objs[i].union_id, objs[i].member_id or 0)
        )
        objs, flags = [objs[i] for i in order], [flags[i] for i in order]
        for start in range(0, len(objs), batch_size):
            chunk, chunk_flags = objs[start : start + batch_size], flags[start : start + batch_size]
            for obj, flag in zip(chunk, chunk_flags, strict=True):
                obj.state = "reversed" if flag else "valid"
                obj.created_at = dt.datetime.combine(obj.date, dt.time(11), dt.UTC)
            with transaction.atomic():
                Donation.objects.bulk_create(chunk, batch_size=batch_size)
                reversals = [
                    Donation(
                        drive_id=o.drive_id,
                        union_id=o.union_id,
                        donor_kind=o.donor_kind,
                        member_id=o.member_id,
                        donor_name=o.donor_name,
                        amount=-o.amount,
                        date=o.date + dt.timedelta(days=flag),
                        note=f"冲销 {o.date:%Y-%m-%d} 的记录：{REVERSE_REASONS[o.pk % 2]}",
                        state="reversal",
                        reverses_id=o.pk,
                    )
                    for o, flag in zip(chunk, chunk_flags, strict=True)
                    if flag
                ]
                Donation.objects.bulk_create(reversals)
            made["donations"] += len(chunk)
            made["reversals"] += len(reversals)
        log(
            f"{year} 年捐款 {len(objs):,} 笔；累计 {made['donations'] + made['reversals']:,} 行",
            started,
        )
    return made


def write_enrolments(bases: list[Base], programmes: dict, batch_size: int, started: float) -> int:
    """Most members on the roster in January; some who join by July, later."""
    from django.db import transaction

    from gonghui.care.models import Enrolment
    from gonghui.members.choices import MemberStatus

    active = MemberStatus.ACTIVE
    total = 0
    for year in YEARS:
        rows: list[Any] = []
        for base in bases:
            rng = random.Random(f"{SEED}-enrol-{base.code}-{year}")
            programme = programmes[base.pk, year]
            rate = base.habits["enrol"]
            for p in base.people:
                if p.status_on(dt.date(year, 1, 15)) == active:
                    if rng.random() < rate:
                        rows.append(
                            Enrolment(
                                programme_id=programme.pk,
                                member_id=p.id,
                                enrolled_on=dt.date(year, 1, rng.randint(5, 25)),
                            )
                        )
                elif p.status_on(dt.date(year, 7, 1)) == active and rng.random() < 0.5:
                    joined = p.dates[bisect_right(p.dates, dt.date(year, 7, 1)) - 1]
                    rows.append(
                        Enrolment(
                            programme_id=programme.pk,
                            member_id=p.id,
                            enrolled_on=joined + dt.timedelta(days=rng.randint(3, 20)),
                        )
                    )
        for start in range(0, len(rows), batch_size):
            with transaction.atomic():
                Enrolment.objects.bulk_create(
                    rows[start : start + batch_size], batch_size=batch_size
                )
        total += len(rows)
        log(f"{year} 年参保 {len(rows):,} 人", started)
    return total


# The run --------------------------------------------------------------------------------

CARE_TABLES = [
    "care_claim",
    "care_enrolment",
    "care_coverageprogramme",
    "care_donation",
    "care_donationdrive",
    "care_subsidyevent",
    "care_subsidy",
    "care_hardshipreview",
    "care_householdmember",
    "care_hardshipfile",
    "care_visitphoto",
    "care_visit",
    "care_hospitalstay",
    "care_carepolicy",
]


def clear(started: float) -> None:
    """Empty the care tables (and the audit of earlier runs), numbering from 1 again."""
    from django.db import connection

    from gonghui.common.models import AuditEntry

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(CARE_TABLES)} RESTART IDENTITY")
        else:
            for table in CARE_TABLES:
                cursor.execute(f'DELETE FROM "{table}"')
            marks = ", ".join("%s" for _ in CARE_TABLES)
            cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", CARE_TABLES)
    AuditEntry.objects.filter(content_type__app_label="care").delete()
    log("已清空关爱服务各表", started)


def totals() -> Iterator[str]:
    from django.db.models import Count, Sum

    from gonghui.care import models as m

    for model in (
        m.Visit,
        m.HardshipFile,
        m.HouseholdMember,
        m.HardshipReview,
        m.Subsidy,
        m.SubsidyEvent,
        m.DonationDrive,
        m.Donation,
        m.CoverageProgramme,
        m.Enrolment,
        m.CarePolicy,
    ):
        yield f"{model._meta.db_table}: {model.objects.count():,}"
    by_year = (
        m.Visit.objects.filter(state="valid")
        .values("date__year")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("date__year")
    )
    yield "有效慰问（年：人次 / 元）：" + "；".join(
        f"{r['date__year']}: {r['n']:,} / {r['amount']:,.0f}" for r in by_year
    )
    by_reason = (
        m.Visit.objects.filter(state="valid", date__year=2025)
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    yield "2025 年慰问事由：" + "，".join(f"{r['reason']} {r['n']:,}" for r in by_reason)
    by_recipient = (
        m.Visit.objects.filter(state="valid", date__year=2025)
        .values("recipient")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    yield "2025 年慰问对象：" + "，".join(f"{r['recipient']} {r['n']:,}" for r in by_recipient)
    states = m.Visit.objects.values("state").annotate(n=Count("id")).order_by("state")
    yield "慰问状态：" + "，".join(f"{r['state']} {r['n']:,}" for r in states)
    subsidies = m.Subsidy.objects.values("status").annotate(n=Count("id")).order_by("status")
    yield "补助状态：" + "，".join(f"{r['status']} {r['n']:,}" for r in subsidies)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--batch", type=int, default=2000, help="bulk_create 每批行数")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    url = benchenv.onto_roster(args.db)
    from django.db import connection

    log(f"已迁移：{url}", started)
    clear(started)
    root, bases, _ = load(started)
    drives, programmes = drives_and_programmes(root, bases, started)
    tables = [
        "care_visit",
        "care_donation",
        "care_enrolment",
        "care_subsidy",
        "care_subsidyevent",
        "care_hardshipfile",
        "care_hardshipreview",
        "care_householdmember",
    ]
    with secondary_indexes_dropped(tables, started):
        files = write_files(bases, started)
        write_subsidies(bases, files, started)
        on_file: dict[int, list[tuple[dt.date, dt.date | None]]] = {}
        for f in files:
            on_file.setdefault(f.member_id, []).append((f.opened_on, f.closed_on))
        visits = write_visits(bases, on_file, args.batch, started)
        donations = write_donations(bases, drives, args.batch, started)
        enrolled = write_enrolments(bases, programmes, args.batch, started)
    if connection.vendor == "postgresql":
        # What autovacuum would do shortly after a load of this size.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        log("VACUUM ANALYZE", started)
    log(
        f"写入：慰问 {visits['visits']:,} + 冲销 {visits['reversals']:,}；捐款 {donations['donations']:,}"
        f" + 冲销 {donations['reversals']:,}；参保 {enrolled:,}",
        started,
    )
    for line in totals():
        print("  " + line)
    log("完成", started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
