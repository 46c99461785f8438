"""Two members ask for the last place at the same moment: exactly one gets it.

Real threads, each with its own database connection, against the real database (a
SQLite file in WAL mode, or PostgreSQL): the activity row is locked before the places
are counted (``SELECT … FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``), so the second
request waits for the first and then finds the activity full.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from gonghui.activities import services
from gonghui.activities.choices import RegStatus
from gonghui.activities.models import Registration
from gonghui.activities.services import ActivityFields
from tests import factories as f
from tests.activities.records import TODAY
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls: Callable[[], object], rounds: int = 1) -> list[BaseException]:
    """Run ``calls`` at once (released together by a barrier); return their errors."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            call()
        except BaseException as exc:  # reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


def test_two_members_taking_the_last_place_at_once_get_one_place(world: World) -> None:
    for round_ in range(5):  # several rounds: a race lost once would show
        people = [f.member(world.group, f"甲{round_}"), f.member(world.group, f"乙{round_}")]
        activity = services.activity_create(
            actor=None,
            union=world.branch,
            fields=ActivityFields(
                title=f"最后一个名额{round_}", category="sports", start_date=TODAY, capacity=2
            ),
        )
        services.register(actor=None, activity=activity, member=world.member)  # one place left
        errors = race(
            *(
                (lambda m=m, a=activity: services.register(actor=None, activity=a, member=m))
                for m in people
            )
        )
        assert errors == []
        statuses = sorted(
            Registration.objects.filter(activity=activity, member__in=people).values_list(
                "status", flat=True
            )
        )
        assert statuses == [RegStatus.SIGNED_UP, RegStatus.WAITLISTED], f"round {round_}"
        assert (
            Registration.objects.filter(activity=activity, status=RegStatus.SIGNED_UP).count() == 2
        )


def test_a_cancellation_and_a_new_sign_up_at_once_never_overfill(world: World) -> None:
    activity = services.activity_create(
        actor=None,
        union=world.branch,
        fields=ActivityFields(title="满员活动", category="sports", start_date=TODAY, capacity=1),
    )
    first = services.register(actor=None, activity=activity, member=world.member)
    waiting = services.register(
        actor=None, activity=activity, member=f.member(world.group, "候补甲")
    )
    late = f.member(world.group, "后来乙")
    assert waiting.status == RegStatus.WAITLISTED
    errors = race(
        lambda: services.registration_cancel(actor=None, registration=first),
        lambda: services.register(actor=None, activity=activity, member=late),
    )
    assert errors == []
    held = Registration.objects.filter(activity=activity, status=RegStatus.SIGNED_UP)
    # The freed place went to the first in the queue, never to two people.
    assert [r.member.name for r in held] == ["候补甲"]
