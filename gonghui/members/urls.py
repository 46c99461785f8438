from django.urls import path

from . import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("<int:pk>/", views.member_detail, name="detail"),
    path("<int:pk>/edit/", views.member_edit, name="edit"),
    path("<int:pk>/change/", views.member_change, name="change"),
    path("<int:pk>/change/undo/", views.member_change_undo, name="change_undo"),
    path("<int:pk>/login/", views.member_login, name="login"),
    path("<int:pk>/reveal/<str:field>/", views.member_reveal, name="reveal"),
    path("me/", views.me, name="me"),
    path("suggest/", views.member_suggest, name="suggest"),
]
