from django.urls import path

from . import views

app_name = "org"
urlpatterns = [
    path("", views.union_list, name="list"),
    path("new/", views.union_create, name="create"),
    path("<int:pk>/", views.union_detail, name="detail"),
    path("<int:pk>/edit/", views.union_edit, name="edit"),
    path("<int:pk>/move/", views.union_move, name="move"),
    path("<int:pk>/archive/", views.union_archive, name="archive"),
    path("users/", views.user_list, name="users"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("users/<int:pk>/toggle/", views.user_toggle, name="user_toggle"),
    path("roles/<int:pk>/revoke/", views.role_revoke, name="role_revoke"),
    path("grants/<int:pk>/<str:decision>/", views.grant_decide, name="grant_decide"),
    path("password/", views.my_password, name="my_password"),
]
