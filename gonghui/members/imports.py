"""会员名册 in Excel: its columns, how a row finds its member, what an import changes.

Upsert: a row is the member with the same 身份证号 (through the look-up hash); else the
member with the same 工号 in the same 基层工会; else the one with the same 会员证号;
else a new member. A blank cell never clears what is stored, and a masked 身份证号 or
手机号 (as an export without full view writes them) leaves the stored number as it is,
so an exported file imports back unchanged.

The rules of a member's data live in ``members.services.apply_fields``; this module
only reads rows, finds their members in a few queries and plans the writes, which
``members.services.members_import`` carries out.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection
from django.db.models import QuerySet
from django.db.models.base import ModelState
from django.http import QueryDict

from gonghui.common import crypto
from gonghui.common.imports.columns import Column, ColumnType, ImportSpec, register
from gonghui.common.imports.engine import PREVIEW_SAMPLES, Context, Plan, Row, RowStream
from gonghui.common.imports.names import resolve_union, union_index
from gonghui.common.imports.normalize import is_masked
from gonghui.common.imports.progress import Progress
from gonghui.common.scope import Perm, can, visible
from gonghui.common.validators import normalize_id_number, normalize_phone
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User, subtree_q

from .choices import (
    CURRENT_STATUSES,
    EDUCATIONS,
    ETHNICITIES,
    POLITICAL_STATUSES,
    STATUS_AFTER,
    TRANSITIONS,
    ChangeKind,
    EmploymentType,
    Gender,
    MemberStatus,
)
from .models import Member
from .services import (
    MemberFields,
    MemberImportPlan,
    NewMember,
    UpdatedMember,
    apply_fields,
    members_import,
    union_trail,
)

_CHUNK = 5000
#: Rows checked together: their stored members are looked up in one go, then dropped.
_BATCH = 5000
#: Starts a placeholder token (see ``MemberImport._defer``); no Fernet token does.
_PENDING = "\x00pending:"

COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", aliases=("会员姓名", "职工姓名", "名字"), required=True,
           max_length=50, example="王芳", width=10),
    Column("gender", "性别", ColumnType.CHOICE, choices=tuple(Gender.choices),
           choice_aliases={"男性": "M", "女性": "F", "男士": "M", "女士": "F", "男性公民": "M",
                           "女性公民": "F"}, example="女", width=6,
           note="男或女；填了身份证号可留空，按身份证号判断"),
    Column("id_number", "身份证号", ColumnType.ID_NUMBER,
           aliases=("身份证号码", "证件号码", "身份证", "公民身份号码", "证件号", "身份证件号码"),
           example="11010519491231002X", width=21,
           note="18 位；请把该列设为「文本」格式，否则 Excel 会丢掉末尾几位。"
           "含 * 的脱敏号码（如导出文件中的）表示不修改"),
    Column("birth_date", "出生日期", ColumnType.DATE, aliases=("出生年月日", "生日"),
           example="1949-12-31", width=12, note="填了身份证号可留空"),
    Column("phone", "手机号", ColumnType.PHONE,
           aliases=("手机号码", "手机", "联系电话", "移动电话", "电话"),
           example="13812345678", width=14, note="11 位手机号；含 * 的脱敏号码表示不修改"),
    Column("employee_no", "工号", aliases=("职工号", "员工号", "员工编号", "工作证号", "人员编号"),
           max_length=32, example="A0001", width=10, fold_width=True),
    Column("union", "所属工会", ColumnType.LOOKUP,
           aliases=("所在工会", "工会", "所属组织", "工会组织", "所属分工会", "所属小组", "工会小组"),
           required=True, example="第一中学工会", width=18,
           note="工会组织的名称或代码；留空则用导入时选择的工会"),
    Column("department", "部门", aliases=("所在部门", "科室", "部门科室"), max_length=100,
           example="语文组", width=12),
    Column("job_title", "职务", aliases=("职务职称", "岗位", "职位"), max_length=100,
           example="教师", width=10),
    Column("employment_type", "用工形式", ColumnType.CHOICE,
           aliases=("用工类型", "用工性质", "人员类别"),
           choices=tuple(EmploymentType.choices),
           choice_aliases={
               "正式": "staff", "正式工": "staff", "正式职工": "staff", "编内": "staff",
               "在编人员": "staff", "编制内": "staff", "事业编": "staff", "事业编制": "staff",
               "行政编": "staff", "行政编制": "staff", "公务员": "staff",
               "合同": "contract", "合同工": "contract", "劳动合同": "contract",
               "合同制职工": "contract", "聘用": "contract", "聘用制": "contract",
               "聘任制": "contract", "人事代理": "contract",
               "派遣": "dispatched", "派遣工": "dispatched", "劳务派遣工": "dispatched",
               "临时": "temporary", "临时工": "temporary", "临聘": "temporary",
               "临时聘用": "temporary", "制度外": "temporary", "编外": "temporary",
               "编制外": "temporary", "返聘": "rehired", "返聘人员": "rehired",
               "退休返聘人员": "rehired",
           },
           example="在编", width=12),
    Column("ethnicity", "民族", ColumnType.CHOICE, choices=tuple((e, e) for e in ETHNICITIES),
           choice_aliases={e.removesuffix("族"): e for e in ETHNICITIES if len(e) > 2},
           example="汉族", width=8),
    Column("political_status", "政治面貌", ColumnType.CHOICE,
           choices=tuple((p, p) for p in POLITICAL_STATUSES),
           choice_aliases={"党员": "中共党员", "共产党员": "中共党员",
                           "中国共产党党员": "中共党员", "预备党员": "中共预备党员",
                           "团员": "共青团员", "共青团": "共青团员", "无党派": "无党派人士",
                           "普通群众": "群众", "无": "群众"},
           example="中共党员", width=12),
    Column("education", "学历", ColumnType.CHOICE, aliases=("文化程度", "最高学历"),
           choices=tuple((e, e) for e in EDUCATIONS),
           choice_aliases={"博士": "博士研究生", "博士后": "博士研究生",
                           "硕士": "硕士研究生", "研究生": "硕士研究生", "本科": "大学本科",
                           "学士": "大学本科", "大学本科毕业": "大学本科", "大专": "大学专科",
                           "专科": "大学专科", "高职": "大学专科", "中专": "中专/中技",
                           "中技": "中专/中技", "技校": "中专/中技", "职高": "中专/中技",
                           "中等专科": "中专/中技", "普高": "高中", "高中毕业": "高中",
                           "初中": "初中及以下", "小学": "初中及以下", "初中以下": "初中及以下",
                           "小学及以下": "初中及以下"},
           example="大学本科", width=12),
    Column("work_start_date", "参加工作日期", ColumnType.DATE,
           aliases=("参加工作时间", "工作时间"), example="1972-07-01", width=14),
    Column("join_date", "入会日期", ColumnType.DATE, aliases=("入会时间",),
           example="1975-03-05", width=12, note="新会员留空则为导入当天"),
    Column("card_no", "会员证号", aliases=("会员证号码", "会员编号"), max_length=32,
           example="", width=14, note="新会员留空则自动编号", fold_width=True),
    Column("status", "会员状态", ColumnType.CHOICE, aliases=("状态", "会籍状态"),
           choices=tuple(MemberStatus.choices),
           choice_aliases={"在会": "active", "正常": "active", "在职": "active",
                           "在岗": "active", "有效": "active", "退休": "retained",
                           "离退休": "retained", "已退休": "retained", "转出": "transferred_out",
                           "调出": "transferred_out", "调离": "transferred_out",
                           "退会": "withdrawn", "去世": "deceased", "死亡": "deceased",
                           "病故": "deceased", "身故": "deceased"},
           example="在册", width=10,
           note="留空为在册；其他状态会同时登记相应的会籍变动"),
    Column("monthly_wage", "月工资", ColumnType.DECIMAL,
           aliases=("月工资（元）", "月工资(元)", "工资", "基本工资", "月基本工资", "会费基数"),
           example="8500.00", width=10, note="元，会费基数"),
    Column("join_kind", "入会方式", ColumnType.CHOICE,
           choices=((ChangeKind.JOIN, "入会"), (ChangeKind.TRANSFER_IN, "转入")),
           choice_aliases={"新入会": ChangeKind.JOIN, "新会员": ChangeKind.JOIN,
                           "调入": ChangeKind.TRANSFER_IN, "转会": ChangeKind.TRANSFER_IN},
           example="入会", width=10, export=False, note="只用于新会员：入会或转入（留空为入会）"),
    Column("other_org", "转入来源", aliases=("原单位", "原工会"), max_length=100,
           example="", width=16, export=False, note="转入时填写原单位工会"),
)  # fmt: skip

#: Compared one by one to tell a changed row from an unchanged one.
_PLAIN = ("name", "employee_no", "department", "job_title", "ethnicity", "political_status",
          "education", "employment_type", "gender")  # fmt: skip
_DATES = ("birth_date", "work_start_date", "join_date")
#: Database columns an import may change, with the label shown in the preview.
_DB_FIELDS = (
    "union_id", "name", "name_pinyin", "name_initials", "name_sort", "gender",
    "id_number_enc", "id_number_hash", "id_number_masked", "birth_date", "phone_enc",
    "phone_hash", "phone_masked", "employee_no", "department", "job_title",
    "employment_type", "ethnicity", "political_status", "education", "work_start_date",
    "join_date", "card_no", "status", "monthly_wage",
)  # fmt: skip
_SHOWN = {
    "union_id": "所属工会", "name": "姓名", "gender": "性别", "id_number_masked": "身份证号",
    "birth_date": "出生日期", "phone_masked": "手机号", "employee_no": "工号",
    "department": "部门", "job_title": "职务", "employment_type": "用工形式", "ethnicity": "民族",
    "political_status": "政治面貌", "education": "学历", "work_start_date": "参加工作日期",
    "join_date": "入会日期", "card_no": "会员证号", "status": "会员状态",
    "monthly_wage": "月工资",
}  # fmt: skip
#: The field behind each apply_fields error key, for the column it is reported under.
_ERROR_COLUMN = {"id_number": "id_number", "phone": "phone", "union": "union"}

#: The change that takes a member from one status to another, preferred first.
_KIND_ORDER = (
    ChangeKind.RESTORE, ChangeKind.TRANSFER_IN, ChangeKind.JOIN, ChangeKind.RETIRE,
    ChangeKind.TRANSFER_OUT, ChangeKind.WITHDRAW, ChangeKind.DEATH,
)  # fmt: skip


def change_kind(old: str, new: str) -> str | None:
    """The membership change from status ``old`` to ``new`` (``""``: not on the roster)."""
    for kind in _KIND_ORDER:
        if kind in TRANSITIONS[old] and STATUS_AFTER[kind] == new:
            return kind
    return None


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _display(field: str, value: Any, unions: dict[int, str]) -> str:
    if value is None or value == "":
        return ""
    if field == "union_id":
        return unions.get(value, str(value))
    if field == "gender":
        return Gender(value).label if value in Gender.values else str(value)
    if field == "employment_type":
        return EmploymentType(value).label if value in EmploymentType.values else str(value)
    if field == "status":
        return MemberStatus(value).label if value in MemberStatus.values else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Unions:
    """The unions rows may name: by code and by name, within the importer's reach."""

    def __init__(self, ctx: Context) -> None:
        qs: QuerySet[Union] = Union.objects.filter(archived_at__isnull=True)
        if ctx.actor is not None:
            qs = visible(qs, ctx.actor, Perm.IMPORT, via="")
        if ctx.default_union is not None:
            qs = qs.filter(subtree_q(ctx.default_union.path))
        self.in_scope = list(qs.only("id", "name", "code", "kind", "path", "archived_at"))
        self.index = union_index(self.in_scope)
        self.by_id = {u.pk: u for u in self.in_scope}
        self._base: dict[int, str] = {}

    def resolve(self, text: str) -> Union | str:
        """The union named ``text``, or the message saying why there is none."""
        return resolve_union(self.index, text)

    def base_path(self, union: Union) -> str:
        """Path of the 基层工会 whose 工号 numbering ``union`` shares (its nearest one)."""
        if union.pk in self._base:
            return self._base[union.pk]
        path = union.path
        if union.kind not in (UnionKind.UNION, UnionKind.FEDERATION):
            ids = union.ancestor_ids()
            kinds = dict(Union.objects.filter(pk__in=ids).values_list("pk", "kind"))
            for depth in range(len(ids) - 1, -1, -1):
                if kinds.get(ids[depth]) == UnionKind.UNION:
                    path = "".join(f"{i:07d}." for i in ids[: depth + 1])
                    break
        self._base[union.pk] = path
        return path


#: All that a check says of a person the importer may not see (no union, no path).
FOREIGN_MEMBER = "已是其他工会的在册会员（请与上级工会联系办理转会）"
#: How the audit rows of :func:`account_foreign_matches` begin (they are summed by it).
_FOREIGN_SUMMARY = "导入比对：查到其他工会的在册会员"


def account_foreign_matches(ctx: Context, actor: User, member_ids: list[int]) -> None:
    """Audit the members of other unions a check found, as a look-up of personal data,
    and refuse the import once the importer's finds of the day pass
    ``GONGHUI_IMPORT_MAX_FOREIGN_MATCHES_PER_DAY``: an upload of guessed 身份证号 must
    not tell who is a member where. Past the limit, the row at the union above the
    importer's is the notice to its chair (its audit log shows it).
    Raises :class:`FileProblem` when refused."""
    from django.conf import settings
    from django.utils import timezone

    from gonghui.common import audit
    from gonghui.common.imports.reader import FileProblem
    from gonghui.common.models import AuditAction, AuditEntry

    limit = settings.GONGHUI_IMPORT_MAX_FOREIGN_MATCHES_PER_DAY
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = AuditEntry.objects.filter(
        actor=actor,
        action=AuditAction.VIEW_PII,
        at__gte=start,
        summary__startswith=_FOREIGN_SUMMARY,
    ).values_list("changes", flat=True)
    before = sum(_count(c) for c in earlier)
    found = len(member_ids)
    home = ctx.default_union or _home_union(actor)
    where = f"（导入记录 #{ctx.record_id}）" if ctx.record_id else ""
    if before + found <= limit:
        audit.record(
            actor=actor,
            action=AuditAction.VIEW_PII,
            obj=ctx.record,
            union=home,
            summary=f"{_FOREIGN_SUMMARY} {found} 位{where}",
            changes={
                "人数": ["", found],
                "会员编号": ["", ",".join(map(str, member_ids[:200]))],
            },
        )
        return
    told = f"今天已查到 {before} 位，本次又有 {found} 位，超过每日 {limit} 位的上限，导入被拒绝"
    audit.record(
        actor=actor,
        action=AuditAction.VIEW_PII,
        obj=ctx.record,
        union=home,
        summary=f"导入比对被拒绝：{told}{where}",
        changes={"人数": ["", found], "今日已查到": ["", before]},
    )
    above = home.parent if home is not None and home.parent_id else home
    audit.record(
        actor=actor,
        action=AuditAction.VIEW_PII,
        obj=ctx.record,
        union=above,
        summary=(
            f"请上级核实：「{home.name if home else ''}」的 {actor.display_name} 导入比对"
            f"其他工会的会员，{told}{where}"
        ),
        changes={"人数": ["", found], "今日已查到": ["", before]},
    )
    raise FileProblem(
        f"今天通过导入比对查到的其他工会会员已超过每日 {limit} 位的上限，本次导入未执行"
        "（已告知上级工会）。如需办理转会，请与上级工会联系；明天可再导入。"
    )


def _count(changes: Any) -> int:
    value = changes.get("人数") if isinstance(changes, dict) else None
    if isinstance(value, list | tuple):
        value = value[-1]
    return int(value) if isinstance(value, int) else 0


def _home_union(actor: User) -> Union | None:
    from gonghui.common.scope import top_unions

    return top_unions(actor, Perm.IMPORT).order_by("depth", "path").first()


def member_factory() -> Callable[[], Member]:
    """A maker of new, unsaved members with their defaults, about ten times faster than
    calling ``Member()`` (whose ``__init__`` walks every field): an import builds
    100,000 of them. The defaults are copied from one real ``Member()`` made now, so
    ``created_at`` is the moment the import was checked, the same for all its rows."""
    template = Member()
    state = dict(template.__dict__)
    state.pop("_state")

    def make() -> Member:
        member = Member.__new__(Member)
        member.__dict__.update(state)
        member._state = ModelState()
        return member

    return make


def _present(field: str, values: list[str], *, current: bool = False) -> list[tuple[Any, ...]]:
    """``(id, union_id, field)`` of the members whose ``field`` is one of ``values`` (only
    current members with ``current``), in one indexed query per few thousand values.

    Raw SQL: the ORM prepares each of the parameters of an ``__in`` lookup in Python,
    which for the 300,000 keys of a 100,000-row roster took longer than the queries.
    """
    meta = Member._meta
    qn = connection.ops.quote_name
    column = qn(str(meta.get_field(field).column))  # type: ignore[union-attr]
    status = ""
    if current:
        status = f" AND {qn('status')} IN ({', '.join(repr(str(s)) for s in CURRENT_STATUSES)})"
    found: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(set(values))):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {qn('id')}, {qn('union_id')}, {column} FROM {qn(meta.db_table)} "
                f"WHERE {column} IN ({marks}){status}",
                list(chunk),
            )
            found.extend(cursor.fetchall())
    return found


def _fetch(qs: QuerySet[Member], field: str, values: list[str]) -> list[Member]:
    """The members whose ``field`` is one of ``values``: only those found are loaded."""
    ids = [row[0] for row in _present(field, values)]
    found: list[Member] = []
    for chunk in _chunks(ids):
        found.extend(qs.filter(pk__in=chunk))
    return found


def _short(digest: str) -> int:
    """The first 96 bits of a look-up hash, as an int: what the check remembers of every
    row's numbers, a third of the size of the hex text (no two of a file's numbers
    share them but by a chance of one in 10^17)."""
    return int(digest[:24], 16)


@dataclass
class _Seen:
    """What a check remembers across its batches: the row number where each key was
    first seen (for duplicates inside the file) and the members already matched."""

    id: dict[int, int] = field(default_factory=dict)  # see _short
    phone: dict[int, int] = field(default_factory=dict)
    card: dict[str, int] = field(default_factory=dict)
    emp: dict[str, int] = field(default_factory=dict)  # "base path 工号"
    matched: dict[int, int] = field(default_factory=dict)  # member pk → row number


@dataclass
class _CheckState:
    ctx: Context
    unions: _Unions
    plan: MemberImportPlan
    today: dt.date
    seen: _Seen = field(default_factory=_Seen)
    names: dict[int, str] = field(default_factory=dict)
    result: Plan = field(default_factory=Plan)

    def __post_init__(self) -> None:
        self.result.payload = self.plan


@register
class MemberImport(ImportSpec):
    kind = "members"
    label = "会员名册"
    columns = COLUMNS
    sheet_hints = ("会员", "名册", "花名册")
    perm = Perm.IMPORT
    view_perm = Perm.ROSTER_VIEW
    union_column = "union"
    streams = True
    _new_member: Callable[[], Member]
    #: Numbers to encrypt once the check has passed (see :meth:`_defer`).
    _plain: list[str]
    #: Keep the planned members (a check that may be written), or only count them.
    _keep: bool = True
    #: Members found outside what the importer may see (see :meth:`_is_foreign`).
    _foreign: set[int]
    _unions_by_id: dict[int, Union]
    notes = (
        "第一行可以是标题，表头可以在标题下面；列的顺序不限，多余的列会被忽略。",
        "同一身份证号的会员已存在时更新该会员，不会重复登记；没有身份证号时按本单位工号、"
        "再按会员证号查找。",
        "已有会员的单元格留空表示不修改；含 * 的脱敏身份证号、手机号也表示不修改。",
        "整个文件全部正确才会导入；有任何一行出错都不会写入，请按提示改正后重新导入。",
        "日期可写 2024-03-05、2024/3/5、2024.3.5、2024年3月5日 或 20240305。",
    )

    # Checking ----------------------------------------------------------------------

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        return self._check_rows(rows, ctx)

    def check_stream(self, rows: RowStream, ctx: Context, progress: Progress) -> Plan:
        return self._check_rows(rows, ctx)

    def _check_rows(self, rows: Iterable[Row], ctx: Context) -> Plan:
        """Check the rows a batch at a time: each batch's stored members are looked up,
        compared and dropped before the next is read, so neither the file's rows nor the
        roster are ever in memory whole (only the keys seen, for duplicates in the file).
        A check only (``ctx.commit`` false) keeps counts and samples, not the members
        it would write."""
        self._new_member = member_factory()
        self._plain = []
        self._keep = ctx.commit
        self._foreign = set()
        self._unions_by_id = {}
        state = _CheckState(
            ctx=ctx,
            unions=_Unions(ctx),
            plan=MemberImportPlan(record_id=ctx.record_id, file_name=ctx.file_name),
            today=dt.date.today(),
        )
        state.names = {u.pk: u.name for u in state.unions.in_scope}
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= _BATCH:
                self._check_batch(batch, state)
                batch = []
        if batch:
            self._check_batch(batch, state)
        if self._foreign and ctx.actor is not None:
            account_foreign_matches(ctx, ctx.actor, sorted(self._foreign))
        return state.result

    def _check_batch(self, rows: list[Row], state: _CheckState) -> None:
        ctx, unions, seen = state.ctx, state.unions, state.seen
        state.result.total += len(rows)
        ids: dict[int, str] = {}  # row index in the batch → id hash (full numbers only)
        phones: dict[int, str] = {}
        row_union: dict[int, Union | None] = {}
        emps: set[str] = set()
        cards: set[str] = set()
        # Pass 1: resolve unions, hash numbers, find duplicates inside the file.
        for i, row in enumerate(rows):
            v = row.values
            row_union[i] = union = self._row_union(row, ctx, unions)
            number = v.get("id_number") or ""
            if number and not is_masked(number):
                digest = crypto.lookup_hash(normalize_id_number(number), purpose="id")
                ids[i] = digest
                short = _short(digest)
                if short in seen.id:
                    ctx.error(row, "id_number", f"与第{seen.id[short]}行的身份证号重复")
                else:
                    seen.id[short] = row.number
            phone = v.get("phone") or ""
            if phone and not is_masked(phone):
                digest = crypto.lookup_hash(normalize_phone(phone), purpose="phone")
                phones[i] = digest
                short = _short(digest)
                if short in seen.phone:
                    ctx.error(row, "phone", f"与第{seen.phone[short]}行的手机号重复")
                else:
                    seen.phone[short] = row.number
            card = v.get("card_no") or ""
            if card:
                # As apply_fields stores it, so that keys match what is stored.
                card = v["card_no"] = card.replace(" ", "").upper()
                cards.add(card)
                if card in seen.card:
                    ctx.error(row, "card_no", f"与第{seen.card[card]}行的会员证号重复")
                else:
                    seen.card[card] = row.number
            emp = v.get("employee_no") or ""
            if emp and union is not None:
                emps.add(emp)
                key = f"{unions.base_path(union)} {emp}"
                if key in seen.emp:
                    ctx.error(row, "employee_no", f"与第{seen.emp[key]}行的工号重复")
                else:
                    seen.emp[key] = row.number
        # Pass 2: the members this batch's keys already name, in a few queries.
        base = Member.objects.select_related("union")
        by_hash: dict[str, list[Member]] = defaultdict(list)
        for m in _fetch(base, "id_number_hash", list(ids.values())):
            by_hash[m.id_number_hash].append(m)
        by_emp: dict[str, list[Member]] = defaultdict(list)
        for m in _fetch(base, "employee_no", list(emps)):
            by_emp[m.employee_no].append(m)
        by_card = {m.card_no: m for m in _fetch(base, "card_no", list(cards))}
        phone_owner: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for pk, union_id, digest in _present("phone_hash", list(phones.values()), current=True):
            phone_owner[digest].append((pk, union_id, digest))
        # Pass 3: each row's member, its fields, what changes.
        for i, row in enumerate(rows):
            try:
                existing = self._match(
                    row, i, ctx, unions, row_union[i], ids, by_hash, by_emp, by_card
                )
                if existing is False:
                    self._validate(row, ctx, row_union[i])
                    continue
                target_pk = self._plan_row(row, row_union[i], existing, state)
                if target_pk is False:
                    continue
                self._check_taken(row, ctx, target_pk, phones.get(i), phone_owner, by_card)
            finally:
                # Done with this row's cells: free them as we go, so that the rows and
                # the members planned from them are not all in memory at once.
                row.values = {}

    def _row_union(self, row: Row, ctx: Context, unions: _Unions) -> Union | None:
        """The union the row names (or the default one); ``None`` after an error."""
        text = row.values.get("union") or ""
        union: Union | None = ctx.default_union
        if text:
            found = unions.resolve(text)
            if isinstance(found, str):
                ctx.error(row, "union", found)
                return None
            return found
        if union is not None and ctx.actor is not None and not can(ctx.actor, Perm.IMPORT, union):
            ctx.error(row, "union", f"您没有向「{union.name}」导入的权限")
            return None
        return union

    def _plan_row(
        self, row: Row, union: Union | None, existing: Member | None, state: _CheckState
    ) -> int | Literal[False] | None:
        """Plan the row's update or new member; the pk it targets (``None``: new),
        ``False`` when the row cannot be planned."""
        ctx, result = state.ctx, state.result
        if existing is not None:
            if existing.pk in state.seen.matched:
                ctx.error(
                    row,
                    None,
                    f"与第{state.seen.matched[existing.pk]}行对应同一名会员「{existing.name}」",
                )
                self._validate(row, ctx, union)
                return False
            state.seen.matched[existing.pk] = row.number
            state.names.setdefault(existing.union_id, existing.union.name)
            self._plan_update(
                row, ctx, existing, union, state.plan, result, state.names, state.today
            )
            return existing.pk
        if union is None:
            if row.ok and not row.values.get("union"):
                ctx.error(row, "union", "必填，不能为空")
            # The row's other cells are checked all the same: every error of a row is
            # reported at once, not one round at a time.
            self._validate(row, ctx, None)
            return False
        self._plan_new(row, ctx, union, state.plan, result, state.today)
        return None

    def _check_taken(
        self,
        row: Row,
        ctx: Context,
        target_pk: int | None,
        phone_digest: str | None,
        phone_owner: dict[str, list[tuple[int, int, str]]],
        by_card: dict[str, Member],
    ) -> None:
        """Another current member already using this row's phone number or card."""
        if phone_digest:
            for pk, union_id, _ in phone_owner.get(phone_digest, ()):
                if pk != target_pk:
                    if self._is_foreign(ctx, pk, self._union(union_id)):
                        ctx.error(row, "phone", f"该手机号的主人{FOREIGN_MEMBER}，请核对")
                        break
                    where = self._where(pk, union_id, ctx)
                    ctx.error(row, "phone", f"该手机号已登记在{where}名下，请核对")
                    break
        card = row.values.get("card_no") or ""
        if card and card in by_card and by_card[card].pk != target_pk:
            other = by_card[card]
            if self._is_foreign(ctx, other.pk, other.union):
                ctx.error(
                    row, "card_no", f"会员证号「{card}」{FOREIGN_MEMBER}，请换一个或留空自动编号"
                )
                return
            ctx.error(
                row,
                "card_no",
                f"会员证号「{card}」已被「{other.union.name}」的会员使用，请换一个或留空自动编号",
            )

    def _is_foreign(self, ctx: Context, pk: int, union: Union) -> bool:
        """Is member ``pk`` (of ``union``) outside what the importer may see? Such a
        match says no more than :data:`FOREIGN_MEMBER`, and is counted as a look-up of
        personal data (:func:`account_foreign_matches`)."""
        if ctx.actor is None or can(ctx.actor, Perm.ROSTER_VIEW, union):
            return False
        self._foreign.add(pk)
        return True

    def _union(self, union_id: int) -> Union:
        union = self._unions_by_id.get(union_id)
        if union is None:
            union = self._unions_by_id[union_id] = Union.objects.get(pk=union_id)
        return union

    def _where(self, pk: int, union_id: int, ctx: Context) -> str:
        union = Union.objects.get(pk=union_id)
        who = "一位在册会员"
        if ctx.actor is None or can(ctx.actor, Perm.ROSTER_VIEW, union):
            member = Member.objects.only("name", "card_no").get(pk=pk)
            who = f"在册会员「{member.name}」" + (
                f"（会员证号 {member.card_no}）" if member.card_no else ""
            )
        return f"「{union_trail(union)}」的{who}"

    def _in_reach(self, ctx: Context, member: Member) -> bool:
        if ctx.actor is not None and not can(ctx.actor, Perm.IMPORT, member.union):
            return False
        return ctx.default_union is None or member.union.path.startswith(ctx.default_union.path)

    def _match(
        self,
        row: Row,
        i: int,
        ctx: Context,
        unions: _Unions,
        union: Union | None,
        ids: dict[int, str],
        by_hash: dict[str, list[Member]],
        by_emp: dict[str, list[Member]],
        by_card: dict[str, Member],
    ) -> Member | Literal[False] | None:
        """The member this row names; ``None`` for a new one, ``False`` after an error."""
        v = row.values
        digest = ids.get(i)
        if digest:
            candidates = by_hash.get(digest, [])
            current = [m for m in candidates if m.status in CURRENT_STATUSES]
            if current:
                member = current[0]
                if self._in_reach(ctx, member):
                    return member
                if self._is_foreign(ctx, member.pk, member.union):
                    ctx.error(row, "id_number", f"该身份证号{FOREIGN_MEMBER}")
                    return False
                where = self._where(member.pk, member.union_id, ctx)
                ctx.error(
                    row,
                    "id_number",
                    f"该身份证号已是{where}。同一人只能在一处入会；如已调入本单位，"
                    "请原工会先办理转出，再在此登记转入",
                )
                return False
            # A past member (转出, 退会) listed again on the same union's roster.
            same = [m for m in candidates if union is not None and m.union_id == union.pk]
            if same:
                return max(same, key=lambda m: m.pk)
        stored_hash_must_match = digest or ""
        emp = v.get("employee_no") or ""
        if emp and union is not None:
            base = unions.base_path(union)
            found = [m for m in by_emp.get(emp, []) if m.union.path.startswith(base)]
            if found:
                found.sort(key=lambda m: (m.status not in CURRENT_STATUSES, -m.pk))
                member = found[0]
                return self._checked_key_match(
                    row, ctx, member, stored_hash_must_match, "employee_no"
                )
        card = v.get("card_no") or ""
        if card and card in by_card:
            member = by_card[card]
            return self._checked_key_match(row, ctx, member, stored_hash_must_match, "card_no")
        return None

    def _checked_key_match(
        self, row: Row, ctx: Context, member: Member, digest: str, key: str
    ) -> Member | Literal[False]:
        label = "工号" if key == "employee_no" else "会员证号"
        # Out of reach first: nothing of a member the importer may not see is shown.
        if not self._in_reach(ctx, member):
            if self._is_foreign(ctx, member.pk, member.union):
                ctx.error(row, key, f"{label}「{row.values.get(key)}」{FOREIGN_MEMBER}")
            else:
                ctx.error(
                    row,
                    key,
                    f"{label}「{row.values.get(key)}」已被「{member.union.name}」的会员使用",
                )
            return False
        if digest and member.id_number_hash and member.id_number_hash != digest:
            ctx.error(
                row,
                "id_number",
                f"{label}「{row.values.get(key)}」已属于会员「{member.name}」"
                f"（身份证号 {member.id_number_masked}），与本行的身份证号不符。若是更正身份证号，"
                f"请在会员页面修改；若不是同一人，请更正{label}",
            )
            return False
        masked = row.values.get("id_number") or ""
        if masked and is_masked(masked) and masked != member.id_number_masked:
            ctx.error(
                row,
                "id_number",
                "是脱敏号码（含 *），且与系统中该会员的不一致；如需修改，请填写完整的身份证号",
            )
            return False
        return member

    def _fields(self, row: Row, union: Union | None, *, new: bool) -> MemberFields:
        """The row's non-blank values as ``apply_fields`` takes them."""
        v = row.values
        fields: dict[str, Any] = {}
        if union is not None:
            fields["union"] = union
        for key in ("name", "gender", "employee_no", "department", "job_title",
                    "employment_type", "ethnicity", "political_status", "education",
                    "card_no", "birth_date", "work_start_date", "join_date",
                    "monthly_wage"):  # fmt: skip
            value = v.get(key)
            if value is not None and value != "":
                fields[key] = value
        for key in ("id_number", "phone"):
            value = v.get(key) or ""
            if value and not is_masked(value):
                fields[key] = value
        return fields  # type: ignore[return-value]

    def _plan_new(
        self,
        row: Row,
        ctx: Context,
        union: Union,
        plan: MemberImportPlan,
        result: Plan,
        today: dt.date,
    ) -> None:
        v = row.values
        if is_masked(v.get("id_number") or ""):
            ctx.error(row, "id_number", "是脱敏号码（含 *），新会员请填写完整的身份证号")
        if is_masked(v.get("phone") or ""):
            ctx.error(row, "phone", "是脱敏号码（含 *），新会员请填写完整的手机号或留空")
        member = self._new_member()
        errors = apply_fields(member, self._fields(row, union, new=True), encrypt=self._defer)
        self._report_errors(row, ctx, errors)
        join_kind = v.get("join_kind") or ChangeKind.JOIN
        status = v.get("status") or MemberStatus.ACTIVE
        follow_up = None
        if status != STATUS_AFTER[join_kind]:
            follow_up = change_kind(STATUS_AFTER[join_kind], status)
            if follow_up is None:
                ctx.error(row, "status", f"新会员不能直接登记为「{MemberStatus(status).label}」")
        if not row.ok:
            return
        if self._keep:
            plan.new.append(
                NewMember(
                    member=member,
                    join_kind=join_kind,
                    other_org=v.get("other_org") or "",
                    follow_up=follow_up,
                    row=row.number,
                )
            )
        result.created += 1
        if len(result.new_samples) < PREVIEW_SAMPLES:
            result.new_samples.append(
                {
                    "row": row.number,
                    "name": member.name,
                    "union": union.name,
                    "id": member.id_number_masked,
                }
            )

    def _validate(self, row: Row, ctx: Context, union: Union | None) -> None:
        """Check the row's cells by the roster's rules without planning a write (the row
        already has an error that stops it): so that all its errors show at once."""
        member = self._new_member()
        errors = apply_fields(member, self._fields(row, union, new=True), encrypt=lambda _: "")
        self._report_errors(row, ctx, errors)

    def _report_errors(self, row: Row, ctx: Context, errors: dict[str, str]) -> None:
        reported = set()
        for e in reversed(ctx.errors):
            if e.row != row.number:
                break
            reported.add(e.column)
        for key, message in errors.items():
            if (
                any(c.key == key for c in self.columns)
                and (ctx.headers.get(key) or self.column(key).header) in reported
            ):
                continue
            if any(c.key == key for c in self.columns):
                ctx.error(row, key, message)
            else:
                ctx.error(row, None, message)

    def _unchanged(self, row: Row, member: Member, union: Union | None, ids: str) -> bool:
        """True when every non-blank cell already equals what is stored."""
        v = row.values
        if union is not None and union.pk != member.union_id:
            return False
        for key in _PLAIN:
            value = v.get(key)
            if value and value != getattr(member, key):
                return False
        for key in _DATES:
            value = v.get(key)
            if value is not None and value != getattr(member, key):
                return False
        wage = v.get("monthly_wage")
        if wage is not None and wage != member.monthly_wage:
            return False
        card = v.get("card_no")
        if card and card != member.card_no:
            return False
        status = v.get("status")
        if status and status != member.status:
            return False
        number = v.get("id_number") or ""
        if number and not is_masked(number) and ids != member.id_number_hash:
            return False
        phone = v.get("phone") or ""
        if phone and not is_masked(phone):
            digest = crypto.lookup_hash(normalize_phone(phone), purpose="phone")
            if digest != member.phone_hash:
                return False
        return True

    def _plan_update(
        self,
        row: Row,
        ctx: Context,
        member: Member,
        union: Union | None,
        plan: MemberImportPlan,
        result: Plan,
        names: dict[int, str],
        today: dt.date,
    ) -> None:
        v = row.values
        digest = ""
        number = v.get("id_number") or ""
        if number and not is_masked(number):
            digest = crypto.lookup_hash(normalize_id_number(number), purpose="id")
        if row.ok and self._unchanged(row, member, union, digest):
            result.unchanged += 1
            return
        if union is not None and union.pk != member.union_id and not ctx.can(ctx.spec.perm, union):
            ctx.error(row, "union", f"您没有向「{union.name}」导入的权限")
            return
        after = copy.copy(member)
        fields = self._fields(row, union, new=False)
        errors = apply_fields(after, fields, encrypt=self._defer)
        self._report_errors(row, ctx, errors)
        # A number that did not change keeps its stored token (a fresh one each time
        # would show as a change in every re-import).
        if after.id_number_hash == member.id_number_hash:
            after.id_number_enc = member.id_number_enc
        if after.phone_hash == member.phone_hash:
            after.phone_enc = member.phone_enc
        status = v.get("status") or member.status
        kind = None
        if status != member.status:
            kind = change_kind(member.status, status)
            if kind is None:
                ctx.error(
                    row,
                    "status",
                    f"会员当前为「{member.get_status_display()}」，不能改为「{MemberStatus(status).label}」",
                )
            after.status = status
            if kind == ChangeKind.JOIN and after.join_date is None:
                after.join_date = today
        if not row.ok:
            return
        changed = [f for f in _DB_FIELDS if getattr(after, f) != getattr(member, f)]
        if not changed:
            result.unchanged += 1
            return
        names.setdefault(after.union_id, union.name if union else member.union.name)
        diff = {
            _SHOWN[f]: [
                _display(f, getattr(member, f), names),
                _display(f, getattr(after, f), names),
            ]
            for f in changed
            if f in _SHOWN
        }
        if self._keep:
            plan.updates.append(
                UpdatedMember(
                    member=after, fields=changed, changes=diff, change_kind=kind, row=row.number
                )
            )
        result.updated += 1
        if len(result.samples) < PREVIEW_SAMPLES:
            result.samples.append(
                {
                    "row": row.number,
                    "name": after.name,
                    "changes": [[label, old, new] for label, (old, new) in diff.items()],
                }
            )

    def _defer(self, plain: str) -> str:
        """``apply_fields``'s encrypt: a placeholder now, the token in :meth:`write`.

        Encrypting 200,000 numbers one by one is a tenth of a large import; in one
        batch (``crypto.encrypt_many``) it is a third of that, and a check that fails,
        or only previews, encrypts nothing. The placeholder holds no digit of the number
        and is no valid token: were it ever stored, decrypting it would fail loudly.
        """
        if not self._keep:
            return _PENDING  # a check only: nothing will be written
        self._plain.append(plain)
        return f"{_PENDING}{len(self._plain) - 1}"

    def _encrypt_pending(self, plan: MemberImportPlan) -> None:
        if not self._plain:
            return
        tokens = crypto.encrypt_many(self._plain)
        self._plain = []
        members = [nm.member for nm in plan.new] + [up.member for up in plan.updates]
        for member in members:
            for attr in ("id_number_enc", "phone_enc"):
                value = getattr(member, attr)
                if value.startswith(_PENDING):
                    setattr(member, attr, tokens[int(value[len(_PENDING) :])])

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        self._encrypt_pending(plan.payload)
        members_import(actor=ctx.actor, plan=plan.payload, progress=progress)

    # Export ------------------------------------------------------------------------

    def export_base(self) -> QuerySet[Member]:
        return Member.objects.all()

    def export_filtered(
        self, viewer: User, query: QueryDict
    ) -> tuple[QuerySet[Member], Union | None]:
        """The roster list's filters (``members.forms.RosterFilterForm``)."""
        from .forms import RosterFilterForm
        from .queries import roster

        flt = RosterFilterForm(query or None, viewer=viewer).to_filter() if query else None
        return roster(viewer, flt), flt.union if flt else None

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        """One list of cells per member, in ``columns`` order, as the importer reads them."""
        union_label = _union_labels()
        keys = [c.key for c in columns]
        fields = [
            "union_id", "name", "gender", "id_number_masked", "birth_date", "phone_masked",
            "employee_no", "department", "job_title", "employment_type", "ethnicity",
            "political_status", "education", "work_start_date", "join_date", "card_no",
            "status", "monthly_wage",
        ]  # fmt: skip
        if full_pii:
            fields += ["id_number_enc", "phone_enc"]
        gender = dict(Gender.choices)
        employment = dict(EmploymentType.choices)
        statuses = dict(MemberStatus.choices)
        for m in qs.order_by("union__path", "name_sort", "pk").values(*fields).iterator(2000):
            values: dict[str, Any] = {
                "name": m["name"],
                "gender": gender.get(m["gender"], ""),
                "id_number": crypto.decrypt(m["id_number_enc"])
                if full_pii
                else m["id_number_masked"],
                "birth_date": m["birth_date"],
                "phone": crypto.decrypt(m["phone_enc"]) if full_pii else m["phone_masked"],
                "employee_no": m["employee_no"],
                "union": union_label.get(m["union_id"], ""),
                "department": m["department"],
                "job_title": m["job_title"],
                "employment_type": employment.get(m["employment_type"], ""),
                "ethnicity": m["ethnicity"],
                "political_status": m["political_status"],
                "education": m["education"],
                "work_start_date": m["work_start_date"],
                "join_date": m["join_date"],
                "card_no": m["card_no"],
                "status": statuses.get(m["status"], ""),
                "monthly_wage": m["monthly_wage"],
            }
            yield [values.get(k, "") for k in keys]


def _union_labels() -> dict[int, str]:
    """How the export names each union: its name, or its code where the name is not
    unique in the tree (so that the file imports back to the same union)."""
    rows = list(Union.objects.values_list("pk", "name", "code"))
    counts: dict[str, int] = defaultdict(int)
    for _, name, _ in rows:
        counts[name] += 1
    return {pk: (name if counts[name] == 1 else code) for pk, name, code in rows}
