"""A transfer out in chromium: nothing is chosen for the officer, 转出 asks where to,
and the change is saved only after 确认."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from gonghui.members.models import Member
from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_a_transfer_out_needs_a_destination_and_a_confirmation(page: Page, roster: World) -> None:
    log_in(page, "officer")
    page.goto(f"/members/{roster.member.pk}/")
    card = page.locator(".card", has=page.get_by_role("heading", name="办理会籍变动"))
    kind = card.get_by_label("变动类型")
    expect(kind).to_have_value("")

    # One click on 登记 saves nothing: the browser asks for the type first.
    card.get_by_role("button", name="登记").click()
    assert kind.evaluate("el => el.validity.valueMissing") is True
    assert Member.objects.get(pk=roster.member.pk).status == "active"

    page.locator(".card", has=page.get_by_role("heading", name="办理会籍变动")).get_by_label(
        "变动类型"
    ).select_option(label="转出")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_text("转出须写明去向")).to_be_visible()

    page.get_by_label("转出去向/转入来源").fill("市第三中学工会")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_text("确认将 张三 转出到「市第三中学工会」？")).to_be_visible()
    assert Member.objects.get(pk=roster.member.pk).status == "active"

    page.get_by_role("button", name="确认").click()
    expect(page).to_have_url(re.compile(rf"/members/{roster.member.pk}/$"))
    expect(page.get_by_role("status").filter(has_text="已登记「转出」")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已转出")
