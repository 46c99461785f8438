"""Importing the care ledgers: 慰问, 已发放的补助, 捐款.

Members are named as every ledger names them (身份证号, 工号, 会员证号, or a name that is
unique in the importer's reach); the services' rules hold (caps, festival gifts as
goods only); all or nothing; the same sheet twice adds nothing; an export imports back
unchanged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gonghui.care import services
from gonghui.care.models import Donation, DonationDrive, Subsidy, SubsidyEvent, Visit
from gonghui.common import crypto
from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import Result, run_import
from gonghui.common.imports.jobs import export_records
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.org.models import Union, User
from tests import factories as f
from tests.conftest import World
from tests.imports import files

ON = dt.date(2025, 5, 6)
VISIT_HEADERS = [
    "日期",
    "姓名",
    "身份证号",
    "工号",
    "会员证号",
    "慰问事由",
    "慰问形式",
    "金额",
    "慰问物品",
]


def run(
    tmp_path: Path,
    kind: str,
    rows: list[list[Any]],
    headers: list[str],
    *,
    actor: User | None = None,
    union: Union | None = None,
    commit: bool = True,
) -> Result:
    path = files.xlsx(tmp_path / f"{kind}.xlsx", [headers, *rows], text_columns=[2])
    return run_import(
        spec=get_spec(kind),
        path=path,
        file_name=f"{kind}.xlsx",
        actor=actor,
        default_union=union,
        commit=commit,
    )


def lines(result: Result) -> list[str]:
    return result.error_lines()


def test_a_row_finds_its_member_by_any_one_number_or_a_unique_name(
    world: World, tmp_path: Path
) -> None:
    zhang = world.member
    number = crypto.decrypt(zhang.id_number_enc)
    result = run(
        tmp_path,
        "visits",
        [
            [ON, "", number, "", "", "生病住院", "现金", 300, ""],
            [ON, "", "", "T001", "", "生日", "蛋糕券", 200, "蛋糕券"],
            [ON, "", "", "", zhang.card_no, "结婚", "现金", 500, ""],
            [ON, "张三", "", "", "", "生育", "慰问金", 400, ""],
            [ON, "李四", "", "", "", "退休", "实物", 300, "纪念品"],
        ],
        VISIT_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    assert result.written, lines(result)
    visits = Visit.objects.order_by("id")
    assert [v.member.name for v in visits] == ["张三"] * 4 + ["李四"]
    assert [v.reason for v in visits] == ["sick", "birthday", "wedding", "childbirth", "retirement"]
    assert [v.form for v in visits] == ["cash", "voucher", "cash", "cash", "goods"]
    assert visits[4].union == world.other_group  # the member's own union
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.actor == world.chair and entry.changes["新增"] == ["", 5]
    assert entry.changes["合计金额"] == ["", "1700.00"]


def test_every_way_a_row_can_miss_its_member_is_an_error_and_nothing_is_written(
    world: World, tmp_path: Path
) -> None:
    f.member(world.branch, "张三", employee_no="T777")  # a second 张三 in the school
    result = run(
        tmp_path,
        "visits",
        [
            [ON, "张三", "", "", "", "生病住院", "现金", 300, ""],
            [ON, "赵六", "", "", "", "生病住院", "现金", 300, ""],
            [ON, "王五", "", "T001", "", "生病住院", "现金", 300, ""],
            [ON, "", "", "T001", world.other_branch_member.card_no, "生病住院", "现金", 300, ""],
            [ON, "", "", "NOPE", "", "生病住院", "现金", 300, ""],
            [ON, "", "", "", "", "生病住院", "现金", 300, ""],
            [ON, "王五", "", "", "", "生病住院", "现金", 300, ""],
            [ON, "", "", "T777", "", "生病住院", "现金", 300, ""],
        ],
        VISIT_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    assert not result.written
    assert Visit.objects.count() == 0
    text = lines(result)
    assert text[0].startswith("第2行「姓名」：有 2 位会员名为「张三」")
    assert text[1] == "第3行「姓名」：名册中（您可以导入的范围内）没有名为「赵六」的会员"
    assert text[2] == "第4行「姓名」：与名册不符：按工号找到的会员是「张三」"
    assert text[3].startswith("第5行「会员证号」：与「工号」不是同一位会员")
    assert text[4] == "第6行「工号」：名册中（您可以导入的范围内）没有工号为「NOPE」的会员"
    assert text[5] == "第7行：请填写会员：身份证号、工号、会员证号填一项，或填写姓名"
    # 王五 is in another school: out of the chair's reach, as if absent.
    assert text[6] == "第8行「姓名」：名册中（您可以导入的范围内）没有名为「王五」的会员"
    assert len(text) == 7  # T777 (the second 张三) is found: only the others fail


def test_caps_warn_in_the_preview_and_block_as_row_errors(world: World, tmp_path: Path) -> None:
    rows = [
        [ON, "", "", "T001", "", "生病住院", "现金", 600, ""],
        [ON.replace(day=20), "", "", "T001", "", "生病住院", "现金", 600, ""],  # 1200 > 1000
        [ON, "", "", "T001", "", "中秋节", "购物卡", 300, ""],
    ]
    refused = run(tmp_path, "visits", rows, VISIT_HEADERS, actor=world.chair, union=world.school)
    assert lines(refused) == [
        "第4行「慰问形式」：节日慰问只能发放实物，不能发放现金、购物卡或购物券"
    ]

    rows[2][6] = "实物"
    warned = run(tmp_path, "visits", rows, VISIT_HEADERS, actor=world.chair, union=world.school)
    assert warned.written
    assert warned.plan is not None and len(warned.plan.warnings) == 1
    assert (
        "第3行 张三：今年已发放生病住院慰问 600 元，加上本次 600 元共 1200 元"
        in warned.plan.warnings[0]
    )
    assert list(Visit.objects.order_by("id").values_list("over_cap", flat=True)) == [
        False,
        True,
        False,
    ]

    Visit.objects.all().delete()
    AuditEntry.objects.filter(action=AuditAction.IMPORT).delete()
    services.policy_set(actor=None, union=world.school, preset="anhui", enforcement="block")
    blocked = run(tmp_path, "visits", rows, VISIT_HEADERS, actor=world.chair, union=world.school)
    assert not blocked.written and Visit.objects.count() == 0
    assert lines(blocked) == [
        "第3行「金额」：今年已发放生病住院慰问 600 元，加上本次 600 元共 1200 元，超过全年上限 1000 元"
        "（安徽现行标准）。本工会规定超标不能登记"
    ]


def test_the_same_sheet_twice_adds_nothing_and_duplicates_in_a_file_are_errors(
    world: World, tmp_path: Path
) -> None:
    rows = [[ON, "", "", "T001", "", "生病住院", "现金", 300, ""]]
    assert run(
        tmp_path, "visits", rows, VISIT_HEADERS, actor=world.chair, union=world.school
    ).written
    again = run(tmp_path, "visits", rows, VISIT_HEADERS, actor=world.chair, union=world.school)
    assert again.plan is not None and (again.plan.created, again.plan.unchanged) == (0, 1)
    assert Visit.objects.count() == 1
    twice = run(
        tmp_path, "visits", rows + rows, VISIT_HEADERS, actor=world.chair, union=world.school
    )
    assert "第3行：与第2行重复" in lines(twice)[0]


def test_an_exported_visit_list_imports_back_unchanged(world: World, tmp_path: Path) -> None:
    for reason, form, amount in (("sick", "cash", 500), ("festival", "goods", 200)):
        services.visit_create(
            actor=None,
            member=world.member,
            date=ON,
            reason=reason,
            form=form,
            amount=amount,
            goods="水果",
        )
    services.visit_create(
        actor=None,
        member=world.other_branch_member,
        date=ON,
        reason="sick",
        variant="surgery",
        form="cash",
        amount=900,
    )
    spec = get_spec("visits")
    data, count = export_records(
        spec=spec,
        actor=world.chair,
        qs=spec.export_queryset(world.chair, None),
        root=None,
        full_pii=False,
    )
    assert count == 3
    path = files.write(tmp_path / "导出.xlsx", data)
    result = run_import(
        spec=spec,
        path=path,
        file_name="导出.xlsx",
        actor=world.chair,
        default_union=world.school,
        commit=True,
    )
    assert result.plan is not None
    assert (result.plan.created, result.plan.unchanged) == (0, 3), lines(result)


def test_out_of_reach_members_are_refused_for_a_branch_officer(
    world: World, tmp_path: Path
) -> None:
    result = run(
        tmp_path,
        "visits",
        [[ON, "李四", "", "", "", "生病住院", "现金", 300, ""]],
        VISIT_HEADERS,
        actor=world.officer,
        union=world.branch,
    )
    assert lines(result) == ["第2行「姓名」：名册中（您可以导入的范围内）没有名为「李四」的会员"]


SUBSIDY_HEADERS = ["发放日期", "姓名", "工号", "补助类型", "金额", "资金来源", "备注"]


def test_paid_subsidies_are_recorded_as_paid_with_their_history(
    world: World, tmp_path: Path
) -> None:
    result = run(
        tmp_path,
        "subsidies",
        [
            ["2025-01-20", "张三", "T001", "困难补助", 2000, "上级工会", "春节送温暖"],
            ["2025-09-01", "李四", "", "金秋助学", 1500, "", ""],
        ],
        SUBSIDY_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    assert result.written, lines(result)
    first, second = Subsidy.objects.order_by("id")
    assert (first.status, first.paid_amount, first.paid_on, first.source) == (
        "paid",
        Decimal("2000.00"),
        dt.date(2025, 1, 20),
        "upper",
    )
    assert (second.kind, second.source, second.imported) == ("education", "own", True)
    assert SubsidyEvent.objects.filter(to_status="paid").count() == 2
    # Counted in the figures of their year.
    from gonghui.care.report import facts
    from gonghui.common.reporting import Period

    found = {x.key: x.value for x in facts(union=world.school, period=Period.year(2025))}
    assert (found["care.subsidies"], found["care.subsidies.amount"]) == (2, Decimal("3500.00"))


def test_a_hardship_grant_over_the_cap_is_refused_where_the_union_blocks(
    world: World, tmp_path: Path
) -> None:
    services.policy_set(actor=None, union=world.school, preset="fujian", enforcement="block")
    result = run(
        tmp_path,
        "subsidies",
        [["2025-01-20", "张三", "", "困难补助", 2500, "", ""]],
        SUBSIDY_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    assert lines(result) == [
        "第2行「金额」：本次困难慰问、一次性困难补助 2500 元，超过每次上限 2000 元（福建标准）。本工会规定超标不能登记"
    ]
    assert Subsidy.objects.count() == 0


DONATION_HEADERS = ["捐款活动", "姓名", "工号", "金额", "日期"]


def test_donations_go_to_a_drive_of_the_importers_reach(world: World, tmp_path: Path) -> None:
    drive = services.drive_create(
        actor=None, union=world.school, name="2025年一日捐", start_date=ON
    )
    services.drive_create(actor=None, union=world.other_school, name="二中一日捐", start_date=ON)
    bad = run(
        tmp_path,
        "donations",
        [
            ["2025年一日捐", "张三", "", 100, ON],
            ["二中一日捐", "张三", "", 100, ON],
            ["一日捐", "李四", "", 50, ON],
        ],
        DONATION_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    # 二中一日捐 is another union's drive, out of reach: here it would be a new drive of
    # the union imported into. 一日捐 is the one drive in reach whose name holds it.
    assert bad.ok and bad.written
    assert bad.plan is not None and bad.plan.creates == ["捐款活动「二中一日捐」（第一中学工会）"]
    new = DonationDrive.objects.get(name="二中一日捐", union=world.school)
    assert sorted(Donation.objects.values_list("drive_id", "donor_name")) == sorted(
        [(drive.pk, "张三"), (new.pk, "张三"), (drive.pk, "李四")]
    )
    Donation.objects.all().delete()
    good = run(
        tmp_path,
        "donations",
        [["2025年一日捐", "张三", "", 100, ON], ["2025年一日捐", "李四", "", 50, ON]],
        DONATION_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    assert good.written
    assert sorted(Donation.objects.values_list("donor_name", "amount")) == [
        ("张三", Decimal("100.00")),
        ("李四", Decimal("50.00")),
    ]
    assert set(Donation.objects.values_list("drive_id", flat=True)) == {drive.pk}


@pytest.mark.parametrize("kind", ["visits", "subsidies", "donations"])
def test_every_care_import_offers_a_template(world: World, kind: str) -> None:
    from tests.conftest import login

    response = login(world.chair).get(f"/imports/{kind}/template/")
    assert response.status_code == 200
    book = files.read_xlsx(response.content)
    headers = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    assert "身份证号" in headers and "工号" in headers and "会员证号" in headers


def test_paid_subsidies_are_imported_by_those_who_pay_and_never_to_themselves(
    world: World, tmp_path: Path
) -> None:
    from gonghui.org.choices import Role

    committee = f.user("committee", world.school, role=Role.COMMITTEE)
    rows = [["2025-01-20", "张三", "T001", "困难补助", 1000, "", ""]]
    refused = run(tmp_path, "subsidies", rows, SUBSIDY_HEADERS, actor=committee, union=world.school)
    assert refused.problem == "您没有向「第一中学工会」导入已发放的补助的权限。"
    from gonghui.members import services as member_services

    treasurer = f.user("treasurer", world.school, role=Role.TREASURER)
    member_services.member_link_user(actor=None, member=world.member, user=None)
    member_services.member_link_user(actor=None, member=world.member, user=treasurer)
    own = run(tmp_path, "subsidies", rows, SUBSIDY_HEADERS, actor=treasurer, union=world.school)
    assert lines(own) == ["第2行：不能登记发给自己的补助，请由其他有权限的人导入"]
    assert Subsidy.objects.count() == 0


def test_the_visit_export_holds_valid_visits_to_members_only(world: World, tmp_path: Path) -> None:
    kept = services.visit_create(
        actor=None, member=world.member, date=ON, reason="sick", form="cash", amount=500
    )
    wrong = services.visit_create(
        actor=None, member=world.member, date=ON, reason="wedding", form="cash", amount=600
    )
    services.visit_reverse(actor=None, visit=wrong, reason="登记错了")
    services.visit_create(
        actor=None,
        union=world.group,
        recipient="retiree",
        recipient_name="老教师",
        date=ON,
        reason="other",
        form="goods",
        amount=100,
    )
    from tests.conftest import login

    response = login(world.chair).get("/imports/export/visits/", {"states": "1"})
    book = files.read_xlsx(response.content)
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and kept.member is not None
    assert rows[0][1] == "张三"


def test_donations_follow_the_services_rules(world: World, tmp_path: Path) -> None:
    from gonghui.members import services as member_services

    services.drive_create(actor=None, union=world.school, name="一日捐", start_date=ON)
    member_services.member_change(
        actor=None, member=world.other_branch_member, kind="withdraw", date=ON
    )
    result = run(
        tmp_path,
        "donations",
        [["一日捐", "张三", "", 100, ON - dt.timedelta(days=1)], ["一日捐", "李四", "", 50, ON]],
        DONATION_HEADERS,
        actor=world.chair,
        union=world.school,
    )
    assert lines(result) == [
        "第2行「日期」：早于活动开始日期（2025-05-06）",
        "第3行：李四目前「已退会」，不能登记为会员捐款",
    ]
