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

import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

BATCH = 5000
#: Below this many new rows a table keeps its indexes while they are inserted.
DEFER_INDEXES_MIN = 5000

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


def _db(model: type[models.Model]) -> BaseDatabaseWrapper:
    """The model's connection itself (``django.db.connection`` is a proxy that looks it
    up again on every attribute access: 100,000 rows × a dozen values add up)."""
    return connections[router.db_for_write(model)]


def _converter(
    field: models.Field[Any, Any], db: BaseDatabaseWrapper
) -> Callable[[Any], Any] | None:
    if field.get_internal_type() in _AS_IS:
        return None
    cache: dict[Any, Any] = {}
    prep = field.get_db_prep_save

    def convert(value: Any) -> Any:
        # Timestamps (one per call), dates and amounts repeat across thousands of rows,
        # and adapting a datetime for the database is slow: adapt each value once.
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = prep(value, db)
            return result
        except TypeError:  # unhashable (a JSON dict)
            return prep(value, db)

    return convert


def _columns(
    model: type[models.Model], fields: Sequence[str] | None, *, with_pk: bool = False
) -> list[models.Field[Any, Any]]:
    meta = model._meta
    cols = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    if fields is not None:
        cols = [f for f in cols if f.attname in fields or f.name in fields]
    return cols


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model``, ascending, for rows the caller inserts
    with :func:`insert` (``with_pk``): the rows that refer to them (membership changes)
    need them, and reading them back after the insert costs a query per few thousand.

    PostgreSQL hands them out from the table's sequence (safe with concurrent inserts).
    On SQLite the caller's transaction holds the write lock (``BEGIN IMMEDIATE``): the
    next ids are those after both the largest in the table and the largest ever used
    (``AUTOINCREMENT`` never reuses one); SQLite moves its counter past the inserted ids.
    """
    if count <= 0:
        return []
    db = _db(model)
    table = model._meta.db_table
    pk = model._meta.pk
    assert pk is not None
    qn = db.ops.quote_name
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, count],
            )
            return sorted(r[0] for r in cursor.fetchall())
        if db.vendor != "sqlite":
            raise NotImplementedError(f"reserve_ids: {db.vendor}")
        if not db.in_atomic_block:
            raise RuntimeError("reserve_ids needs the caller's transaction")
        cursor.execute(f"SELECT max({qn(str(pk.column))}) FROM {qn(table)}")
        largest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(largest, row[0] if row else 0) + 1
    return list(range(start, start + count))


def insert(
    model: type[models.Model], objs: Sequence[models.Model], *, with_pk: bool = False
) -> None:
    """INSERT ``objs`` (ids not fetched, or given with ``with_pk``, see
    :func:`reserve_ids`). ``auto_now``/``auto_now_add`` fields get one timestamp for
    the whole call."""
    if not objs:
        return
    now = timezone.now()
    cols = _columns(model, None, with_pk=with_pk)
    stamped = [
        f.attname
        for f in cols
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj in objs:
        for name in stamped:
            setattr(obj, name, now)
    names = [f.attname for f in cols]
    _insert_rows(model, cols, _values(objs, names))


def _values(objs: Sequence[models.Model], names: list[str]) -> Iterator[list[Any]]:
    """Each object's ``names`` as a list: straight from its ``__dict__`` (one C call for
    the whole row; 30 ``getattr`` per row, some through descriptors, cost seconds for
    100,000 rows), by ``getattr`` for an object that lacks one."""
    if len(names) < 2:  # itemgetter of one name returns the value, not a tuple
        yield from ([getattr(obj, name) for name in names] for obj in objs)
        return
    pick = operator.itemgetter(*names)
    for obj in objs:
        try:
            yield list(pick(obj.__dict__))
        except KeyError:
            yield [getattr(obj, name) for name in names]


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
    _insert_rows(model, cols, ([row.get(name, default) for name, default in pairs] for row in rows))


def _insert_rows(
    model: type[models.Model], cols: Sequence[models.Field[Any, Any]], rows: Iterable[list[Any]]
) -> None:
    db = _db(model)
    qn = db.ops.quote_name
    table = qn(model._meta.db_table)
    names = ", ".join(qn(str(f.column)) for f in cols)
    if db.vendor == "postgresql":
        # COPY: the rows stream in one statement, without a parse, a plan and a round
        # trip per row as an INSERT each would need (half the time on the server).
        _copy(model, f"COPY {table} ({names}) FROM STDIN", rows, cols)
        return
    marks = ", ".join(["%s"] * len(cols))
    _execute_many(model, f"INSERT INTO {table} ({names}) VALUES ({marks})", rows, cols)


def _converted(
    db: BaseDatabaseWrapper, rows: Iterable[list[Any]], cols: Sequence[models.Field[Any, Any]]
) -> Iterator[list[Any]]:
    converters = [(i, c) for i, f in enumerate(cols) if (c := _converter(f, db)) is not None]
    for row in rows:
        for i, convert in converters:
            value = row[i]
            if value is not None:
                row[i] = convert(value)
        yield row


def _execute_many(
    model: type[models.Model],
    sql: str,
    rows: Iterable[list[Any]],
    cols: Sequence[models.Field[Any, Any]],
) -> None:
    """Convert and send ``rows`` a batch at a time, so that the parameters of a 100,000
    row import are never all in memory at once."""
    db = _db(model)
    batch: list[list[Any]] = []
    with db.cursor() as cursor:
        for row in _converted(db, rows, cols):
            batch.append(row)
            if len(batch) >= BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _copy(
    model: type[models.Model],
    sql: str,
    rows: Iterable[list[Any]],
    cols: Sequence[models.Field[Any, Any]],
) -> None:
    db = _db(model)
    # The driver's own cursor (Django's wrapper has no COPY); its errors are turned into
    # Django's (IntegrityError…) as the wrapper would.
    with db.wrap_database_errors, db.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        write_row = copy.write_row
        for row in _converted(db, rows, cols):
            write_row(row)


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
    qn = _db(model).ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET "
        + ", ".join(f"{qn(str(f.column))} = %s" for f in cols)
        + f" WHERE {qn(str(pk.column))} = %s"
    )
    _execute_many(model, sql, ([getattr(o, f.attname) for f in cols] + [o.pk] for o in objs), cols)


@contextmanager
def deferred_indexes(model: type[models.Model], *, adding: int) -> Iterator[None]:
    """On SQLite, while many rows are inserted into a table that holds fewer, drop the
    table's indexes and build them again afterwards, in the caller's transaction.

    A member row goes into 15 indexes; inserting 100,000 rows one by one into each,
    in random key order, took three times as long as inserting them bare and building
    each index once from sorted keys. Building costs time in proportion to the whole
    table, so only an import at least as large as the table gains (a union's first
    roster). The drop and the rebuild are part of the transaction: if anything fails,
    the rollback restores the indexes as they were; readers (WAL) see the old table and
    its indexes until the commit. A unique index that finds duplicates when it is built
    raises ``IntegrityError`` like the insert would have. PostgreSQL is left alone:
    there dropping an index locks the whole table against readers until the commit.
    """
    db = _db(model)
    if db.vendor != "sqlite" or adding < DEFER_INDEXES_MIN or not db.in_atomic_block:
        yield
        return
    table = model._meta.db_table
    qn = db.ops.quote_name
    with db.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {qn(table)}")
        if cursor.fetchone()[0] > adding:
            indexes = []
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
            indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {qn(name)}")
    # On an exception the caller's rollback brings the indexes back.
    yield
    with db.cursor() as cursor:
        for _, sql in indexes:
            cursor.execute(sql)


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
