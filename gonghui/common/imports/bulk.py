"""Inserting and updating many rows fast, for the import services.

Django's ``bulk_create`` compiles a multi-row INSERT for every batch, and on SQLite a
batch is at most 999 parameters (35 members of 28 columns): 100,000 members are 2,900
statements, most of the time spent in the SQL compiler. These helpers build each
statement once and send all the rows with the driver's ``executemany``; each value
goes through its field's own ``get_db_prep_save`` except plain strings and integers,
which every backend takes as they are.

Only the services call these (inside their transaction, after every check passed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models
from django.utils import timezone

BATCH = 5000

#: Field types whose Python value every backend stores as it is (str, int, bool, None).
_AS_IS = {
    "CharField",
    "TextField",
    "SlugField",
    "ForeignKey",
    "OneToOneField",
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "BooleanField",
}


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    if field.get_internal_type() in _AS_IS:
        return None
    cache: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        # Timestamps (one per call), dates and amounts repeat across thousands of rows,
        # and adapting a datetime for the database is slow: adapt each value once.
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = field.get_db_prep_save(value, connection)
            return result
        except TypeError:  # unhashable (a JSON dict)
            return field.get_db_prep_save(value, connection)

    return convert


def _columns(
    model: type[models.Model], fields: Sequence[str] | None
) -> list[models.Field[Any, Any]]:
    meta = model._meta
    cols = [f for f in meta.concrete_fields if not f.primary_key]
    if fields is not None:
        cols = [f for f in cols if f.attname in fields or f.name in fields]
    return cols


def insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT ``objs`` (ids not fetched). ``auto_now``/``auto_now_add`` fields get one
    timestamp for the whole call."""
    if not objs:
        return
    now = timezone.now()
    cols = _columns(model, None)
    stamped = [
        f.attname
        for f in cols
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj in objs:
        for name in stamped:
            setattr(obj, name, now)
    names = [f.attname for f in cols]
    _execute_many(
        _insert_sql(model, cols), ([getattr(o, name) for name in names] for o in objs), cols
    )


def insert_values(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> None:
    """INSERT rows given as ``{attname: value}``, without building model instances
    (100,000 of those cost seconds). Missing fields take their default, computed once
    for the call (so ``default=timezone.now`` is one timestamp for all rows). ``rows``
    may be a generator: it is consumed a batch at a time."""
    now = timezone.now()
    cols = _columns(model, None)
    defaults: list[Any] = []
    for f in cols:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults.append(now)
        else:
            # The declared default, or "" for a text field without one (as Django does).
            defaults.append(f.get_default())
    pairs = list(zip([f.attname for f in cols], defaults, strict=True))
    _execute_many(
        _insert_sql(model, cols),
        ([row.get(name, default) for name, default in pairs] for row in rows),
        cols,
    )


def _insert_sql(model: type[models.Model], cols: Sequence[models.Field[Any, Any]]) -> str:
    qn = connection.ops.quote_name
    names = ", ".join(qn(str(f.column)) for f in cols)
    marks = ", ".join(["%s"] * len(cols))
    return f"INSERT INTO {qn(model._meta.db_table)} ({names}) VALUES ({marks})"


def _execute_many(
    sql: str, rows: Iterable[list[Any]], cols: Sequence[models.Field[Any, Any]]
) -> None:
    """Convert and send ``rows`` a batch at a time, so that the parameters of a 100,000
    row import are never all in memory at once."""
    converters = [(i, c) for i, f in enumerate(cols) if (c := _converter(f)) is not None]
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            for i, convert in converters:
                value = row[i]
                if value is not None:
                    row[i] = convert(value)
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def update(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """``UPDATE … SET <fields> WHERE id = %s`` for each of ``objs`` (``updated_at`` too,
    when the model has it).

    Django's ``bulk_update`` builds a CASE expression per field over the whole batch,
    which grows slow for tens of thousands of rows; one small statement per row, sent
    in batches, stays linear.
    """
    if not objs:
        return
    names = set(fields)
    if any(f.attname == "updated_at" for f in model._meta.concrete_fields):
        names.add("updated_at")
        now = timezone.now()
        for obj in objs:
            obj.updated_at = now  # type: ignore[attr-defined]
    cols = _columns(model, sorted(names))
    qn = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET "
        + ", ".join(f"{qn(str(f.column))} = %s" for f in cols)
        + f" WHERE {qn(str(pk.column))} = %s"
    )
    _execute_many(sql, ([getattr(o, f.attname) for f in cols] + [o.pk] for o in objs), cols)


@contextmanager
def large_cache(megabytes: int = 64) -> Iterator[None]:
    """On SQLite, a bigger page cache while an import writes, restored afterwards.

    A member row touches a dozen indexes; with SQLite's default 2 MB cache, 100,000
    inserts spend much of their time re-reading index pages (about a fifth of the
    write, measured). Other databases manage their own memory: nothing to do there.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-1024 * int(megabytes)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")
