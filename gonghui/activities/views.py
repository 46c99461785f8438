"""文体活动与培训 pages: thin views over ``activities.services`` and ``queries``."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from gonghui.common import audit
from gonghui.common.reporting import Period
from gonghui.common.scope import Perm, can, get_visible_or_404, grants, top_unions, visible
from gonghui.common.web import (
    AuthedRequest,
    add_errors,
    add_errors_or_confirm,
    date_param,
    paginate,
    posted,
    query_without_page,
    render_page,
)
from gonghui.members.queries import own_member
from gonghui.org.models import Union, subtree_q

from . import forms as f
from . import queries, services
from .choices import HOLDING, ActivityStatus, Category, RegStatus
from .models import Activity, Award, Club, ClubMembership, Registration

PAGE = 50


def _area(request: AuthedRequest, perm: Perm = Perm.ACTIVITY_VIEW) -> None:
    if not grants(request.user).any(perm):
        raise PermissionDenied("您没有办理文体活动的权限。")


def _filtered(request: AuthedRequest) -> tuple[Any, Any]:
    """The activities of the list's filters (union, dates by first day, category)."""
    form = f.FilterForm(request.GET, viewer=request.user)
    qs = queries.activities(request.user)
    if request.GET.get("union") and not form.is_valid() and "union" in form.errors:
        # A union out of reach answers like one that does not exist (as the other lists).
        raise Http404("没有找到该记录，或您无权查看。")
    if form.is_valid():
        d = form.cleaned_data
        if d.get("union"):
            qs = qs.filter(subtree_q(d["union"].path, "union__path"))
        if d.get("start"):
            qs = qs.filter(start_date__gte=d["start"])
        if d.get("end"):
            qs = qs.filter(start_date__lte=d["end"])
        if d.get("category"):
            qs = qs.filter(category=d["category"])
    return form, qs


# Activities -----------------------------------------------------------------------------


def activity_list(request: AuthedRequest) -> HttpResponse:
    if not grants(request.user).any(Perm.ACTIVITY_VIEW):
        # A member who followed a link to 文体活动 signs up on 我的活动.
        return redirect("activities:mine")
    form, qs = _filtered(request)
    held = qs.exclude(status="cancelled").filter(start_date__lte=timezone.localdate())
    if request.GET.get("held"):
        qs = held  # the report's list: activities held (begun, not cancelled)
    if request.GET.get("status") == ActivityStatus.OPEN:
        qs = qs.filter(status=ActivityStatus.OPEN)  # the to-do list's: not cancelled
    page = paginate(request, queries.with_counts(qs).order_by("-start_date", "-id"), PAGE)
    # A training list shows the 课时 of the training held (the report's 培训课时合计).
    hours = None
    if form.is_valid() and form.cleaned_data.get("category") == Category.TRAINING:
        hours = held.aggregate(total=Sum("hours"))["total"]
    return render_page(
        request,
        "activities/list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_edit": grants(request.user).any(Perm.ACTIVITY_EDIT),
            "hours": hours,
        },
        "activities/partials/list.html",
    )


@require_http_methods(["GET", "POST"])
def activity_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.ACTIVITY_EDIT)
    initial = {"category": request.GET.get("category", "")}
    form = f.ActivityForm(posted(request), viewer=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.activity_create(
                actor=request.user,
                union=form.cleaned_data["union"],
                fields=form.to_fields(),
                confirm_over_cap=form.cleaned_data["confirm_over_cap"],
            )
        except ValidationError as exc:
            add_errors_or_confirm(form, exc)
        else:
            messages.success(request, f"已发布活动「{activity.title}」。")
            return redirect("activities:detail", pk=activity.pk)
    return render(request, "activities/form.html", {"form": form, "activity": None})


@require_http_methods(["GET", "POST"])
def activity_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = get_visible_or_404(
        Activity.objects.select_related("union", "audience", "club"),
        request.user,
        Perm.ACTIVITY_EDIT,
        pk=pk,
    )
    initial = {
        name: getattr(activity, name)
        for name in (
            "title", "category", "start_date", "end_date", "start_time", "place", "capacity",
            "signup_opens", "signup_closes", "cost", "hours", "certificate", "description", "note",
        )
    }  # fmt: skip
    initial.update(union=activity.union_id, audience=activity.audience_id, club=activity.club_id)
    form = f.ActivityForm(posted(request), viewer=request.user, initial=initial)
    form.fields["union"].disabled = True  # who organised it does not change
    form.fields["union"].help_text = "组织工会不能修改；如需更换，请取消后重新发布"
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_update(
                actor=request.user,
                activity=activity,
                fields=form.to_fields(),
                confirm_over_cap=form.cleaned_data["confirm_over_cap"],
            )
        except ValidationError as exc:
            add_errors_or_confirm(form, exc)
        else:
            messages.success(request, "已保存。")
            return redirect("activities:detail", pk=pk)
    return render(request, "activities/form.html", {"form": form, "activity": activity})


def _detail_context(request: AuthedRequest, activity: Activity, **forms: Any) -> dict[str, Any]:
    can_edit = can(request.user, Perm.ACTIVITY_EDIT, activity.union)
    quiz = getattr(activity, "quiz", None)
    me = own_member(request.user)
    regs = list(
        activity.registrations.exclude(status=RegStatus.CANCELLED)
        .select_related("member", "union")
        .order_by("created_at", "id")
    )
    return {
        "activity": activity,
        "held": [r for r in regs if r.status != RegStatus.WAITLISTED],
        "waiting": [r for r in regs if r.status == RegStatus.WAITLISTED],
        "participation": queries.activity_participation(activity),
        "awards": list(activity.awards.select_related("member")),
        "quiz": quiz,
        "quiz_stats": queries.quiz_stats(quiz, activity) if quiz is not None else None,
        "may_answer": me is not None and services.eligibility_problem(activity, me) is None,
        "can_edit": can_edit,
        "enter_form": forms.get("enter") or f.EnterForm(viewer=request.user),
        "award_form": forms.get("award") or f.AwardForm(viewer=request.user),
        "cancel_form": f.ReasonForm(),
        "today": timezone.localdate(),
        "history": audit.history(activity)[:30] if can_edit else None,
    }


def activity_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """The officers' page for an activity in their scope; for anyone else the member's
    page of an activity they may join (or hold a place in), without others' names."""
    qs = Activity.objects.select_related("union", "audience", "club")
    activity = visible(qs, request.user, Perm.ACTIVITY_VIEW).filter(pk=pk).first()
    if activity is not None:
        return render(request, "activities/detail.html", _detail_context(request, activity))
    me = own_member(request.user)
    activity = qs.filter(pk=pk).first() if me is not None else None
    if me is None or activity is None or not queries.may_see_as_member(activity, me):
        raise Http404("没有这个活动，或您不在参加范围内。")
    return render(request, "activities/member_detail.html", _member_context(activity, me))


def _member_context(activity: Activity, me: Any) -> dict[str, Any]:
    held = activity.registrations.filter(status__in=HOLDING).count()
    mine = activity.registrations.filter(member=me).exclude(status=RegStatus.CANCELLED).first()
    return {
        "activity": activity,
        "registration": mine,
        "held": held,
        "places_left": max(activity.capacity - held, 0) if activity.capacity else None,
        "eligibility": services.eligibility_problem(activity, me),
        "window": services.signup_window_problem(activity),
        "quiz": getattr(activity, "quiz", None),
    }


@require_POST
def activity_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = get_visible_or_404(
        Activity.objects.select_related("union"), request.user, Perm.ACTIVITY_EDIT, pk=pk
    )
    form = f.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.activity_cancel(
                actor=request.user, activity=activity, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "活动已取消，报名的会员会看到原因。")
    else:
        messages.error(request, "请填写取消的原因。")
    return redirect("activities:detail", pk=pk)


@require_POST
def enter(request: AuthedRequest, pk: int) -> HttpResponse:
    """An officer signs a member up, or (``present=1``, on the day) marks them present."""
    activity = get_visible_or_404(
        Activity.objects.select_related("union", "audience", "club"),
        request.user,
        Perm.ACTIVITY_EDIT,
        pk=pk,
    )
    form = f.EnterForm(request.POST, viewer=request.user)
    if form.is_valid():
        member = form.cleaned_data["member"]
        try:
            if request.POST.get("present"):
                services.attendance_mark(actor=request.user, activity=activity, attended=[member])
                messages.success(request, f"{member.name}已签到。")
            else:
                r = services.register(actor=request.user, activity=activity, member=member)
                messages.success(request, f"已为{member.name}报名（{r.get_status_display()}）。")
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            return redirect("activities:detail", pk=pk)
    context = _detail_context(request, activity, enter=form)
    return render(request, "activities/detail.html", context, status=400)


@require_POST
def attendance(request: AuthedRequest, pk: int) -> HttpResponse:
    """Take attendance from the list: each registration 签到 or 缺席 (htmx: one row)."""
    activity = get_visible_or_404(
        Activity.objects.select_related("union", "audience", "club"),
        request.user,
        Perm.ACTIVITY_EDIT,
        pk=pk,
    )
    status = request.POST.get("status")
    if status not in (RegStatus.ATTENDED, RegStatus.ABSENT):
        raise Http404("没有这一项。")
    registration = get_visible_or_404(
        Registration.objects.select_related("member__union", "union").filter(activity=activity),
        request.user,
        Perm.ACTIVITY_EDIT,
        via="activity__union",
        pk=request.POST.get("registration"),
    )
    member = registration.member
    try:
        if status == RegStatus.ATTENDED:
            services.attendance_mark(actor=request.user, activity=activity, attended=[member])
        else:
            services.attendance_mark(actor=request.user, activity=activity, absent=[member])
    except ValidationError as exc:
        if request.htmx:
            return HttpResponse(" ".join(exc.messages), status=400)
        messages.error(request, " ".join(exc.messages))
        return redirect("activities:detail", pk=pk)
    if request.htmx:
        registration.refresh_from_db()
        context = {
            "r": registration,
            "activity": activity,
            "can_edit": True,
            "today": timezone.localdate(),
        }
        response = render(request, "activities/partials/registration.html", context)
        response["HX-Trigger"] = "attendance-changed"
        return response
    return redirect("activities:detail", pk=pk)


def participation_card(request: AuthedRequest, pk: int) -> HttpResponse:
    """The activity's participation (htmx refreshes it after each check-in)."""
    activity = get_visible_or_404(
        Activity.objects.select_related("union", "audience", "club"),
        request.user,
        Perm.ACTIVITY_VIEW,
        pk=pk,
    )
    return render(
        request,
        "activities/partials/participation.html",
        {"activity": activity, "participation": queries.activity_participation(activity)},
    )


M = TypeVar("M", Registration, ClubMembership)


def _own_or_in_scope(request: AuthedRequest, qs: QuerySet[M], pk: int) -> M:
    """A member's own place (in an activity, in a club), or one an officer may edit;
    anything else is the same 404 as a place that does not exist."""
    row = qs.filter(pk=pk, member__user=request.user).first()
    if row is not None:
        return row
    via = "activity__union" if qs.model is Registration else "club__union"
    return get_visible_or_404(qs, request.user, Perm.ACTIVITY_EDIT, via=via, pk=pk)


@require_POST
def registration_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    registration = _own_or_in_scope(
        request, Registration.objects.select_related("activity__union", "member"), pk
    )
    own = registration.member.user_id == request.user.pk
    try:
        moved = services.registration_cancel(actor=request.user, registration=registration)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        text = "已取消报名。" if own else f"已取消{registration.member.name}的报名。"
        if moved is not None:
            text += f"候补的{moved.member.name}已转为正式报名。"
        messages.success(request, text)
    if own:
        return redirect("activities:mine")
    return redirect("activities:detail", pk=registration.activity_id)


# Check-in by QR code --------------------------------------------------------------------


def checkin_screen(request: AuthedRequest, pk: int) -> HttpResponse:
    """The officer's screen at the door: a QR code that changes every half minute."""
    activity = get_visible_or_404(
        Activity.objects.select_related("union"), request.user, Perm.ACTIVITY_EDIT, pk=pk
    )
    return render(
        request,
        "activities/checkin_screen.html",
        {"activity": activity, "step": services.CHECKIN_STEP},
    )


def checkin_code(request: AuthedRequest, pk: int) -> HttpResponse:
    """The current QR code (htmx polls it): an SVG of the check-in address."""
    import segno

    activity = get_visible_or_404(
        Activity.objects.select_related("union"), request.user, Perm.ACTIVITY_EDIT, pk=pk
    )
    url = request.build_absolute_uri(
        reverse("activities:checkin", args=[activity.pk])
        + f"?code={services.checkin_token(activity)}"
    )
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=8, border=2, xmldecl=False, svgns=True
    )
    came = activity.registrations.filter(status=RegStatus.ATTENDED).count()
    return render(
        request,
        "activities/partials/checkin_code.html",
        {"svg": buffer.getvalue().decode(), "url": url, "came": came, "activity": activity},
    )


@require_http_methods(["GET", "POST"])
def checkin(request: AuthedRequest, pk: int) -> HttpResponse:
    """A member's phone after scanning: confirm, and check in — themself, nobody else."""
    activity = Activity.objects.select_related("union", "audience", "club").filter(pk=pk).first()
    member = own_member(request.user)
    # Those who may take part, and the officers who run it, see the page; for anyone
    # else the activity does not exist.
    if activity is None or not (
        (member is not None and services.eligibility_problem(activity, member) is None)
        or can(request.user, Perm.ACTIVITY_VIEW, activity.union)
    ):
        raise Http404("没有这个活动。")
    code = request.POST.get("code") or request.GET.get("code", "")
    done = None
    error = ""
    if request.method == "POST":
        try:
            done = services.checkin_self(actor=request.user, activity=activity, token=code)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    return render(
        request,
        "activities/checkin.html",
        {
            "activity": activity,
            "code": code,
            "done": done,
            "error": error,
            "member": member,
        },
    )


# Awards, attendance, participation lists (the report's sources) --------------------------


@require_POST
def award_add(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = get_visible_or_404(
        Activity.objects.select_related("union", "audience", "club"),
        request.user,
        Perm.ACTIVITY_EDIT,
        pk=pk,
    )
    form = f.AwardForm(request.POST, viewer=request.user)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.award_add(
                actor=request.user,
                activity=activity,
                rank=d["rank"],
                prize=d["prize"],
                prize_value=d.get("prize_value") or Decimal(0),
                member=d.get("member"),
                team=d.get("team") or "",
                confirm_over_cap=d["confirm_over_cap"],
            )
        except ValidationError as exc:
            add_errors_or_confirm(form, exc)
        else:
            messages.success(request, "已登记获奖。")
            return redirect("activities:detail", pk=pk)
    context = _detail_context(request, activity, award=form)
    return render(request, "activities/detail.html", context, status=400)


@require_POST
def award_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    award = get_visible_or_404(
        Award.objects.select_related("activity__union", "member"),
        request.user,
        Perm.ACTIVITY_EDIT,
        via="activity__union",
        pk=pk,
    )
    services.award_remove(actor=request.user, award=award)
    messages.success(request, f"已删除获奖：{award}。")
    return redirect("activities:detail", pk=award.activity_id)


def _period(request: AuthedRequest) -> tuple[Union | None, Period]:
    union = None
    if request.GET.get("union"):
        union = get_visible_or_404(
            Union.objects.all(), request.user, Perm.ACTIVITY_VIEW, via="", pk=request.GET["union"]
        )
    year = timezone.localdate().year
    start = date_param(request, "start") or dt.date(year, 1, 1)
    end = date_param(request, "end") or dt.date(year, 12, 31)
    if end < start:
        start, end = end, start
    return union, Period(start, end)


def attendance_list(request: AuthedRequest) -> HttpResponse:
    """Who attended what in a period: the list behind 参加活动 and 培训职工 (人次)."""
    _area(request)
    union, period = _period(request)
    qs = visible(
        Registration.objects.filter(status=RegStatus.ATTENDED),
        request.user,
        Perm.ACTIVITY_VIEW,
        via="activity__union",
    )
    qs = qs.filter(
        activity__start_date__gte=period.start,
        activity__start_date__lte=min(period.end, timezone.localdate()),
        activity__status="open",
    )
    if union is not None:
        qs = qs.filter(subtree_q(union.path, "activity__union__path"))
    if request.GET.get("category") in Category.values:
        qs = qs.filter(activity__category=request.GET["category"])
    qs = qs.select_related("member", "activity", "union").order_by(
        "-activity__start_date", "activity_id", "id"
    )
    return render(
        request,
        "activities/attendance.html",
        {
            "page": paginate(request, qs, PAGE),
            "query": query_without_page(request),
            "union": union,
            "period": period,
        },
    )


def participation(request: AuthedRequest) -> HttpResponse:
    """The period's participation rate, and by branch."""
    _area(request)
    union, period = _period(request)
    if union is None:
        union = top_unions(request.user, Perm.ACTIVITY_VIEW).first()
    if union is None:
        raise Http404("没有可统计的工会组织。")
    return render(
        request,
        "activities/participation.html",
        {
            "union": union,
            "period": period,
            "overall": queries.period_participation(union, period),
            "branches": queries.participation_by_branch(union, period),
        },
    )


def award_list(request: AuthedRequest) -> HttpResponse:
    _area(request)
    union, period = _period(request)
    qs = visible(
        Award.objects.all(), request.user, Perm.ACTIVITY_VIEW, via="activity__union"
    ).filter(
        activity__start_date__gte=period.start,
        activity__start_date__lte=min(period.end, timezone.localdate()),
        activity__status="open",
    )
    if union is not None:
        qs = qs.filter(subtree_q(union.path, "activity__union__path"))
    qs = qs.select_related("activity", "member").order_by(
        "-activity__start_date", "activity_id", "rank"
    )
    return render(
        request,
        "activities/awards.html",
        {
            "page": paginate(request, qs, PAGE),
            "query": query_without_page(request),
            "union": union,
            "period": period,
        },
    )


# Clubs ----------------------------------------------------------------------------------


def club_list(request: AuthedRequest) -> HttpResponse:
    _area(request)
    return render(
        request,
        "activities/clubs.html",
        {
            "clubs": list(queries.clubs(request.user)[:300]),
            "can_edit": grants(request.user).any(Perm.ACTIVITY_EDIT),
        },
    )


@require_http_methods(["GET", "POST"])
def club_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.ACTIVITY_EDIT)
    form = f.ClubForm(posted(request), viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            club = services.club_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已成立「{club.name}」。")
            return redirect("activities:club", pk=club.pk)
    return render(
        request,
        "activities/simple_form.html",
        {"form": form, "title": "成立兴趣小组", "back": reverse("activities:clubs")},
    )


def club_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    club = get_visible_or_404(
        Club.objects.select_related("union", "leader"), request.user, Perm.ACTIVITY_VIEW, pk=pk
    )
    return render(
        request,
        "activities/club.html",
        {
            "club": club,
            "memberships": list(
                club.memberships.select_related("member__union").order_by("member__name_sort")
            ),
            "activities": list(club.activities.order_by("-start_date")[:50]),
            "can_edit": can(request.user, Perm.ACTIVITY_EDIT, club.union),
            "form": f.EnterForm(viewer=request.user),
        },
    )


@require_POST
def club_join(request: AuthedRequest, pk: int) -> HttpResponse:
    """An officer adds a member; a member (no form) joins themself."""
    club = Club.objects.select_related("union").filter(pk=pk).first()
    if club is None:
        raise Http404("没有这个兴趣小组。")
    me = own_member(request.user)
    if request.POST.get("member"):
        club = get_visible_or_404(
            Club.objects.select_related("union"), request.user, Perm.ACTIVITY_EDIT, pk=pk
        )
        form = f.EnterForm(request.POST, viewer=request.user)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
            return redirect("activities:club", pk=pk)
        member = form.cleaned_data["member"]
    elif me is not None and club.archived_at is None and me.union.path.startswith(club.union.path):
        member = me  # a club of their own union or one above it
    else:
        raise Http404("没有这个兴趣小组。")
    try:
        services.club_join(actor=request.user, club=club, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.name}已加入「{club.name}」。")
    if member == me and not request.POST.get("member"):
        return redirect("activities:mine")
    return redirect("activities:club", pk=pk)


@require_POST
def club_leave(request: AuthedRequest, pk: int) -> HttpResponse:
    membership = _own_or_in_scope(
        request, ClubMembership.objects.select_related("club__union", "member"), pk
    )
    own = membership.member.user_id == request.user.pk
    services.club_leave(actor=request.user, membership=membership)
    messages.success(request, f"{membership.member.name}已退出「{membership.club.name}」。")
    if own:
        return redirect("activities:mine")
    return redirect("activities:club", pk=membership.club_id)


# Knowledge contests ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def quiz_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    activity = get_visible_or_404(
        Activity.objects.select_related("union"), request.user, Perm.ACTIVITY_EDIT, pk=pk
    )
    quiz = getattr(activity, "quiz", None)
    initial = {"pass_mark": quiz.pass_mark, "bank": f.bank_text(quiz)} if quiz else {}
    form = f.QuizForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.quiz_set(
                actor=request.user,
                activity=activity,
                pass_mark=form.cleaned_data["pass_mark"],
                questions=form.cleaned_data["bank"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "题库已保存。")
            return redirect("activities:detail", pk=pk)
    return render(
        request,
        "activities/simple_form.html",
        {
            "form": form,
            "title": f"题库 · {activity.title}",
            "back": reverse("activities:detail", args=[pk]),
        },
    )


@require_http_methods(["GET", "POST"])
def quiz_take(request: AuthedRequest, pk: int) -> HttpResponse:
    """A member answers the contest on their phone (once)."""
    activity = Activity.objects.select_related("union", "audience", "club").filter(pk=pk).first()
    quiz = getattr(activity, "quiz", None) if activity else None
    member = own_member(request.user)
    if (
        activity is None
        or quiz is None
        or member is None
        or services.eligibility_problem(activity, member)
    ):
        raise Http404("没有这个竞赛，或您不在参加范围内。")
    today = timezone.localdate()
    is_open = activity.status == "open" and activity.start_date <= today <= activity.end_date
    # The bank stays closed until answering opens (and after it closes).
    questions = list(quiz.questions.all()) if is_open else []
    attempt = quiz.attempts.filter(member=member).first()
    error = ""
    chosen: dict[int, list[int]] = {}
    if request.method == "POST" and attempt is None and is_open:
        answers = {
            q.pk: [int(v) for v in request.POST.getlist(f"q{q.pk}") if v.isdigit()]
            for q in questions
        }
        chosen = answers
        missing = [i for i, q in enumerate(questions, 1) if not answers[q.pk]]
        if missing:
            error = f"第 {'、'.join(map(str, missing))} 题还没有作答。"
        else:
            try:
                attempt = services.quiz_submit(actor=request.user, quiz=quiz, answers=answers)
            except ValidationError as exc:
                error = " ".join(exc.messages)
    return render(
        request,
        "activities/quiz.html",
        {
            "activity": activity,
            "quiz": quiz,
            "questions": [(q, chosen.get(q.pk, [])) for q in questions],
            "attempt": attempt,
            "error": error,
            "is_open": is_open,
        },
    )


# Self-service ---------------------------------------------------------------------------


def mine(request: AuthedRequest) -> HttpResponse:
    """A member's activities on a phone: what is open to them, what they signed up for."""
    member = own_member(request.user)
    if member is None:
        return render(request, "activities/mine.html", {"member": None})
    open_now = list(queries.open_for(member)[:50])
    regs = queries.my_registrations(member)
    past = list(
        Registration.objects.filter(member=member, status=RegStatus.ATTENDED)
        .select_related("activity")
        .order_by("-activity__start_date")[:30]
    )
    cancelled = list(
        Registration.objects.filter(
            member=member,
            activity__status="cancelled",
            activity__end_date__gte=timezone.localdate() - dt.timedelta(days=30),
        )
        .exclude(status=RegStatus.CANCELLED)
        .select_related("activity")
        .order_by("-activity__start_date")[:10]
    )
    clubs_in = list(ClubMembership.objects.filter(member=member).select_related("club"))
    joinable = list(
        Club.objects.filter(archived_at__isnull=True)
        .filter(Q(union_id__in=[*member.union.ancestor_ids(), member.union_id]))
        .exclude(memberships__member=member)[:20]
    )
    return render(
        request,
        "activities/mine.html",
        {
            "member": member,
            "rows": [(a, regs.get(a.pk)) for a in open_now],
            "past": past,
            "cancelled": cancelled,
            "clubs_in": clubs_in,
            "joinable": joinable,
        },
    )


@require_POST
def signup(request: AuthedRequest, pk: int) -> HttpResponse:
    """A member signs themself up (a place, or the waitlist when full)."""
    member = own_member(request.user)
    activity = Activity.objects.select_related("union", "audience", "club").filter(pk=pk).first()
    if member is None or activity is None or services.eligibility_problem(activity, member):
        raise Http404("没有这个活动，或您不在参加范围内。")
    try:
        r = services.register(actor=request.user, activity=activity, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if r.status == RegStatus.WAITLISTED:
            messages.warning(
                request, f"「{activity.title}」名额已满，您已进入候补；有人取消时自动转为正式报名。"
            )
        else:
            messages.success(request, f"已报名「{activity.title}」。")
    return redirect("activities:mine")
