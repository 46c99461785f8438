"""Form pieces every app uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from .scope import Perm, visible

if TYPE_CHECKING:
    from gonghui.org.models import Union, User

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UnionChoiceField(forms.ModelChoiceField):
    """A union picked from the tree, indented by depth."""

    def label_from_instance(self, obj: Any) -> str:
        return "　" * obj.depth + obj.name


def union_field(
    viewer: User,
    perm: Perm,
    *,
    label: str = "所属工会",
    members_only: bool = False,
    required: bool = True,
    empty_label: str = "请选择",
) -> UnionChoiceField:
    """The live unions ``viewer`` may use ``perm`` on; ``members_only`` drops 总工会
    (members belong to a 基层工会, 分工会 or 小组)."""
    from gonghui.org.choices import UnionKind
    from gonghui.org.models import Union

    qs = visible(Union.objects.filter(archived_at__isnull=True), viewer, perm, via="")
    if members_only:
        qs = qs.exclude(kind=UnionKind.FEDERATION)
    return UnionChoiceField(
        queryset=qs.only("id", "name", "depth", "path").order_by("path"),
        label=label,
        required=required,
        empty_label=empty_label,
    )


def restrict_union_field(field: forms.Field, union: Union) -> None:
    """Drop ``union``'s own subtree from a union field (a node cannot move under itself)."""
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = field.queryset.exclude(path__startswith=union.path)  # type: ignore[union-attr]
