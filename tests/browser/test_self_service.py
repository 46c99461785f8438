"""A member without a role logs in to 我的 (self-service) and nowhere else."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_member_lands_on_self_service_and_cannot_open_the_roster(page: Page, world: World) -> None:
    log_in(page, "member")

    expect(page).to_have_url(re.compile(r"/members/me/$"))
    expect(page.get_by_role("heading", name="我的会员信息")).to_be_visible()
    expect(page.locator("main")).to_contain_text("张三")
    expect(page.locator("main")).to_contain_text("高中语文组")
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="我的", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="会员", exact=True)).to_have_count(0)
    expect(nav.get_by_role("link", name="操作日志")).to_have_count(0)

    # Typing the addresses does not help: the roster and other members' pages stay shut.
    for url in ("/members/", f"/members/{world.other_branch_member.pk}/", "/audit/"):
        response = page.goto(url)
        assert response is not None and response.status in (403, 404), url
        expect(page.locator("#results")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text("李四")
