"""Playwright in Debian's chromium, against pytest-django's live server.

One chromium per test process (session scope, so each xdist worker starts its own);
each test gets a fresh context, so cookies and storage never leak between tests.
Playwright cannot download its own browsers on these machines, so we drive the
system chromium. Without it the tests are skipped locally and fail under CI=true:
CI must really run them.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests import factories as f
from tests.conftest import World

CHROMIUM = Path(os.environ.get("GONGHUI_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking switches chromium keeps dialling Google's update
# and sync services; the closed network refuses them and the noise slows the start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Two cores run two workers, each with a server thread and a chromium: be patient.
TIMEOUT_MS = 15_000
FAILURES_DIR = Path("var/browser-failures")

# pytest-django's live server binds to "localhost" by default, which may resolve to
# ::1 first; pin the loopback address so the server and chromium agree on it.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

expect.set_options(timeout=TIMEOUT_MS)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = (
            f"没有找到 chromium（{CHROMIUM}）：浏览器测试需要 Debian 的 chromium，"
            "请运行 `apt-get install -y chromium fonts-noto-cjk`。"
        )
        if _in_ci():
            pytest.fail(f"CI 必须运行浏览器测试。{reason}", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report on the item, so the page fixture can tell a failed test
    # and leave a screenshot behind for whoever reads the CI log.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def new_page(
    browser: Browser, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh context: ``new_page()`` or ``new_page(viewport=…)``.

    The test fails if the page raised an uncaught JavaScript error or a static asset
    (htmx, the stylesheet) failed to load: both break the UI without failing a click.
    """
    contexts = []
    problems: list[str] = []
    pages: list[Page] = []

    def open_page(**context_options: Any) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            **context_options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"JavaScript 错误：{exc}"))
        page.on(
            "response",
            lambda r: (
                problems.append(f"静态文件加载失败：{r.status} {r.url}")
                if "/static/" in r.url and r.status >= 400
                else None
            ),
        )
        pages.append(page)
        return page

    yield open_page

    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        FAILURES_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        for i, page in enumerate(pages):
            # A screenshot that cannot be taken must never hide the real failure.
            with contextlib.suppress(Exception):
                page.screenshot(path=str(FAILURES_DIR / f"{name}-{i}.png"), full_page=True)
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def roster(world: World) -> World:
    """The officer's branch holds more than 张三, so a search has something to narrow."""
    f.member(world.group, "张伟")  # zw: shares the first initial with 张三 (zs)
    f.member(world.branch, "王小明")
    f.member(world.branch, "李娜")
    return world


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A desktop-sized page."""
    return new_page(viewport={"width": 1280, "height": 900})


def log_in(page: Page, username: str, password: str = f.PASSWORD) -> None:
    """Log in through the real login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("登录名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    if "/accounts/login/" in page.url:
        errors = page.locator(".errors").all_inner_texts()
        pytest.fail(f"{username} 登录失败：{errors}")
