"""Personas and a small tree shared by the tests.

区教育工会 (federation)
└── 第一中学工会 (union, A)           chair: ``chair``
    ├── 高中部分工会 (branch A1)       officer: ``officer`` (分工会主席)
    │   └── 高中语文组 (group)         member: ``member`` (logs in as 张三)
    └── 初中部分工会 (branch A2)       officer of another branch: ``other_officer``
        └── 初中数学组 (group)
└── 第二中学工会 (union, B)           chair of another union: ``outsider``
    └── 英语组 (group)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from gonghui.members.models import Member
from gonghui.members.services import member_link_user
from gonghui.org.choices import Role, UnionKind
from gonghui.org.models import Union, User

from . import factories as f


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, skip tests that never touch the suite's database: they run
    the real command on their own SQLite file, and the SQLite pass already ran them."""
    from django.db import connection

    if connection.vendor == "sqlite":
        return
    skip = pytest.mark.skip(reason="在子进程中使用自己的 SQLite 数据库，SQLite 轮次已运行")
    for item in items:
        if item.get_closest_marker("own_database"):
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _cache_per_process() -> Iterator[None]:
    """The file cache in the data folder is shared by every process on purpose (the
    server's workers); the test processes, each with its own database whose rows have
    the same ids, must not share it."""
    from django.test import override_settings

    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=local):
        yield


@pytest.fixture
def admin_on(settings: Any) -> Iterator[None]:
    """Django's admin served (GONGHUI_ADMIN=1) for one test; urls.py reads the setting."""
    import importlib

    from django.urls import clear_url_caches

    import gonghui.urls

    settings.GONGHUI_ADMIN = True
    importlib.reload(gonghui.urls)
    clear_url_caches()
    yield
    settings.GONGHUI_ADMIN = False
    importlib.reload(gonghui.urls)
    clear_url_caches()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, request: pytest.FixtureRequest
) -> None:
    """On SQLite, test in a file database, as gonghui runs (WAL, busy timeout, IMMEDIATE).

    Django's default for SQLite tests is a shared-cache in-memory database, where a
    third thread (the live server's background import) meets table locks that fail at
    once instead of waiting: a failure production never sees.
    """
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        return
    # One file per process: two test runs in the same checkout must not share one.
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    name = f"gonghui-test-{os.getpid()}-{worker}.sqlite3"
    db.setdefault("TEST", {})["NAME"] = str(Path(tempfile.gettempdir()) / name)


# Argon2 is the production hasher (see tests/org/test_auth.py); tests use a fast one.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    district: Union
    school: Union
    branch: Union
    group: Union
    other_branch: Union
    other_group: Union
    other_school: Union
    other_school_group: Union
    chair: User
    officer: User
    other_officer: User
    member_user: User
    outsider: User
    member: Member
    other_branch_member: Member
    other_school_member: Member


@pytest.fixture
def world(db: None) -> World:
    district = f.union("区教育工会", UnionKind.FEDERATION, None, code="QJY", headcount=500)
    school = f.union("第一中学工会", UnionKind.UNION, district, code="YZ", headcount=100)
    branch = f.union("高中部分工会", UnionKind.BRANCH, school, code="YZGZ")
    group = f.union("高中语文组", UnionKind.GROUP, branch, code="YZGZYW")
    other_branch = f.union("初中部分工会", UnionKind.BRANCH, school, code="YZCZ")
    other_group = f.union("初中数学组", UnionKind.GROUP, other_branch, code="YZCZSX")
    other_school = f.union("第二中学工会", UnionKind.UNION, district, code="EZ", headcount=80)
    other_school_group = f.union("英语组", UnionKind.GROUP, other_school, code="EZYY")

    member = f.member(group, "张三", phone=f.phone(), employee_no="T001")
    member_user = f.user("member", group, Role.MEMBER)
    member_link_user(actor=None, member=member, user=member_user)
    return World(
        district=district,
        school=school,
        branch=branch,
        group=group,
        other_branch=other_branch,
        other_group=other_group,
        other_school=other_school,
        other_school_group=other_school_group,
        chair=f.user("chair", school),
        officer=f.user("officer", branch),
        other_officer=f.user("other_officer", other_branch),
        member_user=member_user,
        outsider=f.user("outsider", other_school),
        member=member,
        other_branch_member=f.member(other_group, "李四"),
        other_school_member=f.member(other_school_group, "王五"),
    )


def login(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
