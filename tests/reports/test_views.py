"""The dashboard and the report figures page: each figure links to the list behind it."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.test import Client
from django.urls import reverse

from gonghui.members.services import member_change
from gonghui.org.choices import Role
from tests import factories as f
from tests.conftest import World, login


def add_this_years_changes(world: World) -> None:
    """Joiners, leavers and temporary staff this year, so no figure is trivially 0."""
    today = dt.date.today()
    start = today.replace(month=1, day=1)
    f.member(world.group, "周松", join_date=start, employment_type="dispatched")
    f.member(world.other_group, "吴桐", join_date=start, employment_type="temporary")
    leaver = f.member(world.group, "郑雪", join_date=dt.date(2019, 9, 1))
    member_change(actor=None, member=leaver, kind="transfer_out", date=start)


def count_at(client: Client, url: str) -> int:
    """How many records the list at ``url`` shows."""
    response = client.get(url)
    assert response.status_code == 200, url
    if "page" in response.context:
        return int(response.context["page"].paginator.count)
    return len(response.context["nodes"])


def test_dashboard_shows_the_roster_figures_each_linked_to_its_list(world: World) -> None:
    add_this_years_changes(world)
    chair = login(world.chair)
    response = chair.get(reverse("dashboard"))
    assert response.status_code == 200
    [(union, facts)] = response.context["panels"]
    assert union == world.school
    keys = [fact.key for fact in facts]
    assert keys[:5] == [
        "members.total",
        "members.joined",
        "members.left",
        "members.rate",
        "members.temporary",
    ], "the roster figures lead the dashboard"
    html = response.content.decode()
    for fact in facts:
        assert f'data-key="{fact.key}"' in html
        assert f'href="{fact.source.replace("&", "&amp;")}"' in html
        if fact.unit != "%":
            assert count_at(chair, fact.source) == fact.value, fact.key
    values = {fact.key: fact.value for fact in facts}
    assert values["members.joined"] == 2  # the world's members joined in 2020
    assert values["members.left"] == 1
    assert values["members.temporary"] == 2


def test_source_links_point_at_the_roster_and_the_tree(world: World) -> None:
    response = login(world.chair).get(reverse("dashboard"))
    paths = {
        fact.key: urlsplit(fact.source).path
        for _, facts in response.context["panels"]
        for fact in facts
    }
    assert paths["members.total"] == reverse("members:list")
    assert paths["org.branches"] == reverse("org:list")


def test_branch_officer_dashboard_covers_the_branch(world: World) -> None:
    response = login(world.officer).get(reverse("dashboard"))
    [(union, facts)] = response.context["panels"]
    assert union == world.branch
    assert {fact.key: fact.value for fact in facts}["members.total"] == 1


def test_dashboard_offers_recent_activity_to_those_who_may_read_the_log(world: World) -> None:
    chair_page = login(world.chair).get(reverse("dashboard"))
    assert chair_page.context["recent"]
    assert "最近操作" in chair_page.content.decode()
    leader = f.user("zuzhang", world.group, Role.GROUP_LEADER)
    leader_page = login(leader).get(reverse("dashboard"))
    assert leader_page.status_code == 200
    assert leader_page.context["recent"] is None
    assert "最近操作" not in leader_page.content.decode()


def test_figures_for_a_chosen_union_and_period(world: World) -> None:
    add_this_years_changes(world)
    year = dt.date.today().year
    response = login(world.chair).get(
        reverse("reports:figures"),
        {"union": world.branch.pk, "start": f"{year}-01-01", "end": f"{year}-12-31"},
    )
    assert response.context["union"] == world.branch
    facts = {fact.key: fact for _, section, _ in response.context["sections"] for fact in section}
    assert facts["members.joined"].value == 1  # 周松; 吴桐 joined branch A2
    assert f"union={world.branch.pk}" in facts["members.joined"].source
    assert f"gonghui report --union {world.branch.code}" in response.content.decode()


def test_figures_union_without_dates_uses_this_year(world: World) -> None:
    response = login(world.chair).get(reverse("reports:figures"), {"union": world.branch.pk})
    assert response.context["union"] == world.branch
    assert response.context["period"].start == dt.date(dt.date.today().year, 1, 1)


def test_period_ending_before_it_starts_is_explained(world: World) -> None:
    response = login(world.chair).get(
        reverse("reports:figures"), {"start": "2024-12-31", "end": "2024-01-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["end"] == ["结束日期不能早于开始日期。"]
    assert "结束日期不能早于开始日期" in response.content.decode()


def test_figures_of_another_school_are_404(world: World) -> None:
    response = login(world.chair).get(reverse("reports:figures"), {"union": world.other_school.pk})
    assert response.status_code == 404
    assert login(world.chair).get(reverse("reports:figures"), {"union": "x"}).status_code == 404
