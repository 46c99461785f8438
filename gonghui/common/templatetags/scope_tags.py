"""``{% may "perm" union as ok %}``: whether the viewer may open a page of ``union`` with
``perm``, so a template links only what the viewer can follow and names the rest."""

from __future__ import annotations

from typing import Any

from django import template

from gonghui.common.scope import Perm, grants

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context: template.Context, perm: str, union: Any) -> bool:
    """``union`` is a ``Union`` (or ``None``: only a superuser reaches what has none)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None:
        return False
    g = grants(user)
    if union is None:
        return g.superuser
    return g.reaches(Perm(perm), union.path)
