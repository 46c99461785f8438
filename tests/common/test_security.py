"""Headers the browser enforces, `check --deploy` under the documented production
settings, Django's admin off by default (and its logins through ours), idle sessions."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from gonghui.common import security
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.org.models import User

from .. import clirun
from .. import factories as f
from ..conftest import World, login

#: The production environment README.md's 部署 table documents.
PRODUCTION = {
    "GONGHUI_SECRET_KEY": "k3Yb7r0Q-production-like-secret-for-the-deploy-check-0123456789abcdef",
    "GONGHUI_ENCRYPTION_KEY": "YPh-UnEu2uo6PrDscDeCNGEfT9ci6RnpfECEeVPYHQs=",
    "GONGHUI_ALLOWED_HOSTS": "gonghui.example.cn",
    "GONGHUI_HTTPS": "1",
    "GONGHUI_CSRF_TRUSTED_ORIGINS": "https://gonghui.example.cn",
}


@pytest.mark.django_db
def test_every_page_carries_the_csp_and_permissions_policy(world: World) -> None:
    # Given the login page and a page of the workbench, as anyone would get them
    pages = [Client().get("/accounts/login/"), login(world.chair).get("/members/")]
    # Then both say what the browser may run and use
    for page in pages:
        assert page.status_code == 200
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "camera=()" in page.headers["Permissions-Policy"]


def test_no_template_has_inline_script_the_csp_would_block() -> None:
    # The CSP refuses inline script: no <script> body, no on…= handler, no javascript: URL.
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|javascript:", re.IGNORECASE)
    # htmx evaluates event filters (hx-trigger="change[…]") and hx-on with eval.
    # (A "from:input[name=q]" is a CSS selector, not a filter.)
    needs_eval = re.compile(r"hx-trigger=\"[^\"]*(?<!from:)\b[a-z]+\[|hx-on|js:")
    found = [
        str(path)
        for path in Path("gonghui").rglob("*.html")
        if inline.search(text := path.read_text(encoding="utf-8")) or needs_eval.search(text)
    ]
    assert found == []


@pytest.mark.own_database
def test_https_turns_on_hsts_and_redirects_plain_http(tmp_path: Path) -> None:
    # Given the production settings (GONGHUI_HTTPS=1), a request through the whole stack
    environ = clirun.env(
        **{**PRODUCTION, "GONGHUI_ALLOWED_HOSTS": "testserver"}, GONGHUI_DATA_DIR=str(tmp_path)
    )
    code = (
        "import django, json; django.setup(); from django.test import Client;"
        "c = Client(); s = c.get('/accounts/login/', secure=True);"
        "p = c.get('/accounts/login/');"
        "print(json.dumps([s.status_code, s.headers.get('Strict-Transport-Security'),"
        " p.status_code, p.headers.get('Location')]))"
    )
    done = clirun.python(code, environ={**environ, "DJANGO_SETTINGS_MODULE": "gonghui.settings"})
    assert done.returncode == 0, done.stderr
    status, hsts, plain_status, location = json.loads(done.stdout.strip().splitlines()[-1])
    # Then HTTPS answers with HSTS, and plain HTTP is sent to HTTPS
    assert status == 200
    assert hsts is not None and "max-age=31536000" in hsts
    assert plain_status == 301 and location.startswith("https://")


@pytest.mark.own_database
def test_check_deploy_is_clean_under_the_documented_production_settings(tmp_path: Path) -> None:
    # (without the test suite's own DJANGO_ALLOW_ASYNC_UNSAFE)
    environ = clirun.env(
        **PRODUCTION, GONGHUI_DATA_DIR=str(tmp_path), DJANGO_ALLOW_ASYNC_UNSAFE=None
    )
    checked = clirun.run("check", "--deploy", "--fail-level", "WARNING", environ=environ)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


@pytest.mark.django_db
def test_the_admin_is_not_served_unless_asked_for(world: World) -> None:
    # Given a superuser, with GONGHUI_ADMIN left at its default (off)
    root = User.objects.create_superuser("root", password=f.PASSWORD)
    # Then /admin/ does not exist
    assert login(root).get("/admin/").status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("admin_on")
def test_the_admin_signs_in_through_the_audited_workbench_login(world: World) -> None:
    User.objects.create_superuser("root", password=f.PASSWORD)
    client = Client()
    # Given the admin's own login page
    page = client.get("/admin/login/?next=/admin/")
    # Then it sends to the workbench's login, which comes back to the admin
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/accounts/login/?next=/admin/")
    # When the superuser logs in there
    done = client.post(
        "/accounts/login/?next=/admin/", {"username": "root", "password": f.PASSWORD}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/admin/"
    # Then the admin opens and the login is in the audit log
    assert client.get("/admin/").status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN, actor__username="root").exists()
    # And a signed-in user who is not staff is refused, not sent round in circles
    assert login(world.chair).get("/admin/login/?next=/admin/").status_code == 403


def _idle_for(client: Client, seconds: int) -> None:
    """Move the session's last request ``seconds`` into the past."""
    session = SessionStore(session_key=client.cookies["sessionid"].value)
    session[security.LAST_SEEN] = int(time.time()) - seconds
    session.save()


@pytest.mark.django_db
def test_a_session_idle_past_its_limit_is_logged_out(world: World) -> None:
    # Given the chair (who may see full 身份证号: 30 minutes) and a member (240 minutes)
    chair, member = login(world.chair), login(world.member_user)
    assert chair.get("/members/").status_code == 200
    assert member.get("/members/me/").status_code == 200
    # When both were idle for 31 minutes
    _idle_for(chair, 31 * 60)
    _idle_for(member, 31 * 60)
    # Then the chair must log in again, and is told why; the member is still in
    expired = chair.get("/members/", follow=True)
    assert expired.redirect_chain[0][0].startswith("/accounts/login/")
    assert "长时间未操作" in expired.content.decode()
    assert member.get("/members/me/").status_code == 200
    # And past the longer limit the member is logged out too
    _idle_for(member, 241 * 60)
    assert member.get("/members/me/").headers["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_an_active_session_still_ends_after_twelve_hours(world: World) -> None:
    client = login(world.chair)
    assert client.get("/").status_code == 200
    session = SessionStore(session_key=client.cookies["sessionid"].value)
    session[security.STARTED] = int(time.time()) - 12 * 3600 - 1
    session.save()
    assert client.get("/").headers["Location"].startswith("/accounts/login/")
