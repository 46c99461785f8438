"""Personal numbers at rest: Fernet encryption, a keyed hash for look-ups, masking.

身份证号 and 手机号 are stored three ways: the Fernet token (``*_enc``), an HMAC of the
normalised value (``*_hash``) so duplicates are found with an index and without
decrypting, and a masked form (``*_masked``) for lists. The full value is decrypted only
on an explicit, audited request.

Keys: ``GONGHUI_ENCRYPTION_KEY`` holds one or more Fernet keys, newest first. New
tokens use the first; any may decrypt. The look-up hash uses a key derived from the
last (oldest) one, so adding a key in front does not change any stored hash.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in settings.ENCRYPTION_KEYS])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "GONGHUI_ENCRYPTION_KEY 不是有效的 Fernet 密钥（44 个字符的 base64）。"
            '可用 `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"` 生成。'
        ) from exc


@cache
def _hash_key() -> bytes:
    return hmac.new(
        settings.ENCRYPTION_KEYS[-1].encode(), b"gonghui lookup v1", hashlib.sha256
    ).digest()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "无法解密已存储的个人信息：GONGHUI_ENCRYPTION_KEY 与加密时所用的密钥不一致。"
        ) from exc


def lookup_hash(value: str, *, purpose: str) -> str:
    """A keyed hash of a normalised value; equal values give equal hashes."""
    if not value:
        return ""
    msg = f"{purpose}:{value}".encode()
    return hmac.new(_hash_key(), msg, hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """``110105194912310021`` → ``110105********0021``."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
