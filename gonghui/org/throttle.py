"""Slowing down password guessing, by account and by client address, without letting a
stranger lock the owner out.

Each failed login counts against two keys: the name typed (``user:<name>``, whether the
account exists or not) and the client address (``addr:<ip>``). From the
``GONGHUI_LOGIN_MAX_FAILURES``-th failure of an account (``…_PER_ADDRESS`` of an
address) the key is paused for a delay that doubles with each further failure, from
one minute up to ``GONGHUI_LOGIN_LOCK_MINUTES``; a key forgets its failures after a day
without one. Attempts during a pause are refused unchecked and count too, so a guesser
who keeps trying stays at the longest delay.

A pause of the *account* does not apply to a browser that presents a valid
known-device cookie for it (set at each successful login): the owner's own phone or
office PC keeps logging in while a stranger guesses. The pause of the *address* always
applies. The login form gives one message for an unknown name, a wrong password and a
pause, so the answer never tells which accounts exist.

Why not django-axes (8.x, well kept): its lockout is a refusal for a cool-off time,
not a growing delay, and a lock on a username applies to every client; exempting the
owner's known browsers from the account lock but not from the address lock would mean
replacing its handler's ``is_allowed``, i.e. most of what we would use it for. This
module is one table and about 150 lines, tested in ``tests/org/test_throttle.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import LoginThrottle, User

#: The cookie that marks a browser where an account logged in before.
DEVICE_COOKIE = "gh_device"
_DEVICE_SALT = "gonghui.org.known-device"
_DEVICE_DAYS = 180
#: Accounts one browser remembers (a shared office PC).
_DEVICE_MAX = 5
#: A key forgets its failures after this long without one.
_FORGET = dt.timedelta(days=1)
_FIRST_DELAY = dt.timedelta(minutes=1)


def account_key(username: str) -> str:
    return "user:" + username.strip().lower()[:150]


def address_key(address: str) -> str:
    return "addr:" + address[:150]


def client_address(request: HttpRequest | None) -> str:
    """The client's address. Behind the TLS proxy (``GONGHUI_HTTPS``) every request comes
    from the proxy, so the address it appended to ``X-Forwarded-For`` (the last one: the
    ones before it are the client's word) is the one that counts."""
    if request is None:
        return ""
    if getattr(settings, "GONGHUI_LOGIN_TRUST_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR") or "")


def _limit(key: str) -> int:
    if key.startswith("addr:"):
        return int(settings.GONGHUI_LOGIN_MAX_FAILURES_PER_ADDRESS)
    return int(settings.GONGHUI_LOGIN_MAX_FAILURES)


def delay_after(failures: int, limit: int) -> dt.timedelta:
    """The pause after ``failures`` in a row: none below ``limit``, then one minute,
    doubling with each further failure, up to ``GONGHUI_LOGIN_LOCK_MINUTES``."""
    if failures < limit:
        return dt.timedelta(0)
    longest = dt.timedelta(minutes=settings.GONGHUI_LOGIN_LOCK_MINUTES)
    steps = min(failures - limit, 20)
    return min(_FIRST_DELAY * (2**steps), longest)


def paused_until(key: str) -> dt.datetime | None:
    """When the pause of ``key`` ends, or None when it is not paused."""
    row = LoginThrottle.objects.filter(key=key).values_list("blocked_until", flat=True).first()
    return row if row is not None and row > timezone.now() else None


def paused_accounts(usernames: list[str]) -> set[str]:
    """Which of ``usernames`` (lower case) are paused now, in one query (the users list)."""
    keys = [account_key(u) for u in usernames]
    rows = LoginThrottle.objects.filter(key__in=keys, blocked_until__gt=timezone.now())
    return {k.removeprefix("user:") for k in rows.values_list("key", flat=True)}


@dataclass
class Failure:
    key: str
    failures: int
    paused_until: dt.datetime | None
    newly_paused: bool


def _fail_one(key: str, now: dt.datetime) -> Failure:
    # Row lock: two processes counting the same key at once both count.
    row = LoginThrottle.objects.select_for_update().filter(key=key).first()
    if row is None:
        try:
            with transaction.atomic():
                row = LoginThrottle.objects.create(key=key)
        except IntegrityError:  # created by another process a moment ago
            row = LoginThrottle.objects.select_for_update().get(key=key)
    if row.last_failure_at is not None and now - row.last_failure_at > _FORGET:
        row.failures = 0
    was_paused = row.blocked_until is not None and row.blocked_until > now
    row.failures += 1
    row.last_failure_at = now
    delay = delay_after(row.failures, _limit(key))
    if delay:
        row.blocked_until = max(now + delay, row.blocked_until or now)
    row.save(update_fields=["failures", "last_failure_at", "blocked_until"])
    paused = row.blocked_until if delay else None
    return Failure(key, row.failures, paused, bool(delay) and not was_paused)


@transaction.atomic
def record_failure(*, username: str, address: str) -> tuple[Failure, Failure | None]:
    """Count one failed login against the name typed and the address it came from."""
    now = timezone.now()
    account = _fail_one(account_key(username), now)
    addr = _fail_one(address_key(address), now) if address else None
    return account, addr


def forget_account(username: str) -> None:
    """A successful login, or a password set by a chair: the account starts afresh. The
    address keeps its count (a guesser's own account must not reset it)."""
    LoginThrottle.objects.filter(key=account_key(username)).delete()


# Known devices --------------------------------------------------------------------------


def _device_token(user: User) -> str:
    # Tied to the password hash, so a password change forgets every device.
    return f"{user.pk}:{user.get_session_auth_hash()[:20]}"


def _device_tokens(request: HttpRequest | None) -> list[str]:
    if request is None or DEVICE_COOKIE not in request.COOKIES:
        return []
    try:
        value = signing.loads(
            request.COOKIES[DEVICE_COOKIE],
            salt=_DEVICE_SALT,
            max_age=dt.timedelta(days=_DEVICE_DAYS),
        )
    except signing.BadSignature:
        return []
    return [str(t) for t in value] if isinstance(value, list) else []


def is_known_device(request: HttpRequest | None, user: User) -> bool:
    return _device_token(user) in _device_tokens(request)


def remember_device(request: HttpRequest, response: HttpResponse, user: User) -> None:
    """Mark this browser as one where ``user`` logged in (after a successful login)."""
    token = _device_token(user)
    mine = f"{user.pk}:"
    tokens = [t for t in _device_tokens(request) if not t.startswith(mine)]
    tokens = [token, *tokens][:_DEVICE_MAX]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(tokens, salt=_DEVICE_SALT),
        max_age=_DEVICE_DAYS * 24 * 3600,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )
