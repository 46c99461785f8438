"""Every write to the roster. One transaction each, each audited."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from gonghui.common import audit, crypto
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction
from gonghui.common.scope import Perm, can, require
from gonghui.common.validators import (
    id_birth_date,
    id_gender,
    id_number_problem,
    normalize_code,
    normalize_id_number,
    normalize_phone,
    normalize_text,
    phone_problem,
)
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User, subtree_q
from gonghui.org.queries import common_ancestor

from .choices import (
    CURRENT_STATUSES,
    STATUS_AFTER,
    TRANSITIONS,
    ChangeKind,
    EmploymentType,
    Gender,
)
from .models import NAME_SORT_LENGTH, Member, MembershipChange


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


@functools.cache
def _pinyin() -> Any:
    """pypinyin with its per-syllable style conversion cached.

    ``convert_style`` (stripping the tone marks) is a pure function of its arguments and
    most of pypinyin's time per name; caching it gives the same output about 2.5 times
    faster, which a 100,000-row import feels. Built on first use: loading pypinyin's
    dictionaries takes about a second, which every `gonghui` command (report, serve,
    migrate…) would otherwise pay at start-up.
    """
    from pypinyin.converter import DefaultConverter
    from pypinyin.core import Pinyin

    class CachedStyles(DefaultConverter):
        @functools.cache  # noqa: B019 - one instance, kept for good
        def _style(self, han: str, orig: str, style: Any, strict: bool) -> str:
            return str(DefaultConverter.convert_style(self, han, orig, style, strict))

        def convert_style(
            self, han: str, orig_pinyin: str, style: Any, strict: bool, **kwargs: Any
        ) -> str:
            return self._style(han, orig_pinyin, style, strict)

    return Pinyin(CachedStyles())


_PLAIN_HAN_NAME = re.compile("[\u4e00-\u9fff]{1,4}")


def name_pinyin(name: str) -> tuple[str, str]:
    """``("zhangsan", "zs")`` for 张三; letters only, lower case."""
    pinyin, initials, _ = name_readings(name)
    return pinyin, initials


#: Ends each syllable in :func:`name_readings`' sort key. A digit sorts below every letter
#: both byte by byte (SQLite, PostgreSQL's ``C``) and at the first level of the collations
#: a PostgreSQL database often has (glibc ``en_US.UTF-8``, ICU), which pass over spaces
#: and punctuation there: with a space, "chen wei" would sort as "chenwei", after
#: "cheng gang" again.
_SYLLABLE_END = "0"


def name_readings(name: str) -> tuple[str, str, str]:
    """The pinyin, its initials and the roster's sort key of ``name``.

    The sort key (``Member.name_sort``) is each syllable followed by ``0``, surname first,
    then every character's code point in six hex digits: 陈伟 ``chen0wei0009648004f1f``.
    So all 陈 (chen) come before all 程 (cheng), 杜 (du) before 段 (duan), a name before
    the longer names it starts, and names that read the same are ordered by their
    characters. The code points start with ``0`` or ``1``, below any letter, so they
    never outrank a syllable. Only digits and lower-case letters: the same order under
    byte order and under any collation a database may use.
    """
    syllables = _syllables(name)
    key = "".join(s + _SYLLABLE_END for s in syllables) + "".join(f"{ord(c):06x}" for c in name)
    return (
        "".join(syllables)[:200],
        "".join(s[0] for s in syllables)[:50],
        key[:NAME_SORT_LENGTH],
    )


def _syllables(name: str) -> tuple[str, ...]:
    """The syllables of ``name``, letters only, lower case, the surname's own reading.

    Most names are two or three common characters that form no word of pypinyin's
    phrase dictionary; pypinyin then reads them character by character, each with its
    usual reading. Those are built here from a per-character cache (a roster has a few
    thousand distinct characters but up to a 100,000 distinct names); any other name
    (a phrase inside it, letters, ·) goes through pypinyin whole, as before.
    """
    if _PLAIN_HAN_NAME.fullmatch(name):
        phrases = _phrases()
        n = len(name)
        if n == 2:
            has_phrase = name in phrases
        elif n == 3:
            has_phrase = name[:2] in phrases or name[1:] in phrases or name in phrases
        else:
            has_phrase = any(
                name[i:j] in phrases for i in range(n - 1) for j in range(i + 2, n + 1)
            )
        if not has_phrase:
            syllables = [_char_pinyin(ch) for ch in name]
            if name[0] in _SURNAMES and syllables[0]:
                syllables[0] = _SURNAMES[name[0]]
            return tuple(s for s in syllables if s)
    return _whole_name_syllables(name)


@functools.lru_cache(maxsize=65536)
def _whole_name_syllables(name: str) -> tuple[str, ...]:
    syllables = [s.lower() for s in _pinyin().lazy_pinyin(name) if s.isascii() and s.isalpha()]
    if name and name[0] in _SURNAMES and syllables:
        syllables[0] = _SURNAMES[name[0]]
    return tuple(syllables)


def _whole_name_pinyin(name: str) -> tuple[str, str]:
    """:func:`name_pinyin` as pypinyin reads the whole name (what the fast path matches)."""
    syllables = _whole_name_syllables(name)
    return "".join(syllables)[:200], "".join(s[0] for s in syllables)[:50]


@functools.cache
def _char_pinyin(char: str) -> str:
    """The reading pypinyin gives ``char`` on its own ("" when it has none)."""
    return "".join(s.lower() for s in _pinyin().lazy_pinyin(char) if s.isascii() and s.isalpha())


@functools.cache
def _phrases() -> Any:
    """pypinyin's phrase dictionary (loaded with pypinyin, on first use)."""
    _pinyin()
    from pypinyin.constants import PHRASES_DICT

    return PHRASES_DICT


@functools.cache
def _choice_values(key: str) -> frozenset[str]:
    """The allowed values of a choice field (built once: ``apply_fields`` runs per row
    of a 100,000-row import)."""
    return frozenset(c for c, _ in Member.field_choices(key))


def apply_fields(
    member: Member, fields: MemberFields, *, encrypt: Callable[[str], str] = crypto.encrypt
) -> dict[str, str]:
    """Normalise and validate ``fields`` onto ``member`` (unsaved); return the errors.

    Errors are keyed by field name and say in Chinese what to fix. This is the one place
    the rules of a member's data live: forms, the importer and the services all call it.
    ``encrypt`` makes the stored token of a 身份证号 or 手机号; the importer passes one
    that defers the work, to encrypt all its numbers in one batch
    (``crypto.encrypt_many``) once every row has passed.
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
        member.name_pinyin, member.name_initials, member.name_sort = name_readings(name)
    for key in _PLAIN_FIELDS:
        if key in data:
            clean = normalize_code if key == "employee_no" else normalize_text
            setattr(member, key, clean(data[key] or ""))
    if "card_no" in data:
        # Upper case like the numbers made from union codes, so that "yz-00006" can neither
        # duplicate "YZ-00006" nor escape the search (which upper-cases what is typed).
        member.card_no = member.card_no.replace(" ", "").upper()
    for key in ("ethnicity", "political_status", "education"):
        value = getattr(member, key)
        if value and value not in _choice_values(key):
            label = Member._meta.get_field(key).verbose_name  # type: ignore[union-attr]
            errors[key] = f"{label}「{value}」不在可选范围内。"
    if "employment_type" in data:
        value = data["employment_type"] or EmploymentType.STAFF
        if value not in _choice_values("employment_type"):
            errors["employment_type"] = f"用工形式「{value}」不在可选范围内。"
        member.employment_type = value
    if "gender" in data:
        gender = data["gender"] or ""
        if gender and gender not in _choice_values("gender"):
            errors["gender"] = "性别只能是男或女。"
        member.gender = gender
    for key in ("birth_date", "work_start_date", "join_date"):
        if key in data:
            setattr(member, key, data[key])
    if data.get("join_date") and data["join_date"] > dt.date.today():
        # The 入会 change is dated by it; a future one would count in no period yet.
        errors["join_date"] = "入会日期不能晚于今天。"
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
            member.phone_enc = encrypt(phone)
            member.phone_hash = crypto.lookup_hash(phone, purpose="phone")
            member.phone_masked = crypto.mask_phone(phone)
    if "id_number" in data:
        number = normalize_id_number(data["id_number"] or "")
        problem = id_number_problem(number)
        if problem:
            errors["id_number"] = f"身份证号{problem}。"
        else:
            member.id_number_enc = encrypt(number)
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
    if member.join_date and member.birth_date and member.join_date < member.birth_date:
        errors.setdefault("join_date", "入会日期早于出生日期，请核对。")
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
    problems: dict[str, str] = {}
    q = Q()
    if member.id_number_hash:
        q |= Q(id_number_hash=member.id_number_hash)
    if member.phone_hash:
        q |= Q(phone_hash=member.phone_hash)
    if member.employee_no and member.union_id:
        # 工号 identify people within one employer, i.e. one 基层工会 (and its branches);
        # the importer matches rows by them, so two current members may not share one.
        base = card_union(member.union)
        same_no = (
            Member.objects.filter(
                subtree_q(base.path, "union__path"),
                employee_no=member.employee_no,
                status__in=CURRENT_STATUSES,
            )
            .exclude(pk=member.pk)
            .select_related("union")
            .first()
        )
        if same_no:
            problems["employee_no"] = (
                f"工号「{member.employee_no}」已是{_who_where(same_no, viewer)}的工号，"
                "同一单位内工号不能重复，请核对。"
            )
    if not q:
        return problems
    others = (
        Member.objects.filter(q, status__in=CURRENT_STATUSES)
        .exclude(pk=member.pk)
        .select_related("union")[:5]
    )
    for other in others:
        where = _who_where(other, viewer)
        if member.id_number_hash and other.id_number_hash == member.id_number_hash:
            problems["id_number"] = (
                f"该身份证号已是{where}。同一人只能在一处入会；如已调入本单位，"
                "请原工会先办理转出，再在此登记转入。"
            )
        if member.phone_hash and other.phone_hash == member.phone_hash:
            problems.setdefault("phone", f"该手机号已登记在{where}名下，请核对。")
    return problems


def _who_where(other: Member, viewer: User | None) -> str:
    """「区教育工会 / 第一中学工会 / 语文组」的在册会员「张三」（会员证号 …）; the name only
    for a viewer who may see that union's roster."""
    who = "一位在册会员"
    if viewer is None or can(viewer, Perm.ROSTER_VIEW, other.union):
        who = f"在册会员「{other.name}」" + (
            f"（会员证号 {other.card_no}）" if other.card_no else ""
        )
    return f"「{union_trail(other.union)}」的{who}"


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


def _lost_race(member: Member) -> ServiceError:
    """Another officer registered the same person, or typed the same card number, a moment
    ago, between our checks and our save: the unique indexes caught it. Say which."""
    card = _card_problem(member)
    if card:
        return ServiceError({"card_no": card})
    return ServiceError({"id_number": "该身份证号刚刚已被登记为在册会员，请刷新后核对。"})


@transaction.atomic
def member_create(
    *,
    actor: User | None,
    join_kind: str = ChangeKind.JOIN,
    other_org: str = "",
    registered_on: dt.date | None = None,
    **fields: Unpack[MemberFields],
) -> Member:
    """Register a member (入会 or 转入) and start their history.

    ``registered_on`` dates the first change: for 入会 it defaults to 入会日期 (or today);
    for 转入 it is the day the member arrived, which is usually later than the original
    入会日期 kept on the member (default today). The report counts that change.
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
    today = dt.date.today()
    if join_kind == ChangeKind.JOIN:
        date = registered_on or member.join_date or today
    else:
        date = registered_on or today
    if date > today:
        raise ServiceError({"registered_on": "登记日期不能晚于今天。"})
    if member.join_date is None and join_kind == ChangeKind.JOIN:
        member.join_date = date
    if not member.card_no:
        member.card_no = next_card_no(member.union)
    member.status = STATUS_AFTER[join_kind]
    try:
        with transaction.atomic():
            member.save(force_insert=True)
    except IntegrityError as exc:
        raise _lost_race(member) from exc
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
    member = (
        Member.objects.select_for_update(of=("self",)).select_related("union").get(pk=member.pk)
    )
    if actor is not None:
        require(actor, Perm.ROSTER_EDIT, member.union)
        if "union" in fields and fields["union"].pk != member.union_id:
            require(actor, Perm.ROSTER_EDIT, fields["union"])
    before = audit.snapshot(member, AUDITED_FIELDS)
    old_hashes = (member.id_number_hash, member.phone_hash)
    old_join_date = member.join_date
    errors = apply_fields(member, fields)
    if not errors and member.is_current:
        errors.update(duplicate_problems(member, actor))
    if not errors:
        card = _card_problem(member)
        if card:
            errors["card_no"] = card
    first_join = None
    if not errors and member.join_date and member.join_date != old_join_date:
        # 入会日期 and the 入会 change the report counts must agree: move the change too,
        # unless that would put it after a later change.
        history = list(member.changes.order_by("date", "id")[:2])
        if history and history[0].kind == ChangeKind.JOIN:
            first_join = history[0]
            later = history[1] if len(history) > 1 else None
            if later and member.join_date > later.date:
                errors["join_date"] = (
                    f"入会日期不能晚于之后的会籍变动（{later.date:%Y-%m-%d} "
                    f"{later.get_kind_display()}）。"
                )
    if errors:
        raise ServiceError(errors)
    if not member.card_no:
        member.card_no = next_card_no(member.union)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:
        raise _lost_race(member) from exc
    if first_join is not None and member.join_date:
        first_join.date = member.join_date
        first_join.save(update_fields=["date"])
    changes = audit.diff(Member, before, audit.snapshot(member, AUDITED_FIELDS))
    for label, pair in _masked_number_changes(member, old_hashes).items():
        changes.setdefault(label, pair)  # a differing mask is already in the diff
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


def _masked_number_changes(member: Member, old_hashes: tuple[str, str]) -> dict[str, list[str]]:
    """A new 身份证号/手机号 whose masked form happens to equal the old one (13812345678 →
    13899995678 both show 138****5678) is still a change: log it, without the number."""
    changes: dict[str, list[str]] = {}
    pairs = (
        ("身份证号", old_hashes[0], member.id_number_hash, member.id_number_masked),
        ("手机号", old_hashes[1], member.phone_hash, member.phone_masked),
    )
    for label, old, new, masked in pairs:
        if old != new and old and new:
            changes[label] = [masked, f"{masked}{audit.MASKED_CHANGE}"]
    return changes


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
    member = (
        Member.objects.select_for_update(of=("self",)).select_related("union").get(pk=member.pk)
    )
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


@transaction.atomic
def member_change_undo(*, actor: User | None, member: Member) -> MembershipChange:
    """Take back the latest membership change, registered by mistake: it leaves the
    history, the status returns to what the change before it left, and the audit log
    keeps what was taken back (date, kind, counterpart). The first change (入会 or 转入)
    cannot be taken back: it is the member's registration."""
    member = (
        Member.objects.select_for_update(of=("self",)).select_related("union").get(pk=member.pk)
    )
    if actor is not None:
        require(actor, Perm.ROSTER_EDIT, member.union)
    history = list(member.changes.order_by("-date", "-id")[:2])
    if len(history) < 2:
        raise ServiceError(
            "这是该会员的第一条会籍记录（入会或转入），不能撤销；如信息有误，请修改会员信息。"
        )
    last, previous = history
    before_status = member.get_status_display()
    member.status = STATUS_AFTER[previous.kind]
    if member.is_current:
        problems = duplicate_problems(member, actor)
        if "id_number" in problems:
            raise ServiceError(f"不能撤销：{problems['id_number']}")
    member.save(update_fields=["status", "updated_at"])
    taken_back = f"{last.date:%Y-%m-%d} {last.get_kind_display()}" + (
        f"（{last.other_org}）" if last.other_org else ""
    )
    audit.record(
        actor=actor,
        action=AuditAction.CHANGE,
        obj=member,
        union=member.union,
        changes={
            "会员状态": [before_status, member.get_status_display()],
            "撤销的会籍变动": [taken_back, ""],
        },
        summary=f"撤销会籍变动：{member.name} {taken_back}",
    )
    last.delete()
    return last


def member_reveal(*, actor: User, member: Member, field: str) -> str:
    """The full 身份证号 or 手机号, for a role allowed to see it; every look is audited."""
    # Read the stored row: the caller's copy may predate an edit of the number or a move.
    member = Member.objects.select_related("union").get(pk=member.pk)
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
    member = (
        Member.objects.select_for_update(of=("self",)).select_related("union").get(pk=member.pk)
    )
    if actor is not None:
        require(actor, Perm.USERS_MANAGE, member.union)
    if user is not None:
        taken = Member.objects.filter(user=user).exclude(pk=member.pk).first()
        if taken:
            raise ServiceError(
                f"登录账号「{user.username}」已关联会员「{taken.name}」，一个账号只能关联一名会员。"
            )
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


def archive_guard(union: Union) -> str | None:
    """Refuse to archive a node that still has current members (registered in apps.py)."""
    count = Member.objects.filter(
        subtree_q(union.path, "union__path"), status__in=CURRENT_STATUSES
    ).count()
    if count:
        return (
            f"「{union.name}」及其下级还有 {count} 名在册或保留会籍的会员，"
            "请先把他们调整到其他组织或办理转出，再归档。"
        )
    return None


# Bulk import (common.imports, members.imports) ----------------------------------------

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gonghui.common.imports.progress import Progress


@dataclass
class NewMember:
    """A member to register from an import row (already through ``apply_fields``)."""

    member: Member
    join_kind: str = ChangeKind.JOIN
    other_org: str = ""
    #: The change after joining, for a row whose 会员状态 is not 在册 (e.g. 退休/保留会籍).
    follow_up: str | None = None
    row: int = 0


@dataclass
class UpdatedMember:
    """A stored member with the changes of an import row applied (not yet saved)."""

    member: Member
    fields: list[str]  # attnames that change
    changes: dict[str, list[Any]]  # 中文字段名 → [旧, 新], as the audit log shows them
    change_kind: str | None = None  # the membership change when 会员状态 changes
    row: int = 0


@dataclass
class MemberImportPlan:
    """What ``members_import`` writes; built and checked by ``members.imports``."""

    record_id: int | None = None
    file_name: str = ""
    new: list[NewMember] = field(default_factory=list)
    updates: list[UpdatedMember] = field(default_factory=list)


def _card_blocks(members: list[Member], taken: set[str]) -> None:
    """Give each member without a 会员证号 the next free number of its 基层工会.

    Numbers come in one block per 基层工会: one ``F()`` update reserves as many as are
    needed (the row stays locked until the import commits, so concurrent registrations
    queue behind it), instead of one update per member. The numbers of a block already
    used (typed by hand) are found with one range query per block.
    """
    bases: dict[int, Union] = {}
    groups: dict[int, list[Member]] = defaultdict(list)
    for m in members:
        if m.union_id not in bases:
            bases[m.union_id] = card_union(m.union)
        groups[bases[m.union_id].pk].append(m)
    codes = {u.pk: u.code for u in bases.values()}
    for base_pk, waiting in groups.items():
        while waiting:
            need = len(waiting)
            Union.objects.filter(pk=base_pk).update(card_seq=F("card_seq") + need)
            seq = Union.objects.values_list("card_seq", flat=True).get(pk=base_pk)
            candidates = [f"{codes[base_pk]}-{n:05d}" for n in range(seq - need + 1, seq + 1)]
            # Candidates of one length sort as their numbers do (past 99999 they grow a
            # digit): one range query per length finds those already used.
            for width in sorted({len(c) for c in candidates}):
                same = [c for c in candidates if len(c) == width]
                taken.update(
                    Member.objects.filter(card_no__gte=same[0], card_no__lte=same[-1])
                    .values_list("card_no", flat=True)
                    .iterator(5000)
                )
            free = [c for c in candidates if c not in taken]
            for m, card in zip(waiting, free, strict=False):
                m.card_no = card
                taken.add(card)
            waiting = waiting[len(free) :]


def _id_ranges(ids: list[int]) -> str:
    """``1001–1500、1503`` for the log: the ids of an import's new members, compactly."""
    parts: list[str] = []
    start = prev = None
    for i in sorted(ids):
        if start is None:
            start = prev = i
        elif i == prev + 1:  # type: ignore[operator]
            prev = i
        else:
            parts.append(f"{start}–{prev}" if start != prev else str(start))
            start = prev = i
    if start is not None:
        parts.append(f"{start}–{prev}" if start != prev else str(start))
    text = "、".join(parts)
    return text if len(text) <= 2000 else text[:2000] + "……"


def _import_race(plan: MemberImportPlan) -> ServiceError:
    """What a unique index refused at write time: a 身份证号 or 会员证号 of the file that
    someone registered between the check and the write. Named by row, in Chinese."""
    by_hash = {
        nm.member.id_number_hash: nm.row
        for nm in plan.new
        if nm.member.id_number_hash and nm.member.status in CURRENT_STATUSES
    }
    by_hash.update(
        (up.member.id_number_hash, up.row)
        for up in plan.updates
        if up.member.id_number_hash and up.member.status in CURRENT_STATUSES
    )
    by_card = {nm.member.card_no: nm.row for nm in plan.new if nm.member.card_no}
    by_card.update((up.member.card_no, up.row) for up in plan.updates if up.member.card_no)
    updated = {up.member.pk for up in plan.updates}
    problems: list[tuple[int, str]] = []
    hashes = list(by_hash)
    for i in range(0, len(hashes), 5000):
        for pk, digest, name in Member.objects.filter(
            id_number_hash__in=hashes[i : i + 5000], status__in=CURRENT_STATUSES
        ).values_list("pk", "id_number_hash", "name"):
            if pk not in updated:
                problems.append((by_hash[digest], f"该身份证号刚刚已被登记为在册会员「{name}」"))
    cards = list(by_card)
    for i in range(0, len(cards), 5000):
        for pk, card in Member.objects.filter(card_no__in=cards[i : i + 5000]).values_list(
            "pk", "card_no"
        ):
            if pk not in updated:
                problems.append((by_card[card], f"会员证号「{card}」刚刚已被其他会员使用"))
    problems.sort()
    lines = [f"第{row}行：{text}" for row, text in problems[:20]]
    if len(problems) > 20:
        lines.append(f"……共 {len(problems)} 行")
    if not lines:
        lines = ["与刚刚保存的其他数据冲突"]
    return ServiceError(
        "检查之后、写入之前，有人修改了会员名册：" + "；".join(lines) + "。请重新导入。"
    )


@transaction.atomic
def members_import(
    *,
    actor: User | None,
    plan: MemberImportPlan,
    progress: Progress | None = None,
) -> None:
    """Write a checked roster import in one transaction: new members with their 入会
    (or 转入) and any later change, changed members, card numbers, and the audit log.

    ``plan`` comes from ``members.imports.MemberImport.check``, which ran every row
    through :func:`apply_fields` and the duplicate checks; this function only writes,
    in a constant number of statements per few thousand rows. The actor needs the
    import permission at every union a row touches. If a unique index refuses a row
    (someone registered the same person since the check), nothing is written and the
    :class:`ServiceError` names the rows.

    The audit log gets one row for the import, naming its :class:`ImportRecord` (which
    keeps who, when, the file and the counts) and the ids of the new members, and one
    row per *changed* member with its old and new values. A new member gets no row of
    its own: its 入会 change, dated and signed by the importer, says「导入（导入记录 #N）」
    on the member's page, which is the same fact; 100,000 more log rows would double
    the time an import holds the database's write lock.
    """
    from django.contrib.contenttypes.models import ContentType

    from gonghui.common.imports import bulk
    from gonghui.common.models import AuditEntry, ImportRecord

    if actor is not None:
        touched: dict[int, Union] = {}
        for nm in plan.new:
            touched[nm.member.union_id] = nm.member.union
        for up in plan.updates:
            touched[up.member.union_id] = up.member.union
        for union in touched.values():
            require(actor, Perm.IMPORT, union)
    total = len(plan.new) + len(plan.updates)

    def report(done: int) -> None:
        if progress is not None:
            progress.update("write", done, total)

    report(0)
    today = dt.date.today()
    who = actor if actor is not None and actor.pk else None
    who_id = who.pk if who is not None else None
    tag = f"（导入记录 #{plan.record_id}）" if plan.record_id else "（命令行导入）"
    taken = {nm.member.card_no for nm in plan.new if nm.member.card_no}
    taken.update(up.member.card_no for up in plan.updates if up.member.card_no)
    _card_blocks([nm.member for nm in plan.new if not nm.member.card_no], taken)
    new_members: list[Member] = []
    for nm in plan.new:
        m = nm.member
        if m.join_date is None and nm.join_kind == ChangeKind.JOIN:
            m.join_date = today
        m.status = STATUS_AFTER[nm.follow_up or nm.join_kind]
        new_members.append(m)
    for m in [*new_members, *(up.member for up in plan.updates)]:
        # A placeholder of the importer's batched encryption must never be stored.
        if m.id_number_enc.startswith("\x00") or m.phone_enc.startswith("\x00"):
            raise RuntimeError("members_import: a number was not encrypted")
    # Ids are taken before the insert: the changes below refer to them, and nothing
    # has to be read back.
    for m, pk in zip(new_members, bulk.reserve_ids(Member, len(new_members)), strict=True):
        m.pk = pk
        m._state.adding = False

    def new_changes() -> Iterator[dict[str, Any]]:
        for nm in plan.new:
            m = nm.member
            yield {
                "member_id": m.pk,
                "union_id": m.union_id,
                "kind": nm.join_kind,
                "date": m.join_date or today,
                "other_org": nm.other_org,
                "note": f"导入{tag}",
                "created_by_id": who_id,
            }
            if nm.follow_up:
                yield {
                    "member_id": m.pk,
                    "union_id": m.union_id,
                    "kind": nm.follow_up,
                    "date": today,
                    "note": f"导入时名册状态为「{m.get_status_display()}」{tag}",
                    "created_by_id": who_id,
                }
        for up in plan.updates:
            if up.change_kind:
                yield {
                    "member_id": up.member.pk,
                    "union_id": up.member.union_id,
                    "kind": up.change_kind,
                    "date": today,
                    "note": f"导入{tag}",
                    "created_by_id": who_id,
                }

    changes_count = sum(1 + bool(nm.follow_up) for nm in plan.new) + sum(
        1 for up in plan.updates if up.change_kind
    )
    try:
        # A savepoint: when a unique index refuses a row, roll back to here and say which.
        with transaction.atomic():
            with bulk.deferred_indexes(Member, adding=len(new_members)):
                bulk.insert(Member, new_members, with_pk=True)
            report(len(new_members))
            groups: dict[tuple[str, ...], list[Member]] = defaultdict(list)
            for up in plan.updates:
                groups[tuple(sorted(up.fields))].append(up.member)
            done = len(new_members)
            for fields, members in groups.items():
                bulk.update(Member, members, fields)
                done += len(members)
                report(done)
            with bulk.deferred_indexes(MembershipChange, adding=changes_count):
                bulk.insert_values(MembershipChange, new_changes())
    except IntegrityError as exc:
        raise _import_race(plan) from exc
    # The audit log: one row per changed member (old → new), written in bulk, and one
    # for the import.
    ct_id = ContentType.objects.get_for_model(Member).pk
    actor_name = who.display_name if who is not None else "系统"
    ip = audit.current_ip.get()

    def entries() -> Iterator[dict[str, Any]]:
        for up in plan.updates:
            yield {
                "actor_id": who_id,
                "actor_name": actor_name,
                "action": AuditAction.UPDATE.value,
                "content_type_id": ct_id,
                "object_id": str(up.member.pk),
                "object_repr": up.member.name[:200],
                "union_id": up.member.union_id,
                "summary": f"导入修改会员「{up.member.name}」{tag}",
                "changes": audit.as_pairs(up.changes),
                "ip": ip,
            }

    bulk.insert_values(AuditEntry, entries())
    unions = {m.union_id for m in new_members} | {up.member.union_id for up in plan.updates}
    summary_changes: dict[str, Any] = {"新增": ["", len(plan.new)], "修改": ["", len(plan.updates)]}
    if plan.record_id:
        summary_changes["导入记录"] = ["", plan.record_id]
    if new_members:
        summary_changes["新增会员编号"] = ["", _id_ranges([m.pk for m in new_members])]
    record = ImportRecord.objects.filter(pk=plan.record_id).first() if plan.record_id else None
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=record,
        union=common_ancestor(unions),
        summary=f"导入会员名册「{plan.file_name}」：新增 {len(plan.new)} 人，"
        f"修改 {len(plan.updates)} 人{tag}",
        changes=summary_changes,
    )
    report(total)


@transaction.atomic
def member_login_create(
    *, actor: User | None, member: Member, username: str, password: str
) -> User:
    """Open a self-service login for a member: a 会员 role at their union, linked to them,
    so that they can log in on their phone and see their own record."""
    from gonghui.org.choices import Role
    from gonghui.org.services import user_create

    member = (
        Member.objects.select_for_update(of=("self",)).select_related("union").get(pk=member.pk)
    )
    if actor is not None:
        require(actor, Perm.USERS_MANAGE, member.union)
    if member.user_id:
        raise ServiceError(f"「{member.name}」已有登录账号，不能重复开通。")
    user = user_create(
        actor=actor,
        username=username,
        full_name=member.name,
        password=password,
        union=member.union,
        role=Role.MEMBER,
    )
    member_link_user(actor=actor, member=member, user=user)
    return user
