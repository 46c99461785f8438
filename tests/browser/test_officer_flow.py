"""A branch officer's day with the roster, driven through chromium like a person would.

Log in through the form, find a member by pinyin initials (htmx search-as-you-type),
edit them, find the change in the member's 修改记录 and in the audit log, and meet a
404 at a member of another branch.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser

NEW_PHONE = "13800135678"


def mark_document(page: Page) -> None:
    """Tag the current document; a full page load would drop the tag."""
    page.evaluate("window.__sameDocument = true")


def same_document(page: Page) -> bool:
    return page.evaluate("window.__sameDocument === true") is True


def test_branch_officer_finds_edits_and_audits_a_member(page: Page, roster: World) -> None:
    log_in(page, "officer")
    page.get_by_role("navigation").get_by_role("link", name="会员", exact=True).click()
    expect(page).to_have_url(re.compile(r"/members/$"))
    results = page.locator("#results")
    expect(results.get_by_role("link", name="王小明")).to_be_visible()
    expect(results.get_by_role("link", name="张伟")).to_be_visible()
    # 李四 belongs to the other branch: not in this officer's roster at all.
    expect(results.get_by_role("link", name="李四")).to_have_count(0)

    # Search as you type: the results change in place, without a page load.
    mark_document(page)
    page.locator("#roster-filters").get_by_role("searchbox").press_sequentially("zs", delay=60)
    expect(results.get_by_role("link", name="张伟")).to_have_count(0)
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results.get_by_role("link", name="张三")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]q=zs(&|$)"))  # the search is bookmarkable
    assert same_document(page), "搜索时整页重新加载了，应只替换结果列表"

    results.get_by_role("link", name="张三").click()
    expect(page).to_have_url(re.compile(rf"/members/{roster.member.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("张三")

    page.get_by_role("link", name="修改", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/members/{roster.member.pk}/edit/$"))
    page.get_by_label("部门", exact=True).fill("高三年级组")
    page.get_by_label("手机号", exact=True).fill(NEW_PHONE)
    page.get_by_role("button", name="保存").click()

    expect(page).to_have_url(re.compile(rf"/members/{roster.member.pk}/$"))
    expect(page.get_by_role("status").filter(has_text="已保存「张三」的修改")).to_be_visible()
    expect(page.locator("#phone")).to_contain_text("138****5678")

    # The member's own history names the fields that changed, old → new; the new
    # phone number appears masked only: the log must not leak what is encrypted.
    history = page.locator(".card", has=page.get_by_role("heading", name="修改记录"))
    edit_row = history.locator("tr", has_text="高三年级组")
    expect(edit_row).to_contain_text("部门")
    expect(edit_row).to_contain_text("officer")
    expect(edit_row).to_contain_text("138****5678")
    expect(history).not_to_contain_text(NEW_PHONE)

    # The same change in the audit log of the officer's subtree, found by searching.
    page.get_by_role("navigation").get_by_role("link", name="操作日志").click()
    expect(page).to_have_url(re.compile(r"/audit/"))
    rows = page.locator("#audit-rows")
    mark_document(page)
    page.get_by_role("searchbox").press_sequentially("张三", delay=60)
    expect(page).to_have_url(re.compile(r"[?&]q="))
    audit_row = rows.locator("tbody tr", has_text="高三年级组")
    expect(audit_row).to_have_count(1)
    expect(audit_row).to_contain_text("修改")
    expect(audit_row).to_contain_text("officer")
    expect(rows).not_to_contain_text(NEW_PHONE)
    assert same_document(page)

    # Another branch's member: the same 404 as a member that does not exist.
    for url in (
        f"/members/{roster.other_branch_member.pk}/",
        f"/members/{roster.other_branch_member.pk}/edit/",
    ):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
        expect(page.get_by_role("heading", name="未找到")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("李四")
