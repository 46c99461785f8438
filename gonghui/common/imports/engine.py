"""The import engine: read, normalise, validate every row, then write all or nothing.

The same steps for every kind of import and for the web and the CLI alike:

1. open the file safely (:mod:`.reader`), pick the sheet, find the header row (it may
   sit below a title row) and match its cells to the declared columns and aliases;
2. turn every cell into a clean value (:mod:`.normalize`), collecting cell errors;
3. let the app's spec check every row against the database and plan the writes
   (new / changed / unchanged, what changes), collecting row errors;
4. if any row has an error, stop: nothing is written, every error is reported as
   ``第12行「身份证号」：校验位错误``; otherwise, when asked to commit, write every row in
   one transaction through the app's service.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.common.errors import ServiceError
from gonghui.common.models import ImportRecord, ImportStatus
from gonghui.common.scope import Perm, can, grants

from .bulk import large_cache
from .columns import ImportSpec, header_key
from .formulas import unneutral
from .normalize import CellError, converter
from .progress import Progress
from .reader import (
    HEADER_SEARCH_ROWS,
    UNCOMPUTED_FORMULA,
    FileProblem,
    SheetData,
    open_workbook,
    too_many_rows,
)

if TYPE_CHECKING:
    from gonghui.org.models import Union, User

log = logging.getLogger(__name__)

#: Row errors kept on the record (the count is always exact).
MAX_STORED_ERRORS = 5000
#: Changed rows shown in the preview.
PREVIEW_SAMPLES = 20
#: Warnings shown in the preview (the count is always exact).
PREVIEW_WARNINGS = 200


#: The first characters of a text cell that :func:`_convert` looks at again.
_QUOTE_OR_EQUALS = frozenset("'=")


def col_letter(index: int) -> str:
    """0 → ``A``, 27 → ``AB``."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass
class RowError:
    """One problem: the spreadsheet row (1-based, as Excel numbers it), the column as
    the file names it, and what to fix. ``col`` is the 0-based sheet column, for marking."""

    row: int
    column: str
    message: str
    col: int | None = None

    def text(self) -> str:
        if self.column:
            return f"第{self.row}行「{self.column}」：{self.message}"
        return f"第{self.row}行：{self.message}"

    def as_json(self) -> list[Any]:
        return [self.row, self.column, self.message, self.col]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> RowError:
        return cls(int(data[0]), str(data[1]), str(data[2]), data[3] if len(data) > 3 else None)


@dataclass
class Row:
    """One data row: its spreadsheet row number and its clean values by column key.

    Only the columns present in the file appear in ``values``; a blank cell is ``""``
    (text) or ``None`` (dates, numbers).
    """

    number: int
    values: dict[str, Any]
    ok: bool = True


@dataclass
class Plan:
    """What an import would do. ``payload`` is the spec's own plan of the writes."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    new_samples: list[dict[str, Any]] = field(default_factory=list)
    #: Rows that pass but deserve a look before confirming (over a spending cap …).
    warnings: list[str] = field(default_factory=list)
    #: What the import creates besides its rows, one each: 捐款活动「2024年一日捐」（第一中学工会）.
    creates: list[str] = field(default_factory=list)
    #: Warnings counted but not listed (beyond what the preview shows anyway).
    unlisted_warnings: int = 0
    payload: Any = None

    def preview(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "samples": self.samples,
            "new_samples": self.new_samples,
            "warnings": self.warnings[:PREVIEW_WARNINGS],
            "warning_count": len(self.warnings) + self.unlisted_warnings,
            "creates": self.creates,
        }


@dataclass
class Context:
    """Everything a spec needs to check and write: who imports, where, from which file."""

    spec: ImportSpec
    actor: User | None
    default_union: Union | None
    file_name: str
    record: ImportRecord | None = None
    #: False for a check only: a spec need not keep what it would write, only counts
    #: and samples.
    commit: bool = True
    present: set[str] = field(default_factory=set)
    headers: dict[str, str] = field(default_factory=dict)
    columns_at: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: A row may name a drive, an activity or a club not yet in the system: the import
    #: creates it (``Plan.creates``). Off (``--no-create``): such a row is an error.
    create_missing: bool = True
    #: Text cells that start with ``=`` (see :meth:`formula_like`): the count, and the
    #: warnings of the first ones.
    formula_cells: int = 0
    formula_notes: list[str] = field(default_factory=list)

    def error(self, row: Row, key: str | None, message: str) -> None:
        """Record a problem of ``row`` in column ``key`` (``None``: the row as a whole)."""
        row.ok = False
        if key is None:
            self.errors.append(RowError(row.number, "", message))
            return
        header = self.headers.get(key) or self.spec.column(key).header
        # "身份证号校验位错误" under the header 身份证号 reads better as "校验位错误".
        plain = self.spec.column(key).header
        if message.startswith(plain) and len(message) > len(plain) + 1:
            message = message[len(plain) :]
        self.errors.append(RowError(row.number, header, message, self.columns_at.get(key)))

    def formula_like(self, row: Row, key: str, text: str) -> None:
        """Note a text cell that starts with ``=``: Excel may have run it as a formula
        somewhere on its way; it imports as text, and exports protected."""
        self.formula_cells += 1
        if len(self.formula_notes) < PREVIEW_WARNINGS:
            header = self.headers.get(key) or self.spec.column(key).header
            shown = text if len(text) <= 30 else text[:30] + "…"
            self.formula_notes.append(
                f"第{row.number}行「{header}」以「=」开头（{shown}），像是 Excel 公式："
                "将按文字原样导入（导出时会在前面加 ' 防止被当作公式执行），请确认这是本来的内容"
            )

    def can(self, perm: Perm, union: Union) -> bool:
        if self.actor is None:
            return self.default_union is None or union.path.startswith(self.default_union.path)
        if not can(self.actor, perm, union):
            return False
        return self.default_union is None or union.path.startswith(self.default_union.path)

    @property
    def record_id(self) -> int | None:
        return self.record.pk if self.record else None


@dataclass
class Layout:
    """Where the data sits in the file: the sheet, the header row, the columns found."""

    format: str
    sheet: str
    header_row: int  # 1-based
    columns: dict[str, int]  # column key → 0-based sheet column
    headers: dict[str, str]  # column key → the header as written in the file
    ignored: list[str]  # headers not recognised


@dataclass
class Result:
    """The outcome of :func:`run_import`."""

    ok: bool
    written: bool = False
    problem: str = ""
    errors: list[RowError] = field(default_factory=list)
    plan: Plan | None = None
    layout: Layout | None = None
    record: ImportRecord | None = None
    notices: list[str] = field(default_factory=list)

    def error_lines(self) -> list[str]:
        if self.problem:
            return [self.problem]
        return [e.text() for e in self.errors]


# Header -------------------------------------------------------------------------------


def _header_index(spec: ImportSpec) -> dict[str, str]:
    index: dict[str, str] = {}
    for col in spec.columns:
        for key in col.header_keys():
            index.setdefault(key, col.key)
    return index


def find_header(
    sheet: SheetData, spec: ImportSpec
) -> tuple[int, dict[str, int], dict[str, str], list[str], list[str]] | None:
    """The best header row among the first rows of ``sheet``.

    Returns ``(row_index, columns, headers, ignored, problems)`` or ``None`` when no row
    names at least two declared columns (one, for a spec with one column).
    """
    index = _header_index(spec)
    best: tuple[int, int, list[Any]] | None = None
    for r, cells in sheet.head(HEADER_SEARCH_ROWS):
        found = {
            index[k] for k in (header_key(c) for c in cells if isinstance(c, str)) if k in index
        }
        if best is None or len(found) > best[1]:
            best = (r, len(found), cells)
    need = min(2, len(spec.columns))
    if best is None or best[1] < need:
        return None
    r, _, cells = best
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    problems: list[str] = []
    previous_text = None
    for j, cell in enumerate(cells):
        text = str(cell).strip() if cell not in (None, "") else ""
        absolute = sheet.col_offset + j
        key = index.get(header_key(cell)) if text else None
        if key is None:
            if text and text != previous_text:
                ignored.append(text)
            previous_text = text or None
            continue
        if key in columns:
            if text == previous_text:
                previous_text = text  # the same header merged over two cells
                continue
            problems.append(
                f"「{spec.column(key).header}」列出现了两次（第 {col_letter(columns[key])} 列"
                f"和第 {col_letter(absolute)} 列），请删去多余的一列。"
            )
            continue
        columns[key] = absolute
        headers[key] = text
        previous_text = text
    return r, columns, headers, ignored, problems


# Reading ------------------------------------------------------------------------------


class RowStream:
    """The data rows of a sheet, converted as they are read, for a spec that checks in
    batches (``ImportSpec.streams``): a row is built when the spec asks for it and freed
    once the spec drops it, so a large file is never held as rows all at once.

    ``len()`` is the sheet's height below the header (an upper bound, for progress);
    ``count`` is the number of data rows handed out so far. Iterate once.
    """

    def __init__(self, source: Iterator[Row], total: int, max_rows: int) -> None:
        self._source = source
        self.total = total
        self.max_rows = max_rows
        self.count = 0

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[Row]:
        for row in self._source:
            self.count += 1
            if self.count > self.max_rows:
                raise too_many_rows(self.max_rows)
            yield row


def read_rows(
    spec: ImportSpec,
    path: Path,
    ctx: Context,
    progress: Progress,
) -> tuple[list[Row], Layout]:
    """Open the file, find the header, convert every cell. Raises :class:`FileProblem`."""
    from django.conf import settings

    stream, layout = stream_rows(spec, path, ctx, progress)
    rows = list(stream)
    if len(rows) > settings.GONGHUI_IMPORT_MAX_ROWS:
        raise too_many_rows(settings.GONGHUI_IMPORT_MAX_ROWS)
    if not rows:
        raise FileProblem(f"工作表「{layout.sheet}」只有表头，没有数据行。")
    return rows, layout


def stream_rows(
    spec: ImportSpec,
    path: Path,
    ctx: Context,
    progress: Progress,
) -> tuple[RowStream, Layout]:
    """Open the file and find the header; the rows are converted as they are iterated.
    Raises :class:`FileProblem`."""
    from django.conf import settings

    book = open_workbook(path, file_name=ctx.file_name, sheet_hints=spec.sheet_hints)
    found = None
    sheet: SheetData | None = None
    looked: list[str] = []
    any_content = False
    for name, load in book.sheets:
        candidate = load()
        looked.append(name)
        if candidate.height:
            any_content = True
        found = find_header(candidate, spec)
        if found:
            sheet = candidate
            break
    if not any_content:
        raise FileProblem(
            "表格是空的：" + "、".join(f"「{n}」" for n in looked) + " 中没有任何内容。"
        )
    if found is None or sheet is None:
        examples = "、".join(f"「{c.header}」" for c in spec.columns[:4])
        raise FileProblem(
            f"没有找到表头：在工作表 {'、'.join(f'「{n}」' for n in looked)} 的前 "
            f"{HEADER_SEARCH_ROWS} 行中没有一行列名像 {examples}……请对照导入模板检查表头。"
        )
    header_index, columns, headers, ignored, problems = found
    if problems:
        raise FileProblem(" ".join(problems))
    union_col = spec.union_column
    missing = [
        c
        for c in spec.columns
        if c.required and c.key not in columns and not (c.key == union_col and ctx.default_union)
    ]
    if union_col and union_col not in columns and ctx.default_union is None:
        col = spec.column(union_col)
        raise FileProblem(
            f"表格中没有「{col.header}」列：请补上这一列，或在导入时指定默认的工会"
            "（网页上选择「导入到」，命令行用 --union）。"
        )
    if missing:
        names = "、".join(f"「{c.header}」" for c in missing)
        raise FileProblem(f"缺少必填的列：{names}。请对照导入模板补上。")
    ctx.present = set(columns)
    ctx.headers = headers
    ctx.columns_at = columns
    layout = Layout(
        format=book.format,
        sheet=sheet.name,
        header_row=header_index + 1,
        columns=columns,
        headers=headers,
        ignored=ignored,
    )
    total = max(sheet.height - header_index - 1, 0)
    source = _convert(spec, sheet, header_index, columns, ctx, progress)
    return RowStream(source, total, settings.GONGHUI_IMPORT_MAX_ROWS), layout


def _convert(
    spec: ImportSpec,
    sheet: SheetData,
    header_index: int,
    columns: dict[str, int],
    ctx: Context,
    progress: Progress,
) -> Iterator[Row]:
    plan: list[tuple[str, int, Any, bool]] = []
    for key, absolute in columns.items():
        col = spec.column(key)
        required = col.required and not (key == spec.union_column and ctx.default_union)
        plan.append((key, absolute - sheet.col_offset, converter(col), required))
    total = max(sheet.height - header_index - 1, 0)
    index_set = [j for _, j, _, _ in plan]
    width_needed = max(index_set) + 1 if index_set else 0
    uncomputed = sheet.uncomputed
    col_offset = sheet.col_offset
    done = 0
    for r, cells in sheet.rows():
        if r <= header_index:
            continue
        done += 1
        if done % 2000 == 0:
            progress.update("read", done, total)
        if len(cells) < width_needed:
            cells = list(cells) + [""] * (width_needed - len(cells))
        # Formulas saved without their result read as empty cells: an error, not a blank.
        formulas = uncomputed.get(r) if uncomputed else None
        if formulas is not None and not any(j + col_offset in formulas for j in index_set):
            formulas = None
        # A row with nothing in any known column is a spacer, not data.
        if formulas is None and all(cells[j] in ("", None) for j in index_set):
            continue
        row = Row(number=r + 1, values={})
        values = row.values
        for key, j, convert, required in plan:
            if formulas is not None and j + col_offset in formulas:
                ctx.error(row, key, UNCOMPUTED_FORMULA)
                values[key] = None
                continue
            raw = cells[j]
            if type(raw) is str and raw[:1] in _QUOTE_OR_EQUALS:
                raw = unneutral(raw)  # as an export protected it
                if raw[:1] == "=":
                    ctx.formula_like(row, key, raw)
            try:
                value = convert(raw)
            except CellError as exc:
                ctx.error(row, key, str(exc))
                values[key] = None
                continue
            if required and (value is None or value == ""):
                ctx.error(row, key, "必填，不能为空")
            values[key] = value
        yield row
    progress.update("read", total, total)


# Running ------------------------------------------------------------------------------


def check_permission(spec: ImportSpec, actor: User | None, default_union: Union | None) -> None:
    if actor is None:
        return
    if default_union is not None:
        if not can(actor, spec.perm, default_union):
            raise FileProblem(f"您没有向「{default_union.name}」导入{spec.label}的权限。")
    elif not grants(actor).any(spec.perm):
        raise FileProblem(f"您没有导入{spec.label}的权限。")


def run_import(
    *,
    spec: ImportSpec,
    path: Path,
    file_name: str,
    actor: User | None,
    default_union: Union | None = None,
    commit: bool,
    progress: Progress | None = None,
    record: ImportRecord | None = None,
    create_missing: bool = True,
) -> Result:
    """Check ``path`` and, when ``commit`` and every row is valid, write it all.

    Never raises for a bad file or bad rows: the :class:`Result` says what was wrong.
    ``record`` (if given) is updated with the outcome; the write and the record's
    ``done`` status are committed together.
    """
    with gc_paused():
        return _run_import(
            spec=spec,
            path=path,
            file_name=file_name,
            actor=actor,
            default_union=default_union,
            commit=commit,
            progress=progress or Progress(),
            record=record,
            create_missing=create_missing,
        )


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off while an import runs (back on when the last one ends).

    An import builds a few hundred thousand objects that all stay alive until it ends
    (rows, members to write); the collector, triggered by every few hundred new objects,
    walks them again and again for nothing: a sixth of a 100,000-row import's time.
    Reference counting still frees everything that is not in a cycle.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def _run_import(
    *,
    spec: ImportSpec,
    path: Path,
    file_name: str,
    actor: User | None,
    default_union: Union | None,
    commit: bool,
    progress: Progress,
    record: ImportRecord | None,
    create_missing: bool = True,
) -> Result:
    ctx = Context(
        spec=spec,
        actor=actor,
        default_union=default_union,
        file_name=file_name,
        record=record,
        create_missing=create_missing,
        commit=commit,
    )
    try:
        check_permission(spec, actor, default_union)
        if spec.streams:
            # Reading and checking go row by row together: one progress, the check's.
            stream, layout = stream_rows(spec, path, ctx, _Renamed(progress, "check"))
            plan = spec.check_stream(stream, ctx, progress)
            progress.update("check", stream.count, stream.count)
            if not stream.count:
                raise FileProblem(f"工作表「{layout.sheet}」只有表头，没有数据行。")
            del stream
        else:
            rows, layout = read_rows(spec, path, ctx, progress)
            plan = spec.check(rows, ctx, progress)
            # The plan holds what is to be written; the rows' own values can go (a
            # 100,000 row import should not keep both in memory while it writes).
            rows.clear()
    except FileProblem as exc:
        result = Result(ok=False, problem=exc.message)
        _finish(record, result, ImportStatus.INVALID)
        return result
    if ctx.formula_notes:
        plan.warnings[:0] = ctx.formula_notes
        plan.unlisted_warnings += ctx.formula_cells - len(ctx.formula_notes)
    result = Result(ok=not ctx.errors, errors=ctx.errors, plan=plan, layout=layout)
    if layout.ignored:
        result.notices.append(
            "以下列不在模板中，已忽略：" + "、".join(f"「{h}」" for h in layout.ignored[:20])
        )
    if ctx.errors:
        result.errors.sort(key=lambda e: (e.row, e.col if e.col is not None else -1))
        _finish(record, result, ImportStatus.INVALID)
        return result
    if not commit:
        _finish(record, result, ImportStatus.READY)
        return result
    try:
        with large_cache(), transaction.atomic():
            spec.write(plan, ctx, progress)
            result.written = True
            _finish(record, result, ImportStatus.DONE)
    except (ServiceError, PermissionDenied, IntegrityError) as exc:
        # A rule or a constraint refused a row at write time (someone changed the data
        # since the check): the transaction is rolled back, nothing was written.
        result.ok = False
        result.written = False
        reason = "；".join(exc.messages) if isinstance(exc, ServiceError) else str(exc)
        result.problem = (
            f"写入时被拒绝，未写入任何数据（数据可能刚被他人修改，请重新导入）：{reason}"
        )
        _finish(record, result, ImportStatus.FAILED)
    finally:
        progress.finish()
    return result


class _Renamed(Progress):
    """Passes the updates on under one phase, but the last: the end of the reading is
    not yet the end of the check, which reports its own end."""

    def __init__(self, inner: Progress, phase: str) -> None:
        self.inner = inner
        self.phase = phase

    def update(self, phase: str, done: int, total: int) -> None:
        if done < total:
            self.inner.update(self.phase, done, total)


def _finish(record: ImportRecord | None, result: Result, status: str) -> None:
    if record is None:
        return
    record.status = status
    record.message = result.problem or "\n".join(result.notices)
    record.error_count = 1 if result.problem else len(result.errors)
    record.errors = [e.as_json() for e in result.errors[:MAX_STORED_ERRORS]]
    if result.plan is not None:
        plan = result.plan
        record.total_rows = plan.total
        record.created_count = plan.created
        record.updated_count = plan.updated
        record.unchanged_count = plan.unchanged
        record.preview = plan.preview()
        if result.layout is not None:
            layout = result.layout
            record.preview["sheet"] = layout.sheet
            record.preview["header_row"] = layout.header_row
            record.preview["format"] = layout.format
            record.preview["first_col"] = min(layout.columns.values(), default=0)
    if status in (ImportStatus.INVALID, ImportStatus.DONE, ImportStatus.FAILED):
        record.finished_at = timezone.now()
    record.save()
