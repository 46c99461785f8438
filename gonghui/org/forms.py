from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from gonghui.common.forms import (
    DATE,
    ChineseErrorsMixin,
    Form,
    restrict_union_field,
    union_field,
)
from gonghui.common.scope import Perm

from .choices import ALLOWED_CHILDREN, Portfolio, Role, UnionKind
from .models import Union, User


class LoginForm(ChineseErrorsMixin, AuthenticationForm):
    # One message for an unknown name, a wrong password and a paused login: a different
    # answer would tell a stranger which accounts exist.
    error_messages = {
        "invalid_login": "登录名或密码不正确，或输错次数过多、登录已暂停几分钟。"
        "请核对后稍后再试；忘记密码请联系本工会主席重设。",
        "inactive": "该账号已停用，请联系本工会主席。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "登录名"
        self.fields["password"].label = "密码"

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        try:
            return super().clean()
        except forms.ValidationError:
            user = User.objects.filter(username__iexact=(username or "").strip()).first()
            password = self.cleaned_data.get("password") or ""
            # Only someone who knows the password learns that the account is disabled.
            if user is not None and not user.is_active and user.check_password(password):
                raise forms.ValidationError(
                    self.error_messages["inactive"], code="inactive"
                ) from None
            raise forms.ValidationError(
                self.error_messages["invalid_login"], code="invalid_login"
            ) from None


class UnionForm(Form):
    name = forms.CharField(label="名称", max_length=100)
    code = forms.CharField(
        label="代码", max_length=32, required=False, help_text="用于导入和命令行，留空自动生成"
    )
    kind = forms.ChoiceField(label="类型", choices=UnionKind.choices)
    headcount = forms.IntegerField(label="职工人数", min_value=0, required=False, initial=0)
    term_no = forms.IntegerField(label="届次", min_value=1, required=False)
    term_start = forms.DateField(label="本届任期开始", required=False, widget=DATE)
    term_end = forms.DateField(label="本届任期结束", required=False, widget=DATE)

    def __init__(self, *args: Any, viewer: User, editing: Union | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if editing is None:
            self.fields["parent"] = union_field(viewer, Perm.ORG_EDIT, label="上级工会")
            self.order_fields(["parent", "name", "kind"])
        else:
            del self.fields["kind"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("headcount") is None:
            data["headcount"] = 0
        start, end = data.get("term_start"), data.get("term_end")
        if start and end and end < start:
            self.add_error("term_end", "任期结束日期不能早于开始日期。")
        return data


class MoveForm(Form):
    def __init__(self, *args: Any, viewer: User, union: Union, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = union_field(viewer, Perm.ORG_EDIT, label="移到")
        restrict_union_field(field, union)
        # Offer only the places the move rules allow (a group never holds a group …).
        parents = [k for k, children in ALLOWED_CHILDREN.items() if union.kind in children]
        field.queryset = field.queryset.filter(kind__in=parents).exclude(  # type: ignore[union-attr]
            pk=union.parent_id
        )
        self.fields["new_parent"] = field


class UserCreateForm(Form):
    username = forms.CharField(
        label="登录名", max_length=150, help_text="字母、数字、汉字或工号，不含空格；登录时使用"
    )
    full_name = forms.CharField(label="姓名", max_length=50)
    password = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        min_length=8,
        help_text="至少 8 位，不能全是数字；请当面或电话告知本人，登录后可自行修改",
    )
    # The least powerful role is the default: a chair picks 主席 on purpose, never by accident.
    role = forms.ChoiceField(label="角色", choices=Role.choices, initial=Role.MEMBER)
    portfolio = forms.ChoiceField(
        label="分工（委员）",
        choices=Portfolio.choices,
        required=False,
        help_text="仅委员需要；组织委员可查看完整身份证号和手机号",
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(viewer, Perm.USERS_MANAGE, label="所在组织")
        self.order_fields(["username", "full_name", "password", "union", "role"])

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class RoleForm(Form):
    role = forms.ChoiceField(label="角色", choices=Role.choices, initial=Role.MEMBER)
    portfolio = forms.ChoiceField(
        label="分工（委员）",
        choices=Portfolio.choices,
        required=False,
        help_text="仅委员需要；组织委员可查看完整身份证号和手机号",
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(viewer, Perm.USERS_MANAGE, label="所在组织")
        self.order_fields(["union", "role", "portfolio"])


class PasswordForm(Form):
    password = forms.CharField(
        label="新密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        min_length=8,
        help_text="至少 8 位，不能全是数字",
    )
    password2 = forms.CharField(
        label="再输一次", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "两次输入的密码不一致。")
        if p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class OwnPasswordForm(PasswordForm):
    """Changing one's own password asks for the current one first, so that a session
    left open on a shared office computer cannot be turned into a takeover."""

    old_password = forms.CharField(
        label="当前密码", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    field_order = ["old_password", "password", "password2"]

    def clean_old_password(self) -> str:
        value: str = self.cleaned_data["old_password"]
        if self.user is None or not self.user.check_password(value):
            raise forms.ValidationError("当前密码不正确。")
        return value
