"""Restoring a backup into an empty database.

Everything that can refuse is checked before anything is written: the checksums, the
schema version (a backup newer than the code is refused), that the encryption key in
force decrypts a sample of the personal numbers, and that the target is empty (or
``--force``). Then the target is migrated to the backup's own schema, the media files
are put in place, and every row is written in one transaction, so that a restore killed
half-way leaves the database as empty as it was (only the tables migrate made).
Last, a backup older than the code is migrated forward like any database.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.exceptions import IrreversibleError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from gonghui.common import crypto

from .dump import PARTIAL, media_files
from .format import (
    MEDIA_DIR,
    MIGRATE_FILLS,
    Archive,
    BackupError,
    Migrations,
    Table,
    decoder,
    state_apps,
    tables_of,
)

Progress = Callable[[str], None]

#: Encrypted values decrypted from each end of each encrypted table before writing.
KEY_SAMPLE = 20
#: Rows per INSERT batch.
BATCH = 1000
#: Tables whose rows do not make a database "not empty".
NOT_DATA = frozenset({"django_migrations", "django_session", *MIGRATE_FILLS})


@dataclass
class Target:
    """What the database (and media folder) to restore into holds now."""

    name: str
    tables: set[str]
    applied: Migrations
    rows: dict[str, int] = field(default_factory=dict)
    media: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rows and not self.media

    def describe(self) -> str:
        parts = [f"{t} {n} 行" for t, n in sorted(self.rows.items())]
        if self.media:
            parts.append(f"media/ 中 {len(self.media)} 个与备份不同的文件")
        return "、".join(parts)


def _connection() -> Any:
    return connections[DEFAULT_DB_ALIAS]


def _quote(name: str) -> str:
    return str(_connection().ops.quote_name(name))


# -- checks ---------------------------------------------------------------------------


def check_backup(archive: Archive) -> list[Table]:
    """The backup's tables, after checking its checksums and that the code knows its
    schema; BackupError otherwise."""
    archive.verify()
    m = archive.manifest
    by_name = {t.name: t for t in tables_of(state_apps(m.migrations))}
    tables = []
    for entry in m.tables:
        table = by_name.pop(entry["table"], None)
        if table is None or table.columns != entry["columns"]:
            raise BackupError(f"备份中 {entry['table']} 的列与它记录的迁移不符，无法恢复。")
        tables.append(table)
    if by_name:
        raise BackupError("备份缺少这些表：" + "、".join(sorted(by_name)) + "。")
    return tables


def _encrypted_samples(archive: Archive, table: Table) -> Iterator[tuple[str, str]]:
    where = [i for i, c in enumerate(table.columns) if c.endswith("_enc")]
    if not where:
        return
    first: list[tuple[str, str]] = []
    last: deque[tuple[str, str]] = deque(maxlen=KEY_SAMPLE)
    for row in archive.rows(table.name):
        for i in where:
            if row[i]:
                value = (table.columns[i], row[i])
                (first if len(first) < KEY_SAMPLE else last).append(value)
    yield from first
    yield from last


def check_key(archive: Archive, tables: list[Table]) -> int:
    """Decrypt a sample of the stored 身份证号/手机号 (the ``*_enc`` columns) with the key in
    force; BackupError naming GONGHUI_ENCRYPTION_KEY when it cannot. Returns how many."""
    checked = 0
    for table in tables:
        for column, token in _encrypted_samples(archive, table):
            try:
                crypto.decrypt(token)
            except ImproperlyConfigured as exc:
                raise BackupError(
                    f"当前的加密密钥解不开备份中的个人信息（{table.name}.{column}）：{exc}"
                    "请把环境变量 GONGHUI_ENCRYPTION_KEY 设为做备份时所用的密钥"
                    "（换过密钥的，把新旧密钥都列出，新的在前、逗号分隔）后再恢复。"
                    "目标数据库未做任何改动。"
                ) from exc
            checked += 1
    return checked


def _media_path(rel: str) -> Path:
    parts = PurePosixPath(rel).parts
    if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
        raise BackupError(f"备份中的文件名 {rel!r} 不安全，拒绝恢复。")
    return Path(settings.MEDIA_ROOT).joinpath(*parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def inspect_target(archive: Archive) -> Target:
    """The target's tables, applied migrations, data rows and conflicting media files."""
    connection = _connection()
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        rows = {}
        for table in sorted(tables - NOT_DATA):
            cursor.execute(f"SELECT count(*) FROM {_quote(table)}")
            if n := cursor.fetchone()[0]:
                rows[table] = n
    applied: Migrations = {}
    if "django_migrations" in tables:
        for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
            applied.setdefault(app, []).append(name)
    stored = {e["path"]: e["sha256"] for e in archive.manifest.media}
    media = [
        rel
        for rel, path in media_files(Path(settings.MEDIA_ROOT))
        if stored.get(rel) != _sha256(path)
    ]
    return Target(str(connection.settings_dict["NAME"]), tables, applied, rows, media)


# -- writing --------------------------------------------------------------------------


def _leaves(migrations: Migrations, executor: MigrationExecutor) -> list[tuple[str, str | None]]:
    graph = executor.loader.graph
    targets: list[tuple[str, str | None]] = []
    for app in sorted(executor.loader.migrated_apps):
        nodes = {(app, n) for n in migrations.get(app, [])}
        if not nodes:
            targets.append((app, None))
            continue
        for node in sorted(nodes):
            if not any(child in nodes for child in graph.node_map[node].children):
                targets.append(node)
    return targets


def migrate_to(migrations: Migrations) -> bool:
    """Bring the target's schema to the backup's migrations; True when anything ran."""
    connection = _connection()
    executor = MigrationExecutor(connection)
    targets = _leaves(migrations, executor)
    plan = executor.migration_plan(targets)
    if not plan:
        return False
    try:
        executor.migrate(targets, plan=plan)
    except IrreversibleError as exc:
        raise BackupError(
            f"目标数据库的结构比备份新，且无法退回到备份的版本（{exc}）。"
            "请恢复到一个新建的空数据库。"
        ) from exc
    return True


def flush(tables: set[str]) -> None:
    """Delete every row of ``tables`` (but the migration records), in one transaction."""
    with transaction.atomic(), _connection().cursor() as cursor:
        for table in sorted(tables - {"django_migrations"}):
            cursor.execute(f"DELETE FROM {_quote(table)}")


def put_media(archive: Archive, progress: Progress) -> int:
    """Copy the backup's media files into the media folder; each file is written under
    a temporary name and renamed, so a file of the final name is always whole."""
    written = 0
    for entry in archive.manifest.media:
        path = _media_path(entry["path"])
        if path.exists() and _sha256(path) == entry["sha256"]:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + PARTIAL)
        with archive.open(f"{MEDIA_DIR}{entry['path']}") as src, tmp.open("wb") as out:
            while chunk := src.read(1 << 20):
                out.write(chunk)
        os.replace(tmp, path)
        written += 1
    if written:
        progress(f"media/：{written} 个文件")
    return written


def _insert(cursor: Any, archive: Archive, table: Table) -> int:
    connection = _connection()
    decoders = [decoder(f, connection) for f in table.fields]
    cols = ", ".join(_quote(c) for c in table.columns)
    marks = ", ".join(["%s"] * len(table.columns))
    sql = f"INSERT INTO {_quote(table.name)} ({cols}) VALUES ({marks})"
    written = 0
    batch: list[list[Any]] = []
    for row in archive.rows(table.name):
        batch.append([dec(v) for dec, v in zip(decoders, row, strict=True)])
        if len(batch) >= BATCH:
            cursor.executemany(sql, batch)
            written += len(batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)
        written += len(batch)
    return written


def _reset_sequences(cursor: Any, tables: list[Table]) -> None:
    connection = _connection()
    if connection.vendor == "postgresql":
        models = [t.cls for t in tables if t.cls is not None]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    elif connection.vendor == "sqlite":
        # AUTOINCREMENT remembers the largest id ever used, also of rows just deleted.
        for t in tables:
            cursor.execute(
                f"UPDATE sqlite_sequence SET seq = (SELECT coalesce(max({_quote(t.pk)}), 0)"
                f" FROM {_quote(t.name)}) WHERE name = %s",
                [t.name],
            )


def write_rows(archive: Archive, tables: list[Table], progress: Progress) -> dict[str, int]:
    """Replace every row of the backup's tables by the backup's, in one transaction."""
    connection = _connection()
    restored: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        present = set(connection.introspection.table_names(cursor))
        # Rows migrate made (content types, permissions) give way to the backup's, whose
        # ids the audit log and the permission tables refer to; sessions of another
        # database's users must not survive either. Foreign keys are checked at commit.
        for table in [*reversed(tables), Table("django_session", "", [])]:
            if table.name in present:
                cursor.execute(f"DELETE FROM {_quote(table.name)}")
        for table in tables:
            restored[table.name] = _insert(cursor, archive, table)
            progress(f"已写入 {table.name}：{restored[table.name]} 行")
        _reset_sequences(cursor, tables)
    return restored


def migrate_forward() -> bool:
    """Apply the code's migrations the backup did not have; True when any ran."""
    executor = MigrationExecutor(_connection())
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return False
    call_command("migrate", interactive=False, verbosity=0)
    return True


@dataclass
class Restored:
    counts: dict[str, int]
    media: int
    migrated_forward: bool
    key_checked: int


def restore(
    archive: Archive,
    *,
    force: bool = False,
    confirm: Callable[[Target], bool] = lambda _: False,
    progress: Progress = lambda _: None,
) -> Restored:
    """Restore ``archive`` into the configured database; see the module's docstring."""
    tables = check_backup(archive)
    checked = check_key(archive, tables)
    target = inspect_target(archive)
    if not target.empty:
        if not force:
            raise BackupError(
                f"目标数据库 {target.name} 不是空的（{target.describe()}）。恢复只写入空数据库；"
                "确要用备份替换其中的全部数据，请加 --force。"
            )
        if not confirm(target):
            raise BackupError("已取消，未做任何改动。")
    if target.applied != archive.manifest.migrations:
        if target.rows:
            flush(target.tables)
        migrate_to(archive.manifest.migrations)
    media = put_media(archive, progress)
    counts = write_rows(archive, tables, progress)
    expected = archive.manifest.counts
    if counts != expected:  # (the checksums make this unreachable short of a bug)
        raise BackupError(f"写入的行数与备份不符：{counts} ≠ {expected}")
    return Restored(counts, media, migrate_forward(), checked)
