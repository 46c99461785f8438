"""Small helpers for thin views."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from .errors import OverCap
from .forms import ConfirmOverCapMixin

if TYPE_CHECKING:
    from gonghui.org.models import User


class AuthedRequest(HttpRequest):
    """A request behind the login (``LoginRequiredMiddleware``): ``user`` is a ``User``."""

    user: User
    htmx: HtmxDetails


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """One view, two templates: the fragment when htmx asks for it, else the full page."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    use = partial if partial and htmx and not htmx.boosted else template
    return render(request, use, context, status=status)


def posted(request: HttpRequest) -> QueryDict | None:
    """The POST data to bind a form to, or ``None`` on GET.

    Not ``request.POST or None``: an empty POST is still a submission and must show
    「请填写…」 errors, not a blank form as if nothing had been sent.
    """
    return request.POST if request.method == "POST" else None


def add_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's errors on the form, next to the field each one names."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def add_errors_or_confirm(form: forms.BaseForm, exc: ValidationError) -> None:
    """A service's refusal on the form; a cap warning (``OverCap``) instead asks for the
    「仍然保存」box of ``ConfirmOverCapMixin`` (a form without it shows the warning as an
    error)."""
    if isinstance(exc, OverCap) and isinstance(form, ConfirmOverCapMixin):
        form.ask_to_confirm(exc.warning)
        return
    add_errors(form, exc)


def query_without_page(request: HttpRequest) -> str:
    """The list's own query string without ``page``: for pager links and export buttons."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def paginate(request: HttpRequest, qs: QuerySet[Any], per_page: int) -> Page:
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def date_param(request: HttpRequest, name: str) -> dt.date | None:
    """A date from the query string (``?start=2024-01-01``), or ``None`` if absent or bad."""
    try:
        return dt.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None
