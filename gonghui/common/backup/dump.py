"""Writing a backup: every table in one consistent snapshot, read below the models.

The snapshot is a read transaction of its own connection, so that the server keeps
serving and writing meanwhile: on SQLite a deferred transaction (in WAL mode a reader
sees the database as of its first read, while writers go on); on PostgreSQL a
``REPEATABLE READ READ ONLY`` transaction, whose every statement sees the same snapshot.
Rows are streamed (a server-side cursor on PostgreSQL), so the size of a table does not
matter to memory. The file is written under a temporary name and renamed when complete:
a backup interrupted half-way never has the name of a backup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from .format import (
    DATA_DIR,
    MANIFEST,
    MEDIA_DIR,
    BackupError,
    Manifest,
    Migrations,
    Table,
    data_checksum,
    encoder,
    state_apps,
    tables_of,
)

#: Suffix of a file being written (a backup, or a media file during a restore).
PARTIAL = ".partial"

Progress = Callable[[str], None]


class Snapshot(Protocol):
    engine: str

    def tables(self) -> set[str]: ...
    def applied(self) -> Migrations: ...
    def rows(self, table: Table) -> Iterator[tuple[Any, ...]]: ...


def _applied(rows: list[tuple[str, str]]) -> Migrations:
    result: Migrations = {}
    for app, name in sorted(rows):
        result.setdefault(app, []).append(name)
    return result


def _select(table: Table, quote: Callable[[str], str]) -> str:
    cols = ", ".join(quote(c) for c in table.columns)
    return f"SELECT {cols} FROM {quote(table.name)} ORDER BY {quote(table.pk)}"


class SqliteSnapshot:
    engine = "sqlite"

    def __init__(self, name: str) -> None:
        if not Path(name).exists():
            raise BackupError(f"数据库文件 {name} 不存在：没有可备份的数据。")
        self.conn = sqlite3.connect(name, timeout=20, isolation_level=None)
        self.conn.execute("BEGIN DEFERRED")
        # The first read fixes the snapshot every later read of this transaction sees.
        self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()

    def close(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()

    def tables(self) -> set[str]:
        return {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }

    def applied(self) -> Migrations:
        return _applied(list(self.conn.execute("SELECT app, name FROM django_migrations")))

    def rows(self, table: Table) -> Iterator[tuple[Any, ...]]:
        cursor = self.conn.execute(_select(table, lambda n: '"' + n.replace('"', '""') + '"'))
        while batch := cursor.fetchmany(2000):
            yield from batch


class PostgresSnapshot:
    engine = "postgresql"

    def __init__(self) -> None:
        import psycopg

        # A connection of its own (Django's adapters, e.g. JSON read as text), outside
        # whatever transaction the caller is in.
        self.wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
        self.wrapper.ensure_connection()
        self.conn: psycopg.Connection[Any] = self.wrapper.connection
        self.conn.autocommit = False
        self.conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.conn.read_only = True
        self._n = 0

    def close(self) -> None:
        self.conn.rollback()
        self.wrapper.close()

    def tables(self) -> set[str]:
        with self.conn.cursor() as c:
            c.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            return {r[0] for r in c.fetchall()}

    def applied(self) -> Migrations:
        with self.conn.cursor() as c:
            c.execute("SELECT app, name FROM django_migrations")
            return _applied(c.fetchall())

    def rows(self, table: Table) -> Iterator[tuple[Any, ...]]:
        self._n += 1
        with self.conn.cursor(name=f"gonghui_backup_{self._n}") as c:
            c.itersize = 2000
            c.execute(_select(table, self.wrapper.ops.quote_name))
            yield from c


@contextmanager
def snapshot() -> Iterator[Snapshot]:
    db = settings.DATABASES[DEFAULT_DB_ALIAS]
    engine = str(db["ENGINE"])
    snap: SqliteSnapshot | PostgresSnapshot
    if engine.endswith("sqlite3"):
        snap = SqliteSnapshot(str(db["NAME"]))
    elif engine.endswith("postgresql"):
        snap = PostgresSnapshot()
    else:
        raise BackupError(f"不支持的数据库：{engine}（支持 SQLite 和 PostgreSQL）。")
    try:
        yield snap
    finally:
        snap.close()


def _gonghui_version() -> str:
    try:
        return version("gonghui")
    except PackageNotFoundError:
        return ""


def _write_table(zf: zipfile.ZipFile, snap: Snapshot, table: Table) -> dict[str, Any]:
    encoders = [encoder(f) for f in table.fields]
    digest = hashlib.sha256()
    rows = 0
    with zf.open(f"{DATA_DIR}{table.name}.jsonl", "w", force_zip64=True) as out:
        for row in snap.rows(table):
            values = [enc(v) for enc, v in zip(encoders, row, strict=True)]
            # Keys sorted: PostgreSQL (jsonb) keeps an object's keys in an order of its own,
            # and the same data must give the same checksum on either engine.
            text = json.dumps(values, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            line = text.encode() + b"\n"
            digest.update(line)
            out.write(line)
            rows += 1
    return {
        "table": table.name,
        "model": table.model,
        "columns": table.columns,
        "rows": rows,
        "sha256": digest.hexdigest(),
    }


def media_files(root: Path) -> Iterator[tuple[str, Path]]:
    """``(relative posix path, file)`` of every file under ``root``, in name order."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(PARTIAL):
            yield path.relative_to(root).as_posix(), path


def _write_media(zf: zipfile.ZipFile, root: Path) -> list[dict[str, Any]]:
    entries = []
    for rel, path in media_files(root):
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as src, zf.open(f"{MEDIA_DIR}{rel}", "w", force_zip64=True) as out:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        entries.append({"path": rel, "size": size, "sha256": digest.hexdigest()})
    return entries


def write_backup(path: Path, progress: Progress = lambda _: None) -> Manifest:
    """Write a backup of the database and the media folder to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=PARTIAL, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            manifest = _write_all(zf, progress)
            zf.writestr(MANIFEST, manifest.to_json())
        os.chmod(tmp, 0o600)  # it holds the (encrypted) personal data of every member
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return manifest


def _write_all(zf: zipfile.ZipFile, progress: Progress) -> Manifest:
    with snapshot() as snap:
        created_at = dt.datetime.now(dt.UTC).isoformat()
        present = snap.tables()
        if "django_migrations" not in present:
            raise BackupError("数据库还没有建表（未运行过 gonghui migrate）：没有可备份的数据。")
        migrations = snap.applied()
        tables = tables_of(state_apps(migrations))
        missing = [t.name for t in tables if t.name not in present]
        if missing:
            raise BackupError("数据库与它记录的迁移不符，缺少表：" + "、".join(missing[:5]) + "。")
        entries = []
        for table in tables:
            entries.append(_write_table(zf, snap, table))
            progress(f"{table.name}：{entries[-1]['rows']} 行")
    media = _write_media(zf, Path(settings.MEDIA_ROOT))
    if media:
        progress(f"media/：{len(media)} 个文件")
    return Manifest(
        created_at=created_at,
        engine=snap.engine,
        migrations=migrations,
        tables=entries,
        media=media,
        checksum=data_checksum(entries, media),
        gonghui_version=_gonghui_version(),
    )


# -- scheduled backups ----------------------------------------------------------------

ROTATED_PREFIX = "gonghui-"
ROTATED_SUFFIX = ".zip"


def rotated_name(now: dt.datetime) -> str:
    return f"{ROTATED_PREFIX}{now:%Y%m%d-%H%M%S}{ROTATED_SUFFIX}"


def rotated_path(directory: Path, now: dt.datetime) -> Path:
    """A new timestamped file in ``directory`` (``gonghui-20261204-020000.zip``)."""
    path = directory / rotated_name(now)
    n = 1
    while path.exists():  # two backups within one second
        path = directory / f"{ROTATED_PREFIX}{now:%Y%m%d-%H%M%S}-{n}{ROTATED_SUFFIX}"
        n += 1
    return path


def _stamp(path: Path) -> tuple[str, int] | None:
    """``("20261204-020000", n)`` of a name :func:`rotated_path` makes, else None."""
    stem = path.name[len(ROTATED_PREFIX) : -len(ROTATED_SUFFIX)]
    stamp, sep, n = stem[:15], stem[15:16], stem[16:]
    if not (len(stamp) == 15 and stamp[:8].isdigit() and stamp[8] == "-" and stamp[9:].isdigit()):
        return None
    if (sep, n) != ("", "") and not (sep == "-" and n.isdigit()):
        return None
    return stamp, int(n or 0)


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete the timestamped backups of ``directory`` beyond the newest ``keep``; other
    files are never touched. Returns the deleted ones."""
    ours = sorted(
        (p for p in directory.glob(f"{ROTATED_PREFIX}*{ROTATED_SUFFIX}") if _stamp(p)),
        key=_stamp,  # type: ignore[arg-type]
    )
    old = ours[: max(len(ours) - keep, 0)]
    for p in old:
        p.unlink()
    return old
