"""A drop-down whose longest option would be cut off in one grid column takes two."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from gonghui.care.forms import PolicyForm
from gonghui.common.forms import needs_two_columns, text_ems
from gonghui.honours.forms import HonourForm
from tests.conftest import World


def test_text_is_measured_in_ems_chinese_one_latin_about_half() -> None:
    assert text_ems("开支标准") == 4
    assert text_ems("3 人") == 2.1


def test_the_long_options_of_the_spending_standards_take_two_columns() -> None:
    form = PolicyForm()
    assert needs_two_columns(form["min_handlers"])  # 3 人：审核、批准、发放各由一人办理
    assert not needs_two_columns(form["enforcement"])
    assert not needs_two_columns(form["preset"])
    assert not needs_two_columns(form["festival_goods_only"])  # a checkbox


def test_a_union_list_is_not_read_twice_to_be_measured(world: World) -> None:
    form = HonourForm(viewer=world.chair)
    with CaptureQueriesContext(connection) as ctx:
        assert not needs_two_columns(form["union"])
    assert ctx.captured_queries == []
