"""Import benchmark: a 100,000-member roster from .xlsx to committed rows.

    python bench/bench_import.py                      # 100,000 rows, SQLite and PostgreSQL
    python bench/bench_import.py --rows 20000 --db sqlite
    python bench/bench_import.py --skip-iie           # only ours

Each measurement runs in its own fresh process against a fresh database (SQLite file
under ``/tmp/bench-import``, or ``$GONGHUI_BENCH_DIR``; PostgreSQL database
``gonghui_import_bench``, or ``$GONGHUI_BENCH_POSTGRES_URL``), with the union tree of
``gen_import.py`` in place, and reports wall time of the import alone and the process's
peak memory (``ru_maxrss``, which includes Django; the import runs in that one process).

Side by side, in the same run: django-import-export importing the same file into the
same model "the usual way" — a ``ModelResource`` with the Chinese headers as column
names, choice labels through a widget, 所属工会 through ``ForeignKeyWidget`` by code,
``import_id_fields = 工号`` (so a re-import updates), ``apply_fields`` in
``before_save_instance`` for the same normalisation, encryption and pinyin, then
``import_data`` — once per row and once with ``use_bulk``. Ours does more on top: the
membership change of every new member, card numbers, duplicate checks against the whole
tree (身份证号, 手机号, 工号, 会员证号) and the audit log (a row for the import, naming its
record and the new members; a row per changed member).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("GONGHUI_BENCH_DIR", "/tmp/bench-import"))
POSTGRES_URL = os.environ.get(
    "GONGHUI_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/gonghui_import_bench"
)
ENV = {
    "GONGHUI_SECRET_KEY": "bench-secret-key-not-for-production",
    "GONGHUI_ENCRYPTION_KEY": "YPh-UnEu2uo6PrDscDeCNGEfT9ci6RnpfECEeVPYHQs=",
    "GONGHUI_DATA_DIR": str(BENCH_DIR / "data"),
    "DJANGO_SETTINGS_MODULE": "gonghui.settings",
}
MODES = {
    "gonghui": "本系统（全部检查）",
    "iie": "django-import-export",
    "iie-bulk": "django-import-export use_bulk",
}


def _url(db: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{BENCH_DIR / 'import-bench.sqlite3'}"
    return POSTGRES_URL


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# The child: one measurement ---------------------------------------------------------


def _fresh_database(db: str, url: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(BENCH_DIR / "import-bench.sqlite3") + suffix).unlink(missing_ok=True)
        return
    import psycopg

    admin, name = url.rsplit("/", 1)
    with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup_tree() -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_import import FEDERATION, tree

    from gonghui.org.choices import UnionKind
    from gonghui.org.services import union_create

    root = union_create(
        actor=None, name=FEDERATION[0], kind=UnionKind.FEDERATION, parent=None, code=FEDERATION[1]
    )
    for name, code, groups in tree():
        school = union_create(actor=None, name=name, kind=UnionKind.UNION, parent=root, code=code)
        for group_name, group_code in groups:
            union_create(
                actor=None, name=group_name, kind=UnionKind.GROUP, parent=school, code=group_code
            )
    return root


def _member_resource(bulk: bool) -> Any:
    from import_export import fields, resources, widgets

    from gonghui.members.choices import EmploymentType, Gender, MemberStatus
    from gonghui.members.models import Member
    from gonghui.members.services import apply_fields
    from gonghui.org.models import Union

    class Labels(widgets.Widget):
        def __init__(self, choices: Any) -> None:
            super().__init__()
            self.by_label = {label: value for value, label in choices}

        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
            return self.by_label.get(value, value or "")

    class Text(widgets.CharWidget):
        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            return "" if value is None else str(value)

    class Day(widgets.DateWidget):
        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
            value = super().clean(value, row, **kwargs)
            return value.date() if isinstance(value, dt.datetime) else value

    def col(attribute: str, header: str, widget: Any = None) -> Any:
        return fields.Field(attribute=attribute, column_name=header, widget=widget or Text())

    class MemberResource(resources.ModelResource):
        name = col("name", "姓名")
        gender = col("gender", "性别", Labels(Gender.choices))
        birth_date = col("birth_date", "出生日期", Day())
        employee_no = col("employee_no", "工号")
        union = col("union", "所属工会", widgets.ForeignKeyWidget(Union, field="code"))
        department = col("department", "部门")
        job_title = col("job_title", "职务")
        employment_type = col("employment_type", "用工形式", Labels(EmploymentType.choices))
        ethnicity = col("ethnicity", "民族")
        political_status = col("political_status", "政治面貌")
        education = col("education", "学历")
        work_start_date = col("work_start_date", "参加工作日期", Day())
        join_date = col("join_date", "入会日期", Day())
        status = col("status", "会员状态", Labels(MemberStatus.choices))
        monthly_wage = col("monthly_wage", "月工资", widgets.DecimalWidget())

        class Meta:
            model = Member
            import_id_fields = ("employee_no",)
            fields = (
                "name", "gender", "birth_date", "employee_no", "union", "department",
                "job_title", "employment_type", "ethnicity", "political_status",
                "education", "work_start_date", "join_date", "status", "monthly_wage",
            )  # fmt: skip
            use_bulk = bulk
            batch_size = 1000
            skip_unchanged = False

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            # The same rules as every other write: normalise, validate, encrypt, pinyin.
            errors = apply_fields(
                instance,
                {
                    "name": instance.name,
                    "id_number": str(row.get("身份证号") or ""),
                    "phone": str(row.get("手机号") or "").removesuffix(".0"),
                    "union": instance.union,
                },
            )
            if errors:
                raise ValueError("；".join(errors.values()))

    return MemberResource()


def child(mode: str, db: str, path: Path) -> dict[str, Any]:
    url = _url(db)
    os.environ.update({k: os.environ.get(k, v) for k, v in ENV.items()})
    os.environ["GONGHUI_DATABASE_URL"] = url
    (BENCH_DIR / "data").mkdir(parents=True, exist_ok=True)
    if mode == "setup":
        # A fresh database with the tree, in a process of its own: the timed process
        # then holds only Django and the import (migrations use a lot of memory).
        _fresh_database(db, url)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if mode == "setup":
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        _setup_tree()
        return {}
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_import import FEDERATION

    from gonghui.members.models import Member
    from gonghui.org.models import Union

    root = Union.objects.get(code=FEDERATION[1])
    baseline = _peak_mb()
    cpu_started = time.process_time()
    started = time.perf_counter()
    if mode == "gonghui":
        from gonghui.common.imports.columns import get_spec
        from gonghui.common.imports.engine import run_import

        result = run_import(
            spec=get_spec("members"),
            path=path,
            file_name=path.name,
            actor=None,
            default_union=root,
            commit=True,
        )
        if not result.written:
            raise SystemExit("导入失败：" + "\n".join(result.error_lines()[:20]))
    else:
        import tablib

        dataset = tablib.Dataset().load(path.read_bytes(), format="xlsx")
        res = _member_resource(bulk=mode == "iie-bulk").import_data(
            dataset, dry_run=False, use_transactions=True, raise_errors=True
        )
        if res.has_errors() or res.has_validation_errors():
            raise SystemExit("django-import-export 导入出错")
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    count = Member.objects.count()
    return {
        "mode": mode,
        "db": db,
        "rows": count,
        "seconds": round(elapsed, 2),
        "cpu": round(cpu, 2),
        "peak_mb": round(_peak_mb(), 1),
        "baseline_mb": round(baseline, 1),
    }


# The parent: run every measurement and print the table -------------------------------


def run(mode: str, db: str, path: Path) -> dict[str, Any] | None:
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in ENV.items()}}
    print(f"… {MODES[mode]} · {db}", file=sys.stderr, flush=True)
    setup = [sys.executable, __file__, "--child", "setup", "--db", db, "--file", str(path)]
    proc = subprocess.run(setup, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return None
    cmd = [sys.executable, __file__, "--child", mode, "--db", db, "--file", str(path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _file(rows: int) -> Path:
    path = BENCH_DIR / f"roster-{rows}.xlsx"
    if not path.exists():
        # The generator is seeded: the first N rows of any size are the same people.
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "gen_import.py"),
                "--rows",
                str(rows),
                "--out",
                str(path),
            ],
            check=True,
        )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--modes", default=",".join(MODES), help="gonghui,iie,iie-bulk")
    parser.add_argument(
        "--iie-rows",
        type=int,
        default=None,
        help="django-import-export 只导入前 N 行（同一批人），按每行用时折算到 --rows；"
        "它每行的开销是固定的，折算是线性的。默认与 --rows 相同",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.db, args.file)))
        return
    path = _file(args.rows)
    iie_path = _file(args.iie_rows) if args.iie_rows else path
    modes = [m for m in args.modes.split(",") if m]
    results = []
    for db in args.db.split(","):
        for mode in modes:
            outcome = run(mode, db, path if mode == "gonghui" else iie_path)
            if outcome:
                results.append(outcome)
    print()
    print(
        f"会员名册导入：{args.rows:,} 行 .xlsx（{path.stat().st_size / 1024 / 1024:.1f} MB）→ 已提交的记录"
    )
    print(
        f"{'方式':<32}{'数据库':<10}{'行数':>9}{'用时(秒)':>10}{'CPU(秒)':>9}"
        f"{'折合10万行(秒)':>16}{'峰值内存(MB)':>14}{'倍数':>8}"
    )
    for db in args.db.split(","):
        ours = next((r for r in results if r["db"] == db and r["mode"] == "gonghui"), None)
        for r in (r for r in results if r["db"] == db):
            per = r["seconds"] * 100_000 / r["rows"] if r["rows"] else 0
            ratio = ""
            if ours and r["mode"] != "gonghui":
                ratio = f"{per / (ours['seconds'] * 100_000 / ours['rows']):.1f}×"
            print(
                f"{MODES[r['mode']]:<32}{db:<10}{r['rows']:>9,}{r['seconds']:>10.1f}"
                f"{r['cpu']:>9.1f}{per:>16.1f}{r['peak_mb']:>14.0f}{ratio:>8}"
            )
    print("倍数 = 折合 10 万行用时之比（同一数据库）。CPU = 本进程用户态+内核态时间，")
    print("机器繁忙时比墙钟时间更能反映各方式本身的开销。")


if __name__ == "__main__":
    main()
