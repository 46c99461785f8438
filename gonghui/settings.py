"""gonghui settings: one module, configured by ``GONGHUI_*`` environment variables.

Every variable may also be given as ``GONGHUI_<NAME>_FILE`` pointing at a file that
holds the value (for Docker/systemd secrets). A bad or missing required value stops
the start with a message that says what to set.

Variables:

``GONGHUI_DATA_DIR``        where the local SQLite database, keys and uploads live
                            (default: ``$XDG_DATA_HOME/gonghui`` or ``~/.local/share/gonghui``)
``GONGHUI_DATABASE_URL``    ``sqlite:////abs/path.sqlite3`` or ``postgres://user@host/db``
                            (default: ``<data dir>/gonghui.sqlite3``)
``GONGHUI_SECRET_KEY``      Django's secret key. Required, unless the data folder holds one
                            made by ``gonghui demo``.
``GONGHUI_ENCRYPTION_KEY``  Fernet key(s), comma-separated, newest first, for 身份证号 and
                            手机号 at rest. Same rule as the secret key.
``GONGHUI_ALLOWED_HOSTS``   comma-separated (default: ``127.0.0.1,localhost``)
``GONGHUI_DEBUG``           ``1``/``true`` to turn on Django's debug pages (never in production)
``GONGHUI_REDIS_URL``       optional cache (``redis://127.0.0.1:6379/0``); without it the
                            cache is files in ``<data dir>/cache``, shared by the server's
                            processes on one machine (Redis when several machines serve)
``GONGHUI_HTTPS``           ``1`` when served over HTTPS (behind a TLS-terminating proxy)
``GONGHUI_CSRF_TRUSTED_ORIGINS``  e.g. ``https://gonghui.example.cn``
``GONGHUI_LOGIN_MAX_FAILURES`` / ``GONGHUI_LOGIN_MAX_FAILURES_PER_ADDRESS`` /
``GONGHUI_LOGIN_LOCK_MINUTES``  login throttle: failures before a wait, per account and
                            per client address, and the longest wait (default 5 / 30 / 15)
``GONGHUI_IMPORT_MAX_BYTES`` / ``GONGHUI_IMPORT_MAX_ROWS``  the largest import accepted
                            (default 60 MB / 300,000 data rows)
``GONGHUI_IMPORT_KEEP_DAYS``  days an uploaded file that failed its check is kept for the
                            marked-file download (default 7)
``GONGHUI_IMPORT_MAX_RUNNING`` / ``GONGHUI_IMPORT_MAX_RUNNING_PER_USER``  imports run at
                            once in all / per user; the next waits in line (default 2 / 1)
``GONGHUI_IMPORT_STALE_MINUTES``  a busy import silent this long is taken for crashed and
                            marked failed (default 10)
``GONGHUI_IMPORT_MAX_FOREIGN_MATCHES_PER_DAY``  people of other unions one user's imports
                            may find per day before imports are refused (default 50)
``GONGHUI_WORKERS`` / ``GONGHUI_THREADS``  server processes (default: the number of cores) and
                            threads in each (default 8) of ``gonghui serve`` and ``demo``
``GONGHUI_WORKER_CONNECTIONS``  open connections one process holds at most (default 1000);
                            a body over GONGHUI_IMPORT_MAX_BYTES + 2 MB is refused (413) unread
``GONGHUI_ADMIN``           ``1`` to serve Django's admin at ``/admin/`` (default off)
``GONGHUI_IDLE_MINUTES`` / ``GONGHUI_IDLE_MINUTES_OTHER``  a session ends after this many idle
                            minutes: for users who may see full 身份证号 (default 30) / others
                            (default 240); 12 h is the limit for all
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str | None = None) -> str | None:
    """Read ``GONGHUI_<name>``, or the file named by ``GONGHUI_<name>_FILE``."""
    key = f"GONGHUI_{name}"
    file_key = f"{key}_FILE"
    if os.environ.get(file_key):
        path = Path(os.environ[file_key])
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{file_key}={path} 无法读取：{exc}") from exc
    value = os.environ.get(key)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"GONGHUI_{name}={value!r} 不是布尔值，请写 1/0 或 true/false。")


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"GONGHUI_{name}={value!r} 不是整数。") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "gonghui"


DATA_DIR = Path(env("DATA_DIR") or _default_data_dir()).expanduser().resolve()

# `gonghui demo` sets this before Django starts, so that it may create the keys it keeps
# in the data folder. Any other start needs them from the environment or from a demo.
DEMO_MODE = os.environ.get("GONGHUI_DEMO_MODE") == "1"


def _local_secret(name: str, env_name: str, make: str) -> str:
    """A secret from the environment, or one the demo keeps in the data folder."""
    value = env(env_name)
    if value:
        return value
    path = DATA_DIR / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if DEMO_MODE:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        if make == "django":
            from django.core.management.utils import get_random_secret_key

            value = get_random_secret_key()
        else:
            from cryptography.fernet import Fernet

            value = Fernet.generate_key().decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value)
        return value
    raise ImproperlyConfigured(
        f"未设置 GONGHUI_{env_name}。生产环境请在环境变量中设置它"
        f"（生成方法见 README「部署」一节）；本机试用请先运行 `gonghui demo`，"
        f"它会在 {DATA_DIR} 中生成并保存自己的密钥。"
    )


SECRET_KEY = _local_secret("secret_key", "SECRET_KEY", "django")
ENCRYPTION_KEYS = [
    k.strip() for k in _local_secret("encryption_key", "ENCRYPTION_KEY", "fernet").split(",")
]
DEBUG = env_bool("DEBUG", False)


def _check_fernet_keys(keys: list[str]) -> None:
    """A key that is not a Fernet key can never encrypt or decrypt anything: refuse it at
    every start, instead of a 500 on the first member saved or revealed."""
    import base64
    import binascii

    for n, key in enumerate(keys, start=1):
        try:
            ok = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
        except (binascii.Error, ValueError, UnicodeEncodeError):
            ok = False
        if not ok:
            which = f"第 {n} 个密钥" if len(keys) > 1 else "密钥"
            raise ImproperlyConfigured(
                f"GONGHUI_ENCRYPTION_KEY 中的{which}不是有效的 Fernet 密钥（应为 44 个字符的 "
                'URL 安全 base64）。可用 `python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"` 生成；多个密钥用逗号分隔，新的在前。'
            )


_check_fernet_keys(ENCRYPTION_KEYS)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "gonghui.common",
    "gonghui.org",
    "gonghui.members",
    "gonghui.care",
    "gonghui.activities",
    "gonghui.honours",
    "gonghui.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "gonghui.common.middleware.LoginRequiredMiddleware",
    "gonghui.common.middleware.AuditContextMiddleware",
    "gonghui.common.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "gonghui.urls"
WSGI_APPLICATION = "gonghui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gonghui.common.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    import dj_database_url

    url = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'gonghui.sqlite3'}"
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"GONGHUI_DATABASE_URL={url!r} 无法识别：请写 sqlite:////绝对路径.sqlite3 "
            "或 postgres://用户@主机:端口/库名。"
        ) from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN, so two writers queue on busy_timeout instead of one failing with
        # "database is locked" when it upgrades a read lock mid-transaction.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
            ),
        }
        name = str(config["NAME"])
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
    else:
        config.setdefault("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
        # The report's correlated subqueries look costly enough to PostgreSQL that it
        # JIT-compiles them, which alone took about 1 s per query on 100,000 members.
        # Our queries are short OLTP reads: JIT never pays off here.
        options = dict(config.get("OPTIONS") or {})  # type: ignore[call-overload]
        options.setdefault("options", "-c jit=off")
        config["OPTIONS"] = options
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = ["gonghui.org.auth.LockoutModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
CSRF_FAILURE_VIEW = "gonghui.common.views.csrf_failure"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Login throttle (gonghui.org.throttle): from this many failures in a row an account,
# or a client address, waits before the next try: one minute, doubling with each further
# failure, up to LOCK_MINUTES. A browser where the account logged in before is not held
# by the account's wait (the address's wait still applies). Behind the TLS proxy
# (GONGHUI_HTTPS) the client address is the one the proxy appends to X-Forwarded-For.
GONGHUI_LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
GONGHUI_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LOGIN_MAX_FAILURES_PER_ADDRESS", 30)
GONGHUI_LOGIN_LOCK_MINUTES = env_int("LOGIN_LOCK_MINUTES", 15)
GONGHUI_LOGIN_TRUST_FORWARDED_FOR = env_bool("HTTPS", False)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
# Served over HTTPS, usually behind a reverse proxy (nginx) that terminates TLS and sets
# X-Forwarded-Proto: cookies only travel over HTTPS, and Django knows the request was
# secure (without it every POST fails the CSRF origin check). Also set
# GONGHUI_CSRF_TRUSTED_ORIGINS=https://your.domain when the proxy changes the host.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Only for `gonghui collectstatic` behind a separate web server; not needed otherwise.
STATIC_ROOT = env("STATIC_ROOT")
# Static files come from the installed apps (ours and django-htmx's htmx build) and are
# served by WhiteNoise straight from the finders, so the demo needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "media"

# The cache holds what every worker process must see alike (an import's progress). Without
# Redis it is a folder of files in the data folder: shared by the processes of one
# machine, and written outside any database transaction (a database cache would write
# the progress inside the import's own transaction, unseen until it commits, and on
# SQLite it would wait for the write lock that import holds).
if env("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("REDIS_URL"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
    # A 403 or 404 is an answer, not a fault: no traceback in the server log for each.
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Roster list page size.
GONGHUI_PAGE_SIZE = 50

# Imports (Excel / CSV). Files larger than this, or with more data rows, are refused with
# a message before they are read in full; the unzipped size of an .xlsx is capped too
# (a "zip bomb" is refused before the reader touches it).
GONGHUI_IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 60 * 1024 * 1024)
GONGHUI_IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 300_000)
GONGHUI_IMPORT_MAX_UNZIPPED_BYTES = env_int("IMPORT_MAX_UNZIPPED_BYTES", 1024 * 1024 * 1024)
# A photo of a visit (慰问照片), the largest accepted.
GONGHUI_PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 10 * 1024 * 1024)
# An upload holds personal data: it is deleted once its import is written or cancelled;
# one that failed its check (or was never confirmed) is deleted after this many days.
GONGHUI_IMPORT_KEEP_DAYS = env_int("IMPORT_KEEP_DAYS", 7)
# Web imports check and write in a background thread so that a long one never times out
# the request; tests turn this off to run them inline.
GONGHUI_IMPORT_BACKGROUND = env_bool("IMPORT_BACKGROUND", True)
# Imports checked or written at once, in all and per user (across the server's
# processes: counted in the database); the next waits in line. A busy import whose
# heartbeat is older than GONGHUI_IMPORT_STALE_MINUTES is taken for crashed.
GONGHUI_IMPORT_MAX_RUNNING = env_int("IMPORT_MAX_RUNNING", 2)
GONGHUI_IMPORT_MAX_RUNNING_PER_USER = env_int("IMPORT_MAX_RUNNING_PER_USER", 1)
GONGHUI_IMPORT_STALE_MINUTES = env_int("IMPORT_STALE_MINUTES", 10)
# People of unions the importer may not see that one user's import checks may find per
# day (each is audited); past it the import is refused and the union above is told.
GONGHUI_IMPORT_MAX_FOREIGN_MATCHES_PER_DAY = env_int("IMPORT_MAX_FOREIGN_MATCHES_PER_DAY", 50)


# --- Server (gonghui serve / demo) ----------------------------------------------------------


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Worker processes and threads per process of `gonghui serve` / `gonghui demo`
# (`--workers`, `--threads` override them).
GONGHUI_WORKERS = env_int("WORKERS", _cores())
GONGHUI_THREADS = env_int("THREADS", 8)
# Open connections one worker holds at most (kept alive or waiting for a request).
GONGHUI_WORKER_CONNECTIONS = env_int("WORKER_CONNECTIONS", 1000)
# A request body past this is refused from its Content-Length before it is received:
# the largest import plus room for the form around it.
GONGHUI_MAX_BODY_BYTES = GONGHUI_IMPORT_MAX_BYTES + 2 * 1024 * 1024

# --- Headers, admin, idle sessions ----------------------------------------------------------

# Behind HTTPS: browsers keep to HTTPS for a year (this host and its subdomains), and
# a plain-HTTP request is redirected.
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# (preload only adds the directive; submitting the domain to the browsers' list is a choice
# left to whoever runs the server)
SECURE_HSTS_PRELOAD = HTTPS
# The proxy must pass X-Forwarded-Proto (see above), or every request would be redirected.
SECURE_SSL_REDIRECT = HTTPS
SECURE_REFERRER_POLICY = "same-origin"

# Django's admin (/admin/) is served only when this is on; its logins go through the
# workbench's own login page (throttled, audited).
GONGHUI_ADMIN = env_bool("ADMIN", False)

# A session ends after this many minutes without a request: GONGHUI_IDLE_MINUTES for a
# user who may see full 身份证号 (roster.pii), GONGHUI_IDLE_MINUTES_OTHER for the rest;
# SESSION_COOKIE_AGE (12 h) stays the limit for all.
GONGHUI_IDLE_MINUTES = env_int("IDLE_MINUTES", 30)
GONGHUI_IDLE_MINUTES_OTHER = env_int("IDLE_MINUTES_OTHER", 240)

MIDDLEWARE.insert(1, "gonghui.common.security.SecurityHeadersMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "gonghui.common.security.IdleSessionMiddleware",
)
