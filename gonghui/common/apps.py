from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "gonghui.common"
    label = "common"
    verbose_name = "公共"

    def ready(self) -> None:
        from . import keycheck  # noqa: F401  (registers the encryption-key system check)
