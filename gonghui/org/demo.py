"""Demo data for the union tree: a district education union over three schools."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .choices import Portfolio, Role, UnionKind
from .models import Union
from .services import role_grant, union_create, user_create

DEMO_PASSWORD = "Gonghui#2026"
ROOT_CODE = "BJJY"

# (name, code, headcount, branches: [(branch name, [groups])] or groups directly)
SCHOOLS: list[dict[str, Any]] = [
    {
        "name": "滨江区第一中学工会",
        "code": "BJ1Z",
        "headcount": 236,
        "branches": [
            (
                "高中部分工会",
                ["高中语文组", "高中数学组", "高中英语组", "高中理化生组", "高中政史地组"],
            ),
            ("初中部分工会", ["初中语文组", "初中数学组", "初中英语组", "初中综合组"]),
            ("行政后勤分工会", ["行政组", "后勤组"]),
        ],
    },
    {
        "name": "滨江区第二中学工会",
        "code": "BJ2Z",
        "headcount": 214,
        "branches": [
            ("东校区分工会", ["东校区语文组", "东校区数学组", "东校区英语组", "东校区综合组"]),
            ("西校区分工会", ["西校区文科组", "西校区理科组", "西校区体艺组"]),
        ],
    },
    {
        "name": "滨江区实验小学工会",
        "code": "BJSX",
        "headcount": 168,
        "groups": ["小学语文组", "小学数学组", "小学英语组", "小学综合组", "行政后勤组"],
    },
]


def build(ctx: dict[str, Any]) -> None:
    """Create the tree and the demo logins; record them in ``ctx`` for later builders."""
    today = dt.date.today()
    term_start = dt.date(today.year - 1, 9, 1)
    term_end = dt.date(today.year + 2, 8, 31)
    root = union_create(
        actor=None,
        name="滨江区教育工会",
        kind=UnionKind.FEDERATION,
        parent=None,
        code=ROOT_CODE,
        headcount=sum(s["headcount"] for s in SCHOOLS),
    )
    groups: list[Union] = []
    schools: list[Union] = []
    branches: list[Union] = []
    for school in SCHOOLS:
        union = union_create(
            actor=None,
            name=school["name"],
            kind=UnionKind.UNION,
            parent=root,
            code=school["code"],
            headcount=school["headcount"],
            term_no=7,
            term_start=term_start,
            term_end=term_end,
        )
        schools.append(union)
        for branch_name, group_names in school.get("branches", []):
            branch = union_create(actor=None, name=branch_name, kind=UnionKind.BRANCH, parent=union)
            branches.append(branch)
            for g in group_names:
                groups.append(union_create(actor=None, name=g, kind=UnionKind.GROUP, parent=branch))
        for g in school.get("groups", []):
            groups.append(union_create(actor=None, name=g, kind=UnionKind.GROUP, parent=union))

    first, high_school = schools[0], branches[0]
    district = user_create(
        actor=None,
        username="quzong",
        full_name="周建国",
        password=DEMO_PASSWORD,
        union=root,
        role=Role.CHAIR,
    )
    chair = user_create(
        actor=None,
        username="zhuxi",
        full_name="王海燕",
        password=DEMO_PASSWORD,
        union=first,
        role=Role.CHAIR,
    )
    organiser = user_create(
        actor=None,
        username="zuzhi",
        full_name="陈立华",
        password=DEMO_PASSWORD,
        union=first,
        role=Role.COMMITTEE,
        portfolio=Portfolio.ORGANISATION,
    )
    officer = user_create(
        actor=None,
        username="fengonghui",
        full_name="李明",
        password=DEMO_PASSWORD,
        union=high_school,
        role=Role.CHAIR,
    )
    role_grant(actor=None, user=chair, union=first, role=Role.COMMITTEE, portfolio=Portfolio.WOMEN)
    ctx.update(
        root=root,
        schools=schools,
        branches=branches,
        groups=groups,
        users={"district": district, "chair": chair, "organiser": organiser, "officer": officer},
        logins=[
            ("工会主席（第一中学）", "zhuxi", DEMO_PASSWORD),
            ("分工会主席（第一中学高中部）", "fengonghui", DEMO_PASSWORD),
            ("组织委员（第一中学，可看完整身份证号）", "zuzhi", DEMO_PASSWORD),
            ("区教育工会主席（三所学校）", "quzong", DEMO_PASSWORD),
        ],
    )


def exists() -> bool:
    return Union.objects.filter(code=ROOT_CODE).exists()
