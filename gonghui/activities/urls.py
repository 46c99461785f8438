from django.urls import path

from . import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("new/", views.activity_create, name="create"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/edit/", views.activity_edit, name="edit"),
    path("<int:pk>/cancel/", views.activity_cancel, name="cancel"),
    path("<int:pk>/enter/", views.enter, name="enter"),
    path("<int:pk>/attendance/", views.attendance, name="mark"),
    path("<int:pk>/participation/", views.participation_card, name="participation_card"),
    path("<int:pk>/awards/", views.award_add, name="award_add"),
    path("awards/<int:pk>/delete/", views.award_remove, name="award_remove"),
    path("registrations/<int:pk>/cancel/", views.registration_cancel, name="registration_cancel"),
    # 扫码签到
    path("<int:pk>/checkin/screen/", views.checkin_screen, name="checkin_screen"),
    path("<int:pk>/checkin/code/", views.checkin_code, name="checkin_code"),
    path("<int:pk>/checkin/", views.checkin, name="checkin"),
    # 知识竞赛
    path("<int:pk>/quiz/edit/", views.quiz_edit, name="quiz_edit"),
    path("<int:pk>/quiz/", views.quiz_take, name="quiz"),
    # 报表来源
    path("attendance/", views.attendance_list, name="attendance"),
    path("participation/", views.participation, name="participation"),
    path("awards/", views.award_list, name="awards"),
    # 兴趣小组
    path("clubs/", views.club_list, name="clubs"),
    path("clubs/new/", views.club_create, name="club_create"),
    path("clubs/<int:pk>/", views.club_detail, name="club"),
    path("clubs/<int:pk>/join/", views.club_join, name="club_join"),
    path("club-members/<int:pk>/leave/", views.club_leave, name="club_leave"),
    # 自助服务
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/signup/", views.signup, name="signup"),
]
