"""获奖 and the spending standards of DOMAIN.md (sports and culture prizes: a first prize
≤ 500 元 and winners ≤ ⅓ of those who took part; outings ≤ 200 元 per person per day),
warned or enforced by the union's policy; 知识竞赛: the question bank, scoring, one
attempt per member."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from gonghui.activities import services
from gonghui.activities.choices import AwardKind, RegSource
from gonghui.activities.models import Activity, Attempt, Award, Question, Quiz, Registration
from gonghui.activities.services import ActivityFields, OverCap, QuestionData
from gonghui.care.services import policy_set
from gonghui.common.errors import ServiceError
from gonghui.common.models import AuditEntry
from gonghui.members.models import Member
from gonghui.members.services import member_link_user
from gonghui.org.choices import Role
from tests import factories as f
from tests.conftest import World

from . import records

D = Decimal
TODAY = dt.date.today()
NAMES = [
    "赵一",
    "钱二",
    "孙三",
    "周四",
    "吴五",
    "郑六",
    "冯七",
    "陈八",
    "褚九",
    "卫十",
    "蒋一",
    "沈二",
]


def text(exc: pytest.ExceptionInfo[Any]) -> str:
    return " ".join(exc.value.messages)


def attended(w: World, n: int, title: str = "气排球赛") -> tuple[Activity, list[Member]]:
    """Today's activity of branch A1 that ``n`` members came to (张三 first)."""
    a = records.activity(w, title)
    came = [w.member, *(f.member(w.group, name) for name in NAMES[: n - 1])]
    services.attendance_mark(actor=None, activity=a, attended=came)
    return a, came


def award(a: Activity, member: Member | None = None, **kw: Any) -> Award:
    kw.setdefault("rank", 2)
    kw.setdefault("prize", "二等奖")
    return services.award_add(actor=kw.pop("actor", None), activity=a, member=member, **kw)


# Winners and prizes ---------------------------------------------------------------------


def test_more_winners_than_a_third_of_those_who_came_asks_to_confirm(world: World) -> None:
    a, came = attended(world, 7)
    award(a, came[0], rank=1, prize="一等奖", prize_value=D(300))
    award(a, came[1], prize_value=D(200))  # 2 of 7: within a third

    with pytest.raises(OverCap) as exc:
        award(a, came[2], rank=3, prize="三等奖", prize_value=D(100))
    assert exc.value.warning == "获奖 3 人（项），超过参加人数 7 人的三分之一。"
    assert Award.objects.count() == 2

    third = award(a, came[2], rank=3, prize="三等奖", prize_value=D(100), confirm_over_cap=True)
    assert (third.over_cap, third.cap_note) == (
        True,
        "获奖 3 人（项），超过参加人数 7 人的三分之一。",
    )
    assert list(Award.objects.order_by("id").values_list("over_cap", flat=True)) == [
        False,
        False,
        True,
    ]
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert entry.summary == "「气排球赛」登记获奖：钱二：三等奖（超标准，已确认）"


def test_only_those_who_came_count_as_having_taken_part(world: World) -> None:
    a, came = attended(world, 5)
    services.attendance_mark(actor=None, activity=a, absent=[came[4]])  # 4 came
    for name in ("韩三", "杨四"):  # signed up, never came
        services.register(actor=None, activity=a, member=f.member(world.group, name))
    assert Registration.objects.filter(activity=a).count() == 7
    award(a, came[0])  # 1 of 4
    with pytest.raises(OverCap) as exc:  # 2 of 4 (of 7 registrations it would pass)
        award(a, came[1])
    assert exc.value.warning == "获奖 2 人（项），超过参加人数 4 人的三分之一。"


def test_exactly_a_third_of_those_who_came_may_win(world: World) -> None:
    a, came = attended(world, 6)
    award(a, came[0], rank=1, prize="一等奖")
    second = award(a, came[1])
    assert not second.over_cap


def test_before_attendance_is_taken_those_signed_up_count(world: World) -> None:
    """Awards entered before the officer took attendance: the share is of those holding
    a place, and the warning says so."""
    a = records.activity(world)
    people = [world.member, *(f.member(world.group, n) for n in NAMES[:2])]
    for m in people:
        services.register(actor=None, activity=a, member=m)
    award(a, people[0])  # 1 of 3
    with pytest.raises(OverCap) as exc:
        award(a, people[1])
    assert exc.value.warning == "获奖 2 人（项），超过报名人数 3 人的三分之一。"


def test_a_share_of_two_thirds_allows_exactly_two_of_three(world: World) -> None:
    policy_set(actor=None, union=world.school, preset="anhui", winners_share=D("0.67"))
    a, came = attended(world, 3)
    award(a, came[0], rank=1, prize="一等奖")
    assert not award(a, came[1]).over_cap  # 2 of 3: two thirds exactly
    with pytest.raises(OverCap) as exc:
        award(a, came[2])
    assert exc.value.warning == "获奖 3 人（项），超过参加人数 3 人的三分之二。"
    # No share at all: as many winners as the union likes.
    policy_set(actor=None, union=world.school, preset="anhui", winners_share=None)
    assert not award(a, came[2]).over_cap


def test_where_the_union_blocks_too_many_winners_cannot_be_saved(world: World) -> None:
    policy_set(actor=None, union=world.school, preset="anhui", enforcement="block")
    a, came = attended(world, 4)
    award(a, came[0])
    for confirm in (False, True):
        with pytest.raises(ServiceError) as exc:
            award(a, came[1], confirm_over_cap=confirm)
        assert not isinstance(exc.value, OverCap)
        assert text(exc) == (
            "获奖 2 人（项），超过参加人数 4 人的三分之一。本工会规定超标不能保存。"
        )
    assert Award.objects.count() == 1


def test_a_first_prize_over_500_yuan_is_past_the_anhui_standard(world: World) -> None:
    a, came = attended(world, 13)  # up to 4 winners
    assert award(a, came[0], rank=1, prize="一等奖", prize_value=D(500)).over_cap is False
    # The cap is on the first prize only.
    assert award(a, came[1], rank=2, prize="二等奖", prize_value=D(800)).over_cap is False
    with pytest.raises(OverCap) as exc:
        award(a, came[2], rank=1, prize="一等奖", prize_value=D("500.50"))
    assert exc.value.warning == "一等奖奖品 500.50 元，超过标准 500 元。"
    kept = award(a, came[2], rank=1, prize="一等奖", prize_value=D("500.50"), confirm_over_cap=True)
    assert (kept.over_cap, kept.cap_note) == (True, "一等奖奖品 500.50 元，超过标准 500 元。")

    policy_set(actor=None, union=world.school, preset="anhui", enforcement="block")
    with pytest.raises(ServiceError) as exc:
        award(a, came[3], rank=1, prize="一等奖", prize_value=D(600), confirm_over_cap=True)
    assert text(exc) == "一等奖奖品 600 元，超过标准 500 元。本工会规定超标不能保存。"
    assert Award.objects.count() == 3


def test_both_warnings_at_once_are_kept_together(world: World) -> None:
    a, came = attended(world, 2)
    with pytest.raises(OverCap) as exc:
        award(a, came[0], rank=1, prize="一等奖", prize_value=D(800))
    assert exc.value.warning == (
        "一等奖奖品 800 元，超过标准 500 元。 获奖 1 人（项），超过参加人数 2 人的三分之一。"
    )


def test_the_fujian_standard_sets_no_prize_cap(world: World) -> None:
    policy_set(actor=None, union=world.school, preset="fujian")
    a, came = attended(world, 10)  # up to 3 winners
    first = award(a, came[0], rank=1, prize="一等奖", prize_value=D(2000))
    assert (first.over_cap, first.cap_note) == (False, "")
    # … but the share of winners still holds.
    award(a, came[1])
    award(a, came[2])
    with pytest.raises(OverCap):
        award(a, came[3])


def test_team_awards_count_among_the_winners(world: World) -> None:
    a, _ = attended(world, 4)
    team = award(a, team="  高中语文组 ", rank=1, prize="团体一等奖", prize_value=D(400))
    assert (team.kind, team.member, team.team, str(team)) == (
        AwardKind.TEAM,
        None,
        "高中语文组",
        "高中语文组：团体一等奖",
    )
    with pytest.raises(OverCap) as exc:
        award(a, team="高一年级组", rank=2, prize="团体二等奖")
    assert exc.value.warning == "获奖 2 人（项），超过参加人数 4 人的三分之一。"
    with pytest.raises(ServiceError) as exc:
        award(a, team="  ")
    assert text(exc) == "请填写获奖会员，或团体奖的团体名称。"


def test_an_award_is_checked_before_it_is_saved(world: World) -> None:
    a, came = attended(world, 9)
    cases = [
        ({"member": came[0], "prize": " "}, "请填写奖项，如「一等奖」「优秀奖」。"),
        ({"member": came[0], "rank": 0}, "名次从 1 开始。"),
        ({"member": came[0], "prize_value": D(-1)}, "奖品价值不能为负数。"),
        ({"member": world.other_branch_member}, "李四不在本活动的参加范围内。"),
    ]
    for kw, message in cases:
        member = kw.pop("member")
        with pytest.raises(ServiceError) as exc:
            award(a, member, **kw)
        assert text(exc) == message
    assert Award.objects.count() == 0


def test_removing_an_award_is_audited_and_needs_the_permission(world: World) -> None:
    a, came = attended(world, 9)
    prize = award(a, came[0])
    with pytest.raises(PermissionDenied):
        services.award_remove(actor=world.other_officer, award=prize)
    services.award_remove(actor=world.officer, award=prize)
    assert Award.objects.count() == 0
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None
    assert (entry.actor, entry.summary) == (world.officer, "「气排球赛」删除获奖：张三：二等奖")


# Outings ---------------------------------------------------------------------------------


def outing(cost: str, days: int = 3, **kw: Any) -> ActivityFields:
    start = dt.date(2025, 7, 14)
    return ActivityFields(
        title="劳模疗休养",
        category=kw.pop("category", "outing"),
        start_date=start,
        end_date=start + dt.timedelta(days=days - 1),
        cost=D(cost),
        **kw,
    )


def test_an_outing_over_200_yuan_per_person_per_day_asks_to_confirm(world: World) -> None:
    a = Activity(category="outing", cost=D(700), start_date=dt.date(2025, 7, 14))
    a.end_date = dt.date(2025, 7, 16)
    assert services.outing_warning(world.branch, a) == (
        "人均每天 233.33 元，超过疗休养标准每人每天 200 元。"
    )
    a.cost = D(600)  # 200 a day: at the standard
    assert services.outing_warning(world.branch, a) is None
    a.category = "sports"
    a.cost = D(5000)
    assert services.outing_warning(world.branch, a) is None

    with pytest.raises(OverCap) as exc:
        services.activity_create(actor=world.officer, union=world.branch, fields=outing("700"))
    assert exc.value.warning == "人均每天 233.33 元，超过疗休养标准每人每天 200 元。"
    assert Activity.objects.count() == 0

    saved = services.activity_create(
        actor=world.officer, union=world.branch, fields=outing("700"), confirm_over_cap=True
    )
    assert (saved.cost, saved.days) == (D("700.00"), 3)
    entry = AuditEntry.objects.order_by("-id").first()
    assert entry is not None and entry.summary == (
        "发布活动：劳模疗休养（超标准，已确认：人均每天 233.33 元，超过疗休养标准每人每天 200 元）"
    )
    # Within the standard nothing is asked.
    services.activity_create(actor=world.officer, union=world.branch, fields=outing("600"))
    services.activity_create(
        actor=world.officer, union=world.branch, fields=outing("900", category="sports")
    )
    assert Activity.objects.count() == 3


def test_raising_an_outings_cost_past_the_standard_asks_again(world: World) -> None:
    a = services.activity_create(actor=None, union=world.branch, fields=outing("400", days=2))
    with pytest.raises(OverCap):
        services.activity_update(actor=world.officer, activity=a, fields=outing("401", days=2))
    a.refresh_from_db()
    assert a.cost == D("400.00")
    services.activity_update(
        actor=world.officer, activity=a, fields=outing("401", days=2), confirm_over_cap=True
    )
    a.refresh_from_db()
    assert a.cost == D("401.00")


def test_where_the_union_blocks_an_outing_over_the_standard_is_refused(world: World) -> None:
    policy_set(actor=None, union=world.school, preset="anhui", enforcement="block")
    with pytest.raises(ServiceError) as exc:
        services.activity_create(
            actor=None, union=world.branch, fields=outing("250", days=1), confirm_over_cap=True
        )
    assert not isinstance(exc.value, OverCap)
    assert exc.value.message_dict == {
        "cost": [
            "人均每天 250 元，超过疗休养标准每人每天 200 元。本工会规定超标不能保存，请调整费用。"
        ]
    }
    assert Activity.objects.count() == 0


# Knowledge contests ---------------------------------------------------------------------

BANK = [
    QuestionData("《工会法》规定，工会会员会费为本人工资收入的？", ["0.5%", "1%", "2%"], [0], 2),
    QuestionData("下列哪些属于职工活动支出？", ["文体活动", "招待费", "职工培训"], [0, 2], 3),
    QuestionData("中华全国总工会成立于哪一年？", ["1925年", "1949年"], [0], 5),
]


def contest(w: World, pass_mark: int = 50, **kw: Any) -> tuple[Quiz, list[Question]]:
    a = records.activity(w, "工会知识竞赛", category="quiz", **kw)
    quiz = services.quiz_set(actor=w.officer, activity=a, pass_mark=pass_mark, questions=BANK)
    return quiz, list(quiz.questions.order_by("order"))


def answer(q: list[Question], *picks: list[int]) -> dict[int, list[int]]:
    return {question.pk: list(p) for question, p in zip(q, picks, strict=True)}


def test_the_question_bank_is_saved_as_given(world: World) -> None:
    quiz, q = contest(world)
    assert quiz.pass_mark == 50
    assert [(x.order, x.options, x.answer, x.points) for x in q] == [
        (1, ["0.5%", "1%", "2%"], [0], 2),
        (2, ["文体活动", "招待费", "职工培训"], [0, 2], 3),
        (3, ["1925年", "1949年"], [0], 5),
    ]
    # Replaced while nobody has answered.
    services.quiz_set(actor=world.officer, activity=quiz.activity, pass_mark=80, questions=BANK[:1])
    quiz.refresh_from_db()
    assert (quiz.pass_mark, quiz.questions.count()) == (80, 1)
    assert Quiz.objects.count() == 1


@pytest.mark.parametrize(
    ("pass_mark", "questions", "message"),
    [
        (101, BANK, "及格分请填写 0 到 100 之间的整数。"),
        (-1, BANK, "及格分请填写 0 到 100 之间的整数。"),
        (60, [], "请至少出一道题。"),
        (60, [QuestionData("  ", ["是", "否"], [0])], "第 1 题没有题目。"),
        (
            60,
            [BANK[0], QuestionData("只有一个选项", ["是", " "], [0])],
            "第 2 题至少要有两个选项。",
        ),
        (60, [QuestionData("答案超出", ["是", "否"], [2])], "第 1 题的正确答案不在选项中。"),
        (60, [QuestionData("没有答案", ["是", "否"], [])], "第 1 题的正确答案不在选项中。"),
        (60, [QuestionData("负的答案", ["是", "否"], [-1])], "第 1 题的正确答案不在选项中。"),
    ],
)
def test_a_question_bank_that_cannot_be_answered_is_refused(
    world: World, pass_mark: int, questions: list[QuestionData], message: str
) -> None:
    a = records.activity(world, "工会知识竞赛", category="quiz")
    with pytest.raises(ServiceError) as exc:
        services.quiz_set(actor=world.officer, activity=a, pass_mark=pass_mark, questions=questions)
    assert text(exc) == message
    assert (Quiz.objects.count(), Question.objects.count()) == (0, 0)


def test_a_blank_option_does_not_move_the_right_answer(world: World) -> None:
    a = records.activity(world, "工会知识竞赛", category="quiz")
    quiz = services.quiz_set(
        actor=None,
        activity=a,
        pass_mark=60,
        questions=[
            QuestionData("工会的基层组织是？", ["A. 车间", "", "B. 基层工会", "C. 班组"], [2])
        ],
    )
    q = quiz.questions.get()
    assert q.options[q.answer[0]] == "B. 基层工会"


def test_the_bank_cannot_change_once_someone_has_answered(world: World) -> None:
    quiz, q = contest(world)
    services.quiz_submit(actor=world.member_user, quiz=quiz, answers=answer(q, [0], [0, 2], [0]))
    with pytest.raises(ServiceError) as exc:
        services.quiz_set(actor=world.officer, activity=quiz.activity, pass_mark=60, questions=BANK)
    assert text(exc) == "已经有人交卷，不能再修改题目。"
    quiz.refresh_from_db()
    assert (quiz.pass_mark, quiz.questions.count()) == (50, 3)


def test_setting_the_bank_needs_the_permission(world: World) -> None:
    a = records.activity(world, "工会知识竞赛", category="quiz")
    for actor in (world.other_officer, world.outsider, world.member_user):
        with pytest.raises(PermissionDenied):
            services.quiz_set(actor=actor, activity=a, pass_mark=60, questions=BANK)
    assert Quiz.objects.count() == 0


def test_answers_are_scored_by_points_and_a_multiple_choice_must_be_exact(world: World) -> None:
    quiz, q = contest(world, pass_mark=50)
    zhao, qian, sun = (f.member(world.group, n) for n in ("赵一", "钱二", "孙三"))
    cases = [
        # (member, answers, score, passed)
        (zhao, answer(q, [0], [2, 0], [1]), 5, True),  # 2 + 3 + 0: exactly the pass mark
        (qian, answer(q, [0], [0], [1]), 2, False),  # part of a multiple choice scores 0
        (sun, answer(q, [0], [0, 1, 2], [0]), 7, True),  # a wrong extra option scores 0
        (world.member, answer(q, [0, 0], [0, 2, 2], [0]), 10, True),  # repeats are one pick
    ]
    for member, answers, score, passed in cases:
        got = services.quiz_submit(actor=None, quiz=quiz, answers=answers, member=member)
        assert (got.score, got.total, got.passed) == (score, 10, passed), member.name
    empty = f.member(world.group, "周四")
    none = services.quiz_submit(actor=None, quiz=quiz, answers={}, member=empty)
    assert (none.score, none.passed) == (0, False)


def test_the_pass_mark_is_a_percentage_reached_or_not(world: World) -> None:
    quiz, q = contest(world, pass_mark=60)
    zhao = f.member(world.group, "赵一")
    five = services.quiz_submit(
        actor=None, quiz=quiz, answers=answer(q, [0], [0, 2], [1]), member=zhao
    )
    six = services.quiz_submit(
        actor=None, quiz=quiz, answers=answer(q, [1], [1], [0]), member=world.member
    )
    assert (five.score, five.passed, six.score, six.passed) == (5, False, 5, False)
    seven = services.quiz_submit(
        actor=None,
        quiz=quiz,
        answers=answer(q, [0], [1], [0]),
        member=f.member(world.group, "钱二"),
    )
    assert (seven.score, seven.passed) == (7, True)


def test_one_attempt_per_member_and_answering_is_attending(world: World) -> None:
    quiz, q = contest(world)
    zhao = f.member(world.group, "赵一")
    services.register(actor=None, activity=quiz.activity, member=zhao)

    first = services.quiz_submit(
        actor=world.member_user, quiz=quiz, answers=answer(q, [0], [0, 2], [0])
    )
    services.quiz_submit(actor=None, quiz=quiz, answers=answer(q, [1], [1], [1]), member=zhao)

    assert (first.member, first.score, first.answers) == (
        world.member,
        10,
        {str(q[0].pk): [0], str(q[1].pk): [0, 2], str(q[2].pk): [0]},
    )
    with pytest.raises(ServiceError) as exc:
        services.quiz_submit(actor=world.member_user, quiz=quiz, answers=answer(q, [1], [1], [1]))
    assert text(exc) == "您已经交过卷了。"
    assert Attempt.objects.get(member=world.member).score == 10
    assert sorted(
        Registration.objects.filter(activity=quiz.activity).values_list(
            "member__name", "status", "source"
        )
    ) == [("张三", "attended", RegSource.SELF), ("赵一", "attended", RegSource.SELF)]


def test_a_login_answers_as_its_own_member_only(world: World) -> None:
    quiz, q = contest(world)
    zhao = f.member(world.group, "赵一")
    got = services.quiz_submit(
        actor=world.member_user, quiz=quiz, answers=answer(q, [0], [0], [0]), member=zhao
    )
    assert got.member == world.member
    assert not Attempt.objects.filter(member=zhao).exists()
    with pytest.raises(ServiceError) as exc:
        services.quiz_submit(actor=world.officer, quiz=quiz, answers=answer(q, [0], [0], [0]))
    assert text(exc) == "您的账号尚未关联会员档案，不能答题。"


def test_answers_are_taken_only_while_the_contest_runs_and_from_its_audience(
    world: World,
) -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    quiz, q = contest(world, start_date=tomorrow)
    with pytest.raises(ServiceError) as exc:
        services.quiz_submit(actor=world.member_user, quiz=quiz, answers=answer(q, [0], [0], [0]))
    assert text(exc) == f"答题时间为{tomorrow:%Y-%m-%d}，请在此期间作答。"

    running, q2 = contest(world)
    user = f.user("lisi", world.other_group, Role.MEMBER)
    member_link_user(actor=None, member=world.other_branch_member, user=user)
    with pytest.raises(ServiceError) as exc:
        services.quiz_submit(actor=user, quiz=running, answers=answer(q2, [0], [0], [0]))
    assert text(exc) == "本活动仅限「高中部分工会」的会员参加。"

    services.activity_cancel(actor=None, activity=running.activity, reason="改期")
    with pytest.raises(ServiceError) as exc:
        services.quiz_submit(
            actor=world.member_user, quiz=running, answers=answer(q2, [0], [0], [0])
        )
    assert text(exc) == "活动已取消：改期"
    assert (Attempt.objects.count(), Registration.objects.count()) == (0, 0)
