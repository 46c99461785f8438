"""Logging in: argon2 hashes and the lockout after repeated wrong passwords."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

import gonghui.settings as configured
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.org import services
from gonghui.org.models import User

from .. import factories as f
from ..conftest import World, login

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def _login(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_argon2_is_the_configured_hasher() -> None:
    # The tests swap in a fast hasher (conftest); the settings module itself is what a
    # real start uses.
    assert configured.PASSWORD_HASHERS[0] == ARGON2
    assert settings.PASSWORD_HASHERS != configured.PASSWORD_HASHERS


@override_settings(PASSWORD_HASHERS=configured.PASSWORD_HASHERS)
def test_passwords_are_stored_as_argon2(db: None) -> None:
    # Two argon2 runs only (one hash, one check): each takes a good fraction of a second.
    school = f.union("第一中学工会", "union", None)
    user = f.user("chair", school)
    assert user.password.startswith("argon2$argon2id$")
    assert authenticate(None, username="chair", password=f.PASSWORD) == user


def test_lockout_after_repeated_wrong_passwords(world: World) -> None:
    limit = settings.GONGHUI_LOGIN_MAX_FAILURES
    client = Client()

    for attempt in range(1, limit):
        response = _login(client, "member", "wrong-password")
        assert response.status_code == 200
        assert f"登录名或密码不正确。连续输错 {limit} 次将锁定账号。" in response.text
        assert User.objects.get(username="member").failed_logins == attempt

    response = _login(client, "member", "wrong-password")
    assert "该账号因连续输错密码已被锁定" in response.text
    assert f"请 {settings.GONGHUI_LOGIN_LOCK_MINUTES} 分钟后再试" in response.text

    # Even the right password is refused while locked, and does not count as a failure.
    response = _login(client, "member", f.PASSWORD)
    assert response.status_code == 200
    assert "该账号因连续输错密码已被锁定" in response.text
    assert not _logged_in(client)

    user = User.objects.get(username="member")
    assert user.locked_until is not None and user.locked_until > timezone.now()
    failures = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, object_id=str(user.pk))
    assert failures.count() == limit
    locked = AuditEntry.objects.get(action=AuditAction.LOCKED, object_id=str(user.pk))
    # The branch chair, who can unlock the account, sees the lock in their audit log.
    assert locked.union == world.group
    log = login(world.officer).get(reverse("common:audit"), {"action": "locked"})
    assert [e.pk for e in log.context["page"]] == [locked.pk]


def test_success_resets_the_failure_counter(world: World) -> None:
    limit = settings.GONGHUI_LOGIN_MAX_FAILURES
    client = Client()
    for _ in range(limit - 1):
        _login(client, "member", "wrong-password")

    response = _login(client, "member", f.PASSWORD)
    assert response.status_code == 302
    assert _logged_in(client)
    assert User.objects.get(username="member").failed_logins == 0

    # So the next run of mistakes starts from zero again.
    other = Client()
    for _ in range(limit - 1):
        _login(other, "member", "wrong-password")
    assert User.objects.get(username="member").locked_until is None


def test_the_lock_expires(world: World) -> None:
    User.objects.filter(username="member").update(
        locked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    client = Client()
    assert _login(client, "member", f.PASSWORD).status_code == 302
    assert _logged_in(client)


def test_a_chair_unlocks_by_setting_a_new_password(world: World) -> None:
    client = Client()
    for _ in range(settings.GONGHUI_LOGIN_MAX_FAILURES):
        _login(client, "member", "wrong-password")
    services.user_set_password(
        actor=world.officer, user=world.member_user, password="Xin-mima-2024"
    )

    assert _login(client, "member", "Xin-mima-2024").status_code == 302


def test_unknown_and_inactive_users_cannot_log_in(world: World) -> None:
    client = Client()
    response = _login(client, "nobody", "whatever-1")
    assert "登录名或密码不正确" in response.text
    User.objects.filter(username="member").update(is_active=False)
    response = _login(client, "member", f.PASSWORD)
    assert response.status_code == 200
    assert not _logged_in(client)
    # The right password on a deactivated account says so, and is not counted as a guess.
    assert "该账号已停用" in response.text
    assert User.objects.get(username="member").failed_logins == 0
    response = _login(client, "member", "wrong-password-1")
    assert "该账号已停用" not in response.text


def test_usernames_are_matched_ignoring_case(world: World) -> None:
    client = Client()
    assert _login(client, " Member ", f.PASSWORD).status_code == 302


@pytest.mark.parametrize("path", ["/", "/members/", "/org/", "/audit/", "/reports/"])
def test_pages_need_a_login(db: None, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
