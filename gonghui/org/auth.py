"""Login with lockout after repeated failures."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.utils import timezone

from .models import User
from .services import login_failed


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > timezone.now()


class LockoutModelBackend(ModelBackend):
    """Django's model backend, plus: after ``GONGHUI_LOGIN_MAX_FAILURES`` wrong passwords
    in a row the account is locked for ``GONGHUI_LOGIN_LOCK_MINUTES``; a locked account
    cannot log in even with the right password. Failures and locks are audited."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or password is None:
            return None
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            # Run the hasher anyway so timing does not tell which names exist.
            User().set_password(password)
            return None
        if is_locked(user):
            return None
        if user.check_password(password):
            # A deactivated account with the right password is not a guess: no failure is
            # counted, and the login form says the account is deactivated.
            if not self.user_can_authenticate(user):
                return None
            if user.failed_logins:
                User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
            return user
        self._fail(user)
        return None

    @staticmethod
    def _fail(user: User) -> None:
        login_failed(user=user)
