"""Cells as people type them become clean values, or a Chinese message saying what to fix."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gonghui.common.imports.columns import Column
from gonghui.common.imports.normalize import (
    CellError,
    clean_digits,
    clean_text,
    converter,
    to_date,
    to_decimal,
    to_id_number,
    to_int,
    to_phone,
    to_text,
)

MARCH_5 = dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "cell",
    [
        "2024-03-05",
        "2024-3-5",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "2024年3月5日",
        "2024年03月05日",
        "20240305",
        "２０２４年３月５日",  # full-width digits
        " 2024-03-05\u200b",  # stray and invisible spaces
        "2024-03-05 00:00:00",
        45356,  # Excel serial
        45356.0,
        20240305.0,  # typed as a number
        MARCH_5,
        dt.datetime(2024, 3, 5, 0, 0),
    ],
)
def test_every_date_format_reads_as_the_same_day(cell: object) -> None:
    assert to_date(cell) == MARCH_5


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2024-13-05", "不是有效日期"),
        ("2024-02-30", "不是有效日期"),
        ("明天", "不是日期"),
        ("1850-01-01", "不合理"),
        (True, "不是日期"),
    ],
)
def test_bad_dates_say_why(cell: object, message: str) -> None:
    with pytest.raises(CellError, match=message):
        to_date(cell)


def test_blank_cells_are_empty() -> None:
    assert to_date("") is None
    assert to_date(None) is None
    assert to_text(None) == ""
    assert to_decimal("") is None


def test_text_is_kept_as_typed_but_for_spaces_and_zero_width_noise() -> None:
    assert clean_text("\ufeff 张\u00a0三 \u200b") == "张 三"
    assert clean_text("语文　组") == "语文 组"  # ideographic space
    assert clean_text("王\u2060芳\n\t组长") == "王芳 组长"
    assert to_text(1001.0) == "1001"  # a 工号 Excel stored as a number
    # Full-width letters in a name or a note are what was typed.
    assert clean_text("ＡＢＣ１２３") == "ＡＢＣ１２３"
    assert clean_digits("ＡＢＣ１２３") == "ABC123"


def test_emoji_joiners_and_direction_marks_are_kept() -> None:
    family = "👨\u200d👩\u200d👧"  # one emoji made of three, joined by U+200D
    assert clean_text(f" 李{family} ") == f"李{family}"
    assert clean_text("ن\u200cا") == "ن\u200cا"  # a zero-width non-joiner shapes the script
    # U+202E in a name: kept as typed (the issue asks text to be kept); on the page it is
    # escaped by Django like any text, and it never reaches a number or a code.
    assert clean_text("张\u202e三") == "张\u202e三"


def test_full_width_digits_are_folded_only_where_the_column_holds_digits() -> None:
    assert to_id_number("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"
    assert to_phone("１３８１２３４５６７８") == "13812345678"
    assert to_decimal("８５００元") == Decimal("8500.00")
    assert to_date("２０２４年３月５日") == dt.date(2024, 3, 5)
    code = converter(Column("employee_no", "工号", fold_width=True))
    assert code("Ａ０００１") == "A0001"
    name = converter(Column("name", "姓名"))
    assert name("Ａ０００１") == "Ａ０００１"


def test_an_id_number_stored_as_a_number_is_explained() -> None:
    # Excel keeps 15 significant digits: 110105194912310021 becomes 110105194912310000.
    with pytest.raises(CellError, match=r"存成了数字.*末尾几位已经丢失"):
        to_id_number(1.10105194912310e17)
    with pytest.raises(CellError, match="存成了数字"):
        to_id_number(110105194912310000)
    with pytest.raises(CellError, match="科学计数法"):
        to_id_number("1.10105E+17")


def test_id_numbers_in_text_are_normalised() -> None:
    assert to_id_number(" １１０１０５１９４９１２３１００２ｘ ") == "11010519491231002X"
    assert to_id_number("110105********0021") == "110105********0021"


def test_phone_from_a_number_cell() -> None:
    assert to_phone(13812345678.0) == "13812345678"
    assert to_phone(13812345678) == "13812345678"


def test_money_has_two_places_at_most() -> None:
    assert to_decimal(8500.5) == Decimal("8500.50")
    assert to_decimal("8,500.00元") == Decimal("8500.00")
    assert to_decimal("￥１２００") == Decimal("1200.00")
    with pytest.raises(CellError, match="两位小数"):
        to_decimal("8500.555")
    with pytest.raises(CellError, match="负数"):
        to_decimal(-1)
    with pytest.raises(CellError, match="不是金额"):
        to_decimal("八千")


def test_counts() -> None:
    assert to_int("120人") == 120
    assert to_int(120.0) == 120
    with pytest.raises(CellError, match="整数"):
        to_int(12.5)
    with pytest.raises(CellError, match="整数"):
        to_int("约一百")
