"""The user's own .xlsx with the bad cells marked, at any size.

openpyxl would load every cell of the workbook as an object (a 100,000-row roster needs
gigabytes) and drops what it does not understand (pictures, charts, some formats). This
module copies the file part by part instead and touches only what marking needs:

- the marked sheet's cells are left as they are; one conditional format (Excel's "light
  red fill, dark red text") covers the bad cells, so the user's own cell formats are
  kept, and a re-marked file replaces the earlier marks instead of piling up;
- a comment on each bad cell says what to fix (a comments part and the VML drawing
  that Excel shows comments with, as openpyxl writes them);
- a sheet 「错误说明」 lists every error (replaced when the file already has one).

The sheet's rows stream through untouched (only the few elements after ``sheetData``
change), so memory stays small whatever the file's size. A file this cannot handle
(its sheet has form controls, threaded comments…) raises :class:`CannotMark`; the caller
then falls back to openpyxl for a small file or to a rebuilt one.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from collections.abc import Iterator, Sequence
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from .engine import RowError, col_letter
from .formulas import neutral

AUTHOR = "工会工作台"
ERROR_SHEET = "错误说明"
#: The conditional format's formula: always true, and it tells our marks from the user's
#: own conditional formats when a marked file is marked again (ASCII: programs that
#: save the file again may escape other characters).
MARK_FORMULA = 'ISTEXT("gonghui:error-marks")'
#: Cell references per ``conditionalFormatting`` element (keeps each ``sqref`` short).
REFS_PER_FORMAT = 500

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_COMMENTS_TYPE = _REL_NS + "/comments"
_VML_TYPE = _REL_NS + "/vmlDrawing"
_SHEET_TYPE = _REL_NS + "/worksheet"
_CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
_DXF = (
    '<dxf><font><color rgb="FF9C0006"/></font>'
    '<fill><patternFill><bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf>'
)
#: Elements that follow ``conditionalFormatting`` / ``legacyDrawing`` in a worksheet
#: (ECMA-376 CT_Worksheet order): ours go before the first of them that is present.
_AFTER_FORMATS = (
    "dataValidations", "hyperlinks", "printOptions", "pageMargins", "pageSetup",
    "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches",
    "ignoredErrors", "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF",
    "drawingHF", "picture", "oleObjects", "controls", "webPublishItems", "tableParts",
    "extLst",
)  # fmt: skip
_AFTER_LEGACY = (
    "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst",
)  # fmt: skip
_SHEETDATA_END = re.compile(rb"</(?:\w+:)?sheetData>")
_CHUNK = 1 << 20


class CannotMark(Exception):
    """This file's structure is beyond what the streaming marker rewrites."""


Marks = dict[tuple[int, int], list[str]]
#: A part of the package to write: whole, or as an iterator of text pieces.
Part = str | bytes | Iterator[str]


def mark_xlsx(path: Path, sheet_name: str, marks: Marks, errors: Sequence[RowError]) -> bytes:
    """``path`` with ``marks`` (``(row 1-based, col 0-based) → messages``) on sheet
    ``sheet_name``, and the sheet 「错误说明」 listing ``errors``."""
    out = BytesIO()
    with zipfile.ZipFile(path) as src:
        book = _Book(src)
        sheet_part = book.part_of(sheet_name)
        if sheet_part is None:
            raise CannotMark(f"no sheet {sheet_name!r}")
        changed = _Changes(book)
        _plan_sheet(book, sheet_part, marks, changed)
        _plan_error_sheet(book, errors, changed)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as dst:
            for info in src.infolist():
                name = info.filename
                if name in changed.removed:
                    continue
                if name == sheet_part:
                    _copy_sheet(src, info, dst, changed)
                elif name in changed.parts:
                    _write(dst, _info_like(info), changed.parts.pop(name))
                else:
                    with src.open(info) as fin, dst.open(_info_like(info), "w") as fout:
                        while chunk := fin.read(_CHUNK):
                            fout.write(chunk)
            for name, data in changed.parts.items():  # new parts
                _write(dst, zipfile.ZipInfo(name, date_time=_NOW), data)
    return out.getvalue()


_NOW = (2024, 1, 1, 0, 0, 0)


def _write(dst: zipfile.ZipFile, info: zipfile.ZipInfo, data: Part) -> None:
    """A part given whole, or as text chunks (the comments and the drawing of a file
    with many errors are tens of megabytes: written as they are made)."""
    info.compress_type = zipfile.ZIP_DEFLATED
    if isinstance(data, str | bytes):
        dst.writestr(info, data)
        return
    with dst.open(info, "w") as out:
        buffer: list[str] = []
        size = 0
        for piece in data:
            buffer.append(piece)
            size += len(piece)
            if size > _CHUNK:
                out.write("".join(buffer).encode("utf-8"))
                buffer, size = [], 0
        out.write("".join(buffer).encode("utf-8"))


def _info_like(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = zipfile.ZIP_DEFLATED
    copy.external_attr = info.external_attr
    return copy


# The package -------------------------------------------------------------------------


def _read(src: zipfile.ZipFile, name: str) -> str | None:
    try:
        return src.read(name).decode("utf-8")
    except KeyError:
        return None


def _rels_path(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def _resolve(part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def _relative(part: str, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(part))


_REL = re.compile(r"<(?:\w+:)?Relationship\b([^>]*?)/?>")
_ATTR = re.compile(r'([\w:]+)\s*=\s*("[^"]*"|\'[^\']*\')')


def _attrs(text: str) -> dict[str, str]:
    return {k: _unescape(v[1:-1]) for k, v in _ATTR.findall(text)}


def _unescape(value: str) -> str:
    return html.unescape(value)


class _Rels:
    """One relationships part, as (id, type, target) triples plus its raw text."""

    def __init__(self, path: str, text: str | None) -> None:
        self.path = path
        self.text = text or (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PKG_REL_NS}"></Relationships>'
        )
        self.items = [_attrs(m.group(1)) for m in _REL.finditer(self.text)]

    def by_type(self, rel_type: str) -> list[dict[str, str]]:
        return [r for r in self.items if r.get("Type") == rel_type]

    def new_id(self, stem: str) -> str:
        ids = {r.get("Id") for r in self.items}
        n = 1
        while f"{stem}{n}" in ids:
            n += 1
        return f"{stem}{n}"

    def add(self, rel_id: str, rel_type: str, target: str) -> None:
        element = f'<Relationship Id="{rel_id}" Type="{rel_type}" Target="{target}"/>'
        end = re.search(r"</(?:\w+:)?Relationships>", self.text)
        if end is None:
            raise CannotMark("bad relationships part")
        self.text = self.text[: end.start()] + element + self.text[end.start() :]
        self.items.append({"Id": rel_id, "Type": rel_type, "Target": target})


class _Book:
    def __init__(self, src: zipfile.ZipFile) -> None:
        self.src = src
        self.names = set(src.namelist())
        workbook = _read(src, "xl/workbook.xml")
        if workbook is None:
            raise CannotMark("no xl/workbook.xml")
        self.workbook = workbook
        self.rels = _Rels("xl/_rels/workbook.xml.rels", _read(src, "xl/_rels/workbook.xml.rels"))
        self.sheets: list[tuple[str, str, str]] = []  # (name, rel id, part)
        for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*?)/?>", workbook):
            attrs = _attrs(m.group(1))
            rel_id = next((v for k, v in attrs.items() if k.endswith(":id")), "")
            target = next((r["Target"] for r in self.rels.items if r.get("Id") == rel_id), "")
            if target:
                self.sheets.append(
                    (attrs.get("name", ""), rel_id, _resolve("xl/workbook.xml", target))
                )
        types = _read(src, "[Content_Types].xml")
        if types is None:
            raise CannotMark("no [Content_Types].xml")
        self.content_types = types

    def part_of(self, sheet_name: str) -> str | None:
        return next((part for name, _, part in self.sheets if name == sheet_name), None)

    def free_name(self, pattern: str, taken: set[str]) -> str:
        n = 1
        while pattern.format(n) in self.names or pattern.format(n) in taken:
            n += 1
        return pattern.format(n)


class _Changes:
    """What the copy writes differently: whole parts, and the marked sheet's tail."""

    def __init__(self, book: _Book) -> None:
        self.book = book
        self.parts: dict[str, Part] = {}
        self.removed: set[str] = set()
        self.formats = ""  # conditionalFormatting elements for the sheet
        self.legacy_id = ""  # r:id of the sheet's comment drawing, when added
        self.drop_old_formats = True

    def add_content_type(self, element: str, needle: str) -> None:
        types = self.parts.get("[Content_Types].xml", self.book.content_types)
        assert isinstance(types, str)
        if needle in types:
            return
        end = types.rfind("</")
        self.parts["[Content_Types].xml"] = types[:end] + element + types[end:]


# The marked sheet ----------------------------------------------------------------------


def _plan_sheet(book: _Book, sheet_part: str, marks: Marks, changed: _Changes) -> None:
    rels = _Rels(_rels_path(sheet_part), _read(book.src, _rels_path(sheet_part)))
    if any(r.get("Type", "").endswith("/threadedComment") for r in rels.items):
        raise CannotMark("threaded comments")
    by_cell: dict[str, list[str]] = {}
    for (row, col), messages in sorted(marks.items()):
        by_cell[f"{col_letter(col)}{row}"] = messages
    # Comments: the user's own ones are kept; ours from an earlier round are replaced.
    kept: list[tuple[str, str, str]] = []  # (ref, author, inner XML of <text>)
    comment_rel = rels.by_type(_COMMENTS_TYPE)
    vml_rel = rels.by_type(_VML_TYPE)
    if comment_rel:
        comments_part = _resolve(sheet_part, comment_rel[0]["Target"])
        kept = [c for c in _read_comments(book.src, comments_part) if c[1] != AUTHOR]
    else:
        comments_part = book.free_name("xl/comments{}.xml", set(changed.parts))
        rels.add(rels.new_id("rIdGhComments"), _COMMENTS_TYPE, _relative(sheet_part, comments_part))
        changed.add_content_type(
            f'<Override PartName="/{comments_part}" ContentType="{_CT_COMMENTS}"/>',
            f'PartName="/{comments_part}"',
        )
    if vml_rel:
        vml_part = _resolve(sheet_part, vml_rel[0]["Target"])
        vml = _read(book.src, vml_part) or ""
        kinds = set(re.findall(r'ObjectType\s*=\s*"(\w+)"', vml))
        if kinds - {"Note"}:
            raise CannotMark("the sheet's drawing has form controls")
        if not comment_rel:
            raise CannotMark("a drawing without comments")
    else:
        vml_part = book.free_name("xl/drawings/vmlDrawing{}.vml", set(changed.parts))
        changed.legacy_id = rels.new_id("rIdGhDrawing")
        rels.add(changed.legacy_id, _VML_TYPE, _relative(sheet_part, vml_part))
    changed.add_content_type(
        f'<Default Extension="vml" ContentType="{_CT_VML}"/>', 'Extension="vml"'
    )
    ours = [(ref, AUTHOR, _comment_text(messages)) for ref, messages in by_cell.items()]
    taken = {ref for ref, _, _ in kept}
    comments = kept + [c for c in ours if c[0] not in taken]
    comments.sort(key=lambda c: _ref_key(c[0]))
    changed.parts[comments_part] = _comments_xml(comments)
    changed.parts[vml_part] = _vml_xml([ref for ref, _, _ in comments])
    changed.parts[rels.path] = rels.text
    # The red fill: one conditional format over the bad cells, in the styles' dxfs.
    dxf_id = _add_dxf(book, changed)
    refs = list(by_cell)
    changed.formats = "".join(
        f'<conditionalFormatting sqref="{" ".join(refs[i : i + REFS_PER_FORMAT])}">'
        f'<cfRule type="expression" dxfId="{dxf_id}" priority="{{priority}}">'
        f"<formula>{escape(MARK_FORMULA)}</formula></cfRule></conditionalFormatting>"
        for i in range(0, len(refs), REFS_PER_FORMAT)
    )


def _ref_key(ref: str) -> tuple[int, int]:
    m = re.match(r"([A-Z]+)(\d+)", ref)
    if not m:
        return (0, 0)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _comment_text(messages: list[str]) -> str:
    text = escape("\n".join(messages))
    return f'<r><t xml:space="preserve">{text}</t></r>'


def _read_comments(src: zipfile.ZipFile, part: str) -> list[tuple[str, str, str]]:
    xml = _read(src, part) or ""
    authors = [
        _unescape(a) for a in re.findall(r"<(?:\w+:)?author>(.*?)</(?:\w+:)?author>", xml, re.S)
    ]
    found = []
    pattern = r"<(?:\w+:)?comment\b([^>]*)>(.*?)</(?:\w+:)?comment>"
    for attrs_text, body in re.findall(pattern, xml, re.S):
        attrs = _attrs(attrs_text)
        author_id = int(attrs.get("authorId", "0") or 0)
        author = authors[author_id] if author_id < len(authors) else ""
        text = re.search(r"<(?:\w+:)?text>(.*)</(?:\w+:)?text>", body, re.S)
        found.append((attrs.get("ref", ""), author, text.group(1) if text else ""))
    return found


def _comments_xml(comments: list[tuple[str, str, str]]) -> Iterator[str]:
    authors: dict[str, int] = {}
    for _, author, _ in comments:
        authors.setdefault(author, len(authors))
    names = "".join(f"<author>{escape(a)}</author>" for a in authors)
    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<comments xmlns="{_MAIN_NS}"><authors>{names}</authors><commentList>'
    )
    for ref, author, text in comments:
        yield f'<comment ref="{ref}" authorId="{authors[author]}"><text>{text}</text></comment>'
    yield "</commentList></comments>"


def _vml_xml(refs: list[str]) -> Iterator[str]:
    """The legacy drawing Excel shows comments with: one hidden note shape per comment
    (the same markup openpyxl writes)."""
    yield (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
    )
    for i, ref in enumerate(refs):
        row, col = _ref_key(ref)
        yield (
            f'<v:shape id="_x0000_s{1026 + i:04d}" type="#_x0000_t202" '
            'style="position:absolute; margin-left:59.25pt;margin-top:1.5pt;width:195px;'
            'height:75px;z-index:1;visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
            '<v:fill color2="#ffffe1"/><v:shadow color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"/></v:textbox><x:ClientData ObjectType="Note">'
            "<x:MoveWithCells/><x:SizeWithCells/><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{row - 1}</x:Row><x:Column>{col - 1}</x:Column></x:ClientData></v:shape>"
        )
    yield "</xml>"


def _add_dxf(book: _Book, changed: _Changes) -> int:
    """The index of our red style among the styles' ``dxfs`` (added once per file)."""
    styles = _read(book.src, "xl/styles.xml")
    if styles is None:
        raise CannotMark("no styles part")
    dxfs = re.search(r"<((?:\w+:)?)dxfs\b[^>]*?(/?)>", styles)
    if dxfs is None:
        end = re.search(r"<(?:\w+:)?(?:tableStyles|colors|extLst)\b|</(?:\w+:)?styleSheet>", styles)
        if end is None:
            raise CannotMark("bad styles part")
        changed.parts["xl/styles.xml"] = (
            styles[: end.start()] + f'<dxfs count="1">{_DXF}</dxfs>' + styles[end.start() :]
        )
        return 0
    prefix = dxfs.group(1)
    if dxfs.group(2):  # <dxfs/>: empty
        changed.parts["xl/styles.xml"] = (
            styles[: dxfs.start()] + f'<dxfs count="1">{_DXF}</dxfs>' + styles[dxfs.end() :]
        )
        return 0
    close = styles.find(f"</{prefix}dxfs>", dxfs.end())
    if close < 0:
        raise CannotMark("bad dxfs")
    existing = re.findall(
        rf"<{prefix}dxf\b.*?</{prefix}dxf>|<{prefix}dxf\s*/>", styles[dxfs.end() : close], re.S
    )
    mine = _DXF if not prefix else re.sub(r"<(/?)(\w)", rf"<\1{prefix}\2", _DXF)
    if mine in existing:  # marked before
        return existing.index(mine)
    head = re.sub(r'count="\d+"', f'count="{len(existing) + 1}"', styles[dxfs.start() : dxfs.end()])
    if "count=" not in head:
        head = head[:-1] + f' count="{len(existing) + 1}">'
    changed.parts["xl/styles.xml"] = (
        styles[: dxfs.start()] + head + styles[dxfs.end() : close] + mine + styles[close:]
    )
    return len(existing)


def _copy_sheet(
    src: zipfile.ZipFile, info: zipfile.ZipInfo, dst: zipfile.ZipFile, changed: _Changes
) -> None:
    """Stream the sheet through, its rows untouched; rewrite what follows ``sheetData``."""
    with src.open(info) as fin, dst.open(_info_like(info), "w") as fout:
        head = b""
        pending = b""
        first = True
        while True:
            chunk = fin.read(_CHUNK)
            if first:
                head = chunk[:8192]
                first = False
            if not chunk:
                raise CannotMark("no end of sheetData")
            pending += chunk
            found = _SHEETDATA_END.search(pending)
            if found:
                fout.write(pending[: found.end()])
                tail = pending[found.end() :] + fin.read()
                break
            # Keep a little back: the closing tag may straddle two chunks.
            fout.write(pending[:-32])
            pending = pending[-32:]
        new_tail = _new_tail(tail.decode("utf-8"), head.decode("utf-8", "replace"), changed)
        fout.write(new_tail.encode("utf-8"))


def _new_tail(tail: str, head: str, changed: _Changes) -> str:
    root = re.search(r"<(\w+:)?worksheet\b", head)
    prefix = (root.group(1) or "") if root else ""
    # Earlier marks of ours go; the user's own conditional formats stay.
    tail = re.sub(
        r"<(?:\w+:)?conditionalFormatting\b[^>]*>.*?</(?:\w+:)?conditionalFormatting>",
        lambda m: "" if MARK_FORMULA in _unescape(m.group(0)) else m.group(0),
        tail,
        flags=re.S,
    )
    priorities = [int(p) for p in re.findall(r'priority="(\d+)"', tail)]
    formats = changed.formats.replace("{priority}", str(max(priorities, default=0) + 1))
    if prefix:
        formats = re.sub(
            r"<(/?)(conditionalFormatting|cfRule|formula)\b", rf"<\1{prefix}\2", formats
        )
    tail = _insert_before(tail, _AFTER_FORMATS, formats)
    if changed.legacy_id:
        r_prefix = "r:"
        legacy = f'<{prefix}legacyDrawing {r_prefix}id="{changed.legacy_id}"/>'
        if not _root_declares_r(head, "worksheet"):
            legacy = f'<{prefix}legacyDrawing xmlns:r="{_REL_NS}" r:id="{changed.legacy_id}"/>'
        tail = _insert_before(tail, _AFTER_LEGACY, legacy)
    return tail


def _root_declares_r(text: str, root: str) -> bool:
    """Whether the root element binds the prefix ``r`` to the relationships namespace
    (openpyxl declares it on each element that uses it instead)."""
    start = re.search(rf"<(?:\w+:)?{root}\b[^>]*>", text)
    return bool(start) and f'xmlns:r="{_REL_NS}"' in start.group(0)  # type: ignore[union-attr]


def _insert_before(tail: str, names: tuple[str, ...], element: str) -> str:
    at = len(tail)
    for name in names:
        m = re.search(rf"<(?:\w+:)?{name}\b", tail)
        if m and m.start() < at:
            at = m.start()
    if at == len(tail):
        end = re.search(r"</(?:\w+:)?worksheet>", tail)
        if end is None:
            raise CannotMark("no end of worksheet")
        at = end.start()
    return tail[:at] + element + tail[at:]


# The list of errors --------------------------------------------------------------------


def _plan_error_sheet(book: _Book, errors: Sequence[RowError], changed: _Changes) -> None:
    existing = book.part_of(ERROR_SHEET)
    xml = _error_sheet_xml(errors)
    if existing:
        changed.parts[existing] = xml
        return
    part = book.free_name("xl/worksheets/sheet{}.xml", set(changed.parts))
    rels = book.rels
    rel_id = rels.new_id("rIdGhErrors")
    rels.add(rel_id, _SHEET_TYPE, _relative("xl/workbook.xml", part))
    changed.parts[rels.path] = rels.text
    ids = [int(i) for i in re.findall(r'sheetId="(\d+)"', book.workbook)]
    sheets_end = re.search(r"</((?:\w+:)?)sheets>", book.workbook)
    if sheets_end is None:
        raise CannotMark("no sheets in the workbook")
    prefix = sheets_end.group(1)
    r_attr = "r:id" if _root_declares_r(book.workbook, "workbook") else f'xmlns:r="{_REL_NS}" r:id'
    element = (
        f'<{prefix}sheet name="{ERROR_SHEET}" sheetId="{max(ids, default=0) + 1}" '
        f'{r_attr}="{rel_id}"/>'
    )
    changed.parts["xl/workbook.xml"] = (
        book.workbook[: sheets_end.start()] + element + book.workbook[sheets_end.start() :]
    )
    changed.parts[part] = xml
    changed.add_content_type(
        f'<Override PartName="/{part}" ContentType="{_CT_SHEET}"/>', f'PartName="/{part}"'
    )


def _error_sheet_xml(errors: Sequence[RowError]) -> Iterator[str]:
    def text(ref: str, value: str) -> str:
        # An inline string is never evaluated; the ' keeps it so when the cell is edited.
        value = neutral(value)
        return (
            f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'
        )

    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN_NS}"><cols><col min="3" max="3" width="80" customWidth="1"/>'
        "</cols><sheetData>"
    )
    yield f'<row r="1">{text("A1", "行")}{text("B1", "列")}{text("C1", "问题")}</row>'
    for i, e in enumerate(errors, start=2):
        yield (
            f'<row r="{i}"><c r="A{i}"><v>{e.row}</v></c>'
            f"{text(f'B{i}', e.column)}{text(f'C{i}', e.message)}</row>"
        )
    yield "</sheetData></worksheet>"
