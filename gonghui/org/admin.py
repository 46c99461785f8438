from django.contrib import admin

from gonghui.common.admin import ReadOnlyAdmin

from .models import RoleAssignment, Union, User


@admin.register(Union)
class UnionAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "kind", "parent", "headcount", "archived_at")
    list_filter = ("kind",)
    search_fields = ("name", "code")


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ("username", "full_name", "is_active", "last_login")
    search_fields = ("username", "full_name")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("user", "union", "role", "portfolio")
    list_filter = ("role",)
