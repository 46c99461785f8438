"""Login, throttled by account and by client address (``gonghui.org.throttle``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from . import throttle
from .models import User
from .services import login_failed


class LockoutModelBackend(ModelBackend):
    """Django's model backend, plus: a paused client address is refused; a paused
    account is refused unless this browser is one of its known devices; every failure
    is counted against both and audited. A refusal looks the same whatever its cause."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        name = username.strip()
        address = throttle.client_address(request)
        user = User.objects.filter(username__iexact=name).first()
        if address and throttle.paused_until(throttle.address_key(address)):
            return self._fail(user, name, address, paused=True)
        account_paused = throttle.paused_until(throttle.account_key(name)) is not None
        if account_paused and not (user is not None and throttle.is_known_device(request, user)):
            return self._fail(user, name, address, paused=True)
        if user is None:
            # Run the hasher anyway so timing does not tell which names exist.
            User().set_password(password)
            return self._fail(None, name, address)
        if user.check_password(password):
            # A deactivated account with the right password is not a guess: no failure is
            # counted, and the login form says the account is deactivated.
            if not self.user_can_authenticate(user):
                return None
            # The owner logging in from a known device while a stranger is guessing must
            # not hand the stranger a fresh allowance of guesses.
            if not account_paused:
                throttle.forget_account(name)
            return user
        return self._fail(user, name, address)

    @staticmethod
    def _fail(user: User | None, name: str, address: str, *, paused: bool = False) -> None:
        login_failed(user=user, username=name, address=address, paused=paused)
        return None
