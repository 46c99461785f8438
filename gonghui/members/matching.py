"""Finding the member a ledger row names: 身份证号, 工号 or 会员证号, or a unique name.

Every ledger that arrives as a sheet (慰问, 补助, 捐款, and later 签到, 荣誉) names its
people the same way, so the columns and the matching live here, once. A row is matched
by any one of 身份证号, 工号 and 会员证号 (when it gives several they must name the same
person); a name alone is enough only when exactly one member of the importer's scope
bears it. A masked 身份证号 (as exports write them) counts as not given.

The members of a whole file are loaded in a few queries (one per few thousand keys),
never one query per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import Q, QuerySet

from gonghui.common import crypto
from gonghui.common.imports.columns import Column, ColumnType
from gonghui.common.imports.engine import Context, Row
from gonghui.common.imports.normalize import is_masked
from gonghui.common.scope import Perm, visible
from gonghui.common.validators import id_number_problem, normalize_id_number
from gonghui.org.models import subtree_q

from .choices import CURRENT_STATUSES
from .models import Member

#: The columns a ledger sheet names its member with (keys: name, id_number,
#: employee_no, card_no); put them into the spec's own column list.
MEMBER_COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", aliases=("会员姓名", "职工姓名", "被慰问人", "捐款人"), max_length=50,
           example="王芳", width=10, note="只填姓名时，须在本单位唯一；重名请同时填工号等"),
    Column("id_number", "身份证号", ColumnType.ID_NUMBER,
           aliases=("身份证号码", "证件号码", "身份证", "公民身份号码"), example="", width=21,
           note="身份证号、工号、会员证号填一项即可"),
    Column("employee_no", "工号", aliases=("职工号", "员工号", "员工编号", "人员编号"),
           max_length=32, example="A0001", width=10, fold_width=True),
    Column("card_no", "会员证号", aliases=("会员证号码", "会员编号"), max_length=32, example="",
           width=14, fold_width=True),
)  # fmt: skip

_CHUNK = 2000
_KEYS = ("id_number", "employee_no", "card_no")


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class MemberMatcher:
    """The members the rows of one file name, within what the importer may reach.

    ``perm`` is the permission the import needs on each member's union (e.g.
    ``CARE_EDIT``); ``ctx.default_union`` narrows the scope to its subtree.
    """

    def __init__(self, ctx: Context, rows: Sequence[Row], perm: Perm) -> None:
        self.ctx = ctx
        qs: QuerySet[Member] = Member.objects.select_related("union")
        if ctx.actor is not None:
            qs = visible(qs, ctx.actor, perm)
        if ctx.default_union is not None:
            qs = qs.filter(subtree_q(ctx.default_union.path, "union__path"))
        hashes: set[str] = set()
        numbers: set[str] = set()
        cards: set[str] = set()
        names: set[str] = set()
        self._hash_of: dict[str, str] = {}
        for row in rows:
            v = row.values
            number = v.get("id_number") or ""
            if number and not is_masked(number) and not id_number_problem(number):
                normal = normalize_id_number(number)
                digest = self._hash_of.get(normal)
                if digest is None:
                    digest = crypto.lookup_hash(normal, purpose="id")
                    self._hash_of[normal] = digest
                hashes.add(digest)
            if v.get("employee_no"):
                numbers.add(v["employee_no"])
            if v.get("card_no"):
                cards.add(str(v["card_no"]).upper())
            if v.get("name") and not any(v.get(k) for k in _KEYS):
                names.add(v["name"])
        found: dict[int, Member] = {}
        for field, values in (
            ("id_number_hash", hashes),
            ("employee_no", numbers),
            ("card_no", cards),
            ("name", names),
        ):
            for chunk in _chunks(sorted(values)):
                for m in qs.filter(Q(**{f"{field}__in": chunk})):
                    found[m.pk] = m
        self.by_hash: dict[str, list[Member]] = defaultdict(list)
        self.by_number: dict[str, list[Member]] = defaultdict(list)
        self.by_card: dict[str, list[Member]] = defaultdict(list)
        self.by_name: dict[str, list[Member]] = defaultdict(list)
        for m in found.values():
            if m.id_number_hash:
                self.by_hash[m.id_number_hash].append(m)
            if m.employee_no:
                self.by_number[m.employee_no].append(m)
            if m.card_no:
                self.by_card[m.card_no.upper()].append(m)
            self.by_name[m.name].append(m)

    @staticmethod
    def _prefer_current(members: list[Member]) -> list[Member]:
        """The same person may have left one union and joined another: the current
        entry is meant. Others only when there is no current one."""
        current = [m for m in members if m.status in CURRENT_STATUSES]
        return current or members

    def match(self, row: Row) -> Member | None:
        """The member ``row`` names, or ``None`` after recording the row's error."""
        v = row.values
        ctx = self.ctx
        picks: list[tuple[str, Member]] = []
        number = v.get("id_number") or ""
        if number and not is_masked(number):
            problem = id_number_problem(number)
            if problem:
                ctx.error(row, "id_number", problem)
                return None
            hits = self._prefer_current(
                self.by_hash.get(self._hash_of[normalize_id_number(number)], [])
            )
            if not hits:
                ctx.error(row, "id_number", "名册中（您可以导入的范围内）没有这个身份证号的会员")
                return None
            picks.append(("id_number", hits[0]))
        for key, index, label in (
            ("employee_no", self.by_number, "工号"),
            ("card_no", self.by_card, "会员证号"),
        ):
            value = v.get(key) or ""
            if not value:
                continue
            hits = self._prefer_current(index.get(value.upper() if key == "card_no" else value, []))
            if not hits:
                ctx.error(row, key, f"名册中（您可以导入的范围内）没有{label}为「{value}」的会员")
                return None
            if len(hits) > 1:
                where = "、".join(f"{m.name}（{m.union.name}）" for m in hits[:3])
                ctx.error(
                    row, key, f"{label}「{value}」对应多位会员（{where}），请改填身份证号或会员证号"
                )
                return None
            picks.append((key, hits[0]))
        name = v.get("name") or ""
        if picks:
            member = picks[0][1]
            for key, other in picks[1:]:
                if other.pk != member.pk:
                    first = ctx.spec.column(picks[0][0]).header
                    ctx.error(
                        row,
                        key,
                        f"与「{first}」不是同一位会员（{first}对应{member.name}，这一项对应{other.name}）",
                    )
                    return None
            if name and name != member.name:
                ctx.error(
                    row,
                    "name",
                    f"与名册不符：按{ctx.spec.column(picks[0][0]).header}找到的会员是「{member.name}」",
                )
                return None
            return member
        if not name:
            ctx.error(row, None, "请填写会员：身份证号、工号、会员证号填一项，或填写姓名")
            return None
        hits = self._prefer_current(self.by_name.get(name, []))
        if not hits:
            ctx.error(row, "name", f"名册中（您可以导入的范围内）没有名为「{name}」的会员")
            return None
        if len(hits) > 1:
            where = "、".join(m.union.name for m in hits[:3])
            ctx.error(
                row,
                "name",
                f"有 {len(hits)} 位会员名为「{name}」（{where}），请同时填写工号、会员证号或身份证号",
            )
            return None
        return hits[0]


def member_cells(member: Member | None, fallback_name: str = "") -> dict[str, Any]:
    """How an export writes a member in the :data:`MEMBER_COLUMNS` (身份证号 masked), so
    that the file imports back to the same person."""
    if member is None:
        return {"name": fallback_name, "id_number": "", "employee_no": "", "card_no": ""}
    return {
        "name": member.name,
        "id_number": member.id_number_masked,
        "employee_no": member.employee_no,
        "card_no": member.card_no,
    }
