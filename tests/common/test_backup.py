"""``gonghui backup`` / ``gonghui restore``: round trips between SQLite and PostgreSQL that
keep every row and every report figure, and the refusals that write nothing.

The source is the demo (every app's records, 2,400 audit rows with content types) plus a
visit photo, built once per run and shared by the xdist workers. Each restore runs the
real console script on a database of its own; what a database holds is read back
through the models in a subprocess (``tests.common.backupdata``), independently of the
backup's own reading. PostgreSQL databases are ``gh_backup_<pid>_*``, dropped at the end.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gonghui.common import crypto
from tests import clirun

ROOT = Path(__file__).resolve().parents[2]
#: A valid Fernet key that is not the one the data was encrypted with.
OTHER_KEY = "Yiq0kHfO9PNaXeBuCN-aFFa1MPP6zeXaiKAFAq4JWk0="
PG = "postgres://postgres@127.0.0.1:5432/"

pytestmark = pytest.mark.own_database


def _env(data_dir: Path, url: str | None = None, **overrides: str | None) -> dict[str, str]:
    return clirun.env(GONGHUI_DATA_DIR=str(data_dir), GONGHUI_DATABASE_URL=url, **overrides)


def gonghui(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = clirun.run(*args, environ=environ, timeout=300)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


def held(environ: dict[str, str]) -> dict[str, Any]:
    """Every table's rows, the report JSON and the media files of a database."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.common.backupdata"],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def assert_same(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Equal, or the first differing table and row (not a diff of 9,000 rows)."""
    assert sorted(got["rows"]) == sorted(want["rows"])
    for table, rows in want["rows"].items():
        assert len(got["rows"][table]) == len(rows), table
        for a, b in zip(got["rows"][table], rows, strict=True):
            assert a == b, table
    assert got["report"] == want["report"]
    assert got["media"] == want["media"]


@dataclass
class Source:
    environ: dict[str, str]
    backup: Path
    held: dict[str, Any]


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """The demo plus a photo, its backup, and what it holds: built by the first worker,
    reused by the others (they share the base temp directory's parent)."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's base is popen-gwN inside the run's own directory.
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "backup-source"
    shared.mkdir(exist_ok=True)
    environ = _env(shared / "data")
    backup = shared / "sqlite.zip"
    with (shared / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "held.json").exists():
            gonghui("demo", "--no-serve", environ=environ)
            photo = subprocess.run(
                [sys.executable, "-m", "tests.common.backupdata", "--photo"],
                env=environ,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert photo.returncode == 0, photo.stderr
            gonghui("backup", str(backup), environ=environ)
            (shared / "held.json").write_text(json.dumps(held(environ)))
    return Source(environ, backup, json.loads((shared / "held.json").read_text()))


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[str], str]]:
    """Makes an empty PostgreSQL database of this run and returns its URL; skips when
    PostgreSQL is not reachable, except in CI, which must run these."""
    import psycopg

    try:
        admin = psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres",
            autocommit=True,
            connect_timeout=5,
        )
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL（127.0.0.1:5432，用户 postgres）连不上：{exc}"
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI 必须运行 PostgreSQL 的备份测试。{reason}", pytrace=False)
        pytest.skip(reason)
    names: list[str] = []

    def create(suffix: str) -> str:
        name = f"gh_backup_{os.getpid()}_{suffix}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return PG + name

    yield create
    for name in names:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _tables(db: Path) -> dict[str, int]:
    """Row counts of every table of a SQLite file (none when it does not exist)."""
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name != 'sqlite_sequence'"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _manifest(backup: Path) -> dict[str, Any]:
    with zipfile.ZipFile(backup) as zf:
        return json.loads(zf.read("manifest.json"))  # type: ignore[no-any-return]


def _rewrite(backup: Path, out: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    """A copy of ``backup`` with its members (name → bytes) changed by ``change``."""
    with zipfile.ZipFile(backup) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    change(members)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)


@pytest.fixture(scope="module")
def sqlite_target(source: Source, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    environ = _env(tmp_path_factory.mktemp("sqlite-target"))
    gonghui("restore", str(source.backup), environ=environ)
    return environ


def test_backup_holds_counts_checksums_schema_and_the_photo(source: Source) -> None:
    manifest = _manifest(source.backup)

    assert manifest["format"] == "gonghui-backup"
    assert manifest["engine"] == "sqlite"
    assert "0001_initial" in manifest["migrations"]["members"]
    counts = {t["table"]: t["rows"] for t in manifest["tables"]}
    assert counts["members_member"] == len(source.held["rows"]["members_member"])
    assert counts["common_auditentry"] > 2000
    assert "django_session" not in counts
    assert all(len(t["sha256"]) == 64 for t in manifest["tables"])
    assert [m["path"] for m in manifest["media"]] == list(source.held["media"])
    # Tables come after those they refer to.
    order = [t["table"] for t in manifest["tables"]]
    assert order.index("org_union") < order.index("members_member") < order.index("care_visit")


def test_backup_keeps_personal_numbers_encrypted(source: Source) -> None:
    manifest = _manifest(source.backup)
    members = next(t for t in manifest["tables"] if t["table"] == "members_member")
    at = members["columns"].index("id_number_enc")
    with zipfile.ZipFile(source.backup) as zf:
        everything = b"".join(zf.read(name) for name in zf.namelist())
        lines = zf.read("data/members_member.jsonl").decode().splitlines()
    numbers = [crypto.decrypt(json.loads(line)[at]) for line in lines[:50]]

    assert len(numbers) == 50
    assert all(len(n) == 18 for n in numbers)
    assert not [n for n in numbers if n.encode() in everything]


def test_sqlite_round_trip_keeps_every_row_report_figure_and_file(
    source: Source, sqlite_target: dict[str, str]
) -> None:
    assert_same(held(sqlite_target), source.held)


def test_sqlite_to_postgresql_to_postgresql_and_back_to_sqlite(
    source: Source, postgres: Callable[[str], str], tmp_path: Path
) -> None:
    # SQLite → PostgreSQL: the upgrade path.
    pg_source = _env(tmp_path / "pg-src", postgres("src"))
    gonghui("restore", str(source.backup), environ=pg_source)
    assert_same(held(pg_source), source.held)
    _assert_sequences_follow_the_rows(pg_source["GONGHUI_DATABASE_URL"])

    # PostgreSQL → its backup → PostgreSQL and → SQLite.
    backup = tmp_path / "pg.zip"
    gonghui("backup", str(backup), environ=pg_source)
    assert _manifest(backup)["engine"] == "postgresql"
    assert _manifest(backup)["checksum"] == _manifest(source.backup)["checksum"]
    pg_target = _env(tmp_path / "pg-dst", postgres("dst"))
    gonghui("restore", str(backup), environ=pg_target)
    assert_same(held(pg_target), source.held)
    sqlite_again = _env(tmp_path / "sqlite-again")
    gonghui("restore", str(backup), environ=sqlite_again)
    assert_same(held(sqlite_again), source.held)


def _assert_sequences_follow_the_rows(url: str) -> None:
    """New rows get ids after the restored ones (the identity sequences were reset)."""
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        for table, insert in [
            ("django_content_type", "(app_label, model) VALUES ('x', 'y')"),
            ("org_union", None),
        ]:
            top = conn.execute(f"SELECT max(id) FROM {table}").fetchone()
            assert top is not None
            if insert:
                new = conn.execute(f"INSERT INTO {table} {insert} RETURNING id").fetchone()
                assert new is not None and new[0] > top[0], table
            seq = conn.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')").fetchone()
            assert seq is not None
            last = conn.execute(f"SELECT last_value FROM {seq[0]}").fetchone()
            assert last is not None and last[0] >= top[0], table
        conn.rollback()


def test_restore_with_another_key_refuses_and_writes_nothing(
    source: Source, tmp_path: Path
) -> None:
    environ = _env(tmp_path, GONGHUI_ENCRYPTION_KEY=OTHER_KEY)

    result = clirun.run("restore", str(source.backup), environ=environ)

    assert result.returncode == 1
    assert "GONGHUI_ENCRYPTION_KEY" in result.stderr
    assert "解不开备份中的个人信息" in result.stderr
    assert _tables(tmp_path / "gonghui.sqlite3") == {}
    assert not (tmp_path / "media").exists()


def test_restore_refuses_a_database_that_is_not_empty(
    source: Source, sqlite_target: dict[str, str]
) -> None:
    db = Path(sqlite_target["GONGHUI_DATA_DIR"]) / "gonghui.sqlite3"
    before = _tables(db)

    refused = clirun.run("restore", str(source.backup), environ=sqlite_target)

    assert refused.returncode == 1
    assert "不是空的" in refused.stderr and "--force" in refused.stderr
    assert f"members_member {len(source.held['rows']['members_member'])} 行" in refused.stderr
    assert _tables(db) == before


def test_restore_force_says_what_it_replaces_and_replaces_it(
    source: Source, tmp_path: Path
) -> None:
    environ = _env(tmp_path)
    gonghui("restore", str(source.backup), environ=environ)
    with sqlite3.connect(tmp_path / "gonghui.sqlite3") as conn:
        conn.execute("UPDATE org_union SET name = '改过的名字' WHERE id = 1")

    unconfirmed = clirun.run("restore", "--force", str(source.backup), environ=environ)
    assert unconfirmed.returncode == 1
    assert "--yes" in unconfirmed.stderr
    forced = gonghui("restore", "--force", "--yes", str(source.backup), environ=environ)

    assert "将删除目标数据库" in forced.stdout and "org_union 32 行" in forced.stdout
    assert_same(held(environ), source.held)


def _inflated(backup: Path, out: Path, extra: int) -> dict[str, Any]:
    """``backup`` with ``extra`` more audit rows (copies of the first under new ids), so
    that writing them takes a while; manifest counts and checksums made to match."""
    import hashlib

    from gonghui.common.backup.format import data_checksum

    def change(members: dict[str, bytes]) -> None:
        name = "data/common_auditentry.jsonl"
        lines = members[name].splitlines()
        first = json.loads(lines[0])
        top = max(json.loads(line)[0] for line in lines)
        copies = [
            json.dumps([top + i, *first[1:]], ensure_ascii=False).encode()
            for i in range(1, extra + 1)
        ]
        members[name] = b"\n".join([*lines, *copies]) + b"\n"
        manifest = json.loads(members["manifest.json"])
        for entry in manifest["tables"]:
            if entry["table"] == "common_auditentry":
                entry["rows"] += extra
                entry["sha256"] = hashlib.sha256(members[name]).hexdigest()
        manifest["checksum"] = data_checksum(manifest["tables"], manifest["media"])
        members["manifest.json"] = json.dumps(manifest).encode()

    _rewrite(backup, out, change)
    return _manifest(out)


def test_restore_killed_midway_leaves_the_target_empty(source: Source, tmp_path: Path) -> None:
    big = tmp_path / "big.zip"
    manifest = _inflated(source.backup, big, extra=60_000)
    order = [t["table"] for t in manifest["tables"]]
    before_audit = order[order.index("common_auditentry") - 1]
    environ = _env(tmp_path / "target")
    db = tmp_path / "target" / "gonghui.sqlite3"

    # Killed once the transaction has written a table and is on to the 62,000 audit rows.
    restore = subprocess.Popen(
        [str(clirun.GONGHUI), "restore", str(big)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert restore.stdout is not None
    seen = []
    for line in restore.stdout:
        seen.append(line)
        if f"已写入 {before_audit}：" in line:
            restore.send_signal(signal.SIGKILL)
            break
    restore.wait(timeout=60)

    assert restore.returncode == -signal.SIGKILL, "".join(seen)
    assert any("已写入 org_union" in line for line in seen)
    left = _tables(db)
    assert left["django_migrations"] > 0
    assert {t: n for t, n in left.items() if n and t != "django_migrations"} == {}

    # The same restore again, to the end.
    gonghui("restore", str(big), environ=environ)
    after = _tables(db)
    assert {t: after[t] for t in order} == {t["table"]: t["rows"] for t in manifest["tables"]}


def test_a_corrupted_backup_is_refused(source: Source, tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"

    def change(members: dict[str, bytes]) -> None:
        name = "data/org_union.jsonl"
        members[name] = members[name].replace("滨江区".encode(), "滨海区".encode(), 1)

    _rewrite(source.backup, broken, change)

    result = clirun.run("restore", str(broken), environ=_env(tmp_path))

    assert result.returncode == 1
    assert "备份文件已损坏：org_union 的校验和" in result.stderr
    assert _tables(tmp_path / "gonghui.sqlite3") == {}


def test_a_backup_newer_than_the_code_is_refused(source: Source, tmp_path: Path) -> None:
    newer = tmp_path / "newer.zip"

    def change(members: dict[str, bytes]) -> None:
        manifest = json.loads(members["manifest.json"])
        manifest["migrations"]["members"].append("9999_from_a_later_gonghui")
        members["manifest.json"] = json.dumps(manifest).encode()

    _rewrite(source.backup, newer, change)

    result = clirun.run("restore", str(newer), environ=_env(tmp_path))

    assert result.returncode == 1
    assert "更新版本的 gonghui" in result.stderr
    assert "members.9999_from_a_later_gonghui" in result.stderr
    assert _tables(tmp_path / "gonghui.sqlite3") == {}


def _last_schema_migration() -> tuple[str, str, str]:
    """``(app, migration, its predecessor)``: a migration of ours that no other depends
    on and that only changes the schema, so that a database can be taken back before it
    without touching the rest."""
    from django.db import migrations as ops
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    for app, name in sorted(graph.leaf_nodes()):
        node = graph.node_map[(app, name)]
        parents = [p for p in node.parents if p.key[0] == app]
        migration = graph.nodes[(app, name)]
        code = (ops.RunPython, ops.RunSQL)
        if parents and not any(isinstance(op, code) for op in migration.operations):
            return app, name, parents[0].key[1]
    raise AssertionError("没有可退回的纯结构迁移")


def test_an_older_backup_is_restored_in_its_schema_then_migrated_forward(
    source: Source, tmp_path: Path
) -> None:
    # Given a copy of the demo one migration behind.
    app, latest, previous = _last_schema_migration()
    old = _env(tmp_path / "old")
    (tmp_path / "old").mkdir()
    with (
        sqlite3.connect(Path(source.environ["GONGHUI_DATA_DIR"]) / "gonghui.sqlite3") as src,
        sqlite3.connect(tmp_path / "old" / "gonghui.sqlite3") as dst,
    ):
        src.backup(dst)
    gonghui("migrate", app, previous, environ=old)
    backup = tmp_path / "old.zip"
    gonghui("backup", str(backup), environ=old)
    manifest = _manifest(backup)
    assert latest not in manifest["migrations"][app]
    target = _env(tmp_path / "target")

    result = gonghui("restore", str(backup), environ=target)

    assert "已把数据库迁移到本程序的当前版本" in result.stdout
    db = tmp_path / "target" / "gonghui.sqlite3"
    with sqlite3.connect(db) as conn:
        applied = set(conn.execute("SELECT app, name FROM django_migrations"))
    assert (app, latest) in applied
    got = held(target)
    assert got["report"] == source.held["report"]
    tables = [t["table"] for t in manifest["tables"]]
    assert {t: len(got["rows"][t]) for t in tables} == {
        t: len(source.held["rows"][t]) for t in tables
    }
