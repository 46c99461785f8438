"""``python -m tests.common.backupdata [--photo]``: what a database holds, as JSON, read
through the models (not through the backup's own reading), for the backup round trips.

Prints ``{"rows": {table: [row, …]}, "report": <gonghui report --format json>,
"media": {path: sha256}}`` of the database and data folder the environment names.
``--photo`` first adds a visit photo through the care services (the demo has none).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

#: The report compared: the demo's district over this year and the last.
UNION = "BJJY"


def _rows() -> dict[str, list[str]]:
    from django.apps import apps

    result = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.swapped or meta.proxy or not meta.managed or meta.db_table == "django_session":
            continue
        names = [f.attname for f in meta.local_fields]
        rows = model._default_manager.order_by("pk").values_list(*names)
        result[meta.db_table] = [
            json.dumps(dict(zip(names, row, strict=True)), default=str, sort_keys=True)
            for row in rows
        ]
    return result


def _report() -> Any:
    from django.core.management import call_command

    year = dt.date.today().year
    out = io.StringIO()
    call_command("report", union=UNION, start=f"{year - 1}-01-01", end=f"{year}-12-31", stdout=out)
    return json.loads(out.getvalue())


def _media() -> dict[str, str]:
    from django.conf import settings

    root = Path(settings.MEDIA_ROOT)
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _add_photo() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gonghui.care.models import Visit
    from gonghui.care.services import visit_photo_add
    from tests.care.records import PNG

    visit = Visit.objects.order_by("pk").first()
    assert visit is not None
    visit_photo_add(
        actor=None, visit=visit, upload=SimpleUploadedFile("病房.png", PNG, "image/png")
    )


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gonghui.settings")
    django.setup()
    if "--photo" in sys.argv:
        _add_photo()
        return
    json.dump({"rows": _rows(), "report": _report(), "media": _media()}, sys.stdout)


if __name__ == "__main__":
    main()
