"""Running the real ``gonghui`` console script in a subprocess, for the tests that must
prove the entry point, the settings module or SQLite across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

#: The console script installed next to the interpreter running the tests (.venv/bin).
GONGHUI = Path(sys.executable).with_name("gonghui")

# Byte-code for the subprocesses, outside the repo: where PYTHONDONTWRITEBYTECODE is set,
# each one would otherwise compile Django and the app from source again (seconds each).
_PYCACHE = Path(tempfile.gettempdir()) / f"gonghui-test-pycache-{os.getuid()}"


def env(**overrides: str | None) -> dict[str, str]:
    """The test environment, without the database URL, with ``overrides`` (None drops)."""
    result = {k: v for k, v in os.environ.items() if k != "GONGHUI_DATABASE_URL"}
    result.pop("PYTHONDONTWRITEBYTECODE", None)
    result["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    for key, value in overrides.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def run(
    *args: str, environ: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``gonghui ARGS…``."""
    return subprocess.run(
        [str(GONGHUI), *args], env=environ, capture_output=True, text=True, timeout=timeout
    )


def python(
    code: str, *, environ: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` with the test interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=timeout
    )
