"""``gonghui backup`` in-process on the suite's database (SQLite or PostgreSQL): the
snapshot ignores a write still in progress without waiting for it, and ``--dir --keep``
keeps the newest N timestamped backups and nothing else of its own."""

from __future__ import annotations

import io
import json
from pathlib import Path

from django.core.management import call_command

from gonghui.common.backup.dump import write_backup
from gonghui.common.backup.format import Archive
from gonghui.org.choices import UnionKind
from tests import factories as f


def test_backup_reads_a_snapshot_without_waiting_for_an_open_write(
    db: None, tmp_path: Path
) -> None:
    # Given a write in progress: this test's transaction, not committed.
    f.union("尚未提交的工会", UnionKind.FEDERATION, None, code="WTJ")

    manifest = write_backup(tmp_path / "b.zip")

    archive = Archive(str(tmp_path / "b.zip"))
    archive.verify()
    names = [json.dumps(row, ensure_ascii=False) for row in archive.rows("org_union")]
    assert manifest.counts["org_union"] == len(names)
    assert not [n for n in names if "尚未提交的工会" in n]


def _backup(directory: Path, keep: int) -> str:
    out = io.StringIO()
    call_command("backup", dir=str(directory), keep=keep, stdout=out, verbosity=0)
    return out.getvalue()


def test_backup_dir_keep_deletes_the_oldest_timestamped_backups_only(
    db: None, tmp_path: Path
) -> None:
    old = [
        "gonghui-20000101-020000.zip",
        "gonghui-20010101-020000.zip",
        "gonghui-20020101-020000.zip",
    ]
    for name in old:
        (tmp_path / name).write_bytes(b"old")
    others = ["notes.txt", "gonghui-manual.zip", "gonghui-20020101-020000.zip.bak"]
    for name in others:
        (tmp_path / name).write_bytes(b"not ours")

    first_out = _backup(tmp_path, keep=2)
    (first,) = {p.name for p in tmp_path.iterdir()} - {*old, *others}
    second_out = _backup(tmp_path, keep=2)  # maybe within the same second

    (second,) = {p.name for p in tmp_path.iterdir()} - {*old, *others, first}
    assert {p.name for p in tmp_path.iterdir()} == {first, second, *others}
    assert "已删除较早的备份" in first_out and "gonghui-20010101-020000.zip" in first_out
    assert "gonghui-20020101-020000.zip" in second_out
    Archive(str(tmp_path / second)).verify()
