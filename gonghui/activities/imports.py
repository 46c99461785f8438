"""文体活动 in Excel: a year's activities, and the attendance taken on paper.

Activities: 活动名称, 类别, 开始日期, 结束日期, 组织工会, 地点, 学时, 备注 (an activity
already recorded — same union, name and first day — is unchanged). Attendance:
活动名称, 日期, the member columns (身份证号, 工号 or 会员证号, or a name unique in the
union), 状态 (签到 / 缺席); a member already marked so is unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from gonghui.common.imports.columns import Column, ColumnType, ImportSpec, register
from gonghui.common.imports.engine import Context, Plan, Row
from gonghui.common.imports.normalize import clean_text
from gonghui.common.imports.progress import Progress
from gonghui.common.scope import Perm, visible
from gonghui.members.matching import MEMBER_COLUMNS, MemberMatcher, member_cells
from gonghui.org.models import Union, subtree_q

from . import services
from .choices import ActivityStatus, Category, RegSource, RegStatus
from .models import Activity, Registration

CATEGORY = Column(
    "category",
    "类别",
    ColumnType.CHOICE,
    aliases=("活动类别", "类型", "活动类型"),
    required=True,
    choices=tuple(Category.choices),
    choice_aliases={
        "体育活动": "sports",
        "运动": "sports",
        "比赛": "sports",
        "文艺活动": "arts",
        "演出": "arts",
        "文艺汇演": "arts",
        "培训班": "training",
        "学习": "training",
        "讲座": "training",
        "读书": "reading",
        "征文": "reading",
        "读书征文": "reading",
        "竞赛": "quiz",
        "知识竞答": "quiz",
        "参观": "outing",
        "疗休养": "outing",
        "春游": "outing",
        "秋游": "outing",
        "节日": "festival",
        "联欢": "festival",
        "志愿": "volunteer",
        "志愿者": "volunteer",
    },
    example="体育",
    width=10,
)

ACTIVITY_COLUMNS: tuple[Column, ...] = (
    Column(
        "title",
        "活动名称",
        aliases=("活动", "名称", "项目"),
        required=True,
        max_length=100,
        example="教职工气排球赛",
        width=20,
    ),
    CATEGORY,
    Column(
        "start_date",
        "开始日期",
        ColumnType.DATE,
        aliases=("日期", "活动日期", "时间"),
        required=True,
        example="2024-05-10",
        width=12,
    ),
    Column("end_date", "结束日期", ColumnType.DATE, example="", width=12, note="一天的活动可留空"),
    Column(
        "union",
        "组织工会",
        ColumnType.LOOKUP,
        aliases=("所属工会", "工会", "组织单位"),
        example="第一中学工会",
        width=18,
        note="名称或代码；留空则为导入时选择的工会",
    ),
    Column("place", "地点", aliases=("活动地点",), max_length=100, example="学校体育馆", width=14),
    Column(
        "hours",
        "学时",
        ColumnType.DECIMAL,
        aliases=("课时", "培训学时"),
        example="",
        width=8,
        note="培训填写",
    ),
    Column("note", "备注", aliases=("说明",), max_length=300, example="", width=16),
)

ATTENDANCE_COLUMNS: tuple[Column, ...] = (
    Column(
        "activity",
        "活动名称",
        aliases=("活动", "名称", "项目"),
        required=True,
        max_length=100,
        example="教职工气排球赛",
        width=20,
    ),
    Column(
        "date",
        "日期",
        ColumnType.DATE,
        aliases=("活动日期", "签到日期"),
        required=True,
        example="2024-05-10",
        width=12,
    ),
    *MEMBER_COLUMNS,
    Column(
        "status",
        "状态",
        ColumnType.CHOICE,
        aliases=("签到", "出勤"),
        choices=((RegStatus.ATTENDED, "签到"), (RegStatus.ABSENT, "缺席")),
        choice_aliases={
            "已签到": "attended",
            "到": "attended",
            "出席": "attended",
            "参加": "attended",
            "√": "attended",
            "是": "attended",
            "未到": "absent",
            "缺": "absent",
            "请假": "absent",
            "否": "absent",
        },
        example="签到",
        width=8,
        note="留空为签到",
    ),
)


def _today() -> Any:
    import datetime as dt

    return dt.date.today()


@register
class ActivityImport(ImportSpec):
    kind = "activities"
    label = "活动"
    columns = ACTIVITY_COLUMNS
    sheet_hints = ("活动", "文体", "培训")
    perm = Perm.ACTIVITY_EDIT
    view_perm = Perm.ACTIVITY_VIEW
    union_column = "union"
    notes = (
        "每行一个活动；同一工会、同名、同一开始日期的活动已登记过的会被跳过。",
        "类别请按下拉选项填写；培训请填写学时。",
        "整个文件全部正确才会导入；有任何一行出错都不会写入。",
    )

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        qs: QuerySet[Union] = Union.objects.filter(archived_at__isnull=True)
        if ctx.actor is not None:
            qs = visible(qs, ctx.actor, self.perm, via="")
        if ctx.default_union is not None:
            qs = qs.filter(subtree_q(ctx.default_union.path))
        in_reach = list(qs)
        by_code = {u.code.upper(): u for u in in_reach}
        by_name: dict[str, list[Union]] = defaultdict(list)
        for u in in_reach:
            by_name[clean_text(u.name)].append(u)
        plan = services.ImportPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=len(rows), payload=plan)
        existing = set(
            Activity.objects.filter(union__in=in_reach).values_list(
                "union_id", "title", "start_date"
            )
        )
        seen: dict[tuple[Any, ...], int] = {}
        for row in rows:
            v = row.values
            name = v.get("union") or ""
            union = ctx.default_union
            if name:
                union = by_code.get(name.upper())
                if union is None:
                    found = by_name.get(name, [])
                    if len(found) == 1:
                        union = found[0]
                    elif found:
                        ctx.error(row, "union", f"名称为「{name}」的组织不止一个，请改写代码")
                        continue
                    else:
                        ctx.error(row, "union", f"找不到「{name}」，或不在您可以导入的范围内")
                        continue
            if union is None:
                ctx.error(row, "union", "请填写组织工会")
                continue
            end = v.get("end_date") or v["start_date"]
            if end < v["start_date"]:
                ctx.error(row, "end_date", "早于开始日期")
                continue
            hours = v.get("hours")
            if hours is not None and hours < 0:
                ctx.error(row, "hours", "不能为负数")
                continue
            key = (union.pk, v["title"], v["start_date"])
            if key in seen:
                ctx.error(row, None, f"与第{seen[key]}行重复")
                continue
            seen[key] = row.number
            if key in existing:
                result.unchanged += 1
                continue
            plan.activities.append(
                (
                    Activity(
                        union=union,
                        audience=union,
                        title=v["title"],
                        category=v["category"],
                        start_date=v["start_date"],
                        end_date=end,
                        place=v.get("place") or "",
                        hours=Decimal(hours) if hours is not None else None,
                        note=v.get("note") or "",
                        status=ActivityStatus.OPEN,
                    ),
                    union,
                )
            )
            result.created += 1
        return result

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        services.activities_import(actor=ctx.actor, plan=plan.payload)

    def export_base(self) -> QuerySet[Activity]:
        return Activity.objects.all()

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        keys = [c.key for c in columns]
        labels = dict(Category.choices)
        for a in qs.select_related("union").order_by("start_date", "id").iterator(2000):
            cells = {
                "title": a.title,
                "category": labels[a.category],
                "start_date": a.start_date,
                "end_date": a.end_date,
                "union": a.union.code,
                "place": a.place,
                "hours": a.hours,
                "note": a.note,
            }
            yield [cells.get(k, "") for k in keys]


@register
class AttendanceImport(ImportSpec):
    kind = "attendance"
    label = "签到记录"
    columns = ATTENDANCE_COLUMNS
    sheet_hints = ("签到", "考勤", "参加")
    perm = Perm.ACTIVITY_EDIT
    view_perm = Perm.ACTIVITY_VIEW
    notes = (
        "「活动名称」和「日期」须对应系统中已有的活动（日期在活动的起止日期之内）。",
        "每行的会员用身份证号、工号、会员证号中任一项确定；只填姓名时须在导入范围内唯一。",
        "整个文件全部正确才会导入；有任何一行出错都不会写入。",
    )

    def check(self, rows: list[Row], ctx: Context, progress: Progress) -> Plan:
        acts = Activity.objects.filter(status=ActivityStatus.OPEN).select_related(
            "audience", "club", "union"
        )
        if ctx.actor is not None:
            acts = visible(acts, ctx.actor, self.perm)
        if ctx.default_union is not None:
            acts = acts.filter(subtree_q(ctx.default_union.path, "union__path"))
        titles = {r.values.get("activity") for r in rows}
        by_title: dict[str, list[Activity]] = defaultdict(list)
        for a in acts.filter(title__in=[t for t in titles if t]):
            by_title[a.title].append(a)
        matcher = MemberMatcher(ctx, rows, Perm.ROSTER_VIEW)
        plan = services.ImportPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=len(rows), payload=plan)
        matched: list[tuple[Row, Activity, Any]] = []
        for row in rows:
            v = row.values
            candidates = [
                a
                for a in by_title.get(v.get("activity") or "", [])
                if a.start_date <= v["date"] <= a.end_date
            ]
            member = matcher.match(row)
            if not candidates:
                ctx.error(
                    row,
                    "activity",
                    f"找不到{v['date']:%Y-%m-%d}举办的「{v.get('activity')}」，请先登记或导入该活动",
                )
                continue
            if len(candidates) > 1:
                ctx.error(row, "activity", "这一天有不止一个同名活动，请分别导入到各自的组织工会")
                continue
            if member is None:
                continue
            activity = candidates[0]
            if v["date"] > _today():
                ctx.error(row, "date", "不能晚于今天")
                continue
            problem = services.eligibility_problem(activity, member)
            if problem:
                ctx.error(row, None, problem)
                continue
            matched.append((row, activity, member))
        existing = {
            (r.activity_id, r.member_id): r
            for r in Registration.objects.filter(
                activity_id__in={a.pk for _, a, _ in matched},
                member_id__in={m.pk for _, _, m in matched},
            )
        }
        seen: dict[tuple[int, int], int] = {}
        for row, activity, member in matched:
            status = row.values.get("status") or RegStatus.ATTENDED
            key = (activity.pk, member.pk)
            if key in seen:
                ctx.error(row, None, f"与第{seen[key]}行是同一活动的同一会员")
                continue
            seen[key] = row.number
            r = existing.get(key)
            if r is not None and r.status == status:
                result.unchanged += 1
            elif r is not None and r.source == RegSource.QR and r.status == RegStatus.ATTENDED:
                # The member's own scan at the door outweighs a sheet typed later.
                when = timezone.localtime(r.checked_in_at) if r.checked_in_at else None
                at = f"于{when:%m-%d %H:%M}" if when else ""
                ctx.error(
                    row,
                    "status",
                    f"该会员已{at}扫码签到，表中却为「缺席」。请核对后把这一行改为「签到」或删去；"
                    "确属误签的，请到活动页面改为缺席",
                )
            elif r is not None:
                plan.updates.append((r.pk, status))
                result.updated += 1
            else:
                plan.registrations.append(
                    Registration(
                        activity=activity,
                        member=member,
                        union=member.union,
                        status=status,
                        source=RegSource.IMPORT,
                    )
                )
                result.created += 1
        return result

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        services.attendance_import(actor=ctx.actor, plan=plan.payload)

    export_via = "activity__union"

    def export_base(self) -> QuerySet[Registration]:
        return Registration.objects.filter(status__in=[RegStatus.ATTENDED, RegStatus.ABSENT])

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        keys = [c.key for c in columns]
        for r in (
            qs.select_related("member", "activity")
            .order_by("activity__start_date", "id")
            .iterator(2000)
        ):
            cells = {
                **member_cells(r.member),
                "activity": r.activity.title,
                "date": r.activity.start_date,
                "status": "签到" if r.status == RegStatus.ATTENDED else "缺席",
            }
            yield [cells.get(k, "") for k in keys]
