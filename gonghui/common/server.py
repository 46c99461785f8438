"""The web server of ``gonghui serve`` and ``gonghui demo``: gunicorn, several processes.

Why gunicorn with threads (``gthread``): its master process forks the workers onto one
listening socket, restarts a worker that dies and stops them all on Ctrl+C or SIGTERM;
each worker serves requests on a small thread pool while connections that wait (kept
alive, or opened and not yet sent) sit in the worker's poller, not in a thread. A
federation's few hundred users then share a handful of threads, and idle or slow
clients cost a file descriptor each, not a thread.

One exception in gunicorn's own gthread worker: it gives a *new* connection to a thread
straight away, which waits up to 5 s for the first bytes before giving it back to the
poller; a few hundred connections that open and say nothing then queue every real
request behind them. :class:`PollerFirstWorker` keeps a new connection in the poller
until it is readable, as kept-alive ones are, and closes it after the keep-alive time.
The test that opens 500 idle sockets covers it (it relies on gunicorn's worker
internals, hence the pinned major version).

Windows is not a target (gunicorn is for Unix).
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TextIO

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Seconds a kept-alive or newly opened connection may stay silent before it is closed.
KEEPALIVE_SECONDS = 15


class PollerFirstWorker(ThreadWorker):
    """gunicorn's gthread worker, with new connections waiting in the poller."""

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())  # non-blocking
        # The same deadline as a deferred connection's, so pending_conns stays in order
        # and the worker's own murder_pending() closes the silent ones.
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            client, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn)
        )


def body_limit(app: WSGIApp, max_bytes: int) -> WSGIApp:
    """Refuse a request whose declared body is over ``max_bytes`` before reading it.

    The answer comes from the Content-Length header alone, with ``Connection: close``,
    so the server neither reads nor keeps the body. A body without a length (chunked)
    is refused too: browsers always send the length of a form.
    """

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        try:
            too_large = int(length) > max_bytes if length else False
        except ValueError:
            too_large = True
        if too_large or chunked:
            status = "413 Content Too Large" if too_large else "411 Length Required"
            text = (
                f"上传的内容超过 {max_bytes // (1024 * 1024)} MB 的上限，未被接收。"
                "请把文件拆小后再上传。"
                if too_large
                else "请求缺少 Content-Length，未被接收。"
            )
            body = text.encode("utf-8")
            start_response(
                status,
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                ],
            )
            return [body]
        return app(environ, start_response)

    return wrapped


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before any worker starts (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Server(BaseApplication):
    def __init__(self, options: dict[str, Any], hooks: dict[str, Callable[..., Any]]) -> None:
        self.options = options
        self.hooks = hooks
        super().__init__()

    def load_config(self) -> None:
        for key, value in {**self.options, **self.hooks}.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        from django.conf import settings

        from gonghui.wsgi import application

        return body_limit(application, settings.GONGHUI_MAX_BODY_BYTES)


def _close_connections() -> None:
    # A database connection opened in the master (start-up checks) must not be shared
    # by the forked workers: each opens its own.
    from django.db import connections

    connections.close_all()


def _pre_fork(_arbiter: Any, _worker: Any) -> None:
    _close_connections()


def run(sock: socket.socket, *, workers: int, threads: int, stdout: TextIO, banner: str) -> None:
    """Serve on ``sock`` until Ctrl+C or SIGTERM; ``banner`` is printed once all is ready."""
    from django.conf import settings

    def when_ready(_arbiter: Any) -> None:
        _close_connections()
        stdout.write(banner + "\n")
        stdout.flush()

    def on_exit(_arbiter: Any) -> None:
        stdout.write("已停止。\n")
        stdout.flush()

    options = {
        "bind": [f"fd://{sock.fileno()}"],
        "workers": max(1, workers),
        "worker_class": "gonghui.common.server.PollerFirstWorker",
        "threads": max(1, threads),
        # Per worker: kept-alive and waiting connections together.
        "worker_connections": settings.GONGHUI_WORKER_CONNECTIONS,
        "keepalive": KEEPALIVE_SECONDS,
        # A worker's main loop reports every second even while its threads work, so this
        # only catches a worker that hangs as a whole; a long report is not cut short.
        "timeout": 120,
        "graceful_timeout": 10,
        # Django is loaded once in the master, so that a broken setting stops the start
        # with its message, and the workers share the loaded code.
        "preload_app": True,
        "control_socket_disable": True,
        "proc_name": "gonghui",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    hooks: dict[str, Callable[..., Any]] = {
        "when_ready": when_ready,
        "pre_fork": _pre_fork,
        "on_exit": on_exit,
    }
    _Server(options, hooks).run()
