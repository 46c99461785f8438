"""Every kind of entry the services write reads in full on the pages that show the log.

The log once kept a create's values alone ("许妍慧") where the pages read [old, new],
and showed the second character of each ("会员：妍 状态：补"), and a yes/no as
True/False. Here the real services write one entry of each kind, and each is rendered.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from html import escape
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from gonghui.activities import services as activity_services
from gonghui.activities.services import ActivityFields, QuestionData
from gonghui.care import services as care_services
from gonghui.common import audit
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.honours import services as honour_services
from gonghui.members import services as member_services
from gonghui.org import services as org_services
from gonghui.org.choices import Role
from tests import factories as f
from tests.care import records as care
from tests.conftest import World, login

TODAY = dt.date.today()


def _xlsx(rows: list[list[Any]], sheet: str) -> io.BytesIO:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "导入.xlsx"
    return buf


def _web_import(client: Client, kind: str, rows: list[list[Any]], sheet: str, union: Any) -> None:
    client.post(
        reverse("imports:upload", args=[kind]), {"file": _xlsx(rows, sheet), "union": union.pk}
    )
    from gonghui.common.models import ImportRecord

    record = ImportRecord.objects.latest("pk")
    assert record.status == "ready", record.errors
    client.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "done", record.errors


def _org_and_members(w: World) -> None:
    chair = w.chair
    new = org_services.union_create(actor=chair, name="高中数学组", kind="group", parent=w.branch)
    org_services.union_update(actor=chair, union=new, name="高中数学教研组", headcount=12)
    org_services.union_move(actor=chair, union=new, new_parent=w.other_branch)
    org_services.union_archive(actor=chair, union=new)
    org_services.union_restore(actor=chair, union=new)
    user = org_services.user_create(
        actor=chair,
        username="lisi",
        full_name="李四",
        password=f.PASSWORD,
        union=w.branch,
        role=Role.COMMITTEE,
    )
    org_services.user_update(actor=chair, user=user, full_name="李小四", is_active=False)
    org_services.user_update(actor=chair, user=user, is_active=True)
    org_services.user_set_password(actor=chair, user=user, password="Another-pass-2025")
    role = org_services.role_grant(actor=chair, user=user, union=w.group, role=Role.GROUP_LEADER)
    org_services.role_revoke(actor=chair, assignment=role)
    org_services.login_succeeded(user=user)
    org_services.login_failed(user=user, username=user.username, address="127.0.0.1")

    member = member_services.member_create(
        actor=chair,
        union=w.group,
        name="许妍慧",
        id_number=f.id_number(male=False),
        phone=f.phone(),
        join_date=dt.date(2021, 9, 1),
        monthly_wage=Decimal("6200.50"),
    )
    member_services.member_update(actor=chair, member=member, department="语文组")
    member_services.member_reveal(actor=chair, member=member, field="phone")
    member_services.member_change(actor=chair, member=member, kind="retire", date=TODAY)
    member_services.member_change_undo(actor=chair, member=member)
    member_services.member_link_user(actor=chair, member=member, user=user)


def _care(w: World) -> None:
    chair = w.chair
    care_services.policy_set(
        actor=chair,
        union=w.school,
        preset="anhui",
        overrides={"sick": 500},
        festival_goods_only=False,
        dibao_line=Decimal(1000),
    )
    care_services.policy_set(actor=chair, union=w.branch, preset="anhui", overrides={"sick": 400})
    care_services.policy_clear(actor=chair, union=w.branch)
    visit = care.visit(w, actor=chair)
    care_services.visit_photo_add(
        actor=chair, visit=visit, upload=SimpleUploadedFile("病房.png", care.PNG, "image/png")
    )
    care_services.visit_reverse(actor=chair, visit=visit, reason="重复登记")
    batch = care_services.visit_batch(
        actor=chair, union=w.branch, date=TODAY, reason="festival", form="goods", amount=200
    )
    care_services.visit_batch_reverse(actor=chair, batch=batch[0].batch, reason="整批登错")
    stay = care_services.stay_create(
        actor=chair, member=w.member, admitted_on=TODAY, hospital="市一医院"
    )
    care_services.stay_discharge(actor=chair, stay=stay, discharged_on=TODAY)
    file = care.hardship_file(w)
    care_services.hardship_file_close(
        actor=chair, file=file, date=TODAY, reason="子女参加工作，收入稳定"
    )
    paid = care.subsidy(w, "paid")
    assert paid.status == "paid"
    rejected = care.subsidy(w, "reviewed")
    care_services.subsidy_reject(actor=chair, subsidy=rejected, reason="材料不全")
    withdrawn = care.subsidy(w)
    care_services.subsidy_withdraw(actor=w.member_user, subsidy=withdrawn)
    donation = care.donation(w)
    care_services.donation_reverse(actor=chair, donation=donation, reason="登记错误")
    claim = care.claim(w)
    care_services.claim_decide(
        actor=chair, claim=claim, status="paid", decided_on=TODAY, paid_amount=Decimal(600)
    )
    other = f.member(w.group, "周六")
    care_services.programme_enrol(actor=chair, programme=claim.programme, members=[other])
    enrolment = claim.programme.enrolments.get(member=other)
    care_services.enrolment_remove(actor=chair, enrolment=enrolment)


def _activities(w: World) -> None:
    chair = w.chair
    fields = ActivityFields(
        title="教师培训",
        category="training",
        start_date=TODAY,
        capacity=1,
        hours=Decimal(8),
        certificate=True,
        place="报告厅",
    )
    training = activity_services.activity_create(actor=chair, union=w.branch, fields=fields)
    second = f.member(w.group, "王小明")
    first = activity_services.register(actor=chair, activity=training, member=w.member)
    activity_services.register(actor=chair, activity=training, member=second)  # 候补
    activity_services.registration_cancel(actor=chair, registration=first)  # 王小明 moves up
    fields.capacity = 2
    activity_services.activity_update(actor=chair, activity=training, fields=fields)
    activity_services.register(actor=chair, activity=training, member=w.member)
    activity_services.attendance_mark(
        actor=chair, activity=training, attended=[w.member], absent=[second]
    )
    award = activity_services.award_add(
        actor=chair,
        activity=training,
        rank=1,
        prize="一等奖",
        prize_value=Decimal(100),
        member=w.member,
        confirm_over_cap=True,
    )
    activity_services.award_remove(actor=chair, award=award)

    games = activity_services.activity_create(
        actor=chair,
        union=w.branch,
        fields=ActivityFields(title="气排球赛", category="sports", start_date=TODAY),
    )
    activity_services.register(actor=None, activity=games, member=w.member)
    activity_services.checkin_self(
        actor=w.member_user, activity=games, token=activity_services.checkin_token(games)
    )
    activity_services.activity_cancel(actor=chair, activity=games, reason="场地维修")

    contest = activity_services.activity_create(
        actor=chair,
        union=w.branch,
        fields=ActivityFields(title="工会知识竞赛", category="quiz", start_date=TODAY),
    )
    quiz = activity_services.quiz_set(
        actor=chair,
        activity=contest,
        pass_mark=60,
        questions=[QuestionData("工会会员会费为工资的？", ["0.5%", "5%"], [0])],
    )
    question = quiz.questions.get()
    activity_services.quiz_submit(
        actor=w.member_user, quiz=quiz, answers={question.pk: [0]}, member=w.member
    )

    club = activity_services.club_create(actor=chair, union=w.branch, name="合唱队")
    joined = activity_services.club_join(actor=chair, club=club, member=w.member)
    activity_services.club_leave(actor=chair, membership=joined)


def _honours(w: World) -> None:
    honour = honour_services.honour_create(
        actor=w.chair,
        kind="individual",
        member=w.member,
        title="优秀教师",
        level="city",
        awarded_by="市教育局",
        date=TODAY,
    )
    honour_services.honour_delete(actor=w.chair, honour=honour)
    honour_services.honour_create(
        actor=w.chair,
        kind="collective",
        union=w.school,
        recipient="第一中学工会",
        title="模范职工之家",
        level="provincial",
        awarded_by="省总工会",
        date=TODAY,
    )


def _imports_and_exports(w: World, settings: Any, tmp_path: Any) -> None:
    settings.GONGHUI_IMPORT_BACKGROUND = False
    settings.DATA_DIR = tmp_path / "data"
    client = login(w.chair)
    _web_import(
        client,
        "members",
        [
            ["姓名", "身份证号", "所属工会", "工号", "部门"],
            ["赵敏", f.id_number(male=False), "高中语文组", "T900", "数学组"],
            ["张三", "", "高中语文组", "T001", "教务处"],
        ],
        "会员名册",
        w.school,
    )
    _web_import(
        client,
        "unions",
        [["名称", "类型", "上级组织"], ["高中英语组", "工会小组", "高中部分工会"]],
        "组织架构",
        w.school,
    )
    for kind in ("members", "visits"):
        assert client.get(reverse("imports:export", args=[kind])).status_code == 200


@pytest.fixture
def logged(world: World, settings: Any, tmp_path: Any) -> World:
    """The test world after one call of (nearly) every service that writes the log."""
    _org_and_members(world)
    _care(world)
    _activities(world)
    _honours(world)
    _imports_and_exports(world, settings, tmp_path)
    return world


def _shows_in_full(entry: AuditEntry, html: str) -> None:
    for label, (old, new) in entry.changes.items():
        if new != "":
            assert f"<b>{escape(label)}</b>：" in html, (entry.summary, label)
            assert escape(str(new)) in html, (entry.summary, label, new)
        if old != "":
            assert escape(str(old)) in html, (entry.summary, label, old)


def test_every_entry_is_stored_as_pairs_of_plain_values(logged: World) -> None:
    entries = list(AuditEntry.objects.all())
    actions = {e.action for e in entries}
    assert actions >= {a.value for a in AuditAction} - {AuditAction.LOCKED}
    for e in entries:
        for label, pair in e.changes.items():
            assert isinstance(pair, list) and len(pair) == 2, (e.summary, label, pair)
            assert not any(isinstance(v, bool | list | dict) for v in pair), (e.summary, label)


def test_every_entry_renders_its_values_in_full_and_yes_no_in_chinese(logged: World) -> None:
    entries = list(AuditEntry.objects.all())
    assert len(entries) > 60
    for e in entries:
        html = render_to_string("includes/changes.html", {"e": e})
        _shows_in_full(e, html)
        assert "True" not in html and "False" not in html, e.summary


def _audit_pages(client: Client, **query: str) -> str:
    html, page = "", 1
    while True:
        response = client.get(reverse("common:audit"), {**query, "page": str(page)})
        assert response.status_code == 200
        html += response.content.decode()
        if not response.context["page"].has_next():
            return html
        page += 1


def test_the_log_page_shows_what_each_create_made(logged: World) -> None:
    html = _audit_pages(login(logged.chair))

    for shown in (
        "<b>会员</b>：张三",  # a registration
        "<b>状态</b>：候补",
        "<b>状态</b>：候补 → 已报名",
        "<b>补助类型</b>：大病补助",
        "<b>申请金额</b>：1500.00",
        "<b>捐款活动</b>：爱心捐款",
        "<b>颁发证书</b>：是",
        "<b>节日慰问只发实物</b>：否",
        "<b>本工会调整的上限</b>：生病住院慰问 500.00 元",
        "<b>姓名</b>：许妍慧",
        "<b>及格</b>：是",
        "<b>加入</b>：张三",
        "<b>签到</b>：1",
        "<b>完整个人信息</b>：否",
        "<b>荣誉称号</b>：优秀教师",  # a deleted honour shows what it was
    ):
        assert shown in html, shown
    assert "True" not in html and "False" not in html


def test_history_pages_read_the_same_pairs(logged: World) -> None:
    client = login(logged.chair)
    member = member_services.Member.objects.get(name="许妍慧")
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "<b>姓名</b>：许妍慧" in page and "<b>月工资（元）</b>：6200.50" in page
    activity = activity_services.Activity.objects.get(title="教师培训")
    page = client.get(reverse("activities:detail", args=[activity.pk])).content.decode()
    assert "<b>颁发证书</b>：是" in page and "<b>会员</b>：王小明" in page


def test_the_auditor_reads_the_care_and_activity_log_of_their_own_union(logged: World) -> None:
    auditor = f.user("jingshen", logged.school, Role.AUDITOR)
    client = login(auditor)

    html = _audit_pages(client)

    assert "<b>补助类型</b>：大病补助" in html and "<b>捐款活动</b>：爱心捐款" in html
    assert "<b>会员</b>：张三" in html and "<b>颁发证书</b>：是" in html
    # Scoped: not the other school's rows, and not the roster they may not read.
    shown = audit.entries_for(auditor)
    assert shown.exists()
    assert all(e.union is None or e.union.path.startswith(logged.school.path) for e in shown)
    assert not shown.filter(content_type__app_label="members").exists()
    assert not shown.filter(action=AuditAction.VIEW_PII).exists()
    assert "许妍慧" not in html and "查看「许妍慧」的完整手机号" not in html
    other = f.user("jingshen2", logged.other_school, Role.AUDITOR)
    assert "大病补助" not in _audit_pages(login(other))


def test_the_chair_still_reads_every_row_of_the_subtree(logged: World) -> None:
    chair_rows = audit.entries_for(logged.chair)
    assert chair_rows.filter(content_type__app_label="members").exists()
    assert chair_rows.filter(action=AuditAction.VIEW_PII).exists()


def test_record_takes_pairs_or_lone_values_and_refuses_other_shapes(world: World) -> None:
    entry = audit.record(
        actor=None,
        action=AuditAction.CREATE,
        obj=world.school,
        changes={
            "名称": "高中部",
            "及格": True,
            "会员状态": ("在册", "退休"),
            "金额": Decimal("12.50"),
            "日期": dt.date(2025, 3, 1),
            "空": None,
        },
    )
    entry.refresh_from_db()
    assert entry.changes == {
        "名称": ["", "高中部"],
        "及格": ["", "是"],
        "会员状态": ["在册", "退休"],
        "金额": ["", "12.50"],
        "日期": ["", "2025-03-01"],
        "空": ["", ""],
    }
    for bad in ({"人": ["张三", "李四", "王五"]}, {"上限": {"sick": 500}}):
        with pytest.raises(TypeError):
            audit.record(actor=None, action=AuditAction.UPDATE, changes=bad)
