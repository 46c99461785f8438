"""Building spreadsheet files for the importer tests: good ones, and every kind of bad."""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import xlwt

MEMBER_HEADERS = ["姓名", "身份证号", "手机号", "所属工会", "入会日期"]


def xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    sheet: str = "会员名册",
    text_columns: Sequence[int] = (),
) -> Path:
    """An .xlsx with an optional merged title row above ``rows`` (headers first)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(rows[0]), 2))
    for row in rows:
        ws.append(list(row))
    for j in text_columns:
        for cells in ws.iter_cols(min_col=j + 1, max_col=j + 1):
            for cell in cells:
                cell.number_format = "@"
    wb.save(path)
    return path


def xls(path: Path, rows: Sequence[Sequence[Any]], *, sheet: str = "会员名册") -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write(i, j, value, date_style)
            else:
                ws.write(i, j, value)
    book.save(str(path))
    return path


def csv_bytes(
    rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False
) -> bytes:
    text = "\r\n".join(",".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def set_cached_formula(path: Path, cell: str, formula: str, cached: str, *, text: bool) -> None:
    """Make ``cell`` a formula with a cached value, as Excel saves it (openpyxl writes
    formulas without one)."""
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    kind = ' t="str"' if text else ""
    new = f'<c r="{cell}"{kind}><f>{formula}</f><v>{cached}</v></c>'
    xml, count = re.subn(rf'<c r="{cell}"[^>]*?(?:/>|>.*?</c>)', new, xml, count=1)
    assert count == 1, xml
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, data in parts.items():
            zf.writestr(part, data)


def set_uncomputed_formula(path: Path, cell: str, formula: str) -> None:
    """Make ``cell`` a formula saved without its result (as openpyxl and other programs
    write formulas: nothing computed them)."""
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    name = "xl/worksheets/sheet1.xml"
    xml = parts[name].decode()
    new = f'<c r="{cell}"><f>{formula}</f><v></v></c>'
    xml, count = re.subn(rf'<c r="{cell}"[^>]*?(?:/>|>.*?</c>)', new, xml, count=1)
    assert count == 1, xml
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, data in parts.items():
            zf.writestr(part, data)


def hide_sheet(path: Path, index: int) -> None:
    wb = openpyxl.load_workbook(path)
    wb.worksheets[index].sheet_state = "hidden"
    wb.active = next(i for i, ws in enumerate(wb.worksheets) if ws.sheet_state == "visible")
    wb.save(path)


def executable() -> bytes:
    """The start of a Windows PE executable."""
    header = bytearray(b"MZ" + b"\x90\x00" * 29 + b"\x00" * 2)
    header += b"\x00" * (0x3C - len(header)) + struct.pack("<I", 0x80)
    header += b"\x00" * (0x80 - len(header)) + b"PE\x00\x00" + b"\x00" * 200
    return bytes(header)


def cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE compound file holding ``streams`` (512-byte sectors).

    Enough for a reader to list the directory: what Excel writes for a workbook with
    an open password is such a file with ``EncryptionInfo`` and ``EncryptedPackage``.
    Every stream is padded to 4,096 bytes so none lives in the mini stream.
    """
    sector = 512
    end, free, fat_sect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    blobs = [
        data.ljust(max(4096, -(-len(data) // sector) * sector), b"\0") for data in streams.values()
    ]
    # Layout: sector 0 = FAT, sector 1 = directory, then the streams.
    fat = [fat_sect, end]
    starts = []
    next_sector = 2
    for blob in blobs:
        n = len(blob) // sector
        starts.append(next_sector)
        fat.extend([*range(next_sector + 1, next_sector + n), end])
        next_sector += n
    assert len(fat) <= sector // 4
    fat += [free] * (sector // 4 - len(fat))

    def entry(
        name: str, kind: int, start: int, size: int, child: int = free, right: int = free
    ) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0"
        e = bytearray(128)
        e[: len(encoded)] = encoded
        struct.pack_into("<HBB", e, 0x40, len(encoded), kind, 1)
        struct.pack_into("<III", e, 0x44, free, right, child)
        struct.pack_into("<II", e, 0x74, start, size)
        return bytes(e)

    names = list(streams)
    entries = [entry("Root Entry", 5, end, 0, child=1)]
    for i, name in enumerate(names):
        right = i + 2 if i + 1 < len(names) else free
        entries.append(entry(name, 2, starts[i], len(streams[name]), right=right))
    directory = b"".join(entries).ljust(sector, b"\0")
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9)
    struct.pack_into("<H", header, 0x20, 6)
    struct.pack_into("<I", header, 0x2C, 1)  # FAT sectors
    struct.pack_into("<I", header, 0x30, 1)  # first directory sector
    struct.pack_into("<I", header, 0x38, 4096)
    struct.pack_into("<III", header, 0x3C, end, 0, end)  # no mini FAT
    struct.pack_into("<II", header, 0x44, end, 0)  # no DIFAT sectors
    difat = [0] + [free] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    return bytes(header) + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(blobs)


def encrypted_workbook() -> bytes:
    info = struct.pack("<HHI", 4, 4, 0x40) + b"<encryption/>"
    return cfb(
        {"EncryptionInfo": info, "EncryptedPackage": struct.pack("<Q", 1000) + b"\x01" * 1000}
    )


def zip_bomb(*, lie: bool = False, megabytes: int = 1200) -> bytes:
    """An .xlsx whose sheet unzips to ``megabytes`` of spaces (1.2 GB by default).

    With ``lie`` the central directory claims the sheet is tiny, as a crafted bomb
    does; the reader must count the real bytes, not trust the header.
    """
    import zlib

    buf = io.BytesIO()
    # One megabyte of spaces, deflated and fully flushed, is a self-contained run of
    # blocks: repeated 1,200 times and closed with an empty final block it is a valid
    # deflate stream of 1.2 GB, built in a moment.
    chunk = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    body = segment * megabytes + b"\x03\x00"
    size = megabytes * len(chunk)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(chunk, crc)
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    base = buf.getvalue()
    # Append a hand-made entry: local header + data, then rebuild the central directory.
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        infos = zf.infolist()
    name = b"xl/worksheets/sheet1.xml"
    declared = 1000 if lie else size
    out = io.BytesIO()
    entries = []
    for info in infos:
        with zipfile.ZipFile(io.BytesIO(base)) as zf:
            data = zf.read(info.filename)
        offset = out.tell()
        local = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            0,
            0,
            0,
            zlib.crc32(data),
            len(data),
            len(data),
            len(info.filename.encode()),
            0,
        )
        out.write(local + info.filename.encode() + data)
        entries.append((info.filename.encode(), 0, zlib.crc32(data), len(data), len(data), offset))
    offset = out.tell()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), declared, len(name), 0
    )
    out.write(local + name + bytes(body))
    entries.append((name, 8, crc, len(body), declared, offset))
    cd_start = out.tell()
    for fname, method, fcrc, csize, usize, off in entries:
        out.write(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                method,
                0,
                0,
                fcrc,
                csize,
                usize,
                len(fname),
                0,
                0,
                0,
                0,
                0,
                off,
            )
            + fname
        )
    cd_size = out.tell() - cd_start
    out.write(
        struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), cd_size, cd_start, 0)
    )
    return out.getvalue()


def many_rows_xlsx(path: Path, rows: int) -> Path:
    """An .xlsx with a header and ``rows`` nearly empty rows, built straight as XML
    (openpyxl would take minutes for 500,000 rows)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "会员名册"
    ws.append(["姓名", "所属工会"])
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    body = "".join(
        f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>某</t></is></c></row>'
        for i in range(2, rows + 2)
    )
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml = re.sub(r"<dimension[^>]*/>", "", xml)
    xml = xml.replace("</sheetData>", body + "</sheetData>")
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for part, data in parts.items():
            zf.writestr(part, data)
    return path


def read_xlsx(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def red_cells(ws: Any) -> set[str]:
    """The cells of ``ws`` under a conditional format with the marks' light red fill."""
    from openpyxl.utils import get_column_letter

    cells: set[str] = set()
    for fmt in ws.conditional_formatting:
        for rule in fmt.rules:
            fill = rule.dxf.fill if rule.dxf is not None else None
            colour = fill.bgColor.rgb if fill is not None and fill.bgColor is not None else ""
            if str(colour).endswith("FFC7CE"):
                for cell_range in fmt.sqref.ranges:
                    cells.update(f"{get_column_letter(c)}{r}" for r, c in cell_range.cells)
    return cells
