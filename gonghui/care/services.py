"""Every write of 关爱服务. One transaction each, each audited.

Money is never edited in place: a visit or a donation recorded by mistake is reversed
(``visit_reverse``, ``donation_reverse``), and a subsidy's amounts are each set once,
at their own step of the workflow.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import CharField

from gonghui.common import audit
from gonghui.common.errors import OverCap, ServiceError, system_or
from gonghui.common.models import AuditAction, ImportRecord
from gonghui.common.scope import Perm, can, require
from gonghui.members.choices import CURRENT_STATUSES, MemberStatus
from gonghui.members.models import Member
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User, subtree_q
from gonghui.org.queries import common_ancestor

from . import rules
from .choices import (
    SUBSIDY_TRANSITIONS,
    CapEnforcement,
    CapItem,
    CapPreset,
    ClaimStatus,
    CoverageKind,
    DonorKind,
    EntryState,
    FundSource,
    HardshipStatus,
    Recipient,
    SubsidyKind,
    SubsidyStatus,
    VisitForm,
    VisitReason,
)
from .models import (
    CarePolicy,
    Claim,
    CoverageProgramme,
    Donation,
    DonationDrive,
    Enrolment,
    HardshipFile,
    HardshipReview,
    HospitalStay,
    HouseholdMember,
    LedgerEntry,
    Subsidy,
    SubsidyAttachment,
    SubsidyEvent,
    Visit,
    VisitPhoto,
)
from .queries import Policy, Spent, policies_for, policy_for, vouchers, year_spending

if TYPE_CHECKING:
    from django.db.models import QuerySet

ZERO = Decimal(0)
CENT = Decimal("0.01")
#: Money columns hold 12 digits with 2 decimals: anything larger is a typing mistake.
MAX_AMOUNT = Decimal(10) ** 10


def _amount(
    value: Decimal | int | str | None, label: str = "金额", *, positive: bool = False
) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (ArithmeticError, ValueError, TypeError):
        raise ServiceError({"amount": f"{label}请填写数字。"}) from None
    if amount >= MAX_AMOUNT:
        raise ServiceError({"amount": f"{label}过大，请核对（不能超过 {MAX_AMOUNT - CENT} 元）。"})
    if amount < 0 or (positive and amount == 0):
        raise ServiceError(
            {"amount": f"{label}必须大于 0。" if positive else f"{label}不能为负数。"}
        )
    return amount


def _not_future(date: dt.date, field: str, label: str) -> None:
    if date > dt.date.today():
        raise ServiceError({field: f"{label}不能晚于今天。"})


# Policy ---------------------------------------------------------------------------------


POLICY_FIELDS = (
    "preset",
    "overrides",
    "enforcement",
    "festival_goods_only",
    "birthday_cake_only",
    "dibao_line",
    "accident_ratio",
    "winners_share",
    "min_handlers",
)


def _policy_snapshot(row: CarePolicy) -> dict[str, Any]:
    """The policy as the log shows it; the adjusted caps as one line of Chinese."""
    shown = audit.snapshot(row, [f for f in POLICY_FIELDS if f != "overrides"])
    shown["overrides"] = "；".join(
        f"{CapItem(k).label} {'不设上限' if v is None else f'{v} 元'}"
        for k, v in sorted(row.overrides.items())
    )
    return shown


@transaction.atomic
def policy_set(
    *,
    actor: User | None,
    union: Union,
    preset: str,
    enforcement: str = CapEnforcement.WARN,
    festival_goods_only: bool = True,
    birthday_cake_only: bool = True,
    overrides: dict[str, Any] | None = None,
    dibao_line: Decimal | None = None,
    accident_ratio: Decimal = rules.DEFAULT_ACCIDENT_RATIO,
    winners_share: Decimal | None = rules.DEFAULT_WINNERS_SHARE,
    min_handlers: int = 3,
) -> CarePolicy:
    """Set ``union``'s own caps and settings (its subtree inherits them)."""
    if actor is not None:
        require(actor, Perm.CARE_APPROVE, union)
    if preset not in CapPreset.values:
        raise ServiceError({"preset": "请选择一个标准。"})
    if enforcement not in CapEnforcement.values:
        raise ServiceError({"enforcement": "请选择超标时的处理方式。"})
    clean: dict[str, str | None] = {}
    for key, value in (overrides or {}).items():
        if key not in CapItem.values:
            raise ServiceError(f"没有「{key}」这一项上限。")
        if value is None or value == "":
            clean[key] = None
        else:
            clean[key] = str(_amount(value, CapItem(key).label))
    if dibao_line is not None and dibao_line < 0:
        raise ServiceError({"dibao_line": "低保标准不能为负数。"})
    if not (Decimal("0.01") <= accident_ratio <= Decimal("5")):
        raise ServiceError({"accident_ratio": "意外致困比例请填写 0.01 到 5 之间的数，如 0.80。"})
    if winners_share is not None and not (Decimal("0.01") <= winners_share <= Decimal(1)):
        raise ServiceError(
            {"winners_share": "获奖面请填写 0.01 到 1 之间的数，如 0.33；不限请留空。"}
        )
    if min_handlers not in (2, 3):
        raise ServiceError({"min_handlers": "最少经手人数请选 3 人，很小的工会可选 2 人。"})
    if union.parent_id is not None:
        _no_looser_than_above(
            union,
            rules.caps_of(preset, clean),
            enforcement=enforcement,
            festival_goods_only=festival_goods_only,
            birthday_cake_only=birthday_cake_only,
            winners_share=winners_share,
            min_handlers=min_handlers,
        )
    row = CarePolicy.objects.select_for_update().filter(union=union).first()
    before = _policy_snapshot(row) if row else {}
    if row is None:
        row = CarePolicy(union=union)
    row.preset = preset
    row.enforcement = enforcement
    row.festival_goods_only = festival_goods_only
    row.birthday_cake_only = birthday_cake_only
    row.overrides = clean
    row.dibao_line = dibao_line
    row.accident_ratio = accident_ratio
    row.winners_share = winners_share
    row.min_handlers = min_handlers
    row.save()
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE if before else AuditAction.CREATE,
        obj=row,
        union=union,
        changes=audit.diff(CarePolicy, before, _policy_snapshot(row)),
        summary=f"设置「{union.name}」的开支标准（{row.get_preset_display()}）",
    )
    return row


def _no_looser_than_above(
    union: Union,
    caps: dict[str, Decimal | None],
    *,
    enforcement: str,
    festival_goods_only: bool,
    birthday_cake_only: bool,
    winners_share: Decimal | None = None,
    min_handlers: int = 3,
) -> None:
    """A union may tighten the standard it inherits, never loosen it: the caps set above
    (a province's, a district's) bind everything below."""
    assert union.parent is not None
    above = policy_for(union.parent)
    # Fewer hands on the money is the grassroots union's own decision for itself: a
    # branch chair lowering it for her branch would undo the rule the union set.
    if min_handlers < above.min_handlers and (
        above.source is not None or union.kind in (UnionKind.BRANCH, UnionKind.GROUP)
    ):
        where = f"上级「{above.source.name}」" if above.source else "基层工会"
        raise ServiceError(
            {
                "min_handlers": f"{where}规定补助至少由 {above.min_handlers} 人经手，"
                "本级不能减少；很小的基层工会可由本工会主席在本工会的开支标准中设为 2 人。"
            }
        )
    if above.source is None:
        return  # nothing set above: the union is free
    who = f"上级「{above.source.name}」"
    problems = []
    for item, cap in caps.items():
        limit = above.caps.get(item)
        # (No cap of its own on an item: the one above holds, see queries.policy_of.)
        if limit is not None and cap is not None and cap > limit:
            label = CapItem(item).label.split("（")[0]
            problems.append(f"{label}上限不能高于{who}的 {rules.money(limit)} 元")
    if above.blocks and enforcement != CapEnforcement.BLOCK:
        problems.append(f"{who}规定超标不能保存，本工会不能改为只提醒")
    if above.festival_goods_only and not festival_goods_only:
        problems.append(f"{who}规定节日慰问只发实物，本工会不能取消")
    if above.birthday_cake_only and not birthday_cake_only:
        problems.append(f"{who}规定生日慰问只发蛋糕或蛋糕券，本工会不能取消")
    limit = above.winners_share
    if limit is not None and winners_share is not None and winners_share > limit:
        problems.append(f"获奖面不能大于{who}的 {limit}")
    if problems:
        raise ServiceError("；".join(problems) + "。下级工会只能在上级标准之内从严设置。")


@transaction.atomic
def policy_clear(*, actor: User | None, union: Union) -> None:
    """Drop ``union``'s own policy: it follows the union above it again."""
    if actor is not None:
        require(actor, Perm.CARE_APPROVE, union)
    row = CarePolicy.objects.filter(union=union).first()
    if row is None:
        return
    before = _policy_snapshot(row)
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=row,
        union=union,
        changes=audit.diff(CarePolicy, before, dict.fromkeys(before, "")),
        summary=f"「{union.name}」改为沿用上级工会的开支标准",
    )
    row.delete()


# Caps -----------------------------------------------------------------------------------


def cap_warning(
    *,
    policy: Policy,
    item: str | None,
    amount: Decimal,
    spent: Decimal = ZERO,
    who: str = "",
) -> str | None:
    """The message when ``amount`` (on top of ``spent`` this year) passes the cap."""
    if item is None:
        return None
    cap = policy.caps.get(item)
    if cap is None:
        return None
    label = CapItem(item).label.split("（")[0]
    basis = f"（{policy.preset_label}标准）"
    if item in rules.PER_PAYMENT:
        if amount > cap:
            return f"{who}本次{label} {rules.money(amount)} 元，超过每次上限 {rules.money(cap)} 元{basis}。"
        return None
    if spent + amount > cap:
        if spent:
            return (
                f"{who}今年已发放{label} {rules.money(spent)} 元，加上本次 {rules.money(amount)} 元"
                f"共 {rules.money(spent + amount)} 元，超过全年上限 {rules.money(cap)} 元{basis}。"
            )
        return f"{who}本次{label} {rules.money(amount)} 元，超过全年上限 {rules.money(cap)} 元{basis}。"
    return None


def _visit_cap(
    *,
    policy: Policy,
    member: Member | None,
    reason: str,
    variant: str,
    amount: Decimal,
    date: dt.date,
) -> str | None:
    item = rules.cap_item(reason, variant)
    if item is None:
        return None
    spent = ZERO
    if member is not None and item not in rules.PER_PAYMENT:
        year = year_spending([member.pk], item, date.year).get(member.pk, Spent())
        spent = year.total
        # A year with a stay that needed surgery is held to the surgery cap, whichever
        # stay this visit is for (住院慰问 is one yearly sum).
        if item == CapItem.SICK and year.surgery:
            item = CapItem.SICK_SURGERY
    return cap_warning(policy=policy, item=item, amount=amount, spent=spent)


def form_problem(policy: Policy, reason: str, form: str) -> str | None:
    """What the form of a gift may not be (DOMAIN.md, 年节 and 生日), or ``None``."""
    if (
        reason == VisitReason.FESTIVAL
        and policy.festival_goods_only
        and form in (VisitForm.CASH, VisitForm.VOUCHER)
    ):
        return (
            "节日慰问只能发放实物，不能发放现金、购物卡或购物券（《基层工会经费收支管理办法》）。"
            "如本工会另有规定，可由主席在「开支标准」中关闭这一项。"
        )
    if reason == VisitReason.BIRTHDAY and policy.birthday_cake_only and form == VisitForm.CASH:
        return (
            "生日慰问发放生日蛋糕或蛋糕券，不能发放现金。"
            "如本工会另有规定，可由主席在「开支标准」中关闭这一项。"
        )
    return None


def _check_form(policy: Policy, reason: str, form: str) -> None:
    problem = form_problem(policy, reason, form)
    if problem:
        raise ServiceError({"form": problem})


def _enforce(policy: Policy, warning: str | None, confirm: bool) -> str:
    """Block, or ask to confirm, or let through (returning the note to keep)."""
    if warning is None:
        return ""
    if policy.blocks:
        raise ServiceError({"amount": f"{warning}本工会规定超标不能保存，请调整金额。"})
    if not confirm:
        raise OverCap(warning)
    return warning


# Visits ---------------------------------------------------------------------------------

VISIT_FIELDS = (
    "union",
    "date",
    "member",
    "recipient",
    "recipient_name",
    "relation",
    "reason",
    "variant",
    "form",
    "amount",
    "goods",
    "visitors",
    "note",
)


@transaction.atomic
def visit_create(
    *,
    actor: User | None,
    date: dt.date,
    reason: str,
    form: str,
    amount: Decimal | int | str,
    member: Member | None = None,
    union: Union | None = None,
    recipient: str = "",
    recipient_name: str = "",
    relation: str = "",
    variant: str = "",
    goods: str = "",
    visitors: str = "",
    note: str = "",
    confirm_over_cap: bool = False,
    photo: UploadedFile | None = None,
) -> Visit:
    """Record a 慰问 (with its photo, if any), checking the caps in force at the
    member's union.

    The visit belongs to the member's union (a named retiree or family member without a
    roster entry: to ``union``). Past a cap it is refused or, where the policy only
    warns, saved once the officer confirms, marked 超标准 with the warning kept.
    """
    if member is not None:
        # As stored now (the caller's copy may predate a transfer or a retirement), and
        # locked: two officers recording visits for the same member at once must not
        # both pass the cap on the same year's total (PostgreSQL reads committed data;
        # SQLite's BEGIN IMMEDIATE already serialises the writers).
        member = (
            Member.objects.select_for_update(of=("self",)).select_related("union").get(pk=member.pk)
        )
        union = member.union
    if union is None:
        raise ServiceError({"union": "请选择所属工会。"})
    if actor is not None:
        require(actor, Perm.CARE_EDIT, union)
    if reason not in VisitReason.values:
        raise ServiceError({"reason": "请选择慰问事由。"})
    if form not in VisitForm.values:
        raise ServiceError({"form": "请选择慰问形式。"})
    value = _amount(amount)
    _not_future(date, "date", "慰问日期")
    if photo is not None:
        check_photo(photo)  # before anything is written: a refused photo saves nothing
    if not recipient:
        recipient = (
            Recipient.RETIREE
            if member is not None and member.status == MemberStatus.RETAINED
            else Recipient.MEMBER
        )
    if recipient not in Recipient.values:
        raise ServiceError({"recipient": "请选择慰问对象。"})
    if recipient == Recipient.FAMILY:
        if not recipient_name.strip():
            raise ServiceError({"recipient_name": "慰问会员家属时，请填写家属姓名。"})
    elif member is None and not recipient_name.strip():
        raise ServiceError({"member": "请填写被慰问的会员；不在名册中的退休职工请填写姓名。"})
    if recipient == Recipient.MEMBER and member is None:
        raise ServiceError(
            {"member": "在职会员请从名册中选择；不在名册中的退休职工请把慰问对象选为「退休职工」。"}
        )
    name = recipient_name.strip() or (member.name if member else "")
    policy = policy_for(union)
    _check_form(policy, reason, form)
    variant = rules.clean_variant(reason, variant)
    warning = _visit_cap(
        policy=policy, member=member, reason=reason, variant=variant, amount=value, date=date
    )
    cap_note = _enforce(policy, warning, confirm_over_cap)
    visit = Visit.objects.create(
        union=union,
        date=date,
        member=member,
        recipient=recipient,
        recipient_name=name[:50],
        relation=relation.strip()[:20],
        reason=reason,
        variant=variant,
        form=form,
        amount=value,
        goods=goods.strip()[:200],
        visitors=visitors.strip()[:200],
        note=note.strip()[:500],
        over_cap=bool(cap_note),
        cap_note=cap_note[:500],
        created_by=system_or(actor),
    )
    summary = f"登记{visit.get_reason_display()}慰问：{name}，{rules.money(value)} 元"
    if cap_note:
        summary += "（超标准，已确认）"
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=visit,
        union=union,
        changes=audit.diff(Visit, {}, audit.snapshot(visit, VISIT_FIELDS)),
        summary=summary,
    )
    if photo is not None:
        visit_photo_add(actor=actor, visit=visit, upload=photo)
    return visit


@dataclass
class BatchPreview:
    """What a batch of visits would do, shown before it is saved."""

    members: list[Member]
    amount: Decimal
    over_cap: list[tuple[Member, str]]
    skipped: int = 0  # members already given this visit on the same day
    #: Someone over a cap is under a policy that blocks: the batch cannot be saved.
    blocked: bool = False

    @property
    def total(self) -> Decimal:
        return self.amount * len(self.members)


def _batch_members(union: Union, include_retirees: bool, *, lock: bool = False) -> QuerySet[Member]:
    statuses = CURRENT_STATUSES if include_retirees else (MemberStatus.ACTIVE,)
    qs = Member.objects.filter(subtree_q(union.path, "union__path"), status__in=statuses)
    if lock:  # see visit_create: the caps are checked against locked members
        qs = qs.select_for_update(of=("self",))
    return qs.select_related("union").order_by("union__path", "name_sort", "pk")


def visit_batch_preview(
    *,
    actor: User | None,
    union: Union,
    date: dt.date,
    reason: str,
    form: str,
    amount: Decimal | int | str,
    include_retirees: bool = False,
    lock: bool = False,
) -> BatchPreview:
    """Who a batch (节日慰问 for a whole branch) would reach and whose caps it passes.

    Three queries whatever the size: the members, this year's spending of each on the
    item, and who already has this visit on this day (a batch saved twice is skipped).
    """
    if actor is not None:
        require(actor, Perm.CARE_EDIT, union)
    if reason not in VisitReason.values:
        raise ServiceError({"reason": "请选择慰问事由。"})
    if form not in VisitForm.values:
        raise ServiceError({"form": "请选择慰问形式。"})
    value = _amount(amount, positive=True)
    _not_future(date, "date", "慰问日期")
    members = list(_batch_members(union, include_retirees, lock=lock))
    if not members:
        raise ServiceError({"union": f"「{union.name}」及其下级组织没有在册会员。"})
    # Each member under the policy of their own union, as for one visit (a branch
    # below may have set stricter caps than the union the batch is given for).
    policies = policies_for(union, {m.union for m in members})
    _check_form(policy_for(union), reason, form)
    for m in members:
        _check_form(policies[m.union_id], reason, form)
    ids = [m.pk for m in members]
    already = set(
        Visit.objects.filter(
            member_id__in=ids, reason=reason, date=date, state=EntryState.VALID
        ).values_list("member_id", flat=True)
    )
    kept = [m for m in members if m.pk not in already]
    item = rules.cap_item(reason, rules.clean_variant(reason, ""))
    over: list[tuple[Member, str]] = []
    blocked = False
    if item is not None and any(p.caps.get(item) is not None for p in policies.values()):
        spent: dict[int, Spent] = {}
        if item not in rules.PER_PAYMENT:
            spent = year_spending(ids, item, date.year)
        for m in kept:
            policy = policies[m.union_id]
            warning = cap_warning(
                policy=policy,
                item=item,
                amount=value,
                spent=spent.get(m.pk, Spent()).total,
                who=f"{m.name}：",
            )
            if warning:
                over.append((m, warning))
                blocked = blocked or policy.blocks
    return BatchPreview(
        members=kept, amount=value, over_cap=over, skipped=len(already), blocked=blocked
    )


@transaction.atomic
def visit_batch(
    *,
    actor: User | None,
    union: Union,
    date: dt.date,
    reason: str,
    form: str,
    amount: Decimal | int | str,
    goods: str = "",
    visitors: str = "",
    note: str = "",
    include_retirees: bool = False,
    confirm_over_cap: bool = False,
) -> list[Visit]:
    """The same visit for every member of ``union``'s subtree (节日慰问, 夏季送清凉).

    The caps are checked for each member as for one visit; when the policy blocks,
    one member over the cap stops the whole batch and the message names them.
    """
    preview = visit_batch_preview(
        actor=actor,
        union=union,
        date=date,
        reason=reason,
        form=form,
        amount=amount,
        include_retirees=include_retirees,
        lock=True,
    )
    over = dict((m.pk, w) for m, w in preview.over_cap)
    if over:
        names = "、".join(m.name for m, _ in preview.over_cap[:10])
        more = f"等 {len(over)} 人" if len(over) > 10 else f"共 {len(over)} 人"
        message = f"{names}{more}超过标准：{preview.over_cap[0][1]}"
        if preview.blocked:
            raise ServiceError({"amount": f"{message}本工会规定超标不能保存，请调整金额。"})
        if not confirm_over_cap:
            raise OverCap(message)
    if not preview.members:
        raise ServiceError({"date": "这一天已为这些会员登记过同样的慰问，没有新的记录可保存。"})
    batch = uuid.uuid4().hex
    made_by = system_or(actor)
    variant = rules.clean_variant(reason, "")
    visits = [
        Visit(
            union=m.union,
            date=date,
            member=m,
            recipient=Recipient.RETIREE if m.status == MemberStatus.RETAINED else Recipient.MEMBER,
            recipient_name=m.name,
            reason=reason,
            variant=variant,
            form=form,
            amount=preview.amount,
            goods=goods.strip()[:200],
            visitors=visitors.strip()[:200],
            note=note.strip()[:500],
            over_cap=m.pk in over,
            cap_note=over.get(m.pk, "")[:500],
            batch=batch,
            created_by=made_by,
        )
        for m in preview.members
    ]
    Visit.objects.bulk_create(visits, batch_size=500)
    label = VisitReason(reason).label
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        union=union,
        changes={
            "批次": ["", batch],
            "人数": ["", len(visits)],
            "每人金额": ["", str(preview.amount)],
            "合计": ["", str(preview.total)],
            "超标准人数": ["", len(over)],
        },
        summary=(
            f"批量登记{label}慰问：{union.name} {len(visits)} 人，每人 {rules.money(preview.amount)} 元，"
            f"共 {rules.money(preview.total)} 元"
        ),
    )
    return visits


E = TypeVar("E", bound=LedgerEntry)


def _reverse_entry(
    actor: User | None, entry: E, reason: str, *, copy: Iterable[str], what: str, summary: str
) -> E:
    """Undo ``entry`` (locked by the caller, its permission checked) by a reversing row
    (红字冲销): the ``copy`` fields as they were, the amount negated, dated today; the
    original stays, marked as reversed, and the reversal is audited with ``summary``."""
    if not reason.strip():
        raise ServiceError({"reason": "请说明冲销的原因。"})
    if entry.state != EntryState.VALID:
        raise ServiceError(f"{what}已经冲销过，或本身就是冲销记录。")
    model = type(entry)
    note_field = model._meta.get_field("note")
    assert isinstance(note_field, CharField)
    reversal = model._default_manager.create(
        **{name: getattr(entry, name) for name in copy},
        amount=-entry.amount,
        date=dt.date.today(),
        note=f"冲销 {entry.date:%Y-%m-%d} 的记录：{reason.strip()}"[: note_field.max_length],
        state=EntryState.REVERSAL,
        reverses=entry,
        created_by=system_or(actor),
    )
    model._default_manager.filter(pk=entry.pk).update(state=EntryState.REVERSED)
    entry.state = EntryState.REVERSED
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=entry,
        union=entry.union,
        changes={"状态": ["有效", "已冲销"], "原因": ["", reason.strip()]},
        summary=summary,
    )
    return reversal


@transaction.atomic
def visit_reverse(*, actor: User | None, visit: Visit, reason: str) -> Visit:
    """Undo a visit recorded by mistake: a reversing row (红字冲销); the original stays."""
    visit = Visit.objects.select_for_update(of=("self",)).select_related("union").get(pk=visit.pk)
    if actor is not None:
        require(actor, Perm.CARE_EDIT, visit.union)
    return _reverse_entry(
        actor,
        visit,
        reason,
        copy=(
            "union", "member", "recipient", "recipient_name", "relation", "reason",
            "variant", "form", "goods", "visitors",
        ),
        what="这条慰问记录",
        summary=f"冲销慰问记录：{visit}，{rules.money(visit.amount)} 元",
    )  # fmt: skip


@transaction.atomic
def visit_batch_reverse(*, actor: User | None, batch: str, reason: str) -> int:
    """Undo a whole batch saved by mistake (wrong amount, wrong branch): every valid
    visit of it is reversed as :func:`visit_reverse` does one. Returns how many."""
    if not reason.strip():
        raise ServiceError({"reason": "请说明冲销的原因。"})
    visits = list(
        Visit.objects.select_for_update(of=("self",))
        .select_related("union")
        .filter(batch=batch, state=EntryState.VALID)
    )
    if not batch or not visits:
        raise ServiceError("这一批慰问已经冲销过，或不存在。")
    unions = {v.union_id: v.union for v in visits}
    if actor is not None:
        for union in unions.values():
            require(actor, Perm.CARE_EDIT, union)
    today = dt.date.today()
    note = reason.strip()
    Visit.objects.bulk_create(
        [
            Visit(
                union=v.union, date=today, member_id=v.member_id, recipient=v.recipient,
                recipient_name=v.recipient_name, relation=v.relation, reason=v.reason,
                variant=v.variant, form=v.form, amount=-v.amount, goods=v.goods,
                visitors=v.visitors, note=f"冲销 {v.date:%Y-%m-%d} 的批量登记：{note}"[:500],
                state=EntryState.REVERSAL, reverses=v, batch=batch, created_by=system_or(actor),
            )
            for v in visits
        ],
        batch_size=500,
    )  # fmt: skip
    Visit.objects.filter(pk__in=[v.pk for v in visits]).update(state=EntryState.REVERSED)
    total = sum((v.amount for v in visits), ZERO)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        union=common_ancestor(set(unions)),
        changes={
            "批次": ["", batch],
            "冲销人数": ["", len(visits)],
            "冲销金额": ["", str(total)],
            "原因": ["", note],
        },
        summary=f"冲销整批慰问：{len(visits)} 人次，{rules.money(total)} 元（{note}）",
    )
    return len(visits)


#: Photo formats accepted, by their first bytes (the file name proves nothing).
_IMAGE_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", ".png"),
    (b"WEBP", 8, "image/webp", ".webp"),
    (b"GIF8", 0, "image/gif", ".gif"),
)


def image_type(head: bytes) -> tuple[str, str] | None:
    for signature, offset, content_type, suffix in _IMAGE_SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if content_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return content_type, suffix
    return None


@transaction.atomic
def check_photo(upload: UploadedFile) -> tuple[str, str]:
    """``(content type, suffix)`` of an acceptable photo; refuses the rest, saying why."""
    limit = settings.GONGHUI_PHOTO_MAX_BYTES
    if upload.size and upload.size > limit:
        raise ServiceError({"photo": f"照片不能超过 {limit // (1024 * 1024)} MB，请压缩后再上传。"})
    head = upload.read(16)
    upload.seek(0)
    kind = image_type(head)
    if kind is None:
        raise ServiceError({"photo": "只能上传 JPG、PNG、WEBP 或 GIF 格式的照片。"})
    return kind


@transaction.atomic
def visit_photo_add(*, actor: User | None, visit: Visit, upload: UploadedFile) -> VisitPhoto:
    if actor is not None:
        require(actor, Perm.CARE_EDIT, visit.union)
    content_type, suffix = check_photo(upload)
    photo = VisitPhoto(
        visit=visit,
        name=(upload.name or f"照片{suffix}")[:200],
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=system_or(actor),
    )
    photo.file.save(f"photo{suffix}", upload, save=False)
    photo.save()
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=visit,
        union=visit.union,
        changes={"照片": ["", photo.name]},
        summary=f"上传慰问照片：{visit}",
    )
    return photo


#: A 补助's papers: a photo of the bill, or the PDF the hospital gave.
_PDF_SIGNATURE = b"%PDF-"


def attachment_type(head: bytes) -> tuple[str, str] | None:
    """``(content type, suffix)`` of an image or a PDF, by its first bytes."""
    if head.startswith(_PDF_SIGNATURE):
        return "application/pdf", ".pdf"
    return image_type(head)


def check_attachment(upload: UploadedFile) -> tuple[str, str]:
    """``(content type, suffix)`` of an acceptable attachment; refuses the rest, saying
    why. The name proves nothing: an ``.exe`` renamed ``.pdf`` is refused by content."""
    limit = settings.GONGHUI_PHOTO_MAX_BYTES
    if upload.size and upload.size > limit:
        raise ServiceError(
            {"attachment": f"附件不能超过 {limit // (1024 * 1024)} MB，请压缩或分页后再上传。"}
        )
    head = upload.read(16)
    upload.seek(0)
    kind = attachment_type(head)
    if kind is None:
        raise ServiceError(
            {
                "attachment": "附件只能是 PDF 或 JPG、PNG、WEBP、GIF 图片（如医院票据的照片或扫描件）。"
            }
        )
    return kind


def subsidy_attachment_may_add(actor: User, subsidy: Subsidy) -> bool:
    """The officers who handle the subsidy, and the member whose application it is
    (while it is still being decided)."""
    if can(actor, Perm.CARE_EDIT, subsidy.union):
        return True
    own = actor.pk in (subsidy.applicant_id, subsidy.member.user_id)
    return own and subsidy.status in (SubsidyStatus.APPLIED, SubsidyStatus.REVIEWED)


@transaction.atomic
def subsidy_attachment_add(
    *, actor: User | None, subsidy: Subsidy, upload: UploadedFile
) -> SubsidyAttachment:
    if actor is not None and not subsidy_attachment_may_add(actor, subsidy):
        require(actor, Perm.CARE_EDIT, subsidy.union)
    content_type, suffix = check_attachment(upload)
    attachment = SubsidyAttachment(
        subsidy=subsidy,
        name=(upload.name or f"附件{suffix}")[:200],
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=system_or(actor),
    )
    attachment.file.save(f"attachment{suffix}", upload, save=False)
    attachment.save()
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=subsidy,
        union=subsidy.union,
        changes={"附件": ["", attachment.name]},
        summary=f"上传补助附件：{subsidy}",
    )
    return attachment


# Hospital stays -------------------------------------------------------------------------


@transaction.atomic
def stay_create(
    *,
    actor: User | None,
    member: Member,
    admitted_on: dt.date,
    hospital: str = "",
    note: str = "",
) -> HospitalStay:
    """Report a member in hospital, so that someone visits them."""
    if actor is not None:
        require(actor, Perm.CARE_EDIT, member.union)
    _not_future(admitted_on, "admitted_on", "住院日期")
    stay = HospitalStay.objects.create(
        union=member.union,
        member=member,
        admitted_on=admitted_on,
        hospital=hospital.strip()[:100],
        note=note.strip()[:300],
        created_by=system_or(actor),
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=stay,
        union=member.union,
        summary=f"登记住院：{member.name}（{admitted_on:%Y-%m-%d}，{stay.hospital or '医院未填'}）",
    )
    return stay


@transaction.atomic
def stay_discharge(
    *, actor: User | None, stay: HospitalStay, discharged_on: dt.date
) -> HospitalStay:
    stay = (
        HospitalStay.objects.select_for_update(of=("self",))
        .select_related("member", "union")
        .get(pk=stay.pk)
    )
    if actor is not None:
        require(actor, Perm.CARE_EDIT, stay.union)
    if stay.discharged_on is not None:
        raise ServiceError(f"{stay.member.name}已于 {stay.discharged_on:%Y-%m-%d} 登记出院。")
    if discharged_on < stay.admitted_on:
        raise ServiceError({"discharged_on": "出院日期不能早于住院日期。"})
    _not_future(discharged_on, "discharged_on", "出院日期")
    HospitalStay.objects.filter(pk=stay.pk).update(discharged_on=discharged_on)
    stay.discharged_on = discharged_on
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=stay,
        union=stay.union,
        changes={"出院日期": ["", discharged_on.isoformat()]},
        summary=f"登记出院：{stay.member.name}（{discharged_on:%Y-%m-%d}）",
    )
    return stay


# Hardship files -------------------------------------------------------------------------

FILE_FIELDS = (
    "category",
    "cause",
    "household_size",
    "income",
    "other_income",
    "expenses",
    "hardship_costs",
    "per_capita_monthly",
    "multiple_homes",
    "owns_business",
    "private_school",
    "migrant_worker",
    "labour_since",
)


@dataclass(frozen=True)
class Person:
    """One row of a household, as a form or the CLI passes it."""

    name: str
    relation: str
    annual_income: Decimal = ZERO
    birth_year: int | None = None
    situation: str = ""


def _household(people: Sequence[Person]) -> list[Person]:
    rows = [p for p in people if p.name.strip()]
    if not rows:
        raise ServiceError({"household": "请至少填写一位家庭成员（含会员本人）。"})
    for p in rows:
        if not p.relation.strip():
            raise ServiceError({"household": f"请填写「{p.name}」与会员的关系。"})
        if p.annual_income < 0:
            raise ServiceError({"household": f"「{p.name}」的年收入不能为负数。"})
    return rows


def assess_file(file: HardshipFile, policy: Policy, on: dt.date) -> rules.Assessment:
    household = rules.Household(
        size=file.household_size,
        income=file.income,
        expenses=file.expenses,
        hardship_costs=file.hardship_costs,
        multiple_homes=file.multiple_homes,
        owns_business=file.owns_business,
        private_school=file.private_school,
        migrant_worker=file.migrant_worker,
        labour_since=file.labour_since,
        member_since=file.member.join_date,
    )
    return rules.assess(
        household, dibao=policy.dibao_line, accident_ratio=policy.accident_ratio, on=on
    )


def _apply_figures(file: HardshipFile, people: list[Person], figures: dict[str, Any]) -> None:
    labels = {
        "other_income": "其他家庭收入",
        "expenses": "刚性支出",
        "hardship_costs": "因灾因病支出",
    }
    for key, label in labels.items():
        if key in figures and figures[key] is not None:
            try:
                value = _amount(figures[key], label)
            except ServiceError as exc:
                raise ServiceError({key: exc.message_dict["amount"]}) from None
            setattr(file, key, value)
    for key in ("multiple_homes", "owns_business", "private_school", "migrant_worker"):
        if key in figures:
            setattr(file, key, bool(figures[key]))
    if "labour_since" in figures:
        file.labour_since = figures["labour_since"]
    if "cause" in figures and figures["cause"] is not None:
        file.cause = str(figures["cause"]).strip()[:300]
    file.household_size = len(people)
    file.income = sum((p.annual_income for p in people), ZERO) + file.other_income


def _save_household(file: HardshipFile, people: list[Person]) -> None:
    file.household.all().delete()
    HouseholdMember.objects.bulk_create(
        HouseholdMember(
            file=file,
            name=p.name.strip()[:50],
            relation=p.relation.strip()[:20],
            birth_year=p.birth_year,
            situation=p.situation.strip()[:100],
            annual_income=p.annual_income,
        )
        for p in people
    )


@transaction.atomic
def hardship_file_open(
    *,
    actor: User | None,
    member: Member,
    opened_on: dt.date,
    cause: str,
    household: Sequence[Person],
    **figures: Any,
) -> HardshipFile:
    """Open a 困难职工档案 when the household qualifies (DOMAIN.md formula and exclusions).

    A household that does not qualify is refused with the reasons, in Chinese.
    """
    if actor is not None:
        require(actor, Perm.CARE_EDIT, member.union)
    if member.status not in CURRENT_STATUSES:
        raise ServiceError(
            {"member": f"{member.name}目前「{member.get_status_display()}」，不能建档。"}
        )
    if not cause.strip():
        raise ServiceError({"cause": "请填写致困原因。"})
    _not_future(opened_on, "opened_on", "建档日期")
    if HardshipFile.objects.filter(member=member, status=HardshipStatus.OPEN).exists():
        raise ServiceError({"member": f"{member.name}已有在档的困难职工档案，请在原档案上复核。"})
    people = _household(household)
    file = HardshipFile(union=member.union, member=member, opened_on=opened_on, cause=cause)
    _apply_figures(file, people, {**figures, "cause": cause})
    policy = policy_for(member.union)
    result = assess_file(file, policy, opened_on)
    if not result.eligible:
        raise ServiceError(f"{member.name}家不符合建档条件：{'；'.join(result.reasons)}。")
    file.category = result.category
    file.per_capita_monthly = result.per_capita_monthly or ZERO
    file.last_reviewed_on = opened_on
    file.created_by = system_or(actor)
    try:
        with transaction.atomic():
            file.save()
    except IntegrityError:
        raise ServiceError({"member": f"{member.name}已有在档的困难职工档案。"}) from None
    _save_household(file, people)
    HardshipReview.objects.create(
        file=file,
        date=opened_on,
        category=file.category,
        per_capita_monthly=file.per_capita_monthly,
        household_size=file.household_size,
        income=file.income,
        note="建档认定：" + "；".join(result.reasons),
        reviewer=system_or(actor),
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=file,
        union=file.union,
        changes=audit.diff(HardshipFile, {}, audit.snapshot(file, FILE_FIELDS)),
        summary=f"建立困难职工档案：{member.name}（{file.get_category_display()}）",
    )
    return file


@transaction.atomic
def hardship_file_review(
    *,
    actor: User | None,
    file: HardshipFile,
    date: dt.date,
    household: Sequence[Person] | None = None,
    note: str = "",
    **figures: Any,
) -> tuple[HardshipFile, rules.Assessment]:
    """The yearly review: new figures, the category computed again, a review row kept.

    A household that no longer qualifies stays on file until someone closes it
    (``hardship_file_close``): the review says so, a person decides.
    """
    file = (
        HardshipFile.objects.select_for_update(of=("self",))
        .select_related("member", "union")
        .get(pk=file.pk)
    )
    if actor is not None:
        require(actor, Perm.CARE_EDIT, file.union)
    if file.status != HardshipStatus.OPEN:
        raise ServiceError("已脱档的档案不能复核。")
    _not_future(date, "date", "复核日期")
    if date < file.opened_on:
        raise ServiceError({"date": "复核日期不能早于建档日期。"})
    before = audit.snapshot(file, FILE_FIELDS)
    people = (
        _household(household)
        if household is not None
        else [
            Person(h.name, h.relation, h.annual_income, h.birth_year, h.situation)
            for h in file.household.all()
        ]
    )
    _apply_figures(file, people, figures)
    result = assess_file(file, policy_for(file.union), date)
    file.category = result.category
    file.per_capita_monthly = result.per_capita_monthly or ZERO
    file.last_reviewed_on = date
    file.save()
    if household is not None:
        _save_household(file, people)
    verdict = "；".join(result.reasons)
    if not result.eligible:
        verdict = f"已不符合建档条件（{verdict}），建议脱档"
    HardshipReview.objects.create(
        file=file,
        date=date,
        category=file.category,
        per_capita_monthly=file.per_capita_monthly,
        household_size=file.household_size,
        income=file.income,
        note=(f"{note.strip()}　" if note.strip() else "") + verdict,
        reviewer=system_or(actor),
    )
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=file,
        union=file.union,
        changes=audit.diff(HardshipFile, before, audit.snapshot(file, FILE_FIELDS)),
        summary=f"复核困难职工档案：{file.member.name}（{file.get_category_display()}）",
    )
    return file, result


@transaction.atomic
def hardship_file_close(
    *, actor: User | None, file: HardshipFile, date: dt.date, reason: str
) -> HardshipFile:
    """解困脱档: the household leaves the file, with the reason."""
    file = (
        HardshipFile.objects.select_for_update(of=("self",))
        .select_related("member", "union")
        .get(pk=file.pk)
    )
    if actor is not None:
        require(actor, Perm.CARE_EDIT, file.union)
    if file.status != HardshipStatus.OPEN:
        raise ServiceError("这份档案已经脱档。")
    if not reason.strip():
        raise ServiceError({"reason": "请填写脱档原因。"})
    if date < file.opened_on:
        raise ServiceError({"date": "脱档日期不能早于建档日期。"})
    _not_future(date, "date", "脱档日期")
    file.status = HardshipStatus.CLOSED
    file.closed_on = date
    file.close_reason = reason.strip()[:300]
    file.save(update_fields=["status", "closed_on", "close_reason", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.ARCHIVE,
        obj=file,
        union=file.union,
        changes={"状态": ["在档", "已脱档"], "脱档原因": ["", file.close_reason]},
        summary=f"困难职工档案脱档：{file.member.name}（{file.close_reason}）",
    )
    return file


# Subsidies ------------------------------------------------------------------------------


def _event(
    subsidy: Subsidy,
    old: str,
    new: str,
    actor: User | None,
    note: str = "",
    amount: Decimal | None = None,
) -> None:
    SubsidyEvent.objects.create(
        subsidy=subsidy,
        from_status=old,
        to_status=new,
        amount=amount,
        note=note[:500],
        actor=system_or(actor),
        actor_name=actor.display_name if system_or(actor) else "系统",  # type: ignore[union-attr]
    )


def _move(subsidy: Subsidy, new: str) -> str:
    """The state machine's one door: refuses every move the table does not allow."""
    old = subsidy.status
    if new not in SUBSIDY_TRANSITIONS[old]:
        raise ServiceError(
            f"「{SubsidyStatus(old).label}」的补助不能改为「{SubsidyStatus(new).label}」。"
        )
    subsidy.status = new
    return old


def _locked(subsidy: Subsidy) -> Subsidy:
    return (
        Subsidy.objects.select_for_update(of=("self",))
        .select_related("member", "union", "member__user")
        .get(pk=subsidy.pk)
    )


def _not_own(actor: User | None, subsidy: Subsidy, what: str) -> None:
    """Nobody decides on their own application, nor on a subsidy to themselves."""
    if actor is None:
        return
    if subsidy.applicant_id == actor.pk or subsidy.member.user_id == actor.pk:
        raise ServiceError(f"不能{what}自己提交或自己受益的补助申请，请由其他有权限的人办理。")


def _vouched(user: User) -> bool:
    """Whether someone other than the officer who made ``user``'s login confirmed a
    money role for it (``org.services.grant_confirm``): then the login stands for a
    person of its own, not for its maker."""
    return vouchers(user).exists()


def subsidy_handler_refusal(
    actor: User | None,
    subsidy: Subsidy,
    step: str,
    *,
    events: list[SubsidyEvent] | None = None,
    policy: Policy | None = None,
) -> str | None:
    """Why ``actor`` may not take ``step`` (审核/批准/发放) of ``subsidy`` under the
    four-eyes rules, or None. ``queries.awaiting`` says the same in SQL for the to-do
    list; change both together (``tests/care/test_todo.py`` compares them). The rules
    (审批与发放分离, 《基层工会经费收支管理办法》):

    - the approver neither reviews nor pays the same application;
    - with the union's 最少经手人数 at 3 (the default), the reviewer does not pay either:
      review, approval and payment are three different people; a very small union may
      set 2 (``CarePolicy.min_handlers``), and the record says so;
    - a login made by an officer who already handled (applied for, reviewed, approved)
      this application does not take a later step of it, unless a second officer
      vouched for that login by confirming its money role: else one officer could
      make two logins and push an application through alone.
    """
    if actor is None:
        return None
    if events is None:
        events = list(subsidy.events.only("to_status", "actor_id"))
    done = {
        e.to_status: e.actor_id
        for e in events
        if e.to_status in (SubsidyStatus.REVIEWED, SubsidyStatus.APPROVED)
    }
    reviewer, approver = done.get(SubsidyStatus.REVIEWED), done.get(SubsidyStatus.APPROVED)
    if step == SubsidyStatus.APPROVED and reviewer == actor.pk:
        return "审核和审批应由两个人办理：您已审核过这份申请，请由另一位有审批权限的人批准。"
    if step == SubsidyStatus.PAID:
        if approver == actor.pk:
            return "审批和发放应由两个人办理：您已批准这份申请，请由财务人员登记发放。"
        if reviewer == actor.pk and (policy or policy_for(subsidy.union)).min_handlers >= 3:
            return (
                "审核、批准、发放应由三个不同的人办理：您已审核过这份申请，请由另一位财务人员"
                "登记发放（很小的工会可由主席在开支标准中把「最少经手人数」设为 2 人）。"
            )
    maker = actor.created_by_id
    if maker is not None and maker != actor.pk:
        handled = {e.actor_id for e in events} | {subsidy.applicant_id}
        if maker in handled and not _vouched(actor):
            return (
                "您的账号是由已经办理过这份申请的人创建的，不能再办理它的后续环节，"
                "请由其他人办理（或请上级主席、另一位主席确认您的财务/审批角色）。"
            )
    return None


def _require_handler(actor: User | None, subsidy: Subsidy, step: str) -> None:
    refusal = subsidy_handler_refusal(actor, subsidy, step)
    if refusal:
        raise ServiceError(refusal)


def _handlers_note(subsidy: Subsidy, note: str) -> str:
    """At payment under the two-person rule, the record says so."""
    if policy_for(subsidy.union).min_handlers < 3:
        return f"{note}（本工会按「最少经手人数 2 人」办理）".strip()
    return note


def subsidy_may_apply(actor: User, member: Member) -> bool:
    """A member applies for themself; an officer applies on a member's behalf."""
    return member.user_id == actor.pk or can(actor, Perm.CARE_EDIT, member.union)


@transaction.atomic
def subsidy_apply(
    *,
    actor: User | None,
    member: Member,
    kind: str,
    amount: Decimal | int | str,
    reason: str,
    source: str = FundSource.OWN,
    applied_on: dt.date | None = None,
    hardship_file: HardshipFile | None = None,
) -> Subsidy:
    member = Member.objects.select_related("union").get(pk=member.pk)
    if actor is not None and not subsidy_may_apply(actor, member):
        require(actor, Perm.CARE_EDIT, member.union)
    if kind not in SubsidyKind.values:
        raise ServiceError({"kind": "请选择补助类型。"})
    if source not in FundSource.values:
        raise ServiceError({"source": "请选择资金来源。"})
    if not reason.strip():
        raise ServiceError({"reason": "请写明申请理由。"})
    if member.status not in CURRENT_STATUSES:
        raise ServiceError(
            {"member": f"{member.name}目前「{member.get_status_display()}」，不能申请补助。"}
        )
    value = _amount(amount, "申请金额", positive=True)
    applied_on = applied_on or dt.date.today()
    _not_future(applied_on, "applied_on", "申请日期")
    pending = Subsidy.objects.filter(
        member=member,
        kind=kind,
        status__in=[SubsidyStatus.APPLIED, SubsidyStatus.REVIEWED, SubsidyStatus.APPROVED],
    ).first()
    if pending is not None:
        raise ServiceError(
            f"{member.name}已有一份待办的{pending.get_kind_display()}申请（{rules.money(pending.requested_amount)} 元，"
            f"{pending.get_status_display()}），请等它办结后再申请。"
        )
    if hardship_file is None and kind == SubsidyKind.HARDSHIP:
        hardship_file = HardshipFile.objects.filter(
            member=member, status=HardshipStatus.OPEN
        ).first()
    subsidy = Subsidy.objects.create(
        union=member.union,
        member=member,
        kind=kind,
        reason=reason.strip()[:500],
        source=source,
        applied_on=applied_on,
        requested_amount=value,
        hardship_file=hardship_file,
        applicant=system_or(actor),
    )
    _event(subsidy, "", SubsidyStatus.APPLIED, actor, reason.strip(), value)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=subsidy,
        union=subsidy.union,
        changes={"补助类型": ["", subsidy.get_kind_display()], "申请金额": ["", str(value)]},
        summary=f"申请{subsidy.get_kind_display()}：{member.name}，{rules.money(value)} 元",
    )
    return subsidy


@transaction.atomic
def subsidy_review(*, actor: User | None, subsidy: Subsidy, note: str = "") -> Subsidy:
    """初审: the committee checks the application and passes it to the chair."""
    subsidy = _locked(subsidy)
    if actor is not None:
        require(actor, Perm.CARE_EDIT, subsidy.union)
    _not_own(actor, subsidy, "审核")
    old = _move(subsidy, SubsidyStatus.REVIEWED)
    _require_handler(actor, subsidy, SubsidyStatus.REVIEWED)
    subsidy.save(update_fields=["status", "updated_at"])
    _event(subsidy, old, subsidy.status, actor, note)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=subsidy,
        union=subsidy.union,
        changes={"状态": ["已申请", "已审核"], "意见": ["", note]},
        summary=f"审核通过补助申请：{subsidy}",
    )
    return subsidy


@transaction.atomic
def subsidy_approve(
    *,
    actor: User | None,
    subsidy: Subsidy,
    amount: Decimal | int | str | None = None,
    note: str = "",
    confirm_over_cap: bool = False,
) -> Subsidy:
    """批准: the chair approves an amount up to the one requested, within the caps."""
    subsidy = _locked(subsidy)
    if actor is not None:
        require(actor, Perm.CARE_APPROVE, subsidy.union)
    _not_own(actor, subsidy, "批准")
    old = _move(subsidy, SubsidyStatus.APPROVED)  # the state first: then the amount
    _require_handler(actor, subsidy, SubsidyStatus.APPROVED)
    value = _amount(
        amount if amount not in (None, "") else subsidy.requested_amount, "批准金额", positive=True
    )
    if value > subsidy.requested_amount:
        raise ServiceError(
            {"amount": f"批准金额不能超过申请金额 {rules.money(subsidy.requested_amount)} 元。"}
        )
    warning = None
    if subsidy.kind == SubsidyKind.HARDSHIP:
        policy = policy_for(subsidy.union)
        warning = cap_warning(policy=policy, item=CapItem.HARDSHIP, amount=value)
        note_cap = _enforce(policy, warning, confirm_over_cap)
        if note_cap:
            note = f"{note}（超标准已确认：{note_cap}）".strip()
    subsidy.approved_amount = value
    subsidy.save(update_fields=["status", "approved_amount", "updated_at"])
    _event(subsidy, old, subsidy.status, actor, note, value)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=subsidy,
        union=subsidy.union,
        changes={"状态": ["已审核", "已批准"], "批准金额": ["", str(value)], "意见": ["", note]},
        summary=f"批准补助：{subsidy}，{rules.money(value)} 元",
    )
    return subsidy


@transaction.atomic
def subsidy_reject(*, actor: User | None, subsidy: Subsidy, reason: str) -> Subsidy:
    """Refuse an application, at review (委员) or at approval (主席), with the reason."""
    subsidy = _locked(subsidy)
    if actor is not None:
        perm = Perm.CARE_EDIT if subsidy.status == SubsidyStatus.APPLIED else Perm.CARE_APPROVE
        require(actor, perm, subsidy.union)
    _not_own(actor, subsidy, "处理")
    if not reason.strip():
        raise ServiceError({"reason": "请填写未通过的原因，申请人会看到它。"})
    old = _move(subsidy, SubsidyStatus.REJECTED)
    subsidy.reject_reason = reason.strip()[:300]
    subsidy.save(update_fields=["status", "reject_reason", "updated_at"])
    _event(subsidy, old, subsidy.status, actor, reason.strip())
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=subsidy,
        union=subsidy.union,
        changes={"状态": [SubsidyStatus(old).label, "未通过"], "原因": ["", subsidy.reject_reason]},
        summary=f"补助申请未通过：{subsidy}",
    )
    return subsidy


@transaction.atomic
def subsidy_withdraw(*, actor: User, subsidy: Subsidy) -> Subsidy:
    """The applicant (or the member it is for) takes back an application not yet
    approved."""
    subsidy = _locked(subsidy)
    if actor.pk not in (subsidy.applicant_id, subsidy.member.user_id):
        raise ServiceError("只有申请人本人可以撤回这份申请。")
    if subsidy.status not in (SubsidyStatus.APPLIED, SubsidyStatus.REVIEWED):
        raise ServiceError(f"「{subsidy.get_status_display()}」的申请不能撤回。")
    old = _move(subsidy, SubsidyStatus.REJECTED)
    subsidy.reject_reason = "申请人撤回"
    subsidy.save(update_fields=["status", "reject_reason", "updated_at"])
    _event(subsidy, old, subsidy.status, actor, "申请人撤回")
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=subsidy,
        union=subsidy.union,
        changes={"状态": [SubsidyStatus(old).label, "未通过"], "原因": ["", "申请人撤回"]},
        summary=f"撤回补助申请：{subsidy}",
    )
    return subsidy


@transaction.atomic
def subsidy_pay(
    *,
    actor: User | None,
    subsidy: Subsidy,
    paid_on: dt.date | None = None,
    amount: Decimal | int | str | None = None,
    note: str = "",
) -> Subsidy:
    """发放: the treasurer pays what was approved (or less), on a date."""
    subsidy = _locked(subsidy)
    if actor is not None:
        require(actor, Perm.CARE_PAY, subsidy.union)
    _not_own(actor, subsidy, "发放")
    old = _move(subsidy, SubsidyStatus.PAID)
    _require_handler(actor, subsidy, SubsidyStatus.PAID)
    note = _handlers_note(subsidy, note)
    assert subsidy.approved_amount is not None
    value = _amount(
        amount if amount not in (None, "") else subsidy.approved_amount, "发放金额", positive=True
    )
    if value > subsidy.approved_amount:
        raise ServiceError(
            {"amount": f"发放金额不能超过批准金额 {rules.money(subsidy.approved_amount)} 元。"}
        )
    paid_on = paid_on or dt.date.today()
    _not_future(paid_on, "paid_on", "发放日期")
    if paid_on < subsidy.applied_on:
        raise ServiceError({"paid_on": "发放日期不能早于申请日期。"})
    subsidy.paid_amount = value
    subsidy.paid_on = paid_on
    subsidy.save(update_fields=["status", "paid_amount", "paid_on", "updated_at"])
    _event(subsidy, old, subsidy.status, actor, note, value)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=subsidy,
        union=subsidy.union,
        changes={
            "状态": ["已批准", "已发放"],
            "发放金额": ["", str(value)],
            "发放日期": ["", paid_on.isoformat()],
        },
        summary=f"发放补助：{subsidy}，{rules.money(value)} 元",
    )
    return subsidy


# Donations ------------------------------------------------------------------------------


@transaction.atomic
def drive_create(
    *,
    actor: User | None,
    union: Union,
    name: str,
    start_date: dt.date,
    purpose: str = "",
    beneficiary: str = "",
    end_date: dt.date | None = None,
    note: str = "",
) -> DonationDrive:
    if actor is not None:
        require(actor, Perm.CARE_EDIT, union)
    if not name.strip():
        raise ServiceError({"name": "请填写活动名称，如「2024年慈善一日捐」。"})
    if end_date and end_date < start_date:
        raise ServiceError({"end_date": "结束日期不能早于开始日期。"})
    if DonationDrive.objects.filter(union=union, name=name.strip()).exists():
        raise ServiceError({"name": f"「{union.name}」已有名为「{name.strip()}」的捐款活动。"})
    drive = DonationDrive.objects.create(
        union=union,
        name=name.strip()[:100],
        purpose=purpose.strip()[:300],
        beneficiary=beneficiary.strip()[:100],
        start_date=start_date,
        end_date=end_date,
        note=note.strip()[:500],
        created_by=system_or(actor),
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=drive,
        union=union,
        summary=f"发起捐款活动：{drive.name}",
    )
    return drive


@transaction.atomic
def donation_add(
    *,
    actor: User | None,
    drive: DonationDrive,
    amount: Decimal | int | str,
    date: dt.date,
    member: Member | None = None,
    donor_kind: str = DonorKind.MEMBER,
    donor_name: str = "",
    note: str = "",
) -> Donation:
    """A gift to a drive: by a member of the drive's subtree, another person, or a unit."""
    if actor is not None:
        require(actor, Perm.CARE_EDIT, drive.union)
    if donor_kind not in DonorKind.values:
        raise ServiceError({"donor_kind": "请选择捐款人类型。"})
    if donor_kind == DonorKind.MEMBER:
        if member is None:
            raise ServiceError({"member": "请填写捐款的会员。"})
        if member.status not in CURRENT_STATUSES:
            raise ServiceError(
                {
                    "member": f"{member.name}目前「{member.get_status_display()}」，不能登记为会员捐款；"
                    "可按「个人（非会员）」登记。"
                }
            )
        if not member.union.path.startswith(drive.union.path):
            raise ServiceError({"member": f"{member.name}不在「{drive.union.name}」范围内。"})
        donor_name = member.name
        union = member.union
    else:
        member = None
        union = drive.union
        if not donor_name.strip():
            raise ServiceError({"donor_name": "请填写捐款人或捐款单位的名称。"})
    value = _amount(amount, "捐款金额", positive=True)
    _not_future(date, "date", "捐款日期")
    if date < drive.start_date:
        raise ServiceError(
            {"date": f"捐款日期早于活动开始日期（{drive.start_date:%Y-%m-%d}），请核对。"}
        )
    donation = Donation.objects.create(
        drive=drive,
        union=union,
        donor_kind=donor_kind,
        member=member,
        donor_name=donor_name.strip()[:100],
        amount=value,
        date=date,
        note=note.strip()[:300],
        created_by=system_or(actor),
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=donation,
        union=union,
        changes={
            "捐款活动": ["", drive.name],
            "捐款人": ["", donation.donor_name],
            "金额": ["", str(value)],
        },
        summary=f"登记捐款：{drive.name}，{donation.donor_name} {rules.money(value)} 元",
    )
    return donation


@transaction.atomic
def donation_reverse(*, actor: User | None, donation: Donation, reason: str) -> Donation:
    donation = (
        Donation.objects.select_for_update(of=("self",))
        .select_related("drive", "union")
        .get(pk=donation.pk)
    )
    if actor is not None:
        require(actor, Perm.CARE_EDIT, donation.drive.union)
    return _reverse_entry(
        actor,
        donation,
        reason,
        copy=("drive", "union", "donor_kind", "member", "donor_name"),
        what="这笔捐款",
        summary=f"冲销捐款：{donation}",
    )


# Coverage -------------------------------------------------------------------------------


@transaction.atomic
def programme_create(
    *,
    actor: User | None,
    union: Union,
    year: int,
    kind: str,
    name: str,
    provider: str = "",
    premium: Decimal | None = None,
    note: str = "",
) -> CoverageProgramme:
    if actor is not None:
        require(actor, Perm.CARE_EDIT, union)
    if kind not in CoverageKind.values:
        raise ServiceError({"kind": "请选择保障类型。"})
    if not name.strip():
        raise ServiceError({"name": "请填写项目名称，如「职工综合医疗保障」。"})
    if not 2000 <= year <= dt.date.today().year + 1:
        raise ServiceError({"year": f"年度请填写 2000 到 {dt.date.today().year + 1} 之间的年份。"})
    if CoverageProgramme.objects.filter(union=union, year=year, name=name.strip()).exists():
        raise ServiceError({"name": f"「{union.name}」{year}年已有「{name.strip()}」。"})
    programme = CoverageProgramme.objects.create(
        union=union,
        year=year,
        kind=kind,
        name=name.strip()[:100],
        provider=provider.strip()[:100],
        premium=premium,
        note=note.strip()[:500],
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=programme,
        union=union,
        summary=f"建立保障项目：{programme}",
    )
    return programme


@transaction.atomic
def programme_enrol(
    *,
    actor: User | None,
    programme: CoverageProgramme,
    members: Iterable[Member] | None = None,
    enrolled_on: dt.date | None = None,
) -> int:
    """Enrol members (all 在册 members of the programme's subtree when none are given);
    those already enrolled are skipped. Returns how many were added."""
    if actor is not None:
        require(actor, Perm.CARE_EDIT, programme.union)
    from .queries import eligible_members

    pool = eligible_members(programme.union)
    if members is not None:
        ids = list({m.pk for m in members})
        outside = len(ids) - pool.filter(pk__in=ids).count()
        if outside:
            raise ServiceError(
                {"member": f"有 {outside} 人不是「{programme.union.name}」的在册会员，不能参保。"}
            )
        pool = pool.filter(pk__in=ids)
    taken = set(programme.enrolments.values_list("member_id", flat=True))
    new_ids = [pk for pk in pool.values_list("pk", flat=True) if pk not in taken]
    on = enrolled_on or dt.date.today()
    Enrolment.objects.bulk_create(
        [Enrolment(programme=programme, member_id=pk, enrolled_on=on) for pk in new_ids],
        batch_size=1000,
    )
    if new_ids:
        audit.record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=programme,
            union=programme.union,
            changes={"新增参保人数": ["", len(new_ids)]},
            summary=f"{programme}：新增参保 {len(new_ids)} 人",
        )
    return len(new_ids)


@transaction.atomic
def enrolment_remove(*, actor: User | None, enrolment: Enrolment) -> None:
    """Take back an enrolment made by mistake (it carries no money)."""
    programme = enrolment.programme
    if actor is not None:
        require(actor, Perm.CARE_EDIT, programme.union)
    if programme.claims.filter(member_id=enrolment.member_id).exists():
        raise ServiceError("该会员在这个项目下已有理赔记录，不能取消参保。")
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=programme,
        union=programme.union,
        changes={"取消参保": ["", enrolment.member.name]},
        summary=f"{programme}：取消 {enrolment.member.name} 的参保",
    )
    enrolment.delete()


@transaction.atomic
def claim_create(
    *,
    actor: User | None,
    programme: CoverageProgramme,
    member: Member,
    date: dt.date,
    amount: Decimal | int | str,
    note: str = "",
) -> Claim:
    if actor is not None:
        require(actor, Perm.CARE_EDIT, programme.union)
    if not programme.enrolments.filter(member=member).exists():
        raise ServiceError({"member": f"{member.name}没有参加「{programme.name}」，不能申报理赔。"})
    value = _amount(amount, "申报金额", positive=True)
    _not_future(date, "date", "申报日期")
    claim = Claim.objects.create(
        programme=programme, member=member, date=date, amount=value, note=note.strip()[:300]
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=claim,
        union=programme.union,
        changes={"会员": ["", member.name], "申报金额": ["", str(value)]},
        summary=f"登记理赔：{programme}，{member.name} {rules.money(value)} 元",
    )
    return claim


@transaction.atomic
def claim_decide(
    *,
    actor: User | None,
    claim: Claim,
    status: str,
    decided_on: dt.date | None = None,
    paid_amount: Decimal | int | str | None = None,
    note: str = "",
) -> Claim:
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("programme__union", "member")
        .get(pk=claim.pk)
    )
    if actor is not None:
        require(actor, Perm.CARE_EDIT, claim.programme.union)
    if claim.status != ClaimStatus.SUBMITTED:
        raise ServiceError(f"这笔理赔已经「{claim.get_status_display()}」，不能再改。")
    if status not in (ClaimStatus.PAID, ClaimStatus.REJECTED):
        raise ServiceError({"status": "请选择已赔付或未获赔。"})
    decided_on = decided_on or dt.date.today()
    _not_future(decided_on, "decided_on", "处理日期")
    if status == ClaimStatus.PAID:
        value = _amount(
            paid_amount if paid_amount not in (None, "") else claim.amount,
            "赔付金额",
            positive=True,
        )
        if value > claim.amount:
            raise ServiceError(
                {"paid_amount": f"赔付金额不能超过申报金额 {rules.money(claim.amount)} 元。"}
            )
        claim.paid_amount = value
    elif not note.strip():
        raise ServiceError({"note": "请填写未获赔的原因。"})
    claim.status = status
    claim.decided_on = decided_on
    if note.strip():
        claim.note = note.strip()[:300]
    claim.save(update_fields=["status", "decided_on", "paid_amount", "note", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=claim,
        union=claim.programme.union,
        changes={
            "状态": ["已申报", claim.get_status_display()],
            "赔付金额": ["", str(claim.paid_amount or "")],
        },
        summary=f"理赔{claim.get_status_display()}：{claim.programme}，{claim.member.name}",
    )
    return claim


# Imports ------------------------------------------------------------------------------


@dataclass
class LedgerPlan:
    """The rows an import of a ledger writes (checked by ``care.imports``), and what its
    audit row says of them."""

    rows: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    record_id: int | None = None
    file_name: str = ""
    #: What the import creates before its rows (a donation sheet's new drives).
    extra: list[Any] = field(default_factory=list)


def _import_rows(
    *, actor: User | None, plan: LedgerPlan, perm: Perm, label: str, total: Decimal
) -> None:
    """Insert the planned rows and the import's audit row. Every row's union must be
    within the importer's reach (checked again here, at write time)."""
    union_ids = {r.union_id for r in plan.rows}
    if actor is not None:
        for union in Union.objects.filter(pk__in=union_ids):
            require(actor, perm, union)
    model = type(plan.rows[0]) if plan.rows else Visit
    model.objects.bulk_create(plan.rows, batch_size=1000)
    ids = [r.pk for r in plan.rows]
    changes: dict[str, Any] = {"新增": ["", len(ids)], "合计金额": ["", str(total)]}
    if plan.record_id:
        changes["导入记录"] = ["", plan.record_id]
    if ids:
        changes["编号"] = ["", f"{min(ids)}–{max(ids)}"]
    if plan.warnings:
        changes["超标准"] = ["", len(plan.warnings)]
    record = ImportRecord.objects.filter(pk=plan.record_id).first() if plan.record_id else None
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=record,
        union=common_ancestor(union_ids),
        summary=f"导入{label}「{plan.file_name}」：新增 {len(ids)} 条，合计 {rules.money(total)} 元",
        changes=changes,
    )


@transaction.atomic
def visits_import(*, actor: User | None, plan: LedgerPlan) -> None:
    """Write the visits of a checked 慰问 sheet (``care.imports.VisitImport``)."""
    total = sum((v.amount for v in plan.rows), ZERO)
    _import_rows(actor=actor, plan=plan, perm=Perm.CARE_EDIT, label="慰问记录", total=total)


@transaction.atomic
def subsidies_import(*, actor: User | None, plan: LedgerPlan) -> None:
    """Record subsidies already paid, each with its history (``SubsidyImport``).

    Money that went out: only those who pay (``care.pay``) record it, and never to
    themselves.
    """
    if actor is not None:
        own = [s for s in plan.rows if s.member.user_id == actor.pk]
        if own:
            raise ServiceError("不能登记发给自己的补助，请由其他有权限的人导入。")
    total = sum((s.paid_amount for s in plan.rows), ZERO)
    _import_rows(actor=actor, plan=plan, perm=Perm.CARE_PAY, label="已发放的补助", total=total)
    who = system_or(actor)
    SubsidyEvent.objects.bulk_create(
        [
            SubsidyEvent(
                subsidy=s,
                from_status="",
                to_status=SubsidyStatus.PAID,
                amount=s.paid_amount,
                note=f"导入已发放记录（{plan.file_name}）"[:500],
                actor=who,
                actor_name=who.display_name if who is not None else "系统",
            )
            for s in plan.rows
        ],
        batch_size=1000,
    )


@transaction.atomic
def donations_import(*, actor: User | None, plan: LedgerPlan) -> None:
    """Write the gifts of a checked 捐款 sheet (``DonationImport``)."""
    total = sum((d.amount for d in plan.rows), ZERO)
    _import_rows(actor=actor, plan=plan, perm=Perm.CARE_EDIT, label="捐款记录", total=total)
