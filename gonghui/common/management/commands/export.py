"""``gonghui export KIND FILE [--union NAME] [--full-id]``: the same columns as the import.

身份证号 and 手机号 are masked unless ``--full-id`` is given; either way the export is
written to the audit log (the CLI acts as the system).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.common.errors import ServiceError
from gonghui.common.imports.columns import get_spec, kinds
from gonghui.common.imports.jobs import export_records
from gonghui.org.queries import find_union


class Command(BaseCommand):
    help = "导出表格，表头与导入模板相同，可改后再导入。"

    def add_arguments(self, parser: CommandParser) -> None:
        names = ", ".join(spec.kind for spec in kinds())
        parser.add_argument("kind", help=f"导出什么：{names}")
        parser.add_argument("file", help="写入的 .xlsx 文件")
        parser.add_argument("--union", help="只导出该工会（名称或代码）及其下级")
        parser.add_argument(
            "--full-id",
            action="store_true",
            help="写入完整的身份证号和手机号（默认脱敏）；会记入操作日志",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            spec = get_spec(opts["kind"])
        except LookupError:
            names = "、".join(s.kind for s in kinds())
            raise CommandError(
                f"不认识的导出类型「{opts['kind']}」，可选：{names}。", returncode=2
            ) from None
        union = None
        if opts.get("union"):
            try:
                union = find_union(opts["union"])
            except ServiceError as exc:
                raise CommandError(" ".join(exc.messages), returncode=2) from None
        path = Path(opts["file"])
        if path.suffix.lower() != ".xlsx":
            raise CommandError("导出文件名应以 .xlsx 结尾。", returncode=2)
        qs = spec.export_queryset(None, union)
        data, count = export_records(
            spec=spec,
            actor=None,
            qs=qs,
            root=union,
            full_pii=opts["full_id"],
            description="（命令行）",
        )
        path.write_bytes(data)
        what = ""
        if spec.kind == "members":
            what = "（含完整身份证号）" if opts["full_id"] else "（身份证号已脱敏）"
        self.stdout.write(f"已导出{spec.label} {count} 条到 {path}{what}。")
