"""Importing a roster through chromium: a file with errors, the errors on the page, the
marked file downloaded and fixed, the fixed file imported, the members in the roster.

The check and the write run in the background thread, as in production; the page
follows them by polling with htmx.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests import factories as f
from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_import_with_errors_fix_and_find_the_members(
    page: Page, world: World, tmp_path: Path, settings: Any
) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.GONGHUI_IMPORT_BACKGROUND = True
    good, fixed = f.id_number(), f.id_number(male=False)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "会员名册"
    ws.append(["第一中学工会会员名册"])
    ws.append(["姓名", "身份证号", "所属工会", "会员状态"])
    ws.append(["浏览器甲", good, "高中语文组", "在册"])
    ws.append(["浏览器乙", fixed[:-1] + ("0" if fixed[-1] != "0" else "1"), "高中语文组", "出差"])
    for row in ws.iter_rows(min_row=3, min_col=2, max_col=2):
        row[0].number_format = "@"
    original = tmp_path / "名册.xlsx"
    wb.save(original)

    log_in(page, "chair")
    page.get_by_role("navigation").get_by_role("link", name="会员", exact=True).click()
    page.locator("#roster-import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入会员名册")
    page.get_by_label("表格文件").set_input_files(str(original))
    page.get_by_role("button", name="上传并检查").click()

    # The check runs in the background; the page polls until the outcome replaces it.
    status = page.locator("#import-status")
    expect(status).to_have_attribute("data-status", "invalid")
    expect(status.get_by_role("heading")).to_have_text("有错误，未导入")
    errors = status.locator("table.import-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("第4行")
    expect(errors.nth(0)).to_contain_text("校验位错误")
    expect(errors.nth(1)).to_contain_text("「出差」不在可选范围内")
    expect(status).to_contain_text("没有写入任何数据")

    with page.expect_download() as info:
        page.locator("#download-marked").click()
    marked = tmp_path / "marked.xlsx"
    info.value.save_as(marked)
    assert "已标出错误" in info.value.suggested_filename
    wb = openpyxl.load_workbook(marked)
    ws = wb["会员名册"]
    assert "校验位错误" in ws["B4"].comment.text
    assert "不在可选范围内" in ws["D4"].comment.text
    assert ws["A2"].value == "姓名" and ws["A1"].value == "第一中学工会会员名册"

    # Fix the two marked cells in the downloaded file and upload it again.
    ws["B4"].value = fixed
    ws["D4"].value = "在册"
    fixed_file = tmp_path / "名册（改）.xlsx"
    wb.save(fixed_file)
    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("表格文件").set_input_files(str(fixed_file))
    page.get_by_role("button", name="上传并检查").click()
    expect(status).to_have_attribute("data-status", "ready")
    expect(status).to_contain_text("检查通过，请确认")
    expect(status.locator(".stat").first).to_contain_text("2")
    status.get_by_role("button", name="确认导入").click()
    expect(status).to_have_attribute("data-status", "done")
    expect(status).to_contain_text("新增 2")

    status.get_by_role("link", name="查看会员名册").click()
    expect(page).to_have_url(re.compile(r"/members/\?union="))
    results = page.locator("#results")
    expect(results.get_by_role("link", name="浏览器甲")).to_be_visible()
    expect(results.get_by_role("link", name="浏览器乙")).to_be_visible()
