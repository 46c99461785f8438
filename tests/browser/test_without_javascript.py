"""Pages work without JavaScript (DESIGN.md): htmx only makes them quicker."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_roster_search_works_without_javascript(
    new_page: Callable[..., Page], roster: World
) -> None:
    page = new_page(java_script_enabled=False)
    log_in(page, "officer")
    page.goto("/members/")
    expect(page.locator("#results").get_by_role("link", name="张伟")).to_be_visible()
    page.locator("#roster-filters").get_by_role("searchbox").fill("zs")
    page.locator("#roster-filters").get_by_role("button", name="筛选").click()

    expect(page).to_have_url(re.compile(r"/members/\?.*q=zs"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.locator("#results").get_by_role("link", name="张三").click()
    expect(page).to_have_url(re.compile(rf"/members/{roster.member.pk}/$"))
