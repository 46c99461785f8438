"""``gonghui demo``: a local SQLite database with a realistic demo union, then the server.

Each installed app may have a ``demo.py`` with ``build(ctx)``; they run in app order
and share ``ctx`` (the tree, the logins). Running the demo again reuses what is there.
"""

from __future__ import annotations

import time
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from gonghui.common.management.commands.serve import add_server_arguments, serve
from gonghui.org import demo as org_demo


class Command(BaseCommand):
    help = "建立演示数据库（一个区教育工会及三所学校约 600 名会员）并启动工作台。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="只建库，不启动服务")
        add_server_arguments(parser)

    def handle(self, *args: Any, **opts: Any) -> None:
        db = settings.DATABASES["default"]
        self.stdout.write(f"数据库：{db['NAME']}")
        # Once, here, before the server forks its workers.
        call_command("migrate", interactive=False, verbosity=0)
        if org_demo.exists():
            self.stdout.write(
                "演示数据已存在，直接使用。（如需重建，删除上面的数据库文件后再运行。）"
            )
            logins = org_demo_logins()
        else:
            started = time.monotonic()
            ctx: dict[str, Any] = {}
            with transaction.atomic():
                for config in apps.get_app_configs():
                    module_name = f"{config.name}.demo"
                    if config.name.startswith("gonghui.") and find_spec(module_name):
                        import_module(module_name).build(ctx)
            logins = ctx["logins"]
            self.stdout.write(
                f"已生成演示数据：{len(ctx['schools'])} 所学校，{ctx.get('member_count', 0)} 名会员"
                f"（用时 {time.monotonic() - started:.1f} 秒）。"
            )

        def banner(url: str) -> list[str]:
            lines = ["", f"网址：{url}", "演示账号（密码相同）："]
            lines += [
                f"  {label}：登录名 {name}，密码 {password}" for label, name, password in logins
            ]
            return [*lines, ""]

        if opts["no_serve"]:
            for line in banner(f"http://{opts['host']}:{opts['port']}/"):
                self.stdout.write(line)
        else:
            # The URL (with the port really bound) and the logins, once the server is up.
            serve(opts, self.stdout, banner)


def org_demo_logins() -> list[tuple[str, str, str]]:
    from gonghui.org.models import User

    p = org_demo.DEMO_PASSWORD
    labels = {
        "zhuxi": "工会主席（第一中学）",
        "fengonghui": "分工会主席（第一中学高中部）",
        "huiyuan": "会员（第一中学高中语文组）",
        "zuzhi": "组织委员（第一中学，可看完整身份证号）",
        "quzong": "区教育工会主席（三所学校）",
        "caiwu": "财务（第一中学，发放补助）",
    }
    present = set(User.objects.filter(username__in=labels).values_list("username", flat=True))
    return [(label, name, p) for name, label in labels.items() if name in present]
