"""``gonghui report --union NAME --from YYYY-MM-DD --to YYYY-MM-DD --format json``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gonghui.common.errors import ServiceError
from gonghui.common.reporting import Period
from gonghui.org.queries import find_union
from gonghui.reports.registry import compute, paragraphs


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"日期「{value}」格式不对，请写成 YYYY-MM-DD，如 2024-12-31。") from exc


class Command(BaseCommand):
    help = "计算工作报告中的各项数字（工会及其全部下级组织，指定期间）。"
    # A read-only command: skip the system checks (about 0.4 s of every run).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--union", required=True, help="工会名称或代码")
        parser.add_argument("--from", dest="start", required=True, help="开始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="结束日期 YYYY-MM-DD")
        parser.add_argument("--format", choices=["json"], default="json")
        parser.add_argument("-o", "--output", help="写入文件（默认输出到屏幕）")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            union = find_union(opts["union"])
        except ServiceError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        try:
            period = Period(_date(opts["start"]), _date(opts["end"]))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sections = compute(union, period)
        texts = paragraphs(union, period, sections)
        data = {
            "union": union.name,
            "union_code": union.code,
            "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
            "facts": [fact.as_json() for _, facts in sections for fact in facts],
            # The report's paragraphs, written from the figures above (and only from them).
            "sections": [
                {"key": s.key, "title": s.title, "paragraphs": texts.get(s.key, [])}
                for s, _ in sections
            ],
        }
        text = json.dumps(data, ensure_ascii=False, indent=2)
        if opts.get("output"):
            with open(opts["output"], "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(f"已写入 {opts['output']}")
        else:
            self.stdout.write(text)
