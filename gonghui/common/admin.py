from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry, ImportRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """The admin is for looking only: every write goes through a service and its audit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_name", "action", "object_repr", "union", "summary")
    list_filter = ("action",)
    search_fields = ("summary", "object_repr", "actor_name")


@admin.register(ImportRecord)
class ImportRecordAdmin(ReadOnlyAdmin):
    """Imports, to look at only: one is written or refused by the import engine alone."""

    list_display = (
        "created_at", "actor_name", "kind", "file_name", "union", "status",
        "total_rows", "created_count", "updated_count", "error_count",
    )  # fmt: skip
    list_filter = ("kind", "status", "source")
    search_fields = ("file_name", "actor_name")
    date_hierarchy = "created_at"
    list_select_related = ("union",)
    exclude = ("stored_file",)  # a path on the server: not for the screen
