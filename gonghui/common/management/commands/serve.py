"""``gonghui serve``: run the workbench with waitress (a production-grade WSGI server)."""

from __future__ import annotations

import errno
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "启动工会工作台（waitress）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机）"
        )
        parser.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
        parser.add_argument("--threads", type=int, default=8, help="工作线程数（默认 8）")

    def handle(self, *args: Any, **opts: Any) -> None:
        from waitress.server import create_server

        from gonghui.common.imports.jobs import recover_orphans
        from gonghui.wsgi import application

        host, port = opts["host"], opts["port"]
        # Imports left busy by a process that is gone (killed, crashed) fail now, with
        # their uploads deleted, instead of showing 正在导入 forever.
        recovered = recover_orphans()
        if recovered:
            self.stdout.write(f"已把 {recovered} 个中断的导入标记为失败（未写入任何数据）。")
        try:
            # Bind first, so that "started" is printed only when it really is.
            server = create_server(
                application, host=host, port=port, threads=opts["threads"], ident="gonghui"
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandError(
                    f"端口 {port} 已被占用（可能已有一个工作台在运行）。"
                    f"请换一个端口，例如加上 --port {port + 1}。"
                ) from None
            raise CommandError(f"无法在 {host}:{port} 上启动：{exc.strerror}。") from None
        self.stdout.write(f"工会工作台已启动：http://{host}:{port}/ （Ctrl+C 退出）")
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write("已停止。")
