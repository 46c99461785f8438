"""Running imports for the web (in a background thread) and the CLI, and exports.

A web import has two steps, each a job on the same :class:`ImportRecord`: the check
(``commit=False``, ending in ``ready`` or ``invalid``) and, after the user confirms,
the write (``commit=True``), which checks everything again (the data may have changed
in between) and then writes it all in one transaction. The request that starts a job
returns at once; the page polls the record.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from gonghui.common import audit
from gonghui.common.models import AuditAction, ImportRecord, ImportStatus
from gonghui.common.scope import Perm, grants, top_unions

from .columns import Column, ImportSpec, get_spec
from .engine import Result, run_import
from .progress import CacheProgress, Progress
from .xlsx import export as export_xlsx

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from gonghui.org.models import Union, User

log = logging.getLogger(__name__)

_threads: dict[int, threading.Thread] = {}


def upload_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def _safe_name(name: str) -> str:
    base = Path(name).name
    base = re.sub(r"[^\w.\-\u4e00-\u9fff]+", "_", base)[:100]
    return base or "upload"


def store_upload(upload: UploadedFile) -> Path:
    """Keep an uploaded file under the data folder until its import is done (and, first,
    delete the uploads kept too long: see :func:`purge_old_uploads`)."""
    purge_old_uploads()
    folder = upload_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _safe_name(upload.name or "upload")
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return path


def discard_file(record: ImportRecord) -> None:
    """Delete the stored upload (it holds personal data) once it is no longer needed."""
    if not record.stored_file:
        return
    path = Path(record.stored_file)
    if path.parent.parent == upload_dir():
        shutil.rmtree(path.parent, ignore_errors=True)
    ImportRecord.objects.filter(pk=record.pk).update(stored_file="")
    record.stored_file = ""


def purge_old_uploads() -> int:
    """Delete the uploads older than ``GONGHUI_IMPORT_KEEP_DAYS``; return how many.

    An upload is deleted as soon as its import is written or cancelled. One whose check
    found errors is kept so that its owner can download it with the errors marked, and
    one that passed but was never confirmed, until this runs: whenever an import
    starts. Folders no record points to (left by a crash) go the same way.
    """
    recover_orphans()
    cutoff = timezone.now() - timedelta(days=settings.GONGHUI_IMPORT_KEEP_DAYS)
    count = 0
    # Whatever state it is in: an import busy for days is long dead (and recovered above).
    for record in ImportRecord.objects.filter(created_at__lt=cutoff).exclude(stored_file=""):
        discard_file(record)
        count += 1
    root = upload_dir()
    if root.is_dir():
        kept = {
            Path(p).parent
            for p in ImportRecord.objects.exclude(stored_file="").values_list(
                "stored_file", flat=True
            )
        }
        for folder in root.iterdir():
            if (
                folder.is_dir()
                and folder not in kept
                and folder.stat().st_mtime < cutoff.timestamp()
            ):
                shutil.rmtree(folder, ignore_errors=True)
                count += 1
    return count


def new_record(
    *,
    spec: ImportSpec,
    actor: User | None,
    union: Union | None,
    file_name: str,
    file_size: int,
    stored_file: str = "",
    source: str = "web",
    dry_run: bool = False,
) -> ImportRecord:
    """The record of one import attempt; ``union`` is where it imports into (and so
    who may review it later)."""
    return ImportRecord.objects.create(
        kind=spec.kind,
        file_name=file_name[:255],
        file_size=file_size,
        stored_file=stored_file,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=actor.display_name if actor is not None and actor.pk else "系统",
        union=union,
        source=source,
        dry_run=dry_run,
        status=ImportStatus.CHECKING,
    )


def run_job(record_id: int, *, commit: bool, ip: str | None = None) -> Result | None:
    """Check (and with ``commit`` write) the file of record ``record_id``; then start
    the next queued import, this one's slot being free."""
    try:
        with heartbeat(record_id):
            return _run_job(record_id, commit=commit, ip=ip)
    finally:
        start_queued()


def _run_job(record_id: int, *, commit: bool, ip: str | None) -> Result | None:
    record = ImportRecord.objects.select_related("union", "actor").get(pk=record_id)
    spec = get_spec(record.kind)
    actor: User | None = record.actor
    # The web form always names the union to import into: blank 所属工会 cells mean it,
    # and rows may only name unions under it.
    default_union = record.union
    progress = CacheProgress(record.pk)
    token = audit.current_ip.set(ip)
    try:
        result = run_import(
            spec=spec,
            path=Path(record.stored_file),
            file_name=record.file_name,
            actor=actor,
            default_union=default_union,
            commit=commit,
            progress=progress,
            record=record,
        )
    except Exception:
        log.exception("import %s failed", record_id)
        ImportRecord.objects.filter(pk=record_id).update(
            status=ImportStatus.FAILED,
            message="导入时发生意外错误，没有写入任何数据。请稍后重试，或把文件交给系统管理员。",
            finished_at=timezone.now(),
        )
        discard_file(record)
        return None
    finally:
        audit.current_ip.reset(token)
        progress.finish()
    # Ended (written, or failed when writing): the file is done with. A whole-file
    # problem: there is nothing to mark. Row errors (or a check awaiting confirmation):
    # kept for the marked file, until purge_old_uploads.
    if result.written or result.problem or commit:
        discard_file(record)
    return result


def start_job(record: ImportRecord, *, commit: bool, ip: str | None = None) -> None:
    """Queue the check (or, with ``commit``, the write) of ``record`` and start what the
    caps allow (see :func:`start_queued`)."""
    record.status = ImportStatus.QUEUED
    record.queued_commit = commit
    record.client_ip = ip
    fields = ["status", "queued_commit", "client_ip"]
    if commit:
        record.progress_total = record.total_rows
        fields.append("progress_total")
    record.save(update_fields=fields)
    start_queued()


def start_queued() -> list[int]:
    """Start the queued imports the caps leave room for, oldest first; their ids.

    ``GONGHUI_IMPORT_MAX_RUNNING`` imports run at once in all, at most
    ``GONGHUI_IMPORT_MAX_RUNNING_PER_USER`` of one user; the others wait, queued. The
    count is taken from the records, not from this process, so that it holds across
    the server's processes; the claim is serialised by a lock in the database.
    """
    claimed = _claim_slots()
    for record_id, commit, ip in claimed:
        _launch(record_id, commit=commit, ip=ip)
    return [c[0] for c in claimed]


def _claim_slots() -> list[tuple[int, bool, str | None]]:
    queued = ImportRecord.objects.filter(status=ImportStatus.QUEUED)
    if not queued.exists():
        return []
    claimed: list[tuple[int, bool, str | None]] = []
    with transaction.atomic():
        _lock_queue()
        running = list(_running().values_list("actor_id", flat=True))
        per_user: dict[int | None, int] = {}
        for actor_id in running:
            per_user[actor_id] = per_user.get(actor_id, 0) + 1
        total = len(running)
        room = settings.GONGHUI_IMPORT_MAX_RUNNING - total
        for pk, actor_id, commit, ip in queued.order_by("id").values_list(
            "pk", "actor_id", "queued_commit", "client_ip"
        ):
            if room <= 0:
                break
            if per_user.get(actor_id, 0) >= settings.GONGHUI_IMPORT_MAX_RUNNING_PER_USER:
                continue
            status = ImportStatus.RUNNING if commit else ImportStatus.CHECKING
            won = ImportRecord.objects.filter(pk=pk, status=ImportStatus.QUEUED).update(
                status=status, heartbeat_at=timezone.now(), worker=_worker_name()
            )
            if won:
                claimed.append((pk, commit, ip))
                per_user[actor_id] = per_user.get(actor_id, 0) + 1
                room -= 1
    return claimed


def _lock_queue() -> None:
    """Serialise the claims of every process. PostgreSQL: a transaction-scoped advisory
    lock. SQLite: a write first, which takes the database's single write lock."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_QUEUE_LOCK])
        else:
            table = connection.ops.quote_name(ImportRecord._meta.db_table)
            cursor.execute(f"UPDATE {table} SET id = id WHERE id = -1")


#: The advisory lock of the import queue (any number no other code uses).
_QUEUE_LOCK = 7_302_410


def _running() -> Any:
    """The imports that hold a slot: busy, with a recent heartbeat."""
    return ImportRecord.objects.filter(
        status__in=ACTIVE, heartbeat_at__gte=timezone.now() - _stale_after()
    )


def queue_position(record: ImportRecord) -> int:
    """How many queued imports are ahead of ``record``."""
    return ImportRecord.objects.filter(status=ImportStatus.QUEUED, pk__lt=record.pk).count()


def _launch(record_id: int, *, commit: bool, ip: str | None) -> None:
    """Run :func:`run_job` in a background thread (inline when the setting says so)."""
    if not settings.GONGHUI_IMPORT_BACKGROUND:
        run_job(record_id, commit=commit, ip=ip)
        return
    record_pk = record_id

    def target() -> None:
        try:
            run_job(record_pk, commit=commit, ip=ip)
        finally:
            _threads.pop(record_pk, None)
            # This thread's own database connection: close it, or it lingers.
            connection.close()
            close_old_connections()

    thread = threading.Thread(target=target, name=f"import-{record_pk}", daemon=True)
    _threads[record_pk] = thread
    thread.start()


# Crashes ------------------------------------------------------------------------------

ACTIVE = (ImportStatus.CHECKING, ImportStatus.RUNNING)
#: Why a recovered import failed.
ORPHANED = "导入进程意外中止，未写入任何数据，请重新导入"
#: Seconds between two heartbeats of a running import.
HEARTBEAT_SECONDS = 30


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _stale_after() -> timedelta:
    return timedelta(minutes=settings.GONGHUI_IMPORT_STALE_MINUTES)


@contextmanager
def heartbeat(record_id: int) -> Iterator[None]:
    """Mark ``record_id`` alive every :data:`HEARTBEAT_SECONDS` while the block runs,
    from a thread with its own connection. (On SQLite a write transaction holds the
    database: a beat that cannot get in is skipped, the stale limit allows for it.)"""
    ImportRecord.objects.filter(pk=record_id).update(
        heartbeat_at=timezone.now(), worker=_worker_name()
    )
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_SECONDS):
                try:
                    ImportRecord.objects.filter(pk=record_id).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    log.info("heartbeat of import %s skipped", record_id)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"import-beat-{record_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def _dead_here(worker: str) -> bool:
    """True when ``worker`` (``host:pid``) names a process of this machine that is gone."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_orphans() -> int:
    """Mark failed every import left busy by a process that is gone (killed, crashed,
    restarted): its heartbeat is older than ``GONGHUI_IMPORT_STALE_MINUTES``, or the
    process that ran it on this machine no longer exists. Their uploads are deleted.
    Nothing was written by them: a write is one transaction. Returns how many.

    Called when the server starts (``gonghui serve``, and so ``gonghui demo``) and
    before every upload is stored."""
    cutoff = timezone.now() - _stale_after()
    busy = ImportRecord.objects.filter(status__in=ACTIVE).only(
        "pk", "heartbeat_at", "worker", "stored_file", "created_at"
    )
    count = 0
    for record in busy:
        beat = record.heartbeat_at or record.created_at
        if beat >= cutoff and not (record.worker and _dead_here(record.worker)):
            continue
        updated = ImportRecord.objects.filter(pk=record.pk, status__in=ACTIVE).update(
            status=ImportStatus.FAILED, message=ORPHANED, finished_at=timezone.now()
        )
        if updated:
            log.warning("import %s recovered: its process is gone", record.pk)
            discard_file(record)
            count += 1
    return count


def wait(record_id: int, timeout: float = 60) -> None:
    """Wait for a background job (for tests and the benchmark)."""
    thread = _threads.get(record_id)
    if thread is not None:
        thread.join(timeout)


# Export -------------------------------------------------------------------------------


def pii_covers(user: User, root: Union | None, view_perm: Perm) -> bool:
    """May ``user`` see full personal numbers of everything the export would hold?"""
    g = grants(user)
    if g.superuser:
        return True
    if root is not None:
        return g.reaches(Perm.ROSTER_PII, root.path)
    pii = g.paths.get(Perm.ROSTER_PII, [])
    views = g.paths.get(view_perm, [])
    return bool(views) and all(any(v.startswith(p) for p in pii) for v in views)


def export_records(
    *,
    spec: ImportSpec,
    actor: User | None,
    qs: Any,
    root: Union | None,
    full_pii: bool,
    description: str = "",
    columns: list[Column] | None = None,
) -> tuple[bytes, int]:
    """The export file of ``qs`` and its row count; the export itself is audited.

    The caller has limited ``qs`` to what ``actor`` may see and decided ``full_pii``
    (``actor=None`` is the system, i.e. the CLI). The audit row names the union the
    file covers: ``root``, or without one the top of the actor's scope.
    """
    cols = columns or [c for c in spec.columns if c.export]
    count = qs.count()
    data = export_xlsx(spec, spec.export_rows(qs, full_pii=full_pii, columns=cols), columns=cols)
    what = ""
    if spec.kind == "members":
        what = "（含完整身份证号、手机号）" if full_pii else "（身份证号、手机号已脱敏）"
    covered = root if root is not None else _scope_top(actor, spec.view_perm)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditAction.EXPORT,
            union=covered,
            summary=f"导出{spec.label} {count} 条{what}{description}"[:500],
            changes={
                "范围": ["", covered.name if covered is not None else "全部"],
                "条数": ["", count],
                "完整个人信息": ["", audit.display(full_pii)],
            },
        )
    return data, count


def _scope_top(actor: User | None, perm: Perm) -> Union | None:
    """The lowest union holding all that ``actor`` sees with ``perm`` (``None``: all)."""
    if actor is None or grants(actor).superuser:
        return None
    from gonghui.org.queries import common_ancestor

    return common_ancestor(set(top_unions(actor, perm).values_list("pk", flat=True)))


def cli_progress() -> Progress:
    from .progress import StreamProgress

    return StreamProgress()


def marked_file_for(record: ImportRecord) -> tuple[bytes, str]:
    """The uploaded file with its bad cells marked, and the name to download it as.

    Raises ``FileNotFoundError`` when the upload is no longer kept.
    """
    from .engine import RowError
    from .xlsx import marked_file

    if not record.stored_file or not Path(record.stored_file).is_file():
        raise FileNotFoundError(record.stored_file)
    data = marked_file(
        Path(record.stored_file),
        file_format=str(record.preview.get("format") or ""),
        sheet_name=str(record.preview.get("sheet") or ""),
        errors=[RowError.from_json(e) for e in record.errors],
        first_col=int(record.preview.get("first_col") or 0),
    )
    stem = Path(record.file_name).stem or "导入"
    return data, f"{stem}（已标出错误）.xlsx"
