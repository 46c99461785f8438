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
    ``(value, Chinese label)``; a cell may hold the label, the value, one of
    ``choice_aliases`` (the other words people write for a choice: spelling → value,
    shown in the template's notes), or the start or an abbreviation of any of these
    (see :class:`ChoiceMatcher`). ``export`` says whether the export writes it (a column
    only meaningful for new rows, like 入会方式, is left out). ``fold_width``: a text
    column of codes (工号, 会员证号), whose full-width digits and letters are made ASCII.
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
    fold_width: bool = False

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

    def aliases_of(self, value: str) -> list[str]:
        """The other words accepted for choice ``value`` (for the template's notes)."""
        label = choice_key(self.label_of(value))
        return [a for a, v in self.choice_aliases.items() if v == value and choice_key(a) != label]

    def choice_matcher(self) -> ChoiceMatcher:
        return ChoiceMatcher(self)


class ChoiceMatcher:
    """What a choice cell means: an exact label, value or alias; else the one choice
    whose label or alias starts with the text (本级工会 → 本级工会经费); else the one
    whose label or alias holds the text's characters in order, starting with the same
    one (省部 → 省部级, 困补 → 困难补助). Several choices → :class:`AmbiguousChoice`,
    naming them; none → ``None``.

    Labels written with a slash (临时/制度外) count as each of their parts too.
    """

    def __init__(self, col: Column) -> None:
        self.exact = col.choice_map()
        #: (reduced spelling, as shown, value): labels first, so they are the ones named.
        spellings: list[tuple[str, str, str]] = []
        for value, label in col.choices:
            spellings.append((choice_key(label), label, value))
            for part in re.split(r"[/／、]", label):
                if part and part != label:
                    spellings.append((choice_key(part), part, value))
                    self.exact.setdefault(choice_key(part), value)
        for alias, value in col.choice_aliases.items():
            spellings.append((choice_key(alias), alias, value))
        self.spellings = [s for s in spellings if s[0]]

    def match(self, text: str) -> str | None:
        key = choice_key(text)
        if not key:
            return None
        if key in self.exact:
            return self.exact[key]
        for test in (_starts, _abbreviates):
            found: dict[str, str] = {}
            for spelling, shown, value in self.spellings:
                if value not in found and test(key, spelling):
                    found[value] = shown
            if len(found) == 1:
                return next(iter(found))
            if found:
                raise AmbiguousChoice(text, list(found.values()))
        return None


class AmbiguousChoice(ValueError):
    def __init__(self, text: str, candidates: list[str]) -> None:
        super().__init__(f"「{text}」可能是：{'、'.join(candidates)}，请写完整")


def _starts(key: str, spelling: str) -> bool:
    return len(spelling) > len(key) and spelling.startswith(key)


def _abbreviates(key: str, spelling: str) -> bool:
    """``key``'s characters appear in ``spelling`` in order, the first one first."""
    if len(key) < 2 or len(spelling) <= len(key) or key[0] != spelling[0]:
        return False
    at = 1
    for ch in key[1:]:
        at = spelling.find(ch, at)
        if at < 0:
            return False
        at += 1
    return True


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
        and the subtree they are limited to. By default, the subtree of the list's
        ``?union=`` (one the viewer sees) or else everything the viewer sees."""
        root = self.union_asked(viewer, query)
        return self.export_queryset(viewer, root), root

    def union_asked(self, viewer: User, query: QueryDict) -> Union | None:
        """The union of ``?union=`` if ``viewer`` sees it with ``view_perm``, else ``None``."""
        from gonghui.org.models import Union

        asked = query.get("union") or ""
        if not asked.isdigit():
            return None
        unions = visible(
            Union.objects.filter(archived_at__isnull=True), viewer, self.view_perm, via=""
        )
        return unions.filter(pk=int(asked)).first()

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
