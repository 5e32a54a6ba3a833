"""Django settings, read from environment variables.

- ``DATABASE_URL``: any dj-database-url URL; default an SQLite file in the data folder (WAL).
- ``LEADCYCLE_DATA_DIR``: where the SQLite file, the secret key and collected static files live
  (default ``var/`` beside the package).
- ``SECRET_KEY``: default generated on first run and kept in the data folder.
- ``DEBUG``: off unless set to 1/true/yes.
- ``LEADCYCLE_TASKS``: ``db`` (default, worker ``leadcycle worker``), ``rq`` (Redis at
  ``REDIS_URL``) or ``immediate`` (runs tasks inline; the test suite uses it).
"""

import os
import secrets
from pathlib import Path

import dj_database_url


def _env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("LEADCYCLE_DATA_DIR", BASE_DIR.parent / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Written once with owner-only permissions; never committed (var/ is ignored).
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("DEBUG")
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if host.strip()
]
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "leadcycle.users",
    "leadcycle.audit",
    "leadcycle.crm",
    "leadcycle.intake",
    "leadcycle.events",
    "leadcycle.linkedin",
    "leadcycle.interactions",
    "leadcycle.scoring",
    "leadcycle.imports",
    "leadcycle.segments",
    "leadcycle.process",
    "leadcycle.workflows",
    "leadcycle.duplicates",
    "leadcycle.notifications",
    "leadcycle.dashboards",
    "leadcycle.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "leadcycle.users.middleware.LoginRequiredMiddleware",
    "leadcycle.api.ApiErrorShapeMiddleware",
]

ROOT_URLCONF = "leadcycle.urls"
WSGI_APPLICATION = "leadcycle.wsgi.application"

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
                "leadcycle.users.context_processors.roles",
                "leadcycle.notifications.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        # An empty DATABASE_URL means "not set".
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'leadcycle.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue on busy_timeout instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            # A page cache of up to 256 MB (SQLite's default is 2 MB), allocated only as
            # pages are read: bulk imports and segment refreshes of large tables stop
            # re-reading index pages from the OS (docs/benchmarks.md).
            " PRAGMA cache_size=-262144;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = _env_flag("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

_task_backend = os.environ.get("LEADCYCLE_TASKS", "db")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
RQ_QUEUES = {"default": {"URL": REDIS_URL}}
if _task_backend == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
elif _task_backend == "immediate":
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
LEADCYCLE_TASKS = _task_backend

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Demo users are created only when this is on; `make run` turns it on, production does not.
LEADCYCLE_ALLOW_DEMO = _env_flag("LEADCYCLE_ALLOW_DEMO", default=DEBUG)
API_PAGE_SIZE_MAX = 500

# Public intake endpoints (forms, events, tracking): requests per client address per minute.
LEADCYCLE_INTAKE_RATE_LIMIT = int(os.environ.get("LEADCYCLE_INTAKE_RATE_LIMIT", "60"))
# Page views, email opens and clicks per client address per minute (tracking endpoints).
LEADCYCLE_TRACKING_RATE_LIMIT = int(os.environ.get("LEADCYCLE_TRACKING_RATE_LIMIT", "600"))
# Workflow webhooks to loopback, private or link-local addresses are refused unless this is on
# (a receiver on the same network as Leadcycle).
LEADCYCLE_WEBHOOK_ALLOW_PRIVATE = os.environ.get("LEADCYCLE_WEBHOOK_ALLOW_PRIVATE", "") == "1"
# A batch of 10,000 interactions is a few megabytes of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024
# Behind a reverse proxy that sets X-Forwarded-For, take the client address from it.
LEADCYCLE_TRUST_X_FORWARDED_FOR = _env_flag("LEADCYCLE_TRUST_X_FORWARDED_FOR")
