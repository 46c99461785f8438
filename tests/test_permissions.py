"""The permission matrix: every view × every persona.

Each URL name of the project (except Django's admin, login and logout) must have an
entry in :data:`MATRIX`, so a new view without one fails :func:`test_every_view_is_in_the_matrix`.
The object a view is asked about always lies in branch A1 (``world.branch``): its
officer and the school's chair may use it, the officer of branch A2 and the chair of
another school may not, and a member has no role at all.

Expectations:

- anonymous: always a redirect to the login page, nothing written;
- ``NF`` (404): out of scope, answered exactly like a non-existent id;
- ``FB`` (403): no role for the area at all;
- ``REFUSED``: a form that only offers the persona's own unions re-renders (200) with
  an error instead of writing;
- ``OK`` / ``GO``: allowed (200 / redirect). For a POST, allowed means the write
  happened *and* an audit row names the persona as actor.

For every POST, a denied persona's request leaves the database exactly as it was
(every row of every gonghui table, field by field, so also no new ``AuditEntry``).
Each persona's request runs in a savepoint rolled back afterwards, so one world serves
all personas of a case.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gonghui.activities import services as activity_services
from gonghui.activities.models import Activity, Question, Registration
from gonghui.care.forms import batch_digest
from gonghui.care.models import Visit
from gonghui.common.models import AuditEntry, ImportRecord, ImportStatus
from gonghui.honours import services as honour_services
from gonghui.org.choices import Role, UnionKind
from gonghui.org.models import PendingGrant, RoleAssignment, Union, User

from . import factories as f
from .activities import records as acts
from .care import records as care
from .conftest import World, login
from .factories import PASSWORD, id_number

PERSONAS = ("anonymous", "member", "other_officer", "outsider", "officer", "chair")
#: URL names the matrix does not cover: Django's own login pages.
EXEMPT = {"login", "logout"}


@dataclass(frozen=True)
class Allowed:
    status: int


@dataclass(frozen=True)
class Denied:
    status: int


OK, GO = Allowed(200), Allowed(302)
NF, FB, REFUSED, NOT_POST = Denied(404), Denied(403), Denied(200), Denied(405)

Args = Callable[[World], list[Any]]
Data = Callable[[World], dict[str, Any]]


def no_args(w: World) -> list[Any]:
    return []


def no_data(w: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Case:
    """One request and what each persona gets.

    ``expect`` lists member, other_officer, officer and chair; ``outsider`` (chair of
    another school) gets what ``other_officer`` gets unless given.
    """

    method: str
    expect: dict[str, Allowed | Denied]
    args: Args = no_args
    query: Data = no_data
    data: Data = no_data
    label: str = ""
    #: What an allowed POST must have written, when it is not an audit row by the persona.
    wrote: Callable[[User], bool] | None = None

    def outcome(self, persona: str) -> Allowed | Denied:
        if persona == "anonymous":
            return Denied(302)
        if persona == "outsider" and "outsider" not in self.expect:
            return self.expect["other_officer"]
        return self.expect[persona]


def who(member: Any, other_officer: Any, officer: Any, chair: Any) -> dict[str, Any]:
    return {"member": member, "other_officer": other_officer, "officer": officer, "chair": chair}


def GET(expect: dict[str, Any], **kw: Any) -> Case:
    return Case("GET", expect, **kw)


def POST(expect: dict[str, Any], **kw: Any) -> Case:
    return Case("POST", expect, **kw)


def today() -> str:
    return dt.date.today().isoformat()


def member_form(w: World, **over: Any) -> dict[str, Any]:
    data = {
        "name": "张三",
        "union": w.group.pk,
        "employment_type": "staff",
        "employee_no": "T001",
        "department": "语文组",
    }
    data.update(over)
    return data


def honour(w: World) -> Any:
    """张三's honour, in branch A1."""
    return honour_services.honour_create(
        actor=None,
        kind="individual",
        member=w.member,
        title="先进个人",
        level="unit",
        date=dt.date.today(),
    )


def empty_group(w: World) -> Union:
    """A group of branch A1 without members: one with members cannot be archived."""
    return f.union("高中数学组", UnionKind.GROUP, w.branch)


def retired_member(w: World) -> list[Any]:
    """张三 with a second change (退休) that can be taken back."""
    from gonghui.members import services as member_services

    member_services.member_change(actor=None, member=w.member, kind="retire", date=dt.date.today())
    return [w.member.pk]


def member_role(w: World) -> list[Any]:
    return [RoleAssignment.objects.get(user=w.member_user).pk]


def pending_grant(w: World) -> PendingGrant:
    """A 财务 role for the member at the branch, asked for by an officer since gone."""
    return PendingGrant.objects.create(
        user=w.member_user, union=w.branch, role=Role.TREASURER, requested_by=None
    )


STRONG = "Qiang-mima-2024"
ROSTER_HEADERS = ["姓名", "身份证号", "所属工会", "工号"]


def roster_file(*rows: list[Any]) -> io.BytesIO:
    """A small 会员名册 .xlsx, as an officer would upload it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in (ROSTER_HEADERS, *rows):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "名册.xlsx"
    return buf


def good_file() -> io.BytesIO:
    return roster_file(["导入甲", id_number(), "YZGZYW", "T900"])


def officers_upload(w: World, upload: io.BytesIO) -> ImportRecord:
    """An import the branch officer uploaded into branch A1 (checked, not yet written)."""
    response = login(w.officer).post(
        reverse("imports:upload", args=["members"]), {"file": upload, "union": w.branch.pk}
    )
    assert response.status_code == 302, "the officer's own upload must be accepted"
    return ImportRecord.objects.filter(actor=w.officer).latest("pk")


def checked_import(w: World) -> list[Any]:
    return [officers_upload(w, good_file()).pk]


def import_with_errors(w: World) -> list[Any]:
    return [officers_upload(w, roster_file(["错号", "110105198506150000", "YZGZYW", ""])).pk]


def import_cancelled(user: User) -> bool:
    return ImportRecord.objects.filter(actor=user, status=ImportStatus.FAILED).exists()


def import_started(user: User) -> bool:
    return ImportRecord.objects.filter(actor=user).exists()


MATRIX: dict[str, list[Case]] = {
    "dashboard": [GET(who(GO, OK, OK, OK))],
    # 组织
    "org:list": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, NF, OK, OK), query=lambda w: {"root": w.branch.pk}, label="root=branch"),
    ],
    "org:create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {"parent": w.branch.pk, "name": "高中数学组", "kind": "group"},
        ),
    ],
    "org:detail": [GET(who(NF, NF, OK, OK), args=lambda w: [w.branch.pk])],
    "org:edit": [
        GET(who(NF, NF, OK, OK), args=lambda w: [w.branch.pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [w.branch.pk],
            data=lambda w: {"name": "高中部分工会（新）", "code": "YZGZ", "headcount": 60},
        ),
    ],
    "org:move": [
        GET(who(NF, NF, OK, OK), args=lambda w: [w.group.pk]),
        # Only the chair reaches the school the group is moved under.
        POST(
            who(NF, NF, REFUSED, GO),
            args=lambda w: [w.group.pk],
            data=lambda w: {"new_parent": w.school.pk},
        ),
    ],
    "org:archive": [POST(who(NF, NF, GO, GO), args=lambda w: [empty_group(w).pk])],
    # 用户与角色
    "org:users": [GET(who(FB, OK, OK, OK))],
    "org:user_create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "username": "xinyonghu",
                "full_name": "新用户",
                "password": STRONG,
                "union": w.group.pk,
                "role": "group_leader",
            },
        ),
    ],
    "org:user_detail": [
        GET(who(NF, NF, OK, OK), args=lambda w: [w.member_user.pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [w.member_user.pk],
            data=lambda w: {"union": w.group.pk, "role": "group_leader"},
            label="grant role",
        ),
    ],
    "org:user_password": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [w.member_user.pk],
            data=lambda w: {"password": STRONG, "password2": STRONG},
        )
    ],
    "org:user_toggle": [POST(who(NF, NF, GO, GO), args=lambda w: [w.member_user.pk])],
    "org:role_revoke": [POST(who(NF, NF, GO, GO), args=member_role)],
    "org:grant_decide": [
        POST(who(NF, NF, GO, GO), args=lambda w: [pending_grant(w).pk, "confirm"]),
    ],
    "org:my_password": [
        GET(who(OK, OK, OK, OK)),
        POST(
            who(GO, GO, GO, GO),
            data=lambda w: {"old_password": PASSWORD, "password": STRONG, "password2": STRONG},
        ),
    ],
    # 会员
    "members:list": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, OK, OK, OK), query=lambda w: {"q": "zs", "union": w.branch.pk}, label="q"),
    ],
    "members:create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: member_form(
                w, name="赵六", employee_no="T009", id_number=id_number(), join_kind="join"
            ),
        ),
    ],
    "members:detail": [GET(who(NF, NF, OK, OK), args=lambda w: [w.member.pk])],
    "members:edit": [
        GET(who(NF, NF, OK, OK), args=lambda w: [w.member.pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [w.member.pk],
            data=lambda w: member_form(w, department="高三语文组"),
        ),
    ],
    "members:change": [
        GET(who(NOT_POST, NOT_POST, NOT_POST, NOT_POST), args=lambda w: [w.member.pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [w.member.pk],
            data=lambda w: {"kind": "retire", "date": today(), "confirm": "1"},
        ),
    ],
    "members:change_undo": [
        GET(who(NOT_POST, NOT_POST, NOT_POST, NOT_POST), args=lambda w: [w.member.pk]),
        POST(who(NF, NF, GO, GO), args=retired_member),
    ],
    "members:login": [
        GET(who(NF, NF, OK, OK), args=lambda w: [f.member(w.group, "赵开通").pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [f.member(w.group, "钱开通").pk],
            data=lambda w: {"username": "qiankaitong", "password": STRONG},
        ),
    ],
    "members:reveal": [
        GET(who(NOT_POST, NOT_POST, NOT_POST, NOT_POST), args=lambda w: [w.member.pk, "id_number"]),
        POST(who(NF, NF, OK, OK), args=lambda w: [w.member.pk, "id_number"]),
        POST(who(NF, NF, OK, OK), args=lambda w: [w.member.pk, "phone"], label="phone"),
    ],
    "members:me": [GET(who(OK, OK, OK, OK))],
    # 报告与日志
    "reports:figures": [
        GET(who(FB, OK, OK, OK)),
        GET(
            who(FB, NF, OK, OK),
            query=lambda w: {"union": w.branch.pk, "start": "2024-01-01", "end": "2024-12-31"},
            label="union=branch",
        ),
    ],
    # 导入导出 (common.imports). Records are reviewed in the import scope; only the
    # uploader confirms, cancels or downloads their marked file.
    "imports:list": [GET(who(FB, OK, OK, OK))],
    "imports:upload": [
        GET(who(FB, OK, OK, OK), args=lambda w: ["members"]),
        POST(
            who(FB, REFUSED, GO, GO),
            args=lambda w: ["members"],
            data=lambda w: {"file": good_file(), "union": w.branch.pk},
            wrote=import_started,
        ),
    ],
    "imports:template": [GET(who(FB, OK, OK, OK), args=lambda w: ["members"])],
    "imports:export": [GET(who(FB, OK, OK, OK), args=lambda w: ["members"])],
    "imports:detail": [GET(who(NF, NF, OK, OK), args=checked_import)],
    "imports:status": [GET(who(NF, NF, OK, OK), args=checked_import)],
    "imports:marked": [GET(who(NF, NF, OK, FB), args=import_with_errors)],
    "imports:confirm": [POST(who(NF, NF, GO, FB), args=checked_import)],
    "imports:cancel": [POST(who(NF, NF, GO, FB), args=checked_import, wrote=import_cancelled)],
    "common:audit": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, NF, OK, OK), query=lambda w: {"union": w.branch.pk}, label="union=branch"),
    ],
    "members:suggest": [GET(who(FB, OK, OK, OK), query=lambda w: {"member": "zs"})],
    # 关爱服务: records in branch A1. A member's own pages are self-service.
    "care:home": [GET(who(FB, OK, OK, OK))],
    "care:visits": [
        GET(who(FB, OK, OK, OK)),
        # The filter only offers the viewer's own unions: another's is a form error.
        GET(who(FB, OK, OK, OK), query=lambda w: {"union": w.branch.pk}, label="union=branch"),
    ],
    "care:visit_create": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, NF, OK, OK), query=lambda w: {"member": w.member.pk}, label="member"),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "member": care.label(w),
                "recipient": "member",
                "date": today(),
                "reason": "sick",
                "form": "cash",
                "amount": "300",
            },
        ),
    ],
    "care:visit_batch": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "union": w.branch.pk,
                "date": today(),
                "reason": "festival",
                "form": "goods",
                "amount": "100",
                "goods": "月饼",
                "previewed": batch_digest(
                    w.branch.pk, dt.date.today(), "festival", "goods", 100, False
                ),
            },
        ),
    ],
    "care:visit_batch_reverse": [
        POST(
            who(NF, NF, GO, GO),
            # (args run once, before the personas: the batch to undo is made there)
            args=lambda w: (care.batch(w), [])[1],
            data=lambda w: {
                "batch": Visit.objects.exclude(batch="").first().batch,
                "reason": "金额错了",
            },
        )
    ],
    "care:visit": [GET(who(NF, NF, OK, OK), args=lambda w: [care.visit(w).pk])],
    "care:visit_reverse": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.visit(w).pk],
            data=lambda w: {"reason": "登记错误"},
        )
    ],
    "care:visit_photo_add": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.visit(w).pk],
            data=lambda w: {"photo": SimpleUploadedFile("慰问.png", care.PNG, "image/png")},
        )
    ],
    "care:visit_photo": [GET(who(NF, NF, OK, OK), args=lambda w: [care.photo(w).pk])],
    # The member is the applicant of care.subsidy: their own papers are theirs to add and see.
    "care:subsidy_attachment_add": [
        POST(
            who(GO, NF, GO, GO),
            args=lambda w: [care.subsidy(w).pk],
            data=lambda w: {
                "attachment": SimpleUploadedFile("发票.pdf", care.PDF, "application/pdf")
            },
        )
    ],
    "care:subsidy_attachment": [GET(who(OK, NF, OK, OK), args=lambda w: [care.attachment(w).pk])],
    "care:stay_create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "member": care.label(w),
                "admitted_on": today(),
                "hospital": "市一医院",
            },
        ),
    ],
    "care:stay_discharge": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.stay(w).pk],
            data=lambda w: {"discharged_on": today()},
        )
    ],
    "care:hardship": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, NF, OK, OK), query=lambda w: {"union": w.branch.pk}, label="union=branch"),
    ],
    "care:hardship_create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            # (args run once, before the personas: the school's 低保 line is set there)
            args=lambda w: (care.with_dibao(w), [])[1],
            data=lambda w: {
                "member": care.label(w),
                "opened_on": today(),
                "cause": "妻子重病",
                "expenses": "6000",
                **care.household_data(),
            },
        ),
    ],
    "care:hardship_file": [GET(who(NF, NF, OK, OK), args=lambda w: [care.hardship_file(w).pk])],
    "care:hardship_review": [
        GET(who(NF, NF, OK, OK), args=lambda w: [care.hardship_file(w).pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.hardship_file(w).pk],
            data=lambda w: {"date": today(), "expenses": "8000", **care.household_data(initial=2)},
        ),
    ],
    "care:hardship_close": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.hardship_file(w).pk],
            data=lambda w: {"date": today(), "reason": "子女就业，家庭收入提高"},
        )
    ],
    "care:subsidies": [GET(who(FB, OK, OK, OK))],
    "care:subsidy_create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "member": care.label(w),
                "kind": "illness",
                "amount": "1500",
                "reason": "住院手术",
                "source": "own",
                "applied_on": today(),
            },
        ),
    ],
    "care:subsidy": [GET(who(NF, NF, OK, OK), args=lambda w: [care.subsidy(w).pk])],
    # Only the applicant takes an application back; for anyone else it does not exist.
    "care:subsidy_withdraw": [POST(who(GO, NF, NF, NF), args=lambda w: [care.subsidy(w).pk])],
    "care:subsidy_action": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.subsidy(w).pk, "review"],
            data=lambda w: {"note": "情况属实"},
            label="review",
        ),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.subsidy(w, "reviewed").pk, "approve"],
            data=lambda w: {"amount": "1200", "note": "同意"},
            label="approve",
        ),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.subsidy(w, "approved").pk, "pay"],
            data=lambda w: {"paid_on": today()},
            label="pay",
        ),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.subsidy(w).pk, "reject"],
            data=lambda w: {"reason": "不符合条件"},
            label="reject",
        ),
    ],
    "care:drives": [GET(who(FB, OK, OK, OK))],
    "care:drive_create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {"union": w.branch.pk, "name": "一日捐", "start_date": today()},
        ),
    ],
    "care:drive": [GET(who(NF, NF, OK, OK), args=lambda w: [care.drive(w).pk])],
    "care:donation_add": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.drive(w).pk],
            data=lambda w: {
                "donor_kind": "member",
                "member": care.label(w),
                "amount": "100",
                "date": today(),
            },
        )
    ],
    "care:donations": [GET(who(FB, OK, OK, OK))],
    "care:donation_reverse": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.donation(w).pk],
            data=lambda w: {"reason": "重复登记"},
        )
    ],
    "care:coverage": [GET(who(FB, OK, OK, OK))],
    "care:programme_create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "union": w.branch.pk,
                "year": dt.date.today().year,
                "kind": "medical",
                "name": "职工综合医疗保障",
            },
        ),
    ],
    "care:programme": [GET(who(NF, NF, OK, OK), args=lambda w: [care.programme(w).pk])],
    "care:programme_enrol": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.programme(w).pk],
            data=lambda w: {"enrolled_on": today()},
        )
    ],
    "care:enrolment_remove": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [
                care.programme(w).enrolments.create(member=w.member, enrolled_on=today()).pk
            ],
        )
    ],
    "care:claim_create": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.claim(w).programme_id],
            data=lambda w: {"member": care.label(w), "date": today(), "amount": "500"},
        )
    ],
    "care:claim_decide": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [care.claim(w).pk],
            data=lambda w: {"status": "paid", "decided_on": today()},
        )
    ],
    "care:policy": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, NF, OK, OK), query=lambda w: {"union": w.branch.pk}, label="union=branch"),
        POST(
            who(FB, NF, GO, GO),
            data=lambda w: {
                "union": w.branch.pk,
                "preset": "fujian",
                "enforcement": "block",
                "festival_goods_only": "on",
                "accident_ratio": "0.80",
                "min_handlers": "3",
            },
        ),
    ],
    # 文体活动: an activity of branch A1, held today. The member signs up, checks in,
    # answers and joins clubs for themself; officers have no roster entry of their own.
    "activities:list": [GET(who(GO, OK, OK, OK))],  # the member: to 我的活动
    "activities:create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "union": w.branch.pk,
                "title": "拔河比赛",
                "category": "sports",
                "start_date": today(),
            },
        ),
    ],
    "activities:detail": [
        # The member may join their branch's activity: they get its member's page.
        GET(who(OK, NF, OK, OK), args=lambda w: [acts.activity(w).pk]),
        GET(
            {**who(NF, OK, NF, OK), "outsider": NF},
            args=lambda w: [acts.activity(w, union=w.other_branch).pk],
        ),
    ],
    "activities:edit": [
        GET(who(NF, NF, OK, OK), args=lambda w: [acts.activity(w).pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [acts.activity(w).pk],
            data=lambda w: {
                "union": w.branch.pk,
                "title": "气排球赛（改）",
                "category": "sports",
                "start_date": today(),
            },
        ),
    ],
    "activities:cancel": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [acts.activity(w).pk],
            data=lambda w: {"reason": "下雨"},
        )
    ],
    "activities:enter": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [acts.activity(w).pk],
            data=lambda w: {"member": care.label(w)},
        )
    ],
    "activities:mark": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [acts.signed_up(w).activity_id],
            data=lambda w: {
                "registration": Registration.objects.get(member=w.member).pk,
                "status": "attended",
            },
        )
    ],
    "activities:participation_card": [
        GET(who(NF, NF, OK, OK), args=lambda w: [acts.activity(w).pk])
    ],
    "activities:award_add": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [acts.activity(w).pk],
            data=lambda w: {
                "member": care.label(w),
                "rank": "2",
                "prize": "二等奖",
                "prize_value": "100",
            },
        )
    ],
    "activities:award_remove": [POST(who(NF, NF, GO, GO), args=lambda w: [acts.award(w).pk])],
    "activities:registration_cancel": [
        POST(who(GO, NF, GO, GO), args=lambda w: [acts.signed_up(w).pk])
    ],
    "activities:checkin_screen": [GET(who(NF, NF, OK, OK), args=lambda w: [acts.activity(w).pk])],
    "activities:checkin_code": [GET(who(NF, NF, OK, OK), args=lambda w: [acts.activity(w).pk])],
    "activities:checkin": [
        GET(who(OK, NF, OK, OK), args=lambda w: [acts.activity(w, "扫码活动").pk]),
        POST(
            who(OK, NF, REFUSED, REFUSED),
            args=lambda w: [acts.activity(w, "扫码活动").pk],
            data=lambda w: {
                "code": activity_services.checkin_token(Activity.objects.get(title="扫码活动"))
            },
        ),
    ],
    "activities:quiz_edit": [
        GET(who(NF, NF, OK, OK), args=lambda w: [acts.quiz_activity(w).pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [acts.activity(w, "竞赛", category="quiz").pk],
            data=lambda w: {"pass_mark": "60", "bank": "工会会员会费为工资的？\n*0.5%\n5%"},
        ),
    ],
    "activities:quiz": [
        GET(who(OK, NF, NF, NF), args=lambda w: [acts.quiz_activity(w).pk]),
        POST(
            who(OK, NF, NF, NF),
            args=lambda w: [acts.quiz_activity(w).pk],
            data=lambda w: {f"q{Question.objects.get().pk}": "0"},
        ),
    ],
    "activities:attendance": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, NF, OK, OK), query=lambda w: {"union": w.branch.pk}, label="union=branch"),
    ],
    "activities:participation": [
        GET(who(FB, OK, OK, OK)),
        GET(who(FB, NF, OK, OK), query=lambda w: {"union": w.branch.pk}, label="union=branch"),
    ],
    "activities:awards": [GET(who(FB, OK, OK, OK))],
    "activities:clubs": [GET(who(FB, OK, OK, OK))],
    "activities:club_create": [
        GET(who(FB, OK, OK, OK)),
        POST(who(FB, REFUSED, GO, GO), data=lambda w: {"union": w.branch.pk, "name": "乒乓球队"}),
    ],
    "activities:club": [GET(who(NF, NF, OK, OK), args=lambda w: [acts.club(w).pk])],
    "activities:club_join": [
        POST(who(GO, NF, NF, NF), args=lambda w: [acts.club(w).pk], label="self"),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [acts.club(w).pk],
            data=lambda w: {"member": care.label(w)},
            label="by an officer",
        ),
    ],
    "activities:club_leave": [POST(who(GO, NF, GO, GO), args=lambda w: [acts.membership(w).pk])],
    "activities:mine": [GET(who(OK, OK, OK, OK))],
    "activities:signup": [POST(who(GO, NF, NF, NF), args=lambda w: [acts.activity(w).pk])],
    # 荣誉
    "honours:list": [GET(who(FB, OK, OK, OK))],
    "honours:create": [
        GET(who(FB, OK, OK, OK)),
        POST(
            who(FB, REFUSED, GO, GO),
            data=lambda w: {
                "kind": "individual",
                "member": care.label(w),
                "title": "优秀工会积极分子",
                "level": "county",
                "date": today(),
            },
        ),
    ],
    "honours:update": [
        GET(who(NF, NF, OK, OK), args=lambda w: [honour(w).pk]),
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [honour(w).pk],
            data=lambda w: {
                "kind": "individual",
                "member": care.label(w),
                "title": "市先进个人",
                "level": "city",
                "date": today(),
            },
        ),
    ],
    "honours:delete": [
        POST(
            who(NF, NF, GO, GO),
            args=lambda w: [
                honour_services.honour_create(
                    actor=None,
                    kind="individual",
                    member=w.member,
                    title="先进个人",
                    level="unit",
                    date=dt.date.today(),
                ).pk
            ],
        )
    ],
    "care:me": [GET(who(OK, OK, OK, OK))],
    "care:me_apply": [
        GET(who(OK, GO, GO, GO)),
        # Only a member applies for themself; an officer's login has no roster entry.
        POST(
            who(GO, Denied(302), Denied(302), Denied(302)),
            data=lambda w: {"kind": "hardship", "amount": "1000", "reason": "家中困难"},
        ),
    ],
}


def url_names() -> Iterator[str]:
    """Every named URL of the project, namespaced, outside Django's admin."""

    def walk(resolver: URLResolver, prefix: str) -> Iterator[str]:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                if p.app_name == "admin":
                    continue
                yield from walk(p, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            elif isinstance(p, URLPattern):
                assert p.name, f"URL pattern {p.pattern} has no name; every view needs one"
                yield prefix + p.name

    yield from walk(get_resolver(), "")


def test_every_view_is_in_the_matrix() -> None:
    names = set(url_names()) - EXEMPT
    missing = sorted(names - MATRIX.keys())
    assert not missing, f"views without a permission-matrix entry: {missing}"
    assert not sorted(MATRIX.keys() - names), "matrix entries for views that no longer exist"


def fingerprint() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every gonghui table, every column: what a denied write must not change."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    for config in apps.get_app_configs():
        if config.name.startswith("gonghui."):
            for model in config.get_models():
                rows = model._default_manager.order_by("pk").values_list()
                result[model._meta.label] = list(rows)
    return result


CASES = [
    pytest.param(name, case, id=f"{name}-{case.method}{'-' + case.label if case.label else ''}")
    for name, cases in MATRIX.items()
    for case in cases
]


@pytest.fixture(autouse=True)
def _imports_inline(settings: Any, tmp_path: Path) -> None:
    """Imports run inline (no thread) and keep their uploads in the test's folder."""
    settings.GONGHUI_IMPORT_BACKGROUND = False
    settings.DATA_DIR = tmp_path / "data"
    settings.MEDIA_ROOT = tmp_path / "data" / "media"


@pytest.mark.parametrize(("name", "case"), CASES)
def test_permission_matrix(world: World, name: str, case: Case) -> None:
    users: dict[str, User | None] = {
        "anonymous": None,
        "member": world.member_user,
        "other_officer": world.other_officer,
        "outsider": world.outsider,
        "officer": world.officer,
        "chair": world.chair,
    }
    url = reverse(name, args=case.args(world))
    failures: list[str] = []
    for persona in PERSONAS:
        want = case.outcome(persona)
        user = users[persona]
        client = login(user)
        with transaction.atomic():
            before = fingerprint() if case.method == "POST" else None
            audit_before = AuditEntry.objects.count()
            if case.method == "POST":
                response = client.post(url, case.data(world))
            else:
                response = client.get(url, case.query(world))
            got = response.status_code
            problem = ""
            if got != want.status:
                problem = f"status {got}, expected {want.status}"
            elif persona == "anonymous" and not response["Location"].startswith(reverse("login")):
                problem = f"redirected to {response['Location']}, not the login page"
            elif case.method == "POST" and isinstance(want, Denied):
                if fingerprint() != before:
                    problem = "a denied write changed the database"
            elif case.method == "POST" and isinstance(want, Allowed):
                assert user is not None
                if case.wrote is not None:
                    if not case.wrote(user):
                        problem = "an allowed write did not write"
                else:
                    new = AuditEntry.objects.order_by("-pk")[
                        : AuditEntry.objects.count() - audit_before
                    ]
                    if not any(e.actor_id == user.pk for e in new):
                        problem = "an allowed write left no audit row naming its actor"
            if problem:
                failures.append(f"{persona}: {problem}")
            transaction.set_rollback(True)
    assert not failures, f"{case.method} {url}\n" + "\n".join(failures)


# What the allowed writes actually wrote ---------------------------------------------


def test_member_edit_by_branch_officer_writes_and_audits(world: World) -> None:
    response = login(world.officer).post(
        reverse("members:edit", args=[world.member.pk]),
        member_form(world, department="高三语文组"),
    )
    assert response.status_code == 302
    world.member.refresh_from_db()
    assert world.member.department == "高三语文组"
    entry = AuditEntry.objects.get(
        action="update", actor=world.officer, object_id=str(world.member.pk)
    )
    assert entry.changes["部门"] == ["", "高三语文组"]


def test_membership_change_by_chair_writes_history_status_and_audit(world: World) -> None:
    response = login(world.chair).post(
        reverse("members:change", args=[world.member.pk]),
        {"kind": "retire", "date": today(), "confirm": "1"},
    )
    assert response.status_code == 302
    world.member.refresh_from_db()
    assert world.member.status == "retained"
    assert world.member.changes.last().kind == "retire"  # type: ignore[union-attr]
    assert AuditEntry.objects.filter(
        action="change", actor=world.chair, object_id=str(world.member.pk)
    ).exists()


def test_archive_by_officer_archives_the_subtree_and_audits(world: World) -> None:
    group = empty_group(world)
    response = login(world.officer).post(reverse("org:archive", args=[group.pk]))
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.archived_at is not None
    assert AuditEntry.objects.filter(action="archive", actor=world.officer).exists()


def test_password_reset_by_officer_lets_the_member_log_in_with_it(world: World) -> None:
    login(world.officer).post(
        reverse("org:user_password", args=[world.member_user.pk]),
        {"password": STRONG, "password2": STRONG},
    )
    assert login(None).login(username="member", password=STRONG)
    assert not login(None).login(username="member", password=PASSWORD)


def test_denied_member_create_by_other_branch_says_why(world: World) -> None:
    """The refused form names the field, in Chinese; nothing is written (matrix above)."""
    response = login(world.other_officer).post(
        reverse("members:create"),
        member_form(world, name="赵六", id_number=id_number(), join_kind="join"),
    )
    assert response.status_code == 200
    assert "union" in response.context["form"].errors
    assert "所属工会" in response.context["form"].errors["union"][0]


def test_lists_show_only_rows_in_scope(world: World) -> None:
    """200 on a list is not a leak: other_officer's roster and users lack branch A1."""
    roster = login(world.other_officer).get(reverse("members:list"))
    assert [m.name for m in roster.context["page"]] == ["李四"]
    users = login(world.other_officer).get(reverse("org:users"))
    assert world.member_user not in list(users.context["page"])
    audit = login(world.outsider).get(reverse("common:audit"))
    assert all(
        e.union is None or e.union.path.startswith(world.other_school.path)
        for e in audit.context["page"]
    )


OBJECT_VIEWS = [
    ("GET", "members:detail", lambda w: [w.member.pk]),
    ("GET", "members:edit", lambda w: [w.member.pk]),
    ("POST", "members:change", lambda w: [w.member.pk]),
    ("POST", "members:reveal", lambda w: [w.member.pk, "id_number"]),
    ("GET", "org:detail", lambda w: [w.branch.pk]),
    ("GET", "org:edit", lambda w: [w.branch.pk]),
    ("GET", "org:move", lambda w: [w.branch.pk]),
    ("POST", "org:archive", lambda w: [w.branch.pk]),
    ("GET", "org:user_detail", lambda w: [w.member_user.pk]),
    ("POST", "org:user_toggle", lambda w: [w.member_user.pk]),
    ("POST", "org:role_revoke", member_role),
    ("GET", "care:visit", lambda w: [care.visit(w).pk]),
    ("GET", "care:visit_photo", lambda w: [care.photo(w).pk]),
    ("GET", "care:subsidy_attachment", lambda w: [care.attachment(w).pk]),
    ("POST", "care:visit_reverse", lambda w: [care.visit(w).pk]),
    ("GET", "care:hardship_file", lambda w: [care.hardship_file(w).pk]),
    ("GET", "care:subsidy", lambda w: [care.subsidy(w).pk]),
    ("POST", "care:subsidy_action", lambda w: [care.subsidy(w).pk, "approve"]),
    ("GET", "care:drive", lambda w: [care.drive(w).pk]),
    ("GET", "care:programme", lambda w: [care.programme(w).pk]),
]


def test_out_of_scope_answers_exactly_like_a_missing_id(world: World) -> None:
    """Nothing in the answer tells another branch's officer that the record exists."""
    client = login(world.other_officer)
    for method, name, args in OBJECT_VIEWS:
        real = args(world)
        missing = [999_999, *real[1:]]
        send = client.post if method == "POST" else client.get
        hidden, absent = send(reverse(name, args=real)), send(reverse(name, args=missing))
        assert hidden.status_code == absent.status_code == 404, name
        assert without_csrf(hidden.content) == without_csrf(absent.content), name


def without_csrf(html: bytes) -> bytes:
    """The page without its CSRF token, which is masked afresh on every response."""
    return re.sub(rb'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"', b"", html)
