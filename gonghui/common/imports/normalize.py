"""Turn raw cells into clean values, or say in Chinese what is wrong with them.

A cell arrives as calamine gives it (``str``, ``float``, ``int``, ``bool``, ``date``,
``datetime``…) or as CSV text. Each column type has a converter that returns the value
or raises :class:`CellError`. Converters run once per cell on files of 100,000 rows, so
each has a fast path for the common, already clean value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from .columns import AmbiguousChoice, Column, ColumnType


class CellError(ValueError):
    """A cell that cannot be read as its column's type; the message is for the user."""


#: A 身份证号 written by Excel as a number in scientific notation (``1.10105E+17``).
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E\+?\d+$", re.IGNORECASE)
_DATE_PARTS = re.compile(
    r"^(\d{4})\s*[-/.年／．－]\s*(\d{1,2})\s*[-/.月／．－]\s*(\d{1,2})\s*[日号]?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1900, 2100
_MONEY_NOISE = re.compile(r"[,，\s元¥￥]")
#: Distinct cells a text column remembers the clean value of.
_MEMO_LIMIT = 20_000


#: Full-width digits and letters (what a Chinese input method types in 全角 mode) to
#: ASCII: only for cells whose column holds digits or codes (身份证号, 手机号, numbers,
#: dates, 工号); a name or a note keeps what was typed.
_WIDTH = {
    cp: cp - 0xFEE0
    for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
}
_WIDE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
#: Invisible characters that are pure noise, left by copying from web pages and Word:
#: zero-width space, byte-order mark, word joiner. Other format characters mean
#: something (U+200D joins an emoji, U+200C shapes a script) and are kept as typed.
_NOISE = {0x200B: None, 0xFEFF: None, 0x2060: None}


def clean_text(value: str) -> str:
    """Text as typed: runs of spaces (of any kind) and line breaks collapsed to one
    space, ends trimmed, zero-width noise (:data:`_NOISE`) and control characters
    dropped. Nothing else changes: full-width letters, emoji joiners and direction
    marks stay (Django escapes them on output).

    Cells run through this once each on files of 100,000 rows: already clean text
    (the common case) is recognised with C-level checks and returned as it is.
    ``isprintable`` is false for invisible (Cf), control (Cc) and non-ASCII space
    characters.
    """
    if (
        value.isprintable()
        and not value.startswith(" ")
        and not value.endswith(" ")
        and "  " not in value
    ):
        return value
    value = value.translate(_NOISE)
    if not value.isprintable():
        value = "".join(
            " " if ch in "\t\r\n" else ch
            for ch in value
            if ch.isprintable() or ch.isspace() or unicodedata.category(ch) != "Cc"
        )
    return " ".join(value.split())


def clean_digits(value: str) -> str:
    """:func:`clean_text`, with full-width digits and letters made ASCII: for cells that
    hold numbers or codes, where ``１２３`` typed in 全角 mode means ``123``."""
    text = clean_text(value)
    return text.translate(_WIDTH) if _WIDE.search(text) else text


def _number_text(value: float | int) -> str:
    """``1001.0`` → ``"1001"``: Excel stores typed-in numbers as floats."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return clean_text(value) if value else ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() else f"{value:%Y-%m-%d}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return clean_text(str(value))


def _checked_date(y: int, m: int, d: int, shown: str) -> dt.date:
    try:
        date = dt.date(y, m, d)
    except ValueError:
        raise CellError(f"「{shown}」不是有效日期，请写成 2024-03-05 这样的格式") from None
    if not _MIN_YEAR <= date.year <= _MAX_YEAR:
        raise CellError(f"日期「{shown}」不合理（年份应在 {_MIN_YEAR}–{_MAX_YEAR} 之间）")
    return date


def excel_serial_date(serial: float) -> dt.date:
    """An Excel date serial (days since 1899-12-30 in the 1900 system) as a date.

    Excel counts a 29 February 1900 that never was, so serials below 61 are one day
    off; no roster date is that old, and those give a "不合理" error anyway.
    """
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def to_date(value: Any) -> dt.date | None:
    """Dates as people write them: 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日,
    20240305, an Excel serial or a date cell."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _checked_date(value.year, value.month, value.day, f"{value:%Y-%m-%d}")
    if isinstance(value, dt.date):
        return _checked_date(value.year, value.month, value.day, f"{value:%Y-%m-%d}")
    if isinstance(value, bool):
        raise CellError("不是日期")
    if isinstance(value, int | float):
        whole = isinstance(value, int) or value.is_integer()
        if whole and 19000101 <= value <= 21001231:
            text = str(int(value))
            return _checked_date(int(text[:4]), int(text[4:6]), int(text[6:]), text)
        if 1 <= value < 80000:
            date = excel_serial_date(value)
            return _checked_date(date.year, date.month, date.day, f"{date:%Y-%m-%d}")
        raise CellError(f"「{_number_text(value)}」不是日期，请写成 2024-03-05 这样的格式")
    text = clean_digits(str(value))
    if not text:
        return None
    match = _DATE_PARTS.match(text) or _DATE_COMPACT.match(text)
    if match:
        y, m, d = (int(g) for g in match.groups())
        return _checked_date(y, m, d, text)
    if text.replace(".", "", 1).isdigit():
        return to_date(float(text))
    raise CellError(f"「{text}」不是日期，请写成 2024-03-05 这样的格式")


def to_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("应为整数")
    if isinstance(value, float):
        if not value.is_integer():
            raise CellError(f"「{value}」应为整数")
        value = int(value)
    if isinstance(value, int):
        if value < 0:
            raise CellError("不能为负数")
        return value
    text = clean_digits(str(value)).rstrip("人名个").replace(",", "")
    if not text:
        return None
    if not text.isdigit():
        raise CellError(f"「{text}」应为不小于 0 的整数")
    return int(text)


def to_decimal(value: Any) -> Decimal | None:
    """Money in 元: two decimal places at most (``8,500.00元`` is fine)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("应为金额")
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int):
        text = str(value)
    else:
        text = _MONEY_NOISE.sub("", clean_digits(str(value)))
        if not text:
            return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError(f"「{text}」不是金额，请只写数字，如 8500.00") from None
    if not amount.is_finite():
        raise CellError(f"「{text}」不是金额")
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(f"「{text}」最多两位小数")
    if amount < 0:
        raise CellError("不能为负数")
    if amount >= Decimal("100000000"):
        raise CellError(f"「{text}」过大，请核对")
    return amount.quantize(Decimal("0.01"))


def is_masked(text: str) -> bool:
    """A number shown masked (``110105********0021``, ``138****5678``)."""
    return "*" in text


def to_id_number(value: Any) -> str:
    """身份证号 as text. A number cell has lost digits: Excel keeps only 15 significant
    digits, so an 18-digit number typed into a "常规" cell ends in zeros or shows as
    1.10105E+17. Say so, rather than report a wrong check digit."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = f"{value:.5E}" if value >= 1e15 else _number_text(value)
        raise CellError(
            f"被 Excel 存成了数字（显示为 {shown}），末尾几位已经丢失。"
            "请把该列设置为「文本」格式，重新填写完整的 18 位号码"
        )
    text = clean_digits(str(value)).replace(" ", "").upper()
    if _SCIENTIFIC.match(text):
        raise CellError(
            f"是科学计数法「{text}」，说明 Excel 把它存成了数字，末尾几位已经丢失。"
            "请把该列设置为「文本」格式，重新填写完整的 18 位号码"
        )
    return text


def to_phone(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number_text(value)
    return clean_digits(str(value))


def converter(col: Column) -> Callable[[Any], Any]:
    """The function that turns one raw cell of ``col`` into its value."""
    if col.type == ColumnType.DATE:
        cache: dict[Any, dt.date | None] = {}

        def date_cell(value: Any) -> dt.date | None:
            # Join and work dates repeat across thousands of rows: parse each once.
            try:
                return cache[value]
            except KeyError:
                result = cache[value] = to_date(value)
                return result
            except TypeError:  # unhashable, never from the readers
                return to_date(value)

        return date_cell
    if col.type == ColumnType.INT:
        return to_int
    if col.type == ColumnType.DECIMAL:
        return to_decimal
    if col.type == ColumnType.ID_NUMBER:
        return to_id_number
    if col.type == ColumnType.PHONE:
        return to_phone
    if col.type == ColumnType.CHOICE:
        matcher = col.choice_matcher()
        labels = [label for _, label in col.choices]
        shown = "、".join(labels) if len(labels) <= 8 else "见下拉列表或模板的「填写说明」"

        seen: dict[Any, str] = {}

        def choice_cell(value: Any) -> str:
            # A column of choices holds a handful of distinct cells: look each up once.
            try:
                return seen[value]
            except KeyError:
                pass
            except TypeError:
                return choice_cell(str(value))
            if value is None or value == "":
                return ""
            text = to_text(value)
            if not text:
                return ""
            try:
                result = matcher.match(text)
            except AmbiguousChoice as exc:
                raise CellError(str(exc)) from None
            if result is None:
                raise CellError(f"「{text}」不在可选范围内（可选：{shown}）")
            seen[value] = result
            return result

        return choice_cell
    max_length = col.max_length
    fold = col.fold_width
    known: dict[Any, str] = {}

    def text_cell(value: Any) -> str:
        # 部门, 职务 and the like hold a few dozen distinct cells in 100,000 rows: clean
        # each once. A column of unique values (姓名, 工号) stops adding at a bound.
        # Text cells only: as keys, 1, 1.0 and True would be one.
        is_text = type(value) is str
        if is_text:
            try:
                return known[value]
            except KeyError:
                pass
        text = to_text(value)
        if fold and _WIDE.search(text):
            text = text.translate(_WIDTH)
        if max_length and len(text) > max_length:
            raise CellError(f"过长（最多 {max_length} 个字）")
        if is_text and len(known) < _MEMO_LIMIT:
            known[value] = text
        return text

    return text_cell
