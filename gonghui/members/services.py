"""Every write to the roster. One transaction each, each audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from pypinyin import lazy_pinyin

from gonghui.common import audit, crypto
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction
from gonghui.common.scope import Perm, can, require
from gonghui.common.validators import (
    id_birth_date,
    id_gender,
    id_number_problem,
    normalize_id_number,
    normalize_phone,
    normalize_text,
    phone_problem,
)
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User

from .choices import (
    CURRENT_STATUSES,
    STATUS_AFTER,
    TRANSITIONS,
    ChangeKind,
    EmploymentType,
    Gender,
)
from .models import Member, MembershipChange


class MemberFields(TypedDict, total=False):
    """The editable fields of a member, as forms, the importer and the CLI pass them.

    ``id_number`` and ``phone`` are the plain numbers; they are encrypted on the way in.
    """

    union: Union
    name: str
    gender: str
    id_number: str
    birth_date: dt.date | None
    phone: str
    employee_no: str
    department: str
    job_title: str
    employment_type: str
    ethnicity: str
    political_status: str
    education: str
    work_start_date: dt.date | None
    join_date: dt.date | None
    card_no: str
    monthly_wage: Decimal | None


#: Fields compared for the audit log (personal numbers through their masked form).
AUDITED_FIELDS = (
    "union",
    "name",
    "gender",
    "id_number_masked",
    "birth_date",
    "phone_masked",
    "employee_no",
    "department",
    "job_title",
    "employment_type",
    "ethnicity",
    "political_status",
    "education",
    "work_start_date",
    "join_date",
    "card_no",
    "monthly_wage",
    "status",
)

_PLAIN_FIELDS = (
    "employee_no",
    "department",
    "job_title",
    "ethnicity",
    "political_status",
    "education",
    "card_no",
)

# 多音字 surnames: the surname reading, not the common one (曾 zeng, not ceng).
_SURNAMES = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "乐": "yue",
    "召": "shao",
    "覃": "qin",
    "缪": "miao",
    "翟": "zhai",
    "盖": "ge",
    "种": "chong",
    "秘": "bi",
    "尉": "yu",
    "长": "chang",
    "重": "chong",
    "纪": "ji",
    "繁": "po",
    "折": "she",
    "员": "yun",
    "句": "gou",
    "卜": "bu",
    "柏": "bai",
    "薄": "bo",
    "贲": "ben",
    "郇": "huan",
}


def name_pinyin(name: str) -> tuple[str, str]:
    """``("zhangsan", "zs")`` for 张三; letters only, lower case."""
    syllables = [s.lower() for s in lazy_pinyin(name) if s.isascii() and s.isalpha()]
    if name and name[0] in _SURNAMES and syllables:
        syllables[0] = _SURNAMES[name[0]]
    return "".join(syllables)[:200], "".join(s[0] for s in syllables)[:50]


def apply_fields(member: Member, fields: MemberFields) -> dict[str, str]:
    """Normalise and validate ``fields`` onto ``member`` (unsaved); return the errors.

    Errors are keyed by field name and say in Chinese what to fix. This is the one place
    the rules of a member's data live: forms, the importer and the services all call it.
    """
    errors: dict[str, str] = {}
    data: dict[str, Any] = dict(fields)
    if "union" in data:
        union = data["union"]
        if union.kind == UnionKind.FEDERATION:
            errors["union"] = f"「{union.name}」是总工会，会员应登记在基层工会、分工会或工会小组。"
        elif union.is_archived:
            errors["union"] = f"「{union.name}」已归档，不能登记会员。"
        member.union = union
    if "name" in data:
        name = normalize_text(data["name"] or "")
        if not name:
            errors["name"] = "请填写姓名。"
        elif len(name) > 50:
            errors["name"] = "姓名过长（最多 50 个字）。"
        member.name = name
        member.name_pinyin, member.name_initials = name_pinyin(name)
    for key in _PLAIN_FIELDS:
        if key in data:
            setattr(member, key, normalize_text(data[key] or ""))
    for key in ("ethnicity", "political_status", "education"):
        value = getattr(member, key)
        choices = {c for c, _ in Member.field_choices(key)}
        if value and value not in choices:
            label = Member._meta.get_field(key).verbose_name  # type: ignore[union-attr]
            errors[key] = f"{label}「{value}」不在可选范围内。"
    if "employment_type" in data:
        value = data["employment_type"] or EmploymentType.STAFF
        if value not in EmploymentType.values:
            errors["employment_type"] = f"用工形式「{value}」不在可选范围内。"
        member.employment_type = value
    if "gender" in data:
        gender = data["gender"] or ""
        if gender and gender not in Gender.values:
            errors["gender"] = "性别只能是男或女。"
        member.gender = gender
    for key in ("birth_date", "work_start_date", "join_date"):
        if key in data:
            setattr(member, key, data[key])
    if "monthly_wage" in data:
        wage = data["monthly_wage"]
        if wage is not None and wage < 0:
            errors["monthly_wage"] = "月工资不能为负数。"
        member.monthly_wage = wage
    if "phone" in data:
        phone = normalize_phone(data["phone"] or "")
        problem = phone_problem(phone)
        if problem:
            errors["phone"] = f"手机号{problem}。"
        else:
            member.phone_enc = crypto.encrypt(phone)
            member.phone_hash = crypto.lookup_hash(phone, purpose="phone")
            member.phone_masked = crypto.mask_phone(phone)
    if "id_number" in data:
        number = normalize_id_number(data["id_number"] or "")
        problem = id_number_problem(number)
        if problem:
            errors["id_number"] = f"身份证号{problem}。"
        else:
            member.id_number_enc = crypto.encrypt(number)
            member.id_number_hash = crypto.lookup_hash(number, purpose="id")
            member.id_number_masked = crypto.mask_id_number(number) if number else ""
            if number:
                born = id_birth_date(number)
                if data.get("birth_date") and data["birth_date"] != born:
                    errors["birth_date"] = (
                        f"出生日期与身份证号不符（身份证号中为 {born:%Y-%m-%d}），留空即可自动填写。"
                    )
                member.birth_date = born
                sex = id_gender(number)
                if member.gender and member.gender != sex:
                    errors["gender"] = f"性别与身份证号不符（身份证号显示为{Gender(sex).label}）。"
                member.gender = sex
    if member.work_start_date and member.birth_date and member.work_start_date < member.birth_date:
        errors["work_start_date"] = "参加工作日期早于出生日期，请核对。"
    return errors


def union_trail(union: Union) -> str:
    """``区教育工会 / 第一中学工会 / 语文组``: where a node sits, for messages."""
    names = dict(Union.objects.filter(pk__in=union.ancestor_ids()).values_list("pk", "name"))
    return " / ".join([*(names[i] for i in union.ancestor_ids() if i in names), union.name])


def duplicate_problems(member: Member, viewer: User | None = None) -> dict[str, str]:
    """Current members anywhere in the tree with the same 身份证号 or 手机号.

    The whole tree is searched, not just the viewer's scope, because a person may be
    a member only once. The message names the union; the other member's name is shown
    only to a viewer who may see that union's roster.
    """
    q = Q()
    if member.id_number_hash:
        q |= Q(id_number_hash=member.id_number_hash)
    if member.phone_hash:
        q |= Q(phone_hash=member.phone_hash)
    if not q:
        return {}
    others = (
        Member.objects.filter(q, status__in=CURRENT_STATUSES)
        .exclude(pk=member.pk)
        .select_related("union")[:5]
    )
    problems: dict[str, str] = {}
    for other in others:
        who = "一位在册会员"
        if viewer is None or can(viewer, Perm.ROSTER_VIEW, other.union):
            who = f"在册会员「{other.name}」" + (
                f"（会员证号 {other.card_no}）" if other.card_no else ""
            )
        where = f"「{union_trail(other.union)}」的{who}"
        if member.id_number_hash and other.id_number_hash == member.id_number_hash:
            problems["id_number"] = (
                f"该身份证号已是{where}。同一人只能在一处入会；如已调入本单位，"
                "请原工会先办理转出，再在此登记转入。"
            )
        if member.phone_hash and other.phone_hash == member.phone_hash:
            problems.setdefault("phone", f"该手机号已登记在{where}名下，请核对。")
    return problems


def card_union(union: Union) -> Union:
    """The union that numbers member cards for ``union``: the nearest 基层工会 above or at it."""
    if union.kind in (UnionKind.UNION, UnionKind.FEDERATION):
        return union
    found = (
        Union.objects.filter(pk__in=union.ancestor_ids(), kind=UnionKind.UNION)
        .order_by("-depth")
        .first()
    )
    return found or union


def next_card_no(union: Union) -> str:
    """The next free card number of ``union``'s 基层工会, e.g. ``YZ01-00042``.

    The counter is incremented with ``F()`` inside the caller's transaction, which
    locks the row, so two officers adding members at once never get the same number.
    """
    base = card_union(union)
    for _ in range(1000):
        Union.objects.filter(pk=base.pk).update(card_seq=F("card_seq") + 1)
        seq = Union.objects.values_list("card_seq", flat=True).get(pk=base.pk)
        candidate = f"{base.code}-{seq:05d}"
        if not Member.objects.filter(card_no=candidate).exists():
            return candidate
    raise ServiceError("无法生成会员证号，请手工填写。")


def _card_problem(member: Member) -> str | None:
    if not member.card_no:
        return None
    other = Member.objects.filter(card_no=member.card_no).exclude(pk=member.pk).first()
    if other:
        return f"会员证号「{member.card_no}」已被「{other.union.name}」的会员使用，请换一个或留空自动编号。"
    return None


@transaction.atomic
def member_create(
    *,
    actor: User | None,
    join_kind: str = ChangeKind.JOIN,
    other_org: str = "",
    **fields: Unpack[MemberFields],
) -> Member:
    """Register a member (入会 or 转入) and start their history.

    Refuses a 身份证号 or 手机号 already current anywhere in the tree, and says where.
    """
    if "union" not in fields:
        raise ServiceError({"union": "请选择所属工会。"})
    if actor is not None:
        require(actor, Perm.ROSTER_EDIT, fields["union"])
    if join_kind not in TRANSITIONS[""]:
        raise ServiceError({"join_kind": "新会员只能以入会或转入方式登记。"})
    member = Member()
    errors = apply_fields(member, fields)
    if not errors:
        errors.update(duplicate_problems(member, actor))
        card = _card_problem(member)
        if card:
            errors["card_no"] = card
    if errors:
        raise ServiceError(errors)
    if not member.card_no:
        member.card_no = next_card_no(member.union)
    date = member.join_date or dt.date.today()
    if member.join_date is None and join_kind == ChangeKind.JOIN:
        member.join_date = date
    member.status = STATUS_AFTER[join_kind]
    try:
        with transaction.atomic():
            member.save(force_insert=True)
    except IntegrityError as exc:
        # Another officer registered the same person a moment ago.
        raise ServiceError(
            {"id_number": "该身份证号刚刚已被登记为在册会员，请刷新后核对。"}
        ) from exc
    MembershipChange.objects.create(
        member=member,
        union=member.union,
        kind=join_kind,
        date=date,
        other_org=other_org,
        created_by=actor if actor and actor.pk else None,
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=member,
        union=member.union,
        changes=audit.diff(Member, {}, audit.snapshot(member, AUDITED_FIELDS)),
        summary=f"登记会员「{member.name}」（{ChangeKind(join_kind).label}）",
    )
    return member


@transaction.atomic
def member_update(*, actor: User | None, member: Member, **fields: Unpack[MemberFields]) -> Member:
    """Change a member's data. Moving to another union needs edit rights at both ends."""
    member = Member.objects.select_for_update().select_related("union").get(pk=member.pk)
    if actor is not None:
        require(actor, Perm.ROSTER_EDIT, member.union)
        if "union" in fields and fields["union"].pk != member.union_id:
            require(actor, Perm.ROSTER_EDIT, fields["union"])
    before = audit.snapshot(member, AUDITED_FIELDS)
    errors = apply_fields(member, fields)
    if not errors and member.is_current:
        errors.update(duplicate_problems(member, actor))
    if not errors:
        card = _card_problem(member)
        if card:
            errors["card_no"] = card
    if errors:
        raise ServiceError(errors)
    if not member.card_no:
        member.card_no = next_card_no(member.union)
    member.save()
    changes = audit.diff(Member, before, audit.snapshot(member, AUDITED_FIELDS))
    if changes:
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=member,
            union=member.union,
            changes=changes,
            summary=f"修改会员「{member.name}」",
        )
    return member


@transaction.atomic
def member_change(
    *,
    actor: User | None,
    member: Member,
    kind: str,
    date: dt.date,
    other_org: str = "",
    note: str = "",
) -> MembershipChange:
    """Record a membership change; the member's status follows it.

    Only the moves in ``choices.TRANSITIONS`` are allowed, and the history stays in
    date order: a change may not be dated before the latest one.
    """
    member = Member.objects.select_for_update().select_related("union").get(pk=member.pk)
    if actor is not None:
        require(actor, Perm.ROSTER_EDIT, member.union)
    allowed = TRANSITIONS[member.status]
    if kind not in allowed:
        names = "、".join(ChangeKind(k).label for k in allowed) or "无"
        raise ServiceError(
            {
                "kind": f"会员当前为「{member.get_status_display()}」，不能办理"
                f"「{ChangeKind(kind).label}」；可办理：{names}。"
            }
        )
    if date > dt.date.today():
        raise ServiceError({"date": "变动日期不能晚于今天。"})
    last = member.changes.order_by("-date", "-id").first()
    if last and date < last.date:
        raise ServiceError(
            {
                "date": f"变动日期不能早于上一次变动（{last.date:%Y-%m-%d} {last.get_kind_display()}）。"
            }
        )
    before_status = member.get_status_display()
    member.status = STATUS_AFTER[kind]
    if member.is_current:
        problems = duplicate_problems(member, actor)
        if "id_number" in problems:
            raise ServiceError({"kind": problems["id_number"]})
    if kind == ChangeKind.JOIN and member.join_date is None:
        member.join_date = date
    member.save(update_fields=["status", "join_date", "updated_at"])
    change = MembershipChange.objects.create(
        member=member,
        union=member.union,
        kind=kind,
        date=date,
        other_org=normalize_text(other_org),
        note=normalize_text(note),
        created_by=actor if actor and actor.pk else None,
    )
    audit.record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=member,
        union=member.union,
        changes={"会员状态": [before_status, member.get_status_display()]},
        summary=f"{ChangeKind(kind).label}：{member.name}（{date:%Y-%m-%d}）",
    )
    return change


def member_reveal(*, actor: User, member: Member, field: str) -> str:
    """The full 身份证号 or 手机号, for a role allowed to see it; every look is audited."""
    require(actor, Perm.ROSTER_PII, member.union)
    if field not in ("id_number", "phone"):
        raise ServiceError("只能查看身份证号或手机号。")
    value = crypto.decrypt(getattr(member, f"{field}_enc"))
    label = "身份证号" if field == "id_number" else "手机号"
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=AuditAction.VIEW_PII,
            obj=member,
            union=member.union,
            summary=f"查看「{member.name}」的完整{label}",
        )
    return value


@transaction.atomic
def member_link_user(*, actor: User | None, member: Member, user: User | None) -> Member:
    """Let ``user`` log in as this member (self-service), or unlink with ``None``."""
    member = Member.objects.select_for_update().select_related("union").get(pk=member.pk)
    if actor is not None:
        require(actor, Perm.USERS_MANAGE, member.union)
    old = member.user.username if member.user else ""
    member.user = user
    member.save(update_fields=["user", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=member,
        union=member.union,
        changes={"登录账号": [old, user.username if user else ""]},
        summary=f"{'关联' if user else '解除'}「{member.name}」的登录账号",
    )
    return member
