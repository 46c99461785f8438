"""关爱服务 pages: thin views over ``care.services`` and ``care.queries``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
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
    tell_refused_union,
)
from gonghui.members.models import Member
from gonghui.members.queries import own_member
from gonghui.org.models import Union, subtree_q

from . import forms as f
from . import queries, rules, services
from .choices import CapItem, SubsidyStatus
from .models import (
    Claim,
    CoverageProgramme,
    Donation,
    DonationDrive,
    Enrolment,
    HardshipFile,
    HospitalStay,
    Subsidy,
    SubsidyAttachment,
    Visit,
    VisitPhoto,
)
from .report import facts as care_facts

PAGE = 50


def _area(request: AuthedRequest, perm: Perm = Perm.CARE_VIEW) -> None:
    if not grants(request.user).any(perm):
        raise PermissionDenied("您没有办理关爱服务的权限。")


def _member_initial(request: AuthedRequest) -> dict[str, Any]:
    """A form opened from a member's page (``?member=<id>``) starts with that member."""
    if not request.GET.get("member"):
        return {}
    member = get_visible_or_404(
        Member.objects.select_related("union"),
        request.user,
        Perm.CARE_EDIT,
        pk=request.GET["member"],
    )
    return {"member": member}


# Home -----------------------------------------------------------------------------------


def home(request: AuthedRequest) -> HttpResponse:
    """Reminders (birthdays, members in hospital, files due for review) and this year's
    figures of the unions the user looks after."""
    _area(request)
    g = grants(request.user)
    period = Period.year(dt.date.today().year)
    roots = list(top_unions(request.user, Perm.CARE_VIEW)[:3])
    return render(
        request,
        "care/home.html",
        {
            "reminders": queries.reminders(request.user),
            "panels": [(u, care_facts(union=u, period=period)) for u in roots],
            "period": period,
            "can_edit": g.any(Perm.CARE_EDIT),
            "pending": queries.awaiting(request.user).count(),
        },
    )


# Visits ---------------------------------------------------------------------------------


def visit_list(request: AuthedRequest) -> HttpResponse:
    _area(request)
    form = f.VisitFilterForm(request.GET, viewer=request.user)
    qs = queries.visits(request.user, form.to_filter())
    tell_refused_union(request, form)
    context = {
        "form": form,
        "page": paginate(request, qs, PAGE),
        "totals": queries.visit_totals(qs),
        "query": query_without_page(request),
        "can_edit": grants(request.user).any(Perm.CARE_EDIT),
    }
    return render_page(request, "care/visits.html", context, "care/partials/visits.html")


@require_http_methods(["GET", "POST"])
def visit_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.CARE_EDIT)
    initial = _member_initial(request)
    if request.GET.get("reason"):
        initial["reason"] = request.GET["reason"]
    form = f.VisitCreateForm(
        posted(request), request.FILES or None, viewer=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            visit = services.visit_create(
                actor=request.user,
                member=d["member"],
                union=d.get("union"),
                recipient=d["recipient"],
                recipient_name=d["recipient_name"],
                relation=d["relation"],
                date=d["date"],
                reason=d["reason"],
                variant=d.get("variant") or "",
                form=d["form"],
                amount=d["amount"],
                goods=d["goods"],
                visitors=d["visitors"],
                note=d["note"],
                confirm_over_cap=d["confirm_over_cap"],
                photo=d.get("photo"),
            )
        except ValidationError as exc:
            add_errors_or_confirm(form, exc)
        else:
            text = f"已登记：{visit}，{visit.amount} 元。"
            if visit.over_cap:
                messages.warning(request, text + "（超出标准，已记录确认）")
            else:
                messages.success(request, text)
            return redirect("care:visit", pk=visit.pk)
    # A file input cannot be refilled: say so when the page comes back with a photo chosen.
    lost_photo = request.method == "POST" and bool(request.FILES.get("photo"))
    return render(request, "care/visit_form.html", {"form": form, "lost_photo": lost_photo})


def visit_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    visit = get_visible_or_404(
        Visit.objects.select_related(
            "union", "member__union", "created_by", "reverses", "reversal"
        ),
        request.user,
        Perm.CARE_VIEW,
        pk=pk,
    )
    can_edit = can(request.user, Perm.CARE_EDIT, visit.union)
    return render(
        request,
        "care/visit_detail.html",
        {
            "visit": visit,
            "photos": list(visit.photos.all()),
            "can_edit": can_edit,
            "photo_form": f.PhotoForm(),
            "history": audit.history(visit)[:20],
        },
    )


@require_POST
def visit_reverse(request: AuthedRequest, pk: int) -> HttpResponse:
    visit = get_visible_or_404(
        Visit.objects.select_related("union"), request.user, Perm.CARE_EDIT, pk=pk
    )
    form = f.ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写冲销的原因。")
        return redirect("care:visit", pk=pk)
    try:
        services.visit_reverse(actor=request.user, visit=visit, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "已冲销这条慰问记录；原记录保留，统计中不再计入。")
    return redirect("care:visit", pk=pk)


@require_POST
def visit_batch_reverse(request: AuthedRequest) -> HttpResponse:
    """Undo a whole batch (the list filtered by ``?batch=`` offers it)."""
    batch = request.POST.get("batch", "")
    # The batch as this officer may edit it: one visit out of reach and it is "not found".
    found = visible(Visit.objects.filter(batch=batch), request.user, Perm.CARE_EDIT)
    if (
        not batch
        or not found.exists()
        or Visit.objects.filter(batch=batch).count() != found.count()
    ):
        raise Http404("没有找到这一批慰问，或您无权操作。")
    form = f.ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写冲销的原因。")
    else:
        try:
            n = services.visit_batch_reverse(
                actor=request.user, batch=batch, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"已冲销整批 {n} 人次；原记录保留，统计中不再计入。")
    return redirect(f"{reverse('care:visits')}?batch={batch}&states=1")


@require_POST
def visit_photo_add(request: AuthedRequest, pk: int) -> HttpResponse:
    visit = get_visible_or_404(
        Visit.objects.select_related("union"), request.user, Perm.CARE_EDIT, pk=pk
    )
    form = f.PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "请选择要上传的照片。")
        return redirect("care:visit", pk=pk)
    try:
        services.visit_photo_add(actor=request.user, visit=visit, upload=form.cleaned_data["photo"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "照片已上传。")
    return redirect("care:visit", pk=pk)


def visit_photo(request: AuthedRequest, pk: int) -> FileResponse:
    """A visit's photo, for those who may see the visit (never a public URL)."""
    photo = get_visible_or_404(
        VisitPhoto.objects.select_related("visit"),
        request.user,
        Perm.CARE_VIEW,
        via="visit__union",
        pk=pk,
    )
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("照片文件已不存在。") from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
def visit_batch(request: AuthedRequest) -> HttpResponse:
    """节日慰问 for a whole branch: fill in, see who and what it costs, then save."""
    _area(request, Perm.CARE_EDIT)
    form = f.BatchForm(posted(request), viewer=request.user)
    preview = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        args = dict(
            actor=request.user,
            union=d["union"],
            date=d["date"],
            reason=d["reason"],
            form=d["form"],
            amount=d["amount"],
            include_retirees=d["include_retirees"],
        )
        try:
            if d["previewed"] != form.digest():
                # First time, or the form changed since its preview: preview (again).
                if d["previewed"]:
                    messages.warning(request, "内容已修改，请核对新的预览后再确认保存。")
                preview = services.visit_batch_preview(**args)
                form = f.BatchForm(
                    {**request.POST.dict(), "previewed": form.digest(), "confirm_over_cap": ""},
                    viewer=request.user,
                )
                form.is_valid()
                if preview.over_cap and preview.blocked:
                    form.add_error(
                        "amount",
                        f"{len(preview.over_cap)} 人超过标准，本工会规定超标不能保存，请调整金额。",
                    )
                elif preview.over_cap:
                    form.ask_to_confirm(preview.over_cap[0][1])
            else:
                visits = services.visit_batch(
                    **args,
                    goods=d["goods"],
                    visitors=d["visitors"],
                    note=d["note"],
                    confirm_over_cap=d["confirm_over_cap"],
                )
                total = sum(v.amount for v in visits)
                messages.success(
                    request,
                    f"已为 {len(visits)} 人登记{visits[0].get_reason_display()}慰问，共 {total} 元。",
                )
                return redirect(f"{reverse('care:visits')}?batch={visits[0].batch}")
        except ValidationError as exc:
            add_errors_or_confirm(form, exc)
            if isinstance(exc, services.OverCap):
                preview = services.visit_batch_preview(**args)
    return render(request, "care/batch.html", {"form": form, "preview": preview})


# Hospital stays -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def stay_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.CARE_EDIT)
    form = f.StayForm(posted(request), viewer=request.user, initial=_member_initial(request))
    if request.method == "POST" and form.is_valid():
        try:
            stay = services.stay_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记{stay.member.name}住院，记得前去探望。")
            return redirect("care:home")
    return render(
        request,
        "care/form.html",
        {"form": form, "title": "登记住院", "submit": "登记", "back": reverse("care:home")},
    )


@require_POST
def stay_discharge(request: AuthedRequest, pk: int) -> HttpResponse:
    stay = get_visible_or_404(
        HospitalStay.objects.select_related("union", "member"), request.user, Perm.CARE_EDIT, pk=pk
    )
    form = f.DischargeForm(request.POST)
    if form.is_valid():
        try:
            services.stay_discharge(actor=request.user, stay=stay, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"已登记{stay.member.name}出院。")
    else:
        messages.error(request, "请填写出院日期。")
    return redirect("care:home")


# Hardship files -------------------------------------------------------------------------


def hardship_list(request: AuthedRequest) -> HttpResponse:
    _area(request)
    union = _union_param(request)
    as_of = date_param(request, "as_of")
    status = request.GET.get("status", "open" if as_of is None else "")
    qs = queries.hardship_files(request.user, union=union, status=status, as_of=as_of)
    return render(
        request,
        "care/hardship_list.html",
        {
            "page": paginate(request, qs.order_by("-opened_on", "-id"), PAGE),
            "query": query_without_page(request),
            "union": union,
            "as_of": as_of,
            "status": status,
            "can_edit": grants(request.user).any(Perm.CARE_EDIT),
        },
    )


def _union_param(
    request: AuthedRequest, perm: Perm = Perm.CARE_VIEW, key: str = "union"
) -> Union | None:
    """The union a list is limited to (``?union=``; with ``key=""``: a POSTed form's
    ``union`` field)."""
    value = request.GET.get(key) if key else request.POST.get("union")
    if not value:
        return None
    return get_visible_or_404(Union.objects.all(), request.user, perm, via="", pk=value)


@require_http_methods(["GET", "POST"])
def hardship_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.CARE_EDIT)
    initial = _member_initial(request)
    form = f.HardshipOpenForm(posted(request), viewer=request.user, initial=initial)
    household = f.HouseholdFormSet(posted(request), prefix="household")
    if request.method == "POST" and form.is_valid() and household.is_valid():
        d = form.cleaned_data
        try:
            file = services.hardship_file_open(
                actor=request.user,
                member=d["member"],
                opened_on=d["opened_on"],
                cause=d["cause"],
                household=f.household_from(household),
                **form.figures(),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request, f"已为{file.member.name}建档：{file.get_category_display()}。"
            )
            return redirect("care:hardship_file", pk=file.pk)
    return render(
        request, "care/hardship_form.html", {"form": form, "household": household, "file": None}
    )


def hardship_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    file = get_visible_or_404(
        HardshipFile.objects.select_related("member__union", "union", "created_by"),
        request.user,
        Perm.CARE_VIEW,
        pk=pk,
    )
    return render(
        request,
        "care/hardship_detail.html",
        {
            "file": file,
            "household": list(file.household.all()),
            "reviews": list(file.reviews.select_related("reviewer")),
            "subsidies": list(file.subsidies.all()),
            "due_on": queries.review_due_on(file),
            "can_edit": can(request.user, Perm.CARE_EDIT, file.union),
            "close_form": f.CloseForm(),
            "policy": queries.policy_for(file.union),
        },
    )


@require_http_methods(["GET", "POST"])
def hardship_review(request: AuthedRequest, pk: int) -> HttpResponse:
    file = get_visible_or_404(
        HardshipFile.objects.select_related("member", "union"), request.user, Perm.CARE_EDIT, pk=pk
    )
    initial = {
        name: getattr(file, name)
        for name in (
            "other_income",
            "expenses",
            "hardship_costs",
            "multiple_homes",
            "owns_business",
            "private_school",
            "migrant_worker",
            "labour_since",
        )
    }
    form = f.HardshipReviewForm(posted(request), initial=initial)
    people = [
        {
            "name": h.name,
            "relation": h.relation,
            "birth_year": h.birth_year,
            "situation": h.situation,
            "annual_income": h.annual_income,
        }
        for h in file.household.all()
    ]
    household = f.HouseholdFormSet(posted(request), prefix="household", initial=people)
    if request.method == "POST" and form.is_valid() and household.is_valid():
        d = form.cleaned_data
        try:
            file, result = services.hardship_file_review(
                actor=request.user,
                file=file,
                date=d["date"],
                note=d["note"],
                household=f.household_from(household),
                **form.figures(),
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            if result.eligible:
                messages.success(request, f"复核完成：{file.get_category_display()}。")
            else:
                messages.warning(
                    request,
                    f"复核完成：已不符合建档条件（{'；'.join(result.reasons)}），可办理脱档。",
                )
            return redirect("care:hardship_file", pk=file.pk)
    return render(
        request, "care/hardship_form.html", {"form": form, "household": household, "file": file}
    )


@require_POST
def hardship_close(request: AuthedRequest, pk: int) -> HttpResponse:
    file = get_visible_or_404(
        HardshipFile.objects.select_related("member", "union"), request.user, Perm.CARE_EDIT, pk=pk
    )
    form = f.CloseForm(request.POST)
    if form.is_valid():
        try:
            services.hardship_file_close(actor=request.user, file=file, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{file.member.name}的档案已脱档。")
    else:
        messages.error(request, "请填写脱档日期和原因。")
    return redirect("care:hardship_file", pk=pk)


# Subsidies ------------------------------------------------------------------------------


def subsidy_list(request: AuthedRequest) -> HttpResponse:
    _area(request)
    qs = queries.subsidies(request.user)
    # 待我办理 (?todo=review|approve|pay, or any step: ?todo=all): the to-do list's link.
    todo = request.GET.get("todo", "")
    step = queries.STEPS.get(todo)
    if todo:
        qs = qs.filter(pk__in=queries.awaiting(request.user, todo if step else "").values("pk"))
    union = _union_param(request)
    if union is not None:
        qs = qs.filter(subtree_q(union.path, "union__path"))
    status = request.GET.get("status", "")
    if status in SubsidyStatus.values:
        qs = qs.filter(status=status)
    start, end = date_param(request, "start"), date_param(request, "end")
    # The report counts subsidies by the day they were paid; other lists by application.
    field = "paid_on" if status == SubsidyStatus.PAID else "applied_on"
    if start:
        qs = qs.filter(**{f"{field}__gte": start})
    if end:
        qs = qs.filter(**{f"{field}__lte": end})
    return render(
        request,
        "care/subsidies.html",
        {
            "page": paginate(request, qs.order_by("-applied_on", "-id"), PAGE),
            "query": query_without_page(request),
            "union": union,
            "status": status,
            "statuses": SubsidyStatus.choices,
            "todo": (step[2] if step else "办理") if todo else "",
            "start": start,
            "end": end,
            "can_edit": grants(request.user).any(Perm.CARE_EDIT),
        },
    )


@require_http_methods(["GET", "POST"])
def subsidy_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.CARE_EDIT)
    initial = _member_initial(request)
    form = f.SubsidyCreateForm(
        posted(request), request.FILES or None, viewer=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            subsidy = _apply(request, form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记{subsidy}，待审核。")
            return redirect("care:subsidy", pk=subsidy.pk)
    return render(
        request,
        "care/form.html",
        {
            "form": form,
            "title": "登记补助申请",
            "submit": "提交申请",
            "back": reverse("care:subsidies"),
        },
    )


def _apply(request: AuthedRequest, data: dict[str, Any]) -> Subsidy:
    """The application and its attachment, together or not at all."""
    data = dict(data)
    upload = data.pop("attachment", None)
    with transaction.atomic():
        subsidy = services.subsidy_apply(actor=request.user, **data)
        if upload:
            services.subsidy_attachment_add(actor=request.user, subsidy=subsidy, upload=upload)
    return subsidy


def _own_subsidy(request: AuthedRequest, subsidy: Subsidy) -> bool:
    return request.user.pk in (subsidy.applicant_id, subsidy.member.user_id)


@require_POST
def subsidy_attachment_add(request: AuthedRequest, pk: int) -> HttpResponse:
    """An officer of the subsidy's union, or the applicant, adds a paper to it."""
    subsidy = Subsidy.objects.select_related("member", "union").filter(pk=pk).first()
    if subsidy is None or not (
        _own_subsidy(request, subsidy) or can(request.user, Perm.CARE_EDIT, subsidy.union)
    ):
        raise Http404("没有找到该记录，或您无权查看。")
    form = f.AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    else:
        try:
            services.subsidy_attachment_add(
                actor=request.user, subsidy=subsidy, upload=form.cleaned_data["attachment"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "附件已上传。")
    if can(request.user, Perm.CARE_VIEW, subsidy.union):
        return redirect("care:subsidy", pk=pk)
    return redirect("care:me")


def subsidy_attachment(request: AuthedRequest, pk: int) -> FileResponse:
    """A subsidy's attachment, for those who may see the subsidy and for the member whose
    application it is (never a public URL)."""
    qs = SubsidyAttachment.objects.select_related("subsidy__member", "subsidy__union")
    attachment = qs.filter(
        Q(subsidy__applicant=request.user) | Q(subsidy__member__user=request.user), pk=pk
    ).first() or get_visible_or_404(qs, request.user, Perm.CARE_VIEW, via="subsidy__union", pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("附件文件已不存在。") from exc
    # A PDF is downloaded, not opened in our origin; an image is shown in the page.
    response = FileResponse(
        handle,
        content_type=attachment.content_type,
        as_attachment=not attachment.is_image,
        filename=attachment.name,
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _subsidy_context(request: AuthedRequest, subsidy: Subsidy, **forms: Any) -> dict[str, Any]:
    user = request.user
    own = subsidy.applicant_id == user.pk or subsidy.member.user_id == user.pk
    events = list(subsidy.events.select_related("actor"))
    # Four eyes (services.subsidy_handler_refusal): a step the rules keep from this
    # user is not offered, and the page says why.
    steps: dict[str, tuple[str, Perm]] = {
        SubsidyStatus.APPLIED: (SubsidyStatus.REVIEWED, Perm.CARE_EDIT),
        SubsidyStatus.REVIEWED: (SubsidyStatus.APPROVED, Perm.CARE_APPROVE),
        SubsidyStatus.APPROVED: (SubsidyStatus.PAID, Perm.CARE_PAY),
    }
    step = steps.get(subsidy.status)
    refusal = None
    policy = queries.policy_for(subsidy.union)
    may = dict.fromkeys(("review", "approve", "pay"), False)
    if step is not None and can(user, step[1], subsidy.union):
        refusal = services.subsidy_handler_refusal(
            user, subsidy, step[0], events=events, policy=policy
        )
        key = {"reviewed": "review", "approved": "approve", "paid": "pay"}[step[0]]
        may[key] = refusal is None
    may["reject"] = (
        may["review"]
        or may["approve"]
        or (
            subsidy.status == SubsidyStatus.APPROVED and can(user, Perm.CARE_APPROVE, subsidy.union)
        )
    )
    if own:
        may = dict.fromkeys(may, False)
    return {
        "subsidy": subsidy,
        "events": events,
        "may": may,
        "own": own,
        "handed_on": refusal if not own else None,
        "min_handlers": policy.min_handlers,
        "review_form": forms.get("review") or f.NoteForm(),
        "approve_form": forms.get("approve")
        or f.ApproveForm(initial={"amount": subsidy.requested_amount}),
        "reject_form": forms.get("reject") or f.ReasonForm(),
        "pay_form": forms.get("pay") or f.PayForm(initial={"amount": subsidy.approved_amount}),
        "cap": policy.caps.get(CapItem.HARDSHIP),
    }


def subsidy_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    subsidy = get_visible_or_404(
        Subsidy.objects.select_related("member__union", "union", "applicant", "hardship_file"),
        request.user,
        Perm.CARE_VIEW,
        pk=pk,
    )
    context = {
        **_subsidy_context(request, subsidy),
        "attachments": list(subsidy.attachments.all()),
        "may_attach": services.subsidy_attachment_may_add(request.user, subsidy),
        "attachment_form": f.AttachmentForm(),
    }
    return render(request, "care/subsidy_detail.html", context)


@require_POST
def subsidy_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    """A member takes back their own application (from 我的关爱)."""
    subsidy = Subsidy.objects.select_related("member", "union").filter(pk=pk).first()
    user = request.user
    if subsidy is None or user.pk not in (subsidy.applicant_id, subsidy.member.user_id):
        raise Http404("没有找到该记录，或您无权查看。")
    try:
        services.subsidy_withdraw(actor=user, subsidy=subsidy)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "申请已撤回。")
    return redirect("care:me")


@require_POST
def subsidy_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    """审核, 批准, 发放 or 不通过: each a move of the workflow, each by its own role."""
    subsidy = get_visible_or_404(
        Subsidy.objects.select_related("member", "union", "applicant"),
        request.user,
        Perm.CARE_VIEW,
        pk=pk,
    )
    user = request.user

    def review(d: dict[str, Any]) -> object:
        return services.subsidy_review(actor=user, subsidy=subsidy, note=d["note"])

    def approve(d: dict[str, Any]) -> object:
        return services.subsidy_approve(
            actor=user,
            subsidy=subsidy,
            amount=d["amount"],
            note=d["note"],
            confirm_over_cap=d["confirm_over_cap"],
        )

    def reject(d: dict[str, Any]) -> object:
        return services.subsidy_reject(actor=user, subsidy=subsidy, reason=d["reason"])

    def pay(d: dict[str, Any]) -> object:
        return services.subsidy_pay(
            actor=user, subsidy=subsidy, amount=d["amount"], paid_on=d["paid_on"], note=d["note"]
        )

    steps: dict[str, tuple[type[Any], Callable[[dict[str, Any]], object], str]] = {
        "review": (f.NoteForm, review, "已审核，转主席审批。"),
        "approve": (f.ApproveForm, approve, "已批准，待发放。"),
        "reject": (f.ReasonForm, reject, "已退回，申请人可以看到原因。"),
        "pay": (f.PayForm, pay, "已登记发放。"),
    }
    if action not in steps:
        raise Http404("没有这一步。")
    form_class, call, done = steps[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            add_errors_or_confirm(form, exc)
        else:
            messages.success(request, done)
            return redirect("care:subsidy", pk=pk)
    context = _subsidy_context(request, subsidy, **{action: form})
    return render(request, "care/subsidy_detail.html", context, status=400)


# Donations ------------------------------------------------------------------------------


def drive_list(request: AuthedRequest) -> HttpResponse:
    _area(request)
    qs = queries.drives(request.user).order_by("-start_date", "-id")
    return render(
        request,
        "care/drives.html",
        {
            "page": paginate(request, qs, PAGE),
            "query": query_without_page(request),
            "can_edit": grants(request.user).any(Perm.CARE_EDIT),
        },
    )


@require_http_methods(["GET", "POST"])
def drive_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.CARE_EDIT)
    form = f.DriveForm(posted(request), viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            drive = services.drive_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已发起捐款活动「{drive.name}」。")
            return redirect("care:drive", pk=drive.pk)
    return render(
        request,
        "care/form.html",
        {"form": form, "title": "发起捐款活动", "submit": "保存", "back": reverse("care:drives")},
    )


def _drive_context(
    request: AuthedRequest, drive: DonationDrive, form: Any = None
) -> dict[str, Any]:
    can_edit = can(request.user, Perm.CARE_EDIT, drive.union)
    show_all = request.GET.get("states") == "1"
    return {
        "drive": drive,
        "totals": queries.drive_totals(drive),
        "page": paginate(request, queries.donations_of(drive, all_states=show_all), PAGE),
        "query": query_without_page(request),
        "show_all": show_all,
        "can_edit": can_edit,
        "form": form or (f.DonationForm(viewer=request.user) if can_edit else None),
    }


def drive_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    drive = get_visible_or_404(
        DonationDrive.objects.select_related("union"), request.user, Perm.CARE_VIEW, pk=pk
    )
    return render(request, "care/drive_detail.html", _drive_context(request, drive))


@require_POST
def donation_add(request: AuthedRequest, pk: int) -> HttpResponse:
    drive = get_visible_or_404(
        DonationDrive.objects.select_related("union"), request.user, Perm.CARE_EDIT, pk=pk
    )
    form = f.DonationForm(request.POST, viewer=request.user)
    if form.is_valid():
        try:
            donation = services.donation_add(actor=request.user, drive=drive, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已登记：{donation}。")
            return redirect("care:drive", pk=pk)
    return render(
        request, "care/drive_detail.html", _drive_context(request, drive, form), status=400
    )


@require_POST
def donation_reverse(request: AuthedRequest, pk: int) -> HttpResponse:
    donation = get_visible_or_404(
        Donation.objects.select_related("drive__union", "union"),
        request.user,
        Perm.CARE_EDIT,
        via="drive__union",
        pk=pk,
    )
    form = f.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.donation_reverse(
                actor=request.user, donation=donation, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"已冲销{donation.donor_name}的捐款；原记录保留，合计中不再计入。"
            )
    else:
        messages.error(request, "请填写冲销的原因。")
    return redirect("care:drive", pk=donation.drive_id)


def donation_list(request: AuthedRequest) -> HttpResponse:
    """Every gift of a period across drives: the list behind the report's 捐款 figures."""
    _area(request)
    form = f.DonationFilterForm(request.GET, viewer=request.user)
    qs = visible(Donation.objects.all(), request.user, Perm.CARE_VIEW).filter(state="valid")
    form.is_valid()  # a refused filter drops out; the others still apply
    tell_refused_union(request, form)
    d: dict[str, Any] = getattr(form, "cleaned_data", {})
    if d.get("union"):
        qs = qs.filter(subtree_q(d["union"].path, "union__path"))
    if d.get("start"):
        qs = qs.filter(date__gte=d["start"])
    if d.get("end"):
        qs = qs.filter(date__lte=d["end"])
    totals = queries.donation_totals(qs)
    qs = qs.select_related("drive__union", "union", "member").order_by("-date", "-id")
    return render(
        request,
        "care/donations.html",
        {
            "form": form,
            "page": paginate(request, qs, PAGE),
            "query": query_without_page(request),
            "totals": totals,
        },
    )


# Coverage -------------------------------------------------------------------------------


def coverage_list(request: AuthedRequest) -> HttpResponse:
    _area(request)
    qs = queries.programmes(request.user)
    union = _union_param(request)
    if union is not None:
        qs = qs.filter(queries.covering_q(union))
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(year=int(year))
    programmes = list(qs.order_by("-year", "name")[:200])
    eligible = queries.eligible_counts({p.union for p in programmes})
    rows = [(p, eligible[p.union_id]) for p in programmes]
    return render(
        request,
        "care/coverage.html",
        {
            "rows": rows,
            "union": union,
            "year": year,
            "can_edit": grants(request.user).any(Perm.CARE_EDIT),
        },
    )


@require_http_methods(["GET", "POST"])
def programme_create(request: AuthedRequest) -> HttpResponse:
    _area(request, Perm.CARE_EDIT)
    form = f.ProgrammeForm(posted(request), viewer=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.programme_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, f"已建立「{programme}」，请登记参保会员。")
            return redirect("care:programme", pk=programme.pk)
    return render(
        request,
        "care/form.html",
        {"form": form, "title": "建立保障项目", "submit": "保存", "back": reverse("care:coverage")},
    )


def _programme_context(
    request: AuthedRequest, programme: CoverageProgramme, **forms: Any
) -> dict[str, Any]:
    can_edit = can(request.user, Perm.CARE_EDIT, programme.union)
    eligible = queries.eligible_members(programme.union)
    eligible_count = eligible.count()
    enrolled_eligible = eligible.filter(enrolments__programme=programme).count()
    enrolments = programme.enrolments.select_related("member__union").order_by(
        "member__union__path", "member__name_sort"
    )
    return {
        "programme": programme,
        "eligible": eligible_count,
        "enrolled": programme.enrolments.count(),
        "rate": round(enrolled_eligible * 100 / eligible_count, 1) if eligible_count else None,
        "page": paginate(request, enrolments, PAGE),
        "query": query_without_page(request),
        "claims": list(programme.claims.select_related("member").order_by("-date", "-id")[:200]),
        "can_edit": can_edit,
        "enrol_form": forms.get("enrol") or f.EnrolForm(viewer=request.user),
        "claim_form": forms.get("claim") or f.ClaimForm(viewer=request.user),
        "decide_form": f.ClaimDecideForm(),
    }


def programme_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    programme = get_visible_or_404(
        CoverageProgramme.objects.select_related("union"), request.user, Perm.CARE_VIEW, pk=pk
    )
    return render(request, "care/programme_detail.html", _programme_context(request, programme))


@require_POST
def programme_enrol(request: AuthedRequest, pk: int) -> HttpResponse:
    programme = get_visible_or_404(
        CoverageProgramme.objects.select_related("union"), request.user, Perm.CARE_EDIT, pk=pk
    )
    form = f.EnrolForm(request.POST, viewer=request.user)
    if form.is_valid():
        member = form.cleaned_data.get("member")
        try:
            added = services.programme_enrol(
                actor=request.user,
                programme=programme,
                members=[member] if member else None,
                enrolled_on=form.cleaned_data["enrolled_on"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request, f"新增参保 {added} 人。" if added else "没有新增：这些会员都已参保。"
            )
            return redirect("care:programme", pk=pk)
    context = _programme_context(request, programme, enrol=form)
    return render(request, "care/programme_detail.html", context, status=400)


@require_POST
def enrolment_remove(request: AuthedRequest, pk: int) -> HttpResponse:
    """Take back an enrolment made by mistake."""
    enrolment = get_visible_or_404(
        Enrolment.objects.select_related("programme__union", "member"),
        request.user,
        Perm.CARE_EDIT,
        via="programme__union",
        pk=pk,
    )
    try:
        services.enrolment_remove(actor=request.user, enrolment=enrolment)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"已取消{enrolment.member.name}的参保。")
    return redirect("care:programme", pk=enrolment.programme_id)


@require_POST
def claim_create(request: AuthedRequest, pk: int) -> HttpResponse:
    programme = get_visible_or_404(
        CoverageProgramme.objects.select_related("union"), request.user, Perm.CARE_EDIT, pk=pk
    )
    form = f.ClaimForm(request.POST, viewer=request.user)
    if form.is_valid():
        try:
            services.claim_create(actor=request.user, programme=programme, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "已登记理赔申报。")
            return redirect("care:programme", pk=pk)
    context = _programme_context(request, programme, claim=form)
    return render(request, "care/programme_detail.html", context, status=400)


@require_POST
def claim_decide(request: AuthedRequest, pk: int) -> HttpResponse:
    claim = get_visible_or_404(
        Claim.objects.select_related("programme__union", "member"),
        request.user,
        Perm.CARE_EDIT,
        via="programme__union",
        pk=pk,
    )
    form = f.ClaimDecideForm(request.POST)
    if form.is_valid():
        try:
            services.claim_decide(actor=request.user, claim=claim, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"已登记{claim.member.name}的理赔结果。")
    else:
        messages.error(request, "请选择理赔结果并填写处理日期。")
    return redirect("care:programme", pk=claim.programme_id)


# Policy ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def policy(request: AuthedRequest) -> HttpResponse:
    """The caps in force at a union, and (for its chair) its own."""
    _area(request)
    union = (
        _union_param(request, key="union" if request.method == "GET" else "")
        or top_unions(request.user, Perm.CARE_VIEW).first()
    )
    if union is None:
        raise Http404("没有可设置的工会组织。")
    current = queries.policy_for(union)
    can_set = can(request.user, Perm.CARE_APPROVE, union)
    own = current.source is not None and current.source.pk == union.pk
    initial = {
        "preset": current.preset,
        "enforcement": current.enforcement,
        "festival_goods_only": current.festival_goods_only,
        "birthday_cake_only": current.birthday_cake_only,
        "dibao_line": current.dibao_line,
        "accident_ratio": current.accident_ratio,
        "winners_share": current.winners_share,
        "min_handlers": current.min_handlers,
        # The caps in force that the preset alone would not give (set here or above):
        # saving the form unchanged keeps the standard as it is.
        **{
            f"cap_{k}": v
            for k, v in current.caps.items()
            if v is not None and v != rules.PRESETS[current.preset].get(k)
        },
    }
    form = f.PolicyForm(posted(request), initial=initial)
    if request.method == "POST":
        if not can_set:
            raise PermissionDenied("只有本工会主席可以设置开支标准。")
        if request.POST.get("clear"):
            services.policy_clear(actor=request.user, union=union)
            messages.success(request, f"「{union.name}」改为沿用上级工会的标准。")
            return redirect(f"{reverse('care:policy')}?union={union.pk}")
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.policy_set(
                    actor=request.user,
                    union=union,
                    preset=d["preset"],
                    enforcement=d["enforcement"],
                    festival_goods_only=d["festival_goods_only"],
                    birthday_cake_only=d["birthday_cake_only"],
                    overrides=form.overrides(),
                    dibao_line=d["dibao_line"],
                    accident_ratio=d["accident_ratio"],
                    winners_share=d["winners_share"],
                    min_handlers=d["min_handlers"],
                )
            except ValidationError as exc:
                add_errors(form, exc)
            else:
                messages.success(request, f"已保存「{union.name}」的开支标准，下级组织同样适用。")
                return redirect(f"{reverse('care:policy')}?union={union.pk}")
    caps = [(value, label, current.caps.get(value)) for value, label in CapItem.choices]
    return render(
        request,
        "care/policy.html",
        {
            "union": union,
            "current": current,
            "caps": caps,
            "form": form,
            "can_set": can_set,
            "own": own,
            "unions": list(top_unions(request.user, Perm.CARE_VIEW)[:20]),
        },
    )


# Self-service ---------------------------------------------------------------------------


def me(request: AuthedRequest) -> HttpResponse:
    """A member's own visits, subsidies and donations, on a phone."""
    member = own_member(request.user)
    records = queries.own_records(member) if member else {}
    return render(request, "care/me.html", {"member": member, **records})


@require_http_methods(["GET", "POST"])
def me_apply(request: AuthedRequest) -> HttpResponse:
    """A member applies for a subsidy for themself."""
    member = own_member(request.user)
    if member is None:
        messages.error(request, "您的账号尚未关联会员档案，请联系本工会。")
        return redirect("care:me")
    form = f.SubsidyApplyForm(posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            _apply(request, {**form.cleaned_data, "member": member})
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, "申请已提交，工会审核后会在这里显示结果。")
            return redirect("care:me")
    return render(
        request,
        "care/form.html",
        {
            "form": form,
            "title": "申请补助",
            "submit": "提交申请",
            "back": reverse("care:me"),
            "narrow": True,
        },
    )
