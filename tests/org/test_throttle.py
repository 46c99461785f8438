"""The login throttle: by account and by address, a growing wait, one answer for every
refusal, and the owner's known browsers let through while a stranger guesses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from gonghui.common.models import AuditAction, AuditEntry
from gonghui.org import services, throttle
from gonghui.org.models import LoginThrottle

from .. import factories as f
from ..conftest import World, login

OWNER_ADDR = "127.0.0.1"
STRANGER_ADDR = "127.0.0.66"


def _login(client: Client, username: str, password: str, addr: str = OWNER_ADDR) -> Any:
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=addr
    )


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _alert(response: Any) -> str:
    html = response.content.decode()
    alert = html[html.index('role="alert"') :]
    return alert[: alert.index("</div>")]


def _pause_account(username: str, addr: str = STRANGER_ADDR) -> None:
    stranger = Client()
    for _ in range(settings.GONGHUI_LOGIN_MAX_FAILURES):
        _login(stranger, username, "wrong-password", addr)


def test_a_strangers_guesses_do_not_lock_the_owner_out_of_a_known_browser(
    world: World,
) -> None:
    # Given the owner logged in once on her office PC, and logged out.
    office = Client()
    assert _login(office, "member", f.PASSWORD).status_code == 302
    office.post(reverse("logout"))
    assert throttle.DEVICE_COOKIE in office.cookies

    # When a stranger elsewhere guesses her password until the account is paused,
    _pause_account("member")
    assert throttle.paused_until(throttle.account_key("member")) is not None

    # then the office PC still logs her in,
    assert _login(office, "member", f.PASSWORD).status_code == 302
    assert _logged_in(office)
    # while a browser that never logged in as her waits, even with the right password.
    new_phone = Client()
    assert _login(new_phone, "member", f.PASSWORD, "127.0.0.7").status_code == 200
    assert not _logged_in(new_phone)


def test_a_forged_or_other_accounts_device_cookie_does_not_pass_the_pause(
    world: World,
) -> None:
    # Given a browser known for the officer only, and one with a forged cookie.
    officer_pc = Client()
    assert _login(officer_pc, "officer", f.PASSWORD).status_code == 302
    forged = Client()
    forged.cookies[throttle.DEVICE_COOKIE] = f"{world.member_user.pk}:abc"
    _pause_account("member")

    # Then neither logs in as the paused member.
    for client in (officer_pc, forged):
        client.post(reverse("logout"))
        assert _login(client, "member", f.PASSWORD).status_code == 200
        assert not _logged_in(client)


def test_unknown_paused_and_wrong_password_get_the_identical_answer(world: World) -> None:
    # Given a paused account.
    _pause_account("member")

    # When someone tries an unknown name, a known name with a wrong password, and the
    # paused account with its right password,
    unknown = _login(Client(), "nobody-here", "whatever-1", "127.0.0.8")
    wrong = _login(Client(), "officer", "whatever-1", "127.0.0.8")
    paused = _login(Client(), "member", f.PASSWORD, "127.0.0.8")

    # then the three pages say exactly the same.
    assert unknown.status_code == wrong.status_code == paused.status_code == 200
    assert _alert(unknown) == _alert(wrong) == _alert(paused)
    assert "登录名或密码不正确" in _alert(unknown)
    assert "锁定" not in unknown.content.decode()


def test_an_unknown_name_is_counted_and_paused_like_a_real_one(db: None) -> None:
    # A pause that only real accounts got would tell which names exist.
    _pause_account("nobody-here")
    assert throttle.paused_until(throttle.account_key("nobody-here")) is not None


@override_settings(GONGHUI_LOGIN_MAX_FAILURES_PER_ADDRESS=6)
def test_failures_from_one_address_are_throttled_across_usernames(world: World) -> None:
    # Given one address that tried six different names once each (no account reached
    # its own limit),
    guesser = Client()
    for i in range(6):
        _login(guesser, f"teacher{i}", "wrong-password", STRANGER_ADDR)
    assert throttle.paused_until(throttle.account_key("teacher0")) is None

    # then that address cannot log in even with a right password,
    assert _login(Client(), "member", f.PASSWORD, STRANGER_ADDR).status_code == 200
    # and a known device does not lift an address's pause.
    office = Client()
    assert _login(office, "officer", f.PASSWORD).status_code == 302
    office.post(reverse("logout"))
    assert _login(office, "officer", f.PASSWORD, STRANGER_ADDR).status_code == 200
    assert not _logged_in(office)
    # while another address logs in as usual.
    assert _login(Client(), "member", f.PASSWORD, "127.0.0.9").status_code == 302


def test_the_wait_grows_with_each_further_failure(db: None) -> None:
    limit = settings.GONGHUI_LOGIN_MAX_FAILURES
    assert throttle.delay_after(limit - 1, limit) == dt.timedelta(0)
    waits = [throttle.delay_after(limit + i, limit) for i in range(6)]
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[4] == waits[5] == dt.timedelta(minutes=settings.GONGHUI_LOGIN_LOCK_MINUTES)

    # Through the login page: each refused try moves the end of the pause further out.
    client = Client()
    ends = []
    for _ in range(limit + 2):
        _login(client, "zhuxi", "wrong-password", STRANGER_ADDR)
        ends.append(LoginThrottle.objects.get(key="user:zhuxi").blocked_until)
    assert ends[limit - 2] is None
    first, second, third = ends[limit - 1], ends[limit], ends[limit + 1]
    assert first is not None and second is not None and third is not None
    now = timezone.now()
    assert dt.timedelta(seconds=50) < first - now <= dt.timedelta(minutes=1)
    assert dt.timedelta(minutes=1, seconds=50) < second - now <= dt.timedelta(minutes=2)
    assert dt.timedelta(minutes=3, seconds=50) < third - now <= dt.timedelta(minutes=4)


def test_the_pause_ends_and_success_starts_the_account_afresh(world: World) -> None:
    _pause_account("member")
    LoginThrottle.objects.filter(key="user:member").update(
        blocked_until=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _login(Client(), "member", f.PASSWORD, "127.0.0.10").status_code == 302
    assert not LoginThrottle.objects.filter(key="user:member").exists()


def test_a_chair_lifts_the_pause_by_setting_a_new_password(world: World) -> None:
    _pause_account("member")
    chair = login(world.officer)
    page = chair.get(reverse("org:user_detail", args=[world.member_user.pk])).content.decode()
    assert "登录暂停" in page
    assert "登录暂停中" in chair.get(reverse("org:users")).content.decode()

    services.user_set_password(actor=world.officer, user=world.member_user, password="Xin-2024a")

    assert _login(Client(), "member", "Xin-2024a", "127.0.0.11").status_code == 302


def test_failures_are_audited_for_known_and_unknown_names_without_the_password(
    world: World,
) -> None:
    _login(Client(), "no-such-user", "Secret-guess-1", STRANGER_ADDR)
    _pause_account("member")

    unknown = AuditEntry.objects.get(action=AuditAction.LOGIN_FAILED, summary__contains="no-such")
    assert "不存在的登录名「no-such-user」" in unknown.summary
    assert STRANGER_ADDR in unknown.summary
    known = AuditEntry.objects.filter(
        action=AuditAction.LOGIN_FAILED, object_id=str(world.member_user.pk)
    )
    assert known.count() == settings.GONGHUI_LOGIN_MAX_FAILURES
    paused = AuditEntry.objects.get(action=AuditAction.LOCKED, object_id=str(world.member_user.pk))
    # The chairs who can lift the pause see it in their audit log.
    assert paused.union == world.group
    for entry in AuditEntry.objects.all():
        assert "Secret-guess-1" not in entry.summary + str(entry.changes)
        assert "wrong-password" not in entry.summary + str(entry.changes)


@override_settings(GONGHUI_LOGIN_TRUST_FORWARDED_FOR=True)
def test_behind_the_proxy_the_address_it_appended_counts(world: World) -> None:
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": "nobody", "password": "x-1"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.9.9.9, 127.0.0.44",
    )
    assert response.status_code == 200
    assert LoginThrottle.objects.filter(key="addr:127.0.0.44").exists()
    assert not LoginThrottle.objects.filter(key="addr:10.9.9.9").exists()
