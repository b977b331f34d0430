"""Test settings: the production settings with faster hashing and in-memory mail.

DATABASE_URL selects PostgreSQL in CI; without it SQLite is used. Celery tasks run eagerly
unless a test starts a real worker (tests/integration)."""

import os

os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("AIF_DISABLE_RATE_LIMITS", "1")

from .settings import *  # noqa: E402,F403
from .settings import BASE_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PRIVATE_MEDIA_ROOT = BASE_DIR / "var" / "test-private"
WHITENOISE_AUTOREFRESH = True
