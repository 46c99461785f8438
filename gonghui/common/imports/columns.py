"""Declared columns: what an app's spreadsheet looks like.

An app that accepts Excel declares, in its ``imports.py``, one :class:`ImportSpec` with
its :class:`Column` list. The reader, the normaliser, the template download and the
export all work from that one declaration, so the template, an export and an import
always agree on the headers and on how each value is written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from gonghui.common.scope import Perm, visible
from gonghui.org.models import subtree_q

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import QueryDict

    from gonghui.org.models import Union, User

    from .engine import Context, Plan, Row, RowStream
    from .progress import Progress


class ColumnType(StrEnum):
    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    DATE = "date"
    CHOICE = "choice"
    ID_NUMBER = "id_number"  # 身份证号: kept as text, a number cell is explained
    PHONE = "phone"
    LOOKUP = "lookup"  # a related row named by its name or code (所属工会, 上级工会)


_HEADER_NOISE = re.compile(r"[\s*＊:：]|[（(](?:必填|选填|可选|非必填)[)）]")


def header_key(text: Any) -> str:
    """A header cell reduced to what identifies it: width, spaces and "（必填）" dropped."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text))
    value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cf", "Cc"))
    return _HEADER_NOISE.sub("", value).lower()


def choice_key(text: str) -> str:
    return header_key(text)


@dataclass(frozen=True)
class Column:
    """One column of a spreadsheet.

    ``key`` is the name the app's spec receives the value under. ``choices`` are
    ``(value, Chinese label)``; a cell may hold the label, the value, or one of
    ``choice_aliases`` (a dict of other spellings → value). ``export`` says whether the
    export writes it (a column only meaningful for new rows, like 入会方式, is left out).
    """

    key: str
    header: str
    type: ColumnType = ColumnType.TEXT
    aliases: tuple[str, ...] = ()
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()
    choice_aliases: dict[str, str] = field(default_factory=dict)
    max_length: int | None = None
    note: str = ""
    example: str = ""
    width: int = 12
    export: bool = True

    def header_keys(self) -> set[str]:
        return {header_key(self.header), *(header_key(a) for a in self.aliases)}

    def label_of(self, value: str) -> str:
        for v, label in self.choices:
            if v == value:
                return label
        return value

    def choice_map(self) -> dict[str, str]:
        """Every accepted spelling (reduced by :func:`choice_key`) → the stored value."""
        result: dict[str, str] = {}
        for alias, value in self.choice_aliases.items():
            result[choice_key(alias)] = value
        for value, label in self.choices:
            result[choice_key(value)] = value
            result[choice_key(label)] = value
        return result


class ImportSpec:
    """What one kind of import (``members``, ``unions`` …) does with its rows.

    Subclasses set the class attributes and implement :meth:`check` (validate every row
    against the database and plan the writes, without writing) and :meth:`write` (carry
    out a plan, inside the engine's single transaction, through the app's services).
    """

    kind: ClassVar[str]
    label: ClassVar[str]  # 会员名册
    columns: ClassVar[Sequence[Column]]
    #: Sheet names that mark the right sheet in a workbook with several (会员, 名册).
    sheet_hints: ClassVar[tuple[str, ...]] = ()
    #: The permission needed to import (checked at the default union and for every row).
    perm: ClassVar[Perm] = Perm.IMPORT
    view_perm: ClassVar[Perm] = Perm.ORG_VIEW
    #: The column that names the row's union, if any; the default union fills it.
    union_column: ClassVar[str | None] = None
    notes: ClassVar[tuple[str, ...]] = ()

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    #: True: the engine calls :meth:`check_stream` instead of :meth:`check`, so a large
    #: file is never held as rows all at once.
    streams: ClassVar[bool] = False

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        raise NotImplementedError

    def check_stream(self, rows: RowStream, ctx: Context, progress: Progress) -> Plan:
        """:meth:`check` over rows converted as they are read (iterate ``rows`` once)."""
        raise NotImplementedError

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        raise NotImplementedError

    # Export ----------------------------------------------------------------------

    #: The union an exported row belongs to, as a lookup from the row (``""``: the row is
    #: a union): the viewer's scope and the export's subtree both go by it.
    export_via: ClassVar[str] = "union"

    def export_base(self) -> QuerySet[Any]:
        """Every row an export of this kind may write, before scope and subtree."""
        raise NotImplementedError

    def export_queryset(self, viewer: User | None, root: Union | None) -> QuerySet[Any]:
        """The rows of :meth:`export_base` that ``viewer`` sees with ``view_perm`` (all,
        from the command line), in ``root``'s subtree if given."""
        qs = self.export_base()
        if viewer is not None:
            qs = visible(qs, viewer, self.view_perm, via=self.export_via)
        if root is not None:
            path = f"{self.export_via}__path" if self.export_via else "path"
            qs = qs.filter(subtree_q(root.path, path))
        return qs

    def export_filtered(self, viewer: User, query: QueryDict) -> tuple[QuerySet[Any], Union | None]:
        """The rows an export button on a filtered list writes: that list's filters
        (``query``, the list page's own GET parameters) applied in the viewer's scope,
        and the subtree they are limited to. By default, everything the viewer sees."""
        return self.export_queryset(viewer, None), None

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        raise NotImplementedError

    def example_row(self) -> list[str]:
        return [col.example for col in self.columns]


_registry: dict[str, Callable[[], ImportSpec]] = {}


def register(spec_class: type[ImportSpec]) -> type[ImportSpec]:
    """Class decorator: make a spec available to the engine, the CLI and the web pages."""
    _registry[spec_class.kind] = spec_class
    return spec_class


def _discover() -> None:
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    for config in apps.get_app_configs():
        name = f"{config.name}.imports"
        if config.name.startswith("gonghui.") and find_spec(name):
            import_module(name)


def get_spec(kind: str) -> ImportSpec:
    if not _registry:
        _discover()
    try:
        return _registry[kind]()
    except KeyError:
        raise LookupError(kind) from None


def kinds() -> Iterable[ImportSpec]:
    if not _registry:
        _discover()
    return [factory() for factory in _registry.values()]
