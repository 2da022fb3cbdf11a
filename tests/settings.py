"""The test run's defaults, set as environment variables before the one settings module loads.

Tests run with DEBUG off, as production does; only what a test machine cannot provide is filled in.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("TASKS_BACKEND", "immediate")
# Production needs an SMTP server; the test runner swaps every mailer for its in-memory outbox.
os.environ.setdefault("EMAIL_HOST", "smtp.invalid")
# The test client speaks plain HTTP; the redirect itself is tested by loading the settings.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

from harmonyze_portal.settings import *  # noqa: F403

# Collected, hashed static files are a deployment step; tests serve them from the source folders.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Hashing passwords slowly is the point in production and only costs time here.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# WhiteNoise finds them through the finders, as `runserver` does.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
