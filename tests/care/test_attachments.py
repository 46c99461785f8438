"""A subsidy application carries its papers (a hospital bill): images and PDF, checked
by content; served only to those who may see the subsidy and to its applicant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gonghui.care.models import Subsidy, SubsidyAttachment
from gonghui.common.models import AuditEntry
from tests.conftest import World, login

from . import records

#: A JPEG's first bytes (SOI, APP0 JFIF): what the content check reads.
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + b"\x00" * 64 + b"\xff\xd9"
#: A Windows program (its "MZ" header) under a PDF's name.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def apply(world: World, upload: SimpleUploadedFile) -> Any:
    return login(world.member_user).post(
        reverse("care:me_apply"),
        {"kind": "illness", "amount": "1500", "reason": "住院手术", "attachment": upload},
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("住院发票.pdf", records.PDF, "application/pdf"), ("票据.jpg", JPEG, "image/jpeg")],
)
def test_a_member_applies_with_a_pdf_or_a_photo_of_the_bill(
    world: World, name: str, content: bytes, content_type: str
) -> None:
    response = apply(world, SimpleUploadedFile(name, content, "application/octet-stream"))

    assert response.status_code == 302
    subsidy = Subsidy.objects.get(member=world.member)
    attachment = subsidy.attachments.get()
    assert (attachment.name, attachment.content_type) == (name, content_type)
    assert AuditEntry.objects.filter(summary__startswith="上传补助附件").count() == 1
    # The applicant sees it on 我的关爱 and opens it.
    me = login(world.member_user).get(reverse("care:me")).content.decode()
    url = reverse("care:subsidy_attachment", args=[attachment.pk])
    assert url in me
    served = login(world.member_user).get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == content
    assert served["Content-Type"] == content_type
    assert served["X-Content-Type-Options"] == "nosniff"


def test_an_exe_renamed_pdf_is_refused_and_nothing_is_written(world: World) -> None:
    response = apply(world, SimpleUploadedFile("发票.pdf", EXE, "application/pdf"))

    assert response.status_code == 200
    assert "附件只能是 PDF 或 JPG" in response.content.decode()
    assert not Subsidy.objects.exists()
    assert not SubsidyAttachment.objects.exists()
    # Nor later, on an application already made.
    subsidy = records.subsidy(world)
    login(world.member_user).post(
        reverse("care:subsidy_attachment_add", args=[subsidy.pk]),
        {"attachment": SimpleUploadedFile("发票.pdf", EXE, "application/pdf")},
    )
    assert not SubsidyAttachment.objects.exists()


def test_only_the_subsidys_officers_and_its_applicant_open_the_attachment(world: World) -> None:
    attachment = records.attachment(world)
    url = reverse("care:subsidy_attachment", args=[attachment.pk])

    assert login(world.other_officer).get(url).status_code == 404
    assert login(world.outsider).get(url).status_code == 404
    assert login(world.officer).get(url).status_code == 200
    assert login(world.member_user).get(url).status_code == 200
    # The officer's page lists it.
    page = login(world.officer).get(reverse("care:subsidy", args=[attachment.subsidy_id]))
    assert url in page.content.decode()


def test_an_officer_adds_a_paper_on_the_subsidy_page(world: World) -> None:
    subsidy = records.subsidy(world)
    response = login(world.officer).post(
        reverse("care:subsidy_attachment_add", args=[subsidy.pk]),
        {"attachment": SimpleUploadedFile("证明.jpg", JPEG, "image/jpeg")},
    )
    assert response.status_code == 302
    assert subsidy.attachments.get().uploaded_by == world.officer
    refused = login(world.other_officer).post(
        reverse("care:subsidy_attachment_add", args=[subsidy.pk]),
        {"attachment": SimpleUploadedFile("证明.jpg", JPEG, "image/jpeg")},
    )
    assert refused.status_code == 404
    assert subsidy.attachments.count() == 1
