"""The care sheets in their users' words: 慰问, 补助 and 捐款 as a hand-kept Excel file or
another system writes them; drives found by a part of their name, or created with the
import (and refused with ``--no-create``)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from gonghui.care import services
from gonghui.care.models import Donation, DonationDrive, Subsidy, Visit
from gonghui.common.errors import ServiceError
from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import Result, run_import
from gonghui.common.models import AuditAction, AuditEntry, ImportRecord, ImportStatus
from gonghui.org.models import Union, User
from tests import factories as f
from tests.conftest import World, login
from tests.imports import files

ON = dt.date(2025, 5, 6)


def run(
    tmp_path: Path,
    kind: str,
    rows: list[list[Any]],
    *,
    actor: User | None,
    union: Union | None,
    name: str = "sheet",
    commit: bool = True,
) -> Result:
    path = files.xlsx(tmp_path / f"{name}.xlsx", rows, title=f"{kind} 台账")
    return run_import(
        spec=get_spec(kind),
        path=path,
        file_name=path.name,
        actor=actor,
        default_union=union,
        commit=commit,
    )


def counts(result: Result) -> tuple[int, int, int]:
    assert result.plan is not None
    return result.plan.created, result.plan.updated, result.plan.unchanged


@pytest.fixture
def people(world: World) -> dict[str, Any]:
    return {
        "张三": world.member,
        "钱二": f.member(world.group, "钱二", employee_no="T102"),
        "孙三": f.member(world.branch, "孙三", employee_no="T103"),
    }


def test_a_messy_visits_sheet_imports_whole_and_again_unchanged(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        ["慰问时间", "被慰问人", "职工号", "慰问原因", "发放形式", "金额(元)", "慰问品"],
        ["2025.3.5", "张三", "", "住院", "现金", "300元", ""],
        ["2025年3月8日", "", "T102", "生孩子", "慰问金", "500", ""],
        ["20250410", "孙三", "", "新婚", "红包", "500", ""],
        [ON, "张三", "", "过生日", "蛋糕券", "200", "蛋糕券"],
        [ON, "钱二", "", "夏季", "慰问品", "100", "西瓜"],  # the start of 夏季送清凉
    ]
    first = run(tmp_path, "visits", rows, actor=world.chair, union=world.school)
    assert first.written, first.error_lines()
    assert sorted(Visit.objects.values_list("recipient_name", "reason", "form")) == [
        ("孙三", "wedding", "cash"),
        ("张三", "birthday", "voucher"),
        ("张三", "sick", "cash"),
        ("钱二", "childbirth", "cash"),
        ("钱二", "summer", "goods"),
    ]
    again = run(tmp_path, "visits", rows, actor=world.chair, union=world.school, name="again")
    assert again.written and counts(again) == (0, 0, 5)
    assert Visit.objects.count() == 5


def test_a_visit_row_reports_every_error_at_once(world: World, tmp_path: Path) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    rows = [
        ["日期", "姓名", "慰问事由", "慰问形式", "金额"],
        [tomorrow, "赵六", "出差", "钞票", "abc"],
    ]
    result = run(tmp_path, "visits", rows, actor=world.chair, union=world.school)
    text = result.error_lines()
    assert text[0] == "第3行「日期」：不能晚于今天"
    assert text[1] == "第3行「姓名」：名册中（您可以导入的范围内）没有名为「赵六」的会员"
    assert text[2].startswith("第3行「慰问事由」：「出差」不在可选范围内")
    assert text[3].startswith("第3行「慰问形式」：「钞票」不在可选范围内")
    assert text[4].startswith("第3行「金额」：「abc」不是金额")
    assert len(text) == 5


def test_a_messy_subsidies_sheet_imports_whole_and_again_unchanged(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        ["发放时间", "姓名", "工号", "补助项目", "发放金额", "来源"],
        ["2025-01-20", "张三", "", "困补", "2000", "本级工会"],  # 本级工会经费
        ["2025-02-10", "", "T102", "大病", "5000", "上级"],
        ["2025-03-01", "孙三", "T103", "金秋助学", "1,000.00", "本级"],
    ]
    first = run(tmp_path, "subsidies", rows, actor=world.chair, union=world.school)
    assert first.written, first.error_lines()
    assert sorted(Subsidy.objects.values_list("member__name", "kind", "source", "paid_amount")) == [
        ("孙三", "education", "own", Decimal("1000.00")),
        ("张三", "hardship", "own", Decimal("2000.00")),
        ("钱二", "illness", "upper", Decimal("5000.00")),
    ]
    again = run(tmp_path, "subsidies", rows, actor=world.chair, union=world.school, name="again")
    assert again.written and counts(again) == (0, 0, 3)


DONATIONS = [
    ["捐款项目", "捐款人", "员工号", "捐款金额", "捐款日期"],
    ["春节一日捐", "张三", "", "100", "2025-01-10"],  # a part of 2025年元旦春节一日捐
    ["2025年元旦春节一日捐", "", "T102", "50元", "2025-01-11"],
    ["2025年慈善一日捐", "孙三", "", "200", "2025-05-06"],  # no such drive yet
    ["2025年慈善一日捐", "张三", "", "100", "2025-05-07"],
]


def test_a_messy_donations_sheet_finds_its_drive_and_creates_the_missing_one(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    spring = services.drive_create(
        actor=None, union=world.school, name="2025年元旦春节一日捐", start_date=dt.date(2025, 1, 1)
    )
    # The check says what it will create, and creates nothing.
    preview = run(
        tmp_path, "donations", DONATIONS, actor=world.chair, union=world.school, commit=False
    )
    assert preview.ok and not preview.written
    assert preview.plan is not None
    assert preview.plan.creates == ["捐款活动「2025年慈善一日捐」（第一中学工会）"]
    assert not DonationDrive.objects.filter(name="2025年慈善一日捐").exists()
    # The import creates it through the service (audited), with the gifts.
    result = run(tmp_path, "donations", DONATIONS, actor=world.chair, union=world.school)
    assert result.written, result.error_lines()
    charity = DonationDrive.objects.get(name="2025年慈善一日捐")
    assert (charity.union, charity.start_date) == (world.school, dt.date(2025, 5, 6))
    assert AuditEntry.objects.filter(
        action=AuditAction.CREATE, summary="发起捐款活动：2025年慈善一日捐"
    ).exists()
    assert sorted(Donation.objects.values_list("drive__name", "donor_name")) == [
        ("2025年元旦春节一日捐", "张三"),
        ("2025年元旦春节一日捐", "钱二"),
        ("2025年慈善一日捐", "孙三"),
        ("2025年慈善一日捐", "张三"),
    ]
    assert Donation.objects.filter(drive=spring).count() == 2
    again = run(
        tmp_path, "donations", DONATIONS, actor=world.chair, union=world.school, name="again"
    )
    assert again.written and counts(again) == (0, 0, 4)
    assert again.plan is not None and again.plan.creates == []
    assert DonationDrive.objects.count() == 2


def test_an_ambiguous_drive_name_lists_the_candidates(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    for name in ("2024年慈善一日捐", "2025年慈善一日捐"):
        services.drive_create(actor=None, union=world.school, name=name, start_date=ON)
    rows = [DONATIONS[0], ["慈善一日捐", "张三", "", "100", ON]]
    result = run(tmp_path, "donations", rows, actor=world.chair, union=world.school)
    assert result.error_lines() == [
        "第3行「捐款项目」：「慈善一日捐」可能是：「2024年慈善一日捐（第一中学工会）」、"
        "「2025年慈善一日捐（第一中学工会）」，请写完整的活动名称"
    ]


def test_a_failed_write_creates_no_drive(
    world: World, people: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # All or nothing: the drive is created in the import's transaction.
    def refuse(**kwargs: Any) -> None:
        raise ServiceError("写入时被拒绝")

    monkeypatch.setattr(services, "donations_import", refuse)
    result = run(
        tmp_path, "donations", DONATIONS[:1] + DONATIONS[3:], actor=world.chair, union=world.school
    )
    assert not result.written and "写入时被拒绝" in result.problem
    assert not DonationDrive.objects.exists()


def test_the_command_says_what_it_creates_and_no_create_refuses(
    world: World, people: dict[str, Any], tmp_path: Path
) -> None:
    path = files.xlsx(tmp_path / "d.xlsx", [DONATIONS[0], *DONATIONS[3:]])
    out = io.StringIO()
    call_command(
        "import",
        "donations",
        str(path),
        "--union",
        "YZ",
        "--dry-run",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "  将新建捐款活动「2025年慈善一日捐」（第一中学工会）" in out.getvalue()
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import",
            "donations",
            str(path),
            "--union",
            "YZ",
            "--no-create",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert (
        "第2行「捐款项目」：系统中没有捐款活动「2025年慈善一日捐」：请先在「关爱 › 捐款」中发起该活动，"
        "或去掉 --no-create 随导入新建"
    ) in err.getvalue()
    assert not DonationDrive.objects.exists()
    out = io.StringIO()
    call_command(
        "import", "donations", str(path), "--union", "YZ", stdout=out, stderr=io.StringIO()
    )
    assert "  已新建捐款活动「2025年慈善一日捐」（第一中学工会）" in out.getvalue()
    assert Donation.objects.filter(drive__name="2025年慈善一日捐").count() == 2


def test_the_web_preview_lists_what_it_creates_before_the_confirm_button(
    world: World, people: dict[str, Any], settings: Any, tmp_path: Path
) -> None:
    settings.GONGHUI_IMPORT_BACKGROUND = False
    settings.DATA_DIR = tmp_path / "data"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in [DONATIONS[0], *DONATIONS[3:]]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "捐款.xlsx"
    client = login(world.chair)
    response = client.post(
        reverse("imports:upload", args=["donations"]), {"file": buf, "union": world.school.pk}
    )
    assert response.status_code == 302
    record = ImportRecord.objects.latest("pk")
    assert record.status == ImportStatus.READY
    page = client.get(reverse("imports:detail", args=[record.pk])).content.decode()
    line = "将新建捐款活动「2025年慈善一日捐」（第一中学工会）"
    assert line in page
    assert page.index(line) < page.index('id="confirm-import"')
    assert not DonationDrive.objects.exists()
    client.post(reverse("imports:confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == ImportStatus.DONE
    assert DonationDrive.objects.get().name == "2025年慈善一日捐"
    done = client.get(reverse("imports:detail", args=[record.pk])).content.decode()
    assert "已新建捐款活动「2025年慈善一日捐」" in done
