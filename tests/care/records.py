"""Care records in branch A1 of the test world, made through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from gonghui.care import services
from gonghui.care.models import (
    Claim,
    CoverageProgramme,
    Donation,
    DonationDrive,
    HardshipFile,
    HospitalStay,
    Subsidy,
    SubsidyAttachment,
    Visit,
    VisitPhoto,
)
from gonghui.members.forms import member_label
from tests.conftest import World

#: The smallest valid PNG (1×1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def today() -> dt.date:
    return dt.date.today()


def label(w: World) -> str:
    """How a member box names 张三 (as the suggestions fill it in)."""
    return member_label(w.member)


def visit(w: World, **kw: object) -> Visit:
    args: dict[str, object] = dict(
        actor=None, member=w.member, date=today(), reason="sick", form="cash", amount=300
    )
    args.update(kw)
    return services.visit_create(**args)  # type: ignore[arg-type]


def batch(w: World) -> list[Visit]:
    """节日慰问 for the whole of branch A1 (张三 alone there)."""
    return services.visit_batch(
        actor=None, union=w.branch, date=today(), reason="festival", form="goods", amount=200
    )


def photo(w: World) -> VisitPhoto:
    return services.visit_photo_add(
        actor=None, visit=visit(w), upload=SimpleUploadedFile("病房.png", PNG, "image/png")
    )


def stay(w: World) -> HospitalStay:
    return services.stay_create(
        actor=None, member=w.member, admitted_on=today(), hospital="市一医院"
    )


def with_dibao(w: World) -> None:
    services.policy_set(actor=None, union=w.school, preset="anhui", dibao_line=Decimal(1000))


def household_data(prefix: str = "household", *, initial: int = 0) -> dict[str, str]:
    """The household table as the browser posts it; ``initial``: rows the page showed
    filled in (a review shows the file's household)."""
    return {
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
        f"{prefix}-0-name": "张三",
        f"{prefix}-0-relation": "本人",
        f"{prefix}-0-annual_income": "24000",
        f"{prefix}-1-name": "张小三",
        f"{prefix}-1-relation": "子女",
        f"{prefix}-1-annual_income": "0",
    }


def hardship_file(w: World) -> HardshipFile:
    with_dibao(w)
    return services.hardship_file_open(
        actor=None,
        member=w.member,
        opened_on=today(),
        cause="妻子重病，孩子上学",
        household=[
            services.Person("张三", "本人", Decimal(24000)),
            services.Person("张小三", "子女", Decimal(0)),
        ],
        expenses=Decimal(6000),
    )


def subsidy(w: World, status: str = "applied") -> Subsidy:
    """张三's own application (he is its applicant and its beneficiary)."""
    # One open application per kind: each call takes a kind not yet pending.
    taken = set(
        Subsidy.objects.filter(
            member=w.member, status__in=["applied", "reviewed", "approved"]
        ).values_list("kind", flat=True)
    )
    kind = next(k for k in ("illness", "education", "other", "hardship") if k not in taken)
    s = services.subsidy_apply(
        actor=w.member_user, member=w.member, kind=kind, amount=1500, reason="住院手术"
    )
    if status in ("reviewed", "approved", "paid"):
        s = services.subsidy_review(actor=None, subsidy=s)
    if status in ("approved", "paid"):
        s = services.subsidy_approve(actor=None, subsidy=s)
    if status == "paid":
        s = services.subsidy_pay(actor=None, subsidy=s)
    return s


#: The smallest PDF a content check accepts (its first bytes are what it looks at).
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def attachment(w: World) -> SubsidyAttachment:
    """A hospital bill (PDF) on 张三's own application, uploaded by him."""
    return services.subsidy_attachment_add(
        actor=w.member_user,
        subsidy=subsidy(w),
        upload=SimpleUploadedFile("住院发票.pdf", PDF, "application/pdf"),
    )


def drive(w: World) -> DonationDrive:
    return services.drive_create(actor=None, union=w.branch, name="爱心捐款", start_date=today())


def donation(w: World) -> Donation:
    return services.donation_add(
        actor=None, drive=drive(w), member=w.member, amount=100, date=today()
    )


def programme(w: World) -> CoverageProgramme:
    return services.programme_create(
        actor=None, union=w.branch, year=today().year, kind="medical", name="职工综合医疗保障"
    )


def claim(w: World) -> Claim:
    p = programme(w)
    services.programme_enrol(actor=None, programme=p, members=[w.member])
    return services.claim_create(actor=None, programme=p, member=w.member, date=today(), amount=800)
