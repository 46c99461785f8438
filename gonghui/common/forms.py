"""Form pieces every app uses."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from html import escape
from typing import TYPE_CHECKING, Any

from django import forms
from django.core import validators
from django.forms.models import ModelChoiceIterator
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .scope import Perm, visible

if TYPE_CHECKING:
    from gonghui.org.models import Union, User

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def chinese_errors(form: forms.BaseForm) -> None:
    """Replace Django's generic messages (「这个字段是必填项。」) with ones that name the
    field and say what to do (「请填写姓名。」, 「请选择用工形式。」).

    Run on every field just before cleaning, so fields added in ``__init__`` are covered.
    """
    for name, field in form.fields.items():
        label = str(field.label or name)
        msgs = field.error_messages
        if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
            msgs["required"] = f"请选择{label}。"
            msgs["invalid_choice"] = f"请从列表中选择{label}。"
            msgs["invalid_list"] = f"请从列表中选择{label}。"
            if isinstance(field, UnionChoiceField):
                # An id outside the viewer's scope is refused like one that does not exist.
                msgs["invalid_choice"] = f"请从列表中选择{label}；只能选择您有权操作的组织。"
        else:
            msgs["required"] = f"请填写{label}。"
        if isinstance(field, forms.DateField):
            msgs["invalid"] = f"{label}不是有效的日期，请按 2024-03-05 的格式填写。"
        elif isinstance(field, forms.DecimalField | forms.FloatField):  # before IntegerField,
            msgs["invalid"] = f"{label}请填写数字。"  # their base class
        elif isinstance(field, forms.IntegerField):
            msgs["invalid"] = f"{label}请填写整数。"
        # Validators are shared between form instances: replace, never mutate.
        replaced: list[Any] = []
        for v in field.validators:
            if type(v) is validators.MaxLengthValidator:
                v = validators.MaxLengthValidator(
                    v.limit_value,
                    f"{label}最多 %(limit_value)d 个字（现为 %(show_value)d 个）。",
                )
            elif type(v) is validators.MinLengthValidator:
                v = validators.MinLengthValidator(
                    v.limit_value, f"{label}至少 %(limit_value)d 个字符（现为 %(show_value)d 个）。"
                )
            elif type(v) is validators.MinValueValidator:
                v = validators.MinValueValidator(
                    v.limit_value, f"{label}不能小于 %(limit_value)s。"
                )
            elif type(v) is validators.MaxValueValidator:
                v = validators.MaxValueValidator(
                    v.limit_value, f"{label}不能大于 %(limit_value)s。"
                )
            replaced.append(v)
        field.validators = replaced


class ChineseErrorsMixin:
    """Forms of the workbench: every message names its field, in Chinese (see
    :func:`chinese_errors`)."""

    def full_clean(self) -> None:
        assert isinstance(self, forms.BaseForm)
        chinese_errors(self)
        super().full_clean()  # type: ignore[misc]


class Form(ChineseErrorsMixin, forms.Form):
    """``forms.Form`` with Chinese messages that name the field."""


class ModelForm(ChineseErrorsMixin, forms.ModelForm):
    """``forms.ModelForm`` with Chinese messages that name the field."""


class ConfirmOverCapMixin(forms.Form):
    """A form whose service may refuse with ``OverCap``: the box that saves past the cap
    stays hidden until the service has said why (``web.add_errors_or_confirm``)."""

    confirm_over_cap = forms.BooleanField(
        label="已知超出标准，仍然保存", required=False, widget=forms.HiddenInput
    )

    def ask_to_confirm(self, warning: str) -> None:
        """Show the warning (``includes/over_cap.html``) and the box: first among the
        fields, or where the form's fieldsets put it (慰问: next to the amount)."""
        self.fields["confirm_over_cap"].widget = forms.CheckboxInput()
        self.order_fields(["confirm_over_cap"])
        self.over_cap_warning = warning


class UnionSelect(forms.Select):
    """A ``<select>`` of the union tree whose options are rendered in Python.

    A federation's tree has hundreds of nodes, and Django's template per option
    (``select_option.html``) cost more than the roster's queries on a 100,000-member
    list (bench/). Same HTML as ``forms.Select`` (a tree of unions has no optgroups and
    no per-option attributes).
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        selected = set(self.format_value(value))
        options = []
        for option_value, label in self.choices:
            v = "" if option_value is None else str(option_value)
            mark = " selected" if v in selected else ""
            selected.discard(v)  # as forms.Select: only the first match is selected
            options.append(f'<option value="{escape(v)}"{mark}>{escape(str(label))}</option>')
        return format_html(
            '<select name="{}"{}>\n  {}\n</select>',
            name,
            flatatt(self.build_attrs(self.attrs, attrs)),
            mark_safe("\n  ".join(options)),  # each part escaped above
        )


class UnionChoiceIterator(ModelChoiceIterator):
    """``(pk, indented name)`` straight from ``values_list``: no model instance per node."""

    def __iter__(self) -> Iterator[tuple[Any, str]]:
        if self.field.empty_label is not None:
            yield ("", str(self.field.empty_label))
        for pk, name, depth in self.queryset.values_list("pk", "name", "depth"):
            yield (pk, "　" * depth + name)


class UnionChoiceField(forms.ModelChoiceField):
    """A union picked from the tree, indented by depth."""

    widget = UnionSelect
    iterator = UnionChoiceIterator

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


#: How many ems of option text fit a drop-down in the narrowest cell of a form's grid
#: (``.fields``: 260 px columns, 15 px text, less the padding and the arrow).
ONE_COLUMN_EMS = 14


def text_ems(text: str) -> float:
    """About how wide ``text`` is, in ems: a Chinese character (or a full-width sign) is
    one, a Latin letter or digit about half."""
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text)


def needs_two_columns(field: forms.BoundField) -> bool:
    """Whether a drop-down's longest option would be cut off in one column of the form
    (「3 人：审核、批准、发放各由一人办理」): its field then takes two. Only fixed choices
    are measured; a list read from the database (unions) is not read a second time."""
    widget = field.field.widget
    if not isinstance(widget, forms.Select) or isinstance(field.field, forms.ModelChoiceField):
        return False
    choices = getattr(field.field, "choices", ())
    labels = [
        str(label)
        for _, label_or_group in choices
        for label in (
            [text for _, text in label_or_group]
            if isinstance(label_or_group, list | tuple)
            else [label_or_group]
        )
    ]
    return max((text_ems(label) for label in labels), default=0) > ONE_COLUMN_EMS
