"""``gonghui report``: the JSON contract, the Chinese errors, and the real console script."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from gonghui.org.choices import UnionKind

from .. import clirun
from .. import factories as f
from ..conftest import World


def report(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("report", *args, stdout=out)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def test_json_report_by_code(world: World) -> None:
    data = report("--union", "YZ", "--from", "2020-01-01", "--to", "2020-12-31", "--format", "json")

    assert data["union"] == "第一中学工会"
    assert data["period"] == {"from": "2020-01-01", "to": "2020-12-31"}
    facts = {fact["key"]: fact for fact in data["facts"]}
    assert {
        "members.total",
        "members.joined",
        "members.left",
        "members.rate",
        "members.temporary",
        "org.branches",
        "org.groups",
    } <= set(facts)
    for fact in facts.values():
        assert set(fact) >= {"key", "label", "value", "unit", "source"}
        assert type(fact["value"]) in (int, float), fact
        assert fact["source"].startswith("/")
    # 张三 and 李四 joined on 2020-03-01; the school counts 100 employees.
    assert facts["members.total"]["value"] == 2
    assert facts["members.joined"]["value"] == 2
    assert facts["members.rate"]["value"] == 2
    assert facts["members.rate"]["unit"] == "%"
    assert facts["org.branches"]["label"] == "分工会"


def test_union_by_name_or_lower_case_code(world: World) -> None:
    by_name = report("--union", "第一中学工会", "--from", "2024-01-01", "--to", "2024-12-31")
    by_code = report("--union", " yz ", "--from", "2024-01-01", "--to", "2024-12-31")
    assert by_name == by_code


def test_output_to_a_file(world: World, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    err = StringIO()
    call_command(
        "report",
        "--union",
        "YZ",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "-o",
        str(target),
        stderr=err,
    )
    assert json.loads(target.read_text(encoding="utf-8"))["union"] == "第一中学工会"
    assert "已写入" in err.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--union", "不存在"], "找不到名称或代码为「不存在」的工会组织。"),
        (
            ["--union", "YZ", "--from", "2024-13-01"],
            "日期「2024-13-01」格式不对，请写成 YYYY-MM-DD",
        ),
        (["--union", "YZ", "--from", "2024/01/01"], "日期「2024/01/01」格式不对"),
        (["--union", "YZ", "--to", "2023-12-31"], "结束日期 2023-12-31 早于开始日期 2024-01-01"),
    ],
)
def test_errors_are_explained_in_chinese(world: World, args: list[str], message: str) -> None:
    options = {"--from": "2024-01-01", "--to": "2024-12-31"}
    i = 0
    while i < len(args):
        options[args[i]] = args[i + 1]
        i += 2
    flat = [x for pair in options.items() for x in pair]
    with pytest.raises(CommandError) as exc:
        call_command("report", *flat, stdout=StringIO())
    assert message in str(exc.value)


def test_an_ambiguous_name_asks_for_the_code(world: World) -> None:
    f.union("语文组", UnionKind.GROUP, world.branch, code="GZYW")
    f.union("语文组", UnionKind.GROUP, world.other_branch, code="CZYW")
    with pytest.raises(CommandError) as exc:
        call_command("report", "--union", "语文组", "--from", "2024-01-01", "--to", "2024-12-31")
    message = str(exc.value)
    assert "名称为「语文组」的工会组织不止一个，请改用代码" in message
    assert "GZYW（语文组）" in message and "CZYW（语文组）" in message
    # The code settles it.
    assert (
        report("--union", "CZYW", "--from", "2024-01-01", "--to", "2024-12-31")["union"] == "语文组"
    )


FILL = """
import datetime as dt
from django.core.management import call_command
call_command("migrate", verbosity=0)
from gonghui.members.services import member_change, member_create
from gonghui.org.services import union_create
from gonghui.common.validators import with_check_digit

school = union_create(actor=None, name="实验小学工会", kind="union", parent=None, code="SYXX", headcount=40)
group = union_create(actor=None, name="语文组", kind="group", parent=school)
for i in range(6):
    m = member_create(actor=None, union=group, name=f"会员{i}",
        id_number=with_check_digit(f"33010619800101{i:03d}"), join_date=dt.date(2024, 3, 1))
member_change(actor=None, member=m, kind="withdraw", date=dt.date(2024, 9, 1))
"""


@pytest.mark.own_database
def test_the_console_script_reports_from_a_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "gonghui.sqlite3"
    environ = clirun.env(GONGHUI_DATABASE_URL=f"sqlite:///{db}", GONGHUI_DATA_DIR=str(tmp_path))

    filled = clirun.run("shell", "--no-imports", "-c", FILL, environ=environ)
    assert filled.returncode == 0, filled.stderr

    done = clirun.run(
        "report",
        "--union",
        "实验小学工会",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
        "--format",
        "json",
        environ=environ,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    facts = {fact["key"]: fact["value"] for fact in data["facts"]}
    assert data["union"] == "实验小学工会"
    assert data["period"] == {"from": "2024-01-01", "to": "2024-12-31"}
    assert (facts["members.total"], facts["members.joined"], facts["members.left"]) == (5, 6, 1)
    assert facts["members.rate"] == 12.5
    assert facts["org.groups"] == 1
