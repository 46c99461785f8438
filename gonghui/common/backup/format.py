"""The backup file: its layout, the tables it holds, and each column's portable value.

Layout of the zip::

    manifest.json            see :class:`Manifest`
    data/<table>.jsonl       one JSON array per row, the values in the order of the
                             table's ``columns`` in the manifest, rows by primary key
    media/<path>             the files of the data folder's ``media/`` (visit photos,
                             attachments), byte for byte

A value is the column's stored value in a form both engines read back the same:
integers and text as they are, booleans as JSON booleans, dates, times and datetimes
in ISO 8601 (datetimes in UTC), decimals as strings with the column's decimal places,
durations as microseconds, UUIDs as 32 hex digits, bytes in base64, JSON columns as
their JSON value (in a nullable JSON column, ``null`` is SQL NULL).

The tables are those of the applied migrations' models (the schema the data was
written in, not necessarily the code's latest), in dependency order. Sessions are left
out: restoring one would log back in whoever had logged out since the backup.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import json
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import StateApps
from django.utils.dateparse import parse_date, parse_datetime, parse_time

FORMAT = "gonghui-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATA_DIR = "data/"
MEDIA_DIR = "media/"

#: Tables never copied: migrate writes the first itself, the second holds log-ins.
SKIPPED_TABLES = frozenset({"django_migrations", "django_session"})
#: Rows that migrate creates in a new database; a restore replaces them with the backup's.
MIGRATE_FILLS = frozenset({"django_content_type", "auth_permission"})

Migrations = dict[str, list[str]]


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why and what to do."""


@dataclass
class Table:
    """One table of a backup: its model in the migration state and its columns."""

    name: str
    model: str
    columns: list[str]
    fields: list[models.Field[Any, Any]] = field(repr=False, default_factory=list)
    pk: str = "id"
    cls: type[models.Model] | None = field(repr=False, default=None)

    @property
    def path(self) -> str:
        return f"{DATA_DIR}{self.name}.jsonl"


@dataclass
class Manifest:
    created_at: str
    engine: str
    migrations: Migrations
    tables: list[dict[str, Any]]
    media: list[dict[str, Any]]
    checksum: str
    gonghui_version: str = ""
    format: str = FORMAT
    version: int = VERSION

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise BackupError("备份文件的 manifest.json 已损坏，无法读取。") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("这不是 gonghui 的备份文件（manifest.json 不符）。")
        if data.get("version") != VERSION:
            raise BackupError(
                f"备份文件的格式版本 {data.get('version')} 本程序不认识（支持 {VERSION}），"
                "请用做备份的那个版本的 gonghui 恢复，或先升级 gonghui。"
            )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def counts(self) -> dict[str, int]:
        return {t["table"]: t["rows"] for t in self.tables}


def data_checksum(tables: Iterable[dict[str, Any]], media: Iterable[dict[str, Any]]) -> str:
    """One SHA-256 over every data file's and media file's own checksum, in order."""
    digest = hashlib.sha256()
    for entry in tables:
        digest.update(f"{entry['table']}:{entry['sha256']}\n".encode())
    for entry in media:
        digest.update(f"media/{entry['path']}:{entry['sha256']}\n".encode())
    return digest.hexdigest()


# -- the schema -----------------------------------------------------------------------


def state_apps(migrations: Migrations) -> StateApps:
    """The models as the given applied migrations left them."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = [(app, name) for app, names in migrations.items() for name in names]
    missing = [f"{app}.{name}" for app, name in nodes if (app, name) not in loader.graph.nodes]
    if missing:
        raise BackupError(
            "数据来自更新版本的 gonghui（本程序没有这些迁移："
            + "、".join(missing[:5])
            + "）。请先把 gonghui 升级到不低于做备份时的版本。"
        )
    state = loader.graph.make_state(nodes=nodes, at_end=True, real_apps=loader.unmigrated_apps)
    return state.apps


def tables_of(apps: StateApps) -> list[Table]:
    """Every table of ``apps`` that a backup holds, each after the tables it refers to."""
    by_table: dict[str, tuple[type[models.Model], set[str]]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.swapped or meta.proxy or not meta.managed or meta.db_table in SKIPPED_TABLES:
            continue
        refers = {
            f.related_model._meta.db_table
            for f in meta.local_fields
            if f.is_relation and f.related_model is not None
        }
        by_table[meta.db_table] = (model, refers - {meta.db_table})
    ordered: list[Table] = []
    done: set[str] = set()
    pending = sorted(by_table)
    while pending:
        ready = [t for t in pending if by_table[t][1] <= done | (by_table[t][1] - set(by_table))]
        # A cycle between tables (none today) is written in name order: both engines check
        # foreign keys at commit, so the order inside the one transaction does not matter.
        for name in ready or pending[:1]:
            model = by_table[name][0]
            fields = list(model._meta.local_fields)
            pk = model._meta.pk
            ordered.append(
                Table(
                    name=name,
                    model=model._meta.label,
                    columns=[str(f.column) for f in fields],
                    fields=fields,
                    pk=str(pk.column if pk is not None else "id"),
                    cls=model,
                )
            )
            done.add(name)
            pending.remove(name)
    return ordered


# -- values ---------------------------------------------------------------------------


def _kind(f: models.Field[Any, Any]) -> str:
    while f.is_relation and getattr(f, "target_field", None) is not None:
        f = f.target_field  # type: ignore[attr-defined]
    return f.get_internal_type()


_DECIMAL_FROM_FLOAT = decimal.Context(prec=15)


def _datetime(v: Any) -> str:
    parsed = v if isinstance(v, dt.datetime) else parse_datetime(str(v))
    if parsed is None:
        raise ValueError(f"不是日期时间：{v!r}")
    if parsed.tzinfo is None:  # SQLite stores UTC without an offset (USE_TZ)
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat()


def _date(v: Any) -> str:
    parsed = v if isinstance(v, dt.date) else parse_date(str(v))
    if parsed is None:
        raise ValueError(f"不是日期：{v!r}")
    return parsed.isoformat()


def _time(v: Any) -> str:
    parsed = v if isinstance(v, dt.time) else parse_time(str(v))
    if parsed is None:
        raise ValueError(f"不是时间：{v!r}")
    return parsed.isoformat()


def _decimal(places: int) -> Callable[[Any], str]:
    quantum = decimal.Decimal(1).scaleb(-places)

    def encode(v: Any) -> str:
        # SQLite's NUMERIC affinity hands back 300 or 12.5 for 300.00 and 12.50.
        if isinstance(v, float):
            d = _DECIMAL_FROM_FLOAT.create_decimal_from_float(v)
        else:
            d = decimal.Decimal(str(v))
        return format(d.quantize(quantum), "f")

    return encode


def _duration(v: Any) -> int:
    return v // dt.timedelta(microseconds=1) if isinstance(v, dt.timedelta) else int(v)


def _text(v: Any) -> str:
    return v if isinstance(v, str) else str(v)


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "BooleanField": lambda v: v is True or v in (1, "1", "t", "true"),
    "DateTimeField": _datetime,
    "DateField": _date,
    "TimeField": _time,
    "DurationField": _duration,
    "UUIDField": lambda v: uuid.UUID(str(v)).hex,
    "BinaryField": lambda v: base64.b64encode(bytes(v)).decode(),
    "FloatField": float,
}


def encoder(f: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """A function from the column's stored value (as either engine returns it) to JSON."""
    kind = _kind(f)
    if kind == "JSONField":
        return lambda v: json.loads(v) if isinstance(v, str | bytes) else v
    encode: Callable[[Any], Any]
    if kind == "DecimalField":
        encode = _decimal(int(f.decimal_places or 0))  # type: ignore[attr-defined]
    elif kind.endswith(("IntegerField", "AutoField")):
        encode = int
    else:
        encode = _ENCODERS.get(kind, _text)
    return lambda v: None if v is None else encode(v)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "DurationField": lambda v: dt.timedelta(microseconds=v),
    "BinaryField": base64.b64decode,
    "UUIDField": lambda v: uuid.UUID(hex=v),
}


def decoder(f: models.Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """A function from a value of the file to the parameter ``connection`` stores."""
    kind = _kind(f)
    if kind == "JSONField":
        nullable = f.null
        adapt = connection.ops.adapt_json_value
        json_encoder = getattr(f, "encoder", None)
        return lambda v: None if v is None and nullable else adapt(v, json_encoder)
    python = _DECODERS.get(kind, f.to_python)
    prep = f.get_db_prep_value
    return lambda v: None if v is None else prep(python(v), connection, prepared=False)


# -- reading a backup -----------------------------------------------------------------


class Archive:
    """An open backup file."""

    def __init__(self, path: str) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise BackupError(f"无法打开备份文件 {path}：{exc}") from exc
        try:
            raw = self.zip.read(MANIFEST)
        except KeyError as exc:
            raise BackupError(f"{path} 中没有 manifest.json：这不是 gonghui 的备份文件。") from exc
        self.manifest = Manifest.from_json(raw)

    def close(self) -> None:
        self.zip.close()

    def open(self, name: str) -> IO[bytes]:
        try:
            return self.zip.open(name)
        except KeyError as exc:
            raise BackupError(f"备份文件不完整：缺少 {name}。") from exc

    def rows(self, table: str) -> Iterator[list[Any]]:
        with self.open(f"{DATA_DIR}{table}.jsonl") as fh:
            for line in fh:
                yield json.loads(line)

    def verify(self) -> None:
        """Every file's checksum and row count as the manifest says, or BackupError."""
        m = self.manifest
        for entry in m.tables:
            digest, lines = _sha256(self.open(f"{DATA_DIR}{entry['table']}.jsonl"))
            if digest != entry["sha256"] or lines != entry["rows"]:
                raise BackupError(
                    f"备份文件已损坏：{entry['table']} 的校验和（SHA-256）或行数与清单不符。"
                    "请换一份完好的备份。"
                )
        for entry in m.media:
            digest, _ = _sha256(self.open(f"{MEDIA_DIR}{entry['path']}"))
            if digest != entry["sha256"]:
                raise BackupError(f"备份文件已损坏：media/{entry['path']} 的校验和不符。")
        if data_checksum(m.tables, m.media) != m.checksum:
            raise BackupError("备份文件已损坏：清单的总校验和不符。")


def _sha256(fh: IO[bytes]) -> tuple[str, int]:
    digest = hashlib.sha256()
    lines = 0
    with fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            lines += chunk.count(b"\n")
    return digest.hexdigest(), lines
