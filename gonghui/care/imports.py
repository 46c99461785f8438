"""关爱服务 ledgers in Excel: 慰问, 已发放的补助, 捐款.

Each row names its member as every ledger does (``members.matching``). The rules are
those of the services: festival gifts only as goods while that rule is on, the caps in
force at each member's union (a breach is a row error where the union blocks, a
warning in the preview where it warns). A row already on the books (same member, day,
item and amount) is "unchanged", so importing the same sheet twice adds nothing.
All rows are written in one transaction, or none (``common.imports.engine``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict

from gonghui.common.imports.columns import Column, ColumnType, ImportSpec, register
from gonghui.common.imports.engine import PREVIEW_SAMPLES, Context, Plan, Row
from gonghui.common.imports.names import NameIndex
from gonghui.common.imports.progress import Progress
from gonghui.common.scope import Perm, visible
from gonghui.members.choices import CURRENT_STATUSES, MemberStatus
from gonghui.members.matching import MEMBER_COLUMNS, MemberMatcher, member_cells
from gonghui.members.models import Member
from gonghui.org.models import Union, User, subtree_q

from . import rules, services
from .choices import (
    CapItem,
    DonorKind,
    EntryState,
    FundSource,
    Recipient,
    SubsidyKind,
    SubsidyStatus,
    VisitForm,
    VisitReason,
    VisitVariant,
)
from .models import Donation, DonationDrive, Subsidy, Visit
from .queries import Policy, policy_for, year_spending
from .services import LedgerPlan, cap_warning, form_problem

DATE_COLUMN = Column(
    "date", "日期", ColumnType.DATE, aliases=("慰问日期", "发放日期", "捐款日期", "时间", "慰问时间", "发放时间",
                                   "捐款时间", "补助日期"),
    required=True, example="2024-09-15", width=12,
)  # fmt: skip
NOTE_COLUMN = Column("note", "备注", aliases=("说明",), max_length=300, example="", width=16)

VISIT_COLUMNS: tuple[Column, ...] = (
    DATE_COLUMN,
    *MEMBER_COLUMNS,
    Column("reason", "慰问事由", ColumnType.CHOICE, aliases=("事由", "慰问原因", "慰问类型"),
           required=True, choices=tuple(VisitReason.choices),
           choice_aliases={"生病": "sick", "住院": "sick", "生病住院": "sick", "病": "sick",
                           "生育": "childbirth", "生小孩": "childbirth", "结婚": "wedding",
                           "婚": "wedding", "丧": "bereavement", "丧事": "bereavement",
                           "去世": "bereavement", "直系亲属去世": "bereavement",
                           "生日": "birthday", "节日": "festival", "节日慰问": "festival",
                           "春节": "festival", "中秋节": "festival", "端午节": "festival",
                           "国庆节": "festival", "五一": "festival", "清明节": "festival",
                           "中秋": "festival", "端午": "festival", "元旦": "festival",
                           "国庆": "festival", "劳动节": "festival", "清明": "festival",
                           "退休": "retirement", "送清凉": "summer", "夏季": "summer",
                           "高温": "summer", "困难": "hardship", "困难职工": "hardship",
                           "看望病号": "sick", "探病": "sick", "手术": "sick", "病休": "sick",
                           "生孩子": "childbirth", "分娩": "childbirth", "产假": "childbirth",
                           "新婚": "wedding", "婚嫁": "wedding", "丧葬慰问": "bereavement",
                           "吊唁": "bereavement", "过世": "bereavement", "过生日": "birthday",
                           "生日慰问": "birthday", "过节": "festival", "春节慰问": "festival",
                           "三八节": "festival", "妇女节": "festival", "重阳节": "festival",
                           "退休慰问": "retirement", "光荣退休": "retirement",
                           "送温暖": "hardship", "困难帮扶": "hardship", "帮扶": "hardship",
                           "其它": "other"},
           example="生病住院", width=12),
    Column("variant", "细分", ColumnType.CHOICE, aliases=("是否手术",),
           choices=tuple((v, label) for v, label in VisitVariant.choices if v),
           choice_aliases={"是": "surgery", "手术住院": "surgery", "有手术": "surgery",
                           "做手术": "surgery", "本人去世": "member_death",
                           "会员去世": "member_death", "本人": "member_death",
                           "亲属去世": "relative_death", "家属去世": "relative_death",
                           "亲属": "relative_death", "否": "", "无": "", "未手术": ""},
           example="", width=12, note="住院是否手术；丧葬是会员本人还是直系亲属（可留空）"),
    Column("form", "慰问形式", ColumnType.CHOICE, aliases=("形式", "发放形式"), required=True,
           choices=tuple(VisitForm.choices),
           choice_aliases={"慰问金": "cash", "现金": "cash", "钱": "cash", "实物": "goods",
                           "物品": "goods", "慰问品": "goods", "购物卡": "voucher",
                           "卡": "voucher", "券": "voucher", "蛋糕券": "voucher",
                           "购物券": "voucher", "现金慰问": "cash", "红包": "cash",
                           "转账": "cash", "银行转账": "cash", "礼品": "goods", "物资": "goods",
                           "卡券": "voucher", "超市卡": "voucher", "提货券": "voucher",
                           "电子券": "voucher"},
           example="现金", width=10),
    Column("amount", "金额", ColumnType.DECIMAL, aliases=("金额（元）", "金额(元)", "慰问金额", "价值"),
           required=True, example="500", width=10, note="元；实物填价值"),
    Column("goods", "慰问物品", aliases=("物品", "慰问品"), max_length=200, example="水果、牛奶",
           width=16),
    Column("visitors", "慰问人", aliases=("走访人", "探望人"), max_length=200, example="王海燕、陈立华",
           width=16),
    NOTE_COLUMN,
)  # fmt: skip

SUBSIDY_COLUMNS: tuple[Column, ...] = (
    DATE_COLUMN,
    *MEMBER_COLUMNS,
    Column("kind", "补助类型", ColumnType.CHOICE, aliases=("类型", "补助项目"), required=True,
           choices=tuple(SubsidyKind.choices),
           choice_aliases={"困难": "hardship", "生活困难补助": "hardship", "大病": "illness",
                           "大病救助": "illness", "医疗补助": "illness", "医疗救助": "illness",
                           "重病": "illness", "住院补助": "illness", "金秋助学": "education",
                           "助学金": "education", "助学补助": "education",
                           "子女助学": "education", "教育补助": "education",
                           "困难帮扶": "hardship", "其它": "other"},
           example="困难补助", width=12),
    Column("amount", "金额", ColumnType.DECIMAL, aliases=("金额（元）", "金额(元)", "补助金额", "发放金额"),
           required=True, example="2000", width=10, note="元，已发放的金额"),
    Column("source", "资金来源", ColumnType.CHOICE, aliases=("来源",),
           choices=tuple(FundSource.choices),
           choice_aliases={"本级": "own", "本单位": "own", "工会经费": "own",
                           "本级工会": "own", "本工会": "own", "自有经费": "own",
                           "上级": "upper", "上级工会": "upper", "上级补助": "upper",
                           "上级拨款": "upper", "上级专项": "upper", "上级专项资金": "upper"},
           example="本级工会经费", width=14, note="留空为本级工会经费"),
    NOTE_COLUMN,
)  # fmt: skip

DONATION_COLUMNS: tuple[Column, ...] = (
    Column("drive", "捐款活动", aliases=("活动", "活动名称", "项目", "捐款项目", "捐款名称"), required=True, max_length=100,
           example="2024年慈善一日捐", width=20,
           note="系统中已有活动的名称（可只写其中几个字）；没有的活动会随导入新建"),
    *MEMBER_COLUMNS,
    Column("amount", "金额", ColumnType.DECIMAL, aliases=("金额（元）", "金额(元)", "捐款金额"),
           required=True, example="100", width=10),
    DATE_COLUMN,
)  # fmt: skip

_MEMBER_NOTE = (
    "每行的会员用身份证号、工号、会员证号中任一项确定；只填姓名时须在本单位（导入到的组织）内唯一。",
    "整个文件全部正确才会导入；有任何一行出错都不会写入，请按提示改正后重新导入。",
    "已登记过的同一条记录（同一会员、同一天、同一事项、同样金额）会被跳过，不会重复登记。",
    "日期可写 2024-03-05、2024/3/5、2024.3.5、2024年3月5日 或 20240305。",
)


def _today() -> dt.date:
    return dt.date.today()


def _future(row: Row, ctx: Context) -> bool:
    date = row.values.get("date")
    if date and date > _today():
        ctx.error(row, "date", "不能晚于今天")
        return True
    return False


def _warn(result: Plan, plan: LedgerPlan, message: str) -> None:
    """A row past a cap where the union only warns: it imports, marked 超标准."""
    plan.warnings.append(message)
    result.warnings.append(f"超出标准：{message}")


class _Caps:
    """Each member's spending this year on each item, from the books and from the rows
    before, so that the caps see the whole file in row order. One query per item."""

    def __init__(self) -> None:
        self.policies: dict[int, Policy] = {}
        self.spent: dict[tuple[int, str, int], Decimal] = {}
        #: (member, year) with a stay that needed surgery: held to the surgery cap.
        self.surgery: set[tuple[int, int]] = set()

    def policy(self, union: Union) -> Policy:
        if union.pk not in self.policies:
            self.policies[union.pk] = policy_for(union)
        return self.policies[union.pk]

    def load(self, member_ids: set[int], items: set[str], years: set[int]) -> None:
        for item in items:
            for year in years:
                for member_id, spent in year_spending(member_ids, item, year).items():
                    self.spent[(member_id, _shared(item), year)] = spent.total
                    if spent.surgery:
                        self.surgery.add((member_id, year))

    def check(
        self, member: Member, item: str | None, amount: Decimal, date: dt.date
    ) -> tuple[Policy, str | None]:
        policy = self.policy(member.union)
        if item is None:
            return policy, None
        key = (member.pk, _shared(item), date.year)
        spent = Decimal(0) if item in rules.PER_PAYMENT else self.spent.get(key, Decimal(0))
        if item == CapItem.SICK_SURGERY:
            self.surgery.add((member.pk, date.year))
        elif item == CapItem.SICK and (member.pk, date.year) in self.surgery:
            item = CapItem.SICK_SURGERY  # as services._visit_cap
        warning = cap_warning(policy=policy, item=item, amount=amount, spent=spent)
        self.spent[key] = self.spent.get(key, Decimal(0)) + amount
        return policy, warning


def _shared(item: str) -> str:
    return rules.items_for(item)[0]


# 慰问 -------------------------------------------------------------------------------------


@register
class VisitImport(ImportSpec):
    kind = "visits"
    label = "慰问记录"
    columns = VISIT_COLUMNS
    sheet_hints = ("慰问", "走访", "探望")
    perm = Perm.CARE_EDIT
    view_perm = Perm.CARE_VIEW
    notes = (*_MEMBER_NOTE, "慰问事由、慰问形式请按模板的下拉选项填写；节日慰问一般只能发放实物。")

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        matcher = MemberMatcher(ctx, rows, self.perm)
        matched: list[tuple[Row, Member]] = []
        for i, row in enumerate(rows):
            if i % 2000 == 0:
                progress.update("check", i, len(rows))
            member = matcher.match(row)
            future = _future(row, ctx)  # reported whether or not the member was found
            if member is not None and not future and row.ok:
                matched.append((row, member))
        caps = _Caps()
        items = {
            item
            for row, _ in matched
            if (item := rules.cap_item(row.values["reason"], row.values.get("variant") or ""))
            is not None
        }
        caps.load(
            {m.pk for _, m in matched}, items, {row.values["date"].year for row, _ in matched}
        )
        existing = set(
            Visit.objects.filter(
                member_id__in=[m.pk for _, m in matched], state=EntryState.VALID
            ).values_list("member_id", "date", "reason", "amount")
        )
        seen: dict[tuple[Any, ...], int] = {}
        plan = LedgerPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=len(rows), payload=plan)
        who = ctx.actor if ctx.actor is not None and ctx.actor.pk else None
        for row, member in matched:
            v = row.values
            amount = Decimal(v["amount"]).quantize(Decimal("0.01"))
            if amount < 0:
                ctx.error(row, "amount", "不能为负数")
                continue
            key = (member.pk, v["date"], v["reason"], amount)
            if key in seen:
                ctx.error(
                    row, None, f"与第{seen[key]}行重复（同一会员、同一天、同一事由、同样金额）"
                )
                continue
            seen[key] = row.number
            if key in existing:
                result.unchanged += 1
                continue
            variant = rules.clean_variant(v["reason"], v.get("variant") or "")
            policy, warning = caps.check(
                member, rules.cap_item(v["reason"], variant), amount, v["date"]
            )
            problem = form_problem(policy, v["reason"], v["form"])
            if problem:
                ctx.error(row, "form", problem.split("（")[0].split("。")[0])
            if warning and policy.blocks:
                ctx.error(row, "amount", f"{warning}本工会规定超标不能登记")
                continue
            if problem:
                continue
            if warning:
                _warn(result, plan, f"第{row.number}行 {member.name}：{warning}")
            plan.rows.append(
                Visit(
                    union=member.union,
                    date=v["date"],
                    member=member,
                    recipient=Recipient.RETIREE
                    if member.status == MemberStatus.RETAINED
                    else Recipient.MEMBER,
                    recipient_name=member.name,
                    reason=v["reason"],
                    variant=variant,
                    form=v["form"],
                    amount=amount,
                    goods=v.get("goods") or "",
                    visitors=v.get("visitors") or "",
                    note=v.get("note") or "",
                    over_cap=bool(warning),
                    cap_note=(warning or "")[:500],
                    batch=f"import-{ctx.record_id}" if ctx.record_id else "import",
                    created_by=who,
                )
            )
            result.created += 1
            if len(result.new_samples) < PREVIEW_SAMPLES:
                result.new_samples.append(
                    {
                        "row": row.number,
                        "name": member.name,
                        "union": member.union.name,
                        "id": f"{VisitReason(v['reason']).label} {amount} 元",
                    }
                )
        progress.update("check", len(rows), len(rows))
        return result

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        services.visits_import(actor=ctx.actor, plan=plan.payload)

    def export_base(self) -> QuerySet[Visit]:
        # Valid visits to members: a reversed pair is no visit, and a visit to someone
        # off the roster (a named retiree) has no number to import back by.
        return Visit.objects.filter(state=EntryState.VALID, member__isnull=False)

    def export_filtered(self, viewer: User, query: QueryDict) -> tuple[QuerySet[Any], Union | None]:
        from .forms import VisitFilterForm
        from .queries import visits

        form = VisitFilterForm(query or None, viewer=viewer)
        flt = form.to_filter()
        flt.all_states = False  # see export_queryset
        return visits(viewer, flt).filter(member__isnull=False), flt.union

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        keys = [c.key for c in columns]
        reasons, forms_ = dict(VisitReason.choices), dict(VisitForm.choices)
        variants = dict(VisitVariant.choices)
        for v in qs.select_related("member").order_by("date", "id").iterator(2000):
            cells = {
                **member_cells(v.member, v.recipient_name),
                "date": v.date,
                "reason": reasons.get(v.reason, v.reason),
                "variant": variants.get(v.variant, "") if v.variant else "",
                "form": forms_.get(v.form, v.form),
                "amount": v.amount,
                "goods": v.goods,
                "visitors": v.visitors,
                "note": v.note,
            }
            yield [cells.get(k, "") for k in keys]


# 补助 -------------------------------------------------------------------------------------


@register
class SubsidyImport(ImportSpec):
    """Subsidies already paid (a year's 困难补助 sheet): recorded as 已发放."""

    kind = "subsidies"
    label = "已发放的补助"
    columns = SUBSIDY_COLUMNS
    sheet_hints = ("补助", "救助", "帮扶")
    perm = Perm.CARE_PAY  # money that went out: recorded by those who pay it
    view_perm = Perm.CARE_VIEW
    notes = (*_MEMBER_NOTE, "本表登记已经发放的补助；新的申请请在系统中办理审批流程。")

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        matcher = MemberMatcher(ctx, rows, self.perm)
        plan = LedgerPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=len(rows), payload=plan)
        matched = []
        for row in rows:
            member = matcher.match(row)
            future = _future(row, ctx)
            if member is not None and not future and row.ok:
                matched.append((row, member))
        existing = set(
            Subsidy.objects.filter(
                member_id__in=[m.pk for _, m in matched], status=SubsidyStatus.PAID
            ).values_list("member_id", "paid_on", "kind", "paid_amount")
        )
        caps = _Caps()
        seen: dict[tuple[Any, ...], int] = {}
        for row, member in matched:
            v = row.values
            amount = Decimal(v["amount"]).quantize(Decimal("0.01"))
            if amount <= 0:
                ctx.error(row, "amount", "必须大于 0")
                continue
            if ctx.actor is not None and member.user_id == ctx.actor.pk:
                ctx.error(row, None, "不能登记发给自己的补助，请由其他有权限的人导入")
                continue
            key = (member.pk, v["date"], v["kind"], amount)
            if key in seen:
                ctx.error(row, None, f"与第{seen[key]}行重复")
                continue
            seen[key] = row.number
            if key in existing:
                result.unchanged += 1
                continue
            if v["kind"] == SubsidyKind.HARDSHIP:
                policy, warning = caps.check(member, CapItem.HARDSHIP, amount, v["date"])
                if warning:
                    if policy.blocks:
                        ctx.error(row, "amount", f"{warning}本工会规定超标不能登记")
                        continue
                    _warn(result, plan, f"第{row.number}行 {member.name}：{warning}")
            plan.rows.append(
                Subsidy(
                    union=member.union,
                    member=member,
                    kind=v["kind"],
                    status=SubsidyStatus.PAID,
                    reason=v.get("note") or "",
                    source=v.get("source") or FundSource.OWN,
                    applied_on=v["date"],
                    requested_amount=amount,
                    approved_amount=amount,
                    paid_amount=amount,
                    paid_on=v["date"],
                    applicant=ctx.actor if ctx.actor is not None and ctx.actor.pk else None,
                    note=v.get("note") or "",
                    imported=True,
                )
            )
            result.created += 1
        return result

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        services.subsidies_import(actor=ctx.actor, plan=plan.payload)

    def export_base(self) -> QuerySet[Subsidy]:
        return Subsidy.objects.filter(status=SubsidyStatus.PAID)

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        keys = [c.key for c in columns]
        kinds, sources = dict(SubsidyKind.choices), dict(FundSource.choices)
        for s in qs.select_related("member").order_by("paid_on", "id").iterator(2000):
            cells = {
                **member_cells(s.member),
                "date": s.paid_on,
                "kind": kinds.get(s.kind, s.kind),
                "amount": s.paid_amount,
                "source": sources.get(s.source, s.source),
                "note": s.note,
            }
            yield [cells.get(k, "") for k in keys]


# 捐款 -------------------------------------------------------------------------------------


@register
class DonationImport(ImportSpec):
    kind = "donations"
    label = "捐款记录"
    columns = DONATION_COLUMNS
    sheet_hints = ("捐款", "捐赠", "一日捐")
    perm = Perm.CARE_EDIT
    view_perm = Perm.CARE_VIEW
    notes = (
        *_MEMBER_NOTE,
        "「捐款活动」写系统中已发起的活动名称，或名称中能唯一确定它的几个字；"
        "系统中还没有的活动，会在确认导入时以导入到的工会名义新建（预览中会列出）。",
    )

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        drives_qs = DonationDrive.objects.select_related("union")
        if ctx.actor is not None:
            drives_qs = visible(drives_qs, ctx.actor, self.perm)
        if ctx.default_union is not None:
            # A drive of the union imported into, of one above it, or of one below it.
            ids = [*ctx.default_union.ancestor_ids(), ctx.default_union.pk]
            drives_qs = drives_qs.filter(
                subtree_q(ctx.default_union.path, "union__path") | Q(union_id__in=ids)
            )
        drives = NameIndex(drives_qs, name=lambda d: d.name)
        matcher = MemberMatcher(ctx, rows, self.perm)
        plan = LedgerPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=len(rows), payload=plan)
        new_drives: dict[str, DonationDrive] = {}  # unsaved, by name: created in write()
        matched = []
        for row in rows:
            drive = self._drive(row, ctx, drives, new_drives)
            member = matcher.match(row)
            future = _future(row, ctx)
            if drive is None or member is None or future or not row.ok:
                continue
            if not member.union.path.startswith(drive.union.path):
                ctx.error(row, None, f"{member.name}不在活动发起工会「{drive.union.name}」范围内")
            if member.status not in CURRENT_STATUSES:
                status = member.get_status_display()
                ctx.error(row, None, f"{member.name}目前「{status}」，不能登记为会员捐款")
            if drive.pk and row.values["date"] < drive.start_date:
                ctx.error(row, "date", f"早于活动开始日期（{drive.start_date:%Y-%m-%d}）")
            if row.ok:
                matched.append((row, member, drive))
        for drive in new_drives.values():
            # Begins on the day of its first gift in the sheet.
            dates = [r.values["date"] for r, _, d in matched if d is drive]
            drive.start_date = min(dates, default=_today())
            result.creates.append(f"捐款活动「{drive.name}」（{drive.union.name}）")
        plan.extra = list(new_drives.values())
        existing = set(
            Donation.objects.filter(
                member_id__in=[m.pk for _, m, _ in matched], state=EntryState.VALID
            ).values_list("drive_id", "member_id", "date", "amount")
        )
        seen: dict[tuple[Any, ...], int] = {}
        who = ctx.actor if ctx.actor is not None and ctx.actor.pk else None
        for row, member, drive in matched:
            v = row.values
            amount = Decimal(v["amount"]).quantize(Decimal("0.01"))
            if amount <= 0:
                ctx.error(row, "amount", "必须大于 0")
                continue
            key = (drive.pk or id(drive), member.pk, v["date"], amount)
            if key in seen:
                ctx.error(row, None, f"与第{seen[key]}行重复")
                continue
            seen[key] = row.number
            if key in existing:
                result.unchanged += 1
                continue
            plan.rows.append(
                Donation(
                    drive=drive,
                    union=member.union,
                    donor_kind=DonorKind.MEMBER,
                    member=member,
                    donor_name=member.name,
                    amount=amount,
                    date=v["date"],
                    created_by=who,
                )
            )
            result.created += 1
        return result

    def _drive(
        self,
        row: Row,
        ctx: Context,
        drives: NameIndex[DonationDrive],
        new_drives: dict[str, DonationDrive],
    ) -> DonationDrive | None:
        """The drive ``row`` names: a stored one, one this import creates, or ``None``
        after recording the row's error."""
        name = row.values.get("drive") or ""
        if not name:
            return None  # the required cell's error is already reported
        found = drives.find(name)
        if found.item is not None:
            return found.item
        if found.ambiguous:
            shown = drives.candidates_text(found, label=lambda d: f"{d.name}（{d.union.name}）")
            ctx.error(row, "drive", f"「{name}」可能是：{shown}，请写完整的活动名称")
            return None
        if name in new_drives:
            return new_drives[name]
        how = "请先在「关爱 › 捐款」中发起该活动"
        if not ctx.create_missing:
            ctx.error(
                row, "drive", f"系统中没有捐款活动「{name}」：{how}，或去掉 --no-create 随导入新建"
            )
            return None
        if ctx.default_union is None:
            ctx.error(
                row,
                "drive",
                f"系统中没有捐款活动「{name}」：{how}，或导入时指定发起它的工会（--union）以随导入新建",
            )
            return None
        drive = new_drives[name] = DonationDrive(
            union=ctx.default_union, name=name[:100], start_date=_today()
        )
        return drive

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        ledger: LedgerPlan = plan.payload
        for planned in ledger.extra:
            # Through the service (permission, audit row), in the import's transaction.
            drive = services.drive_create(
                actor=ctx.actor,
                union=planned.union,
                name=planned.name,
                start_date=planned.start_date,
                note=f"随导入「{ctx.file_name}」新建",
            )
            for donation in ledger.rows:
                if donation.drive is planned:
                    donation.drive = drive
        services.donations_import(actor=ctx.actor, plan=ledger)

    def export_base(self) -> QuerySet[Donation]:
        return Donation.objects.filter(state=EntryState.VALID, donor_kind=DonorKind.MEMBER)

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        keys = [c.key for c in columns]
        for d in qs.select_related("member", "drive").order_by("date", "id").iterator(2000):
            cells = {
                **member_cells(d.member, d.donor_name),
                "drive": d.drive.name,
                "amount": d.amount,
                "date": d.date,
            }
            yield [cells.get(k, "") for k in keys]
