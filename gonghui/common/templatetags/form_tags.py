"""Filters for laying out form fields (``includes/field.html``)."""

from __future__ import annotations

from django import forms, template

from gonghui.common.forms import needs_two_columns

register = template.Library()


@register.filter
def two_columns(field: forms.BoundField) -> bool:
    """``{% if f|two_columns %}``: a drop-down whose options need two columns of the grid."""
    return needs_two_columns(field)
