"""Settings for the test suite: tasks run inline, passwords hash fast."""

import os

os.environ.setdefault("LEADCYCLE_TASKS", "immediate")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")

from leadcycle.settings import *  # noqa: F403
from leadcycle.settings import INSTALLED_APPS

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # In-memory (shared cache, so live-server threads see it): fast, and runs never collide.
    DATABASES["default"]["TEST"] = {}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LEADCYCLE_ALLOW_DEMO = True
LEADCYCLE_WEBHOOK_ALLOW_PRIVATE = True  # the tests' webhook receiver listens on 127.0.0.1
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
assert "leadcycle.crm" in INSTALLED_APPS
