"""Rewrite the stored audit rows into the one shape ``common.audit.as_pairs`` writes.

Before, some services logged a create's values alone (``{"会员": "许妍慧"}``) and others
as ``[old, new]``; the pages read ``[old, new]`` and showed the second character of a
lone string. Every value becomes ``[old, new]`` (a lone value ``["", value]``) and a
yes/no ``是``/``否``. The rule is repeated here, not imported, so that this migration
keeps meaning what it meant when the app's code moves on.
"""

import json

from django.db import migrations

BATCH = 1000


def _end(value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(_end(v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def as_pairs(changes):
    if not isinstance(changes, dict):
        return {} if not changes else {"内容": ["", _end(changes)]}
    result = {}
    for label, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            result[label] = [_end(value[0]), _end(value[1])]
        else:
            result[label] = ["", _end(value)]
    return result


def forwards(apps, schema_editor):
    AuditEntry = apps.get_model("common", "AuditEntry")
    # By key ranges, not one open cursor: SQLite does not isolate a cursor from the
    # updates the same connection makes to the table it reads.
    last = 0
    while True:
        batch = list(
            AuditEntry.objects.filter(pk__gt=last).only("pk", "changes").order_by("pk")[:BATCH]
        )
        if not batch:
            return
        last = batch[-1].pk
        pending = []
        for entry in batch:
            fixed = as_pairs(entry.changes)
            if fixed != entry.changes:
                entry.changes = fixed
                pending.append(entry)
        if pending:
            AuditEntry.objects.bulk_update(pending, ["changes"])


class Migration(migrations.Migration):
    dependencies = [("common", "0004_importrecord_queue")]

    # The old pages read [old, new] already, so the rewritten rows need no undoing.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
