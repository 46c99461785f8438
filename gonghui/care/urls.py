from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("", views.home, name="home"),
    # 慰问
    path("visits/", views.visit_list, name="visits"),
    path("visits/new/", views.visit_create, name="visit_create"),
    path("visits/batch/", views.visit_batch, name="visit_batch"),
    path("visits/batch/reverse/", views.visit_batch_reverse, name="visit_batch_reverse"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("visits/<int:pk>/reverse/", views.visit_reverse, name="visit_reverse"),
    path("visits/<int:pk>/photos/", views.visit_photo_add, name="visit_photo_add"),
    path("photos/<int:pk>/", views.visit_photo, name="visit_photo"),
    path("hospital/new/", views.stay_create, name="stay_create"),
    path("hospital/<int:pk>/discharge/", views.stay_discharge, name="stay_discharge"),
    # 困难职工档案
    path("hardship/", views.hardship_list, name="hardship"),
    path("hardship/new/", views.hardship_create, name="hardship_create"),
    path("hardship/<int:pk>/", views.hardship_detail, name="hardship_file"),
    path("hardship/<int:pk>/review/", views.hardship_review, name="hardship_review"),
    path("hardship/<int:pk>/close/", views.hardship_close, name="hardship_close"),
    # 补助
    path("subsidies/", views.subsidy_list, name="subsidies"),
    path("subsidies/new/", views.subsidy_create, name="subsidy_create"),
    path("subsidies/<int:pk>/", views.subsidy_detail, name="subsidy"),
    path(
        "subsidies/<int:pk>/attachments/",
        views.subsidy_attachment_add,
        name="subsidy_attachment_add",
    ),
    path("subsidy-attachments/<int:pk>/", views.subsidy_attachment, name="subsidy_attachment"),
    path("subsidies/<int:pk>/withdraw/", views.subsidy_withdraw, name="subsidy_withdraw"),
    path("subsidies/<int:pk>/<str:action>/", views.subsidy_action, name="subsidy_action"),
    # 捐款
    path("drives/", views.drive_list, name="drives"),
    path("drives/new/", views.drive_create, name="drive_create"),
    path("drives/<int:pk>/", views.drive_detail, name="drive"),
    path("drives/<int:pk>/add/", views.donation_add, name="donation_add"),
    path("donations/", views.donation_list, name="donations"),
    path("donations/<int:pk>/reverse/", views.donation_reverse, name="donation_reverse"),
    # 医疗保障
    path("coverage/", views.coverage_list, name="coverage"),
    path("coverage/new/", views.programme_create, name="programme_create"),
    path("coverage/<int:pk>/", views.programme_detail, name="programme"),
    path("coverage/<int:pk>/enrol/", views.programme_enrol, name="programme_enrol"),
    path("coverage/<int:pk>/claims/", views.claim_create, name="claim_create"),
    path("enrolments/<int:pk>/remove/", views.enrolment_remove, name="enrolment_remove"),
    path("claims/<int:pk>/decide/", views.claim_decide, name="claim_decide"),
    # 开支标准
    path("policy/", views.policy, name="policy"),
    # 自助服务
    path("me/", views.me, name="me"),
    path("me/apply/", views.me_apply, name="me_apply"),
]
