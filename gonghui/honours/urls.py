from django.urls import path

from . import views

app_name = "honours"
urlpatterns = [
    path("", views.honour_list, name="list"),
    path("new/", views.honour_create, name="create"),
    path("<int:pk>/edit/", views.honour_update, name="update"),
    path("<int:pk>/delete/", views.honour_delete, name="delete"),
]
