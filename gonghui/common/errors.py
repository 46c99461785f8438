from __future__ import annotations

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A rule of the domain refused a write; the message says, in Chinese, what to fix.

    It is a ``ValidationError`` so that forms can show it next to the field it names
    (``ServiceError({"parent": "…"})``) and the CLI can print it.
    """
