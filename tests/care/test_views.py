"""The care pages as officers and members use them: reminders, the visit form past a
cap, the batch with its preview, photos, self-service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gonghui.care import services
from gonghui.care.models import Subsidy, Visit, VisitPhoto
from gonghui.members import services as member_services
from tests import factories as f
from tests.conftest import World, login

from . import records

TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def birth_this_month(years_ago: int) -> dt.date:
    return dt.date(TODAY.year - years_ago, TODAY.month, 1)


def test_reminders_list_birthdays_hospital_stays_and_files_due(world: World) -> None:
    young = f.member(world.group, "生日甲", id_number=f.id_number(birth_this_month(30)))
    retiree = f.member(world.group, "退休乙", id_number=f.id_number(birth_this_month(70)))
    member_services.member_change(actor=None, member=retiree, kind="retire", date=TODAY)
    f.member(world.other_school_group, "外校丙", id_number=f.id_number(birth_this_month(40)))
    stay = records.stay(world)
    file = records.hardship_file(world)
    type(file).objects.filter(pk=file.pk).update(last_reviewed_on=TODAY - dt.timedelta(days=360))

    page = login(world.officer).get(reverse("care:home"))
    reminders = page.context["reminders"]
    birthdays = {
        m.name: (age, milestone, greeted) for m, age, milestone, greeted in reminders.birthdays
    }
    assert birthdays == {"生日甲": (30, False, False), "退休乙": (70, True, False)}
    assert "逢十" in page.content.decode()
    assert [s.member.name for s in reminders.in_hospital] == ["张三"]
    assert [x.pk for x in reminders.reviews_due] == [file.pk]

    # A birthday visit marks the member; a hospital visit clears the stay.
    services.visit_create(
        actor=None, member=young, date=TODAY, reason="birthday", form="voucher", amount=200
    )
    services.visit_create(
        actor=None,
        member=world.member,
        date=stay.admitted_on,
        reason="sick",
        form="cash",
        amount=500,
    )
    reminders = login(world.officer).get(reverse("care:home")).context["reminders"]
    assert {m.name: greeted for m, _, _, greeted in reminders.birthdays}["生日甲"] is True
    assert reminders.in_hospital == []
    # Another branch's officer sees none of branch A1's reminders.
    other = login(world.other_officer).get(reverse("care:home")).context["reminders"]
    assert other.birthdays == [] and other.in_hospital == [] and other.reviews_due == []


def visit_form(w: World, amount: str, **over: str) -> dict[str, str]:
    data = {
        "member": records.label(w),
        "recipient": "member",
        "date": TODAY.isoformat(),
        "reason": "sick",
        "form": "cash",
        "amount": amount,
    }
    data.update(over)
    return data


def test_the_visit_form_warns_past_the_cap_and_saves_once_confirmed(world: World) -> None:
    client = login(world.officer)
    url = reverse("care:visit_create")
    assert client.post(url, visit_form(world, "800")).status_code == 302
    warned = client.post(url, visit_form(world, "500"))
    assert warned.status_code == 200
    assert "超过全年上限 1000 元" in warned.context["form"].over_cap_warning
    assert Visit.objects.count() == 1
    saved = client.post(url, visit_form(world, "500", confirm_over_cap="on"))
    assert saved.status_code == 302
    visit = Visit.objects.latest("pk")
    assert visit.over_cap and "1300" in visit.cap_note


def test_the_form_refuses_a_photo_that_is_no_picture(world: World) -> None:
    fake = SimpleUploadedFile("照片.jpg", b"MZ\x90\x00 not an image", "image/jpeg")
    response = login(world.officer).post(
        reverse("care:visit_create"), {**visit_form(world, "300"), "photo": fake}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["photo"] == [
        "只能上传 JPG、PNG、WEBP 或 GIF 格式的照片。"
    ]
    assert Visit.objects.count() == 0


def test_a_photo_is_served_to_those_who_see_the_visit_only(world: World) -> None:
    photo = records.photo(world)
    url = reverse("care:visit_photo", args=[photo.pk])
    response = login(world.officer).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == records.PNG  # type: ignore[attr-defined]
    assert login(world.other_officer).get(url).status_code == 404
    assert login(world.member_user).get(url).status_code == 404
    assert not str(photo.file.name).endswith("病房.png"), "stored under a name of our own"
    assert VisitPhoto.objects.get().name == "病房.png"


def test_a_batch_is_previewed_then_saved_for_the_whole_branch(world: World) -> None:
    f.member(world.group, "王二")
    client = login(world.officer)
    data = {
        "union": world.branch.pk,
        "date": TODAY.isoformat(),
        "reason": "festival",
        "form": "goods",
        "amount": "300",
        "goods": "月饼",
    }
    preview = client.post(reverse("care:visit_batch"), data)
    assert preview.status_code == 200
    assert len(preview.context["preview"].members) == 2
    assert "将为 <b>2</b> 人登记" in preview.content.decode()
    assert Visit.objects.count() == 0
    digest = preview.context["form"]["previewed"].value()
    changed = client.post(
        reverse("care:visit_batch"), {**data, "amount": "250", "previewed": digest}
    )
    assert changed.status_code == 200 and Visit.objects.count() == 0  # previewed again
    assert "内容已修改" in changed.content.decode()
    saved = client.post(reverse("care:visit_batch"), {**data, "previewed": digest})
    assert saved.status_code == 302
    assert sorted(Visit.objects.values_list("recipient_name", flat=True)) == ["张三", "王二"]
    assert "batch=" in saved["Location"]


def test_a_member_sees_their_own_records_and_applies_for_themself(world: World) -> None:
    records.visit(world)
    services.visit_create(
        actor=None,
        member=world.other_branch_member,
        date=TODAY,
        reason="sick",
        form="cash",
        amount=300,
    )
    client = login(world.member_user)
    mine = client.get(reverse("care:me"))
    assert [v.member_id for v in mine.context["visits"]] == [world.member.pk]
    response = client.post(
        reverse("care:me_apply"), {"kind": "hardship", "amount": "1000", "reason": "家里困难"}
    )
    assert response.status_code == 302
    subsidy = Subsidy.objects.get()
    assert (subsidy.member, subsidy.applicant, subsidy.status) == (
        world.member,
        world.member_user,
        "applied",
    )
    # The member's own application cannot be moved on by the member.
    assert (
        login(world.member_user)
        .post(reverse("care:subsidy_action", args=[subsidy.pk, "review"]), {"note": "好"})
        .status_code
        == 404
    )


def test_a_photo_too_large_saves_nothing_and_says_why(world: World, settings: Any) -> None:
    settings.GONGHUI_PHOTO_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("大照片.png", records.PNG + b"\0" * (1024 * 1024), "image/png")
    response = login(world.officer).post(
        reverse("care:visit_create"), {**visit_form(world, "300"), "photo": big}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["photo"] == ["照片不能超过 1 MB，请压缩后再上传。"]
    assert response.context["lost_photo"] is True
    assert Visit.objects.count() == 0 and VisitPhoto.objects.count() == 0


def test_the_form_records_a_retired_member_as_a_retiree(world: World) -> None:
    member_services.member_change(actor=None, member=world.member, kind="retire", date=TODAY)
    response = login(world.officer).post(
        reverse("care:visit_create"),
        {**visit_form(world, "200", reason="other", form="goods"), "recipient": ""},
    )
    assert response.status_code == 302
    assert Visit.objects.get().recipient == "retiree"


def test_birthday_visits_are_cakes_not_cash_while_the_rule_is_on(world: World) -> None:
    client = login(world.officer)
    refused = client.post(reverse("care:visit_create"), visit_form(world, "200", reason="birthday"))
    assert refused.context["form"].errors["form"][0].startswith("生日慰问发放生日蛋糕或蛋糕券")
    services.policy_set(actor=None, union=world.school, preset="anhui", birthday_cake_only=False)
    assert (
        client.post(
            reverse("care:visit_create"), visit_form(world, "200", reason="birthday")
        ).status_code
        == 302
    )


def test_a_discharge_is_recorded_once(world: World) -> None:
    stay = records.stay(world)
    client = login(world.officer)
    url = reverse("care:stay_discharge", args=[stay.pk])
    client.post(url, {"discharged_on": TODAY.isoformat()})
    second = client.post(url, {"discharged_on": TODAY.isoformat()}, follow=True)
    assert "已于" in second.content.decode() and "登记出院" in second.content.decode()
    from gonghui.common.models import AuditEntry

    assert AuditEntry.objects.filter(summary__startswith="登记出院").count() == 1


def test_a_whole_batch_saved_by_mistake_is_reversed_in_one_go(world: World) -> None:
    f.member(world.group, "王二")
    visits = records.batch(world)
    assert len(visits) == 2
    client = login(world.officer)
    listed = client.get(reverse("care:visits"), {"batch": visits[0].batch})
    assert "冲销整批" in listed.content.decode()
    response = client.post(
        reverse("care:visit_batch_reverse"), {"batch": visits[0].batch, "reason": "金额登记错误"}
    )
    assert response.status_code == 302
    states = sorted(Visit.objects.values_list("state", flat=True))
    assert states == ["reversal", "reversal", "reversed", "reversed"]
    from gonghui.care.report import facts
    from gonghui.common.reporting import Period

    found = {x.key: x.value for x in facts(union=world.school, period=Period.year(TODAY.year))}
    assert (found["care.visits"], found["care.visits.amount"]) == (0, 0)
    # Not twice, and not by another branch.
    again = client.post(
        reverse("care:visit_batch_reverse"), {"batch": visits[0].batch, "reason": "再来"}
    )
    assert again.status_code == 302 and Visit.objects.count() == 4
    other = login(world.other_officer).post(
        reverse("care:visit_batch_reverse"), {"batch": visits[0].batch, "reason": "x"}
    )
    assert other.status_code == 404
