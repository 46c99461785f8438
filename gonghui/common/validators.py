"""Chinese identity numbers and mobile numbers: normalise, validate, explain."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from stdnum.cn import ric

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


#: Invisible characters that are only noise (zero-width space, byte-order mark, word
#: joiner). Other format characters are kept: U+200D joins an emoji, U+200C shapes a script.
_NOISE = {0x200B: None, 0xFEFF: None, 0x2060: None}


def normalize_text(value: str) -> str:
    """Text as typed: zero-width noise and control characters dropped, runs of spaces
    collapsed, ends trimmed. Full-width letters, emoji joiners and direction marks stay
    (Django escapes them on output); numbers and codes go through :func:`normalize_code`."""
    # Most text is already clean: C-level checks tell so (``isprintable`` is false for
    # invisible, control and non-ASCII space characters) and spare the rebuild, which
    # matters when an import normalises a million cells.
    if (
        value.isprintable()
        and not value.startswith(" ")
        and not value.endswith(" ")
        and "  " not in value
    ):
        return value
    value = value.translate(_NOISE)
    value = "".join(ch for ch in value if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(value.split())


def normalize_code(value: str) -> str:
    """A number or a code (身份证号, 手机号, 工号): full-width letters and digits to ASCII
    (NFKC), every invisible character dropped, runs of spaces collapsed."""
    if (
        value.isprintable()
        and unicodedata.is_normalized("NFKC", value)
        and not value.startswith(" ")
        and not value.endswith(" ")
        and "  " not in value
    ):
        return value
    value = unicodedata.normalize("NFKC", value)
    value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cf", "Cc"))
    return " ".join(value.split())


def normalize_id_number(value: str) -> str:
    return normalize_code(value).replace(" ", "").upper()


def id_number_problem(value: str) -> str | None:
    """What is wrong with a (normalised) 18-digit 身份证号, in Chinese; ``None`` if valid."""
    if not value:
        return None
    if len(value) != 18:
        if value.isdigit() and len(value) in (15, 16, 17):
            return (
                f"只有 {len(value)} 位，应为 18 位；若从 Excel 复制，可能被存成了数字而丢了末尾几位，"
                "请把该列设为「文本」后重新填写"
            )
        return f"应为 18 位，现为 {len(value)} 位"
    if not (value[:17].isdigit() and (value[17].isdigit() or value[17] == "X")):
        return "只能是 17 位数字加 1 位数字或 X"
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"出生日期 {value[6:14]} 不是有效日期"
    if birth > dt.date.today() or birth.year < 1900:
        return f"出生日期 {birth:%Y-%m-%d} 不合理"
    # stdnum's calc_check_digit takes the whole number, check digit included (it drops
    # the last character itself); passing 17 digits would check the wrong digits.
    if ric.calc_check_digit(value) != value[17]:
        return "校验位错误，请核对最后一位"
    return None


def validate_id_number(value: str) -> None:
    problem = id_number_problem(normalize_id_number(value))
    if problem:
        raise ValidationError(f"身份证号{problem}。", code="id_number")


def id_birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def id_gender(value: str) -> str:
    """``M`` or ``F`` from the 17th digit (odd: male)."""
    return "M" if int(value[16]) % 2 else "F"


def normalize_phone(value: str) -> str:
    value = normalize_code(value)
    value = re.sub(r"[\s\-()（）]", "", value)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def phone_problem(value: str) -> str | None:
    if not value:
        return None
    if not _MOBILE.match(value):
        # The number itself is not repeated: messages are stored and shown to others.
        digits = sum(ch.isdigit() for ch in value)
        return f"不是有效的手机号（11 位，以 1 开头；现为 {digits} 位数字）"
    return None


def validate_phone(value: str) -> None:
    problem = phone_problem(normalize_phone(value))
    if problem:
        raise ValidationError(f"手机号{problem}。", code="phone")


def with_check_digit(first17: str) -> str:
    """Complete 17 digits into a valid 身份证号 (for demo data and tests)."""
    return first17 + ric.calc_check_digit(first17 + "0")
