"""Building test data through the services, as the app itself does."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from gonghui.common.validators import with_check_digit
from gonghui.members import services as member_services
from gonghui.members.models import Member
from gonghui.org import services as org_services
from gonghui.org.choices import Role, UnionKind
from gonghui.org.models import Union, User

PASSWORD = "Test-pass-2024"
_seq = itertools.count(1)


def id_number(birth: dt.date = dt.date(1985, 6, 15), male: bool = True) -> str:
    """A valid, unique 身份证号."""
    n = next(_seq)
    order = (n * 2 + (1 if male else 0)) % 1000
    region = 330000 + (n // 500) % 1000
    return with_check_digit(f"{region:06d}{birth:%Y%m%d}{order:03d}")


def phone() -> str:
    return f"139{next(_seq):08d}"


def union(name: str, kind: str = UnionKind.GROUP, parent: Union | None = None, **kw: Any) -> Union:
    return org_services.union_create(actor=None, name=name, kind=kind, parent=parent, **kw)


def user(username: str, at: Union, role: str = Role.CHAIR, **kw: Any) -> User:
    return org_services.user_create(
        actor=None,
        username=username,
        full_name=username,
        password=PASSWORD,
        union=at,
        role=role,
        **kw,
    )


def member(at: Union, name: str = "张三", **kw: Any) -> Member:
    kw.setdefault("id_number", id_number())
    kw.setdefault("join_date", dt.date(2020, 3, 1))
    return member_services.member_create(actor=None, union=at, name=name, **kw)
