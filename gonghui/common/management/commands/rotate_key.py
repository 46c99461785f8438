"""``gonghui rotate-key``: re-encrypt every personal number with the newest key of
``GONGHUI_ENCRYPTION_KEY`` and move the look-up hashes onto it.

Steps (each resumable: run the command again after an interruption):

1. Batch by batch of members, in one transaction each: every token not already under
   the newest key is re-encrypted (``MultiFernet.rotate``), and the hashes under the
   newest key are written aside (``common.RekeyHash``), with the live ones they were
   made from. The live hashes stay as they are, so duplicates are still found with
   the key in use; the position is kept in ``common.KeyState``.
2. One transaction: rows changed since their batch are made again, the hashes set
   aside replace the live ones in one UPDATE per column, and ``KeyState`` names the
   newest key as the hash key. Server processes pick it up within
   ``crypto.HASH_KEY_TTL`` seconds; after that wait, the rows written in the meantime
   are checked once more.

Afterwards the old keys may be removed from ``GONGHUI_ENCRYPTION_KEY``.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from gonghui.common import audit, crypto
from gonghui.common.models import AuditAction, KeyState, RekeyHash
from gonghui.members.models import Member

FIELDS = (("id_number", "id"), ("phone", "phone"))


class Command(BaseCommand):
    help = "用 GONGHUI_ENCRYPTION_KEY 中最新的密钥重新加密全部个人信息，并更新查重值。"
    # The check refuses keys that cannot read the data; this command must run with the
    # new key in front and the old ones behind, which it checks itself.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=2000, help="每批处理的会员数（默认 2000）")

    def handle(self, *args: Any, **opts: Any) -> None:
        keys = list(settings.ENCRYPTION_KEYS)
        newest = keys[0]
        target = crypto.key_id(newest)
        state = self._start(target)
        if state is None:
            self.stdout.write("数据已全部使用最新密钥，无需轮换。")
            return
        new_hash_key = crypto.derive_hash_key(newest)
        fernet = crypto._fernet()
        newest_only = Fernet(newest.encode())
        done = self._batches(state, opts["batch"], fernet, newest_only, new_hash_key)
        self.stdout.write(f"已重新加密 {done} 位会员的个人信息，正在切换查重密钥……")
        switched_at = self._swap(target, new_hash_key)
        crypto.forget_hash_key()
        # Another process may still hash with the old key for up to the TTL.
        time.sleep(crypto.HASH_KEY_TTL + 0.5)
        fixed = self._recheck(switched_at, new_hash_key)
        self.stdout.write(
            f"完成：查重值已改用最新密钥（指纹 {target}）"
            + (f"，切换期间写入的 {fixed} 条已重算" if fixed else "")
            + "。现在可以从 GONGHUI_ENCRYPTION_KEY 中去掉旧密钥。"
        )

    def _start(self, target: str) -> KeyState | None:
        with transaction.atomic():
            state, _ = KeyState.objects.select_for_update().get_or_create(pk=1)
            if (
                state.hash_key_id == target
                and not state.rotating_to
                and (not Member.objects.exists() or self._all_newest())
            ):
                return None
            if state.rotating_to != target:
                # A new rotation (or one to another key): start from the first member.
                RekeyHash.objects.all().delete()
                state.rotating_to, state.cursor = target, 0
                state.save()
            elif state.cursor:
                self.stdout.write(f"继续上次中断的轮换（从会员编号 {state.cursor} 之后开始）。")
        return state

    @staticmethod
    def _all_newest() -> bool:
        newest = Fernet(settings.ENCRYPTION_KEYS[0].encode())
        for token in Member.objects.exclude(id_number_enc="").values_list(
            "id_number_enc", flat=True
        )[:1]:
            try:
                newest.decrypt(token.encode())
            except InvalidToken:
                return False
        return True

    def _batches(
        self, state: KeyState, size: int, fernet: Any, newest: Fernet, hash_key: bytes
    ) -> int:
        done = 0
        cursor = state.cursor
        while True:
            with transaction.atomic():
                rows = list(
                    Member.objects.select_for_update()
                    .filter(pk__gt=cursor)
                    .order_by("pk")
                    .only("pk", *(f"{f}_{k}" for f, _ in FIELDS for k in ("enc", "hash")))[:size]
                )
                if not rows:
                    return done
                aside = []
                for m in rows:
                    shadow = RekeyHash(member_id=m.pk)
                    for name, purpose in FIELDS:
                        token = getattr(m, f"{name}_enc")
                        if not token:
                            continue
                        plain = fernet.decrypt(token.encode()).decode()
                        try:
                            newest.decrypt(token.encode())
                        except InvalidToken:
                            setattr(m, f"{name}_enc", fernet.rotate(token.encode()).decode())
                        setattr(
                            shadow,
                            f"{name}_hash",
                            crypto.hash_with(hash_key, plain, purpose=purpose),
                        )
                        setattr(shadow, f"from_{name}_hash", getattr(m, f"{name}_hash"))
                    aside.append(shadow)
                Member.objects.bulk_update(rows, ["id_number_enc", "phone_enc"])
                RekeyHash.objects.bulk_create(
                    aside,
                    update_conflicts=True,
                    unique_fields=["member_id"],
                    update_fields=[
                        "id_number_hash",
                        "phone_hash",
                        "from_id_number_hash",
                        "from_phone_hash",
                    ],
                )
                cursor = rows[-1].pk
                KeyState.objects.filter(pk=1).update(cursor=cursor)
                done += len(rows)
            self.stdout.write(f"  已处理 {done} 位（到会员编号 {cursor}）")

    def _swap(self, target: str, hash_key: bytes) -> Any:
        with transaction.atomic():
            KeyState.objects.select_for_update().get(pk=1)
            # Rows added or changed since their batch: made again now, under the lock.
            stale = Member.objects.exclude(
                pk__in=RekeyHash.objects.filter(
                    from_id_number_hash=Subquery(
                        Member.objects.filter(pk=OuterRef("member_id")).values("id_number_hash")
                    ),
                    from_phone_hash=Subquery(
                        Member.objects.filter(pk=OuterRef("member_id")).values("phone_hash")
                    ),
                ).values("member_id")
            )
            redo = list(stale.select_for_update())
            self._rehash(redo, hash_key, aside=True)
            for name, _ in FIELDS:
                # A row inserted meanwhile has nothing aside: it keeps its value, and the
                # re-check after the switch makes it again.
                Member.objects.update(
                    **{
                        f"{name}_hash": Coalesce(
                            Subquery(
                                RekeyHash.objects.filter(member_id=OuterRef("pk")).values(
                                    f"{name}_hash"
                                )[:1]
                            ),
                            F(f"{name}_hash"),
                        )
                    }
                )
            now = timezone.now() - dt.timedelta(seconds=2)
            KeyState.objects.filter(pk=1).update(hash_key_id=target, rotating_to="", cursor=0)
            RekeyHash.objects.all().delete()
            audit.record(
                actor=None,
                action=AuditAction.UPDATE,
                summary=f"轮换加密密钥：个人信息已用新密钥重新加密，查重值改用新密钥（指纹 {target}）",
            )
        return now

    def _rehash(self, rows: list[Member], hash_key: bytes, *, aside: bool) -> None:
        fernet = crypto._fernet()
        shadows = []
        for m in rows:
            shadow = RekeyHash(member_id=m.pk)
            for name, purpose in FIELDS:
                token = getattr(m, f"{name}_enc")
                value = ""
                if token:
                    plain = fernet.decrypt(token.encode()).decode()
                    value = crypto.hash_with(hash_key, plain, purpose=purpose)
                    setattr(m, f"{name}_enc", fernet.rotate(token.encode()).decode())
                setattr(shadow, f"{name}_hash", value)
                setattr(m, f"{name}_hash", value)
            shadows.append(shadow)
        fields = ["id_number_enc", "phone_enc", "id_number_hash", "phone_hash"]
        Member.objects.bulk_update(rows, fields)
        if aside:
            RekeyHash.objects.bulk_create(
                shadows,
                update_conflicts=True,
                unique_fields=["member_id"],
                update_fields=["id_number_hash", "phone_hash"],
            )

    def _recheck(self, since: Any, hash_key: bytes) -> int:
        """Rows written around the switch by a process that still used the old key."""
        with transaction.atomic():
            rows = list(Member.objects.select_for_update().filter(updated_at__gte=since))
            wrong = []
            fernet = crypto._fernet()
            for m in rows:
                for name, purpose in FIELDS:
                    token = getattr(m, f"{name}_enc")
                    plain = fernet.decrypt(token.encode()).decode() if token else ""
                    if getattr(m, f"{name}_hash") != crypto.hash_with(
                        hash_key, plain, purpose=purpose
                    ):
                        wrong.append(m)
                        break
            self._rehash(wrong, hash_key, aside=False)
        return len(wrong)
