"""Login with lockout after repeated failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from gonghui.common import audit
from gonghui.common.models import AuditAction

from .models import User


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
        # Place the rows where the user's highest role is, so that the chairs who can
        # unlock the account see the failures and the lock in their audit log.
        home = user.roles.select_related("union").order_by("union__depth").first()
        union = home.union if home else None
        with transaction.atomic():
            # F() so two wrong passwords at the same moment both count.
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            user.refresh_from_db(fields=["failed_logins"])
            audit.record(
                actor=user,
                action=AuditAction.LOGIN_FAILED,
                obj=user,
                union=union,
                summary=f"登录失败（连续第 {user.failed_logins} 次）",
            )
            if user.failed_logins >= settings.GONGHUI_LOGIN_MAX_FAILURES:
                until = timezone.now() + dt.timedelta(minutes=settings.GONGHUI_LOGIN_LOCK_MINUTES)
                User.objects.filter(pk=user.pk).update(locked_until=until, failed_logins=0)
                audit.record(
                    actor=user,
                    action=AuditAction.LOCKED,
                    obj=user,
                    union=union,
                    summary=f"连续登录失败，账号锁定至 {timezone.localtime(until):%H:%M}",
                )
