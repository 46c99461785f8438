from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from gonghui.org.models import User


class ServiceError(ValidationError):
    """A rule of the domain refused a write; the message says, in Chinese, what to fix.

    It is a ``ValidationError`` so that forms can show it next to the field it names
    (``ServiceError({"parent": "…"})``) and the CLI can print it.
    """


class OverCap(ServiceError):
    """A spending standard is passed where the union's policy only warns: the officer may
    confirm and save (``confirm_over_cap=True``); forms show the warning with a「仍然保存」
    box. Where the policy blocks, a plain ``ServiceError`` is raised instead."""

    def __init__(self, message: str, field: str = "amount") -> None:
        super().__init__({field: message})
        self.warning = message


def system_or(actor: User | None) -> User | None:
    """The user to store as the one who did it: ``None`` for the system (demo, CLI)."""
    return actor if actor is not None and actor.pk else None
