"""Harmonyze Portal settings, read from the environment.

Every variable is listed, with its default, in README.md ("Configuration"). A malformed value
stops start-up with a message naming the variable (see ``harmonyze_portal.env``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from harmonyze_portal.env import Env

BASE_DIR = Path(__file__).resolve().parent.parent
env = Env()

DEBUG = env.flag("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env.text("SECRET_KEY") or "django-insecure-local-demo-key-never-use-in-production"
else:
    SECRET_KEY = env.required(
        "SECRET_KEY",
        "it signs sessions and the links in every email; generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'` (or set DEBUG=1 locally).",
    )

ALLOWED_HOSTS = env.items("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set when DEBUG is off: the host names the portal answers to, "
        "comma-separated (for example portal.harmonyze.com)."
    )
CSRF_TRUSTED_ORIGINS = env.origins("CSRF_TRUSTED_ORIGINS")

# Public URL used in emails (links to confirm, unsubscribe, object). No trailing slash.
PORTAL_BASE_URL = env.text("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if not PORTAL_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"PORTAL_BASE_URL={PORTAL_BASE_URL!r} must start with https://.")

INSTALLED_APPS = [
    "harmonyze_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.syndication",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_filters",
    "simple_history",
    "django_tasks_db",
    "import_export",
    "harmonyze_portal.apps.PortalConfig",
    "customers",
    "subprocessors",
    "requests",
    "audits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Right after static files: public pages that are the same for everyone, from memory.
    "harmonyze_portal.pagecache.PublicPageCacheMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages: it tells a user why the session ended.
    "harmonyze_portal.sessions.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "harmonyze_portal.urls"
WSGI_APPLICATION = "harmonyze_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite by default so a newcomer needs no server; PostgreSQL by DATABASE_URL.
_database_url = env.text("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(
        _database_url, conn_max_age=env.number("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
    )
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database URL we support ({exc}); "
        "use postgres://user:password@host:5432/name or sqlite:///path/to/db.sqlite3."
    ) from None
if _database["ENGINE"] not in {
    "django.db.backends.sqlite3",
    "django.db.backends.postgresql",
}:
    raise ImproperlyConfigured(
        f"DATABASE_URL uses {_database['ENGINE']}; the portal supports PostgreSQL and SQLite only."
    )
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database.setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    # WAL lets the web process read while the task worker writes; NORMAL sync stays safe
    # under WAL (a power cut can lose the last commits, never corrupt the file).
    _database["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: the database cache is shared by every process with no extra server; Redis by URL.
REDIS_URL = env.text("REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL={REDIS_URL!r} must start with redis:// or rediss://."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "harmonyze",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "harmonyze_cache",
        }
    }

# --- Time (DOMAIN.md T1): stored in UTC, legal dates in the legal time zone.
TIME_ZONE = env.time_zone("TIME_ZONE", "America/New_York")
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True
# One way to write a date and a time on staff pages (harmonyze_portal/formats/en/formats.py).
FORMAT_MODULE_PATH = ["harmonyze_portal.formats"]
# T5: how far ahead the dashboard looks for deadlines.
DEADLINE_HORIZON_DAYS = env.number("DEADLINE_HORIZON_DAYS", 14, minimum=1)
# The model the dashboard filters deadlines by (like AUTH_USER_MODEL: the core imports no area).
PORTAL_CUSTOMER_MODEL = "customers.Customer"
# C5: the house target for notifying a customer of a breach (the DPA says "without undue delay").
BREACH_NOTICE_TARGET_HOURS = env.number("BREACH_NOTICE_TARGET_HOURS", 72, minimum=1)
# R4, SCC 15.1(b): how often a non-disclosure order without an end date comes up for review.
NDO_REVIEW_DAYS = env.number("NDO_REVIEW_DAYS", 90, minimum=1)
# C6: the service target for answering a customer's assistance request.
ASSISTANCE_TARGET_DAYS = env.number("ASSISTANCE_TARGET_DAYS", 30, minimum=1)
# R1 (SCC Clause 10(a)): the house target for notifying a customer of a data subject request
# about its Service Data, in days after receipt.
DSR_CUSTOMER_NOTICE_DAYS = env.number("DSR_CUSTOMER_NOTICE_DAYS", 3, minimum=0)
# H3: history rows younger than this are left to the next seal, so a transaction still open
# when the seal runs cannot commit a row below a sealed range.
HISTORY_SEAL_SETTLE_SECONDS = env.number("HISTORY_SEAL_SETTLE_SECONDS", 600, minimum=0)
# How long a process serves a public page (the sub-processor list) from memory.
PUBLIC_PAGE_CACHE_SECONDS = env.number("PUBLIC_PAGE_CACHE_SECONDS", 10, minimum=0)
# S2: how long a Notice Form confirmation link stays valid.
NOTICE_CONFIRM_HOURS = env.number("NOTICE_CONFIRM_HOURS", 48, minimum=1)
# S6: attempts per Notice delivery before it is listed as failed, and the first retry delay
# (doubled after each further failure).
NOTICE_MAX_ATTEMPTS = env.number("NOTICE_MAX_ATTEMPTS", 5, minimum=1)
NOTICE_RETRY_MINUTES = env.number("NOTICE_RETRY_MINUTES", 5, minimum=1)
# S6: how long a worker's claim on a delivery ("sending") lasts; a claim left by a dead worker is
# retried after it, as a further attempt (one duplicate at most, same Message-ID).
NOTICE_LEASE_MINUTES = env.number("NOTICE_LEASE_MINUTES", 15, minimum=1)
# Every other email: attempts on a temporary SMTP error (4xx, lost connection), and the first
# retry delay in seconds, doubled after each further failure.
MAIL_MAX_ATTEMPTS = env.number("MAIL_MAX_ATTEMPTS", 5, minimum=1)
MAIL_RETRY_SECONDS = env.number("MAIL_RETRY_SECONDS", 60, minimum=1)
# Uploaded documents (signed DPAs, letters, reports): PDFs up to this size.
MAX_UPLOAD_MB = env.number("MAX_UPLOAD_MB", 20, minimum=1)

# --- Static files, served by WhiteNoise (no CDN).
STATIC_URL = "static/"
STATIC_ROOT = Path(env.text("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.text("MEDIA_ROOT") or BASE_DIR / "media")
# Uploaded and issued documents are confidential: served only to signed-in staff (see urls.py).
MEDIA_URL = "staff/files/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Email: SMTP from the environment; the console only in DEBUG. Always sent from tasks.
_email_host = env.text("EMAIL_HOST")
if not DEBUG and not _email_host:
    # A notice printed to a console is a notice nobody received (DOMAIN.md S3, S6).
    raise ImproperlyConfigured(
        "EMAIL_HOST must be set when DEBUG is off: the SMTP server that sends notices, "
        "confirmations and alerts (with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD)."
    )
if _email_host:
    _use_ssl = env.flag("EMAIL_USE_SSL", default=False)
    _use_tls = env.flag("EMAIL_USE_TLS", default=not _use_ssl)
    if _use_tls and _use_ssl:
        raise ImproperlyConfigured(
            "EMAIL_USE_TLS and EMAIL_USE_SSL are both on; STARTTLS (port 587) and implicit TLS "
            "(port 465) exclude each other, so set only one."
        )
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env.number("EMAIL_PORT", 465 if _use_ssl else 587, minimum=1),
                "username": env.text("EMAIL_HOST_USER"),
                "password": env.text("EMAIL_HOST_PASSWORD"),
                "use_tls": _use_tls,
                "use_ssl": _use_ssl,
                "timeout": env.number("EMAIL_TIMEOUT", 30, minimum=1),
            },
        }
    }
elif OUTBOX_DIR := env.text("EMAIL_FILE_PATH"):
    # The demo (`make run`): one file per message, read at /staff/outbox/ with clickable links,
    # instead of quoted-printable in the console, where every long link breaks at "=".
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": OUTBOX_DIR},
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env.text("DEFAULT_FROM_EMAIL", "Harmonyze Privacy <privacy@harmonyze.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
LEGAL_INBOX_EMAIL = env.text("LEGAL_INBOX_EMAIL", "legal@harmonyze.com")
for _name, _value in (
    ("DEFAULT_FROM_EMAIL", DEFAULT_FROM_EMAIL),
    ("LEGAL_INBOX_EMAIL", LEGAL_INBOX_EMAIL),
):
    if "@" not in _value:
        raise ImproperlyConfigured(f"{_name}={_value!r} is not an email address.")

# --- Tasks: Django's tasks API. Synchronous for the demo and tests, the database queue
# (worker: `manage.py db_worker`) in production.
TASKS_BACKEND = env.choice(
    "TASKS_BACKEND", "immediate" if DEBUG else "database", ("immediate", "database")
)
TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if TASKS_BACKEND == "immediate"
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# --- Staff authentication.
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username+IP before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Two-factor authentication for every staff login. Switching it off is for the local demo only.
STAFF_2FA_REQUIRED = env.flag("STAFF_2FA_REQUIRED", default=True)
if not STAFF_2FA_REQUIRED and not DEBUG:
    raise ImproperlyConfigured(
        "STAFF_2FA_REQUIRED=0 is allowed only with DEBUG=1 (the local demo); "
        "production staff logins always need a second factor."
    )
OTP_TOTP_ISSUER = "Harmonyze Portal"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# How many proxies in front of the portal append to X-Forwarded-For. 0: use the socket address.
TRUSTED_PROXY_COUNT = env.number("TRUSTED_PROXY_COUNT", 0)

# django-axes: 5 failures per username + client IP lock that pair out for an hour.
AXES_FAILURE_LIMIT = env.number("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.number("LOGIN_LOCKOUT_MINUTES", 60, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "harmonyze_portal.network.client_ip"
AXES_LOCKOUT_TEMPLATE = "staff/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429

# Sessions: 30 minutes idle (the cookie age slides with every request) and 12 hours in all.
SESSION_IDLE_MINUTES = env.number("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_MAX_HOURS = env.number("SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- Public POST rate limit (per client IP), kept in the cache.
PUBLIC_POST_RATE = env.rate("PUBLIC_POST_RATE", "10/h")
RATELIMIT_USE_CACHE = "default"
RATELIMIT_ENABLE = True
SILENCED_SYSTEM_CHECKS = [
    # django-ratelimit lists only memcached and django-redis as supported. Django's own Redis
    # cache increments atomically too; the database cache's increment can lose a count under
    # a concurrent burst, which lets a few extra requests through but never blocks anyone
    # wrongly. We accept that for a server-less default; set REDIS_URL for exact limits.
    "django_ratelimit.W001",
    "django_ratelimit.E003",
]

# --- History (H1).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Spreadsheet import and export (django-import-export).
# Without a permission code import-export lets every admin user import and export. Importing
# needs "add" on the model (CustomerAdmin also asks for "change": an import updates customers);
# exporting needs only "view", since viewers read and export.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# One transaction for the file and a savepoint per row: the preview is a rolled-back dry run,
# and a row that fails to save rolls the whole file back (CustomerAdmin rolls back on a row
# that fails validation too).
IMPORT_EXPORT_USE_TRANSACTIONS = True
# The upload waits for confirmation in the cache (shared by every process, expires after a
# day), not in a temporary folder that another server would not have.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES = True
# import-export's own formula escaping only strips a leading "=" and turns every cell into text;
# harmonyze_portal.exports prefixes a quote instead, for = + - @ tab and CR, in CSV and XLSX.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = False

# --- Security headers. The CSP applies in every mode so that a violation shows up locally.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not DEBUG:
    SECURE_SSL_REDIRECT = env.flag("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env.number("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.flag("TRUST_X_FORWARDED_PROTO", default=False):
        # Only behind a proxy that strips and sets this header itself.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"}},
}
