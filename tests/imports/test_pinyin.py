"""The roster's pinyin, read character by character for speed, reads like pypinyin."""

from __future__ import annotations

import random

from gonghui.members import services

# Common surname and given-name characters, and some that form words in pypinyin's phrase
# dictionary (长乐, 重庆, 单于…) where the reading depends on the neighbour.
CHARACTERS = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁"
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红玉梅琳晨雪飞鹏辉"
    "长乐重庆解放单于朴查区仇盖行银薄柏"
)


def test_names_read_by_character_as_pypinyin_reads_them_whole() -> None:
    rng = random.Random(20240305)
    names = {
        "".join(rng.choice(CHARACTERS) for _ in range(rng.choice((2, 3, 4)))) for _ in range(20000)
    }
    names |= {"欧阳修", "长孙无忌", "单于", "曾国藩", "阿依古丽·买买提", "Anna", "王A", "〇", "张"}
    for name in names:
        # _whole_name_pinyin is the reading through pypinyin for the whole name.
        assert services.name_pinyin(name) == services._whole_name_pinyin(name), name
