from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.middleware import LoginRequiredMiddleware as BaseLoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from .audit import current_ip


class AuditContextMiddleware:
    """Make the client's address available to the audit log for this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class DatabaseBusyMiddleware:
    """On SQLite one writer writes at a time; a large import holds the write lock for
    many seconds, and a save that waited out the busy timeout meanwhile would end in a
    bare 500. Answer with a page that says what happened and that nothing was saved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError) and "locked" in str(exception):
            response = render(request, "busy.html", status=503)
            response["Retry-After"] = "30"
            return response
        return None


class LoginRequiredMiddleware(BaseLoginRequiredMiddleware):
    """Django's login requirement, plus what an expired session needs on our pages.

    - A form posted after the session expired: after logging in, come back to the page
      the form was on (its Referer), not to the POST-only address, which would answer
      "method not allowed" to the GET that follows a login.
    - An htmx request (search-as-you-type): tell htmx to load the login page as a whole
      page (``HX-Redirect``), instead of swapping it into the results box.
    """

    # (The stubs promise a redirect; an htmx request gets a 204 with HX-Redirect instead.)
    def handle_no_permission(  # type: ignore[override]
        self, request: HttpRequest, view_func: Any
    ) -> HttpResponse:
        login_url = resolve_url(self.get_login_url(view_func))
        field = self.get_redirect_field_name(view_func)
        if request.headers.get("HX-Request"):
            current = request.headers.get("HX-Current-URL", "")
            back = urlsplit(current).path if current else request.path
            response = HttpResponse(status=204)
            response["HX-Redirect"] = f"{login_url}?{urlencode({field: back})}"
            return response
        if request.method != "GET":
            referer = request.headers.get("Referer", "")
            if referer and url_has_allowed_host_and_scheme(
                referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                parts = urlsplit(referer)
                page = parts.path + (f"?{parts.query}" if parts.query else "")
                return redirect_to_login(page, login_url, field)
        return super().handle_no_permission(request, view_func)
