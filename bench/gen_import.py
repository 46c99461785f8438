"""Generate a large 会员名册 .xlsx for the import benchmark (``bench_import.py``).

    python bench/gen_import.py --rows 100000 --out /tmp/bench-import/roster-100000.xlsx

The roster has the 18 headers of the roster template, one row per member of a made-up
district union of ``SCHOOLS`` schools with ``GROUPS`` groups each (``TREE`` below; the
benchmark creates that tree before it imports). Values are what a real roster holds:
valid and unique 身份证号 (as text, as the template asks), mobile numbers, 工号, dates
as Excel date cells, 用工形式 and the other choices by their Chinese labels, wages with
cents, about 3% 保留会籍. 会员证号 is left blank, so the importer numbers the cards.

The file is written as Excel writes it (shared strings, date styles) straight as XML:
openpyxl would take minutes for 100,000 rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCHOOLS = 20
GROUPS = 5
FEDERATION = ("基准区教育工会", "BQJY")

HEADERS = [
    "姓名", "性别", "身份证号", "出生日期", "手机号", "工号", "所属工会", "部门", "职务",
    "用工形式", "民族", "政治面貌", "学历", "参加工作日期", "入会日期", "会员证号", "会员状态",
    "月工资",
]  # fmt: skip
DATE_COLUMNS = {3, 13, 14}
NUMBER_COLUMNS = {17}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤欧阳"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红玉梅琳晨雪飞鹏辉宇浩然子涵欣怡思雨佳琪文博志新海燕凤颖慧婷倩蕾晶晓东春秋冬阳光宁安康乐嘉俊峰"
REGIONS = ["110101", "110105", "310104", "320106", "330102", "340104", "350102", "360103",
           "370102", "410105", "420106", "430103", "440305", "450103", "500103", "510107",
           "520102", "530102", "610103", "620102"]  # fmt: skip
DEPARTMENTS = ["语文组", "数学组", "英语组", "物理组", "化学组", "生物组", "政史地组", "体艺组",
               "教务处", "政教处", "总务处", "办公室", "信息中心", "图书馆", "后勤服务中心"]  # fmt: skip
TITLES = [
    "教师",
    "教师",
    "教师",
    "教师",
    "班主任",
    "教研组长",
    "年级组长",
    "主任",
    "副主任",
    "干事",
    "职员",
]
EMPLOYMENT = (["在编", "合同制", "劳务派遣", "临时/制度外", "退休返聘"], [70, 18, 6, 4, 2])
POLITICAL = (["中共党员", "共青团员", "群众", "民盟盟员", "九三学社社员"], [38, 8, 50, 2, 2])
EDUCATION = (["硕士研究生", "大学本科", "大学专科", "高中"], [18, 66, 12, 4])
ETHNICITY = (["汉族", "回族", "满族", "土家族", "苗族"], [92, 2, 2, 2, 2])
STATUS = (["在册", "保留会籍"], [97, 3])


def check_digit(first17: str) -> str:
    from gonghui.common.validators import with_check_digit

    return with_check_digit(first17)[-1]


def tree() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """``[(school name, school code, [(group name, group code), …]), …]``."""
    result = []
    for s in range(1, SCHOOLS + 1):
        code = f"BX{s:02d}"
        groups = [(f"基准第{s}中学第{g}组", f"{code}G{g}") for g in range(1, GROUPS + 1)]
        result.append((f"基准第{s}中学工会", code, groups))
    return result


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def rows(n: int, seed: int = 20240305) -> list[list[object]]:
    rng = random.Random(seed)
    groups = [code for _, _, gs in tree() for _, code in gs]
    seen: set[str] = set()
    out: list[list[object]] = []
    today = dt.date(2025, 6, 30)
    for i in range(n):
        male = rng.random() < 0.45
        while True:
            birth = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365))
            order = rng.randrange(500) * 2 + (1 if male else 0)
            first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{order:03d}"
            number = first17 + check_digit(first17)
            if number not in seen:
                seen.add(number)
                break
        name = rng.choice(SURNAMES) + "".join(
            rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))
        )
        work = min(_add_years(birth, rng.randint(21, 26)), today)
        joined = min(work + dt.timedelta(days=rng.randrange(2000)), today)
        out.append(
            [
                name,
                "男" if male else "女",
                number,
                birth,
                f"1{rng.choice('3589')}{i:09d}",
                f"E{i + 1:06d}",
                groups[i % len(groups)],
                rng.choice(DEPARTMENTS),
                rng.choice(TITLES),
                rng.choices(*EMPLOYMENT)[0],
                rng.choices(*ETHNICITY)[0],
                rng.choices(*POLITICAL)[0],
                rng.choices(*EDUCATION)[0],
                work,
                joined,
                "",
                rng.choices(*STATUS)[0],
                round(rng.uniform(3000, 20000), 2),
            ]
        )
    return out


def _col(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_EPOCH = dt.date(1899, 12, 30)

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="会员名册" sheetId="1" r:id="rId1"/></sheets></workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"""
# Style 1: a date (built-in format 14); style 2: text ("@", format 49); style 3: 0.00.
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"""


def write_xlsx(path: Path, data: list[list[object]]) -> None:
    strings: dict[str, int] = {}

    def sst(text: str) -> int:
        index = strings.get(text)
        if index is None:
            index = strings[text] = len(strings)
        return index

    lines = []
    all_rows: list[list[object]] = [list(HEADERS), *data]
    for i, row in enumerate(all_rows, start=1):
        cells = []
        for j, value in enumerate(row):
            ref = f"{_col(j)}{i}"
            if value == "" or value is None:
                continue
            if isinstance(value, dt.date):
                cells.append(f'<c r="{ref}" s="1"><v>{(value - _EPOCH).days}</v></c>')
            elif isinstance(value, float | int):
                cells.append(f'<c r="{ref}" s="3"><v>{value}</v></c>')
            else:
                style = ' s="2"' if j in (2, 4, 5) else ""
                cells.append(f'<c r="{ref}"{style} t="s"><v>{sst(str(value))}</v></c>')
        lines.append(f'<row r="{i}">{"".join(cells)}</row>')
    last = f"{_col(len(HEADERS) - 1)}{len(all_rows)}"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}"/><sheetData>{"".join(lines)}</sheetData></worksheet>'
    )
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    sst_xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>'
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        zf.writestr("xl/sharedStrings.xml", sst_xml)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=20240305)
    args = parser.parse_args()
    out = args.out or Path(f"/tmp/bench-import/roster-{args.rows}.xlsx")
    started = time.monotonic()
    data = rows(args.rows, args.seed)
    write_xlsx(out, data)
    size = out.stat().st_size / 1024 / 1024
    print(f"{out}: {args.rows:,} 行，{size:.1f} MB，用时 {time.monotonic() - started:.1f} 秒")


if __name__ == "__main__":
    main()
