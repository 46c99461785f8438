"""The union tree: placement rules, paths, the one-query subtree, move, archive."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditAction, AuditEntry
from gonghui.common.scope import grants
from gonghui.org import services
from gonghui.org.choices import UnionKind
from gonghui.org.models import Union, User, path_segment

from .. import factories as f
from ..conftest import World


def _fresh(user: User) -> User:
    """The user as a new request would load them (no cached grants)."""
    return User.objects.get(pk=user.pk)


def test_paths_and_depths_follow_the_tree(world: World) -> None:
    assert world.district.path == path_segment(world.district.pk)
    assert world.district.depth == 0
    assert world.school.path == world.district.path + path_segment(world.school.pk)
    assert world.school.depth == 1
    assert world.branch.depth == 2
    assert world.group.path == world.branch.path + path_segment(world.group.pk)
    assert world.group.depth == 3


@pytest.mark.parametrize(
    ("parent_kind", "kind"),
    [
        (None, UnionKind.FEDERATION),
        (None, UnionKind.UNION),
        (UnionKind.FEDERATION, UnionKind.FEDERATION),
        (UnionKind.FEDERATION, UnionKind.UNION),
        (UnionKind.UNION, UnionKind.BRANCH),
        (UnionKind.UNION, UnionKind.GROUP),
        (UnionKind.BRANCH, UnionKind.BRANCH),
        (UnionKind.BRANCH, UnionKind.GROUP),
    ],
)
def test_allowed_placements_are_created(world: World, parent_kind: str | None, kind: str) -> None:
    parents: dict[str, Union] = {
        UnionKind.FEDERATION: world.district,
        UnionKind.UNION: world.school,
        UnionKind.BRANCH: world.branch,
    }
    parent = parents[parent_kind] if parent_kind else None

    node = f.union("新组织", kind, parent)

    assert node.kind == kind
    assert node.parent == parent
    assert node.depth == (parent.depth + 1 if parent else 0)
    assert node.path == (parent.path if parent else "") + path_segment(node.pk)


@pytest.mark.parametrize(
    ("parent_kind", "kind", "message"),
    [
        (None, UnionKind.BRANCH, "分工会和工会小组必须有上级工会。"),
        (None, UnionKind.GROUP, "分工会和工会小组必须有上级工会。"),
        (UnionKind.FEDERATION, UnionKind.BRANCH, "总工会「区教育工会」下不能设分工会。"),
        (UnionKind.FEDERATION, UnionKind.GROUP, "总工会「区教育工会」下不能设工会小组。"),
        (UnionKind.UNION, UnionKind.UNION, "基层工会「第一中学工会」下不能设基层工会。"),
        (UnionKind.UNION, UnionKind.FEDERATION, "基层工会「第一中学工会」下不能设总工会。"),
        (UnionKind.BRANCH, UnionKind.UNION, "分工会「高中部分工会」下不能设基层工会。"),
        (UnionKind.GROUP, UnionKind.GROUP, "工会小组「高中语文组」下不能设工会小组。"),
    ],
)
def test_forbidden_placements_are_refused_in_chinese(
    world: World, parent_kind: str | None, kind: str, message: str
) -> None:
    parents: dict[str, Union] = {
        UnionKind.FEDERATION: world.district,
        UnionKind.UNION: world.school,
        UnionKind.BRANCH: world.branch,
        UnionKind.GROUP: world.group,
    }
    before = Union.objects.count()

    with pytest.raises(ServiceError) as exc:
        f.union("新组织", kind, parents[parent_kind] if parent_kind else None)

    assert exc.value.message_dict == {"parent": [message]}
    assert Union.objects.count() == before


def test_blank_name_is_refused(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        f.union("  ", UnionKind.GROUP, world.branch)
    assert exc.value.message_dict == {"name": ["请填写名称。"]}


def test_subtree_is_exactly_the_subtree_in_one_query(
    world: World, django_assert_num_queries
) -> None:
    # A deeper level and a sibling subtree, so that neither leaks in.
    deep = f.union("高一年级", UnionKind.GROUP, f.union("高一", UnionKind.BRANCH, world.branch))

    with django_assert_num_queries(1):
        nodes = list(Union.objects.subtree(world.branch))

    assert {n.name for n in nodes} == {"高中部分工会", "高中语文组", "高一", "高一年级"}
    assert deep in nodes
    with django_assert_num_queries(1):
        below = list(Union.objects.subtree(world.school, include_self=False))
    assert {n.name for n in below} == {
        "高中部分工会",
        "高中语文组",
        "高一",
        "高一年级",
        "初中部分工会",
        "初中数学组",
    }


def test_codes_are_unique_and_upper_case(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        f.union("另一个组", UnionKind.GROUP, world.branch, code=" yz ")
    assert exc.value.message_dict == {"code": ["代码「YZ」已被「第一中学工会」使用，请换一个。"]}

    with pytest.raises(ServiceError) as exc:
        services.union_update(actor=world.chair, union=world.branch, code="yzcz")
    assert exc.value.message_dict == {"code": ["代码「YZCZ」已被「初中部分工会」使用，请换一个。"]}

    node = f.union("无代码组", UnionKind.GROUP, world.branch)
    assert node.code == f"U{node.pk:04d}"
    renamed = services.union_update(actor=world.chair, union=node, code="gz-x")
    assert renamed.code == "GZ-X"


def test_rename_is_audited_with_old_and_new(world: World) -> None:
    services.union_update(actor=world.officer, union=world.branch, name=" 高中部 ", headcount=40)

    world.branch.refresh_from_db()
    assert world.branch.name == "高中部"
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE, union=world.branch)
    assert entry.actor == world.officer
    assert entry.union == world.branch
    assert entry.changes == {"名称": ["高中部分工会", "高中部"], "职工人数": [0, 40]}


def test_update_without_changes_writes_no_audit_row(world: World) -> None:
    before = AuditEntry.objects.count()
    services.union_update(actor=world.chair, union=world.branch, name="高中部分工会")
    assert AuditEntry.objects.count() == before


def test_term_end_before_start_is_refused(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        services.union_update(
            actor=world.chair,
            union=world.school,
            term_start=dt.date(2024, 9, 1),
            term_end=dt.date(2024, 8, 31),
        )
    assert exc.value.message_dict == {"term_end": ["任期结束日期不能早于开始日期。"]}


def test_officer_of_another_branch_cannot_rename_and_leaves_no_trace(world: World) -> None:
    before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied):
        services.union_update(actor=world.other_officer, union=world.branch, name="改名")
    world.branch.refresh_from_db()
    assert world.branch.name == "高中部分工会"
    assert AuditEntry.objects.count() == before


def test_branch_officer_creates_only_inside_their_branch(world: World) -> None:
    group = services.union_create(
        actor=world.officer, name="高中数学组", kind=UnionKind.GROUP, parent=world.branch
    )
    assert group.path.startswith(world.branch.path)
    with pytest.raises(PermissionDenied):
        services.union_create(
            actor=world.officer, name="初中英语组", kind=UnionKind.GROUP, parent=world.other_branch
        )
    with pytest.raises(PermissionDenied):
        services.union_create(
            actor=world.chair, name="新总工会", kind=UnionKind.FEDERATION, parent=None
        )


def test_move_rewrites_paths_and_depths_of_the_whole_subtree(world: World) -> None:
    district_chair = f.user("district_chair", world.district)
    sub = f.union("高一", UnionKind.BRANCH, world.branch)
    leaf = f.union("高一语文", UnionKind.GROUP, sub)

    # A branch (depth 2) goes under another branch (depth 3) of the other school.
    target = f.union("东校区分工会", UnionKind.BRANCH, world.other_school)
    services.union_move(actor=district_chair, union=world.branch, new_parent=target)

    branch, group, sub, leaf = (
        Union.objects.get(pk=n.pk) for n in (world.branch, world.group, sub, leaf)
    )
    assert branch.parent == target
    assert branch.path == target.path + path_segment(branch.pk)
    assert group.path == branch.path + path_segment(group.pk)
    assert sub.path == branch.path + path_segment(sub.pk)
    assert leaf.path == sub.path + path_segment(leaf.pk)
    assert (branch.depth, group.depth, sub.depth, leaf.depth) == (3, 4, 4, 5)
    # The rest of the tree is untouched and the old school no longer holds the subtree.
    assert set(Union.objects.subtree(world.school)) == {
        world.school,
        world.other_branch,
        world.other_group,
    }
    assert leaf in set(Union.objects.subtree(world.other_school))
    entry = AuditEntry.objects.get(action=AuditAction.MOVE)
    assert entry.actor == district_chair
    assert entry.changes == {"上级工会": ["第一中学工会", "东校区分工会"]}


def test_moved_subtree_changes_who_sees_its_members(world: World) -> None:
    from gonghui.members.queries import roster

    district_chair = f.user("district_chair", world.district)
    services.union_move(actor=district_chair, union=world.branch, new_parent=world.other_school)

    assert [m.name for m in roster(_fresh(world.chair))] == ["李四"]
    assert {m.name for m in roster(_fresh(world.outsider))} == {"张三", "王五"}


@pytest.mark.parametrize("target", ["branch", "group"])
def test_cannot_move_under_itself(world: World, target: str) -> None:
    with pytest.raises(ServiceError) as exc:
        services.union_move(
            actor=world.chair, union=world.branch, new_parent=getattr(world, target)
        )
    assert exc.value.message_dict == {"parent": ["不能移动到自身或自己的下级组织之下。"]}
    assert Union.objects.get(pk=world.group.pk).path == world.group.path


def test_move_needs_edit_rights_at_both_ends(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.union_move(actor=world.chair, union=world.branch, new_parent=world.other_school)
    assert Union.objects.get(pk=world.branch.pk).parent == world.school
    assert not AuditEntry.objects.filter(action=AuditAction.MOVE).exists()


def test_move_to_a_forbidden_place_is_refused(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        services.union_move(actor=None, union=world.branch, new_parent=world.district)
    assert exc.value.message_dict == {"parent": ["总工会「区教育工会」下不能设分工会。"]}


@pytest.fixture
def admin_branch(world: World) -> tuple[Union, Union, User]:
    """A branch of the school with a group and an officer, and no members yet."""
    branch = f.union("行政后勤分工会", UnionKind.BRANCH, world.school, code="YZXZ")
    group = f.union("行政组", UnionKind.GROUP, branch, code="YZXZXZ")
    return branch, group, f.user("admin_officer", branch)


def test_archive_takes_the_subtree_and_its_roles_out(
    world: World, admin_branch: tuple[Union, Union, User]
) -> None:
    branch, group, officer = admin_branch
    # Members who left do not hold the archive back; their records stay.
    gone = f.member(group, "赵六")
    from gonghui.members.services import member_change

    member_change(actor=None, member=gone, kind="transfer_out", date=dt.date(2024, 1, 1))

    services.union_archive(actor=world.chair, union=branch)

    assert set(Union.objects.filter(archived_at__isnull=False)) == {branch, group}
    assert set(Union.objects.active().subtree(world.school)) == {
        world.school,
        world.branch,
        world.group,
        world.other_branch,
        world.other_group,
    }
    entry = AuditEntry.objects.get(action=AuditAction.ARCHIVE)
    assert entry.actor == world.chair
    assert entry.union == branch
    assert "共 2 个" in entry.summary
    # The officer's role is at an archived node: it grants nothing any more.
    assert grants(_fresh(officer)).paths == {}
    with pytest.raises(ServiceError) as exc:
        f.union("新组", UnionKind.GROUP, branch)
    assert exc.value.message_dict == {
        "parent": ["上级工会「行政后勤分工会」已归档，不能在其下新建或移入。"]
    }


def test_archive_with_current_members_is_refused(world: World) -> None:
    with pytest.raises(ServiceError) as exc:
        services.union_archive(actor=world.chair, union=world.branch)
    assert "还有 1 名在册或保留会籍的会员" in exc.value.messages[0]
    assert not Union.objects.filter(archived_at__isnull=False).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.ARCHIVE).exists()


def test_restore_brings_the_subtree_back(
    world: World, admin_branch: tuple[Union, Union, User]
) -> None:
    branch, _, officer = admin_branch
    services.union_archive(actor=world.chair, union=branch)

    services.union_restore(actor=world.chair, union=branch)

    assert not Union.objects.filter(archived_at__isnull=False).exists()
    assert AuditEntry.objects.filter(action=AuditAction.RESTORE, union=branch).count() == 1
    assert grants(_fresh(officer)).paths != {}


def test_restore_under_an_archived_parent_is_refused(world: World) -> None:
    school = f.union("第三中学工会", UnionKind.UNION, world.district, code="SZ")
    branch = f.union("三中分工会", UnionKind.BRANCH, school)
    district_chair = f.user("district_chair", world.district)
    services.union_archive(actor=district_chair, union=branch)
    services.union_archive(actor=district_chair, union=school)

    with pytest.raises(ServiceError) as exc:
        services.union_restore(actor=district_chair, union=branch)
    assert exc.value.messages == ["上级「第三中学工会」已归档，请先恢复上级。"]


def test_root_cannot_be_archived_by_a_chair_but_by_a_superuser(db: None) -> None:
    root_node = f.union("市总工会", UnionKind.FEDERATION, None, code="SZGH")
    f.union("某公司工会", UnionKind.UNION, root_node)
    chair = f.user("city_chair", root_node)
    with pytest.raises(ServiceError) as exc:
        services.union_archive(actor=chair, union=root_node)
    assert exc.value.messages == ["不能归档最上级组织。"]
    assert not Union.objects.filter(archived_at__isnull=False).exists()

    root = User.objects.create_superuser("root", password=f.PASSWORD)
    services.union_archive(actor=root, union=root_node)
    assert Union.objects.filter(archived_at__isnull=True).count() == 0


def test_archive_by_an_officer_of_another_branch_is_denied(
    world: World, admin_branch: tuple[Union, Union, User]
) -> None:
    branch, _, _ = admin_branch
    with pytest.raises(PermissionDenied):
        services.union_archive(actor=world.other_officer, union=branch)
    assert not Union.objects.filter(archived_at__isnull=False).exists()
    assert not AuditEntry.objects.filter(action=AuditAction.ARCHIVE).exists()


def test_subtree_is_exact_under_a_collation_that_ignores_punctuation(world: World) -> None:
    """Production PostgreSQL databases often use a collation (glibc ``en_US.UTF-8``, ICU)
    that ignores punctuation when comparing; the subtree of a node must not depend on it."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite always compares text byte by byte")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cursor.execute(
            "CREATE COLLATION IF NOT EXISTS gonghui_test_shifted "
            "(provider = icu, locale = 'und-u-ka-shifted')"
        )
        cursor.execute(
            "ALTER TABLE org_union ALTER COLUMN path TYPE varchar(255) "
            'COLLATE "gonghui_test_shifted"'
        )
    below = set(Union.objects.subtree(world.school).values_list("name", flat=True))
    assert below == {"第一中学工会", "高中部分工会", "高中语文组", "初中部分工会", "初中数学组"}


def test_moving_and_archiving_a_node_is_its_parents_decision(world: World) -> None:
    from django.core.exceptions import PermissionDenied
    from django.urls import reverse

    from ..conftest import login

    with pytest.raises(PermissionDenied):
        services.union_move(actor=world.officer, union=world.branch, new_parent=world.other_school)
    with pytest.raises(PermissionDenied):
        services.union_archive(actor=world.officer, union=world.branch)
    page = login(world.officer).get(reverse("org:detail", args=[world.branch.pk]))
    assert "移动" not in page.content.decode() and "归档" not in page.content.decode()
    # Below their branch they decide: an empty group of theirs can be archived.
    group = services.union_create(
        actor=world.officer, name="空小组", kind=UnionKind.GROUP, parent=world.branch
    )
    services.union_archive(actor=world.officer, union=group)


def test_the_move_form_offers_only_allowed_parents(world: World) -> None:
    from gonghui.org.forms import MoveForm

    form = MoveForm(viewer=world.chair, union=world.group)
    offered = {u.name for u in form.fields["new_parent"].queryset}  # type: ignore[attr-defined]
    # A group goes under a union or a branch; not under a group, nor where it already is.
    assert offered == {"第一中学工会", "初中部分工会"}
