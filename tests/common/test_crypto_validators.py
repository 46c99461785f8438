"""Personal numbers: encryption and key rotation, masks, and the checks on input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import override_settings

from gonghui.common import crypto
from gonghui.common.validators import (
    id_birth_date,
    id_gender,
    id_number_problem,
    normalize_id_number,
    normalize_phone,
    phone_problem,
    validate_id_number,
    validate_phone,
    with_check_digit,
)

VALID_ID = "11010519491231002X"  # the checksum example of GB 11643
#: GB 11643 weights of the first 17 digits.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _fresh_keys() -> Iterator[None]:
    """The key objects are cached per process; each test starts and ends clean."""
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()
    yield
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()


def _rotate(keys: list[str]) -> override_settings:
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()
    return override_settings(ENCRYPTION_KEYS=keys)


def test_encrypt_decrypt_round_trip() -> None:
    token = crypto.encrypt(VALID_ID)
    assert VALID_ID not in token
    assert crypto.decrypt(token) == VALID_ID
    # Fernet tokens are randomised: equal values do not give equal tokens.
    assert crypto.encrypt(VALID_ID) != token
    assert crypto.encrypt("") == "" and crypto.decrypt("") == ""


def test_lookup_hash_is_stable_keyed_and_per_purpose(db: None) -> None:
    h = crypto.lookup_hash("13812345678", purpose="phone")
    assert h == crypto.lookup_hash("13812345678", purpose="phone")
    assert h != crypto.lookup_hash("13812345678", purpose="id")
    assert h != crypto.lookup_hash("13812345679", purpose="phone")
    assert "13812345678" not in h
    assert crypto.lookup_hash("", purpose="phone") == ""


def test_key_rotation_keeps_old_tokens_and_lookup_hashes(db: None) -> None:
    old_keys = list(settings.ENCRYPTION_KEYS)
    old_token = crypto.encrypt(VALID_ID)
    old_hash = crypto.lookup_hash(VALID_ID, purpose="id")

    with _rotate([NEW_KEY, *old_keys]):
        # Old tokens still decrypt; new ones are made with the new key; hashes unchanged.
        assert crypto.decrypt(old_token) == VALID_ID
        new_token = crypto.encrypt(VALID_ID)
        assert crypto.lookup_hash(VALID_ID, purpose="id") == old_hash

    with _rotate([NEW_KEY]):
        assert crypto.decrypt(new_token) == VALID_ID
    with _rotate(old_keys), pytest.raises(ImproperlyConfigured) as exc:
        crypto.decrypt(new_token)
    assert "GONGHUI_ENCRYPTION_KEY 与加密时所用的密钥不一致" in str(exc.value)


def test_a_malformed_key_is_explained() -> None:
    with _rotate(["not-a-fernet-key"]), pytest.raises(ImproperlyConfigured) as exc:
        crypto.encrypt("x")
    assert "不是有效的 Fernet 密钥" in str(exc.value)


def test_masks() -> None:
    assert crypto.mask_id_number("110105194912310021") == "110105********0021"
    assert crypto.mask_id_number("123") == "***"
    assert crypto.mask_phone("13812345678") == "138****5678"
    assert crypto.mask_phone("12345") == "*****"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1101051949123", "应为 18 位，现为 13 位"),
        ("110105194912310", "只有 15 位，应为 18 位"),
        ("1101051949123100", "只有 16 位，应为 18 位"),
        ("11010519491231002", "只有 17 位，应为 18 位"),
        ("11010519491231002Y", "只能是 17 位数字加 1 位数字或 X"),
        ("1101051949A231002X", "只能是 17 位数字加 1 位数字或 X"),
        ("110105194913310021", "出生日期 19491331 不是有效日期"),
        ("110105189912310021", "出生日期 1899-12-31 不合理"),
        ("110105194912310021", "校验位错误，请核对最后一位"),
    ],
)
def test_id_number_problems_say_what_is_wrong(value: str, problem: str) -> None:
    found = id_number_problem(value)
    assert found is not None
    assert found.startswith(problem)


def test_check_digit_follows_gb_11643() -> None:
    # The standard's own example, and numbers completed by the helper the demo uses.
    assert id_number_problem(VALID_ID) is None
    assert id_number_problem(VALID_ID[:17] + "2") == "校验位错误，请核对最后一位"
    for first17 in ("44030519800101001", "11010119900307803", "33010619850615001"):
        number = with_check_digit(first17)
        weighted = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
        assert number[-1] == "10X98765432"[weighted % 11]
        assert id_number_problem(number) is None


def test_digits_lost_in_excel_are_explained() -> None:
    problem = id_number_problem("11010519491231002")
    assert problem is not None
    assert "Excel" in problem and "文本" in problem


def test_future_birth_dates_are_refused() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    number = with_check_digit(f"110105{tomorrow:%Y%m%d}002")
    assert id_number_problem(number) == f"出生日期 {tomorrow:%Y-%m-%d} 不合理"


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width, as typed with a Chinese IME
        "110105\u200b19491231002X",  # a zero-width space pasted from a web page
    ],
)
def test_id_numbers_are_normalised_before_checking(raw: str) -> None:
    number = normalize_id_number(raw)
    assert number == VALID_ID
    assert id_number_problem(number) is None
    validate_id_number(raw)


def test_validate_id_number_raises_a_chinese_message() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_id_number("110105194912310021")
    assert exc.value.messages == ["身份证号校验位错误，请核对最后一位。"]


def test_birth_date_and_gender_come_from_the_number() -> None:
    assert id_birth_date(VALID_ID) == dt.date(1949, 12, 31)
    assert id_gender(VALID_ID) == "F"  # 17th digit 2: even
    male = with_check_digit("33010619850615001")
    assert id_gender(male) == "M"


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "138-1234-5678",
        "(138) 1234 5678",
        "１３８１２３４５６７８",
        "138\u00a01234\u00a05678",
    ],
)
def test_phone_numbers_are_normalised(raw: str) -> None:
    assert normalize_phone(raw) == "13812345678"
    validate_phone(raw)


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "010-12345678", "138123456789"])
def test_bad_phone_numbers_are_refused(raw: str) -> None:
    problem = phone_problem(normalize_phone(raw))
    assert problem is not None
    assert "不是有效的手机号（11 位，以 1 开头" in problem
    assert normalize_phone(raw) not in problem  # messages are stored and shown to others
    with pytest.raises(ValidationError):
        validate_phone(raw)
