"""Fill a database with a city federation of 30 unions and 100,000 members, for bench_roster.

    .venv/bin/python bench/gen_roster.py --db sqlite      # /tmp/bench/roster.sqlite3
    .venv/bin/python bench/gen_roster.py --db postgres    # postgres://…/gonghui_bench

The database is dropped and made anew each time (``GONGHUI_DATABASE_URL`` overrides the
default for either). The tree and the logins go through the services, as an officer's
would; members and their histories are written with ``bulk_create`` in batches, since
this is a generator and not the product's import path. Each member's name pinyin,
initials and sort key come from ``members.services.name_readings``, their 身份证号 and
手机号 are encrypted, hashed and masked by ``common.crypto``, and their status is the
consequence of their history (one change or several), exactly as the services would
leave it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import benchenv

MEMBERS = 100_000
SEED = 20240601

# (name, sector, weight: its share of the members)
UNIONS: list[tuple[str, str, float]] = [
    ("江城市第一中学工会", "school", 0.5),
    ("江城市第二中学工会", "school", 0.45),
    ("江城市实验小学工会", "school", 0.35),
    ("江城市外国语学校工会", "school", 0.4),
    ("江城大学工会", "school", 1.6),
    ("江城职业技术学院工会", "school", 0.9),
    ("江城市人民医院工会", "hospital", 1.8),
    ("江城市中医院工会", "hospital", 1.0),
    ("江城市妇幼保健院工会", "hospital", 0.6),
    ("江城市疾病预防控制中心工会", "hospital", 0.3),
    ("江城农村商业银行工会", "bank", 1.1),
    ("江城银行工会", "bank", 0.9),
    ("江城供电公司工会", "company", 1.4),
    ("江城港务集团工会", "company", 1.7),
    ("江城钢铁有限公司工会", "company", 2.2),
    ("江城自来水公司工会", "company", 0.5),
    ("江城公交集团工会", "company", 1.5),
    ("江城燃气集团工会", "company", 0.6),
    ("江城化工集团工会", "company", 1.3),
    ("江城建工集团工会", "company", 1.2),
    ("江城邮政分公司工会", "company", 0.7),
    ("江城移动分公司工会", "company", 0.6),
    ("江城广播电视台工会", "company", 0.4),
    ("江城日报社工会", "company", 0.3),
    ("江城地铁运营公司工会", "company", 1.3),
    ("江城烟草公司工会", "company", 0.4),
    ("江城百货集团工会", "company", 0.8),
    ("江城纺织集团工会", "company", 1.6),
    ("江城汽车零部件有限公司工会", "company", 1.9),
    ("江城城投集团工会", "company", 0.5),
]

BRANCHES: dict[str, list[tuple[str, list[str]]]] = {
    "school": [
        ("高中部分工会", ["语文组", "数学组", "英语组", "理化生组", "政史地组"]),
        ("初中部分工会", ["语文组", "数学组", "英语组", "综合组"]),
        ("教学科研分工会", ["第一教研室", "第二教研室", "第三教研室", "实验中心"]),
        ("行政后勤分工会", ["行政组", "后勤组", "图书信息组"]),
    ],
    "hospital": [
        ("内科分工会", ["心内科组", "呼吸科组", "消化科组", "肾内科组", "神经内科组"]),
        ("外科分工会", ["普外科组", "骨科组", "泌尿外科组", "麻醉科组"]),
        ("护理分工会", ["门诊护理组", "病区护理组", "急诊护理组", "手术室组"]),
        ("医技分工会", ["检验科组", "影像科组", "药剂科组"]),
        ("行政后勤分工会", ["机关组", "后勤保障组", "信息科组"]),
    ],
    "bank": [
        ("营业部分工会", ["柜面组", "对公组", "运营组"]),
        ("城东支行分工会", ["柜面组", "信贷组", "综合组"]),
        ("城西支行分工会", ["柜面组", "信贷组", "综合组"]),
        ("城南支行分工会", ["柜面组", "信贷组"]),
        ("机关分工会", ["风险管理组", "财务组", "科技组", "办公室组"]),
    ],
    "company": [
        ("机关分工会", ["办公室组", "财务组", "人力资源组", "党群组"]),
        ("第一生产部分工会", ["甲班组", "乙班组", "丙班组", "丁班组", "维修组"]),
        ("第二生产部分工会", ["甲班组", "乙班组", "丙班组", "丁班组"]),
        ("第三生产部分工会", ["甲班组", "乙班组", "丙班组", "质检组"]),
        ("营销服务分工会", ["市场组", "客服组", "物流组"]),
        ("后勤服务分工会", ["食堂组", "保卫组", "车队组"]),
    ],
}

TITLES = {
    "school": ["教师", "教师", "教师", "班主任", "教研组长", "实验员", "教务员", "会计", "校医"],
    "hospital": ["医师", "主治医师", "副主任医师", "护士", "护师", "主管护师", "药师", "技师"],
    "bank": ["柜员", "客户经理", "信贷员", "综合柜员", "风险经理", "会计主管", "大堂经理"],
    "company": ["操作工", "技术员", "班组长", "工程师", "电工", "钳工", "质检员", "驾驶员"],
}

# The hundred most common surnames, most common first (weights fall off like a census).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
SURNAME_WEIGHTS = [1.0 / (i + 4) for i in range(len(SURNAMES))]
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫"]
MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国志庆文海峰晨亮成东博"
FEMALE = "芳娜敏静丽艳娟霞燕玲桂丹萍红婷雪琳晶妍茜月莉颖倩琴云洁梅凤慧璐瑶怡蕾佳欣悦蓉薇秀英兰"
# One district code per union (where most of its people were born), so that the unions'
# 身份证号 never collide and can be made in parallel.
REGIONS = ["420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112",
           "420113", "420114", "420115", "420116", "420117", "420202", "420203", "420204",
           "420205", "420222", "420302", "420303", "420304", "420502", "420503", "420504",
           "420505", "420506", "420602", "420606", "420607", "421002", "421003"]  # fmt: skip
OTHER_ORGS = ["江城市第五中学工会", "临江县总工会", "江北区人民医院工会", "江城建设银行工会",
              "江城热电公司工会", "邻省某集团工会"]  # fmt: skip
ETHNICITIES = ["汉族", "回族", "土家族", "苗族", "满族"]
PREFIXES = ["138", "139", "137", "135", "150", "151", "158", "186", "187", "189", "177", "199"]

# A member's history: the kinds in order, and how often. The status follows the last one.
HISTORIES: list[tuple[tuple[str, ...], float]] = [
    (("join",), 84.0),
    (("transfer_in",), 6.5),
    (("join", "retire"), 3.0),
    (("join", "retire", "restore"), 0.6),
    (("join", "transfer_out"), 2.0),
    (("join", "transfer_out", "transfer_in"), 0.6),
    (("join", "withdraw"), 1.5),
    (("join", "withdraw", "join"), 0.4),
    (("join", "death"), 0.5),
    (("join", "retire", "death"), 0.5),
    (("transfer_in", "transfer_out"), 0.4),
]


def log(msg: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f}s] {msg}", flush=True)


def build_tree(started: float, members: int) -> tuple[Any, list[dict[str, Any]]]:
    """The federation and its 30 unions, with branches and groups, through the services."""
    from gonghui.org.choices import UnionKind
    from gonghui.org.services import union_create, union_update

    rng = random.Random(SEED)
    today = dt.date.today()
    root = union_create(
        actor=None,
        name="江城市总工会",
        kind=UnionKind.FEDERATION,
        parent=None,
        code=benchenv.ROOT_CODE,
    )
    total_weight = sum(w for _, _, w in UNIONS)
    sizes = [round(members * w / total_weight) for _, _, w in UNIONS]
    sizes[0] += members - sum(sizes)
    unions: list[dict[str, Any]] = []
    for i, ((name, sector, _), size) in enumerate(zip(UNIONS, sizes, strict=True)):
        union = union_create(
            actor=None,
            name=name,
            kind=UnionKind.UNION,
            parent=root,
            code=f"JC{i + 1:02d}",
            headcount=round(size * rng.uniform(1.02, 1.25)),
            term_no=rng.randint(3, 12),
            term_start=dt.date(today.year - 2, 9, 1),
            term_end=dt.date(today.year + 3, 8, 31),
        )
        # Where members sit: mostly in groups, a few in a branch or at the union itself.
        slots: list[tuple[Any, float, str]] = [(union, 0.3, "工会办公室")]
        branches = BRANCHES[sector]
        if size < 2500:
            branches = branches[: max(2, len(branches) - 2)]
        for branch_name, group_names in branches:
            branch = union_create(actor=None, name=branch_name, kind=UnionKind.BRANCH, parent=union)
            slots.append((branch, 0.4, branch_name.removesuffix("分工会")))
            for group_name in group_names:
                group = union_create(
                    actor=None, name=group_name, kind=UnionKind.GROUP, parent=branch
                )
                slots.append((group, rng.uniform(1.0, 3.0), group_name))
        unions.append({"union": union, "sector": sector, "size": size, "slots": slots})
    # The federation's 职工人数 is its unions' (for members.rate over the whole city).
    union_update(actor=None, union=root, headcount=sum(u["union"].headcount for u in unions))
    log(f"组织树：1 个总工会、{len(unions)} 个基层工会、"
        f"{sum(len(u['slots']) - 1 for u in unions)} 个分工会和小组", started)  # fmt: skip
    return root, unions


def make_users(root: Any, unions: list[dict[str, Any]]) -> Any:
    from gonghui.org.choices import Role
    from gonghui.org.models import User
    from gonghui.org.services import user_create

    user_create(
        actor=None,
        username=benchenv.CHAIR,
        full_name="江城市总工会主席",
        password=benchenv.PASSWORD,
        union=root,
        role=Role.CHAIR,
    )
    # The officer: 分工会主席 of the first union's first branch (a few hundred members).
    branch = unions[0]["slots"][1][0]
    user_create(
        actor=None,
        username=benchenv.OFFICER,
        full_name="高中部分工会主席",
        password=benchenv.PASSWORD,
        union=branch,
        role=Role.CHAIR,
    )
    User.objects.create_superuser(benchenv.ADMIN, "", benchenv.PASSWORD)
    return branch


class People:
    """Names and numbers for one union's made-up members, each unique where it must be."""

    def __init__(self, rng: random.Random, number: int) -> None:
        from gonghui.members.services import name_readings

        self.rng = rng
        self.number = number
        self.region = REGIONS[(number - 1) % len(REGIONS)]
        self.name_readings = name_readings
        self.pinyin_cache: dict[str, tuple[str, str, str]] = {}
        self.ids: set[str] = set()
        self.phones: set[str] = set()

    def name(self, gender: str) -> str:
        rng = self.rng
        if rng.random() < 0.006:
            surname = rng.choice(COMPOUND)
        else:
            surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        chars = MALE if gender == "M" else FEMALE
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.72 else "")
        return surname + given

    def pinyin(self, name: str) -> tuple[str, str, str]:
        if name not in self.pinyin_cache:
            self.pinyin_cache[name] = self.name_readings(name)
        return self.pinyin_cache[name]

    def id_number(self, birth: dt.date, gender: str) -> str:
        from gonghui.common.validators import with_check_digit

        while True:
            seq = self.rng.randint(0, 499) * 2 + (1 if gender == "M" else 0)
            number = with_check_digit(f"{self.region}{birth:%Y%m%d}{seq:03d}")
            if number not in self.ids:
                self.ids.add(number)
                return number

    def phone(self) -> str:
        # The union's number in digits 4–5 keeps the unions' numbers apart.
        while True:
            phone = (
                self.rng.choice(PREFIXES)
                + f"{self.number:02d}"
                + f"{self.rng.randint(0, 999_999):06d}"
            )
            if phone not in self.phones:
                self.phones.add(phone)
                return phone


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


@contextmanager
def secondary_indexes_dropped(tables: list[str], started: float) -> Iterator[None]:
    """Drop the tables' secondary indexes for the load and build them again after it.

    One sort per index instead of 100,000 inserts into a dozen B-trees, most of them in
    random order (the hashes). Primary keys and constraints stay; unique indexes are
    checked again when they are rebuilt.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join("%s" for _ in tables)
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
                tables,
            )
        else:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [tables],
            )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, sql in found:
                cursor.execute(sql)
        log(f"重建索引 {len(found)} 个", started)


#: What the writer needs of one union: its number, code, sector, size and its slots
#: (the node's pk, its share of the members, the department written on them).
Job = tuple[int, str, str, int, list[tuple[int, float, str]]]
Event = tuple[str, dt.date, str, str]


def union_rows(job: Job) -> tuple[list[tuple[dict[str, Any], list[Event]]], Counter[str]]:
    """One union's members (the fields of each) and their histories; no database."""
    from gonghui.common import crypto
    from gonghui.members.choices import STATUS_AFTER

    number, code, sector, size, slots = job
    rng = random.Random(SEED + number)
    people = People(rng, number)
    today = dt.date.today()
    histories = [h for h, _ in HISTORIES]
    history_weights = [w for _, w in HISTORIES]
    employment = ["staff", "contract", "dispatched", "temporary", "rehired"]
    employment_weights = [58, 27, 8, 5, 2]
    slot_ids = [pk for pk, _, _ in slots]
    slot_weights = [w for _, w, _ in slots]
    departments = {pk: dept for pk, _, dept in slots}
    titles = TITLES[sector]
    kinds: Counter[str] = Counter()
    rows: list[tuple[dict[str, Any], list[Event]]] = []
    for seq in range(1, size + 1):
        history = rng.choices(histories, history_weights)[0]
        gender = "F" if rng.random() < (0.7 if sector == "hospital" else 0.5) else "M"
        # Those who retired were born earlier.
        low, high = (1956, 1967) if "retire" in history else (1962, 2002)
        birth = between(rng, dt.date(low, 1, 1), dt.date(high, 12, 31))
        id_number = people.id_number(birth, gender)
        phone = people.phone() if rng.random() < 0.97 else ""
        name = people.name(gender)
        pinyin, initials, sort_key = people.pinyin(name)
        work_start = min(add_years(birth, rng.randint(19, 25)), today - dt.timedelta(days=60))
        first = min(
            work_start + dt.timedelta(days=rng.randint(30, 900)), today - dt.timedelta(days=30)
        )
        dates = [first]
        for _ in history[1:]:
            dates.append(between(rng, dates[-1] + dt.timedelta(days=30), today))
        events = [
            (
                kind,
                date,
                rng.choice(OTHER_ORGS) if kind in ("transfer_in", "transfer_out") else "",
                "",
            )
            for kind, date in zip(history, dates, strict=True)
        ]
        kinds.update(history)
        slot = rng.choices(slot_ids, slot_weights)[0]
        fields = {
            "union_id": slot,
            "name": name,
            "name_pinyin": pinyin,
            "name_initials": initials,
            "name_sort": sort_key,
            "gender": gender,
            "id_number_enc": crypto.encrypt(id_number),
            "id_number_hash": crypto.lookup_hash(id_number, purpose="id"),
            "id_number_masked": crypto.mask_id_number(id_number),
            "birth_date": birth,
            "phone_enc": crypto.encrypt(phone),
            "phone_hash": crypto.lookup_hash(phone, purpose="phone"),
            "phone_masked": crypto.mask_phone(phone) if phone else "",
            "employee_no": f"{number:02d}{seq:05d}",
            "department": departments[slot],
            "job_title": rng.choice(titles),
            "employment_type": rng.choices(employment, employment_weights)[0],
            "ethnicity": rng.choices(ETHNICITIES, [94, 2, 2, 1, 1])[0],
            "political_status": rng.choices(
                ["中共党员", "群众", "共青团员", "中共预备党员", "民盟盟员", "九三学社社员"],
                [32, 52, 10, 2, 2, 2],
            )[0],
            "education": rng.choices(
                ["博士研究生", "硕士研究生", "大学本科", "大学专科", "高中", "中专/中技"],
                [3, 15, 50, 20, 7, 5],
            )[0],
            "work_start_date": work_start,
            "join_date": first,
            "card_no": f"{code}-{seq:05d}",
            "status": STATUS_AFTER[history[-1]],
            "monthly_wage": Decimal(rng.randrange(3800, 18000, 10)),
        }
        rows.append((fields, events))
    return rows, kinds


def build_members(unions: list[dict[str, Any]], started: float, batch: int, jobs: int) -> None:
    """Write the members union by union; with ``jobs`` > 1 another process makes the next
    unions' rows (names, pinyin, encryption) while this one writes."""
    from django.db import connection, transaction

    from gonghui.members.models import Member, MembershipChange
    from gonghui.org.models import Union

    total = sum(u["size"] for u in unions)
    work: list[Job] = [
        (
            number,
            u["union"].code,
            u["sector"],
            u["size"],
            [(node.pk, weight, dept) for node, weight, dept in u["slots"]],
        )
        for number, u in enumerate(unions, start=1)
    ]
    made = 0
    kinds: Counter[str] = Counter()
    writing = 0.0
    connection.close()  # a forked worker must not share the connection
    with ExitStack() as stack:
        if jobs > 1:
            pool = stack.enter_context(multiprocessing.get_context("fork").Pool(jobs - 1))
            results: Iterator[Any] = pool.imap(union_rows, work)
        else:
            results = map(union_rows, work)
        for (number, code, _, size, _), (rows, union_kinds) in zip(work, results, strict=True):
            kinds.update(union_kinds)
            t0 = time.perf_counter()
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                with transaction.atomic():
                    created = Member.objects.bulk_create(
                        [Member(**fields) for fields, _ in chunk], batch_size=batch
                    )
                    changes = [
                        MembershipChange(
                            member_id=m.pk,
                            union_id=m.union_id,
                            kind=kind,
                            date=date,
                            other_org=other,
                            note=note,
                        )
                        for m, (_, events) in zip(created, chunk, strict=True)
                        for kind, date, other, note in events
                    ]
                    MembershipChange.objects.bulk_create(changes, batch_size=batch)
            # The next card number the service hands out follows the generated ones.
            Union.objects.filter(code=code).update(card_seq=size)
            writing += time.perf_counter() - t0
            made += size
            if number % 5 == 0 or number == len(work):
                log(f"会员 {made:,} / {total:,}（其中写库 {writing:.1f}s）", started)
    log("会籍变动：" + "，".join(f"{k} {n:,}" for k, n in kinds.most_common()), started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--members", type=int, default=MEMBERS, help="会员人数")
    parser.add_argument(
        "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="进程数（1：不并行）"
    )
    parser.add_argument("--batch", type=int, default=2000, help="bulk_create 每批行数")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="SQLite 上也运行 ANALYZE（默认不运行：真实的 SQLite 库通常没有统计信息）",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    url = benchenv.database_url(args.db)
    if url.startswith("sqlite"):
        import dj_database_url

        path = Path(str(dj_database_url.parse(url)["NAME"]))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        benchenv.recreate_postgres(url)
    benchenv.configure(args.db)

    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 32):
        # SQLite takes 32,766 parameters per statement since 3.32; Django 5.2 assumes 999,
        # which cuts every batch into statements of 37 members.
        connection.features.max_query_params = 32766
    log(f"已建库并迁移：{url}", started)
    root, unions = build_tree(started, args.members)
    branch = make_users(root, unions)
    with secondary_indexes_dropped(["members_member", "members_membershipchange"], started):
        build_members(unions, started, args.batch, args.jobs)
    if connection.vendor == "postgresql":
        # What autovacuum would do shortly after a load of this size.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    elif args.analyze:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    from gonghui.members.models import Member, MembershipChange

    log(
        f"完成：会员 {Member.objects.count():,}，会籍变动 {MembershipChange.objects.count():,}；"
        f"登录 {benchenv.CHAIR} / {benchenv.OFFICER}（{branch.name}，"
        f"{Member.objects.filter(union__path__startswith=branch.path).count():,} 人）"
        f" / {benchenv.ADMIN}，密码 {benchenv.PASSWORD}",
        started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
