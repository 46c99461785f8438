from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import World, login


def test_officer_sees_own_branch_roster_only(world: World) -> None:
    response = login(world.officer).get(reverse("members:list"))
    assert response.status_code == 200
    names = [m.name for m in response.context["page"]]
    assert names == ["张三"]


def test_a_write_that_times_out_on_a_busy_database_says_nothing_was_saved(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's "database is locked" (another writer held the lock past the busy timeout)
    becomes a Chinese 503 page, not a bare server error."""
    from django.db import OperationalError

    from gonghui.members import services

    def locked(**kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "member_update", locked)
    client = login(world.officer)
    url = reverse("members:edit", args=[world.member.pk])
    response = client.post(
        url, {"name": "张三丰", "union": world.group.pk, "employment_type": "staff"}
    )
    assert response.status_code == 503
    assert "没有保存" in response.content.decode()


def test_a_form_posted_after_the_session_expired_comes_back_to_its_page(world: World) -> None:
    page = reverse("members:detail", args=[world.member.pk])
    response = Client().post(
        reverse("members:change", args=[world.member.pk]),
        {"kind": "retire", "date": "2024-01-01"},
        HTTP_REFERER=f"http://testserver{page}",
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(page)}"


def test_an_htmx_search_after_the_session_expired_loads_the_login_page_whole(db: None) -> None:
    response = Client().get(
        reverse("members:list"),
        {"q": "zs"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/members/?q=z"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('login')}?next=%2Fmembers%2F"


def test_a_stale_form_gets_a_chinese_page_that_says_what_to_do(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.officer)
    response = client.post(reverse("members:edit", args=[world.member.pk]), {"name": "x"})
    assert response.status_code == 403
    text = response.content.decode()
    assert "页面已过期" in text and "刷新页面" in text
