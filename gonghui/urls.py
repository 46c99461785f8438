from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from gonghui.common.views import admin_login
from gonghui.org.views import LoginView
from gonghui.reports.views import dashboard

admin.site.site_header = "工会工作台 · 系统管理"
admin.site.site_title = "工会工作台"

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/", include("gonghui.org.urls")),
    path("members/", include("gonghui.members.urls")),
    path("care/", include("gonghui.care.urls")),
    path("activities/", include("gonghui.activities.urls")),
    path("honours/", include("gonghui.honours.urls")),
    path("reports/", include("gonghui.reports.urls")),
    path("audit/", include("gonghui.common.urls")),
    path("imports/", include("gonghui.common.imports.urls")),
]

if settings.GONGHUI_ADMIN:
    # Off unless GONGHUI_ADMIN=1. Its login is the workbench's own (throttled, audited).
    admin.site.login = admin_login  # type: ignore[method-assign]
    urlpatterns.append(path("admin/", admin.site.urls))
