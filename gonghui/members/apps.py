from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "gonghui.members"
    label = "members"
    verbose_name = "会员"

    def ready(self) -> None:
        from gonghui.org import services as org_services

        from .services import archive_guard

        org_services.archive_guards.append(archive_guard)
