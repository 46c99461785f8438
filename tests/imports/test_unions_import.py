"""Importing the union tree: parents in the same file, in any order; upsert by 代码."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import Result, run_import
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User
from tests.conftest import World

from . import files

pytestmark = pytest.mark.django_db

HEADERS = ["名称", "上级工会", "类型", "职工人数", "代码"]


def run(
    tmp_path: Path,
    rows: list[list[Any]],
    *,
    actor: User | None = None,
    union: Union | None = None,
    commit: bool = True,
) -> Result:
    path = files.xlsx(tmp_path / "组织.xlsx", [HEADERS, *rows])
    return run_import(
        spec=get_spec("unions"),
        path=path,
        file_name="组织.xlsx",
        actor=actor,
        default_union=union,
        commit=commit,
    )


def test_a_tree_with_parents_defined_later_in_the_file(world: World, tmp_path: Path) -> None:
    rows = [
        ["物理组", "理科分会", "工会小组", "", ""],
        ["理科分会", "SZ", "分工会", 30, "SZLK"],
        ["第三中学工会", "区教育工会", "基层工会", 120, "SZ"],
    ]
    result = run(tmp_path, rows)
    assert result.written, result.error_lines()
    school = Union.objects.get(code="SZ")
    branch = Union.objects.get(code="SZLK")
    group = Union.objects.get(name="物理组")
    assert (school.parent, branch.parent, group.parent) == (world.district, school, branch)
    assert (school.kind, branch.headcount, group.kind) == (UnionKind.UNION, 30, UnionKind.GROUP)
    assert group.path.startswith(branch.path) and branch.path.startswith(school.path)
    assert AuditEntry.objects.filter(
        action=AuditAction.IMPORT, summary__contains="新增 3 个"
    ).exists()


def test_reimport_updates_by_code(world: World, tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            ["高中部分工会（新名）", "YZ", "分工会", 45, "YZGZ"],
            ["高中语文组", "YZGZ", "工会小组", "", "YZGZYW"],
        ],
    )
    assert (result.plan.created, result.plan.updated, result.plan.unchanged) == (0, 1, 1)
    branch = Union.objects.get(code="YZGZ")
    assert (branch.name, branch.headcount) == ("高中部分工会（新名）", 45)


def test_a_union_can_be_moved_by_naming_another_parent(world: World, tmp_path: Path) -> None:
    result = run(tmp_path, [["高中语文组", "YZCZ", "工会小组", "", "YZGZYW"]])
    assert result.written, result.error_lines()
    group = Union.objects.get(code="YZGZYW")
    assert group.parent == world.other_branch
    assert group.path.startswith(world.other_branch.path)


def test_placement_rules_and_loops_are_row_errors(world: World, tmp_path: Path) -> None:
    before = Union.objects.count()
    rows = [
        ["小组下的分会", "YZGZYW", "分工会", "", ""],
        ["甲", "乙", "分工会", "", "JIA"],
        ["乙", "甲", "分工会", "", "YI"],
        ["无类型", "YZ", "", "", ""],
        ["重名", "YZ", "工会小组", "", ""],
        ["重名", "YZ", "工会小组", "", ""],
    ]
    result = run(tmp_path, rows)
    assert result.error_lines() == [
        "第2行「上级工会」：工会小组「高中语文组」下不能设分工会。",
        "第3行「上级工会」：上级关系出现循环（一个组织成了自己的上级）",
        "第4行「上级工会」：上级关系出现循环（一个组织成了自己的上级）",
        "第5行「类型」：必填，不能为空",
        "第7行「名称」：与第6行重复（同一上级下的同名组织）",
    ]
    assert Union.objects.count() == before


def test_scope_of_a_branch_chair(world: World, tmp_path: Path) -> None:
    ok = run(
        tmp_path, [["新小组", "", "工会小组", "", ""]], actor=world.officer, union=world.branch
    )
    assert ok.written and Union.objects.get(name="新小组").parent == world.branch
    outside = run(
        tmp_path,
        [["越界小组", "YZCZ", "工会小组", "", ""]],
        actor=world.officer,
        union=world.branch,
    )
    assert outside.error_lines() == ["第2行「上级工会」：「YZCZ」不在您可以导入的范围内"]
    taken = run(
        tmp_path, [["抢代码", "", "工会小组", "", "EZ"]], actor=world.officer, union=world.branch
    )
    assert taken.error_lines() == [
        "第2行「代码」：「EZ」已被「第二中学工会」使用，且不在您可以导入的范围内"
    ]


def test_export_reimports_unchanged(world: World, tmp_path: Path) -> None:
    from gonghui.common.imports.jobs import export_records

    spec = get_spec("unions")
    data, count = export_records(
        spec=spec, actor=None, qs=spec.export_queryset(None, None), root=None, full_pii=False
    )
    path = files.write(tmp_path / "export.xlsx", data)
    result = run_import(spec=spec, path=path, file_name="export.xlsx", actor=None, commit=False)
    assert result.ok, result.error_lines()
    assert (result.plan.created, result.plan.updated, result.plan.unchanged) == (0, 0, count)
