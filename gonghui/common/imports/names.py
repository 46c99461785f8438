"""Finding the row a cell names by its name: a union, a donation drive, an activity, a club.

A sheet kept by hand or exported from another system rarely spells a name exactly as
the system does: 后勤分工会 for 后勤服务分工会, 一日捐 for 2024年元旦春节一日捐, with
full-width digits or a stray space. A name is matched, within the importer's scope, by
its code (where it has one), then exactly, then as the one name that starts with the
text, then as the one name that contains it. Where several fit, the cell is refused
with the candidates named, so that the user can write the name in full.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from gonghui.org.models import Union

T = TypeVar("T")

#: Shortest text matched as the start or a part of a name: one character names too much.
MIN_PARTIAL = 2
#: Candidates named in an error.
SHOWN = 5


def name_key(text: str) -> str:
    """A name reduced to what identifies it: width, case, spaces and invisible
    characters do not matter."""
    value = unicodedata.normalize("NFKC", text)
    return "".join(
        ch for ch in value if not ch.isspace() and unicodedata.category(ch) != "Cf"
    ).casefold()


@dataclass
class Found(Generic[T]):
    """The outcome of :meth:`NameIndex.find`: the one item, or the candidates."""

    item: T | None
    candidates: list[T]

    @property
    def ambiguous(self) -> bool:
        return self.item is None and len(self.candidates) > 1


class NameIndex(Generic[T]):
    """The items a sheet may name, by name (and code)."""

    def __init__(
        self,
        items: Iterable[T],
        name: Callable[[T], str],
        code: Callable[[T], str] | None = None,
    ) -> None:
        self.items = list(items)
        self._name = name
        self.by_code: dict[str, T] = {}
        if code is not None:
            for item in self.items:
                if c := code(item):
                    self.by_code[c.upper()] = item
        self.by_key: dict[str, list[T]] = defaultdict(list)
        for item in self.items:
            self.by_key[name_key(name(item))].append(item)
        self._cache: dict[str, Found[T]] = {}

    def find(self, text: str) -> Found[T]:
        """The item ``text`` names: by code, exact name, unique start, unique part."""
        if text in self._cache:
            return self._cache[text]
        found = self._find(text)
        self._cache[text] = found
        return found

    def _find(self, text: str) -> Found[T]:
        if text.strip().upper() in self.by_code:
            return Found(self.by_code[text.strip().upper()], [])
        key = name_key(text)
        if not key:
            return Found(None, [])
        exact = self.by_key.get(key, [])
        if exact:
            return Found(exact[0] if len(exact) == 1 else None, exact)
        if len(key) < MIN_PARTIAL:
            return Found(None, [])
        for test in (str.startswith, str.__contains__):
            hits = [item for k, items in self.by_key.items() if test(k, key) for item in items]
            hits.sort(key=self._name)  # the same message whatever order the rows came in
            if hits:
                return Found(hits[0] if len(hits) == 1 else None, hits)
        return Found(None, [])

    def candidates_text(self, found: Found[T], label: Callable[[T], str] | None = None) -> str:
        """``「后勤服务分工会」、「后勤保障分工会」`` (the first few)."""
        shown = label or self._name
        names = [f"「{shown(item)}」" for item in found.candidates[:SHOWN]]
        more = len(found.candidates) - SHOWN
        return "、".join(names) + (f" 等 {len(found.candidates)} 个" if more > 0 else "")


def union_index(unions: Iterable[Union]) -> NameIndex[Union]:
    return NameIndex(unions, name=lambda u: u.name, code=lambda u: u.code)


def resolve_union(index: NameIndex[Union], text: str) -> Union | str:
    """The union ``text`` names among ``index`` (the importer's reach), or the message
    saying why there is none."""
    from gonghui.org.models import Union

    found = index.find(text)
    if found.item is not None:
        return found.item
    if found.ambiguous and all(name_key(u.name) == name_key(text) for u in found.candidates):
        codes = "、".join(u.code for u in found.candidates[:SHOWN])
        return f"名称为「{text}」的组织不止一个，请改写代码（{codes}）"
    if found.ambiguous:
        names = index.candidates_text(found, label=lambda u: f"{u.name}（代码 {u.code}）")
        return f"「{text}」可能是：{names}，请写完整的名称或代码"
    if Union.objects.filter(name=text).exists() or Union.objects.filter(code__iexact=text).exists():
        return f"「{text}」不在您可以导入的范围内"
    return f"找不到名称或代码为「{text}」的工会组织"
