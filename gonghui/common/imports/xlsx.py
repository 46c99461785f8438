"""Writing Excel files from a spec's declaration: the template, exports, marked files.

All three use the same :class:`~.columns.Column` list as the importer, so a template
filled in, an export, or a marked file corrected imports with the same headers.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .columns import Column, ColumnType, ImportSpec
from .engine import RowError
from .formulas import neutral

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

log = logging.getLogger(__name__)

# openpyxl is imported inside the functions that write files: it takes a fifth of a
# second to import, and the URLconf (which every `gonghui` command loads, for
# ``reverse``) reaches this module through the import views.

#: Rows of the template that get drop-downs and text formats.
TEMPLATE_ROWS = 5000
#: Above this many rows openpyxl does not load the user's workbook (about 1 KB per cell):
#: only for the files the streaming marker (:mod:`.marks`) cannot rewrite.
MARK_IN_PLACE_MAX_ROWS = 30000
AUTHOR = "工会工作台"

#: The marks' colours: Excel's own "bad" style (light red fill, dark red text).
ERROR_FILL_RGB = "FFC7CE"
ERROR_FONT_RGB = "9C0006"


@cache
def _styles() -> SimpleNamespace:
    from openpyxl.styles import Font, PatternFill

    return SimpleNamespace(
        header_fill=PatternFill("solid", fgColor="DDEBF7"),
        required_font=Font(bold=True, color="C00000"),
        bold=Font(bold=True),
        error_fill=PatternFill("solid", fgColor=ERROR_FILL_RGB),
        error_font=Font(color=ERROR_FONT_RGB),
    )


_TEXT_TYPES = (ColumnType.TEXT, ColumnType.ID_NUMBER, ColumnType.PHONE, ColumnType.LOOKUP)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _number_format(col: Column) -> str | None:
    if col.type in _TEXT_TYPES:
        # "@" (text) keeps Excel from turning a typed 身份证号 into 1.10105E+17.
        return "@"
    if col.type == ColumnType.DATE:
        return "yyyy-mm-dd"
    if col.type == ColumnType.DECIMAL:
        return "0.00"
    return None


def _choices_sheet(wb: Workbook, columns: Sequence[Column]) -> dict[str, str]:
    """A hidden sheet listing each choice column's labels; returns key → range formula."""
    from openpyxl.utils import get_column_letter

    ranges: dict[str, str] = {}
    choice_cols = [c for c in columns if c.type == ColumnType.CHOICE and c.choices]
    if not choice_cols:
        return ranges
    ws = wb.create_sheet("选项")
    # Row by row (a write-only sheet has no random access): headers, then the labels.
    ws.append([col.header for col in choice_cols])
    for i in range(max(len(col.choices) for col in choice_cols)):
        ws.append([col.choices[i][1] if i < len(col.choices) else None for col in choice_cols])
    for j, col in enumerate(choice_cols, start=1):
        letter = get_column_letter(j)
        ranges[col.key] = f"选项!${letter}$2:${letter}${len(col.choices) + 1}"
    ws.sheet_state = "hidden"
    return ranges


def _validations(ws: Any, columns: Sequence[Column], ranges: dict[str, str], last_row: int) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for j, col in enumerate(columns, start=1):
        if col.key not in ranges:
            continue
        letter = get_column_letter(j)
        dv = DataValidation(
            type="list",
            formula1=ranges[col.key],
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=f"{col.header}填写有误",
            error=f"请从下拉列表中选择{col.header}。",
        )
        dv.add(f"{letter}2:{letter}{last_row}")
        ws.data_validations.append(dv)


def _setup_columns(ws: Worksheet, columns: Sequence[Column]) -> None:
    from openpyxl.utils import get_column_letter

    for j, col in enumerate(columns, start=1):
        dim = ws.column_dimensions[get_column_letter(j)]
        dim.width = col.width + 2
        fmt = _number_format(col)
        if fmt:
            dim.number_format = fmt


def template(
    spec: ImportSpec, *, example_union: str = "", columns: Sequence[Column] | None = None
) -> bytes:
    """The import template: headers, one example row, drop-downs, text formats, notes."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.worksheet import Worksheet

    st = _styles()
    columns = list(columns or spec.columns)
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.title = spec.label
    _setup_columns(ws, columns)
    for j, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=j, value=col.header)
        cell.fill = st.header_fill
        cell.font = st.required_font if col.required else st.bold
        cell.alignment = Alignment(horizontal="center")
        if col.note or col.required:
            text = ("必填。" if col.required else "") + col.note
            cell.comment = Comment(text, AUTHOR, width=240, height=90)
    example = spec.example_row()
    for j, col in enumerate(columns, start=1):
        value: Any = example[spec.columns.index(col)] if col in spec.columns else ""
        if col.key == spec.union_column and example_union:
            value = example_union
        if value and col.type == ColumnType.DATE:
            value = dt.date.fromisoformat(value)
        elif value and col.type == ColumnType.DECIMAL:
            value = Decimal(value)
        example_cell = ws.cell(row=2, column=j, value=value if value != "" else None)
        fmt = _number_format(col)
        if fmt:
            example_cell.number_format = fmt
    ws.cell(row=2, column=1).comment = Comment(
        "这一行是填写示例，导入前请改成真实数据或删除。", AUTHOR, width=200, height=60
    )
    ws.freeze_panes = "A2"
    ranges = _choices_sheet(wb, columns)
    _validations(ws, columns, ranges, TEMPLATE_ROWS)
    _notes_sheet(wb, spec, columns)
    wb.active = 0
    return _save(wb)


def _notes_sheet(wb: Workbook, spec: ImportSpec, columns: Sequence[Column]) -> None:
    from openpyxl.styles import Alignment, Font

    st = _styles()
    ws = wb.create_sheet("填写说明", 1)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 8
    ws.column_dimensions["C"].width = 60
    ws.column_dimensions["D"].width = 40
    ws.append([f"{spec.label}导入说明"])
    ws["A1"].font = Font(bold=True, size=14)
    notes = list(spec.notes)
    if any(c.type == ColumnType.CHOICE for c in columns):
        notes.append(
            "有可选值的列也认括号中的说法，也可只写开头几个字或简称（如「本级」），"
            "只要不会与其他选项混淆。"
        )
    for note in notes:
        ws.append([f"· {note}"])
    ws.append([])
    ws.append(["列名", "必填", "说明", "可选值 / 也认的列名"])
    for cell in ws[ws.max_row]:
        cell.font = st.bold
        cell.fill = st.header_fill
    for col in columns:
        choices = "、".join(_choice_text(col, value, label) for value, label in col.choices)
        aliases = ("也可写作：" + "、".join(col.aliases)) if col.aliases else ""
        ws.append([col.header, "是" if col.required else "", col.note, choices or aliases or ""])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _choice_text(col: Column, value: str, label: str) -> str:
    """``在册（也认：在会、正常）``: a choice and the other words accepted for it."""
    others = col.aliases_of(value)
    return f"{label}（也认：{'、'.join(others)}）" if others else label


def export(
    spec: ImportSpec, rows: Iterable[list[Any]], *, columns: Sequence[Column] | None = None
) -> bytes:
    """An export with the template's headers, formats and drop-downs (write-only mode)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    st = _styles()
    columns = list(columns or [c for c in spec.columns if c.export])
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(spec.label)
    for j, col in enumerate(columns, start=1):
        dim = ws.column_dimensions[get_column_letter(j)]
        dim.width = col.width + 2
        fmt = _number_format(col)
        if fmt:
            dim.number_format = fmt
    ws.freeze_panes = "A2"
    header = []
    for col in columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = st.required_font if col.required else st.bold
        cell.fill = st.header_fill
        header.append(cell)
    ws.append(header)
    count = 0
    for values in rows:
        ws.append([_cell_value(v) for v in values])
        count += 1
    ranges = _choices_sheet(wb, columns)
    _validations(ws, columns, ranges, max(count + 1, 2))
    return _save(wb)


def _cell_value(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        # Money as a number cell; the importer reads it back to the same two places.
        return float(value)
    return neutral(value)


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# Marked files -------------------------------------------------------------------------


def _by_cell(errors: Sequence[RowError], fallback_col: int) -> dict[tuple[int, int], list[str]]:
    marks: dict[tuple[int, int], list[str]] = defaultdict(list)
    for e in errors:
        col = e.col if e.col is not None else fallback_col
        marks[(e.row, col)].append(e.message)
    return marks


def marked_file(
    path: Path,
    *,
    file_format: str,
    sheet_name: str,
    errors: Sequence[RowError],
    rows: Iterable[tuple[int, list[Any]]] | None = None,
    col_offset: int = 0,
    first_col: int = 0,
) -> bytes:
    """The user's own file with every bad cell marked red and the reason in a comment,
    plus a sheet listing all errors.

    An .xlsx is marked in place at any size (:mod:`.marks` streams it: its rows, formats
    and other sheets are kept as they were). Only an .xlsx whose marked sheet has what
    that cannot rewrite (form controls, threaded comments) goes through openpyxl, when
    small enough to load, or is rebuilt. An .xls or a CSV cannot hold marks: it comes
    back rebuilt from ``rows`` (as the reader read them) as a new .xlsx.
    """
    from .marks import CannotMark, mark_xlsx

    marks = _by_cell(errors, first_col)
    if file_format == "xlsx":
        try:
            return mark_xlsx(path, sheet_name, marks, errors)
        except CannotMark as exc:
            log.info("marking %s with openpyxl: %s", path.name, exc)
        except Exception:  # a file the streaming marker misreads: try the other ways
            log.exception("marking %s", path.name)
        try:
            data = _mark_in_place(path, sheet_name, marks, errors)
        except Exception:  # any openpyxl failure: rebuild the file instead
            log.exception("marking %s with openpyxl", path.name)
            data = None
        if data is not None:
            return data
    if rows is None:
        from .reader import open_workbook

        book = open_workbook(path, file_name=path.name)
        sheet = next((load() for name, load in book.sheets if name == sheet_name), None)
        sheet = sheet or book.sheets[0][1]()
        rows, col_offset = sheet.rows(), sheet.col_offset
    return _rebuild(sheet_name, rows, col_offset, marks, errors)


def _mark_in_place(
    path: Path,
    sheet_name: str,
    marks: dict[tuple[int, int], list[str]],
    errors: Sequence[RowError],
) -> bytes | None:
    """openpyxl's way, for what :mod:`.marks` cannot do: it loads every cell (about
    1 KB each), so only a sheet of moderate size."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import FormulaRule

    from .marks import MARK_FORMULA

    with zipfile.ZipFile(path) as zf:
        size = sum(i.file_size for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))
    if size > MARK_IN_PLACE_MAX_ROWS * 400:
        return None
    wb = load_workbook(path)
    if sheet_name not in wb.sheetnames:
        return None
    ws = wb[sheet_name]
    st = _styles()
    refs = []
    for (row, col), messages in marks.items():
        cell = ws.cell(row=row, column=col + 1)
        if type(cell).__name__ == "MergedCell":
            continue
        refs.append(cell.coordinate)
        cell.comment = Comment("\n".join(messages), AUTHOR, width=260, height=100)
    if refs:
        rule = FormulaRule(formula=[MARK_FORMULA], fill=st.error_fill, font=st.error_font)
        ws.conditional_formatting.add(" ".join(refs), rule)
    _error_sheet(wb, errors)
    wb.active = wb.sheetnames.index(sheet_name)
    return _save(wb)


def _error_sheet(wb: Workbook, errors: Sequence[RowError]) -> None:
    name = "错误说明"
    if name in wb.sheetnames:
        del wb[name]
    ws = wb.create_sheet(name)
    ws.append(["行", "列", "问题"])
    for cell in ws[1]:
        cell.font = _styles().bold
    for e in errors:
        ws.append([e.row, neutral(e.column), neutral(e.message)])
    ws.column_dimensions["C"].width = 80


def _rebuild(
    sheet_name: str,
    rows: Iterable[tuple[int, list[Any]]],
    col_offset: int,
    marks: dict[tuple[int, int], list[str]],
    errors: Sequence[RowError],
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.comments import Comment

    st = _styles()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name[:31] or "Sheet1")
    last_marked: dict[int, int] = {}
    for r, c in marks:
        last_marked[r] = max(last_marked.get(r, 0), c)
    next_row = 0
    for r, cells in rows:
        while next_row < r:
            ws.append([])
            next_row += 1
        values: list[Any] = [None] * col_offset + [None if c == "" else neutral(c) for c in cells]
        if r + 1 in last_marked:
            out: list[Any] = []
            width = max(len(values), last_marked[r + 1] + 1)
            values += [None] * (width - len(values))
            for j, value in enumerate(values):
                messages = marks.get((r + 1, j))
                if messages:
                    cell = WriteOnlyCell(ws, value=value)
                    cell.fill = st.error_fill
                    cell.font = st.error_font
                    cell.comment = Comment("\n".join(messages), AUTHOR, width=260, height=100)
                    out.append(cell)
                else:
                    out.append(value)
            ws.append(out)
        else:
            ws.append(values)
        next_row += 1
    errors_ws = wb.create_sheet("错误说明")
    errors_ws.append(["行", "列", "问题"])
    for e in errors:
        errors_ws.append([e.row, neutral(e.column), neutral(e.message)])
    return _save(wb)
