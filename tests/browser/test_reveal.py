"""The chair reveals a masked 身份证号 in place (htmx POST), and the look is audited."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from gonghui.common.crypto import mask_id_number
from tests import factories as f
from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_chair_reveals_the_full_id_number(page: Page, world: World) -> None:
    id_number = f.id_number()
    member = f.member(world.group, "赵敏", id_number=id_number)
    log_in(page, "chair")
    page.goto(f"/members/{member.pk}/")

    cell = page.locator("#id-number")
    expect(cell).to_contain_text(mask_id_number(id_number))
    assert id_number not in page.content(), "完整身份证号不应出现在未点开的页面里"

    page.evaluate("window.__sameDocument = true")
    with page.expect_response(
        lambda r: r.request.method == "POST" and "/reveal/id_number/" in r.url
    ) as reveal:
        cell.get_by_role("button", name="显示完整").click()
    assert reveal.value.status == 200
    expect(cell).to_contain_text(id_number)
    expect(cell.get_by_role("button", name="显示完整")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true"), "应原地显示，不应整页刷新"

    page.goto("/audit/")
    expect(page.locator("#audit-rows")).to_contain_text("查看「赵敏」的完整身份证号")
