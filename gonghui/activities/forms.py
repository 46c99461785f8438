from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from gonghui.common.forms import DATE, ConfirmOverCapMixin, Form, union_field
from gonghui.common.scope import Perm, visible
from gonghui.members.forms import MemberField
from gonghui.org.models import User

from .choices import Category
from .models import Club
from .services import ActivityFields, QuestionData

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ActivityForm(ConfirmOverCapMixin, Form):
    title = forms.CharField(label="活动名称", max_length=100, help_text="如「教职工气排球赛」")
    category = forms.ChoiceField(label="类别", choices=Category.choices)
    start_date = forms.DateField(label="开始日期", widget=DATE, initial=dt.date.today)
    end_date = forms.DateField(
        label="结束日期", widget=DATE, required=False, help_text="一天的活动可留空"
    )
    start_time = forms.TimeField(
        label="开始时间",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    place = forms.CharField(label="地点", max_length=100, required=False)
    capacity = forms.IntegerField(
        label="名额", required=False, min_value=1, help_text="留空为不限；报满后再报名的进入候补"
    )
    signup_opens = forms.DateTimeField(
        label="报名开始",
        required=False,
        widget=DATETIME,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    signup_closes = forms.DateTimeField(
        label="报名截止",
        required=False,
        widget=DATETIME,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    cost = forms.DecimalField(
        label="人均费用（元）",
        required=False,
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
    )
    hours = forms.DecimalField(
        label="学时", required=False, min_value=Decimal(0), max_digits=6, decimal_places=1,
        help_text="培训填写",
    )  # fmt: skip
    certificate = forms.BooleanField(label="颁发证书（培训）", required=False)
    description = forms.CharField(
        label="活动说明", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    note = forms.CharField(label="备注", max_length=300, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(viewer, Perm.ACTIVITY_EDIT, label="组织工会")
        self.fields["audience"] = union_field(
            viewer,
            Perm.ACTIVITY_VIEW,
            label="参加范围",
            required=False,
            empty_label="（同组织工会）",
        )
        self.fields["audience"].help_text = "该组织及其下级组织的会员可以报名"
        self.fields["club"] = forms.ModelChoiceField(
            label="限兴趣小组",
            required=False,
            empty_label="（不限）",
            queryset=visible(
                Club.objects.filter(archived_at__isnull=True), viewer, Perm.ACTIVITY_EDIT
            ),
            help_text="只允许该小组的成员报名",
        )
        self.order_fields(["union", "title", "category", "audience", "club"])

    def to_fields(self) -> ActivityFields:
        d = self.cleaned_data
        return ActivityFields(
            title=d["title"],
            category=d["category"],
            start_date=d["start_date"],
            end_date=d.get("end_date"),
            audience=d.get("audience"),
            club=d.get("club"),
            start_time=d.get("start_time"),
            place=d.get("place") or "",
            capacity=d.get("capacity"),
            signup_opens=d.get("signup_opens"),
            signup_closes=d.get("signup_closes"),
            cost=d.get("cost"),
            hours=d.get("hours"),
            certificate=bool(d.get("certificate")),
            description=d.get("description") or "",
            note=d.get("note") or "",
        )


class FilterForm(Form):
    start = forms.DateField(label="从", required=False, widget=DATE)
    end = forms.DateField(label="到", required=False, widget=DATE)
    category = forms.ChoiceField(
        label="类别", required=False, choices=[("", "全部"), *Category.choices]
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(
            viewer, Perm.ACTIVITY_VIEW, required=False, label="工会组织", empty_label="全部"
        )


class EnterForm(Form):
    """An officer signs a member up (or marks them present at the door)."""

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(viewer=viewer, perm=Perm.ROSTER_VIEW)


class ReasonForm(Form):
    reason = forms.CharField(label="原因", max_length=300)


class AwardForm(ConfirmOverCapMixin, Form):
    rank = forms.IntegerField(
        label="名次", min_value=1, max_value=999, help_text="1 为一等奖或第一名"
    )
    prize = forms.CharField(label="奖项", max_length=50, help_text="如：一等奖、优秀奖")
    prize_value = forms.DecimalField(
        label="奖品价值（元）",
        required=False,
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
    )
    team = forms.CharField(label="获奖团体", max_length=100, required=False, help_text="团体奖填写")

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"] = MemberField(
            viewer=viewer, perm=Perm.ROSTER_VIEW, required=False, help_text="个人奖填写"
        )
        self.order_fields(["member", "team", "rank", "prize", "prize_value"])


class ClubForm(Form):
    name = forms.CharField(label="名称", max_length=50, help_text="如「教工合唱队」")
    description = forms.CharField(label="简介", max_length=300, required=False)

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["union"] = union_field(viewer, Perm.ACTIVITY_EDIT, label="所属工会")
        self.fields["leader"] = MemberField(
            viewer=viewer, perm=Perm.ROSTER_VIEW, required=False, label="负责人"
        )
        self.order_fields(["union", "name", "leader"])


class QuizForm(Form):
    """The question bank as text an officer can type or paste: one question a block,
    its options on the lines below, the right ones marked with *."""

    pass_mark = forms.IntegerField(label="及格分（百分制）", min_value=0, max_value=100, initial=60)
    bank = forms.CharField(
        label="题库",
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="每道题一段，段与段之间空一行：第一行是题目，下面每行一个选项，正确选项前加 *。",
    )

    def clean_bank(self) -> list[QuestionData]:
        text = self.cleaned_data["bank"].replace("\r\n", "\n")
        questions = []
        for i, block in enumerate([b for b in text.split("\n\n") if b.strip()], 1):
            lines = [line.strip() for line in block.strip().split("\n") if line.strip()]
            if len(lines) < 3:
                raise forms.ValidationError(f"第 {i} 题至少要有题目和两个选项。")
            options = [line.lstrip("*＊").strip() for line in lines[1:]]
            answer = [j for j, line in enumerate(lines[1:]) if line[:1] in "*＊"]
            if not answer:
                raise forms.ValidationError(f"第 {i} 题没有标出正确选项（在选项前加 *）。")
            questions.append(QuestionData(lines[0], options, answer))
        if not questions:
            raise forms.ValidationError("请至少出一道题。")
        return questions


def bank_text(quiz: Any) -> str:
    """The question bank back as the text :class:`QuizForm` reads."""
    blocks = []
    for q in quiz.questions.all():
        lines = [q.text] + [("*" if i in q.answer else "") + o for i, o in enumerate(q.options)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
