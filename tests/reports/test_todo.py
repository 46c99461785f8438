"""The dashboard's to-do list (待办): what waits for the officer, scoped to her reach, each
line a link to the list where she acts on it, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gonghui.care import services as care
from gonghui.common.models import ImportRecord, ImportStatus
from gonghui.members.models import Member
from gonghui.org.choices import Role
from gonghui.org.models import Union, User
from tests import factories as f
from tests.activities import records as acts
from tests.conftest import World, login

TODAY = dt.date.today()
#: The world's members are born on 15 June (their id numbers say so).
JUNE = TODAY.month == 6


def born_this_month(union: Union, name: str) -> Member:
    return f.member(union, name, id_number=f.id_number(dt.date(1980, TODAY.month, 1)))


def branch_work(world: World, union: Union, member: Member, officer: User, n: int) -> None:
    """One of each thing waiting, in ``union`` (a branch's group)."""
    care.subsidy_apply(actor=officer, member=member, kind="hardship", amount=500, reason="家中困难")
    care.stay_create(actor=None, member=member, admitted_on=TODAY, hospital="市一医院")
    born_this_month(union, f"寿星{n}")
    care.hardship_file_open(
        actor=None,
        member=member,
        opened_on=TODAY - dt.timedelta(days=400),
        cause="妻子重病",
        household=[care.Person(member.name, "本人", Decimal(6000))],
        expenses=Decimal(3000),
    )
    ImportRecord.objects.create(
        kind="members",
        file_name=f"名册{n}.xlsx",
        union=union,
        actor=officer,
        actor_name=officer.display_name,
        status=ImportStatus.INVALID,
    )
    acts.activity(world, f"周末登山{n}", union=union, start_date=TODAY)


@pytest.fixture
def busy(world: World) -> World:
    """Work waiting in both branches of the school."""
    care.policy_set(actor=None, union=world.school, preset="anhui", dibao_line=Decimal(1000))
    branch_work(world, world.group, world.member, world.officer, 1)
    branch_work(world, world.other_group, world.other_branch_member, world.other_officer, 2)
    return world


def todo(client: Client) -> dict[str, int]:
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return {t.key: t.count for t in response.context["todo"]}


def test_the_chair_sees_both_branches_work_and_a_branch_chair_her_own(busy: World) -> None:
    birthdays_a1 = 1 + JUNE  # 寿星1 (and 张三 in June)
    assert todo(login(busy.officer)) == {
        "care.subsidies.review": 0,  # she applied for 张三 herself: another reviews it
        "care.subsidies.approve": 0,
        "care.subsidies.pay": 0,
        "care.in_hospital": 1,
        "care.birthdays": birthdays_a1,
        "care.reviews_due": 1,
        "activities.this_week": 1,
        "imports.failed": 1,
    }
    assert todo(login(busy.chair)) == {
        "care.subsidies.review": 2,
        "care.subsidies.approve": 0,
        "care.subsidies.pay": 0,
        "care.in_hospital": 2,
        "care.birthdays": 2 * birthdays_a1,
        "care.reviews_due": 2,
        "activities.this_week": 2,
        "imports.failed": 2,
    }


def test_lines_follow_what_she_may_do(busy: World) -> None:
    # A treasurer pays (and imports paid subsidies: her own imports only); she records
    # no care and organises nothing.
    treasurer = f.user("caiwu", busy.school, Role.TREASURER)
    assert todo(login(treasurer)) == {"care.subsidies.pay": 0, "imports.failed": 0}
    # An auditor reads the ledgers and acts on none of them.
    auditor = f.user("jingshen", busy.school, Role.AUDITOR)
    assert todo(login(auditor)) == {}


def test_a_member_is_sent_to_self_service_as_before(busy: World) -> None:
    response = login(busy.member_user).get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("members:me")


def count_behind(client: Client, url: str, key: str) -> int:
    """How many records the page behind a to-do line lists for that line."""
    response = client.get(url)
    assert response.status_code == 200, url
    if key.startswith("care.") and not key.startswith("care.subsidies."):
        reminders = response.context["reminders"]
        return {
            "care.in_hospital": len(reminders.in_hospital),
            "care.birthdays": reminders.birthdays_total,
            "care.reviews_due": len(reminders.reviews_due),
        }[key]
    return int(response.context["page"].paginator.count)


@pytest.mark.parametrize("who", ["chair", "officer", "other_officer", "leader", "treasurer"])
def test_each_line_links_to_a_page_she_may_open_listing_the_same_records(
    busy: World, who: str
) -> None:
    roles = {"leader": (busy.group, Role.GROUP_LEADER), "treasurer": (busy.school, Role.TREASURER)}
    user = f.user(who, *roles[who]) if who in roles else getattr(busy, who)
    client = login(user)
    page = client.get(reverse("dashboard"))
    html = page.content.decode()
    for item in page.context["todo"]:
        if not item.count:
            assert f'href="{item.url}"' not in html.replace("&amp;", "&"), item.key
            continue
        assert f'href="{item.url}"' in html.replace("&amp;", "&"), item.key
        assert count_behind(client, item.url, item.key) == item.count, (who, item.key)


def test_the_subtitle_says_what_the_figures_are(busy: World) -> None:
    html = login(busy.chair).get(reverse("dashboard")).content.decode()
    assert "名册数字" not in html
    assert "各项工作的数字" in html
    assert html.index('id="todo"') < html.index("各项工作的数字"), "the to-do list comes first"


def queries_of(client: Client) -> int:
    client.get(reverse("dashboard"))  # warm per-process caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("dashboard")).status_code == 200
    return len(ctx.captured_queries)


#: The dashboard's figures (see tests/test_query_counts.py) and six for the to-do list:
#: subsidies by step, in hospital, birthdays, files due (care), this week's activities,
#: failed imports.
DASHBOARD_QUERIES = 27


def test_the_to_do_list_takes_a_fixed_number_of_queries(busy: World) -> None:
    client = login(busy.chair)
    before = queries_of(client)
    for n in range(3, 6):
        member = f.member(busy.group, f"会员{n}")
        branch_work(busy, busy.group, member, busy.officer, n)
    assert todo(client)["care.in_hospital"] == 5
    assert queries_of(client) == before == DASHBOARD_QUERIES


def failed(world: World, union: Union, actor: User, **kw: object) -> ImportRecord:
    return ImportRecord.objects.create(
        kind=kw.pop("kind", "members"),
        file_name="名册.xlsx",
        union=union,
        actor=actor,
        actor_name=actor.display_name,
        status=kw.pop("status", ImportStatus.FAILED),
        **kw,
    )


def test_a_failed_import_leaves_the_list_once_done_again_or_a_month_old(world: World) -> None:
    from django.utils import timezone

    from gonghui.common.queries import failed_imports

    first = failed(world, world.group, world.officer)
    old = failed(world, world.group, world.officer, kind="visits")
    ImportRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    elsewhere = failed(world, world.other_group, world.other_officer, status=ImportStatus.INVALID)
    assert set(failed_imports(world.officer)) == {first}
    assert set(failed_imports(world.chair)) == {first, elsewhere}

    # The same sheet, corrected, went through: nothing left to do about the first.
    failed(world, world.group, world.officer, status=ImportStatus.DONE)
    assert set(failed_imports(world.chair)) == {elsewhere}
    page = login(world.chair).get(reverse("imports:list"), {"failed": 1})
    assert [r.pk for r in page.context["page"]] == [elsewhere.pk]
    assert "未成功" in page.content.decode()


def test_activities_of_this_week_leave_out_the_cancelled_and_next_weeks(world: World) -> None:
    from gonghui.activities import services as activity_services
    from gonghui.activities.queries import week_of

    week = week_of(TODAY)
    acts.activity(world, "周一的讲座", start_date=week.start)
    acts.activity(world, "下周的比赛", start_date=week.end + dt.timedelta(days=1))
    cancelled = acts.activity(world, "取消的郊游", start_date=week.end)
    activity_services.activity_cancel(actor=None, activity=cancelled, reason="下雨")
    client = login(world.officer)
    assert todo(client)["activities.this_week"] == 1
    [line] = [t for t in client.get(reverse("dashboard")).context["todo"] if t.key.startswith("a")]
    listed = client.get(line.url).context["page"]
    assert [a.title for a in listed] == ["周一的讲座"]
