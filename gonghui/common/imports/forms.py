from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from gonghui.common.forms import union_field
from gonghui.org.models import User

from .columns import ImportSpec

ACCEPT = ".xlsx,.xls,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-excel,text/csv"


class UploadForm(forms.Form):
    """The file and the union it goes into (blank 所属工会 / 上级工会 cells mean it)."""

    file = forms.FileField(
        label="表格文件",
        help_text="支持 .xlsx、.xls 和 .csv（UTF-8 或 GBK 编码）",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args: Any, viewer: User, spec: ImportSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        field = union_field(viewer, spec.perm, label="导入到")
        field.help_text = "表格中只能出现该组织及其下级；「所属工会」或「上级工会」留空的行归入它"
        self.fields["union"] = field
        first = field.queryset.first() if field.queryset is not None else None
        if first is not None:
            self.initial.setdefault("union", first.pk)
        self.order_fields(["union", "file"])

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.GONGHUI_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"文件大小为 {upload.size / 1024 / 1024:.1f} MB，超过了 "
                f"{limit / 1024 / 1024:.0f} MB 的上限，请拆成几个文件分批导入。"
            )
        if upload.size == 0:
            raise forms.ValidationError("文件是空的。")
        return upload
