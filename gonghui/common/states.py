"""What kind of state a record is in, so that a badge looks the same in every app.

A subsidy 已发放, an import 已导入 and a member 已签到 are all *done*; 未通过 and 导入失败
are *refused*; 候补 and 已申请 wait for someone. Each app declares, next to its enums,
the kind of every value (:func:`register`); ``{% badge obj "status" %}``
(``common/templatetags/states.py``) shows the state's own text in its kind's colours
(``.tag.state-<kind>`` in ``app.css``). Colour only adds to the text, never replaces it.

Model-free: apps import this from their ``choices.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from functools import cache

from django.db import models


class Kind(StrEnum):
    """The kinds of state, each one colour (``.tag.state-<kind>``)."""

    DONE = "done"  # finished well: 已发放, 已导入, 已签到, 在册 (green)
    WAITING = "waiting"  # someone has to act: 已申请, 待确认, 候补, 排队中 (amber)
    ONGOING = "ongoing"  # under way, nothing to do yet: 正在导入, 已报名, 在档 (blue)
    REFUSED = "refused"  # refused or failed: 未通过, 导入失败, 缺席 (red)
    VOIDED = "voided"  # undone: 已冲销, 已取消 (grey, struck through)
    ENDED = "ended"  # over, neither good nor bad: 已转出, 已脱档, 冲销记录 (grey)


_KINDS: dict[type[models.Choices], dict[str, Kind]] = {}


def register(enum: type[models.Choices], kinds: Mapping[str, Kind]) -> None:
    """Declare the kind of each of ``enum``'s values; all of them, and no others."""
    values = {str(v) for v in enum.values}
    given = {str(k) for k in kinds}
    if given != values:
        raise ValueError(
            f"{enum.__name__}: 缺少 {sorted(values - given)}，多出 {sorted(given - values)}"
        )
    _KINDS[enum] = {str(value): Kind(kind) for value, kind in kinds.items()}
    _enum_of_field.cache_clear()


def kinds_of(enum: type[models.Choices]) -> dict[str, Kind]:
    """``{value: kind}`` of a registered enum (empty if it was never registered)."""
    return dict(_KINDS.get(enum, {}))


@cache
def _enum_of_field(model: type[models.Model], name: str) -> type[models.Choices]:
    """The registered enum whose values are the choices of ``model.name``."""
    field = model._meta.get_field(name)
    values = {str(value) for value, _ in getattr(field, "flatchoices", ())}
    found = [enum for enum in _KINDS if {str(v) for v in enum.values} == values]
    if len(found) != 1:
        raise LookupError(
            f"{model.__name__}.{name} 的取值没有登记状态类别（gonghui.common.states.register）"
        )
    return found[0]


def kind_of(obj: models.Model, name: str = "status") -> Kind:
    """The kind of the state ``obj.<name>`` is in."""
    enum = _enum_of_field(type(obj), name)
    return _KINDS[enum][str(getattr(obj, name))]
