"""The real server (``gonghui serve``) in a subprocess on loopback: it holds idle
connections, refuses an oversized upload unread, runs several workers and stops them all."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from .. import clirun

pytestmark = pytest.mark.own_database


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int

    def children(self) -> list[int]:
        """The worker processes (Linux: the kernel's list of the master's children)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def wait_for_workers(self, count: int) -> list[int]:
        """The workers, once ``count`` of them have started (the master forks them in turn)."""
        deadline = time.monotonic() + 30
        while len(found := self.children()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    def get(self, path: str, timeout: float = 10) -> tuple[int, float]:
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            status = conn.getresponse().status
        finally:
            conn.close()
        return status, time.monotonic() - started


def start(tmp_path: Path, *args: str) -> Server:
    environ = clirun.env(
        GONGHUI_DATA_DIR=str(tmp_path),
        GONGHUI_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        GONGHUI_WORKERS="2",
    )
    migrated = clirun.run("migrate", "--verbosity", "0", environ=environ, timeout=180)
    assert migrated.returncode == 0, migrated.stderr
    process = subprocess.Popen(
        [str(clirun.GONGHUI), "serve", "--port", "0", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # printed once the workers are being started
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not found:
        process.kill()
        raise AssertionError(f"{line}{process.stderr.read() if process.stderr else ''}")
    server = Server(process, int(found.group(1)))
    deadline = time.monotonic() + 60
    while True:  # until a worker answers
        try:
            if server.get("/accounts/login/")[0] == 200:
                return server
        except OSError:
            pass
        assert time.monotonic() < deadline, "服务未在 60 秒内响应"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(tmp_path_factory.mktemp("server"))
    yield running
    running.process.send_signal(signal.SIGINT)
    running.process.communicate(timeout=30)


def test_500_idle_connections_do_not_keep_others_from_the_login_page(server: Server) -> None:
    # Given 500 clients that connect and send nothing
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(500)]
    try:
        time.sleep(0.5)
        # When someone asks for the login page
        status, seconds = server.get("/accounts/login/", timeout=5)
    finally:
        for sock in idle:
            sock.close()
    # Then it comes at once
    assert status == 200
    assert seconds < 1, f"{seconds:.2f} s"


def _response(sock: socket.socket) -> bytes:
    """The status line, headers and body the server sends, however many reads they take
    (gunicorn may send the headers and the body in two segments)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _length(data: bytes) -> int:
    found = re.search(rb"(?im)^content-length:\s*(\d+)", data.partition(b"\r\n\r\n")[0])
    return int(found.group(1)) if found else 0


def test_an_upload_over_the_limit_is_refused_before_its_body_is_sent(server: Server) -> None:
    # Given a POST that announces a body past the upload limit and sends none of it
    too_big = settings.GONGHUI_IMPORT_MAX_BYTES + 3 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /imports/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            + f"Content-Length: {too_big}\r\n\r\n".encode()
        )
        # When the server answers (it must, without waiting for the body)
        answer = _response(sock).decode("utf-8", "replace")
    # Then it is a 413 that says what to do
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "上限" in answer


def test_an_upload_within_the_limit_reaches_the_application(server: Server) -> None:
    # A POST of ordinary size passes the limit and meets Django (here its CSRF check).
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(
        "POST",
        "/accounts/login/",
        body=b"username=a&password=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert conn.getresponse().status == 403
    conn.close()


def test_the_server_runs_the_workers_asked_for(server: Server) -> None:
    # GONGHUI_WORKERS=2: two worker processes under the master.
    assert len(server.wait_for_workers(2)) == 2


def test_ctrl_c_stops_every_worker(tmp_path: Path) -> None:
    # Given a server with three workers (--workers beats GONGHUI_WORKERS)
    running = start(tmp_path, "--workers", "3", "--threads", "2")
    workers = running.wait_for_workers(3)
    assert len(workers) == 3
    # When it gets Ctrl+C
    running.process.send_signal(signal.SIGINT)
    out, _ = running.process.communicate(timeout=30)
    # Then the master and all its workers are gone, and it said so
    assert "已停止" in out
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
