from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from gonghui.common.forms import DATE, Form, union_field
from gonghui.common.scope import Perm
from gonghui.members.forms import MemberField
from gonghui.org.models import User

from .choices import HonourKind, Level
from .models import Honour


class HonourForm(Form):
    kind = forms.ChoiceField(
        label="类型", choices=HonourKind.choices, initial=HonourKind.INDIVIDUAL
    )
    recipient = forms.CharField(
        label="获奖集体", max_length=100, required=False, help_text="集体荣誉填写，如「高三年级组」"
    )
    title = forms.CharField(
        label="荣誉称号", max_length=100, help_text="如「优秀教育工作者」「技术能手」"
    )
    level = forms.ChoiceField(label="级别", choices=Level.choices)
    awarded_by = forms.CharField(label="授予单位", max_length=100, required=False)
    date = forms.DateField(label="授予日期", widget=DATE, initial=dt.date.today)
    note = forms.CharField(label="备注", max_length=300, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(
            viewer=viewer, perm=Perm.HONOUR_EDIT, required=False, help_text="个人荣誉填写"
        )
        self.fields["union"] = union_field(
            viewer,
            Perm.HONOUR_EDIT,
            label="所属工会",
            required=False,
            empty_label="（个人荣誉不用选）",
        )
        self.fields["union"].help_text = "集体荣誉填写：获奖集体所在的工会组织"
        self.order_fields(["kind", "member", "recipient", "union", "title", "level"])

    @staticmethod
    def initial_of(honour: Honour) -> dict[str, Any]:
        """The form filled with ``honour``: a person's honour names the member (its
        获奖者 and 所属工会 follow from them), a collective its name and union."""
        initial: dict[str, Any] = {
            name: getattr(honour, name)
            for name in ("kind", "title", "level", "awarded_by", "date", "note")
        }
        if honour.kind == HonourKind.INDIVIDUAL:
            initial["member"] = honour.member
        else:
            initial.update(recipient=honour.recipient, union=honour.union)
        return initial

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        if data.get("kind") == HonourKind.INDIVIDUAL and not data.get("member"):
            self.add_error("member", "个人荣誉请填写获奖会员。")
        if data.get("kind") == HonourKind.COLLECTIVE:
            if not data.get("recipient"):
                self.add_error("recipient", "请填写获奖集体的名称。")
            if not data.get("union"):
                self.add_error("union", "请选择获奖集体所在的工会组织。")
        return data
