"""Load on the real server: N users at once through the real login, on loopback.

    .venv/bin/python bench/bench_load.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/bench_load.py --db sqlite --users 50 200 --seconds 30 --runs 3

For each database: the demo (``gonghui demo --no-serve`` into its own data folder, kept
for the next run), bench logins made through the services (members of 第一中学 with a
login each, and one activity with fewer places than members), then for each number of
users and each number of workers (one, and the default: GONGHUI_WORKERS, the cores) a
fresh ``gonghui serve`` on 127.0.0.1 and a bounded run: every user logs in (GET the form,
POST the password), then loops until the time is up. Half the users are the union's chair
(``zhuxi``): roster list, a member page, the visits list, the report page; the other half
are members: sign up for the activity, see 我的活动, cancel. Afterwards the registrations
in the database are compared with what each member was last told: none lost, none twice,
no more places than the activity has. Prints p50 / p95 per page, requests/s, errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import benchenv

ROOT = benchenv.ROOT
LOAD_DIR = benchenv.BENCH_DIR / "load"
URLS = {
    "sqlite": f"sqlite:///{LOAD_DIR / 'sqlite' / 'gonghui.sqlite3'}",
    "postgres": "postgres://postgres@127.0.0.1:5432/gonghui_bench_load",
}
DEMO_PASSWORD = "Gonghui#2026"
CHAIR = "zhuxi"
MEMBER_PREFIX = "bench_load_"
ACTIVITY_TITLE = "负载测试：教工羽毛球赛"
MAX_USERS, MAX_SECONDS = 500, 300


def environment(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGHUI_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        GONGHUI_DATA_DIR=str(LOAD_DIR / db / "data"),
        GONGHUI_DATABASE_URL=URLS[db],
        PYTHONPYCACHEPREFIX=str(benchenv.BENCH_DIR / "pycache"),
    )
    return env


# Set-up and check, in a child process on one database ------------------------------------


def _child_setup(members: int) -> None:
    """Bench member logins and the activity, through the services (idempotent)."""
    import django

    django.setup()
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from gonghui.activities import services as activities
    from gonghui.activities.models import Activity
    from gonghui.members.models import Member
    from gonghui.members.services import member_link_user
    from gonghui.org.choices import Role
    from gonghui.org.models import User
    from gonghui.org.services import user_create

    chair = User.objects.get(username=CHAIR)
    school = min((r.union for r in chair.roles.select_related("union")), key=lambda u: len(u.path))
    with transaction.atomic():
        have = set(
            User.objects.filter(username__startswith=MEMBER_PREFIX).values_list(
                "username", flat=True
            )
        )
        free = Member.objects.filter(
            union__path__startswith=school.path, status="active", user__isnull=True
        ).order_by("pk")
        for n, member in zip(range(members), free.iterator(), strict=False):
            name = f"{MEMBER_PREFIX}{n:03d}"
            if name in have:
                continue
            user = user_create(
                actor=None,
                username=name,
                full_name=member.name,
                password=DEMO_PASSWORD,
                union=member.union,
                role=Role.MEMBER,
            )
            member_link_user(actor=None, member=member, user=user)
        activity = Activity.objects.filter(title=ACTIVITY_TITLE).first()
        if activity is None:
            today = timezone.localdate()
            activity = activities.activity_create(
                actor=None,
                union=school,
                fields=activities.ActivityFields(
                    title=ACTIVITY_TITLE,
                    category="sports",
                    start_date=today + dt.timedelta(days=30),
                    audience=school,
                    capacity=40,
                    signup_closes=timezone.now() + dt.timedelta(days=29),
                ),
            )
    member_pks = list(
        Member.objects.filter(union__path__startswith=school.path).values_list("pk", flat=True)[
            :300
        ]
    )
    print(json.dumps({"activity": activity.pk, "members": member_pks}))


def _child_check(activity_pk: int) -> None:
    """Each bench member's live registrations for the activity, and the places held."""
    import django

    django.setup()
    from gonghui.activities.models import Activity, Registration

    activity = Activity.objects.get(pk=activity_pk)
    live = (
        Registration.objects.filter(
            activity=activity, member__user__username__startswith=MEMBER_PREFIX
        )
        .exclude(status="cancelled")
        .values_list("member__user__username", "status")
    )
    held: dict[str, list[str]] = {}
    for username, status in live:
        held.setdefault(username, []).append(status)
    print(json.dumps({"capacity": activity.capacity, "held": held}))


def child(db: str, *args: str) -> Any:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        env={**environment(db), "DJANGO_SETTINGS_MODULE": "gonghui.settings"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare(db: str, members: int) -> dict[str, Any]:
    (LOAD_DIR / db / "data").mkdir(parents=True, exist_ok=True)
    if db == "postgres" and not (LOAD_DIR / db / "built").exists():
        benchenv.recreate_postgres(URLS[db])
    gonghui = str(Path(sys.executable).with_name("gonghui"))
    built = subprocess.run(
        [gonghui, "demo", "--no-serve"], env=environment(db), capture_output=True, text=True
    )
    if built.returncode != 0:
        sys.exit(built.stderr)
    (LOAD_DIR / db / "built").touch()
    return dict(child(db, "setup", str(members)))


# The server --------------------------------------------------------------------------------


def start_server(db: str, workers: int) -> tuple[subprocess.Popen[str], int]:
    gonghui = str(Path(sys.executable).with_name("gonghui"))
    process = subprocess.Popen(
        [gonghui, "serve", "--host", "127.0.0.1", "--port", "0", "--workers", str(workers)],
        env=environment(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", process.stdout.readline())
    if not found:
        process.kill()
        sys.exit("服务未能启动")
    port = int(found.group(1))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            if conn.getresponse().status == 200:
                conn.close()
                break
        except OSError:
            time.sleep(0.2)
    time.sleep(1.0 if workers > 1 else 0)  # the other workers
    return process, port


def stop_server(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)  # as Ctrl+C
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


# A user --------------------------------------------------------------------------------


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, seconds: float, ok: bool, counted: bool, status: object) -> None:
        with self.lock:
            if counted:
                self.times.setdefault(page, []).append(seconds)
            if not ok:
                key = f"{page} {status}"
                self.errors[key] = self.errors.get(key, 0) + 1


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CANCEL_FORM = re.compile(r'action="/activities/registrations/(\d+)/cancel/"')


class User:
    def __init__(self, port: int, username: str, stats: Stats, measuring: threading.Event):
        self.port, self.username, self.stats, self.measuring = port, username, stats, measuring
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.signed_up: bool | None = None  # what the member was last told

    def request(
        self, page: str, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        started = time.monotonic()
        status, text, location = 0, "", ""
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            status = response.status
            location = response.headers.get("Location", "")
            for value in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        # A redirect to the login page means the session was lost: an error too.
        ok = (
            status == 200
            or (status == 302 and "/accounts/login/" not in location)
            or (page == "login" and status == 302)
        )
        self.stats.add(
            page, time.monotonic() - started, ok, self.measuring.is_set(), status or "no answer"
        )
        return status, text, location

    def login(self) -> bool:
        _, page, _ = self.request("login", "GET", "/accounts/login/")
        token = CSRF_INPUT.search(page)
        form = {"username": self.username, "password": DEMO_PASSWORD}
        form["csrfmiddlewaretoken"] = token.group(1) if token else ""
        status, _, location = self.request("login", "POST", "/accounts/login/", form)
        return status == 302 and "login" not in location


def officer_loop(user: User, member_pks: list[int], until: float, rng: random.Random) -> None:
    while time.monotonic() < until:
        user.request("roster", "GET", f"/members/?page={rng.randint(1, 5)}")
        user.request("member", "GET", f"/members/{rng.choice(member_pks)}/")
        user.request("visits", "GET", "/care/visits/")
        user.request("report", "GET", "/reports/")


def member_loop(user: User, activity: int, until: float) -> None:
    while time.monotonic() < until:
        status, _, _ = user.request("signup", "POST", f"/activities/{activity}/signup/", {})
        if status == 302:
            user.signed_up = True
        _, mine, _ = user.request("mine", "GET", "/activities/mine/")
        start = mine.find(f'data-activity="{activity}"')
        found = CANCEL_FORM.search(mine[start : mine.find("</li>", start)]) if start >= 0 else None
        if not found:
            continue
        status, _, _ = user.request(
            "cancel", "POST", f"/activities/registrations/{found.group(1)}/cancel/", {}
        )
        if status == 302:
            user.signed_up = False


def run_load(port: int, users: int, seconds: float, setup: dict[str, Any]) -> dict[str, Any]:
    stats, measuring = Stats(), threading.Event()
    names = [CHAIR if i % 2 == 0 else f"{MEMBER_PREFIX}{i // 2:03d}" for i in range(users)]
    people = [User(port, name, stats, measuring) for name in names]
    logged: list[bool] = [False] * users
    ready = threading.Barrier(users + 1)
    until = [0.0]

    def one(i: int) -> None:
        rng = random.Random(i)
        logged[i] = people[i].login()
        ready.wait()
        ready.wait()  # the clock starts for everyone at once
        if not logged[i]:
            return
        if people[i].username == CHAIR:
            officer_loop(people[i], setup["members"], until[0], rng)
        else:
            member_loop(people[i], setup["activity"], until[0])

    # The logins are timed on their own (all users at once, argon2 each).
    login_started = time.monotonic()
    measuring.set()
    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    ready.wait()
    login_seconds = time.monotonic() - login_started
    login_times = stats.times.pop("login", [])
    until[0] = time.monotonic() + seconds
    started = time.monotonic()
    ready.wait()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - started
    requests = sum(len(v) for v in stats.times.values())
    members = {p.username: p.signed_up for p in people if p.username != CHAIR}
    return {
        "times": stats.times,
        "login": login_times,
        "login_seconds": login_seconds,
        "errors": dict(stats.errors),
        "failed_logins": logged.count(False),
        "rps": requests / elapsed,
        "requests": requests,
        "members": members,
    }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def check(db: str, setup: dict[str, Any], told: dict[str, bool | None]) -> list[str]:
    state = child(db, "check", str(setup["activity"]))
    problems = []
    held: dict[str, list[str]] = state["held"]
    places = sum(s.count("signed_up") for s in held.values())
    if places > state["capacity"]:
        problems.append(f"{places} 个正式名额 > {state['capacity']}")
    for name, last in told.items():
        live = held.get(name, [])
        if len(live) > 1:
            problems.append(f"{name} 重复报名 {live}")
        if last is True and not live:
            problems.append(f"{name} 报名丢失")
        if last is False and live:
            problems.append(f"{name} 已取消却仍有报名 {live}")
    return problems


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--users", nargs="+", type=int, default=[50, 200])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=None, help="默认：GONGHUI_WORKERS 或核数")
    parser.add_argument("--runs", type=int, default=1, help="每种情况跑几次，取中位数")
    parser.add_argument("--json", type=Path, help="原始结果写入此文件")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "setup":
            _child_setup(int(args.child[1]))
        else:
            _child_check(int(args.child[1]))
        return
    # A SIGTERM stops the running server as Ctrl+C does.
    signal.signal(signal.SIGTERM, _interrupt)
    if max(args.users) > MAX_USERS or args.seconds > MAX_SECONDS:
        sys.exit(f"最多 {MAX_USERS} 个用户、{MAX_SECONDS} 秒。")
    default_workers = args.workers or int(
        os.environ.get("GONGHUI_WORKERS") or len(os.sched_getaffinity(0))
    )
    results: list[dict[str, Any]] = []
    for db in args.db:
        setup = prepare(db, max(args.users) // 2 + 1)
        for users in args.users:
            for workers in dict.fromkeys([1, default_workers]):
                for run in range(args.runs):
                    process, port = start_server(db, workers)
                    try:
                        result = run_load(port, users, args.seconds, setup)
                    finally:
                        stop_server(process)
                    result["problems"] = check(db, setup, result.pop("members"))
                    result.update(db=db, users=users, workers=workers, run=run)
                    results.append(result)
                    print(summary_line(result), flush=True)
    print()
    print(table(results))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


PAGES = ["roster", "member", "visits", "report", "signup", "mine", "cancel"]


def summary_line(r: dict[str, Any]) -> str:
    errors = sum(r["errors"].values()) + r["failed_logins"]
    return (
        f"{r['db']} users={r['users']} workers={r['workers']} run={r['run']}: "
        f"{r['rps']:.1f} req/s, errors {errors} {r['errors'] or ''}, "
        f"problems {r['problems'] or 0} p95 ms: "
        + " ".join(f"{p}={pct(r['times'].get(p, []), 0.95):.0f}" for p in PAGES)
    )


def table(results: list[dict[str, Any]]) -> str:
    """Medians over the runs of each (db, users, workers)."""
    groups: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["db"], r["users"], r["workers"]), []).append(r)
    head = "| db | users | workers | req/s | errors | sign-up check | login p50/p95 | "
    head += " | ".join(f"{p} p50/p95" for p in PAGES) + " |"
    lines = [head, "|" + "---|" * (7 + len(PAGES))]
    med = statistics.median
    for (db, users, workers), rs in groups.items():
        errors = sum(sum(r["errors"].values()) + r["failed_logins"] for r in rs)
        problems = sum(len(r["problems"]) for r in rs)
        cells = [
            db,
            str(users),
            str(workers),
            f"{med(r['rps'] for r in rs):.1f}",
            str(errors),
            "ok" if not problems else f"{problems} 处不符",
            f"{med(pct(r['login'], 0.5) for r in rs):.0f} / {med(pct(r['login'], 0.95) for r in rs):.0f}",
        ]
        for p in PAGES:
            p50 = med(pct(r["times"].get(p, []), 0.5) for r in rs)
            p95 = med(pct(r["times"].get(p, []), 0.95) for r in rs)
            cells.append(f"{p50:.0f} / {p95:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
