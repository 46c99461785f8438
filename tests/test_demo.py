"""``gonghui demo --no-serve``: a fresh data folder becomes a realistic demo union, and a
second run reuses it. Runs the real console script, as a new user would (about 10 s)."""

from __future__ import annotations

import re
import sqlite3
import stat
from pathlib import Path

import pytest

from . import clirun

COUNTS = {
    "unions": "SELECT count(*) FROM org_union",
    "members": "SELECT count(*) FROM members_member",
    "current": "SELECT count(*) FROM members_member WHERE status IN ('active', 'retained')",
    "changes": "SELECT count(*) FROM members_membershipchange",
    "users": "SELECT count(*) FROM org_user",
    "people": "SELECT count(DISTINCT id_number_hash) FROM members_member",
    "cards": "SELECT count(DISTINCT card_no) FROM members_member",
}


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {k: conn.execute(sql).fetchone()[0] for k, sql in COUNTS.items()}


def _check_what_a_chair_notices(db: Path) -> None:
    """What a chair notices first in the demo is as she expects (issue 10)."""
    with sqlite3.connect(db) as conn:
        nodes = {
            pk: (name, kind, parent, headcount, path)
            for pk, name, kind, parent, headcount, path in conn.execute(
                "SELECT id, name, kind, parent_id, headcount, path FROM org_union"
            )
        }
        on_roster = dict(
            conn.execute(
                "SELECT union_id, count(*) FROM members_member WHERE status = 'active' "
                "GROUP BY union_id"
            )
        )
        linked = dict(
            conn.execute(
                "SELECT u.username, o.path FROM org_user u "
                "JOIN members_member m ON m.user_id = u.id JOIN org_union o ON o.id = m.union_id"
            )
        )
    # Every 工会小组 knows its staff: at least the members on its roster.
    groups = {pk: n for pk, n in nodes.items() if n[1] == "group"}
    assert len(groups) == 23
    for pk, (name, _, _, headcount, _) in groups.items():
        assert headcount >= max(1, on_roster.get(pk, 0)), (name, headcount, on_roster.get(pk))
    # Above the groups, a node's staff are those of the nodes under it: the branches of
    # 第一中学 add up to the school's 236, the schools to the district's.
    for pk, (name, kind, _, headcount, _) in nodes.items():
        if kind != "group":
            below = sum(n[3] for n in nodes.values() if n[2] == pk)
            assert headcount == below + on_roster.get(pk, 0), name
    first = next(n for n in nodes.values() if n[0] == "滨江区第一中学工会")
    high_school = next(n for n in nodes.values() if n[0] == "高中部分工会")
    assert first[3] == 236
    # The officers are members of their union too, their logins linked to their records
    # (the district's chair has no union of her own in the demo to be a member of).
    for login in ("zhuxi", "zuzhi", "caiwu"):
        assert linked.get(login, "").startswith(first[4]), login
    assert linked.get("fengonghui", "").startswith(high_school[4])
    assert linked["huiyuan"].startswith(high_school[4])


@pytest.mark.own_database
def test_demo_builds_once_and_is_safe_to_run_again(tmp_path: Path) -> None:
    # No keys and no database in the environment: the demo makes and keeps its own.
    environ = clirun.env(
        GONGHUI_SECRET_KEY=None, GONGHUI_ENCRYPTION_KEY=None, GONGHUI_DATA_DIR=str(tmp_path)
    )

    first = clirun.run("demo", "--no-serve", environ=environ, timeout=300)

    assert first.returncode == 0, first.stderr
    out = first.stdout
    made = re.search(r"已生成演示数据：(\d+) 所学校，(\d+) 名会员", out)
    assert made is not None, out
    assert int(made.group(1)) == 3
    assert 550 <= int(made.group(2)) <= 650
    assert "网址：http://127.0.0.1:8000/" in out
    for login in ("zhuxi", "fengonghui", "huiyuan", "zuzhi", "quzong"):
        assert f"登录名 {login}，密码 Gonghui#2026" in out
    db = tmp_path / "gonghui.sqlite3"
    counts = _counts(db)
    assert counts["members"] == int(made.group(2))
    # One person, one row; one card each; a year of changes beyond the joins.
    assert counts["people"] == counts["members"] == counts["cards"]
    assert counts["changes"] > counts["members"]
    assert counts["current"] < counts["members"]
    _check_what_a_chair_notices(db)
    for name in ("secret_key", "encryption_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600

    second = clirun.run("demo", "--no-serve", environ=environ, timeout=300)

    assert second.returncode == 0, second.stderr
    assert "演示数据已存在，直接使用" in second.stdout
    assert "登录名 zhuxi，密码 Gonghui#2026" in second.stdout
    assert "登录名 huiyuan" in second.stdout
    assert _counts(db) == counts
