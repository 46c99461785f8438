"""``gonghui serve``: run the workbench with gunicorn, several worker processes."""

from __future__ import annotations

import errno
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def add_server_arguments(parser: CommandParser) -> None:
    """The options ``serve`` and ``demo`` share."""
    parser.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机）")
    parser.add_argument(
        "--port", type=int, default=8000, help="端口（默认 8000；0 为任一空闲端口）"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"工作进程数（默认 GONGHUI_WORKERS，现为 {settings.GONGHUI_WORKERS}）",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help=f"每个进程的线程数（默认 GONGHUI_THREADS，现为 {settings.GONGHUI_THREADS}）",
    )


def serve(opts: dict[str, Any], stdout: Any, banner: Any = None) -> None:
    """Bind, then serve; ``banner(url)`` gives the lines printed once the server is up."""
    from gonghui.common import server
    from gonghui.common.imports.jobs import recover_orphans

    # Imports left busy by a process that is gone (killed, crashed) fail now, with their
    # uploads deleted, instead of showing 正在导入 forever.
    recovered = recover_orphans()
    if recovered:
        stdout.write(f"已把 {recovered} 个中断的导入标记为失败（未写入任何数据）。")
    host, port = opts["host"], opts["port"]
    workers = opts.get("workers") or settings.GONGHUI_WORKERS
    threads = opts.get("threads") or settings.GONGHUI_THREADS
    if workers < 1 or threads < 1:
        raise CommandError("--workers 和 --threads 至少为 1。")
    try:
        # Bind first, so that a port in use gets a clear message, and "started" is
        # printed only when it really is.
        sock = server.bind(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"端口 {port} 已被占用（可能已有一个工作台在运行）。"
                f"请换一个端口，例如加上 --port {port + 1}。"
            ) from None
        raise CommandError(f"无法在 {host}:{port} 上启动：{exc.strerror}。") from None
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/"
    lines = banner(url) if banner else []
    lines.append(f"工会工作台已启动：{url} （{workers} 个进程 × {threads} 个线程；Ctrl+C 退出）")
    server.run(sock, workers=workers, threads=threads, stdout=stdout, banner="\n".join(lines))


class Command(BaseCommand):
    help = "启动工会工作台（gunicorn，多进程）。"

    def add_arguments(self, parser: CommandParser) -> None:
        add_server_arguments(parser)

    def handle(self, *args: Any, **opts: Any) -> None:
        serve(opts, self.stdout)
