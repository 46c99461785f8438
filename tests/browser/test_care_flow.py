"""关爱服务 in chromium: a hospital visit past the cap, a subsidy approved and paid by the
chair, and both in the work report's figures.

张三 was already visited in hospital this year for 800 元; the union follows the default
standard (住院慰问 1000 元 a year, warn). The branch officer records a second visit of
500 元, sees the warning, confirms; the chair approves 张三's application and the treasurer pays it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect

from gonghui.care import services
from gonghui.org.choices import Role
from tests import factories as f
from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_visit_past_the_cap_and_a_subsidy_reach_the_figures(page: Page, world: World) -> None:
    today = dt.date.today()
    services.visit_create(
        actor=None,
        member=world.member,
        date=today,
        reason="sick",
        form="cash",
        amount=800,
    )
    subsidy = services.subsidy_apply(
        actor=world.member_user,
        member=world.member,
        kind="illness",
        amount=3000,
        reason="住院手术，自付费用高",
    )
    services.subsidy_review(actor=world.officer, subsidy=subsidy, note="情况属实")
    f.user("treasurer", world.school, role=Role.TREASURER)

    # The branch officer records the second hospital visit.
    log_in(page, "officer")
    page.get_by_role("navigation").get_by_role("link", name="关爱", exact=True).click()
    page.get_by_role("link", name="登记慰问").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记慰问")
    member_box = page.get_by_label("会员", exact=True)
    member_box.press_sequentially("zs", delay=50)
    # The box suggests members as one types (htmx fills its datalist).
    suggestion = page.locator("#member-suggestions option").first
    expect(suggestion).to_have_attribute("value", re.compile(r"^张三（"))
    member_box.fill(suggestion.get_attribute("value") or "")
    page.get_by_label("慰问事由").select_option(label="生病住院")
    page.get_by_label("慰问形式").select_option(label="现金")
    page.get_by_label("金额（元）").fill("500")
    page.get_by_label("慰问物品").fill("鲜花、水果")
    page.get_by_role("button", name="保存").click()

    warning = page.locator("#over-cap")
    expect(warning).to_contain_text("超过全年上限 1000 元")
    expect(warning).to_contain_text("今年已发放生病住院慰问 800 元")
    page.get_by_label("已知超出标准，仍然保存").check()
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/care/visits/\d+/$"))
    expect(page.locator(".warnbox")).to_contain_text("超标准")
    expect(page.locator(".msg-warning")).to_contain_text("超出标准，已记录确认")

    # The chair approves and pays the application.
    page.context.clear_cookies()
    log_in(page, "chair")
    page.goto("/care/subsidies/?status=reviewed")
    page.locator("#content, main").get_by_role("link", name="张三").click()
    expect(page.locator("#subsidy-status")).to_have_text("已审核")
    approve = page.locator("#approve-form")
    approve.get_by_label("批准金额（元）").fill("2500")
    approve.get_by_label("意见").fill("同意，按标准核减")
    approve.get_by_role("button", name="批准").click()
    expect(page.locator("#subsidy-status")).to_have_text("已批准")
    # Whoever approved does not pay: the treasurer does.
    expect(page.locator("#pay-form")).to_have_count(0)
    subsidy_url = page.url
    page.context.clear_cookies()
    log_in(page, "treasurer")
    page.goto(subsidy_url)
    pay = page.locator("#pay-form")
    expect(pay.get_by_label("发放金额（元）")).to_have_value("2500.00")
    pay.get_by_role("button", name="登记发放").click()
    expect(page.locator("#subsidy-status")).to_have_text("已发放")
    expect(page.locator("#subsidy-events li")).to_have_count(4)

    # Both are in the figures, and each figure opens its records.
    page.get_by_role("navigation").get_by_role("link", name="工作报告").click()
    sick = page.locator('[data-key="care.visits.sick"] .value')
    expect(sick).to_have_text("2")
    expect(page.locator('[data-key="care.visits.amount"] .value')).to_have_text("1300.00")
    expect(page.locator('[data-key="care.subsidies"] .value')).to_have_text("1")
    expect(page.locator('[data-key="care.subsidies.amount"] .value')).to_have_text("2500.00")
    expect(page.locator('.report-text[data-section="care"]')).to_contain_text(
        "探望生病住院职工2人次"
    )
    page.locator('[data-key="care.visits.sick"]').click()
    expect(page).to_have_url(re.compile(r"/care/visits/\?.*reason=sick"))
    expect(page.locator("#visit-count")).to_have_text("2")
    expect(page.locator("#results")).to_contain_text("超标准")


def test_member_applies_for_a_subsidy_on_a_phone(new_page: object, world: World) -> None:
    """A member on a phone sees their care records and applies; officers see it."""
    services.visit_create(
        actor=None,
        member=world.member,
        date=dt.date.today(),
        reason="birthday",
        form="voucher",
        amount=200,
        goods="生日蛋糕券",
    )
    page: Page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[operator]
    log_in(page, "member")
    page.get_by_role("link", name="我的关爱：慰问、补助、捐款").click()
    expect(page.locator("#my-visits")).to_contain_text("生日慰问 · 生日蛋糕券")
    page.get_by_role("link", name="申请补助").click()
    page.get_by_label("补助类型").select_option(label="困难补助")
    page.get_by_label("申请金额（元）").fill("1000")
    page.get_by_label("申请理由").fill("爱人失业，孩子上学")
    page.get_by_role("button", name="提交申请").click()
    expect(page.locator(".msg")).to_contain_text("申请已提交")
    expect(page.locator("#my-subsidies")).to_contain_text("困难补助 · 申请 1000.00 元 · 已申请")
    # Nothing on the page scrolls sideways at phone width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # The applicant cannot reach the officers' pages.
    response = page.goto("/care/subsidies/")
    assert response is not None and response.status == 403
