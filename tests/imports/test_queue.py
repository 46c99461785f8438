"""The import queue (caps in all and per user, counted in the database) and the
recovery of imports left busy by a process that is gone."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.common.imports import jobs
from gonghui.common.models import ImportRecord, ImportStatus
from gonghui.members.models import Member
from gonghui.org.models import User
from tests import factories as f
from tests.conftest import World, login

from .test_web import HEADERS, _upload, _xlsx_upload

pytestmark = pytest.mark.django_db


def _busy(actor: User, *, minutes_ago: float = 0, worker: str = "", **kw: Any) -> ImportRecord:
    """A record another process is working on (or was, ``minutes_ago``)."""
    beat = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return ImportRecord.objects.create(
        kind="members",
        file_name="别人的名册.xlsx",
        actor=actor,
        status=kw.pop("status", ImportStatus.RUNNING),
        heartbeat_at=beat,
        created_at=beat,
        worker=worker or f"elsewhere:{12345}",
        **kw,
    )


def _stored_file(tmp_path: Path) -> Path:
    folder = jobs.upload_dir() / "0123456789abcdef"
    folder.mkdir(parents=True)
    path = folder / "名册.xlsx"
    path.write_bytes(b"110105194912310021")
    return path


def _roster(name: str) -> Any:
    return _xlsx_upload([HEADERS, [name, f.id_number(), "YZGZYW", ""]])


def _status(client: Client, record: ImportRecord) -> str:
    return client.get(reverse("imports:status", args=[record.pk])).content.decode()


def test_past_the_total_cap_an_import_waits_in_line_with_its_position(
    world: World, settings: Any
) -> None:
    # Given one slot in all, held by an import of another process
    settings.GONGHUI_IMPORT_MAX_RUNNING = 1
    settings.GONGHUI_IMPORT_MAX_RUNNING_PER_USER = 1
    other = _busy(world.other_officer)
    chair, officer = login(world.chair), login(world.officer)
    # When two officers upload
    first = _upload(chair, _roster("排队甲"), world.school)
    second = _upload(officer, _roster("排队乙"), world.branch)
    # Then both wait, each told how many are ahead
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (ImportStatus.QUEUED, ImportStatus.QUEUED)
    assert "排队中，前面还有 0 个导入" in _status(chair, first)
    assert "排队中，前面还有 1 个导入" in _status(officer, second)
    # When the running one ends, the next one starts (on the next look at its page)
    ImportRecord.objects.filter(pk=other.pk).update(status=ImportStatus.DONE)
    _status(chair, first)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ImportStatus.READY
    # (inline in tests: it ran to its end, and its end started the next)
    assert second.status == ImportStatus.READY


def test_past_the_per_user_cap_only_that_users_import_waits(world: World, settings: Any) -> None:
    settings.GONGHUI_IMPORT_MAX_RUNNING = 5
    settings.GONGHUI_IMPORT_MAX_RUNNING_PER_USER = 1
    _busy(world.chair)
    mine = _upload(login(world.chair), _roster("自己的"), world.school)
    theirs = _upload(login(world.officer), _roster("别人的"), world.branch)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == ImportStatus.QUEUED
    assert theirs.status == ImportStatus.READY


def test_a_confirmed_write_waits_in_line_too_and_is_written_when_its_turn_comes(
    world: World, settings: Any
) -> None:
    chair = login(world.chair)
    record = _upload(chair, _roster("确认后排队"), world.school)
    record.refresh_from_db()
    assert record.status == ImportStatus.READY
    settings.GONGHUI_IMPORT_MAX_RUNNING = 1
    other = _busy(world.other_officer)
    chair.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == ImportStatus.QUEUED and record.queued_commit
    assert "轮到时会自动开始写入" in _status(chair, record)
    assert not Member.objects.filter(name="确认后排队").exists()
    ImportRecord.objects.filter(pk=other.pk).update(status=ImportStatus.DONE)
    _status(chair, record)
    record.refresh_from_db()
    assert record.status == ImportStatus.DONE
    assert Member.objects.filter(name="确认后排队").exists()


def test_a_queued_import_can_be_cancelled(world: World, settings: Any) -> None:
    settings.GONGHUI_IMPORT_MAX_RUNNING = 1
    _busy(world.other_officer)
    chair = login(world.chair)
    record = _upload(chair, _roster("不等了"), world.school)
    record.refresh_from_db()
    assert record.status == ImportStatus.QUEUED
    stored = Path(record.stored_file)
    chair.post(reverse("imports:cancel", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == ImportStatus.FAILED and not record.stored_file
    assert not stored.exists()


def test_an_import_with_an_old_heartbeat_is_recovered_and_its_file_purged(
    world: World, settings: Any, tmp_path: Path
) -> None:
    # Given a record left 正在导入 by a process killed 20 minutes ago, with its upload
    settings.GONGHUI_IMPORT_STALE_MINUTES = 10
    path = _stored_file(tmp_path)
    crashed = _busy(world.chair, minutes_ago=20, stored_file=str(path))
    alive = _busy(world.officer, minutes_ago=1, status=ImportStatus.CHECKING)
    # When the server starts
    assert jobs.recover_orphans() == 1
    # Then the crashed one failed with the reason, its file (full 身份证号) is gone
    crashed.refresh_from_db()
    assert crashed.status == ImportStatus.FAILED
    assert crashed.message == "导入进程意外中止，未写入任何数据，请重新导入"
    assert crashed.finished_at and not crashed.stored_file
    assert not path.exists() and not path.parent.exists()
    # and the one still beating is left alone
    alive.refresh_from_db()
    assert alive.status == ImportStatus.CHECKING


def test_an_import_of_a_process_that_is_gone_is_recovered_at_once(world: World) -> None:
    # Given a fresh heartbeat, but from a process of this machine that has exited
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    record = _busy(world.chair, worker=f"{jobs._worker_name().split(':')[0]}:{proc.pid}")
    assert jobs.recover_orphans() == 1
    record.refresh_from_db()
    assert record.status == ImportStatus.FAILED


def test_a_stuck_import_can_be_cancelled(world: World, tmp_path: Path) -> None:
    path = _stored_file(tmp_path)
    record = _busy(world.chair, minutes_ago=60, stored_file=str(path))
    chair = login(world.chair)
    response = chair.post(reverse("imports:cancel", args=[record.pk]), follow=True)
    assert "已放弃这次导入，上传的文件已删除。" in response.content.decode()
    record.refresh_from_db()
    assert record.status == ImportStatus.FAILED and not path.exists()


def test_a_stale_import_holds_no_slot(world: World, settings: Any) -> None:
    settings.GONGHUI_IMPORT_MAX_RUNNING = 1
    _busy(world.other_officer, minutes_ago=30)
    record = _upload(login(world.chair), _roster("不被卡住"), world.school)
    record.refresh_from_db()
    assert record.status == ImportStatus.READY


def test_uploads_are_deleted_after_the_keep_days_whatever_the_state(
    world: World, settings: Any, tmp_path: Path
) -> None:
    settings.GONGHUI_IMPORT_KEEP_DAYS = 7
    path = _stored_file(tmp_path)
    old = timezone.now() - dt.timedelta(days=8)
    record = ImportRecord.objects.create(
        kind="members",
        file_name="旧.xlsx",
        actor=world.chair,
        status=ImportStatus.READY,
        stored_file=str(path),
        created_at=old,
    )
    jobs.purge_old_uploads()
    record.refresh_from_db()
    assert not record.stored_file and not path.exists()


def test_a_failed_write_deletes_its_upload(world: World, monkeypatch: Any) -> None:
    chair = login(world.chair)
    record = _upload(chair, _roster("写入失败"), world.school)
    record.refresh_from_db()
    stored = Path(record.stored_file)
    assert stored.exists()

    def refuse(*args: Any, **kw: Any) -> None:
        from gonghui.common.errors import ServiceError

        raise ServiceError("模拟的拒绝")

    monkeypatch.setattr("gonghui.members.imports.members_import", refuse)
    chair.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == ImportStatus.FAILED and not stored.exists()
