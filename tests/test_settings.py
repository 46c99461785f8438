"""Settings from GONGHUI_* variables: loud failures, the demo's own keys, SQLite tuned for
several writers at once (and proven with two processes writing together)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import gonghui.settings as configured

from . import clirun

SHOW_KEYS = "import gonghui.settings as s; print(s.SECRET_KEY); print(','.join(s.ENCRYPTION_KEYS))"


def _bare_env(data_dir: Path, **extra: str | None) -> dict[str, str]:
    """No keys in the environment, an empty data folder."""
    overrides: dict[str, str | None] = {
        "GONGHUI_SECRET_KEY": None,
        "GONGHUI_ENCRYPTION_KEY": None,
        "GONGHUI_DEMO_MODE": None,
        "GONGHUI_DATA_DIR": str(data_dir),
        **extra,
    }
    return clirun.env(**overrides)


@pytest.mark.own_database
def test_a_start_without_a_secret_key_stops_with_a_chinese_message(tmp_path: Path) -> None:
    environ = _bare_env(tmp_path)

    imported = clirun.python("import gonghui.settings", environ=environ)
    assert imported.returncode != 0
    assert "ImproperlyConfigured: 未设置 GONGHUI_SECRET_KEY" in imported.stderr
    assert "gonghui demo" in imported.stderr

    # The console script says the same without a traceback, and exits 2.
    script = clirun.run("check", environ=environ)
    assert script.returncode == 2
    assert script.stderr.startswith("配置错误：未设置 GONGHUI_SECRET_KEY")
    assert "Traceback" not in script.stderr
    assert list(tmp_path.iterdir()) == []  # nothing was made up

    only_secret = clirun.python(
        "import gonghui.settings", environ={**environ, "GONGHUI_SECRET_KEY": "s3cret"}
    )
    assert "未设置 GONGHUI_ENCRYPTION_KEY" in only_secret.stderr


@pytest.mark.own_database
def test_the_demo_makes_its_keys_once_and_keeps_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    demo = _bare_env(data, GONGHUI_DEMO_MODE="1")

    first = clirun.python(SHOW_KEYS, environ=demo)
    assert first.returncode == 0, first.stderr
    second = clirun.python(SHOW_KEYS, environ=demo)
    # A later start outside the demo finds them too.
    later = clirun.python(SHOW_KEYS, environ=_bare_env(data))

    assert first.stdout == second.stdout == later.stdout
    secret, key = first.stdout.split()
    assert len(secret) >= 50
    Fernet(key.encode())  # a valid Fernet key
    for name in ("secret_key", "encryption_key"):
        path = data / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (data / "secret_key").read_text(encoding="utf-8") == secret


def test_variables_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n", encoding="utf-8")
    monkeypatch.setenv("GONGHUI_SECRET_KEY_FILE", str(secret))
    assert configured.env("SECRET_KEY") == "from-a-file"

    monkeypatch.setenv("GONGHUI_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured) as exc:
        configured.env("SECRET_KEY")
    assert "无法读取" in str(exc.value)


@pytest.mark.parametrize("value", ["maybe", "2", "是"])
def test_a_bad_debug_value_is_explained(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GONGHUI_DEBUG", value)
    with pytest.raises(ImproperlyConfigured) as exc:
        configured.env_bool("DEBUG")
    assert str(exc.value) == f"GONGHUI_DEBUG={value!r} 不是布尔值，请写 1/0 或 true/false。"


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), ("off", False)])
def test_debug_values(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("GONGHUI_DEBUG", value)
    assert configured.env_bool("DEBUG") is expected


@pytest.mark.own_database
def test_a_bad_debug_value_stops_the_start(tmp_path: Path) -> None:
    result = clirun.python(
        "import gonghui.settings",
        environ=clirun.env(GONGHUI_DEBUG="maybe", GONGHUI_DATA_DIR=str(tmp_path)),
    )
    assert result.returncode != 0
    assert "GONGHUI_DEBUG='maybe' 不是布尔值，请写 1/0 或 true/false。" in result.stderr


def test_bad_numbers_and_database_urls_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGHUI_LOGIN_MAX_FAILURES", "five")
    with pytest.raises(ImproperlyConfigured) as exc:
        configured.env_int("LOGIN_MAX_FAILURES", 5)
    assert "不是整数" in str(exc.value)

    monkeypatch.setenv("GONGHUI_DATABASE_URL", "oracle-ish://somewhere/db")
    with pytest.raises(ImproperlyConfigured) as exc:
        configured._database()
    assert "无法识别：请写 sqlite:////绝对路径.sqlite3 或 postgres://" in str(exc.value)


def test_zh_hans_and_shanghai() -> None:
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ


def test_sqlite_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGHUI_DATABASE_URL", f"sqlite:///{tmp_path / 'x' / 'db.sqlite3'}")
    config = configured._database()
    options = config["OPTIONS"]
    assert isinstance(options, dict)
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]
    assert "busy_timeout" in options["init_command"]
    assert (tmp_path / "x").is_dir()  # the folder is made so SQLite can create the file


PRAGMAS = """
import json, sqlite3
import django
django.setup()
from django.db import connection, transaction
with connection.cursor() as c:
    pragmas = {p: c.execute(f"PRAGMA {p}").fetchone()[0]
               for p in ("journal_mode", "busy_timeout", "synchronous")}
# IMMEDIATE: an atomic block takes the write lock at BEGIN, before any write, so another
# writer queues at once instead of failing later on a lock upgrade.
other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
with transaction.atomic():
    connection.cursor().execute("SELECT 1")
    try:
        other.execute("BEGIN IMMEDIATE")
        pragmas["locked_inside_atomic"] = False
        other.rollback()
    except sqlite3.OperationalError as exc:
        pragmas["locked_inside_atomic"] = "locked" in str(exc)
other.execute("BEGIN IMMEDIATE")
other.rollback()
print(json.dumps(pragmas))
"""


@pytest.mark.own_database
def test_a_real_sqlite_file_runs_in_wal_with_immediate_transactions(tmp_path: Path) -> None:
    environ = clirun.env(
        GONGHUI_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        GONGHUI_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="gonghui.settings",
    )
    result = clirun.python(PRAGMAS, environ=environ)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "journal_mode": "wal",
        "busy_timeout": 20000,
        "synchronous": 1,  # NORMAL: safe in WAL, and much faster than FULL
        "locked_inside_atomic": True,
    }


WRITER = """
import os, time
from pathlib import Path
from gonghui.common.validators import with_check_digit
from gonghui.members.services import member_create
from gonghui.org.models import Union
from gonghui.org.services import union_create

seed, flags = int(os.environ["SEED"]), Path(os.environ["FLAGS"])
if seed == 1:  # the first writer builds the database, the second waits for it
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    school = union_create(actor=None, name="第一中学工会", kind="union", parent=None, code="YZ")
    for name in ("高中部分工会", "初中部分工会"):
        union_create(actor=None, name=name, kind="branch", parent=school)
else:
    while not (flags / "ready-1").exists():
        time.sleep(0.01)
branch = Union.objects.get(name=os.environ["BRANCH"])
(flags / f"ready-{seed}").touch()
while not (flags / "go").exists():
    time.sleep(0.005)
for i in range(int(os.environ["COUNT"])):
    member_create(actor=None, union=branch, name=f"会员{seed}-{i}", phone=f"13{seed}{i:08d}",
                  id_number=with_check_digit(f"33010{seed}19800101{i:03d}"))
print("done")
"""


@pytest.mark.own_database
def test_two_processes_writing_at_once_both_succeed_with_distinct_cards(tmp_path: Path) -> None:
    # Without IMMEDIATE transactions one of them fails with "database is locked": each
    # registration reads (duplicate checks) before it writes (the card counter).
    db = tmp_path / "db.sqlite3"
    environ = clirun.env(GONGHUI_DATABASE_URL=f"sqlite:///{db}", GONGHUI_DATA_DIR=str(tmp_path))
    count = 20
    writers = [
        subprocess.Popen(
            [str(clirun.GONGHUI), "shell", "--no-imports", "-c", WRITER],
            env={
                **environ,
                "BRANCH": branch,
                "SEED": str(seed),
                "COUNT": str(count),
                "FLAGS": str(tmp_path),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed, branch in ((1, "高中部分工会"), (2, "初中部分工会"))
    ]
    deadline = time.monotonic() + 90
    while not all((tmp_path / f"ready-{s}").exists() for s in (1, 2)):
        assert time.monotonic() < deadline, "writers did not start"
        assert all(w.poll() is None for w in writers), [w.communicate() for w in writers]
        time.sleep(0.02)
    (tmp_path / "go").touch()  # both start writing at the same moment
    results = [w.communicate(timeout=120) for w in writers]

    for w, (out, err) in zip(writers, results, strict=True):
        assert w.returncode == 0, err
        assert out.strip() == "done"
    with sqlite3.connect(db) as conn:
        cards = [r[0] for r in conn.execute("SELECT card_no FROM members_member")]
        seq = conn.execute("SELECT card_seq FROM org_union WHERE code = 'YZ'").fetchone()[0]
    # Both branches number from the school's one sequence: no gaps, no collisions.
    assert sorted(cards) == [f"YZ-{n:05d}" for n in range(1, 2 * count + 1)]
    assert seq == 2 * count


def test_settings_module_is_what_the_tests_run() -> None:
    # Guard against a test run that silently uses another settings module.
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "gonghui.settings"
    assert settings.AUTH_USER_MODEL == "org.User"
