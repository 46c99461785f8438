"""Peak memory of an import check (the step a web upload runs first).

    python bench/bench_import_memory.py --rows 300000            # SQLite
    python bench/bench_import_memory.py --rows 300000 --db postgres

Three measurements, each in a fresh process against the database of ``bench_import.py``
(same environment variables, same union tree):

- ``check``: the check of a new file into an empty roster (``commit=False``);
- ``three``: three such checks at once, in three threads of one process, as three
  uploads run in one web process;
- ``recheck``: the file is imported first (in a process of its own: ``write`` in the
  table, the check and the write of a confirmed import), then checked again unchanged:
  every row finds its stored member.

Each prints the wall time and the process's peak resident memory (``ru_maxrss``, which
includes Django). The figures go in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_import  # noqa: E402


def _check(path: Path, root: Any) -> Any:
    from gonghui.common.imports.columns import get_spec
    from gonghui.common.imports.engine import run_import

    return run_import(
        spec=get_spec("members"),
        path=path,
        file_name=path.name,
        actor=None,
        default_union=root,
        commit=False,
    )


def child(mode: str, db: str, path: Path) -> dict[str, Any]:
    os.environ.update({k: os.environ.get(k, v) for k, v in bench_import.ENV.items()})
    os.environ["GONGHUI_DATABASE_URL"] = bench_import._url(db)
    sys.path.insert(0, str(bench_import.ROOT))
    import django

    django.setup()
    from django.db import connection
    from gen_import import FEDERATION

    from gonghui.org.models import Union

    root = Union.objects.get(code=FEDERATION[1])
    baseline = bench_import._peak_mb()
    started = time.perf_counter()
    outcomes: list[Any] = []
    if mode == "three":

        def one() -> None:
            try:
                outcomes.append(_check(path, Union.objects.get(pk=root.pk)))
            finally:
                connection.close()

        threads = [threading.Thread(target=one) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        outcomes.append(_check(path, root))
    elapsed = time.perf_counter() - started
    for result in outcomes:
        if not result.ok:
            raise SystemExit("检查未通过：" + "\n".join(result.error_lines()[:20]))
    plan = outcomes[0].plan
    return {
        "mode": mode,
        "db": db,
        "rows": plan.total,
        "created": plan.created,
        "unchanged": plan.unchanged,
        "seconds": round(elapsed, 2),
        "peak_mb": round(bench_import._peak_mb(), 1),
        "baseline_mb": round(baseline, 1),
    }


def _run(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=3600
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--modes", default="check,three,recheck")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.db, args.file)))
        return
    path = bench_import._file(args.rows)
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in bench_import.ENV.items()}}
    setup = [str(HERE / "bench_import.py"), "--child", "setup", "--db", args.db]
    results = []
    for mode in args.modes.split(","):
        print(f"… {mode} · {args.db}", file=sys.stderr, flush=True)
        _run([*setup, "--file", str(path)], env)
        if mode == "recheck":
            write = [str(HERE / "bench_import.py"), "--child", "gonghui", "--db", args.db]
            written = json.loads(_run([*write, "--file", str(path)], env).strip().splitlines()[-1])
            written["mode"] = "write"
            results.append(written)
        me = [__file__, "--child", mode, "--db", args.db, "--file", str(path)]
        results.append(json.loads(_run(me, env).strip().splitlines()[-1]))
    print()
    print(f"会员名册检查：{args.rows:,} 行 .xlsx（{path.stat().st_size / 1024 / 1024:.1f} MB）")
    print(f"{'测量':<10}{'数据库':<10}{'行数':>9}{'用时(秒)':>10}{'峰值内存(MB)':>14}")
    for r in results:
        print(
            f"{r['mode']:<10}{r['db']:<10}{r['rows']:>9,}{r['seconds']:>10.1f}{r['peak_mb']:>14.0f}"
        )


if __name__ == "__main__":
    main()
