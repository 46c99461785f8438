"""``gonghui import KIND FILE [--union NAME] [--dry-run] [--no-create]``: the web
import's engine.

Exit status: 0 when every row was written (or, with ``--dry-run``, would be); 1 when
some rows have errors (nothing is written, the errors are printed in Chinese); 2 when
the file cannot be read at all or the arguments are wrong.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.common.errors import ServiceError
from gonghui.common.imports.columns import get_spec, kinds
from gonghui.common.imports.engine import run_import
from gonghui.common.imports.jobs import heartbeat, new_record
from gonghui.common.imports.progress import Progress, StreamProgress
from gonghui.common.imports.xlsx import marked_file
from gonghui.org.queries import find_union

#: Errors printed; the rest are counted (the full list is on the import record).
MAX_PRINTED = 200


class Command(BaseCommand):
    help = (
        "导入表格（会员名册 members、组织架构 unions、慰问 visits 等）：全部正确才写入，"
        "否则一行也不写。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        names = ", ".join(spec.kind for spec in kinds())
        parser.add_argument("kind", help=f"导入什么：{names}")
        parser.add_argument("file", help=".xlsx、.xls 或 .csv 文件")
        parser.add_argument(
            "--union",
            help="默认的工会（名称或代码）：「所属工会」留空的行归入它，且只能导入到它之下",
        )
        parser.add_argument("--dry-run", action="store_true", help="只检查并预览，不写入")
        parser.add_argument(
            "--no-create",
            action="store_true",
            help="表中写到系统里还没有的捐款活动、活动或兴趣小组时报错，而不是随导入新建",
        )
        parser.add_argument("--quiet", action="store_true", help="不显示进度")
        parser.add_argument(
            "--marked",
            metavar="FILE",
            help="有错误时，把标出错误单元格（红底加批注）的文件写到这里",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            spec = get_spec(opts["kind"])
        except LookupError:
            names = "、".join(s.kind for s in kinds())
            raise CommandError(
                f"不认识的导入类型「{opts['kind']}」，可选：{names}。", returncode=2
            ) from None
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}", returncode=2)
        union = None
        if opts.get("union"):
            try:
                union = find_union(opts["union"])
            except ServiceError as exc:
                raise CommandError(" ".join(exc.messages), returncode=2) from None
        record = new_record(
            spec=spec,
            actor=None,
            union=union,
            file_name=path.name,
            file_size=path.stat().st_size,
            source="cli",
            dry_run=opts["dry_run"],
        )
        # The raw stream under Django's wrapper: progress lines carry their own endings.
        stream = getattr(self.stderr, "_out", sys.stderr)
        progress: Progress = Progress() if opts["quiet"] else StreamProgress(stream)
        started = time.monotonic()
        # Signs of life, so that a server starting meanwhile does not take it for crashed.
        with heartbeat(record.pk):
            result = run_import(
                spec=spec,
                path=path,
                file_name=path.name,
                actor=None,
                default_union=union,
                commit=not opts["dry_run"],
                progress=progress,
                record=record,
                create_missing=not opts["no_create"],
            )
        progress.finish()
        elapsed = time.monotonic() - started
        if result.problem:
            self.stderr.write(f"无法导入（导入记录 #{record.pk}）：{result.problem}")
            raise CommandError("未写入任何数据。", returncode=2)
        for notice in result.notices:
            self.stderr.write(notice)
        plan = result.plan
        assert plan is not None
        if result.errors:
            self.stderr.write(
                f"发现 {len(result.errors)} 处错误，未写入任何数据（导入记录 #{record.pk}）："
            )
            for error in result.errors[:MAX_PRINTED]:
                self.stderr.write("  " + error.text())
            if len(result.errors) > MAX_PRINTED:
                self.stderr.write(f"  ……另有 {len(result.errors) - MAX_PRINTED} 处错误")
            if opts.get("marked") and result.layout is not None:
                layout = result.layout
                data = marked_file(
                    path,
                    file_format=layout.format,
                    sheet_name=layout.sheet,
                    errors=result.errors,
                    first_col=min(layout.columns.values(), default=0),
                )
                Path(opts["marked"]).write_bytes(data)
                self.stderr.write(f"已把标出错误的文件写到 {opts['marked']}")
            raise CommandError("请改正后重新导入。", returncode=1)
        counts = f"新增 {plan.created}，修改 {plan.updated}，未变 {plan.unchanged}"
        for warning in plan.warnings:
            self.stdout.write(f"  注意：{warning}")
        if opts["dry_run"]:
            self.stdout.write(f"检查通过（未写入）：共 {plan.total} 行，{counts}。")
            for line in plan.creates:
                self.stdout.write(f"  将新建{line}")
            for sample in plan.samples:
                changes = "；".join(
                    f"{label}：{old or '（空）'} → {new or '（空）'}"
                    for label, old, new in sample["changes"]
                )
                self.stdout.write(f"  第{sample['row']}行 {sample['name']}：{changes}")
            self.stdout.write(f"导入记录 #{record.pk}")
            return
        self.stdout.write(
            f"已导入{spec.label}：共 {plan.total} 行，{counts}（导入记录 #{record.pk}，用时 {elapsed:.1f} 秒）。"
        )
        for line in plan.creates:
            self.stdout.write(f"  已新建{line}")
