"""``Member.name_sort``: the roster's order, syllable by syllable (issue 10).

Ordered by ``name_pinyin`` (the syllables run together) the roster split surnames:
"chenggang" (程刚) sorts between "chenan" (陈安) and "chenwei" (陈伟). The key ends each
syllable with ``0`` and then spells the characters' code points, as
``members.services.name_readings`` does; the rule is repeated here, not imported, so that
this migration keeps meaning what it meant when the app's code moves on.
"""

import functools

from django.db import DEFAULT_DB_ALIAS, connections, migrations, models

BATCH = 2000
LENGTH = 650

# 多音字 surnames: the surname reading, not the common one (曾 zeng, not ceng).
SURNAMES = {
    "曾": "zeng", "单": "shan", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha", "朴": "piao",
    "乐": "yue", "召": "shao", "覃": "qin", "缪": "miao", "翟": "zhai", "盖": "ge", "种": "chong",
    "秘": "bi", "尉": "yu", "长": "chang", "重": "chong", "纪": "ji", "繁": "po", "折": "she",
    "员": "yun", "句": "gou", "卜": "bu", "柏": "bai", "薄": "bo", "贲": "ben", "郇": "huan",
}  # fmt: skip


@functools.lru_cache(maxsize=65536)
def sort_key(name):
    from pypinyin import lazy_pinyin

    syllables = [s.lower() for s in lazy_pinyin(name) if s.isascii() and s.isalpha()]
    if name and name[0] in SURNAMES and syllables:
        syllables[0] = SURNAMES[name[0]]
    key = "".join(s + "0" for s in syllables) + "".join(f"{ord(c):06x}" for c in name)
    return key[:LENGTH]


def forwards(apps, schema_editor):
    Member = apps.get_model("members", "Member")
    connection = schema_editor.connection if schema_editor else connections[DEFAULT_DB_ALIAS]
    members = Member.objects.using(connection.alias)
    # One plain UPDATE per changed row, sent in batches: bulk_update's CASE over a batch
    # of ids costs SQLite time in the square of the batch (30 s for 100,000 members).
    update = (
        f"UPDATE {connection.ops.quote_name(Member._meta.db_table)} "
        f"SET {connection.ops.quote_name('name_sort')} = %s WHERE id = %s"
    )
    # By key ranges, not one open cursor: SQLite does not isolate a cursor from the
    # updates the same connection makes to the table it reads.
    last = 0
    while True:
        batch = list(
            members.filter(pk__gt=last).order_by("pk").values_list("pk", "name", "name_sort")[
                :BATCH
            ]
        )
        if not batch:
            return
        last = batch[-1][0]
        pending = [(sort_key(name), pk) for pk, name, stored in batch if sort_key(name) != stored]
        if pending:
            with connection.cursor() as cursor:
                cursor.executemany(update, pending)


class Migration(migrations.Migration):
    dependencies = [("members", "0003_member_roster_indexes")]

    operations = [
        migrations.AddField(
            model_name="member",
            name="name_sort",
            field=models.CharField(
                default="", editable=False, max_length=LENGTH, verbose_name="姓名排序"
            ),
            preserve_default=False,
        ),
        # The old code ignores the column: nothing to undo.
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
