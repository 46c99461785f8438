"""The web import: upload → check → preview → confirm → write → done; errors with the
marked file; export of the filtered roster; who may do what."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.common import crypto
from gonghui.common.imports import jobs
from gonghui.common.models import AuditAction, AuditEntry, ImportRecord, ImportStatus
from gonghui.members.models import Member
from gonghui.org.choices import Portfolio, Role
from tests import factories as f
from tests.conftest import World, login

from . import files

HEADERS = ["姓名", "身份证号", "所属工会", "会员状态"]


def _xlsx_upload(rows: list[list[Any]], name: str = "名册.xlsx") -> io.BytesIO:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "会员名册"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = name
    return buf


def _upload(client: Client, upload: Any, union: Any, kind: str = "members") -> ImportRecord:
    response = client.post(
        reverse("imports:upload", args=[kind]), {"file": upload, "union": union.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    record = ImportRecord.objects.latest("pk")
    assert response["Location"] == reverse("imports:detail", args=[record.pk])
    return record


@pytest.mark.django_db
def test_upload_preview_confirm_done(world: World) -> None:
    client = login(world.chair)
    page = client.get(reverse("imports:upload", args=["members"]))
    assert page.status_code == 200 and "下载导入模板" in page.content.decode()
    rows = [
        HEADERS,
        ["网页甲", f.id_number(), "高中语文组", ""],
        ["张三", "", "YZGZYW", "保留会籍"],
    ]
    # 张三 has no 身份证号 in the file: found by nothing else, so give the 工号 too.
    rows = [[*r, c] for r, c in zip(rows, ["工号", "", "T001"], strict=True)]
    record = _upload(client, _xlsx_upload(rows), world.school)
    record.refresh_from_db()
    assert record.status == ImportStatus.READY
    assert (record.created_count, record.updated_count, record.unchanged_count) == (1, 1, 0)
    detail = client.get(reverse("imports:detail", args=[record.pk])).content.decode()
    assert "检查通过，请确认" in detail and "会员状态：在册 → 保留会籍" in detail
    assert not Member.objects.filter(name="网页甲").exists()  # nothing before the confirm
    response = client.post(reverse("imports:confirm", args=[record.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == ImportStatus.DONE and record.finished_at
    assert not record.stored_file  # the upload (personal data) is deleted once written
    assert Member.objects.get(name="网页甲").union == world.group
    done = client.get(reverse("imports:detail", args=[record.pk])).content.decode()
    assert "导入完成" in done and "新增 1，修改 1" in done
    # A second confirm (a double click) writes nothing more.
    client.post(reverse("imports:confirm", args=[record.pk]))
    assert Member.objects.filter(name="网页甲").count() == 1
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.actor == world.chair and f"导入记录 #{record.pk}" in entry.summary
    # The log row is the import record's, and names the new members; a new member's
    # page says which import registered them.
    assert (entry.content_type.model, entry.object_id) == ("importrecord", str(record.pk))
    new_member = Member.objects.get(name="网页甲")
    assert entry.changes["新增会员编号"] == ["", str(new_member.pk)]
    page = client.get(reverse("members:detail", args=[new_member.pk])).content.decode()
    assert f"导入（导入记录 #{record.pk}）" in page


@pytest.mark.django_db
def test_errors_are_listed_and_the_file_comes_back_marked(world: World) -> None:
    client = login(world.chair)
    rows = [
        HEADERS,
        ["好人", f.id_number(), "YZGZYW", ""],
        ["坏号", "110105194912310022", "YZGZYW", "在不在"],
    ]
    record = _upload(client, _xlsx_upload(rows, "我的名册.xlsx"), world.school)
    record.refresh_from_db()
    assert record.status == ImportStatus.INVALID and record.error_count == 2
    page = client.get(reverse("imports:detail", args=[record.pk])).content.decode()
    assert "没有写入任何数据" in page
    assert "校验位错误，请核对最后一位。" in page and "「在不在」不在可选范围内" in page
    assert not Member.objects.filter(name="好人").exists()
    response = client.get(reverse("imports:marked", args=[record.pk]))
    assert response.status_code == 200
    assert (
        "%E5%B7%B2%E6%A0%87%E5%87%BA%E9%94%99%E8%AF%AF" in response["Content-Disposition"]
    )  # 已标出错误
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb["会员名册"]
    assert "校验位错误" in ws["B3"].comment.text
    assert ws["D3"].comment is not None and ws["A2"].comment is None
    assert files.red_cells(ws) == {"B3", "D3"}
    assert [c.value for c in wb["错误说明"]["C"]][1:] == [
        "校验位错误，请核对最后一位。",
        record.errors[1][2],
    ]
    # The user fixes the file and uploads it again: it goes in.
    ws["B3"].value = f.id_number()
    ws["D3"].value = "在册"
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "我的名册（改）.xlsx"
    fixed = _upload(client, buf, world.school)
    fixed.refresh_from_db()
    assert fixed.status == ImportStatus.READY, fixed.errors
    client.post(reverse("imports:confirm", args=[fixed.pk]))
    assert set(Member.objects.filter(name__in=["好人", "坏号"]).values_list("name", flat=True)) == {
        "好人",
        "坏号",
    }


@pytest.mark.django_db
def test_a_csv_comes_back_as_a_marked_xlsx(world: World) -> None:
    client = login(world.chair)
    data = files.csv_bytes([["姓名", "所属工会"], ["", "YZGZYW"], ["某", "不存在"]], encoding="gbk")
    upload = io.BytesIO(data)
    upload.name = "名册.csv"
    record = _upload(client, upload, world.school)
    response = client.get(reverse("imports:marked", args=[record.pk]))
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    assert ws["A2"].comment.text == "必填，不能为空"
    assert "找不到" in ws["B3"].comment.text
    assert ws["B3"].value == "不存在"


@pytest.mark.django_db
def test_a_bad_file_shows_its_problem(world: World) -> None:
    client = login(world.chair)
    upload = io.BytesIO(files.executable())
    upload.name = "名册.xlsx"
    record = _upload(client, upload, world.school)
    page = client.get(reverse("imports:detail", args=[record.pk])).content.decode()
    assert "可执行程序" in page
    assert client.get(reverse("imports:marked", args=[record.pk])).status_code == 404


@pytest.mark.django_db
def test_progress_is_polled_while_busy(world: World) -> None:
    client = login(world.chair)
    record = jobs.new_record(
        spec=jobs.get_spec("members"),
        actor=world.chair,
        union=world.school,
        file_name="x.xlsx",
        file_size=1,
    )
    from gonghui.common.imports.progress import CacheProgress

    CacheProgress(record.pk).update("check", 500, 2000)
    response = client.get(reverse("imports:status", args=[record.pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html and "检查 500 / 2000 行（25%）" in html
    assert "<html" not in html  # the fragment only
    ImportRecord.objects.filter(pk=record.pk).update(status=ImportStatus.DONE)
    html = client.get(
        reverse("imports:status", args=[record.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "hx-trigger" not in html and "导入完成" in html


@pytest.mark.django_db
def test_who_may_import_and_see_imports(world: World) -> None:
    assert (
        login(world.member_user).get(reverse("imports:upload", args=["members"])).status_code == 403
    )
    assert login(world.member_user).get(reverse("imports:list")).status_code == 403
    assert login(None).get(reverse("imports:list")).status_code == 302  # to the login page
    assert login(world.chair).get(reverse("imports:upload", args=["weather"])).status_code == 404
    officer = login(world.officer)
    # The officer's form offers only their branch and below.
    form = officer.get(reverse("imports:upload", args=["members"])).content.decode()
    assert "高中部分工会" in form and "初中部分工会" not in form
    response = officer.post(
        reverse("imports:upload", args=["members"]),
        {
            "file": _xlsx_upload([HEADERS, ["x", f.id_number(), "", ""]]),
            "union": world.other_branch.pk,
        },
    )
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    mine = _upload(
        officer, _xlsx_upload([HEADERS, ["分会人", f.id_number(), "", ""]]), world.branch
    )
    theirs = _upload(
        login(world.outsider),
        _xlsx_upload([HEADERS, ["二中人", f.id_number(), "", ""]]),
        world.other_school,
    )
    listing = officer.get(reverse("imports:list")).content.decode()
    assert f"#{mine.pk}" in listing and f"#{theirs.pk}" not in listing
    assert officer.get(reverse("imports:detail", args=[theirs.pk])).status_code == 404
    assert login(world.chair).get(reverse("imports:detail", args=[mine.pk])).status_code == 200
    # Only the uploader confirms, and only the uploader gets their file back.
    assert login(world.chair).post(reverse("imports:confirm", args=[mine.pk])).status_code == 403
    assert not Member.objects.filter(name="分会人").exists()


@pytest.mark.django_db
def test_template_download(world: World) -> None:
    response = login(world.chair).get(reverse("imports:template", args=["members"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.worksheets[0]["G2"].value == "第一中学工会"  # the example names the chair's union


@pytest.mark.django_db
def test_export_follows_the_roster_filters_and_masks(world: World) -> None:
    client = login(world.chair)
    page = client.get(reverse("members:list")).content.decode()
    assert 'id="roster-export"' in page and 'id="roster-import"' in page
    response = client.get(reverse("imports:export", args=["members"]) + f"?union={world.branch.pk}")
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    headers = [c.value for c in ws[1]]
    rows = [dict(zip(headers, (c.value for c in r), strict=False)) for r in ws.iter_rows(min_row=2)]
    assert [r["姓名"] for r in rows] == ["张三"]  # only the branch's members
    assert rows[0]["身份证号"] == world.member.id_number_masked
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert entry.actor == world.chair and "已脱敏" in entry.summary and "union=" in entry.summary
    full = client.get(reverse("imports:export", args=["members"]) + "?full=1")
    ws = openpyxl.load_workbook(io.BytesIO(full.content)).worksheets[0]
    ids = {r[0].value: r[2].value for r in ws.iter_rows(min_row=2)}
    assert ids["张三"] == crypto.decrypt(world.member.id_number_enc)
    assert (
        "含完整身份证号"
        in AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("pk").summary
    )


@pytest.mark.django_db
def test_full_export_needs_the_pii_permission(world: World) -> None:
    clerk = f.user("clerk", world.school, Role.COMMITTEE)
    client = login(clerk)
    assert client.get(reverse("imports:export", args=["members"])).status_code == 200
    assert client.get(reverse("imports:export", args=["members"]) + "?full=1").status_code == 403
    assert 'id="roster-export-full"' not in client.get(reverse("members:list")).content.decode()
    organiser = f.user("organiser", world.school, Role.COMMITTEE, portfolio=Portfolio.ORGANISATION)
    assert (
        login(organiser).get(reverse("imports:export", args=["members"]) + "?full=1").status_code
        == 200
    )
    # Another school's chair exports only their own school.
    ws = openpyxl.load_workbook(
        io.BytesIO(login(world.outsider).get(reverse("imports:export", args=["members"])).content)
    ).worksheets[0]
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == ["王五"]
    assert (
        login(world.member_user).get(reverse("imports:export", args=["members"])).status_code == 403
    )


@pytest.mark.django_db
def test_union_export_and_import_pages(world: World) -> None:
    client = login(world.chair)
    assert 'id="org-import"' in client.get(reverse("org:list")).content.decode()
    response = client.get(reverse("imports:export", args=["unions"]))
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    names = [r[0].value for r in ws.iter_rows(min_row=2)]
    assert "第一中学工会" in names and "第二中学工会" not in names
    upload = io.BytesIO(response.content)
    upload.name = "组织.xlsx"
    record = _upload(client, upload, world.school, kind="unions")
    record.refresh_from_db()
    assert record.status == ImportStatus.READY and record.unchanged_count == len(names), (
        record.errors
    )


@pytest.mark.django_db(transaction=True)
def test_the_background_thread(world: World, settings: Any) -> None:
    """The real thing: the request returns at once, a thread checks and writes."""
    settings.GONGHUI_IMPORT_BACKGROUND = True
    client = login(world.chair)
    rows = [HEADERS, *[[f"线程{i}", f.id_number(), "YZGZYW", ""] for i in range(50)]]
    record = _upload(client, _xlsx_upload(rows), world.school)
    jobs.wait(record.pk)
    record.refresh_from_db()
    assert record.status == ImportStatus.READY, record.message
    client.post(reverse("imports:confirm", args=[record.pk]))
    jobs.wait(record.pk)
    record.refresh_from_db()
    assert record.status == ImportStatus.DONE, record.message
    assert Member.objects.filter(name__startswith="线程").count() == 50
    assert not Path(settings.DATA_DIR, "imports").exists() or not any(
        Path(settings.DATA_DIR, "imports").iterdir()
    )


@pytest.mark.django_db
def test_uploads_are_deleted_when_no_longer_needed(world: World, settings: Any) -> None:
    client = login(world.chair)
    good = [HEADERS, ["留存甲", f.id_number(), "YZGZYW", ""]]
    bad = [HEADERS, ["留存乙", "110105194912310022", "YZGZYW", ""]]
    # Cancelled: deleted at once.
    cancelled = _upload(client, _xlsx_upload(good), world.school)
    cancelled.refresh_from_db()
    folder = Path(cancelled.stored_file).parent
    assert folder.is_dir()
    client.post(reverse("imports:cancel", args=[cancelled.pk]))
    cancelled.refresh_from_db()
    assert not cancelled.stored_file and not folder.exists()
    # A whole-file problem: nothing to mark, deleted at once.
    unreadable = io.BytesIO(files.executable())
    unreadable.name = "名册.xlsx"
    problem = _upload(client, unreadable, world.school)
    problem.refresh_from_db()
    assert problem.status == ImportStatus.INVALID and not problem.stored_file
    # Row errors: kept for the marked download…
    invalid = _upload(client, _xlsx_upload(bad), world.school)
    invalid.refresh_from_db()
    kept = Path(invalid.stored_file)
    assert invalid.status == ImportStatus.INVALID and kept.is_file()
    assert client.get(reverse("imports:marked", args=[invalid.pk])).status_code == 200
    # …until it is older than GONGHUI_IMPORT_KEEP_DAYS when another import starts; a
    # fresh one stays, and so does a folder left by a crash until it is as old.
    settings.GONGHUI_IMPORT_KEEP_DAYS = 7
    ImportRecord.objects.filter(pk=invalid.pk).update(
        created_at=timezone.now() - dt.timedelta(days=8)
    )
    orphan = jobs.upload_dir() / "left-by-a-crash"
    orphan.mkdir()
    eight_days_ago = (timezone.now() - dt.timedelta(days=8)).timestamp()
    os.utime(orphan, (eight_days_ago, eight_days_ago))
    fresh_orphan = jobs.upload_dir() / "being-written"
    fresh_orphan.mkdir()
    recent = _upload(client, _xlsx_upload(bad), world.school)
    recent.refresh_from_db()
    invalid.refresh_from_db()
    assert not invalid.stored_file and not kept.exists() and not orphan.exists()
    assert Path(recent.stored_file).is_file() and fresh_orphan.is_dir()
    response = client.get(reverse("imports:marked", args=[invalid.pk]))
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("admin_on")
def test_import_records_are_in_the_admin_to_look_at_only(world: World) -> None:
    from gonghui.org.models import User

    record = _upload(
        login(world.chair), _xlsx_upload([HEADERS, ["管理甲", "", "YZGZYW", ""]]), world.school
    )
    admin = login(User.objects.create_superuser("root", password=f.PASSWORD))
    listing = admin.get(reverse("admin:common_importrecord_changelist"))
    assert listing.status_code == 200 and "名册.xlsx" in listing.content.decode()
    page = admin.get(reverse("admin:common_importrecord_change", args=[record.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert record.stored_file not in content  # a server path is not shown
    assert 'name="_save"' not in content  # read-only: no save button
    assert admin.get(reverse("admin:common_importrecord_add")).status_code == 403
    deleted = admin.post(
        reverse("admin:common_importrecord_delete", args=[record.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 403 and ImportRecord.objects.filter(pk=record.pk).exists()
