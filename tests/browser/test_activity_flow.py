"""An activity on the day, in chromium: a member signs up on a phone, the branch officer
checks them in from the list, and the participation rate on the page follows."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests import factories as f
from tests.activities.records import activity
from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_member_signs_up_on_a_phone_and_the_officer_checks_them_in(
    new_page: Callable[..., Page], world: World
) -> None:
    f.member(world.group, "王二")  # the group has two members: a rate of 50% then
    held = activity(world, "教职工趣味运动会", place="学校操场", capacity=30)

    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, "member")
    phone.get_by_role("link", name="我的活动：报名、签到、答题").click()
    row = phone.locator(f'[data-activity="{held.pk}"]')
    expect(row).to_contain_text("教职工趣味运动会")
    row.get_by_role("button", name="报名").click()
    expect(phone.locator(".msg")).to_contain_text("已报名「教职工趣味运动会」")
    expect(phone.locator(f'[data-activity="{held.pk}"] .tag')).to_have_text("已报名")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    desk = new_page(viewport={"width": 1280, "height": 900})
    log_in(desk, "officer")
    desk.goto(f"/activities/{held.pk}/")
    rate = desk.locator("#participation-rate")
    expect(rate).to_have_text("0.0")
    registration = desk.locator("#registrations tbody tr", has_text="张三")
    expect(registration).to_have_attribute("data-status", "signed_up")
    registration.get_by_role("button", name="张三签到").click()
    # The row and the rate change in place (htmx), without reloading the page.
    expect(desk.locator("#registrations tbody tr", has_text="张三")).to_have_attribute(
        "data-status", "attended"
    )
    expect(rate).to_have_text("50.0")
    expect(desk.locator("#participation-attended")).to_have_text("1")

    # The member sees it too, among the activities they took part in.
    phone.goto("/activities/mine/")
    expect(phone.locator("#my-past")).to_contain_text("教职工趣味运动会")
    expect(phone).to_have_url(re.compile(r"/activities/mine/$"))
