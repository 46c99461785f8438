"""The contract between the apps and the dashboard's to-do list (待办).

Each app's ``queries.py`` may have ``todo(viewer, *, today) -> list[Todo]``: how many of
its records wait for this officer, each scoped to what she may see, with the filtered
list where she acts on them. ``reports`` finds these functions as it finds ``report.py``
(an app never imports ``reports``); each app's function takes a fixed number of queries,
so the dashboard does too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Todo:
    """One line of the to-do list: ``count`` records behind ``url``, a page she may open
    where the same records are listed (the same count) and she can act on them."""

    key: str  # stable: care.subsidies.review
    label: str  # 补助待审核
    count: int
    url: str
    unit: str = "件"
    note: str = ""  # a word on what is counted (近 30 天, 其中 3 人未慰问)
