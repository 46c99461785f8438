"""The roster walks ``name_sort`` now; the pinyin search keeps an index of its own.

Apart from 0004, which fills the column: on PostgreSQL each migration is one
transaction, and the indexes are built once over the filled column.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("members", "0004_member_name_sort")]

    operations = [
        migrations.AlterModelOptions(
            name="member",
            options={
                "ordering": ["name_sort", "id"],
                "verbose_name": "会员",
                "verbose_name_plural": "会员",
            },
        ),
        migrations.RemoveIndex(model_name="member", name="member_pinyin_walk_idx"),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["name_sort", "id", "union"], name="member_name_walk_idx"),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["name_pinyin"], name="member_pinyin_idx"),
        ),
    ]
