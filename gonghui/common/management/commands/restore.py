"""``gonghui restore FILE [--force [--yes]]``: a backup into an empty database (see
``gonghui.common.backup.load``)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.common.backup.format import Archive, BackupError
from gonghui.common.backup.load import Target, restore


class Command(BaseCommand):
    help = (
        "从 gonghui backup 的备份文件恢复到空数据库（SQLite 与 PostgreSQL 之间也可）："
        "先检查校验和、版本和加密密钥，再在一个事务中写入全部数据。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="备份文件（.zip）")
        parser.add_argument(
            "--force", action="store_true", help="目标数据库不是空的时，用备份替换其中的全部数据"
        )
        parser.add_argument("--yes", action="store_true", help="与 --force 同用：不再询问确认")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.verbosity = int(opts["verbosity"])
        self._yes = opts["yes"]
        try:
            archive = Archive(opts["file"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        m = archive.manifest
        self.stdout.write(
            f"备份：{m.created_at}，来自 {m.engine}，{len(m.tables)} 张表，"
            f"{sum(m.counts.values())} 行，{len(m.media)} 个上传文件。"
        )
        try:
            done = restore(
                archive, force=opts["force"], confirm=self._confirm, progress=self._progress
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        finally:
            archive.close()
        for table, n in done.counts.items():
            self.stdout.write(f"  {table}：{n} 行")
        self.stdout.write(
            f"已恢复：{len(done.counts)} 张表，共 {sum(done.counts.values())} 行，"
            f"{done.media} 个上传文件（抽查 {done.key_checked} 个加密字段，均可用当前密钥解密）。"
        )
        if done.migrated_forward:
            self.stdout.write("备份来自较早的版本：已把数据库迁移到本程序的当前版本。")

    def _confirm(self, target: Target) -> bool:
        self.stdout.write(
            f"将删除目标数据库 {target.name} 中的全部数据（{target.describe()}），"
            "换成备份中的数据。"
        )
        if self._yes:
            return True
        if not sys.stdin.isatty():
            raise CommandError("非交互运行时确认替换请加 --yes。未做任何改动。")
        return input("确认替换请输入 yes：").strip().lower() == "yes"

    def _progress(self, line: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(f"  {line}")
            self.stdout.flush()
