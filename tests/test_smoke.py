from django.urls import reverse

from .conftest import World, login


def test_officer_sees_own_branch_roster_only(world: World) -> None:
    response = login(world.officer).get(reverse("members:list"))
    assert response.status_code == 200
    names = [m.name for m in response.context["page"]]
    assert names == ["张三"]
