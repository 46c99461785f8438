"""The traceability guarantee for the care figures: open a figure's link and the
records listed there add up to the figure, for the school, a branch and the district."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from gonghui.care import services
from gonghui.care.report import facts
from gonghui.common.reporting import Fact, Period
from tests import factories as f
from tests.conftest import World, login

from . import records

YEAR = dt.date.today().year - 1
PERIOD = Period.year(YEAR)
ON = dt.date(YEAR, 6, 1)


def fill(w: World) -> None:
    """Records in and out of the period, in branch A1, branch A2 and another school."""
    records.with_dibao(w)
    services.programme_enrol(
        actor=None,
        programme=services.programme_create(
            actor=None, union=w.school, year=YEAR, kind="medical", name="综合医疗保障"
        ),
        members=[w.member],
        enrolled_on=ON,
    )
    for member in (w.member, w.other_branch_member, w.other_school_member):
        services.visit_create(
            actor=None, member=member, date=ON, reason="sick", form="cash", amount=500
        )
        services.visit_create(
            actor=None, member=member, date=ON, reason="birthday", form="voucher", amount=200
        )
        services.visit_create(
            actor=None,
            member=member,
            date=dt.date(YEAR - 1, 6, 1),
            reason="sick",
            form="cash",
            amount=400,
        )
        s = services.subsidy_apply(
            actor=None, member=member, kind="illness", amount=900, reason="住院", applied_on=ON
        )
        services.subsidy_review(actor=None, subsidy=s)
        services.subsidy_approve(actor=None, subsidy=s)
        services.subsidy_pay(actor=None, subsidy=s, paid_on=ON, amount=800)
    wrong = services.visit_create(
        actor=None, member=w.member, date=ON, reason="wedding", form="cash", amount=600
    )
    services.visit_reverse(actor=None, visit=wrong, reason="登记错了人")
    retiree = f.member(w.group, "退休甲")
    from gonghui.members import services as member_services

    member_services.member_change(
        actor=None, member=retiree, kind="retire", date=dt.date(YEAR, 1, 2)
    )
    services.visit_create(
        actor=None, member=retiree, date=ON, reason="festival", form="goods", amount=300
    )
    drive = services.drive_create(actor=None, union=w.school, name="一日捐", start_date=ON)
    for member, amount in ((w.member, 100), (w.other_branch_member, 200)):
        services.donation_add(actor=None, drive=drive, member=member, amount=amount, date=ON)
    services.donation_add(
        actor=None, drive=drive, donor_kind="unit", donor_name="家委会", amount=1000, date=ON
    )


def listed(client: Any, fact: Fact) -> Any:
    """What the figure's own page shows for it."""
    ctx = client.get(fact.source).context
    key = fact.key
    if key in ("care.visits", "care.visits.sick", "care.visits.retirees", "care.birthdays"):
        return ctx["totals"]["count"]
    if key == "care.visits.amount":
        return ctx["totals"]["amount"]
    if key in ("care.hardship.files", "care.subsidies"):
        return ctx["page"].paginator.count
    if key == "care.subsidies.amount":
        return sum((s.paid_amount for s in ctx["page"].object_list), Decimal(0))
    if key == "care.donations.donors":
        return ctx["totals"]["donors"]
    if key == "care.donations.amount":
        return ctx["totals"]["amount"]
    if key == "care.coverage.rate":
        return [p.name for p, _ in ctx["rows"]]
    raise AssertionError(key)


def test_every_care_source_lists_exactly_the_figure(world: World) -> None:
    fill(world)
    records.hardship_file(world)  # opened today: not on file at the end of last year
    district_chair = f.user("district_chair", world.district)
    expected = {
        world.school: {"care.visits": 5, "care.visits.retirees": 1, "care.donations.donors": 2},
        world.branch: {"care.visits": 3, "care.visits.retirees": 1, "care.donations.donors": 1},
        world.district: {"care.visits": 7, "care.visits.retirees": 1, "care.donations.donors": 2},
    }
    for viewer, node in (
        (world.chair, world.school),
        (world.chair, world.branch),
        (district_chair, world.district),
    ):
        client = login(viewer)
        found = {x.key: x for x in facts(union=node, period=PERIOD)}
        for key, value in expected[node].items():
            assert found[key].value == value, (node.name, key)
        for fact in found.values():
            shown = listed(client, fact)
            if fact.key == "care.coverage.rate":
                assert shown == ["综合医疗保障"], node.name
            else:
                assert shown == fact.value, (node.name, fact.key, shown, fact.value)
