"""Finding each app's ``report.py`` and computing the work report's figures; and each
app's ``queries.todo`` for the dashboard's to-do list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps

from gonghui.common.reporting import Fact, Period
from gonghui.common.todo import Todo
from gonghui.org.models import Union, User

FactsFn = Callable[..., list[Fact]]


@dataclass(frozen=True)
class Section:
    """A part of the report, holding the figures of one or more apps."""

    key: str
    title: str
    apps: tuple[str, ...]


#: The order of the work report, after the five reports in shared/reference.
SECTIONS = (
    Section("organisation", "组织建设", ("org", "members")),
    Section("care", "关爱服务", ("care",)),
    Section("activities", "文体活动与职工培训", ("activities",)),
    Section("competitions", "建功立业", ("competitions",)),
    Section("democracy", "民主管理", ("democracy", "surveys")),
    Section("honours", "荣誉", ("honours",)),
    Section("funds", "经费管理", ("funds",)),
)


def _report_functions(name: str, room: str = "report") -> dict[str, Callable[..., Any]]:
    """``{app label: function}`` for every installed app whose ``room`` module
    (``report.py``; ``queries.py`` for the to-do list) has ``name``."""
    found: dict[str, Callable[..., Any]] = {}
    for config in apps.get_app_configs():
        module_name = f"{config.name}.{room}"
        if find_spec(module_name) is None:
            continue
        fn = getattr(import_module(module_name), name, None)
        if callable(fn):
            found[config.label] = fn
    return found


@cache
def providers() -> dict[str, FactsFn]:
    """``{app label: facts function}`` for every installed app with a ``report.py``."""
    return _report_functions("facts")


@cache
def writers() -> dict[str, Callable[..., list[str]]]:
    """``{app label: paragraphs function}``: the apps that write their part of the report
    (``paragraphs(*, union, period, facts)``, ``facts`` keyed by ``Fact.key``)."""
    return _report_functions("paragraphs")


#: The order of the to-do list: money waiting for a hand first, then people to visit,
#: then the week's activities, then imports to redo; any other app's lines after these.
TODO_ORDER = ("care", "activities", "common")


@cache
def todo_providers() -> dict[str, Callable[..., list[Todo]]]:
    """``{app label: todo function}``: the apps whose ``queries.py`` has
    ``todo(viewer, *, today)`` (``common.todo``), in :data:`TODO_ORDER`."""
    found = _report_functions("todo", room="queries")
    rank = {label: i for i, label in enumerate(TODO_ORDER)}
    return dict(sorted(found.items(), key=lambda item: rank.get(item[0], len(rank))))


def todo(viewer: User, today: dt.date) -> list[Todo]:
    """The viewer's to-do list: every app's lines, each scoped to what she may see."""
    return [item for fn in todo_providers().values() for item in fn(viewer, today=today)]


def paragraphs(
    union: Union, period: Period, computed: list[tuple[Section, list[Fact]]]
) -> dict[str, list[str]]:
    """``{section key: paragraphs}`` written from figures already computed."""
    found = writers()
    result: dict[str, list[str]] = {}
    for section, facts in computed:
        by_key = {f.key: f for f in facts}
        texts: list[str] = []
        for label in section.apps:
            if label in found:
                texts.extend(found[label](union=union, period=period, facts=by_key))
        if texts:
            result[section.key] = texts
    return result


def compute(union: Union, period: Period) -> list[tuple[Section, list[Fact]]]:
    """All figures for ``union``'s subtree over ``period``, arranged in sections."""
    found = providers()
    result: list[tuple[Section, list[Fact]]] = []
    placed: set[str] = set()
    for section in SECTIONS:
        facts: list[Fact] = []
        for label in section.apps:
            if label in found:
                facts.extend(found[label](union=union, period=period))
                placed.add(label)
        if facts:
            result.append((section, facts))
    rest = [label for label in found if label not in placed]
    if rest:
        other = Section("other", "其他", tuple(rest))
        result.append(
            (other, [f for label in rest for f in found[label](union=union, period=period)])
        )
    return result


def all_facts(union: Union, period: Period) -> list[Fact]:
    return [fact for _, facts in compute(union, period) for fact in facts]
