"""Refusing to start with keys that cannot work: a weak secret in production, or an
encryption key that cannot read the data already stored.

A key that is not a Fernet key at all is refused by the settings, at every start. A
valid Fernet key that is not the one the data was encrypted with used to start, then
answer 500 on a reveal and silently stop finding duplicates (the look-up hash changed
with it). :func:`key_problem` decrypts one stored value instead; it is a system check
(so every management command with checks refuses, with the message) and the WSGI
application calls it, with :func:`secret_problem`, before serving.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

#: Django's own warning threshold (``security.W009``) and its generated-key prefix.
MIN_SECRET_LENGTH = 32
INSECURE_PREFIX = "django-insecure"


def secret_problem(secret: str) -> str | None:
    if len(secret) < MIN_SECRET_LENGTH or secret.startswith(INSECURE_PREFIX):
        return (
            f"GONGHUI_SECRET_KEY 太弱（需至少 {MIN_SECRET_LENGTH} 个随机字符，且不能是 Django "
            '的 "django-insecure" 示例密钥）。可用 `python -c "import secrets; '
            'print(secrets.token_urlsafe(50))"` 生成；仅在开发时可设 GONGHUI_DEBUG=1 跳过。'
        )
    return None


def _sample_token() -> str | None:
    """One stored ciphertext, or None when there is none yet (or no table yet)."""
    from gonghui.members.models import Member

    try:
        # (The importer's "\x00pending" placeholders are never stored, and PostgreSQL
        # refuses a NUL in a query: filtering them out here hid every token there.)
        row = (
            Member.objects.exclude(id_number_enc="").values_list("id_number_enc", flat=True).first()
        ) or (Member.objects.exclude(phone_enc="").values_list("phone_enc", flat=True).first())
    except DatabaseError:  # before the first migrate, or no database yet
        return None
    return row or None


def key_problem() -> str | None:
    """Why the keys in force cannot read the stored data (or serve its look-ups)."""
    from . import crypto

    token = _sample_token()
    if token is not None:
        try:
            crypto._fernet().decrypt(token.encode())
        except InvalidToken:
            return (
                "GONGHUI_ENCRYPTION_KEY 无法解密数据库中已存储的身份证号/手机号：当前密钥与加密"
                "时所用的不一致。请设置原来的密钥（轮换时把新密钥加在最前面、逗号分隔，旧密钥保留，"
                "再运行 `gonghui rotate-key`）。"
            )
    try:
        crypto.hash_key_name()
    except ImproperlyConfigured as exc:
        return str(exc)
    return None


@checks.register("gonghui")
def check_encryption_key(**kwargs: Any) -> list[checks.CheckMessage]:
    problem = key_problem()
    return [checks.Error(problem, id="gonghui.E001")] if problem else []


def refuse_to_start() -> None:
    """Before serving: a weak secret in production (not DEBUG, not the demo), and keys
    that cannot read the data, stop the start with the message."""
    problems = []
    if not settings.DEBUG and not getattr(settings, "DEMO_MODE", False):
        problems.append(secret_problem(settings.SECRET_KEY))
    problems.append(key_problem())
    found = [p for p in problems if p]
    if found:
        raise ImproperlyConfigured("\n".join(found))
