"""Personal numbers at rest: Fernet encryption, a keyed hash for look-ups, masking.

身份证号 and 手机号 are stored three ways: the Fernet token (``*_enc``), an HMAC of the
normalised value (``*_hash``) so duplicates are found with an index and without
decrypting, and a masked form (``*_masked``) for lists. The full value is decrypted only
on an explicit, audited request.

Keys: ``GONGHUI_ENCRYPTION_KEY`` holds one or more Fernet keys, newest first. New
tokens use the first; any may decrypt. The look-up hash uses a key derived from the
one the database names (``common.KeyState.hash_key_id``, a fingerprint), by default
the last (oldest): adding a key in front changes no stored hash, and duplicates are
still found. ``gonghui rotate-key`` re-encrypts every number with the newest key,
makes the hashes under it aside, and swaps them in with the fingerprint in one
transaction: after that the newest key serves both, and the old ones can be dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
from collections.abc import Sequence
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
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


def key_id(key: str) -> str:
    """A fingerprint of a Fernet key, safe to store: names the key, reveals nothing."""
    return hashlib.sha256(b"gonghui key id:" + key.encode()).hexdigest()[:16]


def derive_hash_key(key: str) -> bytes:
    return hmac.new(key.encode(), b"gonghui lookup v1", hashlib.sha256).digest()


#: How long a process trusts the hash key it read (a rotation's switch reaches every
#: server process within this time; rotate-key re-hashes what they wrote meanwhile).
HASH_KEY_TTL = 5.0
_hash_key_cache: tuple[float, tuple[str, ...], bytes] | None = None


def hash_key_name() -> str:
    """The configured key the look-up hashes are made with now."""
    from django.db import DatabaseError

    from .models import KeyState

    keys = list(settings.ENCRYPTION_KEYS)
    try:
        wanted = KeyState.objects.filter(pk=1).values_list("hash_key_id", flat=True).first()
    except DatabaseError:  # before the first migrate
        wanted = None
    if not wanted:
        return keys[-1]
    for key in keys:
        if key_id(key) == wanted:
            return key
    raise ImproperlyConfigured(
        "GONGHUI_ENCRYPTION_KEY 中缺少数据库查重所用的密钥（上次 `gonghui rotate-key` 换上的"
        f"那个，指纹 {wanted}）：请把它加回 GONGHUI_ENCRYPTION_KEY。"
    )


def _hash_key() -> bytes:
    global _hash_key_cache
    now = time.monotonic()
    keys = tuple(settings.ENCRYPTION_KEYS)
    cached = _hash_key_cache
    if cached is not None and cached[1] == keys and now - cached[0] < HASH_KEY_TTL:
        return cached[2]
    key = derive_hash_key(hash_key_name())
    _hash_key_cache = (now, keys, key)
    return key


def forget_hash_key() -> None:
    global _hash_key_cache
    _hash_key_cache = None


def hash_with(key: bytes, value: str, *, purpose: str) -> str:
    """:func:`lookup_hash` under a given hash key (for the rotation)."""
    return _Hmac(key).digest(f"{purpose}:{value}".encode()).hex() if value else ""


_hasher: _Hmac | None = None


def encrypt(value: str) -> str:
    """A Fernet token of ``value`` under the newest key (``""`` stays ``""``)."""
    return encrypt_many([value])[0] if value else ""


#: Plaintexts encrypted per pass of :func:`encrypt_many` (bounds the big integers).
_BATCH = 4096
_local = threading.local()


class _Hmac:
    """HMAC-SHA256 under one key, with the keyed inner and outer states computed once
    (RFC 2104): a third of the time of ``hmac.new`` or ``hmac.digest`` per message,
    which with OpenSSL 3 look the digest up again on every call."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def _ecb(key: str) -> tuple[_Hmac, CipherContext]:
    """The signer and an AES-ECB encryptor of Fernet key ``key``, for this thread
    (an OpenSSL context must not be shared between threads)."""
    cached = getattr(_local, "ecb", None)
    if cached is None or cached[0] != key:
        _fernet()  # validates the configured keys, with the Chinese message
        raw = base64.urlsafe_b64decode(key)
        encryptor = Cipher(algorithms.AES(raw[16:]), modes.ECB()).encryptor()
        cached = _local.ecb = (key, _Hmac(raw[:16]), encryptor)
    return cached[1], cached[2]


def encrypt_many(values: Sequence[str]) -> list[str]:
    """Fernet tokens of ``values`` (``""`` for an empty value), as :func:`encrypt` makes
    them, many times faster for a large batch.

    ``Fernet.encrypt`` sets up a new AES-CBC cipher for every token (half its time) and
    does the rest in Python; an import encrypts 200,000 numbers. Here the cipher is set
    up once: CBC is computed from one AES-ECB context (block i of the ciphertext is
    ``AES(plain_i XOR cipher_{i-1})``, the IV standing in for ``cipher_0``), over the
    same block of every token of the batch at once, the XOR done on whole batches as
    big integers. The output is byte for byte the standard format (version 0x80, time,
    random IV, AES-128-CBC with PKCS7 padding, HMAC-SHA256), so ``Fernet.decrypt``,
    ``MultiFernet.decrypt`` and ``MultiFernet.rotate`` accept it like any other token;
    each token still gets its own IV from ``os.urandom``.
    """
    signing, ecb = _ecb(settings.ENCRYPTION_KEYS[0])
    out = [""] * len(values)
    header = b"\x80" + int(time.time()).to_bytes(8, "big")
    # Plaintexts padded (PKCS7), grouped by length in blocks: a batch walks its
    # tokens block by block, all of the same length.
    by_blocks: dict[int, list[tuple[int, bytes]]] = {}
    for i, value in enumerate(values):
        if not value:
            continue
        data = value.encode()
        pad = 16 - len(data) % 16
        data += bytes((pad,)) * pad
        by_blocks.setdefault(len(data) // 16, []).append((i, data))
    sign = signing.digest
    encode = base64.urlsafe_b64encode
    for blocks, items in by_blocks.items():
        for start in range(0, len(items), _BATCH):
            batch = items[start : start + _BATCH]
            width = 16 * len(batch)
            ivs = os.urandom(width)
            previous = ivs
            ciphers: list[bytes] = []
            for b in range(blocks):
                plain = b"".join([data[16 * b : 16 * b + 16] for _, data in batch])
                mixed = int.from_bytes(plain, "big") ^ int.from_bytes(previous, "big")
                previous = ecb.update(mixed.to_bytes(width, "big"))
                ciphers.append(previous)
            for j, (i, _) in enumerate(batch):
                at = 16 * j
                body = header + ivs[at : at + 16] + b"".join([c[at : at + 16] for c in ciphers])
                out[i] = encode(body + sign(body)).decode()
    return out


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
    global _hasher
    key = _hash_key()
    hasher = _hasher
    if hasher is None or hasher.key != key:
        hasher = _hasher = _Hmac(key)
    return hasher.digest(f"{purpose}:{value}".encode()).hex()


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
