from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.urls import reverse_lazy

from gonghui.common.forms import DATE, Form, union_field
from gonghui.common.scope import Perm
from gonghui.org.models import User

from .choices import TRANSITIONS, AgeBand, ChangeKind, EmploymentType, Gender, MemberStatus
from .models import Member
from .queries import RosterFilter
from .services import MemberFields, union_trail


class MemberForm(Form):
    """Create or edit a member. 身份证号 and 手机号 left blank on edit stay as they are."""

    name = forms.CharField(label="姓名", max_length=50)
    gender = forms.ChoiceField(
        label="性别", choices=[("", "由身份证号自动判断"), *Gender.choices], required=False
    )
    id_number = forms.CharField(
        label="身份证号",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="18 位，末位可为 X",
    )
    birth_date = forms.DateField(
        label="出生日期", required=False, widget=DATE, help_text="填写身份证号后自动得出"
    )
    phone = forms.CharField(
        label="手机号",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    employee_no = forms.CharField(label="工号", max_length=32, required=False)
    department = forms.CharField(label="部门", max_length=100, required=False)
    job_title = forms.CharField(label="职务", max_length=100, required=False)
    employment_type = forms.ChoiceField(label="用工形式", choices=EmploymentType.choices)
    ethnicity = forms.ChoiceField(label="民族", required=False)
    political_status = forms.ChoiceField(label="政治面貌", required=False)
    education = forms.ChoiceField(label="学历", required=False)
    work_start_date = forms.DateField(label="参加工作日期", required=False, widget=DATE)
    join_date = forms.DateField(label="入会日期", required=False, widget=DATE)
    card_no = forms.CharField(
        label="会员证号", max_length=32, required=False, help_text="留空则自动编号"
    )
    monthly_wage = forms.DecimalField(
        label="月工资（元）",
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text="会费基数，会费为其 0.5%",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )

    #: How the form is laid out: (heading, field names). Fields a form lacks are skipped.
    LAYOUT = (
        ("基本信息", ("name", "union", "id_number", "gender", "birth_date", "phone")),
        (
            "工作信息",
            ("employee_no", "department", "job_title", "employment_type", "work_start_date"),
        ),
        ("个人情况", ("ethnicity", "political_status", "education")),
        (
            "会籍",
            ("join_kind", "join_date", "registered_on", "other_org", "card_no", "monthly_wage"),
        ),
    )

    def __init__(self, *args: Any, viewer: User, member: Member | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.member = member
        self.fields["union"] = union_field(viewer, Perm.ROSTER_EDIT, members_only=True)
        self.order_fields(["name", "union"])
        for key in ("ethnicity", "political_status", "education"):
            field = self.fields[key]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "—"), *Member.field_choices(key)]
        if member is None:
            self.fields["join_kind"] = forms.ChoiceField(
                label="登记方式", choices=[(k, ChangeKind(k).label) for k in TRANSITIONS[""]]
            )
            self.fields["other_org"] = forms.CharField(
                label="转入来源", max_length=100, required=False, help_text="转入时填写原单位工会"
            )
            self.fields["registered_on"] = forms.DateField(
                label="转入日期",
                required=False,
                widget=DATE,
                help_text="转入时填写到本单位的日期（默认今天）；入会日期填最初入会的日期",
            )
        else:
            if member.id_number_masked:
                self.fields["id_number"].help_text = f"现为 {member.id_number_masked}，留空不改"
            if member.phone_masked:
                self.fields["phone"].help_text = f"现为 {member.phone_masked}，留空不改"
            self.fields["card_no"].help_text = ""
            self.fields["id_number"].widget.attrs["placeholder"] = "留空不改"
            self.fields["phone"].widget.attrs["placeholder"] = "留空不改"

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        placed = {name for _, names in self.LAYOUT for name in names}
        groups = [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in self.LAYOUT
        ]
        rest = [f for f in self.visible_fields() if f.name not in placed]
        if rest:
            groups.append(("其他", rest))
        return groups

    @classmethod
    def initial_for(cls, member: Member) -> dict[str, Any]:
        names = [
            "name",
            "gender",
            "birth_date",
            "employee_no",
            "department",
            "job_title",
            "employment_type",
            "ethnicity",
            "political_status",
            "education",
            "work_start_date",
            "join_date",
            "card_no",
            "monthly_wage",
        ]
        data = {n: getattr(member, n) for n in names}
        data["union"] = member.union_id
        return data

    def fields_for_service(self) -> MemberFields:
        data = dict(self.cleaned_data)
        for key in ("join_kind", "other_org", "registered_on"):
            data.pop(key, None)
        if self.member is not None:
            # Blank personal numbers on edit mean "leave as it is".
            for key in ("id_number", "phone"):
                if not data.get(key):
                    data.pop(key, None)
            if "id_number" not in data and self.member.id_number_enc:
                # Both follow the stored 身份证号.
                data.pop("birth_date", None)
                data.pop("gender", None)
        return MemberFields(**data)  # type: ignore[typeddict-item]


class ChangeForm(Form):
    """A membership change, asked in two steps: this form, then「确认将 某某 转出到 …？」
    (the view shows :meth:`question` and saves only a post that carries ``confirm``).

    The kind has no default, so that one click cannot transfer a member out; 转出 names
    where to (a union of the tree the viewer sees, or a unit outside the system), 退会
    a reason. The service takes a change without them: the importer and old records
    have none.
    """

    kind = forms.ChoiceField(label="变动类型")
    date = forms.DateField(label="日期", widget=DATE)
    other_org = forms.CharField(
        label="转出去向/转入来源",
        max_length=100,
        required=False,
        help_text="系统外的单位请写全称；转往本系统内的工会时在上面选择",
    )
    note = forms.CharField(
        label="原因/备注", max_length=200, required=False, help_text="退会须填写原因"
    )

    def __init__(self, *args: Any, member: Member, viewer: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.member = member
        allowed = TRANSITIONS[member.status]
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [("", "请选择"), *((k, ChangeKind(k).label) for k in allowed)]
        self.fields["date"].initial = dt.date.today()
        if ChangeKind.TRANSFER_OUT in allowed:
            to = union_field(
                viewer,
                Perm.ORG_VIEW,
                label="转往本系统内的工会",
                members_only=True,
                required=False,
                empty_label="（不在本系统内，在下面填写接收单位）",
            )
            to.queryset = to.queryset.exclude(pk=member.union_id)  # type: ignore[union-attr]
            self.fields["to_union"] = to
        self.order_fields(["kind", "date", "to_union", "other_org", "note"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        to, other = data.get("to_union"), (data.get("other_org") or "").strip()
        if kind == ChangeKind.TRANSFER_OUT:
            if to and other:
                self.add_error(
                    "other_org", "去向只填一处：选择系统内的接收工会，或填写系统外的接收单位。"
                )
            elif not to and not other:
                self.add_error(
                    "other_org",
                    "转出须写明去向：选择接收的工会，或填写系统外的接收单位。",
                )
        elif to:
            self.add_error("to_union", "只有转出时才选择接收的工会。")
        if data.get("date") and data["date"] > dt.date.today():
            # Before the confirmation step, so that it never asks about what the service
            # refuses anyway.
            self.add_error("date", "变动日期不能晚于今天。")
        if kind == ChangeKind.WITHDRAW and not (data.get("note") or "").strip():
            self.add_error("note", "退会须填写原因，如「本人申请退会」。")
        return data

    def destination(self) -> str:
        """Where the member goes (转出) or comes from, as the change records it."""
        to = self.cleaned_data.get("to_union")
        if to is None:
            return str(self.cleaned_data.get("other_org") or "").strip()
        trail = union_trail(to)
        return trail if len(trail) <= 100 else to.name

    def change_args(self) -> dict[str, Any]:
        """The service's arguments (``services.member_change``)."""
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "date": d["date"],
            "other_org": self.destination(),
            "note": d.get("note") or "",
        }

    def recorded(self) -> list[tuple[str, str]]:
        """What the change will record, for the confirmation step."""
        args = self.change_args()
        rows = [
            ("变动类型", ChangeKind(args["kind"]).label),
            ("日期", f"{args['date']:%Y-%m-%d}"),
            ("转出去向/转入来源", args["other_org"]),
            ("原因/备注", args["note"]),
        ]
        return [(label, value) for label, value in rows if value]

    def question(self) -> str:
        """The confirmation step's question."""
        d, name = self.cleaned_data, self.member.name
        if d["kind"] == ChangeKind.TRANSFER_OUT:
            return f"确认将 {name} 转出到「{self.destination()}」？"
        return f"确认为 {name} 办理「{ChangeKind(d['kind']).label}」？"


class MultipleChoice(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class RosterFilterForm(Form):
    q = forms.CharField(
        label="搜索",
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": "姓名、拼音首字母（如 zs）、工号或会员证号",
                "type": "search",
                "autocomplete": "off",
            }
        ),
    )
    status = MultipleChoice(label="状态", choices=MemberStatus.choices, required=False)
    employment_type = MultipleChoice(
        label="用工形式", choices=EmploymentType.choices, required=False
    )
    gender = forms.ChoiceField(
        label="性别", choices=[("", "全部"), *Gender.choices], required=False
    )
    age_band = forms.ChoiceField(
        label="年龄段", choices=[("", "全部"), *AgeBand.choices], required=False
    )
    as_of = forms.DateField(label="截至日期", required=False, widget=DATE)
    changed = MultipleChoice(label="期间变动", choices=ChangeKind.choices, required=False)
    changed_from = forms.DateField(label="变动起", required=False, widget=DATE)
    changed_to = forms.DateField(label="变动止", required=False, widget=DATE)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(
            viewer,
            Perm.ROSTER_VIEW,
            label="组织",
            required=False,
            empty_label="全部组织",
        )
        self.order_fields(["q", "union"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("as_of") and list(data.get("status") or []) != [MemberStatus.ACTIVE]:
            self.add_error(
                "as_of",
                "「截至日期」按会籍历史统计当日在册的会员，请只勾选状态「在册」一起使用。",
            )
        if (data.get("changed_from") or data.get("changed_to")) and not data.get("changed"):
            self.add_error("changed", "按变动日期筛选时，请勾选要统计的「期间变动」类型。")
        return data

    def to_filter(self) -> RosterFilter:
        data = (
            self.cleaned_data
            if self.is_valid()
            else {k: v for k, v in getattr(self, "cleaned_data", {}).items()}
        )
        return RosterFilter(
            q=data.get("q") or "",
            union=data.get("union"),
            status=list(data.get("status") or []),
            employment_type=list(data.get("employment_type") or []),
            gender=data.get("gender") or "",
            age_band=data.get("age_band") or "",
            as_of=data.get("as_of"),
            changed=list(data.get("changed") or []),
            changed_from=data.get("changed_from"),
            changed_to=data.get("changed_to"),
        )


class MemberLoginForm(Form):
    """A self-service login for a member: a login name and a first password."""

    username = forms.CharField(
        label="登录名", max_length=150, help_text="建议用工号或姓名拼音，登录时使用"
    )
    password = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        min_length=8,
        help_text="至少 8 位，不能全是数字；请当面告诉会员，并提醒其登录后修改",
    )

    def clean_password(self) -> str:
        from django.contrib.auth import password_validation

        password: str = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password


class MemberField(forms.CharField):
    """A member typed by name, 工号 or 会员证号, found in the viewer's scope.

    The ledgers (慰问, 补助, 捐款 …) name one member at a time; a ``<select>`` of a
    whole roster is no use on a phone. The box suggests members as one types
    (``members:suggest``, value ``姓名（会员证号）``); a bare name is accepted when it is
    unique in the viewer's scope, otherwise the error lists who was meant.
    """

    def __init__(self, *, viewer: User, perm: Perm, **kwargs: Any) -> None:
        kwargs.setdefault("label", "会员")
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault("help_text", "输入姓名、拼音首字母、工号或会员证号，从提示中选择")
        super().__init__(**kwargs)
        self.viewer = viewer
        self.perm = perm
        self.widget.attrs.update(
            {
                "autocomplete": "off",
                "list": "member-suggestions",
                "data-member-field": "1",
                "hx-get": reverse_lazy("members:suggest"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": "#member-suggestions",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Member):
            return member_label(value)
        return value

    def clean(self, value: Any) -> Member | None:
        from .queries import find_members

        text = super().clean(value)
        if not text:
            return None
        found = find_members(self.viewer, self.perm, text)
        if len(found) == 1:
            return found[0]
        if not found:
            raise forms.ValidationError(
                f"在您可以操作的范围内找不到「{text}」，请核对姓名、工号或会员证号。"
            )
        who = "；".join(member_label(m, union=True) for m in found[:5])
        more = f"等 {len(found)} 人" if len(found) > 5 else ""
        raise forms.ValidationError(
            f"「{text}」不止一人（{who}{more}），请从提示中选择或填写会员证号。"
        )


def member_label(member: Member, *, union: bool = False) -> str:
    """How a member is named in a lookup box: ``张三（HX0012）``, which finds them again."""
    code = member.card_no or member.employee_no
    text = f"{member.name}（{code}）" if code else member.name
    if union:
        text += f"，{member.union.name}"
    return text
