"""Demo data for 关爱服务: a year of visits, a few hardship files and subsidies, a
donation drive and the medical cover, through the services as an officer would."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from gonghui.members.choices import MemberStatus
from gonghui.members.models import Member
from gonghui.members.services import member_link_user
from gonghui.org.choices import Portfolio, Role
from gonghui.org.demo import DEMO_PASSWORD
from gonghui.org.models import Union, User, subtree_q
from gonghui.org.services import user_create

from . import services
from .choices import CapEnforcement, CapPreset

#: Festivals of the demo year (month, day, name, goods, value per member).
FESTIVALS = [
    (2, 1, "春节", "年货礼包（米、油、干货）", 300),
    (6, 10, "端午节", "粽子、咸鸭蛋", 150),
    (9, 20, "中秋节", "月饼、水果", 250),
]
SICK = ["阑尾炎手术", "骨折住院", "肺炎住院", "胆囊手术", "腰椎间盘突出住院", "心脏支架手术"]
HOSPITALS = ["市第一人民医院", "市中医院", "省人民医院", "区人民医院"]


def _last(today: dt.date, month: int, day: int) -> dt.date:
    """The latest date with this month and day before today (this year or last)."""
    this_year = dt.date(today.year, month, day)
    return this_year if this_year < today else dt.date(today.year - 1, month, day)


def _members(union: Union, status: str = MemberStatus.ACTIVE) -> list[Member]:
    return list(
        Member.objects.filter(subtree_q(union.path, "union__path"), status=status)
        .select_related("union", "user")
        .order_by("pk")
    )


def build(ctx: dict[str, Any]) -> None:
    rng = random.Random(2025)
    today = dt.date.today()
    root: Union = ctx["root"]
    schools: list[Union] = ctx["schools"]
    first = schools[0]
    users: dict[str, User] = ctx["users"]
    chair, officer = users["chair"], users["officer"]

    # The district sets the standard for its schools; 低保 as in the city's notice.
    services.policy_set(
        actor=None,
        union=root,
        preset=CapPreset.ANHUI,
        enforcement=CapEnforcement.WARN,
        dibao_line=Decimal(1240),
    )

    for school in schools:
        for month, day, name, goods, value in FESTIVALS:
            services.visit_batch(
                actor=None,
                union=school,
                date=_last(today, month, day),
                reason="festival",
                form="goods",
                amount=value,
                goods=goods,
                visitors="工会委员会",
                note=f"{name}慰问",
                include_retirees=name == "春节",
            )
        summer = _last(today, 7, 15)
        services.visit_batch(
            actor=None,
            union=school,
            date=summer,
            reason="summer",
            form="goods",
            amount=80,
            goods="绿豆、西瓜、防暑药品",
            visitors="工会委员会",
        )

    officer_members: dict[str, Member] = ctx["officer_members"]
    staff = _members(first)
    # The officers get a birthday cake like everyone, but are not the ones visited in
    # hospital or helped: the chair would approve her own subsidy.
    others = [m for m in staff if m not in officer_members.values()]
    retirees = _members(first, MemberStatus.RETAINED)
    # Birthdays of the first school this past year: a cake voucher each.
    for m in staff:
        if m.birth_date is None:
            continue
        birthday = _last(today, m.birth_date.month, min(m.birth_date.day, 28))
        services.visit_create(
            actor=None,
            member=m,
            date=birthday,
            reason="birthday",
            form="voucher",
            amount=200,
            goods="生日蛋糕券",
            visitors="工会小组长",
        )
    # Hospital stays: visited, and two not yet.
    sick = rng.sample(others, 9)
    for i, m in enumerate(sick):
        admitted = today - dt.timedelta(days=rng.randint(20, 300))
        if i < 7:
            surgery = "手术" in SICK[i % len(SICK)]
            services.stay_create(
                actor=None, member=m, admitted_on=admitted, hospital=rng.choice(HOSPITALS)
            )
            services.visit_create(
                actor=chair,
                member=m,
                date=admitted + dt.timedelta(days=2),
                reason="sick",
                variant="surgery" if surgery else "",
                form="cash",
                amount=1500 if surgery else 800,
                goods="鲜花、水果",
                visitors="王海燕、陈立华",
                note=SICK[i % len(SICK)],
            )
        else:
            services.stay_create(
                actor=None,
                member=m,
                admitted_on=today - dt.timedelta(days=i - 5),
                hospital=rng.choice(HOSPITALS),
            )
    # One member in hospital twice this year: the second visit passes the cap, and the
    # chair confirmed it.
    again = sick[0]
    with contextlib.suppress(ValidationError):
        services.visit_create(
            actor=chair,
            member=again,
            date=today - dt.timedelta(days=3),
            reason="sick",
            form="cash",
            amount=800,
            visitors="王海燕",
            note="再次住院",
            confirm_over_cap=True,
        )
    for reason, count, amount, goods in (
        ("childbirth", 3, 600, "婴儿用品"),
        ("wedding", 2, 800, ""),
        ("bereavement", 1, 1000, "花圈"),
    ):
        for m in rng.sample(others, count):
            services.visit_create(
                actor=officer if m.union.path.startswith(ctx["branches"][0].path) else chair,
                member=m,
                date=today - dt.timedelta(days=rng.randint(15, 330)),
                reason=reason,
                form="cash",
                amount=amount,
                goods=goods,
                visitors="工会委员会",
            )
    for m in retirees[:6]:
        services.visit_create(
            actor=chair,
            member=m,
            date=_last(today, 10, 11),
            reason="other",
            form="goods",
            amount=150,
            goods="重阳糕、慰问品",
            visitors="退管会",
            note="重阳节慰问退休教师",
        )

    # Hardship files and subsidies.
    households = [
        ("丈夫重病，长期化疗", [("本人", 54000), ("丈夫", 0), ("子女", 0)], 30000),
        ("单亲家庭，孩子上大学", [("本人", 36000), ("子女", 0)], 12000),
        (
            "父母瘫痪在床，独自赡养",
            [("本人", 42000), ("父亲", 6000), ("母亲", 6000), ("子女", 0)],
            20000,
        ),
    ]
    files = []
    for m, (cause, people, expenses) in zip(rng.sample(others, 3), households, strict=True):
        household = [
            services.Person(m.name if rel == "本人" else f"{m.name[0]}某", rel, Decimal(income))
            for rel, income in people
        ]
        files.append(
            services.hardship_file_open(
                actor=chair,
                member=m,
                opened_on=today - dt.timedelta(days=rng.randint(200, 340)),
                cause=cause,
                household=household,
                expenses=Decimal(expenses),
            )
        )
    # Four hands on every subsidy: the welfare officer files it, the organiser reviews,
    # the chair approves, the treasurer pays.
    # Members too: their records come from members.demo, named there.
    welfare = user_create(
        actor=None,
        username="fuli",
        full_name=officer_members["welfare"].name,
        password=DEMO_PASSWORD,
        union=first,
        role=Role.COMMITTEE,
        portfolio=Portfolio.WELFARE,
    )
    member_link_user(actor=None, member=officer_members["welfare"], user=welfare)
    treasurer = user_create(
        actor=None,
        username="caiwu",
        full_name=officer_members["treasurer"].name,
        password=DEMO_PASSWORD,
        union=first,
        role=Role.TREASURER,
    )
    member_link_user(actor=None, member=officer_members["treasurer"], user=treasurer)
    ctx["logins"].append(("财务（第一中学，发放补助）", "caiwu", DEMO_PASSWORD))
    organiser = users["organiser"]
    for file, amount in zip(files, (2000, 1500, 2000), strict=True):
        s = services.subsidy_apply(
            actor=welfare,
            member=file.member,
            kind="hardship",
            amount=amount,
            reason=f"困难职工帮扶：{file.cause}",
            applied_on=file.opened_on + dt.timedelta(days=5),
        )
        services.subsidy_review(actor=organiser, subsidy=s, note="经核实情况属实")
        services.subsidy_approve(actor=chair, subsidy=s, note="同意")
        services.subsidy_pay(
            actor=treasurer, subsidy=s, paid_on=file.opened_on + dt.timedelta(days=12)
        )
    pending = rng.sample([m for m in others if m.user_id is None], 3)
    s = services.subsidy_apply(
        actor=welfare,
        member=pending[0],
        kind="illness",
        amount=5000,
        reason="癌症术后化疗，自付费用高",
    )
    services.subsidy_review(actor=organiser, subsidy=s, note="附医院费用清单")
    waiting = services.subsidy_apply(
        actor=welfare,
        member=rng.choice([m for m in others if m.user_id is None and m not in pending]),
        kind="illness",
        amount=4000,
        reason="住院手术，自付医疗费用较高",
        applied_on=today - dt.timedelta(days=8),
    )
    services.subsidy_review(actor=organiser, subsidy=waiting, note="情况属实")
    services.subsidy_approve(actor=chair, subsidy=waiting, amount=3000, note="同意补助 3000 元")
    services.subsidy_apply(
        actor=welfare,
        member=pending[1],
        kind="education",
        amount=3000,
        reason="子女考入大学，家庭困难",
    )
    s = services.subsidy_apply(
        actor=welfare, member=pending[2], kind="other", amount=800, reason="家中漏水维修"
    )
    services.subsidy_reject(actor=organiser, subsidy=s, reason="不属于工会补助范围，已转交学校后勤")

    # 一日捐 and a collection for a colleague.
    drive = services.drive_create(
        actor=chair,
        union=first,
        name=f"{today.year}年慈善一日捐",
        purpose="市慈善总会帮困助学",
        beneficiary="市慈善总会",
        start_date=today - dt.timedelta(days=120),
        end_date=today - dt.timedelta(days=100),
    )
    for m in staff:
        if rng.random() < 0.8:
            services.donation_add(
                actor=chair,
                drive=drive,
                member=m,
                amount=rng.choice([100, 100, 150, 200, 300]),
                date=drive.start_date + dt.timedelta(days=rng.randint(0, 14)),
            )
    services.donation_add(
        actor=chair,
        drive=drive,
        donor_kind="unit",
        donor_name="第一中学家长委员会",
        amount=2000,
        date=drive.start_date + dt.timedelta(days=3),
    )
    ill = files[0].member
    drive2 = services.drive_create(
        actor=chair,
        union=first,
        name=f"为{ill.name}老师爱心捐款",
        purpose="医疗费用",
        beneficiary=ill.name,
        start_date=today - dt.timedelta(days=60),
    )
    for m in rng.sample(staff, min(60, len(staff))):
        if m.pk != ill.pk:
            services.donation_add(
                actor=chair,
                drive=drive2,
                member=m,
                amount=rng.choice([100, 200, 200, 500]),
                date=drive2.start_date + dt.timedelta(days=rng.randint(0, 10)),
            )

    # Medical cover for every school; a health check for the first.
    for school in schools:
        programme = services.programme_create(
            actor=None,
            union=school,
            year=today.year,
            kind="medical",
            name="职工综合医疗保障",
            provider="市职工医疗互助会",
            premium=Decimal(120),
        )
        services.programme_enrol(
            actor=None, programme=programme, enrolled_on=dt.date(today.year, 1, 1)
        )
        if school == first:
            for m in sick[:3]:
                claim = services.claim_create(
                    actor=chair,
                    programme=programme,
                    member=m,
                    date=today - dt.timedelta(days=rng.randint(5, 15)),
                    amount=rng.choice([1200, 2500, 3800]),
                )
                services.claim_decide(
                    actor=chair,
                    claim=claim,
                    status="paid",
                    paid_amount=claim.amount * Decimal("0.6"),
                )
    checkup = services.programme_create(
        actor=None,
        union=first,
        year=today.year,
        kind="checkup",
        name="教职工健康体检",
        provider="慈铭体检中心",
    )
    services.programme_enrol(
        actor=None, programme=checkup, enrolled_on=today - dt.timedelta(days=90)
    )
