"""Keys that cannot work refuse to start; ``gonghui rotate-key`` moves every number and
every look-up hash onto the newest key, resumably, with duplicates found throughout."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

import gonghui.settings as configured
from gonghui.common import crypto, keycheck
from gonghui.common.errors import ServiceError
from gonghui.common.management.commands import rotate_key
from gonghui.common.models import KeyState, RekeyHash
from gonghui.members import services as member_services
from gonghui.members.models import Member

from .. import clirun
from .. import factories as f
from ..conftest import World

OLD = settings.ENCRYPTION_KEYS[0]
NEW = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _fresh_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(crypto, "HASH_KEY_TTL", 0.0)
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()
    yield
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()


def _keys(*keys: str) -> override_settings:
    crypto._fernet.cache_clear()
    crypto.forget_hash_key()
    return override_settings(ENCRYPTION_KEYS=list(keys))


def _numbers() -> dict[int, tuple[str, str]]:
    fernet = crypto._fernet()
    return {
        m.pk: (
            fernet.decrypt(m.id_number_enc.encode()).decode(),
            fernet.decrypt(m.phone_enc.encode()).decode() if m.phone_enc else "",
        )
        for m in Member.objects.all()
    }


@pytest.mark.parametrize("bad", ["abc", "x" * 44, "YPh-UnEu2uo6PrDscDeCNGEfT9ci6RnpfECEeVPYHQ"])
def test_a_key_that_is_not_a_fernet_key_is_refused_always(bad: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="GONGHUI_ENCRYPTION_KEY 中的密钥不是有效的"):
        configured._check_fernet_keys([bad])
    with pytest.raises(ImproperlyConfigured, match="第 2 个密钥"):
        configured._check_fernet_keys([OLD, bad])


@pytest.mark.own_database
def test_the_command_line_refuses_a_bad_key_with_the_message(tmp_path: object) -> None:
    result = clirun.run(
        "check", environ=clirun.env(GONGHUI_ENCRYPTION_KEY="abc", GONGHUI_DEBUG="1")
    )
    assert result.returncode == 2
    assert "GONGHUI_ENCRYPTION_KEY" in result.stderr and "Fernet" in result.stderr


@pytest.mark.parametrize("secret", ["x", "short-secret", "django-insecure-" + "a" * 40])
def test_a_weak_secret_is_refused_in_production(db: None, secret: str) -> None:
    with (
        override_settings(SECRET_KEY=secret, DEBUG=False, DEMO_MODE=False),
        pytest.raises(ImproperlyConfigured, match="GONGHUI_SECRET_KEY 太弱"),
    ):
        keycheck.refuse_to_start()
    # Debug pages on (development) or the demo: allowed.
    with override_settings(SECRET_KEY=secret, DEBUG=True):
        keycheck.refuse_to_start()
    with override_settings(SECRET_KEY=secret, DEBUG=False, DEMO_MODE=True):
        keycheck.refuse_to_start()


def test_a_strong_secret_starts(db: None) -> None:
    with override_settings(SECRET_KEY="k" * 50, DEBUG=False, DEMO_MODE=False):
        keycheck.refuse_to_start()


def test_a_valid_but_wrong_key_is_detected(world: World) -> None:
    # Given members stored under the configured key,
    assert keycheck.key_problem() is None
    # when another valid Fernet key is set instead,
    with _keys(NEW):
        problem = keycheck.key_problem()
        errors = keycheck.check_encryption_key()
        with pytest.raises(ImproperlyConfigured, match="GONGHUI_ENCRYPTION_KEY 无法解密"):
            keycheck.refuse_to_start()
    # then the start is refused with a message naming the setting.
    assert problem is not None and "GONGHUI_ENCRYPTION_KEY 无法解密" in problem
    assert [e.id for e in errors] == ["gonghui.E001"]
    # With the new key in front and the old behind, the data is readable again.
    with _keys(NEW, OLD):
        assert keycheck.key_problem() is None


def _duplicate_refused(world: World, id_number: str) -> None:
    with pytest.raises(ServiceError, match="该身份证号已是"):
        member_services.member_create(
            actor=None, union=world.other_group, name="重名", id_number=id_number
        )


def test_rotate_key_round_trip(world: World) -> None:
    # Given a few members under the old key,
    f.member(world.group, "赵一", phone=f.phone())
    f.member(world.other_group, "钱二")
    before = _numbers()
    taken = before[world.member.pk][0]

    # when the new key is put in front and rotate-key runs in small batches,
    with _keys(NEW, OLD):
        call_command("rotate_key", batch=2)
        assert KeyState.objects.get().hash_key_id == crypto.key_id(NEW)
        assert not RekeyHash.objects.exists()

    # then with the new key alone every number reads as before,
    with _keys(NEW):
        assert keycheck.key_problem() is None
        assert _numbers() == before
        # duplicates are still found, by the hash under the new key,
        _duplicate_refused(world, taken)
        assert Member.objects.get(pk=world.member.pk).id_number_hash == crypto.hash_with(
            crypto.derive_hash_key(NEW), taken, purpose="id"
        )
    # and the old key alone no longer reads the data.
    with _keys(OLD):
        assert keycheck.key_problem() is not None


def test_an_interrupted_rotation_resumes_and_duplicates_are_found_meanwhile(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    f.member(world.group, "孙三")
    f.member(world.group, "李四四")
    before = _numbers()
    taken = before[world.member.pk][0]

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed before the switch")

    with _keys(NEW, OLD):
        monkeypatch.setattr(rotate_key.Command, "_swap", crash)
        with pytest.raises(RuntimeError):
            call_command("rotate_key", batch=2)
        state = KeyState.objects.get()
        assert state.rotating_to == crypto.key_id(NEW) and state.cursor > 0
        # Half-way: the live hashes are still those of the old hash key, and a new member
        # written now is checked against them.
        _duplicate_refused(world, taken)
        later = f.member(world.group, "周五")
        monkeypatch.undo()
        monkeypatch.setattr(crypto, "HASH_KEY_TTL", 0.0)

        call_command("rotate_key", batch=2)

    with _keys(NEW):
        numbers = _numbers()
        assert {pk: numbers[pk] for pk in before} == before
        assert later.pk in numbers
        _duplicate_refused(world, taken)
        _duplicate_refused(world, numbers[later.pk][0])


@pytest.mark.own_database
def test_the_wsgi_application_refuses_a_weak_secret() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import gonghui.wsgi"],
        env=clirun.env(GONGHUI_SECRET_KEY="x"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "GONGHUI_SECRET_KEY 太弱" in result.stderr
