from django.contrib import admin

from gonghui.common.admin import ReadOnlyAdmin

from .models import Member


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ("name", "card_no", "employee_no", "union", "status", "employment_type")
    search_fields = ("name", "employee_no", "card_no")
    list_filter = ("union",)
    list_select_related = ("union",)
