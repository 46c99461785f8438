"""What the benchmark scripts share: which database, the environment, Django's start.

Both scripts take ``--db sqlite|postgres``; ``GONGHUI_DATABASE_URL`` in the environment
wins over either. The keys are fixed bench values (the data is made up), so the
generator and the benchmark, and the ``gonghui report`` they start, agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("GONGHUI_BENCH_DIR", "/tmp/bench"))

URLS = {
    "sqlite": f"sqlite:///{BENCH_DIR / 'roster.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/gonghui_bench",
}

#: Logins the generator creates and the benchmark uses.
PASSWORD = "Bench#2026-roster"
CHAIR = "bench_chair"  # 主席 at the federation: all 100,000
OFFICER = "bench_officer"  # 分工会主席 of one branch
ADMIN = "bench_admin"  # superuser, for Django's admin
ROOT_CODE = "JCZGH"

BENCH_ENV = {
    "GONGHUI_SECRET_KEY": "bench-secret-key-not-for-production",
    "GONGHUI_ENCRYPTION_KEY": "YPh-UnEu2uo6PrDscDeCNGEfT9ci6RnpfECEeVPYHQs=",
    "GONGHUI_DATA_DIR": str(BENCH_DIR / "data"),
    # The test client sends Host: testserver.
    "GONGHUI_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "DJANGO_SETTINGS_MODULE": "gonghui.settings",
    # bench_roster compares with Django's admin, which is off unless asked for.
    "GONGHUI_ADMIN": "1",
}


def database_url(db: str) -> str:
    url = os.environ.get("GONGHUI_DATABASE_URL") or URLS[db]
    name = urlparse(url).path.lstrip("/")
    if url.startswith("postgres") and name in ("test", "postgres", ""):
        sys.exit(f"拒绝使用数据库「{name}」：基准测试请用自己的库，如 gonghui_bench。")
    return url


def configure(db: str) -> str:
    """Set the environment for ``db`` and start Django; return the database URL."""
    url = database_url(db)
    for key, value in BENCH_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["GONGHUI_DATABASE_URL"] = url
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return url


def subprocess_env(url: str) -> dict[str, str]:
    """The environment for a ``gonghui`` command run against the bench database."""
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in BENCH_ENV.items()}}
    env["GONGHUI_DATABASE_URL"] = url
    # As installed, Python keeps compiled modules; a sandbox that forbids writing them
    # would time compiling Django instead of the command. Kept outside the work tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(BENCH_DIR / "pycache")
    return env


def recreate_postgres(url: str) -> None:
    """Drop and create the bench database (never ``test`` or ``postgres``)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def largest_group(union: Any) -> Any:
    """The 工会小组 with the most members in ``union``'s subtree: each benchmark's third
    case, so that all three measure the same group."""
    from django.db.models import Count

    from gonghui.org.choices import UnionKind
    from gonghui.org.models import Union, subtree_q

    group = (
        Union.objects.filter(subtree_q(union.path), kind=UnionKind.GROUP)
        .annotate(n=Count("members"))
        .order_by("-n", "pk")
        .first()
    )
    assert group is not None, f"{union} has no groups"
    return group


def report_command(
    root: Any, period: Any, url: str, runs: int, timeout: float | None = None
) -> dict[str, Any]:
    """``gonghui report --format json`` for ``root`` and ``period``: the real command in a
    new process, ``runs`` times after one warm-up, and as many ``report --help`` (the
    time of starting Django). With ``timeout`` (s), PostgreSQL stops a query past it.
    ``{"cmd", "times", "startup", "facts"}`` in ms, or ``{"cmd", "failed"}``."""
    cmd = [sys.executable, "-m", "gonghui", "report", "--union", root.code]
    cmd += ["--from", period.start.isoformat(), "--to", period.end.isoformat()]
    cmd += ["--format", "json"]
    if timeout is not None and url.startswith("postgres"):
        # The settings' own options (jit=off) and the timeout, through the URL: libpq
        # takes the connection's ``options`` over PGOPTIONS.
        from django.conf import settings

        options = settings.DATABASES["default"].get("OPTIONS", {}).get("options", "")
        options += f" -c statement_timeout={int(timeout * 1000)}"
        url += ("&" if "?" in url else "?") + "options=" + quote(options.strip())
    env = subprocess_env(url)
    shown = " ".join(["gonghui", *cmd[3:]])
    times: list[float] = []
    startup: list[float] = []
    output = ""
    for i in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        elapsed = (time.perf_counter() - started) * 1000
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            return {"cmd": shown, "failed": f"failed after {elapsed / 1000:.0f} s: {last[:160]}"}
        output = done.stdout
        if i:
            times.append(elapsed)
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run([*cmd[:4], "--help"], env=env, capture_output=True, check=False)
        if i:
            startup.append((time.perf_counter() - started) * 1000)
    facts = {f["key"]: f["value"] for f in json.loads(output)["facts"]}
    return {"cmd": shown, "times": times, "startup": startup, "facts": facts}


def onto_roster(db: str) -> str:
    """For the generators that add to gen_roster's database: start Django, migrate, let
    SQLite take 32,766 parameters a statement (since 3.32, as gen_roster does), and stop
    with a message if there is no roster yet. Returns the database URL."""
    import sqlite3

    url = configure(db)
    from django.core.management import call_command
    from django.db import connection

    from gonghui.members.models import Member

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 32):
        connection.features.max_query_params = 32766
    if not Member.objects.exists():
        sys.exit(f"{url} 中没有会员：请先运行 bench/gen_roster.py --db {db}。")
    return url


def command_differs(command: dict[str, Any], in_process: dict[str, Any]) -> str:
    """A line for the table when ``report_command``'s figures are not the in-process ones
    (the same figure may print as 90.9 or "90.9", 0 or None)."""
    differ = [
        k
        for k, v in command.get("facts", {}).items()
        if k in in_process
        and str(v) != str(in_process[k])
        and float(v or 0) != float(in_process[k] or 0)
    ]
    return (
        f"\n**The command's figures differ from the in-process ones: {differ}**" if differ else ""
    )
