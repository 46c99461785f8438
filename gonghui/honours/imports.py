"""荣誉 in Excel: 获奖者, 类型 (个人 / 集体), 荣誉称号, 级别, 授予单位, 日期, and for a person
the member columns (身份证号, 工号 or 会员证号; or a name unique in the union).

A collective honour whose 获奖者 names a union in the importer's reach belongs to that
union; another collective (a 教研组 that is no union) to the union imported into. A row already recorded (the
same recipient, title and date) is unchanged, so a sheet imported twice adds nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet

from gonghui.common.imports.columns import Column, ColumnType, ImportSpec, register
from gonghui.common.imports.engine import Context, Plan, Row
from gonghui.common.imports.names import NameIndex, name_key, union_index
from gonghui.common.imports.progress import Progress
from gonghui.common.scope import Perm, visible
from gonghui.members.matching import MEMBER_COLUMNS, MemberMatcher, member_cells
from gonghui.org.models import Union, subtree_q

from . import services
from .choices import HonourKind, Level
from .models import Honour

_NAME = dataclasses.replace(
    MEMBER_COLUMNS[0],
    header="获奖者",
    aliases=("姓名", "获奖人", "获奖集体", "获奖单位", "获奖者姓名"),
    note="个人填姓名（可同时填身份证号、工号或会员证号）；集体填集体名称",
    example="王芳",
)

COLUMNS: tuple[Column, ...] = (
    _NAME,
    Column(
        "kind",
        "类型",
        ColumnType.CHOICE,
        aliases=("个人/集体", "荣誉类型"),
        choices=tuple(HonourKind.choices),
        choice_aliases={
            "个人荣誉": "individual",
            "先进个人": "individual",
            "个人奖": "individual",
            "本人": "individual",
            "集体荣誉": "collective",
            "先进集体": "collective",
            "集体奖": "collective",
            "团体": "collective",
            "团队": "collective",
            "单位": "collective",
            "部门": "collective",
            "班组": "collective",
        },
        example="个人",
        width=8,
        note="留空为个人（获奖者是工会组织的全名时为集体）",
    ),
    Column(
        "title",
        "荣誉称号",
        aliases=("称号", "荣誉", "奖项"),
        required=True,
        max_length=100,
        example="优秀教育工作者",
        width=20,
    ),
    Column(
        "level",
        "级别",
        ColumnType.CHOICE,
        aliases=("荣誉级别", "等级"),
        required=True,
        choices=tuple(Level.choices),
        choice_aliases={
            "国家": "national",
            "全国": "national",
            "全国性": "national",
            "中央": "national",
            "国家部委": "national",
            "省级": "provincial",
            "省部": "provincial",
            "部级": "provincial",
            "省": "provincial",
            "省级部门": "provincial",
            "市": "city",
            "地市级": "city",
            "地级": "city",
            "地市": "city",
            "市厅级": "city",
            "市级部门": "city",
            "区级": "county",
            "县级": "county",
            "区县": "county",
            "县区": "county",
            "县区级": "county",
            "区": "county",
            "县": "county",
            "乡镇": "county",
            "系统": "sector",
            "行业": "sector",
            "系统级": "sector",
            "行业级": "sector",
            "校级": "unit",
            "厂级": "unit",
            "院级": "unit",
            "公司级": "unit",
            "局级": "unit",
            "单位": "unit",
            "本单位级": "unit",
        },
        example="市级",
        width=10,
    ),
    Column(
        "awarded_by",
        "授予单位",
        aliases=("颁发单位", "表彰单位"),
        max_length=100,
        example="市总工会",
        width=16,
    ),
    Column(
        "date",
        "日期",
        ColumnType.DATE,
        aliases=("授予日期", "获奖日期", "表彰日期", "时间"),
        required=True,
        example="2024-04-28",
        width=12,
    ),
    *MEMBER_COLUMNS[1:],
)


@register
class HonourImport(ImportSpec):
    kind = "honours"
    label = "荣誉"
    columns = COLUMNS
    sheet_hints = ("荣誉", "表彰", "获奖")
    perm = Perm.HONOUR_EDIT
    view_perm = Perm.HONOUR_VIEW
    notes = (
        "个人荣誉用身份证号、工号、会员证号中任一项确定会员；只填姓名时须在导入范围内唯一。",
        "集体荣誉的「获奖者」是系统中工会组织的名称（或能唯一确定它的几个字）时，归入该组织；"
        "其他集体（如某教研组）归入导入时选择的工会组织。",
        "已登记过的同一荣誉（同一获奖者、同一称号、同一天）会被跳过。",
        "整个文件全部正确才会导入；有任何一行出错都不会写入。",
    )

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        unions = union_index(self._in_reach(ctx))
        for r in rows:
            # 类型 left blank, and 获奖者 is the full name of a union (and no member's
            # number is given): a collective honour, as the sheet plainly means.
            v = r.values
            if (
                not v.get("kind")
                and v.get("name")
                and not any(v.get(k) for k in ("id_number", "employee_no", "card_no"))
                and unions.by_key.get(name_key(v["name"]))
            ):
                v["kind"] = HonourKind.COLLECTIVE
        people = [
            r
            for r in rows
            if (r.values.get("kind") or HonourKind.INDIVIDUAL) == HonourKind.INDIVIDUAL
        ]
        matcher = MemberMatcher(ctx, people, self.perm)
        plan = services.HonourPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=len(rows), payload=plan)
        # An honour is the same one when it goes to the same member (or, for a
        # collective, the same name in the same union) with the same title on the same day.
        stored = Honour.objects.filter(
            union__in=Union.objects.filter(subtree_q(ctx.default_union.path)).values("pk")
            if ctx.default_union
            else Union.objects.values("pk")
        ).values_list("member_id", "union_id", "recipient", "title", "date")
        existing = {(m, t, d) if m else (u, r, t, d) for m, u, r, t, d in stored}
        seen: dict[tuple[Any, ...], int] = {}
        today = dt.date.today()
        for row in rows:
            v = row.values
            kind = v.get("kind") or HonourKind.INDIVIDUAL
            if v.get("date") and v["date"] > today:
                ctx.error(row, "date", "不能晚于今天")
            member = None
            if kind == HonourKind.INDIVIDUAL:
                member = matcher.match(row)
                if member is None or not row.ok:
                    continue
                union, name = member.union, member.name
            else:
                found = self._collective(row, ctx, unions)
                if found is None or not row.ok:
                    continue
                union, name = found
            key: tuple[Any, ...] = (
                (member.pk, v["title"], v["date"])
                if member is not None
                else (union.pk, name, v["title"], v["date"])
            )
            if key in seen:
                ctx.error(row, None, f"与第{seen[key]}行重复")
                continue
            seen[key] = row.number
            if key in existing:
                result.unchanged += 1
                continue
            plan.rows.append(
                Honour(
                    union=union,
                    kind=kind,
                    member=member,
                    recipient=name[:100],
                    title=v["title"],
                    level=v["level"],
                    awarded_by=v.get("awarded_by") or "",
                    date=v["date"],
                )
            )
            result.created += 1
        return result

    def _in_reach(self, ctx: Context) -> list[Union]:
        qs: QuerySet[Union] = Union.objects.filter(archived_at__isnull=True)
        if ctx.actor is not None:
            qs = visible(qs, ctx.actor, self.perm, via="")
        if ctx.default_union is not None:
            qs = qs.filter(subtree_q(ctx.default_union.path))
        return list(qs)

    def _collective(
        self, row: Row, ctx: Context, unions: NameIndex[Union]
    ) -> tuple[Union, str] | None:
        """Where a collective honour goes, and the recipient's name as stored: the union
        its 获奖者 names (后勤分工会, the school), else the union imported into."""
        text = row.values.get("name") or ""
        if not text:
            ctx.error(row, "name", "请填写获奖集体的名称")
            return None
        found = unions.find(text)
        if found.item is not None:
            return found.item, found.item.name
        if found.ambiguous:
            shown = unions.candidates_text(found, label=lambda u: f"{u.name}（代码 {u.code}）")
            ctx.error(row, "name", f"「{text}」可能是：{shown}，请写完整的组织名称")
            return None
        if ctx.default_union is None:
            ctx.error(
                row,
                "name",
                f"「{text}」不是您可以导入的范围内的工会组织：请写工会组织的名称，"
                "或导入时指定这项集体荣誉归入的工会（网页上选择「导入到」，命令行用 --union）",
            )
            return None
        return ctx.default_union, text

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        services.honours_import(actor=ctx.actor, plan=plan.payload)

    def export_base(self) -> QuerySet[Honour]:
        return Honour.objects.all()

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        keys = [c.key for c in columns]
        kinds, levels = dict(HonourKind.choices), dict(Level.choices)
        for h in qs.select_related("member").order_by("date", "id").iterator(2000):
            cells = {
                **member_cells(h.member, h.recipient),
                "kind": kinds[h.kind],
                "title": h.title,
                "level": levels[h.level],
                "awarded_by": h.awarded_by,
                "date": h.date,
            }
            yield [cells.get(k, "") for k in keys]
