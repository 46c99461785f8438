"""``{% badge obj "status" %}``: a record's state as a badge, its own text in the colours
of its kind (``gonghui.common.states``), the same in every app."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.utils.html import format_html

from gonghui.common.states import kind_of

register = template.Library()


@register.simple_tag
def badge(obj: models.Model, field: str = "status", id: str = "") -> str:
    """``<span class="tag state-done" data-state="paid">已发放</span>``; ``id`` for a
    badge a page or a test refers to."""
    value: Any = getattr(obj, field)
    label = getattr(obj, f"get_{field}_display")()
    anchor = format_html(' id="{}"', id) if id else ""
    return format_html(
        '<span class="tag state-{}" data-state="{}"{}>{}</span>',
        kind_of(obj, field),
        value,
        anchor,
        label,
    )
