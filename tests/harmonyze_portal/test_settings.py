"""Settings fail loudly: a missing or malformed variable stops start-up and names itself.

The one settings module is evaluated afresh for each test with a clean environment: every
variable it reads is removed first (the test run itself sets some through ``tests.settings``),
then the test's own values are applied.
"""

from __future__ import annotations

import os
import re
import runpy
import secrets
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from harmonyze_portal.env import Env

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_PATH = BASE_DIR / "harmonyze_portal" / "settings.py"

# Every variable the settings read, taken from the module itself so a new one is never missed.
SETTINGS_VARIABLES = frozenset(
    re.findall(r'\benv\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', SETTINGS_PATH.read_text())
)

PRODUCTION_SECRET_KEY = "Kq3vN8xZ-" + "7hR2mW9pL4tY6bV1cX5jD0fG3sA8eU2iO7nQ4wE9rT6yH1kM5zB"
PRODUCTION = {
    "SECRET_KEY": PRODUCTION_SECRET_KEY,
    "ALLOWED_HOSTS": "portal.harmonyze.com",
    "EMAIL_HOST": "smtp.harmonyze.com",
}
DEBUG_ON = {"DEBUG": "1"}


def load_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Evaluate ``harmonyze_portal/settings.py`` with exactly ``environ`` for its variables."""
    with pytest.MonkeyPatch.context() as patch:
        for name in SETTINGS_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in environ.items():
            patch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_PATH))


def refusal(environ: Mapping[str, str]) -> str:
    """The message of the ImproperlyConfigured that ``environ`` must cause."""
    with pytest.raises(ImproperlyConfigured) as excinfo:
        load_settings(environ)
    return str(excinfo.value)


def test_the_clean_environment_covers_what_tests_settings_sets() -> None:
    """The helper is only as good as its list: it must remove what ``tests.settings`` sets."""
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "TASKS_BACKEND", "SECURE_SSL_REDIRECT"} <= (
        SETTINGS_VARIABLES
    )
    assert {"DEBUG", "DATABASE_URL", "TIME_ZONE", "EMAIL_HOST", "STAFF_2FA_REQUIRED"} <= (
        SETTINGS_VARIABLES
    )


def test_the_clean_environment_does_not_leak_into_the_test_process() -> None:
    before = dict(os.environ)

    load_settings({**PRODUCTION, "DEBUG": "1", "TIME_ZONE": "Europe/Dublin"})

    assert dict(os.environ) == before


# --- Required when DEBUG is off ----------------------------------------------------------


def test_production_without_secret_key_is_refused() -> None:
    assert "SECRET_KEY" in refusal({"ALLOWED_HOSTS": "portal.harmonyze.com"})


def test_production_with_a_blank_secret_key_is_refused() -> None:
    assert "SECRET_KEY" in refusal({**PRODUCTION, "SECRET_KEY": "   "})


def test_debug_without_secret_key_loads_with_a_dev_key() -> None:
    settings = load_settings(DEBUG_ON)

    assert settings["DEBUG"] is True
    assert settings["SECRET_KEY"].startswith("django-insecure-")


def test_debug_keeps_a_given_secret_key() -> None:
    assert load_settings({**DEBUG_ON, "SECRET_KEY": "local"})["SECRET_KEY"] == "local"


def test_production_secret_key_is_used_as_given() -> None:
    settings = load_settings(PRODUCTION)

    assert settings["DEBUG"] is False
    assert settings["SECRET_KEY"] == PRODUCTION_SECRET_KEY


@pytest.mark.parametrize("hosts", [None, "", " , "], ids=["unset", "empty", "only-commas"])
def test_production_without_allowed_hosts_is_refused(hosts: str | None) -> None:
    environ = {"SECRET_KEY": PRODUCTION_SECRET_KEY}
    if hosts is not None:
        environ["ALLOWED_HOSTS"] = hosts

    assert "ALLOWED_HOSTS" in refusal(environ)


def test_allowed_hosts_is_a_comma_separated_list() -> None:
    settings = load_settings({**PRODUCTION, "ALLOWED_HOSTS": "portal.harmonyze.com, harmonyze.com"})

    assert settings["ALLOWED_HOSTS"] == ["portal.harmonyze.com", "harmonyze.com"]


def test_debug_allows_localhost_by_default() -> None:
    assert load_settings(DEBUG_ON)["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]


# --- Malformed values name their variable ------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        pytest.param({"DEBUG": "maybe"}, ["DEBUG"], id="DEBUG=maybe"),
        pytest.param({"TIME_ZONE": "Mars/Olympus"}, ["TIME_ZONE"], id="TIME_ZONE=Mars/Olympus"),
        pytest.param({"TIME_ZONE": "America"}, ["TIME_ZONE"], id="TIME_ZONE=America"),
        pytest.param({"TIME_ZONE": "../etc/passwd"}, ["TIME_ZONE"], id="TIME_ZONE=path"),
        pytest.param(
            {"LOGIN_FAILURE_LIMIT": "five"}, ["LOGIN_FAILURE_LIMIT"], id="LOGIN_FAILURE_LIMIT=five"
        ),
        pytest.param(
            {"LOGIN_FAILURE_LIMIT": "0"}, ["LOGIN_FAILURE_LIMIT"], id="LOGIN_FAILURE_LIMIT=0"
        ),
        pytest.param(
            {"LOGIN_LOCKOUT_MINUTES": "0"}, ["LOGIN_LOCKOUT_MINUTES"], id="LOGIN_LOCKOUT_MINUTES=0"
        ),
        pytest.param(
            {"SESSION_IDLE_MINUTES": "0"}, ["SESSION_IDLE_MINUTES"], id="SESSION_IDLE_MINUTES=0"
        ),
        pytest.param(
            {"DEADLINE_HORIZON_DAYS": "0"},
            ["DEADLINE_HORIZON_DAYS"],
            id="DEADLINE_HORIZON_DAYS=0",
        ),
        pytest.param(
            {"TRUSTED_PROXY_COUNT": "-1"}, ["TRUSTED_PROXY_COUNT"], id="TRUSTED_PROXY_COUNT=-1"
        ),
        pytest.param({"DATABASE_URL": "ftp://x"}, ["DATABASE_URL"], id="DATABASE_URL=ftp"),
        pytest.param(
            {"DATABASE_URL": "mysql://harmonyze:secret@127.0.0.1:3306/portal"},
            ["DATABASE_URL"],
            id="DATABASE_URL=mysql",
        ),
        pytest.param(
            {"DATABASE_URL": "oracle://harmonyze:secret@127.0.0.1:1521/portal"},
            ["DATABASE_URL"],
            id="DATABASE_URL=oracle",
        ),
        pytest.param(
            {"DATABASE_CONN_MAX_AGE": "forever"},
            ["DATABASE_CONN_MAX_AGE"],
            id="DATABASE_CONN_MAX_AGE=forever",
        ),
        pytest.param({"TASKS_BACKEND": "celery"}, ["TASKS_BACKEND"], id="TASKS_BACKEND=celery"),
        pytest.param(
            {"CSRF_TRUSTED_ORIGINS": "portal.example.com"},
            ["CSRF_TRUSTED_ORIGINS"],
            id="CSRF_TRUSTED_ORIGINS=no-scheme",
        ),
        pytest.param(
            {"CSRF_TRUSTED_ORIGINS": "https://portal.example.com,portal.example.com"},
            ["CSRF_TRUSTED_ORIGINS"],
            id="CSRF_TRUSTED_ORIGINS=second-entry-no-scheme",
        ),
        pytest.param(
            {"PUBLIC_POST_RATE": "lots"}, ["PUBLIC_POST_RATE"], id="PUBLIC_POST_RATE=lots"
        ),
        pytest.param({"REDIS_URL": "http://x"}, ["REDIS_URL"], id="REDIS_URL=http"),
        pytest.param(
            {"EMAIL_HOST": "smtp.harmonyze.com", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"},
            ["EMAIL_USE_TLS", "EMAIL_USE_SSL"],
            id="EMAIL_USE_TLS+EMAIL_USE_SSL",
        ),
        pytest.param(
            {"EMAIL_HOST": "smtp.harmonyze.com", "EMAIL_PORT": "0"},
            ["EMAIL_PORT"],
            id="EMAIL_PORT=0",
        ),
        pytest.param(
            {"LEGAL_INBOX_EMAIL": "nobody"}, ["LEGAL_INBOX_EMAIL"], id="LEGAL_INBOX_EMAIL=nobody"
        ),
        pytest.param(
            {"DEFAULT_FROM_EMAIL": "Harmonyze Privacy"},
            ["DEFAULT_FROM_EMAIL"],
            id="DEFAULT_FROM_EMAIL=no-address",
        ),
        pytest.param({"PORTAL_BASE_URL": "ftp://x"}, ["PORTAL_BASE_URL"], id="PORTAL_BASE_URL=ftp"),
        pytest.param(
            {"PORTAL_BASE_URL": "portal.harmonyze.com"},
            ["PORTAL_BASE_URL"],
            id="PORTAL_BASE_URL=no-scheme",
        ),
        pytest.param({"LOG_LEVEL": "loud"}, ["LOG_LEVEL"], id="LOG_LEVEL=loud"),
        pytest.param(
            {"STAFF_2FA_REQUIRED": "perhaps"},
            ["STAFF_2FA_REQUIRED"],
            id="STAFF_2FA_REQUIRED=perhaps",
        ),
    ],
)
def test_a_malformed_value_names_its_variable(environ: dict[str, str], names: list[str]) -> None:
    message = refusal({**PRODUCTION, **environ})

    for name in names:
        assert name in message


# --- Two-factor authentication -----------------------------------------------------------


def test_staff_2fa_is_required_by_default() -> None:
    assert load_settings(PRODUCTION)["STAFF_2FA_REQUIRED"] is True


def test_production_refuses_switching_staff_2fa_off() -> None:
    assert "STAFF_2FA_REQUIRED" in refusal({**PRODUCTION, "STAFF_2FA_REQUIRED": "0"})


def test_debug_may_switch_staff_2fa_off() -> None:
    assert load_settings({**DEBUG_ON, "STAFF_2FA_REQUIRED": "0"})["STAFF_2FA_REQUIRED"] is False


# --- Production hardening ----------------------------------------------------------------


def test_production_forces_https_and_hsts() -> None:
    settings = load_settings(PRODUCTION)

    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings["SECURE_HSTS_PRELOAD"] is True
    # Load balancers probe health over plain HTTP.
    assert settings["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$", r"^readyz$"]


def test_production_cookies_are_secure() -> None:
    settings = load_settings(PRODUCTION)

    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True


def test_production_denies_framing_and_sends_security_headers() -> None:
    settings = load_settings(PRODUCTION)

    assert settings["X_FRAME_OPTIONS"] == "DENY"
    assert settings["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert "django.middleware.security.SecurityMiddleware" in settings["MIDDLEWARE"]
    assert "django.middleware.clickjacking.XFrameOptionsMiddleware" in settings["MIDDLEWARE"]


def test_production_csp_uses_a_nonce_and_no_inline_code() -> None:
    settings = load_settings(PRODUCTION)
    csp = settings["SECURE_CSP"]

    assert CSP.NONCE in csp["script-src"]
    assert CSP.UNSAFE_INLINE not in csp["script-src"]
    for directive, sources in csp.items():
        assert CSP.UNSAFE_INLINE not in sources, directive
        assert CSP.UNSAFE_EVAL not in sources, directive
    assert csp["frame-ancestors"] == [CSP.NONE]
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in settings["MIDDLEWARE"]
    assert (
        "django.template.context_processors.csp"
        in (settings["TEMPLATES"][0]["OPTIONS"]["context_processors"])
    )


def test_production_ssl_redirect_can_be_switched_off_for_a_terminating_proxy() -> None:
    """``tests.settings`` relies on this; the cookies stay secure all the same."""
    settings = load_settings({**PRODUCTION, "SECURE_SSL_REDIRECT": "0"})

    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_production_trusts_x_forwarded_proto_only_when_told() -> None:
    assert "SECURE_PROXY_SSL_HEADER" not in load_settings(PRODUCTION)

    settings = load_settings({**PRODUCTION, "TRUST_X_FORWARDED_PROTO": "1"})

    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_production_serves_hashed_static_files() -> None:
    settings = load_settings(PRODUCTION)

    assert settings["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_debug_does_not_force_https() -> None:
    settings = load_settings(DEBUG_ON)

    def effective(name: str) -> Any:
        return settings.get(name, getattr(global_settings, name))

    assert effective("SECURE_SSL_REDIRECT") is False
    assert effective("SESSION_COOKIE_SECURE") is False
    assert effective("CSRF_COOKIE_SECURE") is False
    assert effective("SECURE_HSTS_SECONDS") == 0
    # The CSP applies in every mode so that a violation shows up locally.
    assert CSP.NONCE in settings["SECURE_CSP"]["script-src"]


# --- Database ----------------------------------------------------------------------------


def test_database_defaults_to_sqlite_in_the_project_dir() -> None:
    database = load_settings(PRODUCTION)["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(BASE_DIR / "db.sqlite3")
    # Writes take the lock up front; WAL lets readers work while the task worker writes.
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]


def test_database_url_selects_postgresql() -> None:
    settings = load_settings(
        {**PRODUCTION, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}
    )
    database = settings["DATABASES"]["default"]

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "127.0.0.1"
    assert database["PORT"] == 5432
    assert database["NAME"] == "test"
    assert database["USER"] == "postgres"
    assert database["CONN_MAX_AGE"] == 60
    assert database["CONN_HEALTH_CHECKS"] is True


def test_database_conn_max_age_is_configurable() -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
            "DATABASE_CONN_MAX_AGE": "0",
        }
    )

    assert settings["DATABASES"]["default"]["CONN_MAX_AGE"] == 0


def test_database_url_to_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "portal.sqlite3"

    database = load_settings({**PRODUCTION, "DATABASE_URL": f"sqlite:///{path}"})["DATABASES"]

    assert database["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert database["default"]["NAME"] == str(path)


# --- Time (rule T1) ----------------------------------------------------------------------


def test_time_zone_defaults_to_new_york_and_stores_utc_rule_t1() -> None:
    settings = load_settings(PRODUCTION)

    assert settings["TIME_ZONE"] == "America/New_York"
    assert settings["USE_TZ"] is True


def test_time_zone_is_configurable_rule_t1() -> None:
    assert load_settings({**PRODUCTION, "TIME_ZONE": "Europe/Dublin"})["TIME_ZONE"] == (
        "Europe/Dublin"
    )


def test_deadline_horizon_defaults_to_14_days_rule_t5() -> None:
    assert load_settings(PRODUCTION)["DEADLINE_HORIZON_DAYS"] == 14

    settings = load_settings({**PRODUCTION, "DEADLINE_HORIZON_DAYS": "30"})

    assert settings["DEADLINE_HORIZON_DAYS"] == 30


# --- Tasks, cache, email -----------------------------------------------------------------


def test_production_tasks_go_to_the_database_queue() -> None:
    tasks = load_settings(PRODUCTION)["TASKS"]

    assert tasks["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


@pytest.mark.parametrize(
    "environ",
    [
        pytest.param({**PRODUCTION, "TASKS_BACKEND": "immediate"}, id="production-immediate"),
        pytest.param({**PRODUCTION, "TASKS_BACKEND": "Immediate"}, id="case-insensitive"),
        pytest.param(DEBUG_ON, id="debug-default"),
    ],
)
def test_tasks_run_immediately_when_asked(environ: dict[str, str]) -> None:
    tasks = load_settings(environ)["TASKS"]

    assert tasks["default"]["BACKEND"] == "django.tasks.backends.immediate.ImmediateBackend"


def test_cache_defaults_to_the_database() -> None:
    cache = load_settings(PRODUCTION)["CACHES"]["default"]

    assert cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert cache["LOCATION"] == "harmonyze_cache"


def test_redis_url_selects_the_redis_cache() -> None:
    settings = load_settings({**PRODUCTION, "REDIS_URL": "redis://127.0.0.1:6379/0"})
    cache = settings["CACHES"]["default"]

    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/0"


def test_production_refuses_to_start_without_an_smtp_server() -> None:
    """Rules S3, S6: a notice printed to a console is a notice nobody received."""
    environ = {name: value for name, value in PRODUCTION.items() if name != "EMAIL_HOST"}

    assert "EMAIL_HOST must be set when DEBUG is off" in refusal(environ)


def test_email_defaults_to_the_console_in_debug() -> None:
    mailers = load_settings(DEBUG_ON)["MAILERS"]

    assert mailers == {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}


def test_email_use_ssl_alone_turns_starttls_off() -> None:
    options = load_settings({**PRODUCTION, "EMAIL_USE_SSL": "1"})["MAILERS"]["default"]["OPTIONS"]

    assert (options["port"], options["use_tls"], options["use_ssl"]) == (465, False, True)


def test_email_host_selects_smtp_with_starttls() -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            "EMAIL_HOST": "smtp.harmonyze.com",
            "EMAIL_HOST_USER": "portal",
            "EMAIL_HOST_PASSWORD": "mail-secret",
        }
    )
    mailer = settings["MAILERS"]["default"]

    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "smtp.harmonyze.com",
        "port": 587,
        "username": "portal",
        "password": "mail-secret",
        "use_tls": True,
        "use_ssl": False,
        "timeout": 30,
    }


def test_email_implicit_tls_defaults_to_port_465() -> None:
    settings = load_settings(
        {
            **PRODUCTION,
            "EMAIL_HOST": "smtp.harmonyze.com",
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "1",
        }
    )
    options = settings["MAILERS"]["default"]["OPTIONS"]

    assert (options["port"], options["use_tls"], options["use_ssl"]) == (465, False, True)


def test_email_port_is_configurable() -> None:
    settings = load_settings({**PRODUCTION, "EMAIL_HOST": "smtp.harmonyze.com", "EMAIL_PORT": "25"})

    assert settings["MAILERS"]["default"]["OPTIONS"]["port"] == 25


def test_log_level_is_upper_cased_for_logging() -> None:
    settings = load_settings({**PRODUCTION, "LOG_LEVEL": "Warning"})

    assert settings["LOG_LEVEL"] == "WARNING"
    assert settings["LOGGING"]["root"]["level"] == "WARNING"


# --- Env, the readers --------------------------------------------------------------------


def test_env_reads_os_environ_by_default() -> None:
    assert Env().environ is os.environ


def test_env_text_strips_and_defaults() -> None:
    env = Env({"NAME": "  value  "})

    assert env.text("NAME") == "value"
    assert env.text("MISSING") == ""
    assert env.text("MISSING", "fallback") == "fallback"


def test_env_required_names_the_variable_and_why() -> None:
    env = Env({"BLANK": "   ", "SET": " value "})

    assert env.required("SET", "needed") == "value"
    with pytest.raises(ImproperlyConfigured, match=r"^BLANK must be set: it signs things$"):
        env.required("BLANK", "it signs things")
    with pytest.raises(ImproperlyConfigured, match=r"^MISSING must be set"):
        env.required("MISSING", "needed")


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_env_flag_true_values(raw: str) -> None:
    assert Env({"FLAG": raw}).flag("FLAG", default=False) is True


@pytest.mark.parametrize("raw", ["0", "false", "False", "no", "off", "", "  "])
def test_env_flag_false_values(raw: str) -> None:
    assert Env({"FLAG": raw}).flag("FLAG", default=True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_flag_missing_is_the_default(default: bool) -> None:
    assert Env({}).flag("FLAG", default=default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "y", "enabled"])
def test_env_flag_refuses_anything_else(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^FLAG=.* is not a boolean"):
        Env({"FLAG": raw}).flag("FLAG", default=False)


def test_env_number() -> None:
    env = Env({"COUNT": " 42 ", "BLANK": "", "LOW": "1"})

    assert env.number("COUNT", 5) == 42
    assert env.number("BLANK", 5) == 5
    assert env.number("MISSING", 5) == 5
    assert env.number("LOW", 5, minimum=1) == 1  # the minimum itself is allowed


@pytest.mark.parametrize("raw", ["five", "4.5", "1e3", "0x10"])
def test_env_number_refuses_non_integers(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^COUNT=.* is not a whole number"):
        Env({"COUNT": raw}).number("COUNT", 5)


@pytest.mark.parametrize(("raw", "minimum"), [("0", 1), ("-1", 0), ("9", 10)])
def test_env_number_refuses_values_below_the_minimum(raw: str, minimum: int) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"^COUNT={raw} is below the minimum of"):
        Env({"COUNT": raw}).number("COUNT", 5, minimum=minimum)


def test_env_items() -> None:
    env = Env({"LIST": " a.example , b.example,, c.example ,", "BLANK": " "})

    assert env.items("LIST") == ["a.example", "b.example", "c.example"]
    assert env.items("BLANK", ["x"]) == ["x"]
    assert env.items("MISSING") == []


def test_env_items_default_is_copied() -> None:
    default = ["localhost"]

    Env({}).items("LIST", default).append("evil.example")

    assert default == ["localhost"]


def test_env_choice() -> None:
    env = Env({"BACKEND": " Immediate "})

    assert env.choice("BACKEND", "database", ("immediate", "database")) == "immediate"
    assert env.choice("MISSING", "database", ("immediate", "database")) == "database"


def test_env_choice_refuses_and_lists_the_choices() -> None:
    with pytest.raises(ImproperlyConfigured) as excinfo:
        Env({"BACKEND": "celery"}).choice("BACKEND", "database", ("immediate", "database"))

    assert str(excinfo.value) == "BACKEND='celery' is not one of: immediate, database."


def test_env_time_zone() -> None:
    env = Env({"TZ_SET": "Europe/Dublin"})

    assert env.time_zone("TZ_SET", "America/New_York") == "Europe/Dublin"
    assert env.time_zone("MISSING", "America/New_York") == "America/New_York"


@pytest.mark.parametrize("reader", ["time_zone", "choice", "rate"])
def test_env_empty_value_means_the_default(reader: str) -> None:
    # `TIME_ZONE=` in a compose file or systemd unit means "not set", as for numbers and lists.
    env = Env({"EMPTY": "  "})
    if reader == "time_zone":
        assert env.time_zone("EMPTY", "America/New_York") == "America/New_York"
    elif reader == "choice":
        assert env.choice("EMPTY", "info", ("info", "debug")) == "info"
    else:
        assert env.rate("EMPTY", "10/h") == "10/h"


@pytest.mark.parametrize("raw", ["Mars/Olympus", "America", "../etc", "/etc/localtime"])
def test_env_time_zone_refuses_non_iana_names(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^ZONE=.* is not an IANA time zone"):
        Env({"ZONE": raw}).time_zone("ZONE", "America/New_York")


@pytest.mark.parametrize("raw", ["10/h", "100/15m", "1/s", "5/2d", "30/1m"])
def test_env_rate_accepts_django_ratelimit_rates(raw: str) -> None:
    assert Env({"RATE": raw}).rate("RATE", "10/h") == raw


def test_env_rate_missing_is_the_default() -> None:
    assert Env({}).rate("RATE", "10/h") == "10/h"


@pytest.mark.parametrize("raw", ["lots", "0/h", "10", "10/", "10/x", "10/hour", "-1/h", "1.5/h"])
def test_env_rate_refuses_what_is_not_a_rate(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^RATE=.* is not a rate"):
        Env({"RATE": raw}).rate("RATE", "10/h")


@pytest.mark.parametrize("raw", ["10/0m", "10/00h"])
def test_env_rate_refuses_a_zero_length_period(raw: str) -> None:
    """django-ratelimit turns ``10/0m`` into a 0-second window and divides by it on every POST
    (``ts % period``), so the portal must refuse it at start-up, not crash at the first form."""
    with pytest.raises(ImproperlyConfigured, match=r"^RATE=.* is not a rate"):
        Env({"RATE": raw}).rate("RATE", "10/h")


def test_env_origins() -> None:
    env = Env({"ORIGINS": "https://portal.harmonyze.com, http://localhost:8000"})

    assert env.origins("ORIGINS") == ["https://portal.harmonyze.com", "http://localhost:8000"]
    assert env.origins("MISSING") == []


@pytest.mark.parametrize("raw", ["portal.example.com", "https://ok.example,//x.example", "ftp://x"])
def test_env_origins_refuse_an_entry_without_scheme(raw: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^ORIGINS entry .* must start with https://"):
        Env({"ORIGINS": raw}).origins("ORIGINS")


# --- The deploy check --------------------------------------------------------------------


def test_manage_py_check_deploy_passes_in_production(tmp_path: Path) -> None:
    """With DEBUG off, settings that load must also pass Django's deployment checklist:
    anything ``check --deploy`` rejects should have been refused at start-up."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in SETTINGS_VARIABLES and name != "DJANGO_SETTINGS_MODULE"
    }
    environ |= {
        "DJANGO_SETTINGS_MODULE": "harmonyze_portal.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.harmonyze.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "EMAIL_HOST": "smtp.harmonyze.com",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
