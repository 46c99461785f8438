"""The marked file is the user's own .xlsx: their formats, sheets and comments kept, the
bad cells red with a comment each, whatever the size."""

from __future__ import annotations

import io
import re
import tracemalloc
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineWorkbook

from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import Result, RowError, run_import
from gonghui.common.imports.xlsx import marked_file
from tests import factories as f
from tests.conftest import World

from . import files

pytestmark = pytest.mark.django_db


def _check(path: Path) -> Result:
    return run_import(
        spec=get_spec("members"), path=path, file_name=path.name, actor=None, commit=False
    )


def _mark(path: Path, result: Result) -> bytes:
    assert result.layout is not None
    return marked_file(
        path,
        file_format=result.layout.format,
        sheet_name=result.layout.sheet,
        errors=result.errors,
        first_col=min(result.layout.columns.values()),
    )


def _users_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "会员名册"
    ws.append(["姓名", "身份证号", "所属工会", "会员状态", "月工资"])
    ws.append(["好人", f.id_number(), "YZGZYW", "在册", 8000])
    ws.append(["坏号", "110105194912310022", "YZGZYW", "在不在", 9000])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="1F4E79")
        cell.fill = PatternFill("solid", fgColor="FFF2CC")
    ws["E2"].number_format = "#,##0.00"
    ws["A1"].comment = Comment("名册由人事科提供", "人事科")
    ws.conditional_formatting.add(
        "E2:E100", CellIsRule(operator="greaterThan", formula=["8500"], font=Font(italic=True))
    )
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明")
    notes["A1"] = "2024 年度名册，勿删此页"
    wb.save(path)
    return path


def test_the_users_own_file_comes_back_marked_with_the_rest_kept(
    world: World, tmp_path: Path
) -> None:
    path = _users_workbook(tmp_path / "名册.xlsx")
    result = _check(path)
    assert [(e.row, e.column) for e in result.errors] == [(3, "身份证号"), (3, "会员状态")]
    data = _mark(path, result)
    _every_part_is_well_formed(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["会员名册"]
    # The marks: red, with the reason in a comment, and the list of errors.
    assert files.red_cells(ws) == {"B3", "D3"}
    assert "校验位错误" in ws["B3"].comment.text and "在不在" in ws["D3"].comment.text
    assert [[c.value for c in row] for row in wb["错误说明"].iter_rows(min_row=2)] == [
        [e.row, e.column, e.message] for e in result.errors
    ]
    # The user's own file: values, formats, their comment and rule, the other sheet.
    assert [c.value for c in ws[3]] == ["坏号", "110105194912310022", "YZGZYW", "在不在", 9000]
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("FFF2CC")
    assert ws["E2"].number_format == "#,##0.00" and ws.freeze_panes == "A2"
    assert ws["A1"].comment.text == "名册由人事科提供" and ws["A1"].comment.author == "人事科"
    assert any(
        rule.operator == "greaterThan" for fmt in ws.conditional_formatting for rule in fmt.rules
    )
    assert wb["说明"]["A1"].value == "2024 年度名册，勿删此页"
    assert wb.sheetnames == ["会员名册", "说明", "错误说明"]


def _every_part_is_well_formed(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                ElementTree.fromstring(zf.read(name))


def test_a_marked_file_marked_again_keeps_one_set_of_marks(world: World, tmp_path: Path) -> None:
    path = _users_workbook(tmp_path / "名册.xlsx")
    first = tmp_path / "名册（已标出错误）.xlsx"
    first.write_bytes(_mark(path, _check(path)))
    # The user fixes the 身份证号 only and imports the marked file again.
    wb = openpyxl.load_workbook(first)
    wb["会员名册"]["B3"] = f.id_number()
    wb.save(first)
    result = _check(first)
    assert [(e.row, e.column) for e in result.errors] == [(3, "会员状态")]
    wb = openpyxl.load_workbook(io.BytesIO(_mark(first, result)))
    ws = wb["会员名册"]
    assert files.red_cells(ws) == {"D3"}
    assert ws["B3"].comment is None and "在不在" in ws["D3"].comment.text
    assert ws["A1"].comment.text == "名册由人事科提供"
    assert wb.sheetnames == ["会员名册", "说明", "错误说明"]
    assert wb["错误说明"].max_row == 2


def test_a_large_file_is_marked_in_place_without_loading_it(tmp_path: Path) -> None:
    """40,000 rows (beyond what openpyxl could load in our memory budget): the rows stream
    through byte for byte; only the marks are added."""
    path = files.many_rows_xlsx(tmp_path / "big.xlsx", 40_000)
    errors = [RowError(row, "所属工会", "必填，不能为空", 1) for row in (2, 20_000, 40_001)]
    tracemalloc.start()
    try:
        data = marked_file(path, file_format="xlsx", sheet_name="会员名册", errors=errors)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 30 * 1024 * 1024, peak

    def sheet_rows(source: zipfile.ZipFile) -> bytes:
        xml = source.read("xl/worksheets/sheet1.xml")
        return xml[: xml.index(b"</sheetData>")]

    with zipfile.ZipFile(path) as before, zipfile.ZipFile(io.BytesIO(data)) as after:
        assert sheet_rows(after) == sheet_rows(before)
        comments = after.read("xl/comments1.xml").decode()
    assert re.findall(r'ref="(\w+)"', comments) == ["B2", "B20000", "B40001"]
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == ["会员名册", "错误说明"]
    assert book.get_sheet_by_name("会员名册").height == 40_001
