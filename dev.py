#!/usr/bin/env python3
"""Set up and run gonghui from a fresh clone, with nothing but Python 3.11+.

    python3 dev.py demo        # the demo: build a demo union and open the workbench
    python3 dev.py test        # the whole test suite
    python3 dev.py <command>   # any `gonghui` command, e.g. `python3 dev.py report --help`

It installs uv (pinned) into .tools/ if uv is not on PATH, then `uv sync --frozen`
creates .venv/ from the committed uv.lock, then runs the command inside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

UV_VERSION = "0.13.9"
ROOT = Path(__file__).resolve().parent
BIN = "Scripts" if os.name == "nt" else "bin"


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    tools = ROOT / ".tools"
    exe = tools / BIN / ("uv.exe" if os.name == "nt" else "uv")
    if not exe.exists():
        print(f"正在安装 uv {UV_VERSION} 到 .tools/ …", file=sys.stderr)
        try:
            venv.create(tools, with_pip=True, clear=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            # Debian and Ubuntu ship Python without ensurepip unless python3-venv is installed.
            sys.exit(
                f"无法创建虚拟环境（{exc}）。\n"
                "Debian/Ubuntu 请先安装：sudo apt install python3-venv\n"
                "或者先安装 uv（https://docs.astral.sh/uv/），它在 PATH 上时本脚本会直接使用。"
            )
        subprocess.run(
            [str(tools / BIN / "python"), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"],
            check=True,
        )
    return str(exe)


def sync() -> None:
    env = {**os.environ, "UV_PYTHON": sys.executable, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run([uv(), "sync", "--frozen", "--quiet"], cwd=ROOT, check=True, env=env)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 -- dev.py may be run by an older python3
        print("需要 Python 3.11 或更新版本。", file=sys.stderr)
        return 2
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    sync()
    bindir = ROOT / ".venv" / BIN
    if argv[0] == "test":
        cmd = [str(bindir / "pytest"), "-n", "2", *argv[1:]]
    else:
        cmd = [str(bindir / "gonghui"), *argv]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
