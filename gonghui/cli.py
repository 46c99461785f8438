"""The ``gonghui`` command: every Django management command plus the project's own.

gonghui demo [--no-serve] [--port 8000]
gonghui serve [--host 127.0.0.1] [--port 8000]
gonghui import KIND FILE [--union NAME]
gonghui export KIND FILE [--union NAME]
gonghui report --union NAME --from YYYY-MM-DD --to YYYY-MM-DD --format json
gonghui backup FILE | --dir DIR [--keep N]
gonghui restore FILE [--force [--yes]]
gonghui rotate-key (re-encrypt with the newest GONGHUI_ENCRYPTION_KEY)
gonghui migrate, gonghui createsuperuser, …
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghui.settings")
    if len(argv) > 1 and argv[1] == "rotate-key":
        argv[1] = "rotate_key"
    if len(argv) > 1 and argv[1] == "demo":
        # The demo may create and keep its own keys in the data folder.
        os.environ["GONGHUI_DEMO_MODE"] = "1"
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"配置错误：{exc}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
