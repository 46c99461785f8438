"""``gonghui serve``: run the workbench with waitress (a production-grade WSGI server)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "启动工会工作台（waitress）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **opts: Any) -> None:
        from waitress import serve

        from gonghui.wsgi import application

        self.stdout.write(
            f"工会工作台已启动：http://{opts['host']}:{opts['port']}/ （Ctrl+C 退出）"
        )
        serve(
            application,
            host=opts["host"],
            port=opts["port"],
            threads=opts["threads"],
            ident="gonghui",
            _quiet=True,
        )
