"""Import and export pages: upload → check (background) → preview → confirm → write
(background) → done; or the errors, with the user's file marked for download."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from gonghui.common import queries
from gonghui.common.models import ImportRecord, ImportStatus
from gonghui.common.scope import grants
from gonghui.common.web import AuthedRequest, out_of_scope_message, paginate, render_page

from . import jobs
from .columns import ImportSpec, get_spec, kinds
from .engine import RowError
from .forms import UploadForm
from .progress import read_progress
from .xlsx import XLSX_TYPE, template

#: Row errors listed on the page; the marked file and the record hold them all.
ERRORS_SHOWN = 500


def _spec(kind: str) -> ImportSpec:
    try:
        return get_spec(kind)
    except LookupError:
        raise Http404("没有这种导入。") from None


def _can_import(request: AuthedRequest) -> list[ImportSpec]:
    g = grants(request.user)
    return [spec for spec in kinds() if g.any(spec.perm)]


def _records(request: AuthedRequest) -> QuerySet[ImportRecord]:
    return queries.import_records(request.user)


def _download(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _client_ip(request: AuthedRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def record_list(request: AuthedRequest) -> HttpResponse:
    if not queries.may_import(request.user):
        raise PermissionDenied("您没有导入的权限。")
    specs = _can_import(request)
    # ?failed=1: the imports that wrote nothing lately and were not done again (待办).
    failed = bool(request.GET.get("failed"))
    records = queries.failed_imports(request.user) if failed else _records(request)
    page = paginate(request, records, 30)
    labels = {spec.kind: spec.label for spec in kinds()}
    return render(
        request,
        "imports/list.html",
        {
            "page": page,
            "specs": specs,
            "labels": labels,
            "failed": failed,
            "failed_days": queries.FAILED_DAYS,
        },
    )


@require_http_methods(["GET", "POST"])
def upload(request: AuthedRequest, kind: str) -> HttpResponse:
    spec = _spec(kind)
    if not grants(request.user).any(spec.perm):
        raise PermissionDenied(f"您没有导入{spec.label}的权限。")
    form = UploadForm(request.POST or None, request.FILES or None, viewer=request.user, spec=spec)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        path = jobs.store_upload(upload_file)
        record = jobs.new_record(
            spec=spec,
            actor=request.user,
            union=form.cleaned_data["union"],
            file_name=upload_file.name or path.name,
            file_size=upload_file.size or 0,
            stored_file=str(path),
        )
        jobs.start_job(record, commit=False, ip=_client_ip(request))
        return redirect("imports:detail", pk=record.pk)
    recent = _records(request).filter(kind=spec.kind)[:5]
    return render(request, "imports/upload.html", {"form": form, "spec": spec, "recent": recent})


def template_download(request: AuthedRequest, kind: str) -> HttpResponse:
    spec = _spec(kind)
    if not grants(request.user).any(spec.perm):
        raise PermissionDenied(f"您没有导入{spec.label}的权限。")
    from gonghui.common.scope import top_unions

    top = top_unions(request.user, spec.perm).order_by("depth", "path").first()
    data = template(spec, example_union=top.name if top else "")
    return _download(data, f"{spec.label}导入模板.xlsx")


def _context(request: AuthedRequest, record: ImportRecord) -> dict[str, Any]:
    errors = [RowError.from_json(e) for e in record.errors[:ERRORS_SHOWN]]
    return {
        "record": record,
        "spec": get_spec(record.kind),
        "errors": errors,
        "more_errors": max(record.error_count - len(errors), 0),
        "progress": read_progress(record.pk) if not record.is_finished else None,
        "busy": record.status in (ImportStatus.QUEUED, *jobs.ACTIVE),
        "queue_position": (
            jobs.queue_position(record) if record.status == ImportStatus.QUEUED else 0
        ),
        "is_owner": record.actor_id == request.user.pk,
        "can_mark": bool(record.errors) and bool(record.stored_file),
        "notices": [n for n in record.message.splitlines() if n] if not record.error_count else [],
    }


def record_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    record = _record_or_404(request, pk)
    return render(request, "imports/detail.html", _context(request, record))


def record_status(request: AuthedRequest, pk: int) -> HttpResponse:
    """The polled fragment: progress while busy, the outcome once finished."""
    record = _record_or_404(request, pk)
    if record.status == ImportStatus.QUEUED:
        # A slot may have been freed by a process that is gone: look again.
        jobs.recover_orphans()
        if jobs.start_queued():
            record.refresh_from_db()
    return render_page(
        request,
        "imports/detail.html",
        _context(request, record),
        "imports/partials/status.html",
    )


def _record_or_404(request: AuthedRequest, pk: int) -> ImportRecord:
    record = _records(request).filter(pk=pk).first()
    if record is None:
        raise Http404("没有找到该导入记录，或您无权查看。")
    return record


@require_POST
def record_confirm(request: AuthedRequest, pk: int) -> HttpResponse:
    """Write a checked import: only its uploader, only once."""
    record = _record_or_404(request, pk)
    if record.actor_id != request.user.pk:
        raise PermissionDenied("只有上传该文件的人可以确认导入。")
    # Claim the record atomically, so a double click cannot start two writes.
    claimed = ImportRecord.objects.filter(pk=record.pk, status=ImportStatus.READY).update(
        status=ImportStatus.QUEUED,
        queued_commit=True,
        client_ip=_client_ip(request),
        progress_total=F("total_rows"),
    )
    if not claimed:
        messages.warning(request, "该导入已经确认过或已失效。")
        return redirect("imports:detail", pk=record.pk)
    jobs.start_queued()
    return redirect("imports:detail", pk=record.pk)


@require_POST
def record_cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    record = _record_or_404(request, pk)
    if record.actor_id != request.user.pk:
        raise PermissionDenied("只有上传该文件的人可以放弃导入。")
    # One left busy by a crashed process is failed first, and so may be cancelled.
    jobs.recover_orphans()
    updated = ImportRecord.objects.filter(
        pk=record.pk,
        status__in=[ImportStatus.READY, ImportStatus.INVALID, ImportStatus.QUEUED],
    ).update(
        status=ImportStatus.FAILED, message="已放弃，未写入任何数据。", finished_at=timezone.now()
    )
    record.refresh_from_db()
    if updated or (record.status == ImportStatus.FAILED and record.message == jobs.ORPHANED):
        jobs.discard_file(record)
        messages.success(request, "已放弃这次导入，上传的文件已删除。")
    elif record.status in jobs.ACTIVE:
        messages.warning(request, "这次导入正在进行，不能放弃；请等它结束。")
    return redirect("imports:upload", kind=record.kind)


def record_marked(request: AuthedRequest, pk: int) -> HttpResponse:
    """The uploader's own file with the bad cells marked (it holds their full data, so
    only they may download it)."""
    record = _record_or_404(request, pk)
    if record.actor_id != request.user.pk and not grants(request.user).superuser:
        raise PermissionDenied("只有上传该文件的人可以下载标注后的文件。")
    if not record.errors:
        raise Http404("这次导入没有需要标注的单元格。")
    try:
        data, name = jobs.marked_file_for(record)
    except FileNotFoundError:
        raise Http404("上传的文件已不再保存。") from None
    return _download(data, name)


def export(request: AuthedRequest, kind: str) -> HttpResponse:
    """The filtered list as an .xlsx with the import template's columns; audited."""
    spec = _spec(kind)
    if not grants(request.user).any(spec.view_perm):
        raise PermissionDenied(f"您没有查看{spec.label}的权限。")
    want_full = request.GET.get("full") == "1"
    query = request.GET.copy()
    query.pop("full", None)
    query.pop("page", None)
    qs, root = spec.export_filtered(request.user, query)
    description = f"（筛选条件：{query.urlencode()[:200]}）" if query else ""
    asked = query.get("union") or ""
    if asked and (root is None or str(root.pk) != asked):
        # The file holds the viewer's own scope instead: say so, on the next page and
        # in the audit row (which names the union the file covers).
        messages.warning(request, out_of_scope_message(asked[:20]))
        description += "（所选组织不在导出人的查看范围内，已按其有权查看的范围导出）"
    full = want_full and jobs.pii_covers(request.user, root, spec.view_perm)
    if want_full and not full:
        raise PermissionDenied("您无权导出完整的身份证号和手机号。")
    data, _ = jobs.export_records(
        spec=spec,
        actor=request.user,
        qs=qs,
        root=root,
        full_pii=full,
        description=description,
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    return _download(data, f"{spec.label}{stamp}.xlsx")
