"""The roster at phone width (375×812): officers use the workbench on their phones."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


def test_roster_menu_and_table_fit_a_phone(new_page: Callable[..., Page], roster: World) -> None:
    page = new_page(**PHONE)
    log_in(page, "officer")

    # The navigation folds behind the menu button until it is opened.
    nav = page.locator("header nav")
    expect(nav).to_be_hidden()
    page.locator("label[for=nav-toggle]").click()
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="会员", exact=True).click()
    expect(page).to_have_url(re.compile(r"/members/$"))
    expect(nav).to_be_hidden()  # a new page starts with the menu folded again

    # The table keeps what a phone needs (name, status) and drops the rest.
    table = page.locator("#results table")
    expect(table.get_by_role("columnheader", name="姓名")).to_be_visible()
    expect(table.get_by_role("columnheader", name="状态")).to_be_visible()
    expect(table.get_by_role("columnheader", name="部门")).to_be_hidden()
    row = table.locator("tbody tr", has=page.get_by_role("link", name="张三"))
    expect(row.get_by_role("link", name="张三")).to_be_visible()
    expect(row.get_by_text("在册")).to_be_visible()

    # Nothing pushes the page sideways: the whole roster fits the phone's width.
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 375, f"页面宽 {page_width}px，超出手机屏幕 375px，需要横向滚动"
    search = page.locator("#roster-filters").get_by_role("searchbox")
    box = search.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375

    # Search works on the phone as well.
    search.press_sequentially("zs", delay=60)
    expect(page.locator("#results tbody tr")).to_have_count(1)
    row.get_by_role("link", name="张三").tap()
    expect(page).to_have_url(re.compile(rf"/members/{roster.member.pk}/$"))


PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def test_a_member_taps_44px_buttons_reads_16px_text_and_finds_their_pages_in_the_menu(
    new_page: Callable[..., Page], world: World
) -> None:
    from tests.activities import records

    records.activity(world, "分工会气排球赛")
    records.membership(world)
    page = new_page(**PHONE_390)
    log_in(page, "member")
    page.goto("/activities/mine/")

    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 16, f"正文字号 {body}px，手机上应不小于 16px"
    for name in ("报名", "退出小组"):
        button = page.get_by_role("button", name=name, exact=True)
        box = button.bounding_box()
        assert box is not None
        assert box["width"] >= 44 and box["height"] >= 44, f"「{name}」按钮 {box}，应至少 44×44"
        size = button.evaluate("b => parseFloat(getComputedStyle(b).fontSize)")
        assert size >= 16, f"「{name}」按钮字号 {size}px"

    # The ☰ menu holds the member's own pages, not 我的 alone, each a tap target.
    page.locator("label[for=nav-toggle]").click()
    nav = page.locator("header nav")
    for name in ("我的", "我的活动", "我的关爱"):
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        box = link.bounding_box()
        assert box is not None and box["height"] >= 44
    burger = page.locator("label[for=nav-toggle]").bounding_box()
    assert burger is not None and burger["width"] >= 44 and burger["height"] >= 44
