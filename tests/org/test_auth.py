"""Logging in: argon2 hashes, unknown and deactivated accounts (the throttle: test_throttle)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import Client, override_settings
from django.urls import reverse

import gonghui.settings as configured
from gonghui.org.models import LoginThrottle, User

from .. import factories as f
from ..conftest import World

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
    assert not LoginThrottle.objects.filter(key="user:member").exists()
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
