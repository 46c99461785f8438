"""Open an uploaded spreadsheet safely and hand out its rows.

The file's content decides how it is read, never its name: an .xlsx is a zip, an .xls
(and an encrypted .xlsx) an OLE compound file, anything else must be text (CSV). Before
python-calamine touches a zip, its entries are checked: their declared and their real
unzipped sizes (a "zip bomb" is refused), and the number of rows of each sheet (a file
over the row limit is refused as soon as the limit is passed, without reading the rest).
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from python_calamine import (
    CalamineError,
    CalamineWorkbook,
    PasswordError,
    SheetTypeEnum,
    SheetVisibleEnum,
)

#: How many rows at the top of a sheet are searched for the header row.
HEADER_SEARCH_ROWS = 30
#: Entries of a zip more compressed than this are a bomb, not a spreadsheet (a real
#: sheet compresses 5–20 times; deflate's ceiling is about 1,000).
MAX_ZIP_RATIO = 200
MAX_ZIP_ENTRIES = 5000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_CELL_START = re.compile(rb"<(?:\w+:)?c[\s>]")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_CELL_REF = re.compile(rb'\sr="([A-Z]+)(\d+)"')
_CELL_TYPE = re.compile(rb'\st="(\w+)"')
_CACHED_VALUE = re.compile(rb"<(?:\w+:)?v>(.+?)</(?:\w+:)?v>", re.S)
#: A formula cell whose file holds no result for it (see :class:`_FormulaScan`).
UNCOMPUTED_FORMULA = (
    "是公式，但文件中没有保存它的计算结果（由程序生成、没有在 Excel 中打开过的文件常这样）。"
    "请用 Excel 打开该文件并保存一次，让公式算出结果，再导入"
)

#: Magic numbers of files that are certainly not spreadsheets, for a clear message.
_NOT_SPREADSHEETS: list[tuple[bytes, str]] = [
    (b"MZ", "一个 Windows 可执行程序（.exe/.dll）"),
    (b"\x7fELF", "一个可执行程序"),
    (b"#!", "一个脚本程序"),
    (b"%PDF", "一个 PDF 文件"),
    (b"\x89PNG", "一张 PNG 图片"),
    (b"\xff\xd8\xff", "一张 JPEG 图片"),
    (b"GIF8", "一张 GIF 图片"),
    (b"\x1f\x8b", "一个 gzip 压缩包"),
    (b"Rar!", "一个 RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "一个 7z 压缩包"),
    (b"{\\rtf", "一个 RTF 文档"),
]


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ACCEPTED = "请上传 .xlsx、.xls 或 .csv 格式的表格文件。"


@dataclass
class SheetData:
    """One sheet: its rows as lists of raw cells, with absolute 0-based positions.

    ``rows()`` yields ``(row_index, cells)`` where ``cells[j]`` is column
    ``col_offset + j``; merged ranges are filled in (every cell of a merged range holds
    the top-left value, as the eye reads it).
    """

    name: str
    height: int
    col_offset: int
    _rows: Any
    row_offset: int = 0
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    #: Formula cells without a saved result: 0-based row → absolute 0-based columns.
    uncomputed: dict[int, set[int]] = field(default_factory=dict)

    def head(self, n: int = HEADER_SEARCH_ROWS) -> list[tuple[int, list[Any]]]:
        """The first ``n`` rows (merged ranges filled), for finding the header."""
        out: list[tuple[int, list[Any]]] = []
        for item in self.rows():
            out.append(item)
            if len(out) >= n:
                break
        return out

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        source = self._rows() if callable(self._rows) else iter(self._rows)
        if not self.merged:
            for i, cells in enumerate(source):
                yield self.row_offset + i, cells
            return
        # Merged ranges keyed by their first row; those open carry their value down.
        starting: dict[int, list[tuple[int, int, int]]] = {}
        for (r0, c0), (r1, c1) in self.merged:
            starting.setdefault(r0, []).append((r1, c0 - self.col_offset, c1 - self.col_offset))
        open_ranges: list[tuple[int, int, int, Any]] = []
        for i, cells in enumerate(source):
            r = self.row_offset + i
            for r1, c0, c1 in starting.get(r, ()):
                value = cells[c0] if 0 <= c0 < len(cells) else ""
                open_ranges.append((r1, c0, c1, value))
            if open_ranges:
                cells = list(cells)
                for _r1, c0, c1, value in open_ranges:
                    for c in range(max(c0, 0), min(c1 + 1, len(cells))):
                        cells[c] = value
                open_ranges = [o for o in open_ranges if o[0] > r]
            yield r, cells


@dataclass
class Workbook:
    """The candidate sheets of a file, best first; each is read only when asked for."""

    format: str  # xlsx, xls, ods, csv
    sheets: list[tuple[str, Callable[[], SheetData]]]


def _limits() -> tuple[int, int, int]:
    return (
        settings.GONGHUI_IMPORT_MAX_BYTES,
        settings.GONGHUI_IMPORT_MAX_ROWS,
        settings.GONGHUI_IMPORT_MAX_UNZIPPED_BYTES,
    )


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def too_many_rows(max_rows: int) -> FileProblem:
    return FileProblem(
        f"文件超过 {max_rows:,} 行数据，超出一次导入的上限。请拆成几个文件分批导入"
        "（可按分工会或部门拆分）。"
    )


def open_workbook(path: Path, *, file_name: str, sheet_hints: tuple[str, ...] = ()) -> Workbook:
    """Open ``path`` (uploaded as ``file_name``) and return its candidate sheets.

    Candidates are the visible worksheets, those whose name contains one of
    ``sheet_hints`` first. Raises :class:`FileProblem` for anything that is not a
    readable, unencrypted spreadsheet within the limits.
    """
    max_bytes, max_rows, max_unzipped = _limits()
    size = path.stat().st_size
    if size == 0:
        raise FileProblem("文件是空的（0 字节）。" + ACCEPTED)
    if size > max_bytes:
        raise FileProblem(
            f"文件大小为 {_mb(size)}，超过了 {_mb(max_bytes)} 的上限。"
            "请删去无关的工作表和格式，或拆成几个文件分批导入。"
        )
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"PK\x03\x04") or magic.startswith(b"PK\x05\x06"):
        fmt, uncomputed = _check_zip(path, max_rows=max_rows, max_unzipped=max_unzipped)
        return _calamine(path, fmt, sheet_hints, max_rows, uncomputed)
    if magic == _OLE_MAGIC:
        _check_ole(path)
        return _calamine(path, "xls", sheet_hints, max_rows)
    for prefix, what in _NOT_SPREADSHEETS:
        if magic.startswith(prefix):
            raise FileProblem(f"「{file_name}」不是表格文件：它的内容是{what}。{ACCEPTED}")
    return _read_csv(path, file_name=file_name, max_rows=max_rows)


# Zip (.xlsx / .ods) ------------------------------------------------------------------


class _FormulaScan:
    """Finds, in a sheet's XML as it streams by, the formula cells saved without their
    result: a file written by a program (openpyxl, some exporters) and never opened in
    Excel has formulas but no values, which calamine reads as empty cells.

    A cell holds its formula in ``<f>`` and the last result Excel computed in ``<v>``;
    an empty ``<v>`` is a result only for a text formula (``t="str"``: the empty text).
    """

    def __init__(self) -> None:
        self.found: dict[int, set[int]] = {}
        self._carry = b""

    def feed(self, chunk: bytes) -> None:
        window = self._carry + chunk
        self._carry = window[-4096:]
        if not _FORMULA_TAG.search(window):
            return
        keep_from = max(len(window) - 4096, 0)
        at = 0
        while found := _FORMULA_TAG.search(window, at):
            # The cell's start tag comes right before its formula (<f> is its first child).
            near = max(found.start() - 1024, 0)
            starts = [m.start() for m in _CELL_START.finditer(window, near, found.start())]
            end = _CELL_END.search(window, found.end())
            if not starts or end is None:
                # The cell continues in the next chunk: look at it again from its start.
                keep_from = min(keep_from, starts[-1] if starts else found.start())
                break
            self._cell(window[starts[-1] : end.end()])
            at = end.end()
        self._carry = window[keep_from:] if keep_from < len(window) else b""

    def _cell(self, cell: bytes) -> None:
        tag_end = cell.find(b">")
        start = cell[: tag_end + 1]
        ref = _CELL_REF.search(start)
        if ref is None:
            return
        kind = _CELL_TYPE.search(start)
        value = _CACHED_VALUE.search(cell)
        if value is not None or (kind is not None and kind.group(1) == b"str" and b"<v" in cell):
            return
        col = 0
        for ch in ref.group(1):
            col = col * 26 + ch - 64
        self.found.setdefault(int(ref.group(2)) - 1, set()).add(col - 1)


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part → sheet name, from the workbook and its relationships."""
    try:
        workbook = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = {}
    for m in re.finditer(r"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        target = attrs.get("Target", "")
        part = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[attrs.get("Id", "")] = part.replace("xl/./", "xl/")
    names = {}
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)>", workbook):
        attrs = dict(re.findall(r'([\w:]+)="([^"]*)"', m.group(1)))
        rel_id = next((v for k, v in attrs.items() if k.endswith(":id")), "")
        if rel_id in targets:
            names[targets[rel_id]] = html.unescape(attrs.get("name", ""))
    return names


def _check_zip(
    path: Path, *, max_rows: int, max_unzipped: int
) -> tuple[str, dict[str, dict[int, set[int]]]]:
    """Refuse zip bombs and oversized sheets before the reader sees the file. Returns
    the format and, per sheet name, the formula cells saved without a result."""
    bomb = FileProblem(
        "文件解压后异常巨大（疑似“压缩炸弹”），已拒绝读取。请用 Excel 重新保存后再导入。"
    )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem("文件已损坏，无法打开。请用 Excel 打开后重新保存，再导入。") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise bomb
        names = {info.filename for info in infos}
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            fmt = "xlsx" if "xl/workbook.xml" in names else "xlsb"
        elif "content.xml" in names and "mimetype" in names:
            fmt = "ods"
        elif "word/document.xml" in names:
            raise FileProblem(f"这是一个 Word 文档，不是表格。{ACCEPTED}")
        elif "ppt/presentation.xml" in names:
            raise FileProblem(f"这是一个 PowerPoint 演示文稿，不是表格。{ACCEPTED}")
        else:
            raise FileProblem(f"这是一个普通的压缩包，不是 Excel 表格。{ACCEPTED}")
        declared = sum(info.file_size for info in infos)
        if declared > max_unzipped:
            raise bomb
        for info in infos:
            if info.file_size > 10 * 1024 * 1024 and (
                info.compress_size == 0 or info.file_size / info.compress_size > MAX_ZIP_RATIO
            ):
                raise bomb
        # The declared sizes may lie: inflate every entry, counting the real bytes (and
        # the rows of each sheet) and stopping as soon as a limit is passed.
        total = 0
        sheet_names = _sheet_parts(zf) if fmt == "xlsx" else {}
        uncomputed: dict[str, dict[int, set[int]]] = {}
        for info in infos:
            is_sheet = info.filename.startswith("xl/worksheets/") or info.filename == "content.xml"
            formulas = _FormulaScan() if info.filename in sheet_names else None
            rows = 0
            tail = b""
            try:
                with zf.open(info) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        if total > max_unzipped:
                            raise bomb
                        if is_sheet:
                            window = tail + chunk
                            rows += len(_ROW_TAG.findall(window))
                            # Keep a short tail so a tag split between chunks is seen once.
                            tail = window[-15:]
                            rows -= len(_ROW_TAG.findall(tail))
                            if rows > max_rows + HEADER_SEARCH_ROWS:
                                raise too_many_rows(max_rows)
                        if formulas is not None:
                            formulas.feed(chunk)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, RuntimeError):
                # RuntimeError: an encrypted zip entry.
                raise FileProblem(
                    "文件已损坏或被加密，无法读取。请用 Excel 打开后另存为新的 .xlsx 再导入。"
                ) from None
            if formulas is not None and formulas.found:
                uncomputed[sheet_names[info.filename]] = formulas.found
    return fmt, uncomputed


# OLE compound file (.xls, encrypted .xlsx) --------------------------------------------


def ole_stream_names(data: bytes) -> list[str]:
    """The names in an OLE compound file's directory (enough to tell what it holds)."""
    if len(data) < 512 or data[:8] != _OLE_MAGIC:
        return []
    shift = struct.unpack_from("<H", data, 0x1E)[0]
    if shift not in (9, 12):
        return []
    size = 1 << shift
    first_dir = struct.unpack_from("<I", data, 0x30)[0]
    difat = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat, n_difat = struct.unpack_from("<II", data, 0x44)
    for _ in range(min(n_difat, 1000)):
        if next_difat >= 0xFFFFFFFA:
            break
        offset = (next_difat + 1) * size
        entries = struct.unpack_from(f"<{size // 4}I", data, offset)
        difat.extend(entries[:-1])
        next_difat = entries[-1]
    fat: list[int] = []
    for sector in difat:
        if sector >= 0xFFFFFFFA:
            continue
        offset = (sector + 1) * size
        if offset + size > len(data):
            return []
        fat.extend(struct.unpack_from(f"<{size // 4}I", data, offset))
    names: list[str] = []
    sector, seen = first_dir, 0
    while sector < 0xFFFFFFFA and seen < 10000:
        offset = (sector + 1) * size
        if offset + size > len(data):
            break
        for i in range(size // 128):
            entry = data[offset + i * 128 : offset + (i + 1) * 128]
            length = struct.unpack_from("<H", entry, 0x40)[0]
            if 2 <= length <= 64 and entry[0x42] in (1, 2, 5):
                names.append(entry[: length - 2].decode("utf-16-le", "replace"))
        seen += 1
        sector = fat[sector] if sector < len(fat) else 0xFFFFFFFE
    return names


def _check_ole(path: Path) -> None:
    names = ole_stream_names(path.read_bytes())
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise FileProblem(
            "文件设置了打开密码（已加密），无法读取。请在 Excel 中打开它，"
            "在「文件 → 信息 → 保护工作簿 → 用密码进行加密」中清除密码并保存，再导入。"
        )
    if not names or not ({"Workbook", "Book"} & set(names)):
        what = "Word 文档" if "WordDocument" in names else "其他 Office 文件"
        raise FileProblem(f"这是一个{what}，不是 Excel 表格。{ACCEPTED}")


# Calamine -----------------------------------------------------------------------------


def _calamine(
    path: Path,
    fmt: str,
    hints: tuple[str, ...],
    max_rows: int,
    uncomputed: dict[str, dict[int, set[int]]] | None = None,
) -> Workbook:
    try:
        with path.open("rb") as fh:
            book = CalamineWorkbook.from_filelike(fh)
    except PasswordError:
        raise FileProblem(
            "文件设置了密码保护，无法读取。请在 Excel 中清除密码后另存，再导入。"
        ) from None
    except CalamineError as exc:
        raise FileProblem(
            f"无法读取该表格（{str(exc)[:80]}）。请用 Excel 打开后另存为 .xlsx 再导入。"
        ) from None
    metas = [
        (i, m)
        for i, m in enumerate(book.sheets_metadata)
        if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet
    ]
    if not metas:
        raise FileProblem("工作簿中没有可见的工作表。请取消隐藏名册所在的工作表后再导入。")
    hinted = [(i, m) for i, m in metas if any(h in m.name for h in hints)]
    ordered = hinted + [x for x in metas if x not in hinted]
    uncomputed = uncomputed or {}
    sheets: list[tuple[str, Callable[[], SheetData]]] = [
        (m.name, partial(_load_sheet, book, i, m.name, max_rows, uncomputed.get(m.name, {})))
        for i, m in ordered
    ]
    return Workbook(format=fmt, sheets=sheets)


def _load_sheet(
    book: CalamineWorkbook,
    index: int,
    name: str,
    max_rows: int,
    uncomputed: dict[int, set[int]] | None = None,
) -> SheetData:
    try:
        sheet = book.get_sheet_by_index(index)
    except CalamineError as exc:
        raise FileProblem(f"工作表「{name}」无法读取（{str(exc)[:80]}）。") from None
    end = sheet.end
    if end is None:
        return SheetData(name=name, height=0, col_offset=0, _rows=[])
    if end[0] + 1 > max_rows + HEADER_SEARCH_ROWS:
        raise too_many_rows(max_rows)
    start = sheet.start or (0, 0)
    # ``iter_rows`` yields every row from the sheet's first (index 0) to its last, each
    # holding the columns from the first used one (``start[1]``) to the last.
    return SheetData(
        name=name,
        height=end[0] + 1,
        col_offset=start[1],
        _rows=sheet.iter_rows,
        row_offset=0,
        merged=list(sheet.merged_cell_ranges or []),
        uncomputed=uncomputed or {},
    )


# CSV ----------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="strict")
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        return raw.decode("utf-16")
    if b"\x00" in raw[:8192]:
        raise FileProblem(f"文件内容不是表格，可能已损坏或被改了扩展名。{ACCEPTED}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Chinese Excel saves a CSV in.
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise FileProblem(
            "无法识别文件的文字编码。请在 Excel 中「另存为 → CSV UTF-8（逗号分隔）」后再导入，"
            "或直接上传 .xlsx 文件。"
        ) from None


def _read_csv(path: Path, *, file_name: str, max_rows: int) -> Workbook:
    raw = path.read_bytes()
    text = _decode(raw)
    if text.count("\n") > max_rows + HEADER_SEARCH_ROWS:
        raise too_many_rows(max_rows)
    sample = text[:16384]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise FileProblem(f"CSV 文件格式有误（{exc}）。请用 Excel 另存为 .xlsx 再导入。") from None
    width = max((len(r) for r in rows), default=0)
    name = Path(file_name).stem or "CSV"
    sheet = SheetData(name=name, height=len(rows) if width else 0, col_offset=0, _rows=rows)
    return Workbook(format="csv", sheets=[(name, lambda: sheet)])
