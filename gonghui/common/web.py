"""Small helpers for thin views."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
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


def refused_union(form: forms.BaseForm, field: str = "union") -> str | None:
    """The ``?union=`` a list's filter form refused (out of the viewer's reach, or no
    such union), or ``None``: the list then shows the viewer's whole scope."""
    asked = form.data.get(field) if form.is_bound else None
    if asked and field in form.errors:
        return str(asked)[:20]
    return None


def out_of_scope_message(asked: str) -> str:
    # Named by the number asked, not by name: the page must not tell whether a union
    # out of reach exists, nor what it is called.
    return f"您无权查看「编号 {asked}」的组织，或该组织不存在；已显示您有权查看的范围。"


def tell_refused_union(request: HttpRequest, form: forms.BaseForm) -> None:
    """Say on the page that the list shows the viewer's own scope instead of the union
    the link asked for, rather than change it silently."""
    asked = refused_union(form)
    if asked is not None:
        messages.warning(request, out_of_scope_message(asked))


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
