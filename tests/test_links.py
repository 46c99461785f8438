"""No link a viewer cannot follow: a branch chair's pages name the school, its drives and
its activities, and every link on them answers her (a small crawler over the hrefs)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.activities import services as activity_services
from gonghui.care import services as care_services
from tests.conftest import World, login

from .activities import records as acts
from .care import records as care

TODAY = dt.date.today()
HREF = re.compile(r'href="(/[^"#]*)"')
#: Links that are no page to open: downloads that write an export audit row, logout.
SKIP = re.compile(r"/export|/template|/accounts/logout|/static/")


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def school_records(world: World) -> dict[str, Any]:
    """What the school runs and the branch's members take part in."""
    drive = care_services.drive_create(
        actor=None, union=world.school, name="元旦春节一日捐", start_date=TODAY
    )
    care_services.donation_add(actor=None, drive=drive, member=world.member, amount=50, date=TODAY)
    sports = acts.activity(world, "全校运动会", union=world.school)
    activity_services.attendance_mark(actor=None, activity=sports, attended=[world.member])
    return {"drive": drive, "activity": sports}


def hrefs(client: Client, url: str) -> list[str]:
    page = client.get(url)
    assert page.status_code == 200, url
    return sorted({h.replace("&amp;", "&") for h in HREF.findall(page.content.decode())})


def broken(client: Client, url: str) -> list[str]:
    return [
        f"{h} → {client.get(h).status_code}"
        for h in hrefs(client, url)
        if not SKIP.search(h) and client.get(h).status_code != 200
    ]


def test_a_branch_chair_sees_no_link_to_the_school_above_her(world: World) -> None:
    html = login(world.officer).get(reverse("org:detail", args=[world.branch.pk])).content
    assert reverse("org:detail", args=[world.school.pk]) not in html.decode()
    assert world.school.name in html.decode()  # named, read-only


def test_a_branch_chair_sees_the_schools_drive_by_name_not_as_a_link(world: World) -> None:
    drive = school_records(world)["drive"]
    html = login(world.officer).get(reverse("care:donations")).content.decode()
    assert drive.name in html
    assert reverse("care:drive", args=[drive.pk]) not in html
    # The chair of the school follows it.
    chair = login(world.chair).get(reverse("care:donations")).content.decode()
    assert reverse("care:drive", args=[drive.pk]) in chair


@pytest.mark.parametrize(
    "page",
    [
        lambda w: reverse("org:detail", args=[w.branch.pk]),
        lambda w: reverse("org:list"),
        lambda w: reverse("care:donations"),
        lambda w: reverse("care:drives"),
        lambda w: reverse("care:home"),
        lambda w: reverse("care:visits"),
        lambda w: reverse("care:subsidies"),
        lambda w: reverse("care:subsidy", args=[care.subsidy(w).pk]),
        lambda w: reverse("members:detail", args=[w.member.pk]),
        lambda w: reverse("members:list"),
        lambda w: reverse("activities:list"),
        lambda w: reverse("activities:attendance"),
        lambda w: reverse("activities:clubs"),
        lambda w: reverse("honours:list"),
        lambda w: reverse("dashboard"),
        lambda w: reverse("activities:mine"),
        lambda w: reverse("care:me"),
    ],
)
def test_every_link_on_a_branch_chairs_pages_answers_her(world: World, page: Any) -> None:
    school_records(world)
    care.visit(world)
    client = login(world.officer)
    assert broken(client, page(world)) == []


def test_an_auditor_reads_care_records_without_links_to_the_roster_she_cannot_open(
    world: World,
) -> None:
    from tests import factories as f

    auditor = login(f.user("jingshen", world.school, "auditor"))
    subsidy = care.subsidy(world)
    url = reverse("care:subsidy", args=[subsidy.pk])
    html = auditor.get(url).content.decode()
    assert "张三" in html
    assert reverse("members:detail", args=[world.member.pk]) not in html
    assert broken(auditor, url) == []
