"""Reading every kind of file a union officer may upload, and refusing the bad ones.

Each bad file is refused with a Chinese message and without writing anything.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import run_import
from gonghui.common.imports.reader import FileProblem, open_workbook
from gonghui.members.models import Member, MembershipChange
from tests import factories as f
from tests.conftest import World

from . import files

pytestmark = pytest.mark.django_db

GOOD_ID = "11010519491231002X"


def _import(path: Path, *, commit: bool = True, union: Any = None) -> Any:
    return run_import(
        spec=get_spec("members"),
        path=path,
        file_name=path.name,
        actor=None,
        default_union=union,
        commit=commit,
    )


def _refused(path: Path, message: str) -> None:
    before = Member.objects.count()
    result = _import(path)
    assert not result.ok
    assert message in result.problem, result.problem
    assert Member.objects.count() == before


def test_an_executable_renamed_xlsx_is_refused(world: World, tmp_path: Path) -> None:
    _refused(files.write(tmp_path / "名册.xlsx", files.executable()), "可执行程序")


def test_an_encrypted_workbook_is_refused(world: World, tmp_path: Path) -> None:
    _refused(files.write(tmp_path / "名册.xlsx", files.encrypted_workbook()), "加密")


def test_a_pdf_or_random_bytes_are_refused(world: World, tmp_path: Path) -> None:
    _refused(files.write(tmp_path / "a.xlsx", b"%PDF-1.4\n..."), "PDF")
    _refused(files.write(tmp_path / "b.xlsx", bytes(range(256)) * 10), "不是表格")
    _refused(files.write(tmp_path / "c.xlsx", b""), "空的")


def test_a_zip_that_is_not_a_workbook_is_refused(world: World, tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _refused(path, "普通的压缩包")


def _python_peak(action: Callable[[], object]) -> int:
    """The most memory Python held at once while ``action`` ran (bytes)."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_is_refused_before_it_is_unzipped(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.GONGHUI_IMPORT_MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
    bomb = files.write(tmp_path / "bomb.xlsx", files.zip_bomb(megabytes=150))
    liar = files.write(tmp_path / "liar.xlsx", files.zip_bomb(megabytes=150, lie=True))
    # The declared size alone refuses the honest bomb: nothing is inflated.
    _expect_problem(bomb, "压缩炸弹")
    _refused(bomb, "压缩炸弹")
    # A bomb whose header lies about its size is caught by counting the real bytes as
    # they are inflated, a megabyte at a time: the 150 MB never sit in memory.
    peak = _python_peak(lambda: _refused(liar, "无法读取"))
    assert peak < 20 * 1024 * 1024, peak


def test_the_unzipped_size_limit_is_a_setting(world: World, tmp_path: Path, settings: Any) -> None:
    # Compressed like a plain sheet would be (under the ratio check), but too big unzipped.
    settings.GONGHUI_IMPORT_MAX_UNZIPPED_BYTES = 5 * 1024 * 1024
    _refused(files.write(tmp_path / "big.xlsx", files.zip_bomb(megabytes=8)), "压缩炸弹")


def test_the_file_size_limit_is_a_setting(world: World, tmp_path: Path, settings: Any) -> None:
    settings.GONGHUI_IMPORT_MAX_BYTES = 1000
    path = files.xlsx(tmp_path / "a.xlsx", [["姓名", "所属工会"], ["张三", "YZGZYW"]])
    _refused(path, "超过了")


def test_too_many_rows_are_refused_early(world: World, tmp_path: Path) -> None:
    path = files.many_rows_xlsx(tmp_path / "big.xlsx", 500_001)
    # Refused by open_workbook, which checks the zip and loads no sheet (sheets load
    # lazily, later): the rows are counted as the sheet streams by.
    _expect_problem(path, "超过 300,000 行")
    _refused(path, "超过 300,000 行")


def _expect_problem(path: Path, message: str) -> None:
    """``open_workbook`` (the zip checks; it loads no sheet) refuses ``path``."""
    with pytest.raises(FileProblem, match=message):
        open_workbook(path, file_name=path.name)


def test_the_row_limit_is_a_setting(world: World, tmp_path: Path, settings: Any) -> None:
    settings.GONGHUI_IMPORT_MAX_ROWS = 10
    rows = [["姓名", "所属工会"], *[[f"人{i}", "YZGZYW"] for i in range(11)]]
    _refused(files.xlsx(tmp_path / "a.xlsx", rows), "超过 10 行")
    data = files.csv_bytes(rows)
    _refused(files.write(tmp_path / "a.csv", data), "超过 10 行")


def test_an_empty_sheet_is_refused(world: World, tmp_path: Path) -> None:
    _refused(files.xlsx(tmp_path / "a.xlsx", [[]]), "空的")
    _refused(files.write(tmp_path / "a.csv", b""), "空的")


def test_a_sheet_with_only_headers_is_refused(world: World, tmp_path: Path) -> None:
    _refused(files.xlsx(tmp_path / "a.xlsx", [["姓名", "所属工会", "身份证号"]]), "没有数据行")


def test_missing_required_headers_are_named(world: World, tmp_path: Path) -> None:
    path = files.xlsx(tmp_path / "a.xlsx", [["身份证号", "所属工会"], [GOOD_ID, "YZGZYW"]])
    _refused(path, "缺少必填的列：「姓名」")
    path = files.xlsx(tmp_path / "b.xlsx", [["姓名", "身份证号"], ["张三", GOOD_ID]])
    _refused(path, "没有「所属工会」列")


def test_no_header_at_all_says_what_was_expected(world: World, tmp_path: Path) -> None:
    _refused(files.xlsx(tmp_path / "a.xlsx", [["甲", "乙"], [1, 2]]), "没有找到表头")


def test_a_column_given_twice_is_refused(world: World, tmp_path: Path) -> None:
    path = files.xlsx(
        tmp_path / "a.xlsx",
        [["姓名", "身份证号", "所属工会", "证件号码"], ["张三", GOOD_ID, "YZGZYW", GOOD_ID]],
    )
    _refused(path, "「身份证号」列出现了两次（第 B 列和第 D 列）")


def test_header_below_a_merged_title_row(world: World, tmp_path: Path) -> None:
    rows = [
        ["姓名（必填）", "身份证号码", "所属工会", "备注"],
        ["李雷", f.id_number(), "YZGZYW", "随便写"],
        ["韩梅梅", f.id_number(male=False), "高中语文组", ""],
    ]
    path = files.xlsx(tmp_path / "a.xlsx", rows, title="第一中学2024年会员花名册")
    result = _import(path)
    assert result.ok, result.error_lines()
    assert result.layout.header_row == 2
    assert "「备注」" in result.notices[0]
    assert set(
        Member.objects.filter(name__in=["李雷", "韩梅梅"]).values_list("union__code", flat=True)
    ) == {"YZGZYW"}


def test_row_numbers_in_errors_are_excel_row_numbers(world: World, tmp_path: Path) -> None:
    rows = [
        ["姓名", "身份证号", "所属工会"],
        ["李雷", f.id_number(), "YZGZYW"],
        ["韩梅梅", "110105194912310022", "YZGZYW"],
    ]
    result = _import(files.xlsx(tmp_path / "a.xlsx", rows, title="名册"))
    assert result.error_lines() == ["第4行「身份证号」：校验位错误，请核对最后一位。"]


def test_merged_cells_fill_every_row_they_cover(world: World, tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "merged.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append(["所属工会", "姓名", "身份证号"])
    ws.append(["高中语文组", "甲一", f.id_number()])
    ws.append([None, "甲二", f.id_number()])
    ws.append([None, "甲三", f.id_number()])
    ws.merge_cells("A2:A4")  # one union cell for three people, as rosters often do
    wb.save(path)
    result = _import(path)
    assert result.ok, result.error_lines()
    assert Member.objects.filter(name__startswith="甲", union=world.group).count() == 3


def test_formulas_use_their_cached_values(world: World, tmp_path: Path) -> None:
    rows = [["姓名", "所属工会", "身份证号", "月工资"], ["公式人", "YZGZYW", f.id_number(), 0]]
    path = files.xlsx(tmp_path / "f.xlsx", rows)
    files.set_cached_formula(path, "D2", "4000*2", "8000", text=False)
    files.set_cached_formula(path, "A2", 'CONCATENATE("王","五")', "王五", text=True)
    result = _import(path)
    assert result.ok, result.error_lines()
    member = Member.objects.get(name="王五", union=world.group)
    assert member.monthly_wage == 8000


def test_a_formula_without_a_saved_result_is_an_error_not_a_blank(
    world: World, tmp_path: Path
) -> None:
    rows = [
        ["姓名", "所属工会", "身份证号", "月工资", "部门"],
        ["甲", "YZGZYW", f.id_number(), 1, "语文组"],
        ["乙", "YZGZYW", f.id_number(), 2, "语文组"],
    ]
    path = files.xlsx(tmp_path / "f.xlsx", rows)
    files.set_uncomputed_formula(path, "D2", "4000*2")
    files.set_uncomputed_formula(path, "A3", 'CONCATENATE("王","五")')
    files.set_cached_formula(path, "E3", 'CONCATENATE("数","学组")', "数学组", text=True)
    result = _import(path)
    assert not result.written
    assert [(e.row, e.column) for e in result.errors] == [(2, "月工资"), (3, "姓名")]
    assert "请用 Excel 打开该文件并保存一次" in result.errors[0].message
    assert Member.objects.filter(name__in=["甲", "乙"]).count() == 0


@pytest.mark.parametrize("size", [1, 7, 50, 4096])
def test_formulas_without_results_are_found_across_chunks(size: int) -> None:
    from gonghui.common.imports.reader import _FormulaScan

    xml = (
        b'<sheetData><row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><f>1+1</f><v>2</v></c>'
        b'<c r="C2"><f>1+2</f><v></v></c><c r="D2" t="str"><f>""</f><v></v></c></row>'
        b'<row r="3"><c r="AB3"><f t="shared" si="0"/></c><c r="C3" t="str"><f>A1</f></c>'
        b"</row></sheetData>"
    )
    scan = _FormulaScan()
    for i in range(0, len(xml), size):
        scan.feed(xml[i : i + size])
    # C2 and AB3 have no result; D2 is the empty text; C3 (text, no <v>) has none either.
    assert scan.found == {1: {2}, 2: {27, 2}}


def test_hidden_sheets_are_skipped(world: World, tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "h.xlsx"
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "旧名册"
    hidden.append(["姓名", "所属工会"])
    hidden.append(["不该导入", "YZGZYW"])
    hidden.sheet_state = "hidden"
    notes = wb.create_sheet("说明")
    notes.append(["这张表是说明"])
    roster = wb.create_sheet("会员名册")
    roster.append(["姓名", "所属工会", "身份证号"])
    roster.append(["该导入", "YZGZYW", f.id_number()])
    wb.active = 1
    wb.save(path)
    result = _import(path)
    assert result.ok, result.error_lines()
    assert result.layout.sheet == "会员名册"
    assert Member.objects.filter(name="该导入").exists()
    assert not Member.objects.filter(name="不该导入").exists()


def test_the_first_visible_sheet_with_a_header_is_used(world: World, tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "v.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "封面"
    wb.active.append(["第一中学"])
    data = wb.create_sheet("Sheet2")
    data.append(["姓名", "所属工会"])
    data.append(["第二张表的人", "YZGZYW"])
    wb.save(path)
    result = _import(path)
    assert result.ok, result.error_lines()
    assert result.layout.sheet == "Sheet2"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
def test_csv_in_every_encoding_excel_writes(world: World, tmp_path: Path, encoding: str) -> None:
    number = f.id_number(male=False)
    rows = [
        ["姓名", "性别", "身份证号", "所属工会", "入会日期"],
        ["欧阳娜娜", "女", number, "高中语文组", "2024年3月5日"],
    ]
    path = files.write(tmp_path / "名册.csv", files.csv_bytes(rows, encoding=encoding))
    result = _import(path)
    assert result.ok, result.error_lines()
    member = Member.objects.get(name="欧阳娜娜")
    assert member.join_date == dt.date(2024, 3, 5)
    assert MembershipChange.objects.get(member=member).date == dt.date(2024, 3, 5)


def test_xls_is_read(world: World, tmp_path: Path) -> None:
    rows = [
        ["姓名", "身份证号", "所属工会", "入会日期", "工号"],
        ["老式表", f.id_number(), "YZGZYW", dt.date(2019, 9, 1), 1001],
    ]
    result = _import(files.xls(tmp_path / "old.xls", rows))
    assert result.ok, result.error_lines()
    member = Member.objects.get(name="老式表")
    assert (member.join_date, member.employee_no) == (dt.date(2019, 9, 1), "1001")


def test_an_xls_named_xlsx_is_read_by_its_content(world: World, tmp_path: Path) -> None:
    rows = [["姓名", "所属工会"], ["扩展名不对", "YZGZYW"]]
    path = files.xls(tmp_path / "x.xls", rows)
    renamed = path.rename(tmp_path / "x.xlsx")
    assert _import(renamed).ok


def test_full_width_digits_and_stray_spaces_in_cells(world: World, tmp_path: Path) -> None:
    number = f.id_number()
    wide = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    rows = [
        ["姓 名", "身份证号", "所属工会", "手机号", "工号"],
        ["\u200b张 伟 ", f" {wide}\u00a0", " 高中语文组", "１３９ ０００１ ２３４５", "Ｔ０９"],
    ]
    result = _import(files.xlsx(tmp_path / "w.xlsx", rows))
    assert result.ok, result.error_lines()
    member = Member.objects.get(employee_no="T09")
    assert member.name == "张 伟"
    assert member.id_number_masked == number[:6] + "********" + number[-4:]
    assert member.phone_masked == "139****2345"


def test_an_id_number_excel_turned_into_a_number_is_explained(world: World, tmp_path: Path) -> None:
    rows = [["姓名", "身份证号", "所属工会"], ["数字号", 110105194912310021, "YZGZYW"]]
    result = _import(files.xlsx(tmp_path / "n.xlsx", rows))
    assert not result.ok
    (line,) = result.error_lines()
    assert line.startswith("第2行「身份证号」：被 Excel 存成了数字")
    assert "设置为「文本」格式" in line
    assert not Member.objects.filter(name="数字号").exists()
