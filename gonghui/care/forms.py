from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.forms import formset_factory

from gonghui.common.forms import DATE, ConfirmOverCapMixin, Form, union_field
from gonghui.common.scope import Perm
from gonghui.members.forms import MemberField, MultipleChoice
from gonghui.org.models import User

from .choices import (
    CapEnforcement,
    CapItem,
    CapPreset,
    ClaimStatus,
    CoverageKind,
    DonorKind,
    FundSource,
    Recipient,
    SubsidyKind,
    VisitReason,
    VisitVariant,
)
from .choices import (
    VisitForm as VisitFormChoice,
)
from .queries import VisitFilter
from .services import Person

MONEY = forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"})


def money_field(label: str, *, required: bool = True, **kw: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        widget=MONEY,
        **kw,
    )


def today_field(label: str, **kw: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=DATE, initial=dt.date.today, **kw)


class VisitCreateForm(ConfirmOverCapMixin, Form):
    member = forms.CharField(required=False)  # replaced in __init__
    recipient = forms.ChoiceField(
        label="慰问对象",
        choices=[("", "按会员状态（保留会籍的记为退休职工）"), *Recipient.choices],
        required=False,
        help_text="慰问家属，或退休职工不在名册中时，在这里选择并填写姓名",
    )
    recipient_name = forms.CharField(
        label="被慰问人姓名",
        max_length=50,
        required=False,
        help_text="慰问家属或不在名册中的退休职工时填写",
    )
    relation = forms.CharField(label="与会员关系", max_length=20, required=False)
    date = today_field("慰问日期")
    reason = forms.ChoiceField(label="慰问事由", choices=VisitReason.choices)
    variant = forms.ChoiceField(
        label="细分",
        choices=VisitVariant.choices,
        required=False,
        help_text="住院是否手术、丧葬是会员本人还是直系亲属，标准不同",
    )
    form = forms.ChoiceField(label="慰问形式", choices=VisitFormChoice.choices)
    amount = money_field("金额（元）", help_text="现金金额，或慰问品的价值")
    goods = forms.CharField(label="慰问物品", max_length=200, required=False)
    visitors = forms.CharField(label="慰问人", max_length=200, required=False)
    note = forms.CharField(label="备注", max_length=500, required=False)
    photo = forms.FileField(
        label="照片",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(
            viewer=viewer, perm=Perm.CARE_EDIT, required=False, label="会员"
        )
        self.fields["union"] = union_field(
            viewer,
            Perm.CARE_EDIT,
            required=False,
            label="所属工会",
            members_only=True,
            empty_label="（按会员所在工会）",
        )
        self.fields["union"].help_text = "被慰问人不在名册中时选择"

    #: Laid out as the officer thinks of it: whom, what; then the rarer cases.
    LAYOUT = (
        (
            "慰问",
            ("member", "date", "reason", "variant", "form", "amount", "confirm_over_cap", "goods"),
        ),
        ("其他", ("visitors", "note", "photo")),
        ("慰问家属或名册外的退休职工", ("recipient", "recipient_name", "relation", "union")),
    )

    @property
    def fieldsets(self) -> list[tuple[str, list[Any]]]:
        return [
            (title, [self[name] for name in names if not self[name].is_hidden])
            for title, names in self.LAYOUT
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("member") or self.errors:
            return data
        if data.get("recipient") in ("", Recipient.MEMBER):
            self.add_error("member", "请填写被慰问的会员。")
        elif not data.get("union"):
            self.add_error("union", "被慰问人不在名册中时，请选择所属工会。")
        return data


class BatchForm(ConfirmOverCapMixin, Form):
    date = today_field("慰问日期")
    reason = forms.ChoiceField(
        label="慰问事由",
        choices=[
            (v, label)
            for v, label in VisitReason.choices
            if v in (VisitReason.FESTIVAL, VisitReason.SUMMER, VisitReason.OTHER)
        ],
        initial=VisitReason.FESTIVAL,
    )
    form = forms.ChoiceField(
        label="慰问形式", choices=VisitFormChoice.choices, initial=VisitFormChoice.GOODS
    )
    amount = money_field("每人金额（元）", help_text="现金金额，或每份慰问品的价值")
    goods = forms.CharField(label="慰问物品", max_length=200, required=False)
    visitors = forms.CharField(label="慰问人", max_length=200, required=False)
    note = forms.CharField(label="备注", max_length=500, required=False)
    include_retirees = forms.BooleanField(label="包括保留会籍的退休职工", required=False)
    #: What the preview showed (see :func:`batch_digest`): the batch is saved only if the
    #: form still says the same, else it is previewed again.
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    def digest(self) -> str:
        d = self.cleaned_data
        return batch_digest(
            d["union"].pk, d["date"], d["reason"], d["form"], d["amount"], d["include_retirees"]
        )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(
            viewer, Perm.CARE_EDIT, label="发放范围", members_only=True
        )
        self.fields["union"].help_text = "该组织及其全部下级组织的在册会员"
        self.order_fields(["union", "date", "reason", "form", "amount", "goods"])


def batch_digest(
    union_pk: int, date: dt.date, reason: str, form: str, amount: Any, include_retirees: bool
) -> str:
    """A short fingerprint of what a batch preview showed."""
    import hashlib

    text = f"{union_pk}|{date}|{reason}|{form}|{Decimal(str(amount)):.2f}|{include_retirees}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ReasonForm(Form):
    reason = forms.CharField(label="原因", max_length=300)


class PhotoForm(Form):
    photo = forms.FileField(
        label="照片", widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )


class VisitFilterForm(Form):
    q = forms.CharField(
        label="姓名",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "被慰问人姓名", "type": "search"}),
    )
    start = forms.DateField(label="从", required=False, widget=DATE)
    end = forms.DateField(label="到", required=False, widget=DATE)
    reason = MultipleChoice(label="慰问事由", choices=VisitReason.choices, required=False)
    recipient = MultipleChoice(label="慰问对象", choices=Recipient.choices, required=False)
    over_cap = forms.BooleanField(label="只看超标准的", required=False)
    states = forms.BooleanField(label="显示冲销记录", required=False)
    member = forms.IntegerField(required=False, widget=forms.HiddenInput)
    batch = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(
            viewer, Perm.CARE_VIEW, required=False, label="工会组织", empty_label="全部"
        )

    def to_filter(self) -> VisitFilter:
        self.is_valid()  # a refused filter (a union out of reach) drops out, not the rest
        d: dict[str, Any] = getattr(self, "cleaned_data", {})
        return VisitFilter(
            union=d.get("union"),
            start=d.get("start"),
            end=d.get("end"),
            reason=d.get("reason") or [],
            recipient=d.get("recipient") or [],
            q=d.get("q") or "",
            member=d.get("member"),
            over_cap=bool(d.get("over_cap")),
            batch=d.get("batch") or "",
            all_states=bool(d.get("states")),
        )


class StayForm(Form):
    admitted_on = today_field("住院日期")
    hospital = forms.CharField(label="医院", max_length=100, required=False)
    note = forms.CharField(label="备注", max_length=300, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(viewer=viewer, perm=Perm.CARE_EDIT)
        self.order_fields(["member"])


class DischargeForm(Form):
    discharged_on = today_field("出院日期")


# Hardship files -------------------------------------------------------------------------


def _hint(text: str, **attrs: str) -> dict[str, Any]:
    """A row of the household table names its cells itself (on a phone the table's
    header is hidden and each row stacks)."""
    return {"attrs": {"placeholder": text, "aria-label": text, **attrs}}


class PersonForm(Form):
    name = forms.CharField(
        label="姓名", max_length=50, required=False, widget=forms.TextInput(**_hint("姓名"))
    )
    relation = forms.CharField(
        label="关系",
        max_length=20,
        required=False,
        widget=forms.TextInput(**_hint("与会员关系，如本人、配偶")),
    )
    birth_year = forms.IntegerField(
        label="出生年份",
        required=False,
        min_value=1900,
        max_value=2100,
        widget=forms.NumberInput(**_hint("出生年份", inputmode="numeric")),
    )
    situation = forms.CharField(
        label="就业/健康/就学",
        max_length=100,
        required=False,
        widget=forms.TextInput(**_hint("就业、健康或就学情况")),
    )
    annual_income = forms.DecimalField(
        label="年收入（元）",
        required=False,
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(**_hint("年收入（元）", inputmode="decimal", step="0.01")),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("name") and not data.get("relation"):
            self.add_error("relation", f"请填写「{data['name']}」与会员的关系。")
        if not data.get("name") and (data.get("relation") or data.get("annual_income")):
            self.add_error("name", "请填写姓名。")
        return data


HouseholdFormSet = formset_factory(PersonForm, extra=2, max_num=20)


def household_from(formset: Any) -> list[Person]:
    people = []
    for form in formset.forms:
        d = form.cleaned_data
        if d.get("name"):
            people.append(
                Person(
                    name=d["name"],
                    relation=d.get("relation") or "",
                    annual_income=d.get("annual_income") or Decimal(0),
                    birth_year=d.get("birth_year"),
                    situation=d.get("situation") or "",
                )
            )
    return people


class FiguresForm(Form):
    other_income = money_field(
        "其他家庭收入（元/年）", required=False, help_text="租金、赡养费、各类补贴等"
    )
    expenses = money_field("刚性支出（元/年）", required=False, help_text="医疗、子女教育等")
    hardship_costs = money_field(
        "当年因灾因病支出（元）", required=False, help_text="用于认定意外致困"
    )
    multiple_homes = forms.BooleanField(label="拥有两套及以上住房", required=False)
    owns_business = forms.BooleanField(label="经营商铺或雇用他人", required=False)
    private_school = forms.BooleanField(label="子女就读高收费民办学校或自费留学", required=False)
    migrant_worker = forms.BooleanField(label="农民工", required=False)
    labour_since = forms.DateField(
        label="劳动关系起始日期", required=False, widget=DATE, help_text="农民工填写"
    )

    def figures(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "other_income": d.get("other_income") or Decimal(0),
            "expenses": d.get("expenses") or Decimal(0),
            "hardship_costs": d.get("hardship_costs") or Decimal(0),
            "multiple_homes": d.get("multiple_homes", False),
            "owns_business": d.get("owns_business", False),
            "private_school": d.get("private_school", False),
            "migrant_worker": d.get("migrant_worker", False),
            "labour_since": d.get("labour_since"),
        }


class HardshipOpenForm(FiguresForm):
    opened_on = today_field("建档日期")
    cause = forms.CharField(
        label="致困原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(viewer=viewer, perm=Perm.CARE_EDIT)
        self.order_fields(["member", "opened_on", "cause"])


class HardshipReviewForm(FiguresForm):
    date = today_field("复核日期")
    note = forms.CharField(label="复核意见", max_length=300, required=False)
    field_order = ["date", "note"]


class CloseForm(Form):
    date = today_field("脱档日期")
    reason = forms.CharField(
        label="脱档原因", max_length=300, help_text="如：子女就业，家庭收入提高"
    )


# Subsidies ------------------------------------------------------------------------------


ATTACHMENT_ACCEPT = "image/*,application/pdf,.pdf"


def _checked_attachment(upload: Any) -> Any:
    """The upload, refused here (before anything is written) when it is no image or PDF."""
    from django.core.exceptions import ValidationError

    from .services import check_attachment

    if upload:
        try:
            check_attachment(upload)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
    return upload


class SubsidyApplyForm(Form):
    """Self-service: a member applies for themself."""

    kind = forms.ChoiceField(label="补助类型", choices=SubsidyKind.choices)
    amount = money_field("申请金额（元）")
    reason = forms.CharField(
        label="申请理由", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    attachment = forms.FileField(
        label="附件",
        required=False,
        help_text="医院票据、证明等的照片或 PDF（可不传，提交后也可补传）",
        widget=forms.ClearableFileInput(attrs={"accept": ATTACHMENT_ACCEPT}),
    )

    def clean_attachment(self) -> Any:
        return _checked_attachment(self.cleaned_data.get("attachment"))


class AttachmentForm(Form):
    attachment = forms.FileField(
        label="附件", widget=forms.ClearableFileInput(attrs={"accept": ATTACHMENT_ACCEPT})
    )

    def clean_attachment(self) -> Any:
        return _checked_attachment(self.cleaned_data.get("attachment"))


class SubsidyCreateForm(SubsidyApplyForm):
    """An officer records an application on a member's behalf."""

    source = forms.ChoiceField(label="资金来源", choices=FundSource.choices)
    applied_on = today_field("申请日期")

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(viewer=viewer, perm=Perm.CARE_EDIT)
        self.order_fields(["member"])


class NoteForm(Form):
    note = forms.CharField(label="意见", max_length=500, required=False)


class ApproveForm(ConfirmOverCapMixin, Form):
    amount = money_field("批准金额（元）", required=False, help_text="留空则按申请金额")
    note = forms.CharField(label="意见", max_length=500, required=False)


class PayForm(Form):
    amount = money_field("发放金额（元）", required=False, help_text="留空则按批准金额")
    paid_on = today_field("发放日期")
    note = forms.CharField(label="备注", max_length=500, required=False)


# Donations ------------------------------------------------------------------------------


class DriveForm(Form):
    name = forms.CharField(label="活动名称", max_length=100, help_text="如「2024年慈善一日捐」")
    purpose = forms.CharField(label="捐款用途", max_length=300, required=False)
    beneficiary = forms.CharField(label="受助对象", max_length=100, required=False)
    start_date = today_field("开始日期")
    end_date = forms.DateField(label="结束日期", required=False, widget=DATE)
    note = forms.CharField(label="备注", max_length=500, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(viewer, Perm.CARE_EDIT, label="发起工会")
        self.order_fields(["union"])


class DonationForm(Form):
    donor_kind = forms.ChoiceField(
        label="捐款人", choices=DonorKind.choices, initial=DonorKind.MEMBER
    )
    donor_name = forms.CharField(
        label="捐款人/单位名称", max_length=100, required=False, help_text="非会员或单位捐款时填写"
    )
    amount = money_field("金额（元）")
    date = today_field("捐款日期")
    note = forms.CharField(label="备注", max_length=300, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(viewer=viewer, perm=Perm.CARE_VIEW, required=False)
        self.order_fields(["donor_kind", "member", "donor_name"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if (
            data.get("donor_kind") == DonorKind.MEMBER
            and not data.get("member")
            and "member" not in self.errors
        ):
            self.add_error("member", "请填写捐款的会员。")
        return data


class DonationFilterForm(Form):
    start = forms.DateField(label="从", required=False, widget=DATE)
    end = forms.DateField(label="到", required=False, widget=DATE)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(
            viewer, Perm.CARE_VIEW, required=False, label="工会组织", empty_label="全部"
        )


# Coverage -------------------------------------------------------------------------------


class ProgrammeForm(Form):
    year = forms.IntegerField(label="年度", initial=lambda: dt.date.today().year, min_value=2000)
    kind = forms.ChoiceField(label="类型", choices=CoverageKind.choices)
    name = forms.CharField(label="项目名称", max_length=100, help_text="如「职工综合医疗保障」")
    provider = forms.CharField(label="承办机构", max_length=100, required=False)
    premium = money_field("每人费用（元）", required=False)
    note = forms.CharField(label="备注", max_length=500, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(viewer, Perm.CARE_EDIT, label="组织工会")
        self.fields["union"].help_text = "该组织及其下级组织的在册会员可以参保"
        self.order_fields(["union"])


class EnrolForm(Form):
    enrolled_on = today_field("参保日期")

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(
            viewer=viewer, perm=Perm.CARE_EDIT, required=False, help_text="留空则全体在册会员参保"
        )
        self.order_fields(["member"])


class ClaimForm(Form):
    date = today_field("申报日期")
    amount = money_field("申报金额（元）")
    note = forms.CharField(label="说明", max_length=300, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(viewer=viewer, perm=Perm.CARE_EDIT)
        self.order_fields(["member"])


class ClaimDecideForm(Form):
    status = forms.ChoiceField(
        label="结果",
        choices=[(ClaimStatus.PAID, "已赔付"), (ClaimStatus.REJECTED, "未获赔")],
    )
    paid_amount = money_field("赔付金额（元）", required=False, help_text="留空则按申报金额")
    decided_on = today_field("处理日期")
    note = forms.CharField(label="说明", max_length=300, required=False)


# Policy ---------------------------------------------------------------------------------


class PolicyForm(Form):
    preset = forms.ChoiceField(label="标准", choices=CapPreset.choices)
    enforcement = forms.ChoiceField(label="超标时", choices=CapEnforcement.choices)
    festival_goods_only = forms.BooleanField(
        label="节日慰问只发实物（不发现金、购物卡、购物券）", required=False
    )
    birthday_cake_only = forms.BooleanField(
        label="生日慰问只发蛋糕或蛋糕券（不发现金）", required=False
    )
    dibao_line = money_field(
        "当地低保标准（元/月）", required=False, help_text="困难职工建档认定用"
    )
    winners_share = forms.DecimalField(
        label="获奖面",
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal(1),
        decimal_places=2,
        help_text="文体活动获奖人数不超过参加人数的这一比例，如 0.33（三分之一）；留空不限",
    )
    min_handlers = forms.TypedChoiceField(
        label="补助最少经手人数",
        coerce=int,
        choices=[
            (3, "3 人：审核、批准、发放各由一人办理"),
            (2, "2 人（很小的工会）：审核人可兼发放"),
        ],
        initial=3,
        help_text="分工会、工会小组不能少于基层工会的规定",
    )
    accident_ratio = forms.DecimalField(
        label="意外致困比例",
        min_value=Decimal("0.01"),
        max_value=Decimal(5),
        decimal_places=2,
        help_text="当年因灾因病支出超过家庭收入的这一比例，认定为意外致困",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in CapItem.choices:
            self.fields[f"cap_{value}"] = money_field(
                label, required=False, help_text="留空则按所选标准"
            )

    def overrides(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            value: str(d[f"cap_{value}"])
            for value in CapItem.values
            if d.get(f"cap_{value}") is not None
        }
