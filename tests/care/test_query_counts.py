"""Query counts pinned on the care pages and the care figures: the same with a few
records and with many more (visits, subsidies, donations, files, enrolments), so a
query per row fails here. When a change adds a query on purpose, update the number
and say why in the commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gonghui.care import services
from gonghui.care.report import facts
from gonghui.common.reporting import Period
from tests import factories as f
from tests.conftest import World, login

from . import records

TODAY = dt.date.today()


def seed(w: World) -> dict[str, int]:
    """One of each record in branch A1; returns the ids the detail pages need."""
    records.with_dibao(w)
    visit = records.visit(w)
    file = records.hardship_file(w)
    subsidy = records.subsidy(w, "reviewed")
    donation = records.donation(w)
    claim = records.claim(w)
    return {
        "visit": visit.pk,
        "file": file.pk,
        "subsidy": subsidy.pk,
        "drive": donation.drive_id,
        "programme": claim.programme_id,
    }


def grow(w: World, ids: dict[str, int], n: int = 30) -> None:
    """``n`` more members of branch A1, each with visits, a subsidy, a gift, a claim."""
    from gonghui.care.models import CoverageProgramme, DonationDrive

    drive = DonationDrive.objects.get(pk=ids["drive"])
    programme = CoverageProgramme.objects.get(pk=ids["programme"])
    people = [f.member(w.group, f"王{i:02d}", employee_no=f"W{i:03d}") for i in range(n)]
    services.programme_enrol(actor=None, programme=programme)
    for year in (TODAY.year - 1, TODAY.year - 2):
        other = services.programme_create(
            actor=None, union=w.school, year=year, kind="checkup", name="健康体检"
        )
        services.programme_enrol(actor=None, programme=other)
    for i, m in enumerate(people):
        services.visit_create(
            actor=None, member=m, date=TODAY, reason="birthday", form="voucher", amount=200
        )
        services.visit_create(
            actor=None, member=m, date=TODAY, reason="sick", form="cash", amount=500
        )
        services.donation_add(actor=None, drive=drive, member=m, amount=100, date=TODAY)
        s = services.subsidy_apply(actor=None, member=m, kind="illness", amount=800, reason="住院")
        if i % 2:
            services.subsidy_review(actor=None, subsidy=s)
        services.claim_create(actor=None, programme=programme, member=m, date=TODAY, amount=300)
        if i % 3 == 0:
            services.hardship_file_open(
                actor=None,
                member=m,
                opened_on=TODAY,
                cause="家中困难",
                household=[services.Person(m.name, "本人", Decimal(12000))],
            )


Query = Callable[[World, dict[str, int]], tuple[str, dict[str, Any]]]

PAGES: list[tuple[str, Query, int]] = [
    ("home", lambda w, ids: (reverse("care:home"), {}), 15),
    ("visits", lambda w, ids: (reverse("care:visits"), {}), 7),
    (
        "visits-sick",
        lambda w, ids: (reverse("care:visits"), {"reason": "sick", "union": w.branch.pk}),
        8,
    ),
    ("visit", lambda w, ids: (reverse("care:visit", args=[ids["visit"]]), {}), 6),
    ("hardship", lambda w, ids: (reverse("care:hardship"), {}), 5),
    ("file", lambda w, ids: (reverse("care:hardship_file", args=[ids["file"]]), {}), 8),
    ("subsidies", lambda w, ids: (reverse("care:subsidies"), {}), 5),
    # 7: its attachments.
    ("subsidy", lambda w, ids: (reverse("care:subsidy", args=[ids["subsidy"]]), {}), 7),
    ("drives", lambda w, ids: (reverse("care:drives"), {}), 5),
    ("drive", lambda w, ids: (reverse("care:drive", args=[ids["drive"]]), {}), 7),
    ("donations", lambda w, ids: (reverse("care:donations"), {}), 7),
    ("coverage", lambda w, ids: (reverse("care:coverage"), {}), 5),
    ("programme", lambda w, ids: (reverse("care:programme", args=[ids["programme"]]), {}), 10),
]


def test_care_pages_take_a_pinned_number_of_queries(world: World) -> None:
    client = login(world.chair)
    ids = seed(world)

    def measure() -> dict[str, int]:
        counts = {}
        for label, page, _ in PAGES:
            url, query = page(world, ids)
            client.get(url, query)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url, query)
            assert response.status_code == 200, label
            counts[label] = len(ctx.captured_queries)
        return counts

    pinned = {label: n for label, _, n in PAGES}
    small = measure()
    grow(world, ids)
    large = measure()
    assert {"few": small, "many": large} == {"few": pinned, "many": pinned}, repr((small, large))


def test_care_figures_take_six_queries_whatever_the_data(world: World) -> None:
    """Visits, files, subsidies, donations: one aggregate each; coverage: whether a
    programme exists, then the roster at the period's end and who of it is enrolled,
    in one pass."""
    ids = seed(world)
    period = Period.year(TODAY.year)
    with CaptureQueriesContext(connection) as few:
        before = {x.key: x.value for x in facts(union=world.school, period=period)}
    grow(world, ids)
    with CaptureQueriesContext(connection) as many:
        after = {x.key: x.value for x in facts(union=world.school, period=period)}
    assert len(few.captured_queries) == len(many.captured_queries) == 6
    assert after["care.visits"] == before["care.visits"] + 60
