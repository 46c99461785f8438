"""Response headers the browser enforces, and the idle-session limit.

The Content-Security-Policy is one fixed header of our own rather than django-csp: the
pages carry no inline script (behaviours are ``data-`` attributes handled by
``static/gonghui/app.js``; htmx runs from its static file, with no ``hx-on`` or
``js:`` values and no event filters, which would need ``eval``), so the policy needs no
nonces and no per-view exceptions. Inline *styles* stay allowed: the templates use
``style`` attributes and htmx adds its indicator style; a style cannot run code.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Nothing here uses the camera (members scan the check-in code with their phone's own
# camera app), the microphone, location, payment or USB.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "magnetometer",
        "gyroscope",
        "accelerometer",
        "browsing-topics",
    )
)


class SecurityHeadersMiddleware:
    """CSP and Permissions-Policy on every response (HSTS comes from Django's settings)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


#: Session keys: when this session was first seen, and its last request (epoch seconds).
STARTED, LAST_SEEN = "gonghui_started", "gonghui_last_seen"
# The last-seen time is written at most this often, not on every request (a session
# write is a database write).
TOUCH_EVERY = 60


def idle_limit(user: object) -> int:
    """Seconds of idleness allowed: shorter for a user who may see full 身份证号."""
    from .scope import Perm, grants

    minutes = (
        settings.GONGHUI_IDLE_MINUTES
        if grants(user).any(Perm.ROSTER_PII)  # type: ignore[arg-type]
        else settings.GONGHUI_IDLE_MINUTES_OTHER
    )
    return int(minutes) * 60


class IdleSessionMiddleware:
    """Log out a session idle too long, or older than SESSION_COOKIE_AGE in all.

    Saving a session renews its cookie's age, so the 12-hour limit is kept here from
    the time the session was first seen, not left to the cookie. The role (and so its
    limit) is only looked up once a session has been idle longer than the shorter limit.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            self._check(request, user)
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: object) -> None:
        session = request.session
        now = int(time.time())
        started = int(session.get(STARTED, now))
        last = int(session.get(LAST_SEEN, now))
        idle = now - last
        shortest = 60 * min(settings.GONGHUI_IDLE_MINUTES, settings.GONGHUI_IDLE_MINUTES_OTHER)
        expired = now - started > settings.SESSION_COOKIE_AGE or (
            idle > shortest and idle > idle_limit(user)
        )
        if expired:
            logout(request)
            messages.info(request, "长时间未操作，已自动退出，请重新登录。")
            return
        if STARTED not in session:
            session[STARTED] = now
        if LAST_SEEN not in session or idle >= TOUCH_EVERY:
            session[LAST_SEEN] = now
