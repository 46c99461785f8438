"""Property: any valid roster, once imported, exports to a file that imports back
unchanged (0 new, 0 changed), with full or with masked personal numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gonghui.common.imports.columns import get_spec
from gonghui.common.imports.engine import run_import
from gonghui.common.imports.jobs import export_records
from gonghui.common.validators import with_check_digit
from gonghui.members.choices import (
    EDUCATIONS,
    ETHNICITIES,
    POLITICAL_STATUSES,
    EmploymentType,
    MemberStatus,
)
from tests.conftest import World

from . import files

pytestmark = pytest.mark.django_db

HAN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
TEXT = st.text(alphabet=HAN + "ABCxyz0123（）()·-", min_size=0, max_size=8).map(str.strip)
UNIONS = ["YZGZYW", "YZCZSX", "高中部分工会", "EZYY", "第一中学工会"]


@st.composite
def person(draw: Any, index: int) -> dict[str, Any]:
    birth = draw(st.dates(dt.date(1950, 1, 1), dt.date(2004, 12, 31)))
    male = draw(st.booleans())
    # Unique by construction: the order code carries the index.
    order = index * 2 + (1 if male else 0)
    number = with_check_digit(f"{draw(st.integers(110000, 659999))}{birth:%Y%m%d}{order:03d}")
    work = draw(
        st.one_of(st.none(), st.dates(birth + dt.timedelta(days=16 * 366), dt.date(2024, 12, 31)))
    )
    return {
        "姓名": draw(st.text(alphabet=HAN, min_size=2, max_size=4)),
        "性别": draw(st.sampled_from(["", "男" if male else "女"])),
        "身份证号": number,
        "出生日期": draw(st.sampled_from([None, birth])),
        "手机号": draw(st.sampled_from(["", f"13{index:09d}"])),
        "工号": draw(st.sampled_from(["", f"E{index:04d}"])),
        "所属工会": draw(st.sampled_from(UNIONS)),
        "部门": draw(TEXT),
        "职务": draw(TEXT),
        "用工形式": draw(st.sampled_from(["", *EmploymentType.labels])),
        "民族": draw(st.sampled_from(["", *ETHNICITIES[:10]])),
        "政治面貌": draw(st.sampled_from(["", *POLITICAL_STATUSES])),
        "学历": draw(st.sampled_from(["", *EDUCATIONS])),
        "参加工作日期": work,
        # 入会 no earlier than 16 (apply_fields refuses a join before birth).
        "入会日期": draw(
            st.one_of(
                st.none(),
                st.dates(
                    max(dt.date(1990, 1, 1), birth + dt.timedelta(days=16 * 366)),
                    dt.date(2024, 12, 31),
                ),
            )
        ),
        "会员状态": draw(st.sampled_from(["", *MemberStatus.labels])),
        "月工资": draw(st.one_of(st.none(), st.decimals(0, 99999, places=2).map(Decimal))),
    }


@st.composite
def rosters(draw: Any) -> list[dict[str, Any]]:
    size = draw(st.integers(1, 12))
    return [draw(person(i)) for i in range(size)]


def _import(path: Path, commit: bool) -> Any:
    return run_import(
        spec=get_spec("members"), path=path, file_name=path.name, actor=None, commit=commit
    )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(roster=rosters())
def test_export_then_import_changes_nothing(
    world: World, tmp_path: Path, roster: list[dict[str, Any]]
) -> None:
    headers = list(roster[0])
    path = files.xlsx(
        tmp_path / "gen.xlsx",
        [headers, *[list(p.values()) for p in roster]],
        text_columns=[2, 4, 5],
    )
    with transaction.atomic():
        first = _import(path, commit=True)
        assert first.written, first.error_lines()
        spec = get_spec("members")
        for full in (True, False):
            data, count = export_records(
                spec=spec, actor=None, qs=spec.export_queryset(None, None), root=None, full_pii=full
            )
            exported = files.write(tmp_path / f"export-{full}.xlsx", data)
            again = _import(exported, commit=False)
            assert again.ok, again.error_lines()
            plan = again.plan
            assert (plan.created, plan.updated, plan.unchanged) == (0, 0, count), plan.samples
        transaction.set_rollback(True)
