"""``gonghui backup FILE`` or ``gonghui backup --dir DIR [--keep N]``: a backup of the
whole workbench while it runs (see ``gonghui.common.backup``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.common.backup.dump import rotate, rotated_path, write_backup
from gonghui.common.backup.format import BackupError


class Command(BaseCommand):
    help = (
        "备份数据库（一致的快照，服务运行时也可）和数据目录中的上传文件到一个 .zip 文件；"
        "身份证号、手机号保持加密。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="写入的备份文件（.zip）")
        parser.add_argument(
            "--dir", help="写入该目录，文件名带时间（gonghui-YYYYMMDD-HHMMSS.zip），用于定时备份"
        )
        parser.add_argument("--keep", type=int, help="与 --dir 同用：只保留最新的 N 份，更早的删除")

    def handle(self, *args: Any, **opts: Any) -> None:
        self.verbosity = int(opts["verbosity"])
        path = self._path(opts)
        try:
            manifest = write_backup(path, progress=self._progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest.counts.values())
        self.stdout.write(
            f"已备份到 {path}：{len(manifest.tables)} 张表，共 {rows} 行，"
            f"{len(manifest.media)} 个上传文件；校验和 sha256:{manifest.checksum}"
        )
        if opts["dir"] and opts["keep"] is not None:
            for old in rotate(Path(opts["dir"]), opts["keep"]):
                self.stdout.write(f"已删除较早的备份 {old}")

    def _path(self, opts: dict[str, Any]) -> Path:
        if bool(opts["file"]) == bool(opts["dir"]):
            raise CommandError("请给出备份文件名，或用 --dir 指定目录（二者选一）。", returncode=2)
        if opts["keep"] is not None and (not opts["dir"] or opts["keep"] < 1):
            raise CommandError("--keep N 须与 --dir 同用，且 N 至少为 1。", returncode=2)
        if opts["dir"]:
            return rotated_path(Path(opts["dir"]), dt.datetime.now())
        path = Path(opts["file"])
        if path.suffix.lower() != ".zip":
            raise CommandError("备份文件名应以 .zip 结尾。", returncode=2)
        return path

    def _progress(self, line: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(f"  {line}")
            self.stdout.flush()
