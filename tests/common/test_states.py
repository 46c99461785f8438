"""State badges: one colour per kind of state, the same across apps, always with the text.

Every state enum of every app maps each of its values to a kind (done, waiting,
ongoing, refused, voided, ended); a new state without a kind fails here.
"""

from __future__ import annotations

import re
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django.template import Context, Template

from gonghui.common import states

CSS = Path(__file__).resolve().parents[2] / "gonghui/common/static/gonghui/app.css"
TEMPLATES = Path(__file__).resolve().parents[2] / "gonghui"


def state_enums() -> list[type[models.TextChoices]]:
    """Every ``…Status`` / ``…State`` enum of every gonghui app."""
    for config in apps.get_app_configs():
        for room in ("choices", "models"):
            name = f"{config.name}.{room}"
            if config.name.startswith("gonghui.") and find_spec(name) is not None:
                import_module(name)
    found: list[type[models.TextChoices]] = []
    todo: list[type] = [models.TextChoices]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("gonghui.") and cls.__name__.endswith(("Status", "State")):
            found.append(cls)
    return sorted(found, key=lambda c: c.__qualname__)


def test_the_enums_looked_at_include_those_badges_show() -> None:
    names = {e.__name__ for e in state_enums()}
    assert {
        "SubsidyStatus",
        "EntryState",
        "HardshipStatus",
        "ClaimStatus",
        "RegStatus",
        "ActivityStatus",
        "ImportStatus",
        "MemberStatus",
        "GrantStatus",
    } <= names


@pytest.mark.parametrize("enum", state_enums(), ids=lambda e: e.__name__)
def test_every_value_of_every_state_enum_has_a_kind(enum: type[models.TextChoices]) -> None:
    kinds = states.kinds_of(enum)
    missing = [value for value in enum.values if value not in kinds]
    assert not missing, f"{enum.__name__} 的状态 {missing} 没有归类（gonghui.common.states）"
    assert set(kinds.values()) <= set(states.Kind)


def test_states_of_one_meaning_share_a_kind_across_apps() -> None:
    from gonghui.activities.choices import RegStatus
    from gonghui.care.choices import EntryState, SubsidyStatus
    from gonghui.common.models import ImportStatus
    from gonghui.members.choices import MemberStatus

    K = states.Kind
    assert states.kinds_of(SubsidyStatus)[SubsidyStatus.PAID] == K.DONE
    assert states.kinds_of(ImportStatus)[ImportStatus.DONE] == K.DONE
    assert states.kinds_of(RegStatus)[RegStatus.ATTENDED] == K.DONE
    assert states.kinds_of(MemberStatus)[MemberStatus.ACTIVE] == K.DONE
    assert states.kinds_of(SubsidyStatus)[SubsidyStatus.REJECTED] == K.REFUSED
    assert states.kinds_of(ImportStatus)[ImportStatus.FAILED] == K.REFUSED
    assert states.kinds_of(ImportStatus)[ImportStatus.INVALID] == K.REFUSED
    assert states.kinds_of(RegStatus)[RegStatus.WAITLISTED] == K.WAITING
    assert states.kinds_of(SubsidyStatus)[SubsidyStatus.APPLIED] == K.WAITING
    assert states.kinds_of(EntryState)[EntryState.REVERSED] == K.VOIDED
    assert states.kinds_of(RegStatus)[RegStatus.CANCELLED] == K.VOIDED


def render(obj: object, field: str = "status") -> str:
    return Template("{% load states %}{% badge obj field %}").render(
        Context({"obj": obj, "field": field})
    )


def test_a_badge_names_the_state_and_carries_its_kinds_class() -> None:
    from gonghui.activities.models import Registration
    from gonghui.care.models import Subsidy, Visit

    paid = render(Subsidy(status="paid"))
    assert paid == '<span class="tag state-done" data-state="paid">已发放</span>'
    assert "state-refused" in render(Subsidy(status="rejected"))
    assert "state-waiting" in render(Registration(status="waitlisted"))
    reversed_ = render(Visit(state="reversed"), "state")
    assert "state-voided" in reversed_ and "已冲销" in reversed_


#: A badge coloured from the value (``tag-{{ r.status }}``) or filled with a state's label.
HAND_MADE = re.compile(
    r'class="tag[^"]*\{\{|class="tag[^"]*"[^>]*>\{\{[^}]*_(status|state)_display'
)


def test_no_template_colours_a_state_by_hand() -> None:
    """Badges of a state go through ``{% badge %}``: no ``tag-{{ r.status }}`` left."""
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if HAND_MADE.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("kind", [*states.Kind, None], ids=lambda k: k or "plain")
def test_each_kinds_badge_meets_wcag_aa_contrast(kind: states.Kind | None) -> None:
    """Badge text is small (0.8rem): WCAG 2.1 AA asks 4.5:1 of text and background."""
    css = CSS.read_text(encoding="utf-8")
    selector = re.escape(f".tag.state-{kind}" if kind else ".tag")
    rule = re.search(selector + r"\s*\{([^}]*)\}", css)
    assert rule, f"app.css 中没有 {selector} 的样式"
    colour = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{3,6})", rule.group(1))
    background = re.search(r"background:\s*(#[0-9a-fA-F]{3,6})", rule.group(1))
    assert colour and background, rule.group(0)
    ratio = contrast(colour.group(1), background.group(1))
    assert ratio >= 4.5, f"{selector}：对比度 {ratio:.2f}，应不小于 4.5"


def test_the_kinds_look_different() -> None:
    css = CSS.read_text(encoding="utf-8")
    looks = {
        kind: re.search(re.escape(f".tag.state-{kind}") + r"\s*\{([^}]*)\}", css)
        for kind in states.Kind
    }
    assert all(looks.values())
    bodies = {m.group(1).strip() for m in looks.values() if m}
    assert len(bodies) == len(states.Kind), "每一类状态应有自己的样式"
    voided = looks[states.Kind.VOIDED]
    assert voided and "line-through" in voided.group(1)
