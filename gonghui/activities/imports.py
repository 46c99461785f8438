"""文体活动 in Excel: a year's activities, and the attendance taken on paper.

Activities: 活动名称, 类别, 开始日期, 结束日期, 组织工会, 地点, 学时, 备注 (an activity
already recorded — same union, name and first day — is unchanged). Attendance:
活动名称, 日期, the member columns (身份证号, 工号 or 会员证号, or a name unique in the
union), 状态 (签到 / 缺席); a member already marked so is unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from gonghui.common.imports.columns import Column, ColumnType, ImportSpec, register
from gonghui.common.imports.engine import Context, Plan, Row
from gonghui.common.imports.names import NameIndex, resolve_union, union_index
from gonghui.common.imports.progress import Progress
from gonghui.common.scope import Perm, visible
from gonghui.members.matching import MEMBER_COLUMNS, MemberMatcher, member_cells
from gonghui.org.models import Union, subtree_q

from . import services
from .choices import ActivityStatus, Category, RegSource, RegStatus
from .models import Activity, Club, Registration

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
        "体育比赛": "sports",
        "运动会": "sports",
        "球赛": "sports",
        "健身": "sports",
        "文艺演出": "arts",
        "合唱": "arts",
        "书画": "arts",
        "摄影": "arts",
        "业务培训": "training",
        "技能培训": "training",
        "专题讲座": "training",
        "读书活动": "reading",
        "答题": "quiz",
        "竞答": "quiz",
        "参观学习": "outing",
        "疗养": "outing",
        "休养": "outing",
        "踏青": "outing",
        "联欢会": "festival",
        "晚会": "festival",
        "公益": "volunteer",
        "其它": "other",
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
    Column(
        "club",
        "兴趣小组",
        aliases=("小组", "所属小组", "社团"),
        max_length=50,
        example="",
        width=14,
        note="仅限某兴趣小组参加时填写；系统中没有的小组会随导入新建",
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
            "已签": "attended",
            "到": "attended",
            "已到": "attended",
            "到场": "attended",
            "出席": "attended",
            "出勤": "attended",
            "参加": "attended",
            "已参加": "attended",
            "√": "attended",
            "✓": "attended",
            "✔": "attended",
            "是": "attended",
            "有": "attended",
            "未到": "absent",
            "缺": "absent",
            "缺勤": "absent",
            "未签到": "absent",
            "未参加": "absent",
            "没来": "absent",
            "请假": "absent",
            "事假": "absent",
            "病假": "absent",
            "旷": "absent",
            "×": "absent",
            "✗": "absent",
            "否": "absent",
            "无": "absent",
        },
        example="签到",
        width=8,
        note="留空为签到",
    ),
)


def _today() -> Any:
    import datetime as dt

    return dt.date.today()


class _Clubs:
    """The clubs an activities sheet may name (兴趣小组), by name, within each row's union
    and the unions above it in reach; the ones it names that do not exist yet."""

    def __init__(self, in_reach: list[Union]) -> None:
        self.all = list(
            Club.objects.filter(union__in=in_reach, archived_at__isnull=True).select_related(
                "union"
            )
        )
        self.new: dict[tuple[int, str], Club] = {}

    def find(self, row: Row, ctx: Context, union: Union) -> Club | None:
        name = row.values.get("club") or ""
        if not name:
            return None
        # A club of the activity's union or of one above it (as activity_create allows).
        index = NameIndex(
            [c for c in self.all if union.path.startswith(c.union.path)], name=lambda c: c.name
        )
        found = index.find(name)
        if found.item is not None:
            return found.item
        if found.ambiguous:
            shown = index.candidates_text(found, label=lambda c: f"{c.name}（{c.union.name}）")
            ctx.error(row, "club", f"「{name}」可能是：{shown}，请写完整的小组名称")
            return None
        if not ctx.create_missing:
            ctx.error(
                row,
                "club",
                f"「{union.name}」没有兴趣小组「{name}」：请先在「文体 › 兴趣小组」中成立，"
                "或去掉 --no-create 随导入新建",
            )
            return None
        key = (union.pk, name)
        if key not in self.new:
            self.new[key] = Club(union=union, name=name[:50])
        return self.new[key]


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
        unions = union_index(in_reach)
        clubs = _Clubs(in_reach)
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
                found = resolve_union(unions, name)
                union = None
                if isinstance(found, str):
                    ctx.error(row, "union", found)
                else:
                    union = found
            elif union is None:
                ctx.error(row, "union", "请填写组织工会")
            start: dt.date | None = v.get("start_date")
            end: dt.date | None = v.get("end_date") or start
            if start and end and end < start:
                ctx.error(row, "end_date", "早于开始日期")
            club = clubs.find(row, ctx, union) if union is not None else None
            if not row.ok or union is None or start is None or end is None:
                continue
            key = (union.pk, v["title"], start)
            if key in seen:
                ctx.error(row, None, f"与第{seen[key]}行重复")
                continue
            seen[key] = row.number
            if key in existing:
                result.unchanged += 1
                continue
            hours = v.get("hours")
            activity = Activity(
                union=union,
                audience=union,
                title=v["title"],
                category=v["category"],
                start_date=start,
                end_date=end,
                place=v.get("place") or "",
                hours=Decimal(hours) if hours is not None else None,
                note=v.get("note") or "",
                status=ActivityStatus.OPEN,
            )
            activity.club = club
            plan.activities.append((activity, union))
            result.created += 1
        result.creates.extend(f"兴趣小组「{c.name}」（{c.union.name}）" for c in clubs.new.values())
        plan.clubs = list(clubs.new.values())
        return result

    def write(self, plan: Plan, ctx: Context, progress: Progress) -> None:
        payload: services.ImportPlan = plan.payload
        for planned in payload.clubs:
            club = services.club_create(actor=ctx.actor, union=planned.union, name=planned.name)
            for activity, _ in payload.activities:
                if activity.club is planned:
                    activity.club = club
        services.activities_import(actor=ctx.actor, plan=payload)

    def export_base(self) -> QuerySet[Activity]:
        return Activity.objects.all()

    def export_rows(
        self, qs: QuerySet[Any], *, full_pii: bool, columns: Sequence[Column]
    ) -> Iterator[list[Any]]:
        keys = [c.key for c in columns]
        labels = dict(Category.choices)
        for a in qs.select_related("union", "club").order_by("start_date", "id").iterator(2000):
            cells = {
                "title": a.title,
                "category": labels[a.category],
                "start_date": a.start_date,
                "end_date": a.end_date,
                "union": a.union.code,
                "club": a.club.name if a.club else "",
                "place": a.place,
                "hours": a.hours,
                "note": a.note,
            }
            yield [cells.get(k, "") for k in keys]


class _Activities:
    """The activity an attendance row names: by name among those held on the row's day
    (within the importer's reach), or one this import creates."""

    def __init__(self, stored: list[Activity]) -> None:
        self.stored = stored
        self.any_day = NameIndex(stored, name=lambda a: a.title)
        self._on_day: dict[Any, NameIndex[Activity]] = {}
        self.new: dict[str, Activity] = {}

    def find(self, row: Row, ctx: Context) -> Activity | None:
        title = row.values.get("activity") or ""
        day = row.values.get("date")
        if not title or day is None:
            return None  # the required cell's error is already reported
        if day not in self._on_day:
            held = [a for a in self.stored if a.start_date <= day <= a.end_date]
            self._on_day[day] = NameIndex(held, name=lambda a: a.title)
        index = self._on_day[day]
        found = index.find(title)
        if found.item is not None:
            return found.item
        if found.ambiguous:
            shown = index.candidates_text(found, label=lambda a: f"{a.title}（{a.union.name}）")
            ctx.error(row, "activity", f"这一天的「{title}」可能是：{shown}，请写完整的活动名称")
            return None
        other = self.any_day.find(title)
        if other.candidates or other.item is not None:
            a = other.item or other.candidates[0]
            ctx.error(
                row,
                "activity",
                f"「{a.title}」在 {a.start_date:%Y-%m-%d} 举办，与本行日期（{day:%Y-%m-%d}）不符",
            )
            return None
        how = "请先在「文体 › 活动」中登记或导入该活动"
        if not ctx.create_missing:
            ctx.error(
                row, "activity", f"系统中没有活动「{title}」：{how}，或去掉 --no-create 随导入新建"
            )
            return None
        if ctx.default_union is None:
            ctx.error(
                row,
                "activity",
                f"系统中没有活动「{title}」：{how}，或导入时指定组织它的工会（--union）以随导入新建",
            )
            return None
        activity = self.new.get(title)
        if activity is None:
            activity = self.new[title] = Activity(
                union=ctx.default_union,
                audience=ctx.default_union,
                title=title[:100],
                category=Category.OTHER,
                start_date=day,
                end_date=day,
                status=ActivityStatus.OPEN,
            )
        activity.start_date = min(activity.start_date, day)
        activity.end_date = max(activity.end_date, day)
        return activity


@register
class AttendanceImport(ImportSpec):
    kind = "attendance"
    label = "签到记录"
    columns = ATTENDANCE_COLUMNS
    sheet_hints = ("签到", "考勤", "参加")
    perm = Perm.ACTIVITY_EDIT
    view_perm = Perm.ACTIVITY_VIEW
    notes = (
        "「活动名称」写系统中活动的名称（或能唯一确定它的几个字），「日期」在活动的起止日期之内；"
        "系统中还没有的活动，会在确认导入时以导入到的工会名义新建（预览中会列出）。",
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
        activities = _Activities(list(acts))
        matcher = MemberMatcher(ctx, rows, Perm.ROSTER_VIEW)
        plan = services.ImportPlan(record_id=ctx.record_id, file_name=ctx.file_name)
        result = Plan(total=len(rows), payload=plan)
        matched: list[tuple[Row, Activity, Any]] = []
        today = _today()
        for row in rows:
            v = row.values
            activity = activities.find(row, ctx)
            member = matcher.match(row)
            if v.get("date") and v["date"] > today:
                ctx.error(row, "date", "不能晚于今天")
            if activity is None or member is None or not row.ok:
                continue
            problem = services.eligibility_problem(activity, member)
            if problem:
                ctx.error(row, None, problem)
                continue
            matched.append((row, activity, member))
        for activity in activities.new.values():
            result.creates.append(
                f"活动「{activity.title}」（{activity.union.name}，"
                f"{activity.start_date:%Y-%m-%d}"
                + (
                    f" 至 {activity.end_date:%Y-%m-%d}"
                    if activity.end_date != activity.start_date
                    else ""
                )
                + "）"
            )
        plan.new_activities = [
            (
                a,
                services.ActivityFields(
                    title=a.title, category=a.category, start_date=a.start_date, end_date=a.end_date
                ),
            )
            for a in activities.new.values()
        ]
        existing = {
            (r.activity_id, r.member_id): r
            for r in Registration.objects.filter(
                activity_id__in={a.pk for _, a, _ in matched if a.pk},
                member_id__in={m.pk for _, _, m in matched},
            )
        }
        seen: dict[tuple[int, int], int] = {}
        for row, activity, member in matched:
            status = row.values.get("status") or RegStatus.ATTENDED
            key = (activity.pk or id(activity), member.pk)
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
        payload: services.ImportPlan = plan.payload
        for planned, fields in payload.new_activities:
            activity = services.activity_create(actor=ctx.actor, union=planned.union, fields=fields)
            for registration in payload.registrations:
                if registration.activity is planned:
                    registration.activity = activity
        services.attendance_import(actor=ctx.actor, plan=payload)

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
