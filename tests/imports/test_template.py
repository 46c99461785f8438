"""The template download comes from the same declaration as the importer, and imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import run_import
from gonghui.common.imports.xlsx import template
from gonghui.members.models import Member
from tests.conftest import World

from . import files

pytestmark = pytest.mark.django_db


def test_member_template_has_headers_example_dropdowns_and_notes(world: World) -> None:
    spec = get_spec("members")
    wb = files.read_xlsx(template(spec, example_union="高中语文组"))
    assert wb.sheetnames == ["会员名册", "填写说明", "选项"]
    ws = wb["会员名册"]
    headers = [c.value for c in ws[1]]
    assert headers == [c.header for c in spec.columns]
    example = {h: c.value for h, c in zip(headers, ws[2], strict=True)}
    assert example["姓名"] == "王芳" and example["所属工会"] == "高中语文组"
    assert example["身份证号"] == "11010519491231002X"
    # 身份证号 is a text column, so Excel keeps every digit someone types.
    assert ws["C2"].number_format == "@"
    assert ws.column_dimensions["C"].number_format == "@"
    # A drop-down for every choice column, from the hidden options sheet.
    lists = {
        str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
        for dv in ws.data_validations.dataValidation
    }
    gender_col = "B"
    assert lists[gender_col].startswith("选项!$")
    choice_headers = {c.header for c in spec.columns if c.choices}
    assert len(lists) == len(choice_headers)
    assert wb["选项"].sheet_state == "hidden"
    options = [c.value for c in wb["选项"]["A"]]
    assert options[:3] == ["性别", "男", "女"]
    notes = "\n".join(str(c.value) for row in wb["填写说明"].iter_rows() for c in row if c.value)
    assert "整个文件全部正确才会导入" in notes
    assert "身份证号码、证件号码" in notes  # the aliases are listed


def test_the_template_imports_as_it_is(world: World, tmp_path: Path) -> None:
    spec = get_spec("members")
    path = files.write(tmp_path / "模板.xlsx", template(spec, example_union="高中语文组"))
    result = run_import(
        spec=spec,
        path=path,
        file_name="模板.xlsx",
        actor=world.chair,
        default_union=world.school,
        commit=True,
    )
    assert result.written, result.error_lines()
    member = Member.objects.get(name="王芳")
    assert (member.union, member.get_gender_display(), member.education) == (
        world.group,
        "女",
        "大学本科",
    )


def test_union_template_imports(world: World, tmp_path: Path) -> None:
    spec = get_spec("unions")
    path = files.write(tmp_path / "组织模板.xlsx", template(spec, example_union="第一中学工会"))
    result = run_import(
        spec=spec,
        path=path,
        file_name="组织模板.xlsx",
        actor=world.chair,
        default_union=world.school,
        commit=True,
    )
    assert result.written, result.error_lines()
