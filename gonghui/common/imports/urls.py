from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.record_list, name="list"),
    path("<int:pk>/", views.record_detail, name="detail"),
    path("<int:pk>/status/", views.record_status, name="status"),
    path("<int:pk>/confirm/", views.record_confirm, name="confirm"),
    path("<int:pk>/cancel/", views.record_cancel, name="cancel"),
    path("<int:pk>/marked/", views.record_marked, name="marked"),
    path("export/<slug:kind>/", views.export, name="export"),
    path("<slug:kind>/", views.upload, name="upload"),
    path("<slug:kind>/template/", views.template_download, name="template"),
]
