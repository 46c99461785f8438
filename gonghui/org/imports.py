"""组织架构 in Excel: 名称, 上级工会, 类型, 职工人数, 代码.

A row is the union with the same 代码; without a code, the union with the same name
under the same parent; else a new one. 上级工会 may name a union already in the tree
(by name or code) or one defined in another row of the same file, in any order: rows
are created parents first. The writes go through ``org.services`` (``union_create``,
``union_update``, ``union_move``), one transaction for the whole file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet

from gonghui.common.errors import ServiceError
from gonghui.common.imports.columns import Column, ColumnType, ImportSpec, register
from gonghui.common.imports.engine import PREVIEW_SAMPLES, Context, Plan, Row
from gonghui.common.imports.names import NameIndex
from gonghui.common.imports.progress import Progress
from gonghui.common.scope import Perm, can, visible

from .choices import UnionKind
from .models import Union, subtree_q
from .services import UnionImportPlan, UnionRow, check_placement, unions_import

COLUMNS: tuple[Column, ...] = (
    Column("name", "名称", aliases=("工会名称", "组织名称", "单位名称"), required=True,
           max_length=100, example="高中部分工会", width=20),
    Column("parent", "上级工会", ColumnType.LOOKUP, aliases=("上级", "上级组织", "所属工会"),
           example="第一中学工会", width=20,
           note="上级的名称或代码，可以是本表中另一行；留空则放在导入时选择的工会之下"),
    Column("kind", "类型", ColumnType.CHOICE, aliases=("组织类型", "层级"), required=True,
           choices=tuple(UnionKind.choices),
           choice_aliases={"基层工会委员会": UnionKind.UNION, "基层": UnionKind.UNION,
                           "工会委员会": UnionKind.UNION, "工会": UnionKind.UNION,
                           "联合工会": UnionKind.UNION, "分会": UnionKind.BRANCH,
                           "部门工会": UnionKind.BRANCH, "分工会委员会": UnionKind.BRANCH,
                           "小组": UnionKind.GROUP, "组": UnionKind.GROUP,
                           "班组": UnionKind.GROUP, "上级工会": UnionKind.FEDERATION,
                           "上级": UnionKind.FEDERATION, "教育工会": UnionKind.FEDERATION,
                           "工会联合会": UnionKind.FEDERATION},
           example="分工会", width=10),
    Column("headcount", "职工人数", ColumnType.INT, aliases=("职工数", "在职职工人数", "人数"),
           example="120", width=10, note="本单位在职职工总数，用于计算入会率"),
    Column("code", "代码", aliases=("组织代码", "编码", "工会代码"), max_length=32,
           example="YZGZ", width=12, note="本系统内唯一；留空则自动生成。已有代码的行会更新该组织",
           fold_width=True),
)  # fmt: skip


class _Node:
    """A union the file refers to: one already stored, or one a row will create."""

    def __init__(self, *, union: Union | None = None, row: int | None = None) -> None:
        self.union = union
        self.row = row


@register
class UnionImport(ImportSpec):
    kind = "unions"
    label = "组织架构"
    columns = COLUMNS
    sheet_hints = ("组织", "工会", "架构")
    perm = Perm.ORG_EDIT
    view_perm = Perm.ORG_VIEW
    notes = (
        "每行一个工会组织；上级可以写本表中另一行的名称或代码，顺序不限。",
        "有「代码」且系统中已有该代码的行会更新那个组织（名称、职工人数、上级）。",
        "整个文件全部正确才会导入；有任何一行出错都不会写入。",
    )

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        total = len(rows)
        qs: QuerySet[Union] = Union.objects.filter(archived_at__isnull=True)
        scope = qs
        if ctx.actor is not None:
            scope = visible(qs, ctx.actor, Perm.ORG_EDIT, via="")
        if ctx.default_union is not None:
            scope = scope.filter(subtree_q(ctx.default_union.path))
        in_scope = {u.pk: u for u in scope}
        by_code_db = {u.code.upper(): u for u in Union.objects.all()}
        by_name_db: dict[str, list[Union]] = defaultdict(list)
        for u in in_scope.values():
            by_name_db[u.name].append(u)

        # The rows' own codes and names, for parents defined in the file.
        code_row: dict[str, int] = {}
        name_rows: dict[str, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            code = (row.values.get("code") or "").upper()
            if code:
                if code in code_row:
                    ctx.error(row, "code", f"与第{rows[code_row[code]].number}行的代码重复")
                else:
                    code_row[code] = i
            name = row.values.get("name") or ""
            if name:
                name_rows[name].append(i)
        # Names written short (后勤 → 后勤服务分工会): of the file's rows and the stored unions.
        named: NameIndex[tuple[str, Union | int]] = NameIndex(
            [(n, i) for n, indexes in name_rows.items() for i in indexes]
            + [(u.name, u) for u in in_scope.values()],
            name=lambda item: item[0],
        )
        # Which stored union each row is: by code first.
        existing: dict[int, Union] = {}
        for i, row in enumerate(rows):
            code = (row.values.get("code") or "").upper()
            if code and code in by_code_db:
                union = by_code_db[code]
                if union.pk not in in_scope:
                    ctx.error(
                        row,
                        "code",
                        f"代码「{code}」已被「{union.name}」使用，且不在您可以导入的范围内",
                    )
                    continue
                existing[i] = union

        def node(i: int) -> Union | int:
            return existing.get(i, i)

        def resolve(text: str, row: Row) -> Union | int | bool | None:
            """The parent named ``text``: a stored union, the index of a row that creates
            one, ``None`` (no parent) or ``False`` after an error."""
            if not text:
                return ctx.default_union
            upper = text.upper()
            if upper in code_row:
                return node(code_row[upper])
            if upper in by_code_db:
                union = by_code_db[upper]
                if union.pk in in_scope:
                    return union
                ctx.error(row, "parent", f"「{text}」不在您可以导入的范围内")
                return False
            found: set[Union | int] = {node(i) for i in name_rows.get(text, [])}
            found.update(by_name_db.get(text, []))
            if not found:
                # Not a name in full: the one stored union whose name starts with it or
                # holds it (后勤 → 后勤服务分工会).
                partial = named.find(text)
                # A row and the stored union it updates are one candidate.
                nodes = {node(r) if isinstance(r, int) else r for _, r in partial.candidates}
                if partial.item is not None:
                    ref = partial.item[1]
                    nodes = {node(ref) if isinstance(ref, int) else ref}
                if len(nodes) > 1:
                    names = named.candidates_text(partial)
                    ctx.error(row, "parent", f"「{text}」可能是：{names}，请写完整的名称或代码")
                    return False
                found.update(nodes)
            if len(found) > 1:
                ctx.error(row, "parent", f"名称为「{text}」的组织不止一个，请改写代码")
                return False
            if found:
                return found.pop()
            if Union.objects.filter(name=text).exists():
                ctx.error(row, "parent", f"「{text}」不在您可以导入的范围内")
            else:
                ctx.error(row, "parent", f"找不到名称或代码为「{text}」的工会组织")
            return False

        parents: dict[int, Union | int | None] = {}
        seen: dict[tuple[Any, str], int] = {}
        by_pk = {u.pk: u for u in by_code_db.values()}
        for i, row in enumerate(rows):
            text = row.values.get("parent") or ""
            current = existing.get(i)
            stay = by_pk.get(current.parent_id) if current and current.parent_id else None
            if current is not None and (
                not text
                or (stay is not None and text.upper() in (stay.code.upper(), stay.name.upper()))
            ):
                # A stored union under its present parent (which may lie outside the
                # importer's scope, like the top of an exported subtree): no move.
                found: Union | int | bool | None = stay
            else:
                found = resolve(text, row)
            if found is False:
                continue
            assert not isinstance(found, bool)
            if found is None and ctx.actor is not None and i not in existing:
                ctx.error(row, "parent", "请填写上级工会（只有系统管理员可以新建最上级组织）")
                continue
            parents[i] = found
            name = row.values.get("name") or ""
            key = (found.pk if isinstance(found, Union) else ("row", found), name)
            if key in seen:
                ctx.error(
                    row, "name", f"与第{rows[seen[key]].number}行重复（同一上级下的同名组织）"
                )
                continue
            seen[key] = i
            # Without a code, the union of that name under that parent is this row.
            if i not in existing and isinstance(found, Union) and name:
                same = [u for u in by_name_db.get(name, []) if u.parent_id == found.pk]
                if same:
                    existing[i] = same[0]
        progress.update("check", total // 2, total)
        # Parents before children; a loop is an error on each of its rows.
        order: list[int] = []
        state: dict[int, int] = {}  # 1 visiting, 2 done

        def visit(i: int) -> bool:
            if state.get(i):
                return i in placed  # done, or (still visiting) a loop
            state[i] = 1
            parent = parents.get(i)
            ok = not isinstance(parent, int) or (parent in parents and visit(parent))
            state[i] = 2
            if ok:
                placed.add(i)
                order.append(i)
            return ok

        placed: set[int] = set()
        for i in range(len(rows)):
            if i in parents:
                visit(i)
        for i in parents:
            if i not in placed:
                parent = parents[i]
                assert isinstance(parent, int)
                if parent not in parents or parent in placed:
                    ctx.error(rows[i], "parent", f"上级所在的第{rows[parent].number}行有错误")
                else:
                    ctx.error(rows[i], "parent", "上级关系出现循环（一个组织成了自己的上级）")
        plan = UnionImportPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=total, payload=plan)
        kinds: dict[int, str] = {}
        for i in order:
            row = rows[i]
            v = row.values
            kind = v.get("kind") or ""
            kinds[i] = kind
            parent = parents[i]
            if isinstance(parent, int):
                parent_kind = kinds.get(parent, "")
                parent_obj: Union | None = Union(
                    name=rows[parent].values.get("name") or "", kind=parent_kind
                )
            else:
                parent_obj = parent
            parent_ref = parent
            current = existing.get(i)
            stays = current is not None and (
                parent is None or (isinstance(parent, Union) and parent.pk == current.parent_id)
            )
            if (
                not stays
                and isinstance(parent, Union)
                and ctx.actor is not None
                and not can(ctx.actor, Perm.ORG_EDIT, parent)
            ):
                ctx.error(row, "parent", f"您没有在「{parent.name}」下建立组织的权限")
                continue
            if kind and not stays:
                try:
                    check_placement(kind, parent_obj)
                except ServiceError as exc:
                    ctx.error(row, "parent" if parent_obj else "kind", " ".join(exc.messages))
            if current is not None:
                self._plan_update(row, ctx, current, parent_ref, plan, result)
            elif row.ok:
                plan.rows.append(
                    UnionRow(
                        row=row.number,
                        index=i,
                        name=v.get("name") or "",
                        kind=kind,
                        parent=parent_ref,
                        code=(v.get("code") or "").upper(),
                        headcount=v.get("headcount"),
                    )
                )
                result.created += 1
                if len(result.new_samples) < PREVIEW_SAMPLES:
                    result.new_samples.append(
                        {
                            "row": row.number,
                            "name": v.get("name"),
                            "union": self._parent_name(parent_ref, rows),
                        }
                    )
        progress.update("check", total, total)
        return result

    @staticmethod
    def _parent_name(parent: Union | int | None, rows: list[Row]) -> str:
        if isinstance(parent, Union):
            return parent.name
        if isinstance(parent, int):
            return str(rows[parent].values.get("name") or "")
        return ""

    def _plan_update(
        self,
        row: Row,
        ctx: Context,
        union: Union,
        parent: Union | int | None,
        plan: UnionImportPlan,
        result: Plan,
    ) -> None:
        v = row.values
        changes: list[list[str]] = []
        kind = v.get("kind")
        if kind and kind != union.kind:
            ctx.error(
                row, "kind", f"「{union.name}」现为{union.get_kind_display()}，类型不能通过导入修改"
            )
            return
        name = v.get("name") or union.name
        if name != union.name:
            changes.append(["名称", union.name, name])
        headcount = v.get("headcount")
        if headcount is not None and headcount != union.headcount:
            changes.append(["职工人数", str(union.headcount), str(headcount)])
        move = False
        if v.get("parent"):
            if isinstance(parent, int):
                move = True
            elif isinstance(parent, Union) and parent.pk != union.parent_id:
                if parent.path.startswith(union.path):
                    ctx.error(row, "parent", "不能移动到自身或自己的下级组织之下")
                    return
                move = True
            if move:
                changes.append(["上级工会", union.parent.name if union.parent else "", v["parent"]])
        if not row.ok:
            return
        if not changes:
            result.unchanged += 1
            return
        plan.rows.append(
            UnionRow(
                row=row.number,
                index=-1,
                name=name,
                kind=union.kind,
                parent=parent if move else None,
                code=union.code,
                headcount=headcount,
                existing=union,
                move=move,
            )
        )
        result.updated += 1
        if len(result.samples) < PREVIEW_SAMPLES:
            result.samples.append({"row": row.number, "name": union.name, "changes": changes})

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        unions_import(actor=ctx.actor, plan=plan.payload, progress=progress)

    # Export ------------------------------------------------------------------------

    export_via = ""

    def export_base(self) -> QuerySet[Union]:
        return Union.objects.filter(archived_at__isnull=True)

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        labels = dict(UnionKind.choices)
        keys = [c.key for c in columns]
        names = dict(Union.objects.values_list("pk", "code"))
        for u in qs.order_by("path"):
            values = {
                "name": u.name,
                "parent": names.get(u.parent_id, "") if u.parent_id else "",
                "kind": labels.get(u.kind, u.kind),
                "headcount": u.headcount,
                "code": u.code,
            }
            yield [values.get(k, "") for k in keys]
