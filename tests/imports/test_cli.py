"""``gonghui import`` / ``gonghui export``: exit codes and Chinese errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gonghui.common.models import AuditAction, AuditEntry, ImportRecord
from gonghui.members.models import Member
from tests import factories as f
from tests.conftest import World

from . import files


@pytest.mark.django_db
def test_import_dry_run_then_import(world: World, tmp_path: Path) -> None:
    path = files.xlsx(
        tmp_path / "r.xlsx", [["姓名", "身份证号", "所属工会"], ["命令行", f.id_number(), ""]]
    )
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import", "members", str(path), "--union", "YZGZYW", "--dry-run", stdout=out, stderr=err
    )
    assert "检查通过（未写入）：共 1 行，新增 1，修改 0，未变 0。" in out.getvalue()
    assert "检查 1/1 行" in err.getvalue()  # progress goes to stderr
    assert not Member.objects.filter(name="命令行").exists()
    out = io.StringIO()
    call_command(
        "import", "members", str(path), "--union", "高中语文组", stdout=out, stderr=io.StringIO()
    )
    record = ImportRecord.objects.latest("pk")
    assert (
        f"已导入会员名册：共 1 行，新增 1，修改 0，未变 0（导入记录 #{record.pk}" in out.getvalue()
    )
    assert Member.objects.get(name="命令行").union == world.group
    assert (record.source, record.created_count, record.status) == ("cli", 1, "done")


@pytest.mark.django_db
def test_import_errors_are_printed_in_chinese(world: World, tmp_path: Path) -> None:
    path = files.xlsx(
        tmp_path / "bad.xlsx",
        [["姓名", "身份证号", "所属工会"], ["错号", "110105194912310022", "YZGZYW"]],
    )
    err = io.StringIO()
    marked = tmp_path / "marked.xlsx"
    with pytest.raises(CommandError) as exc:
        call_command(
            "import",
            "members",
            str(path),
            "--marked",
            str(marked),
            stdout=io.StringIO(),
            stderr=err,
        )
    assert exc.value.returncode == 1
    assert "第2行「身份证号」：校验位错误" in err.getvalue()
    assert "未写入任何数据" in err.getvalue()
    assert "校验位错误" in files.read_xlsx(marked.read_bytes())["会员名册"]["B2"].comment.text
    with pytest.raises(CommandError) as exc:
        call_command(
            "import",
            "members",
            str(files.write(tmp_path / "x.xlsx", files.executable())),
            stderr=io.StringIO(),
        )
    assert exc.value.returncode == 2
    with pytest.raises(CommandError, match="不认识的导入类型") as exc:
        call_command("import", "weather", str(path))
    assert exc.value.returncode == 2


@pytest.mark.django_db
def test_export_masks_unless_full_id_is_asked_and_audits(world: World, tmp_path: Path) -> None:
    from gonghui.common import crypto

    target = tmp_path / "out.xlsx"
    call_command("export", "members", str(target), "--union", "YZ", stdout=io.StringIO())
    ws = files.read_xlsx(target.read_bytes()).worksheets[0]
    headers = [c.value for c in ws[1]]
    id_col = headers.index("身份证号")
    values = {row[0].value: row[id_col].value for row in ws.iter_rows(min_row=2)}
    assert values["张三"] == world.member.id_number_masked
    assert "王五" not in values  # another school
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert "身份证号、手机号已脱敏" in entry.summary
    call_command("export", "members", str(target), "--full-id", stdout=io.StringIO())
    ws = files.read_xlsx(target.read_bytes()).worksheets[0]
    values = {row[0].value: row[id_col].value for row in ws.iter_rows(min_row=2)}
    assert values["张三"] == crypto.decrypt(world.member.id_number_enc)
    assert (
        "含完整身份证号"
        in AuditEntry.objects.filter(action=AuditAction.EXPORT).latest("pk").summary
    )


@pytest.mark.own_database
def test_exit_codes_of_the_real_command(tmp_path: Path) -> None:
    """The installed entry point, on its own SQLite file: 0 written, 1 row errors, 2 bad file."""
    env = {
        **os.environ,
        "GONGHUI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "GONGHUI_DATA_DIR": str(tmp_path / "data"),
    }

    def gonghui(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gonghui", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert gonghui("migrate", "-v", "0").returncode == 0
    tree = files.xlsx(
        tmp_path / "tree.xlsx",
        [["名称", "上级工会", "类型", "代码"], ["某校工会", "", "基层工会", "MX"]],
    )
    done = gonghui("import", "unions", str(tree), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "新增 1" in done.stdout
    bad = files.xlsx(tmp_path / "bad.xlsx", [["姓名", "身份证号"], ["某人", "123"]])
    failed = gonghui("import", "members", str(bad), "--union", "MX", "--quiet")
    assert failed.returncode == 1
    assert "第2行「身份证号」：应为 18 位，现为 3 位" in failed.stderr
    refused = gonghui(
        "import", "members", str(files.write(tmp_path / "a.xlsx", files.executable()))
    )
    assert refused.returncode == 2
    assert "可执行程序" in refused.stderr
