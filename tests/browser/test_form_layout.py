"""Forms laid out for reading: a checkbox beside its label, a drop-down as wide as its
longest option, on a desk and on a 390 px phone (开支标准, the walk's finding)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.conftest import World

from .conftest import log_in

pytestmark = pytest.mark.browser

DESK = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

#: Each select: its width, and the width the browser gives it when free to fit every
#: option (a clone with ``width: auto`` in the same place). ``scrollWidth`` alone says
#: nothing here: chromium clips a select's text inside the box and reports no overflow.
SELECTS = """form => [...form.querySelectorAll('select')].map(s => {
  const free = s.cloneNode(true);
  Object.assign(free.style, {width: 'auto', minWidth: '0', maxWidth: 'none', position: 'absolute'});
  s.parentNode.appendChild(free);
  const needed = free.offsetWidth;
  free.remove();
  return {name: s.name, needed, width: s.offsetWidth, scroll: s.scrollWidth, client: s.clientWidth};
})"""

CHECKBOXES = """form => [...form.querySelectorAll('input[type=checkbox]')].map(c => {
  const label = form.querySelector(`label[for="${c.id}"]`);
  const box = c.getBoundingClientRect(), text = label.getBoundingClientRect();
  return {name: c.name, box_right: box.right, box_middle: (box.top + box.bottom) / 2,
          label_left: text.left, label_top: text.top,
          line: parseFloat(getComputedStyle(label).lineHeight)};
})"""


def check_layout(page: Page, form: str, width: int) -> None:
    locator = page.locator(form)
    checkboxes: list[dict[str, Any]] = locator.evaluate(CHECKBOXES)
    assert checkboxes, "表单中应有复选框"
    for c in checkboxes:
        # One line: the box's middle lies within the label's first line, to its left.
        first_line = (c["label_top"], c["label_top"] + c["line"])
        assert first_line[0] <= c["box_middle"] <= first_line[1], (
            f"{width}px：「{c['name']}」的复选框和文字不在同一行 {c}"
        )
        assert c["label_left"] >= c["box_right"], (
            f"{width}px：「{c['name']}」的文字应在复选框右边 {c}"
        )
    for s in locator.evaluate(SELECTS):
        assert s["scroll"] <= s["client"], f"{width}px：下拉框「{s['name']}」{s}"
        assert s["needed"] <= s["width"], (
            f"{width}px：下拉框「{s['name']}」宽 {s['width']}px，选项需要 {s['needed']}px，文字被截断"
        )
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, f"页面宽 {page_width}px，超出屏幕 {width}px"


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone-390"])
def test_spending_standards_form_has_checkboxes_beside_labels_and_whole_options(
    new_page: Callable[..., Page], world: World, size: dict[str, Any]
) -> None:
    page = new_page(**size)
    log_in(page, "chair")
    page.goto("/care/policy/")
    check_layout(page, "#policy-form", size["viewport"]["width"])


@pytest.mark.parametrize("size", [DESK, PHONE], ids=["desk", "phone-390"])
def test_visit_form_shows_its_longest_option_whole(
    new_page: Callable[..., Page], world: World, size: dict[str, Any]
) -> None:
    page = new_page(**size)
    log_in(page, "chair")
    page.goto("/care/visits/new/")
    width = size["viewport"]["width"]
    for s in page.locator("main form").first.evaluate(SELECTS):
        assert s["needed"] <= s["width"], f"{width}px：下拉框「{s['name']}」{s}"


def test_a_filter_drop_down_on_a_phone_shows_the_whole_union_name(
    new_page: Callable[..., Page], world: World
) -> None:
    from tests import factories as f

    f.union("高中部高三年级语文教研组工会小组", parent=world.branch)
    page = new_page(**PHONE)
    log_in(page, "chair")
    page.goto("/activities/")
    for s in page.locator("main form").first.evaluate(SELECTS):
        assert s["needed"] <= s["width"], f"390px：筛选「{s['name']}」{s}"
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 390, f"页面宽 {page_width}px，超出手机屏幕"
