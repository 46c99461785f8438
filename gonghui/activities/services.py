"""Every write of 文体活动与培训. One transaction each, each audited.

Places are taken and given back under a lock on the activity row, so that two
members asking for the last place at once get one place between them, and a
cancellation hands its place to the first on the waitlist.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.care.queries import policy_for
from gonghui.care.rules import money
from gonghui.common import audit
from gonghui.common.errors import OverCap, ServiceError, system_or
from gonghui.common.models import AuditAction, ImportRecord
from gonghui.common.scope import Perm, require
from gonghui.members.choices import CURRENT_STATUSES
from gonghui.members.models import Member
from gonghui.org.models import Union, User
from gonghui.org.queries import common_ancestor

from .choices import HOLDING, ActivityStatus, AwardKind, Category, RegSource, RegStatus
from .models import Activity, Attempt, Award, Club, ClubMembership, Question, Quiz, Registration

ZERO = Decimal(0)


# Clubs ----------------------------------------------------------------------------------


@transaction.atomic
def club_create(
    *,
    actor: User | None,
    union: Union,
    name: str,
    description: str = "",
    leader: Member | None = None,
) -> Club:
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, union)
    name = name.strip()
    if not name:
        raise ServiceError({"name": "请填写兴趣小组的名称，如「教工合唱队」。"})
    if Club.objects.filter(union=union, name=name).exists():
        raise ServiceError({"name": f"「{union.name}」已有名为「{name}」的兴趣小组。"})
    if leader is not None and not leader.union.path.startswith(union.path):
        raise ServiceError({"leader": f"{leader.name}不在「{union.name}」范围内。"})
    try:
        with transaction.atomic():
            club = Club.objects.create(
                union=union, name=name[:50], description=description.strip()[:300], leader=leader
            )
    except IntegrityError:  # created by someone else a moment ago
        raise ServiceError({"name": f"「{union.name}」已有名为「{name}」的兴趣小组。"}) from None
    if leader is not None:
        ClubMembership.objects.create(club=club, member=leader, joined_on=timezone.localdate())
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=club,
        union=union,
        summary=f"成立兴趣小组：{club.name}",
    )
    return club


@transaction.atomic
def club_join(*, actor: User | None, club: Club, member: Member) -> ClubMembership:
    """A member joins a club: by themself, or entered by an officer."""
    if actor is not None and member.user_id != actor.pk:
        require(actor, Perm.ACTIVITY_EDIT, club.union)
    if club.archived_at is not None:
        raise ServiceError(f"「{club.name}」已停止活动。")
    if not member.union.path.startswith(club.union.path):
        raise ServiceError(
            {"member": f"{member.name}不在「{club.union.name}」范围内，不能加入「{club.name}」。"}
        )
    if member.status not in CURRENT_STATUSES:
        raise ServiceError(
            {"member": f"{member.name}目前「{member.get_status_display()}」，不能加入。"}
        )
    try:
        with transaction.atomic():
            joined = ClubMembership.objects.create(
                club=club, member=member, joined_on=timezone.localdate()
            )
    except IntegrityError:
        raise ServiceError({"member": f"{member.name}已是「{club.name}」的成员。"}) from None
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=club,
        union=club.union,
        changes={"加入": ["", member.name]},
        summary=f"{member.name}加入{club.name}",
    )
    return joined


@transaction.atomic
def club_leave(*, actor: User | None, membership: ClubMembership) -> None:
    club, member = membership.club, membership.member
    if actor is not None and member.user_id != actor.pk:
        require(actor, Perm.ACTIVITY_EDIT, club.union)
    membership.delete()
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=club,
        union=club.union,
        changes={"退出": ["", member.name]},
        summary=f"{member.name}退出{club.name}",
    )


# Activities -----------------------------------------------------------------------------

ACTIVITY_FIELDS = (
    "title",
    "category",
    "audience",
    "club",
    "start_date",
    "end_date",
    "start_time",
    "place",
    "capacity",
    "signup_opens",
    "signup_closes",
    "cost",
    "hours",
    "certificate",
    "note",
)


@dataclass
class ActivityFields:
    """What an officer fills in for an activity (the form, the CLI and the importer)."""

    title: str
    category: str
    start_date: dt.date
    end_date: dt.date | None = None
    audience: Union | None = None
    club: Club | None = None
    start_time: dt.time | None = None
    place: str = ""
    capacity: int | None = None
    signup_opens: dt.datetime | None = None
    signup_closes: dt.datetime | None = None
    cost: Decimal | None = None
    hours: Decimal | None = None
    certificate: bool = False
    description: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _apply(activity: Activity, f: ActivityFields, union: Union) -> None:
    if f.category not in Category.values:
        raise ServiceError({"category": "请选择活动类别。"})
    title = f.title.strip()
    if not title:
        raise ServiceError({"title": "请填写活动名称。"})
    end = f.end_date or f.start_date
    if end < f.start_date:
        raise ServiceError({"end_date": "结束日期不能早于开始日期。"})
    audience = f.audience or union
    if not audience.path.startswith(union.path) and not union.path.startswith(audience.path):
        raise ServiceError({"audience": f"参加范围应为「{union.name}」或其上下级组织。"})
    if f.club is not None and not f.club.union.path.startswith(union.path):
        raise ServiceError({"club": f"「{f.club.name}」不属于「{union.name}」。"})
    if f.capacity is not None and f.capacity < 1:
        raise ServiceError({"capacity": "名额至少为 1；不限名额请留空。"})
    if f.signup_opens and f.signup_closes and f.signup_closes < f.signup_opens:
        raise ServiceError({"signup_closes": "报名截止时间不能早于报名开始时间。"})
    if f.cost is not None and f.cost < 0:
        raise ServiceError({"cost": "人均费用不能为负数。"})
    if f.hours is not None and f.hours < 0:
        raise ServiceError({"hours": "学时不能为负数。"})
    activity.title = title[:100]
    activity.category = f.category
    activity.audience = audience
    activity.club = f.club
    activity.start_date = f.start_date
    activity.end_date = end
    activity.start_time = f.start_time
    activity.place = f.place.strip()[:100]
    activity.capacity = f.capacity
    activity.signup_opens = f.signup_opens
    activity.signup_closes = f.signup_closes
    activity.cost = f.cost
    activity.hours = f.hours
    activity.certificate = f.certificate
    activity.description = f.description.strip()
    activity.note = f.note.strip()[:300]


def outing_warning(union: Union, activity: Activity) -> str | None:
    """参观/疗休养 past the standard per person per day (DOMAIN.md presets)."""
    if activity.category != Category.OUTING or not activity.cost:
        return None
    cap = policy_for(union).caps.get("outing_day")
    if cap is None:
        return None
    per_day = (activity.cost / activity.days).quantize(Decimal("0.01"))
    if per_day > cap:
        return f"人均每天 {money(per_day)} 元，超过疗休养标准每人每天 {money(cap)} 元。"
    return None


def _check_outing(union: Union, activity: Activity, confirm: bool) -> str:
    warning = outing_warning(union, activity)
    if warning is None:
        return ""
    if policy_for(union).blocks:
        raise ServiceError({"cost": f"{warning}本工会规定超标不能保存，请调整费用。"})
    if not confirm:
        raise OverCap(warning, field="cost")
    return warning


@transaction.atomic
def activity_create(
    *, actor: User | None, union: Union, fields: ActivityFields, confirm_over_cap: bool = False
) -> Activity:
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, union)
    activity = Activity(
        union=union, checkin_key=secrets.token_urlsafe(32), created_by=system_or(actor)
    )
    _apply(activity, fields, union)
    note = _check_outing(union, activity, confirm_over_cap)
    activity.save()
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=activity,
        union=union,
        changes=audit.diff(Activity, {}, audit.snapshot(activity, ACTIVITY_FIELDS)),
        summary=f"发布活动：{activity.title}" + _confirmed(note),
    )
    return activity


@transaction.atomic
def activity_update(
    *,
    actor: User | None,
    activity: Activity,
    fields: ActivityFields,
    confirm_over_cap: bool = False,
) -> Activity:
    activity = (
        Activity.objects.select_for_update(of=("self",)).select_related("union").get(pk=activity.pk)
    )
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
    if activity.status == ActivityStatus.CANCELLED:
        raise ServiceError("活动已取消，不能修改。")
    before = audit.snapshot(activity, ACTIVITY_FIELDS)
    _apply(activity, fields, activity.union)
    note = _check_outing(activity.union, activity, confirm_over_cap)
    activity.save()
    promoted = _fill_places(activity, actor)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=activity,
        union=activity.union,
        changes=audit.diff(Activity, before, audit.snapshot(activity, ACTIVITY_FIELDS)),
        summary=f"修改活动：{activity.title}"
        + (f"；候补转正 {promoted} 人" if promoted else "")
        + _confirmed(note),
    )
    return activity


def _days(activity: Activity) -> str:
    """An activity's dates as a message says them: 2025-03-01, or 2025-03-01至2025-03-03."""
    if activity.start_date == activity.end_date:
        return f"{activity.start_date:%Y-%m-%d}"
    return f"{activity.start_date:%Y-%m-%d}至{activity.end_date:%Y-%m-%d}"


def _confirmed(note: str) -> str:
    """An audit summary's mention of a standard passed on purpose."""
    return f"（超标准，已确认：{note.rstrip('。')}）" if note else ""


@transaction.atomic
def activity_cancel(*, actor: User | None, activity: Activity, reason: str) -> Activity:
    activity = (
        Activity.objects.select_for_update(of=("self",)).select_related("union").get(pk=activity.pk)
    )
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
    if not reason.strip():
        raise ServiceError({"reason": "请填写取消的原因，报名的会员会看到它。"})
    if activity.status == ActivityStatus.CANCELLED:
        raise ServiceError("活动已经取消。")
    activity.status = ActivityStatus.CANCELLED
    activity.cancel_reason = reason.strip()[:300]
    activity.save(update_fields=["status", "cancel_reason", "updated_at"])
    audit.record(
        actor=actor,
        action=AuditAction.ARCHIVE,
        obj=activity,
        union=activity.union,
        changes={"状态": ["进行中", "已取消"], "原因": ["", activity.cancel_reason]},
        summary=f"取消活动：{activity.title}",
    )
    return activity


# Places ---------------------------------------------------------------------------------


def eligibility_problem(activity: Activity, member: Member) -> str | None:
    """Why ``member`` may not take part in ``activity``, or ``None``."""
    if member.status not in CURRENT_STATUSES:
        return f"{member.name}目前「{member.get_status_display()}」，不能报名。"
    if activity.club_id is not None:
        if not ClubMembership.objects.filter(club_id=activity.club_id, member=member).exists():
            return f"本活动仅限「{activity.club}」成员参加。"
    elif not member.union.path.startswith(activity.audience.path):
        return f"本活动仅限「{activity.audience.name}」的会员参加。"
    return None


def signup_window_problem(activity: Activity, now: dt.datetime | None = None) -> str | None:
    """Why no one may sign up for ``activity`` now (cancelled, not open yet, closed), or
    ``None``: what the member's page says instead of the 报名 button."""
    return _window_problem(activity, now or timezone.now())


def _window_problem(activity: Activity, now: dt.datetime) -> str | None:
    if activity.status == ActivityStatus.CANCELLED:
        return f"活动已取消：{activity.cancel_reason}"
    if activity.signup_opens and now < activity.signup_opens:
        return f"报名尚未开始（{timezone.localtime(activity.signup_opens):%m月%d日 %H:%M}开始）。"
    if activity.signup_closes and now > activity.signup_closes:
        return "报名已经截止。"
    if timezone.localdate(now) > activity.end_date:
        return "活动已经结束。"
    return None


def _locked(activity: Activity) -> Activity:
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("union", "audience", "club")
        .get(pk=activity.pk)
    )


def _held(activity: Activity) -> int:
    return Registration.objects.filter(activity=activity, status__in=HOLDING).count()


@transaction.atomic
def register(
    *, actor: User | None, activity: Activity, member: Member, source: str = RegSource.SELF
) -> Registration:
    """Sign ``member`` up: a place while there is one, else the waitlist.

    The activity row is locked first: of two members asking for the last place at
    the same moment, one gets it and the other waits (PostgreSQL: ``SELECT … FOR
    UPDATE``; SQLite: the write lock ``BEGIN IMMEDIATE`` takes at the start).
    """
    activity = _locked(activity)
    member = Member.objects.select_related("union").get(pk=member.pk)
    if actor is not None and member.user_id != actor.pk:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
        source = RegSource.OFFICER if source == RegSource.SELF else source
    problem = eligibility_problem(activity, member)
    if problem is None and source == RegSource.SELF:
        problem = _window_problem(activity, timezone.now())
    elif problem is None and activity.status == ActivityStatus.CANCELLED:
        problem = f"活动已取消：{activity.cancel_reason}"
    if problem:
        raise ServiceError(problem)
    existing = Registration.objects.filter(activity=activity, member=member).first()
    if existing is not None and existing.status != RegStatus.CANCELLED:
        raise ServiceError(
            f"{member.name}的报名状态是「{existing.get_status_display()}」，无需重复报名。"
        )
    full = activity.capacity is not None and _held(activity) >= activity.capacity
    status = RegStatus.WAITLISTED if full else RegStatus.SIGNED_UP
    if existing is not None:  # signed up again after cancelling: to the back of the queue
        existing.delete()
    registration = Registration.objects.create(
        activity=activity,
        member=member,
        union=member.union,
        status=status,
        source=source,
        marked_by=system_or(actor) if source != RegSource.SELF else None,
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=activity,
        union=member.union,
        changes={"会员": ["", member.name], "状态": ["", registration.get_status_display()]},
        summary=f"{member.name}报名「{activity.title}」（{registration.get_status_display()}）",
    )
    return registration


def _fill_places(activity: Activity, actor: User | None) -> int:
    """Move the waitlist up into free places (the activity is locked by the caller)."""
    if activity.capacity is None:
        free = Registration.objects.filter(activity=activity, status=RegStatus.WAITLISTED).count()
    else:
        free = activity.capacity - _held(activity)
    if free <= 0:
        return 0
    waiting = list(
        Registration.objects.filter(activity=activity, status=RegStatus.WAITLISTED)
        .select_related("member")
        .order_by("created_at", "id")[:free]
    )
    for r in waiting:
        Registration.objects.filter(pk=r.pk).update(status=RegStatus.SIGNED_UP)
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=activity,
            union=r.union,
            changes={"会员": ["", r.member.name], "状态": ["候补", "已报名"]},
            summary=f"{r.member.name}由候补转为「{activity.title}」的正式报名",
        )
    return len(waiting)


@transaction.atomic
def registration_cancel(*, actor: User | None, registration: Registration) -> Registration | None:
    """Give a place back; the first on the waitlist takes it. Returns who moved up."""
    activity = _locked(registration.activity)
    registration = Registration.objects.select_related("member").get(pk=registration.pk)
    member = registration.member
    if actor is not None and member.user_id != actor.pk:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
    if registration.status not in (RegStatus.SIGNED_UP, RegStatus.WAITLISTED):
        raise ServiceError(
            f"{member.name}的报名状态是「{registration.get_status_display()}」，不能取消报名。"
        )
    held = registration.status == RegStatus.SIGNED_UP and activity.status == ActivityStatus.OPEN
    Registration.objects.filter(pk=registration.pk).update(status=RegStatus.CANCELLED)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=activity,
        union=registration.union,
        changes={"会员": ["", member.name], "状态": [registration.get_status_display(), "已取消"]},
        summary=f"{member.name}取消报名「{activity.title}」",
    )
    if held:
        first = (
            Registration.objects.filter(activity=activity, status=RegStatus.WAITLISTED)
            .order_by("created_at", "id")
            .first()
        )
        if _fill_places(activity, actor) and first is not None:
            return first
    return None


@transaction.atomic
def attendance_mark(
    *,
    actor: User | None,
    activity: Activity,
    attended: Iterable[Member] = (),
    absent: Iterable[Member] = (),
) -> tuple[int, int]:
    """Take attendance from the list: 签到 or 缺席 for each member named; a member who came
    without signing up (and may take part) is added as present. Returns the counts."""
    activity = _locked(activity)
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
    if activity.status == ActivityStatus.CANCELLED:
        raise ServiceError("活动已取消，不能签到。")
    if activity.start_date > timezone.localdate():
        raise ServiceError("活动还没开始，不能登记签到。")
    now = timezone.now()
    marks = [(m, RegStatus.ATTENDED) for m in attended] + [(m, RegStatus.ABSENT) for m in absent]
    existing = {
        r.member_id: r
        for r in Registration.objects.filter(
            activity=activity, member_id__in=[m.pk for m, _ in marks]
        )
    }
    done = {RegStatus.ATTENDED: 0, RegStatus.ABSENT: 0}
    for member, status in marks:
        r = existing.get(member.pk)
        if r is None:
            if status == RegStatus.ABSENT:
                continue
            problem = eligibility_problem(activity, member)
            if problem:
                raise ServiceError(problem)
            r = Registration.objects.create(
                activity=activity,
                member=member,
                union=member.union,
                status=status,
                source=RegSource.OFFICER,
                checked_in_at=now,
                marked_by=system_or(actor),
            )
        elif r.status != status:
            Registration.objects.filter(pk=r.pk).update(
                status=status,
                checked_in_at=now if status == RegStatus.ATTENDED else None,
                marked_by=system_or(actor),
            )
        done[status] += 1
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=activity,
        union=activity.union,
        changes={"签到": ["", done[RegStatus.ATTENDED]], "缺席": ["", done[RegStatus.ABSENT]]},
        summary=f"「{activity.title}」登记签到 {done[RegStatus.ATTENDED]} 人、缺席 {done[RegStatus.ABSENT]} 人",
    )
    return done[RegStatus.ATTENDED], done[RegStatus.ABSENT]


# Check-in by QR code --------------------------------------------------------------------

#: How long one code on the officer's screen stays good: the screen shows a new one
#: every ``CHECKIN_STEP`` seconds, and a photo of an old one is refused.
CHECKIN_STEP = 30
CHECKIN_MAX_AGE = 90


def _signer(activity: Activity) -> signing.TimestampSigner:
    return signing.TimestampSigner(
        salt=f"gonghui.activities.checkin.{activity.pk}.{activity.checkin_key}"
    )


def checkin_token(activity: Activity) -> str:
    """The code the officer's screen shows now. It names no member: whoever scans it
    checks in themself, as the logged-in member, and only while it is fresh."""
    return _signer(activity).sign(str(activity.pk))


@transaction.atomic
def checkin_self(*, actor: User, activity: Activity, token: str) -> Registration:
    """A member scans the code at the door and checks in: themself, never anyone else."""
    activity = _locked(activity)
    try:
        value = _signer(activity).unsign(token, max_age=CHECKIN_MAX_AGE)
    except signing.SignatureExpired:
        raise ServiceError("签到码已过期，请扫描现场屏幕上最新的二维码。") from None
    except signing.BadSignature:
        raise ServiceError("签到码无效，请扫描现场屏幕上的二维码。") from None
    if value != str(activity.pk):
        raise ServiceError("签到码无效，请扫描现场屏幕上的二维码。")
    member = Member.objects.select_related("union").filter(user=actor).first()
    if member is None:
        raise ServiceError("您的账号尚未关联会员档案，请找现场工作人员登记签到。")
    today = timezone.localdate()
    if activity.status == ActivityStatus.CANCELLED:
        raise ServiceError(f"活动已取消：{activity.cancel_reason}")
    if not (activity.start_date <= today <= activity.end_date):
        one_day = activity.start_date == activity.end_date
        raise ServiceError(
            f"签到时间为{_days(activity)}，请在{'活动当天' if one_day else '活动期间'}扫码签到。"
        )
    r = Registration.objects.filter(activity=activity, member=member).first()
    if r is not None and r.status == RegStatus.ATTENDED:
        return r  # scanned twice: already in
    if r is None or r.status == RegStatus.CANCELLED:
        problem = eligibility_problem(activity, member)
        if problem:
            raise ServiceError(problem)
        full = activity.capacity is not None and _held(activity) >= activity.capacity
        if full:
            raise ServiceError("名额已满，您未报名此活动，请找现场工作人员。")
        if r is not None:
            r.delete()
        r = Registration.objects.create(
            activity=activity,
            member=member,
            union=member.union,
            status=RegStatus.ATTENDED,
            source=RegSource.QR,
            checked_in_at=timezone.now(),
        )
    elif r.status == RegStatus.WAITLISTED:
        raise ServiceError("您还在候补名单上，没有名额，请找现场工作人员。")
    else:
        Registration.objects.filter(pk=r.pk).update(
            status=RegStatus.ATTENDED, source=RegSource.QR, checked_in_at=timezone.now()
        )
        r.refresh_from_db()
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=activity,
        union=member.union,
        changes={"会员": ["", member.name], "状态": ["", "已签到"]},
        summary=f"{member.name}扫码签到「{activity.title}」",
    )
    return r


# Awards ---------------------------------------------------------------------------------


def award_warnings(
    activity: Activity, *, rank: int, prize_value: Decimal, adding: int = 1
) -> list[str]:
    """DOMAIN.md presets for sports and culture prizes: winners no more than a third of
    those who took part, a first prize within the cap."""
    policy = policy_for(activity.union)
    found: list[str] = []
    cap = policy.caps.get("prize_first")
    if rank == 1 and cap is not None and prize_value > cap:
        found.append(f"一等奖奖品 {money(prize_value)} 元，超过标准 {money(cap)} 元。")
    took_part = Registration.objects.filter(activity=activity, status=RegStatus.ATTENDED).count()
    counted = "参加人数"
    if not took_part:  # attendance not taken yet: those holding a place
        took_part = Registration.objects.filter(activity=activity, status__in=HOLDING).count()
        counted = "报名人数"
    winners = activity.awards.count() + adding
    share = policy.winners_share
    if share is not None and took_part:
        limit = _share(share)
        if winners > limit * took_part:
            found.append(
                f"获奖 {winners} 人（项），超过{counted} {took_part} 人的{_fraction(limit)}。"
            )
    return found


def _share(share: Decimal) -> Fraction:
    """The winners' share as a fraction: 0.33 and 0.67 stand for a third and two thirds
    (so that exactly a third, 1 of 3, is within the rule); any other share is exact."""
    for third in (Fraction(1, 3), Fraction(2, 3)):
        if abs(Fraction(str(share)) - third) < Fraction(1, 200):
            return third
    return Fraction(str(share))


def _fraction(limit: Fraction) -> str:
    names = {
        Fraction(1, 3): "三分之一",
        Fraction(2, 3): "三分之二",
        Fraction(1, 4): "四分之一",
        Fraction(1, 2): "一半",
    }
    return names.get(limit, f"{float(limit):.0%}")


@transaction.atomic
def award_add(
    *,
    actor: User | None,
    activity: Activity,
    rank: int,
    prize: str,
    prize_value: Decimal = ZERO,
    member: Member | None = None,
    team: str = "",
    confirm_over_cap: bool = False,
) -> Award:
    activity = _locked(activity)
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
    if not prize.strip():
        raise ServiceError({"prize": "请填写奖项，如「一等奖」「优秀奖」。"})
    if rank < 1:
        raise ServiceError({"rank": "名次从 1 开始。"})
    if prize_value < 0:
        raise ServiceError({"prize_value": "奖品价值不能为负数。"})
    if member is None and not team.strip():
        raise ServiceError({"member": "请填写获奖会员，或团体奖的团体名称。"})
    kind = AwardKind.INDIVIDUAL if member is not None else AwardKind.TEAM
    if member is not None and not member.union.path.startswith(activity.audience.path):
        raise ServiceError({"member": f"{member.name}不在本活动的参加范围内。"})
    warnings = award_warnings(activity, rank=rank, prize_value=prize_value)
    note = " ".join(warnings)
    if warnings:
        if policy_for(activity.union).blocks:
            raise ServiceError({"prize_value": f"{note}本工会规定超标不能保存。"})
        if not confirm_over_cap:
            raise OverCap(note, field="prize_value")
    award = Award.objects.create(
        activity=activity,
        kind=kind,
        member=member,
        team=team.strip()[:100],
        rank=rank,
        prize=prize.strip()[:50],
        prize_value=prize_value,
        over_cap=bool(note),
        cap_note=note[:300],
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=activity,
        union=activity.union,
        changes={"获奖": ["", str(award)], "名次": ["", rank], "奖品价值": ["", str(prize_value)]},
        summary=f"「{activity.title}」登记获奖：{award}" + ("（超标准，已确认）" if note else ""),
    )
    return award


@transaction.atomic
def award_remove(*, actor: User | None, award: Award) -> None:
    activity = award.activity
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=activity,
        union=activity.union,
        changes={"删除获奖": ["", str(award)]},
        summary=f"「{activity.title}」删除获奖：{award}",
    )
    award.delete()


# Knowledge contests ---------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionData:
    text: str
    options: Sequence[str]
    answer: Sequence[int]
    points: int = 1


@transaction.atomic
def quiz_set(
    *, actor: User | None, activity: Activity, pass_mark: int, questions: Sequence[QuestionData]
) -> Quiz:
    """Set a contest's question bank (replacing it while nobody has answered yet)."""
    if actor is not None:
        require(actor, Perm.ACTIVITY_EDIT, activity.union)
    if not 0 <= pass_mark <= 100:
        raise ServiceError({"pass_mark": "及格分请填写 0 到 100 之间的整数。"})
    if not questions:
        raise ServiceError({"questions": "请至少出一道题。"})
    cleaned: list[tuple[str, list[str], list[int], int]] = []
    for i, q in enumerate(questions, 1):
        # Blank options are dropped; the answers keep pointing at the same options.
        kept = [j for j, o in enumerate(q.options) if o.strip()]
        options = [q.options[j].strip() for j in kept]
        if not q.text.strip():
            raise ServiceError({"questions": f"第 {i} 题没有题目。"})
        if len(options) < 2:
            raise ServiceError({"questions": f"第 {i} 题至少要有两个选项。"})
        if not q.answer or any(a not in kept for a in q.answer):
            raise ServiceError({"questions": f"第 {i} 题的正确答案不在选项中。"})
        cleaned.append(
            (
                q.text.strip()[:500],
                options,
                sorted({kept.index(a) for a in q.answer}),
                max(q.points, 1),
            )
        )
    _locked(activity)  # against an answer handed in while the bank is replaced
    quiz, _ = Quiz.objects.get_or_create(activity=activity, defaults={"pass_mark": pass_mark})
    if quiz.attempts.exists():
        raise ServiceError("已经有人交卷，不能再修改题目。")
    quiz.pass_mark = pass_mark
    quiz.save()
    quiz.questions.all().delete()
    Question.objects.bulk_create(
        Question(quiz=quiz, order=i, text=text, options=options, answer=answer, points=points)
        for i, (text, options, answer, points) in enumerate(cleaned, 1)
    )
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=activity,
        union=activity.union,
        changes={"题目数": ["", len(questions)], "及格分": ["", pass_mark]},
        summary=f"设置「{activity.title}」的题库（{len(questions)} 题）",
    )
    return quiz


@transaction.atomic
def quiz_submit(
    *,
    actor: User | None,
    quiz: Quiz,
    answers: dict[int, list[int]],
    member: Member | None = None,
) -> Attempt:
    """A member hands in their answers (once); scored against the bank at once.

    On the web the member is the one logged in (``actor``); ``member`` is for the
    system (``actor=None``: the demo, paper answers entered later)."""
    quiz = Quiz.objects.select_related("activity__union", "activity__audience").get(pk=quiz.pk)
    activity = _locked(quiz.activity)  # with the places and the bank, one at a time
    if actor is not None:
        member = Member.objects.select_related("union").filter(user=actor).first()
    if member is None:
        raise ServiceError("您的账号尚未关联会员档案，不能答题。")
    problem = eligibility_problem(activity, member)
    if problem:
        raise ServiceError(problem)
    today = timezone.localdate()
    if activity.status == ActivityStatus.CANCELLED:
        raise ServiceError(f"活动已取消：{activity.cancel_reason}")
    if not (activity.start_date <= today <= activity.end_date):
        raise ServiceError(f"答题时间为{_days(activity)}，请在此期间作答。")
    questions = list(quiz.questions.all())
    score = sum(q.points for q in questions if sorted(set(answers.get(q.pk, []))) == q.answer)
    total = sum(q.points for q in questions) or 1
    passed = score * 100 >= quiz.pass_mark * total
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                quiz=quiz,
                member=member,
                score=score,
                total=total,
                passed=passed,
                answers={str(k): v for k, v in answers.items()},
            )
    except IntegrityError:
        raise ServiceError("您已经交过卷了。") from None
    # Answering is taking part: the member counts as present.
    Registration.objects.update_or_create(
        activity=activity,
        member=member,
        defaults={
            "status": RegStatus.ATTENDED,
            "union": member.union,
            "source": RegSource.SELF,
            "checked_in_at": timezone.now(),
        },
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=activity,
        union=member.union,
        changes={"得分": ["", f"{score}/{total}"], "及格": ["", audit.display(passed)]},
        summary=f"{member.name}完成「{activity.title}」答题（{score}/{total}）",
    )
    return attempt


# Imports ---------------------------------------------------------------------------------


@dataclass
class ImportPlan:
    activities: list[tuple[Activity, Union]] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    updates: list[tuple[int, str]] = field(default_factory=list)  # (registration id, status)
    record_id: int | None = None
    file_name: str = ""
    #: Created before the rows: an activities sheet's new clubs, an attendance sheet's
    #: new activities (unsaved; the import's ``write`` creates them through the services).
    clubs: list[Club] = field(default_factory=list)
    new_activities: list[tuple[Activity, ActivityFields]] = field(default_factory=list)


def _import_audit(
    actor: User | None, plan: ImportPlan, label: str, count: int, unions: set[int]
) -> None:
    record = ImportRecord.objects.filter(pk=plan.record_id).first() if plan.record_id else None
    changes: dict[str, Any] = {"新增": ["", count]}
    if plan.record_id:
        changes["导入记录"] = ["", plan.record_id]
    audit.record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=record,
        union=common_ancestor(unions),
        summary=f"导入{label}「{plan.file_name}」：{count} 条",
        changes=changes,
    )


@transaction.atomic
def activities_import(*, actor: User | None, plan: ImportPlan) -> None:
    """Write the activities of a checked sheet (``activities.imports``)."""
    for activity, union in plan.activities:
        if actor is not None:
            require(actor, Perm.ACTIVITY_EDIT, union)
        activity.checkin_key = secrets.token_urlsafe(32)
        activity.created_by = system_or(actor)
    Activity.objects.bulk_create([a for a, _ in plan.activities], batch_size=1000)
    _import_audit(actor, plan, "活动", len(plan.activities), {u.pk for _, u in plan.activities})


@transaction.atomic
def attendance_import(*, actor: User | None, plan: ImportPlan) -> None:
    """Write the attendance of a checked sheet: new rows, and changed statuses."""
    activity_ids = {r.activity_id for r in plan.registrations} | {
        a
        for a in Registration.objects.filter(pk__in=[pk for pk, _ in plan.updates]).values_list(
            "activity_id", flat=True
        )
    }
    if actor is not None:
        for activity in Activity.objects.filter(pk__in=activity_ids).select_related("union"):
            require(actor, Perm.ACTIVITY_EDIT, activity.union)
    # Locked, and read again: someone may have signed up or been marked since the check.
    list(Activity.objects.select_for_update(of=("self",)).filter(pk__in=activity_ids))
    now_present = {
        (a, m): (pk, source == RegSource.QR and status == RegStatus.ATTENDED)
        for pk, a, m, source, status in Registration.objects.filter(
            activity_id__in=activity_ids,
            member_id__in={r.member_id for r in plan.registrations},
        ).values_list("pk", "activity_id", "member_id", "source", "status")
    }
    fresh = []
    for r in plan.registrations:
        pk, scanned = now_present.get((r.activity_id, r.member_id), (None, False))
        if pk is None:
            fresh.append(r)
        elif not (scanned and r.status == RegStatus.ABSENT):
            # There now: mark it instead; but a scan at the door since the check stands.
            plan.updates.append((pk, r.status))
    plan.registrations = fresh
    now = timezone.now()
    for r in plan.registrations:
        r.checked_in_at = now if r.status == RegStatus.ATTENDED else None
        r.marked_by = system_or(actor)
    Registration.objects.bulk_create(plan.registrations, batch_size=1000)
    for status in (RegStatus.ATTENDED, RegStatus.ABSENT):
        ids = [pk for pk, s in plan.updates if s == status]
        if ids:
            Registration.objects.filter(pk__in=ids).update(
                status=status,
                checked_in_at=now if status == RegStatus.ATTENDED else None,
                marked_by=system_or(actor),
                source=RegSource.IMPORT,
            )
    unions = set(Activity.objects.filter(pk__in=activity_ids).values_list("union_id", flat=True))
    _import_audit(actor, plan, "签到记录", len(plan.registrations) + len(plan.updates), unions)
