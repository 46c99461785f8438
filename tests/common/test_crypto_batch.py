"""Batched encryption (``crypto.encrypt_many``, used by imports) makes standard Fernet
tokens: the stock ``cryptography`` Fernet reads and rotates them like single ones."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.test import override_settings

from gonghui.common import crypto

OLD_KEY = settings.ENCRYPTION_KEYS[0]
NEW_KEY = Fernet.generate_key().decode()
VALUES = ["11010519491231002X", "13812345678", "", "a", "x" * 15, "y" * 16, "张三" * 9, "z" * 47]


@pytest.fixture(autouse=True)
def _fresh_keys() -> Iterator[None]:
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()
    yield
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()


def test_batched_tokens_are_standard_fernet_tokens() -> None:
    before = int(time.time())
    tokens = crypto.encrypt_many(VALUES)
    stock = Fernet(OLD_KEY.encode())
    for value, token in zip(VALUES, tokens, strict=True):
        if not value:
            assert token == ""
            continue
        assert stock.decrypt(token.encode()).decode() == value
        assert before <= stock.extract_timestamp(token.encode()) <= int(time.time())
        assert crypto.decrypt(token) == value == crypto.decrypt(crypto.encrypt(value))
    # Each token has its own random IV: the same number twice gives two tokens.
    again = crypto.encrypt_many(["11010519491231002X"] * 3)
    assert len(set(again)) == 3


def test_batched_tokens_rotate_like_single_ones(db: None) -> None:
    batched = crypto.encrypt_many(VALUES[:2])
    single = [crypto.encrypt(v) for v in VALUES[:2]]
    # A new key goes in front: old tokens still decrypt; new ones use the new key.
    crypto._fernet.cache_clear()
    with override_settings(ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        for token in batched + single:
            assert crypto.decrypt(token) in VALUES[:2]
        fresh = crypto.encrypt_many(VALUES[:2])
        assert [Fernet(NEW_KEY.encode()).decrypt(t.encode()).decode() for t in fresh] == VALUES[:2]
        with pytest.raises(InvalidToken):
            Fernet(OLD_KEY.encode()).decrypt(fresh[0].encode())
        # MultiFernet.rotate re-encrypts a batched token under the new key, as a single one.
        rotator = MultiFernet([Fernet(NEW_KEY.encode()), Fernet(OLD_KEY.encode())])
        for token in (batched[0], single[0]):
            rotated = rotator.rotate(token.encode())
            assert Fernet(NEW_KEY.encode()).decrypt(rotated).decode() == VALUES[0]
        # The look-up hash uses the oldest key: unchanged by the rotation.
        assert (
            crypto.lookup_hash("13812345678", purpose="phone")
            == hmac.new(
                hmac.new(OLD_KEY.encode(), b"gonghui lookup v1", hashlib.sha256).digest(),
                b"phone:13812345678",
                hashlib.sha256,
            ).hexdigest()
        )


def test_threads_encrypting_at_once_each_get_good_tokens() -> None:
    """The cipher context is per thread (web imports run in a thread beside requests)."""
    results: list[list[str]] = []

    def work() -> None:
        results.append(crypto.encrypt_many([f"1381234{i:04d}" for i in range(2000)]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stock = Fernet(OLD_KEY.encode())
    for tokens in results:
        assert [stock.decrypt(t.encode()).decode() for t in tokens[:50]] == [
            f"1381234{i:04d}" for i in range(50)
        ]
