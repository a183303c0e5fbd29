"""Django settings of e-bourgogne.

One module for every environment. Everything that differs between a laptop and production comes from
environment variables, all declared in `ebourgogne.config` (and documented in docs/deployment.md).
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from ebourgogne.config import data_dir, env, env_bool, env_list

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
# Sealed bids (encrypted files, uploads in progress): tenders.uploads.bids_root(); empty = <DATA_DIR>/bids.
TENDERS_STORAGE_DIR = env("EBOURGOGNE_BIDS_DIR") or None
# The companies' vault (encrypted at rest) and the platform's signing CA: <data folder>/vault and
# <data folder>/signing-ca unless set (shared volumes with several nodes).
VAULT_STORAGE_DIR = env("EBOURGOGNE_VAULT_DIR") or None
VAULT_PLATFORM_KEY = env("EBOURGOGNE_VAULT_PLATFORM_KEY")
VAULT_PLATFORM_KEY_PREVIOUS = env("EBOURGOGNE_VAULT_PLATFORM_KEY_PREVIOUS")
SIGNATURES_CA_DIR = env("EBOURGOGNE_SIGNATURES_CA_DIR")
ALERTS_UNSUBSCRIBE_MAILTO = env("EBOURGOGNE_ALERTS_UNSUBSCRIBE_MAILTO")

PRODUCTION = env_bool("EBOURGOGNE_PRODUCTION")
DEBUG = env_bool("EBOURGOGNE_DEBUG") and not PRODUCTION


def _secret_key() -> str:
    configured = env("EBOURGOGNE_SECRET_KEY")
    if configured:
        return configured
    if PRODUCTION:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("EBOURGOGNE_SECRET_KEY must be set when EBOURGOGNE_PRODUCTION=1.")
    # Demo and development: one key per data folder, kept across restarts so sessions survive.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("EBOURGOGNE_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("EBOURGOGNE_CSRF_TRUSTED_ORIGINS")
BASE_URL = env("EBOURGOGNE_BASE_URL").rstrip("/")

INSTALLED_APPS = [
    # Our apps first, so that their templates override those of the libraries.
    "ebourgogne.core",
    "ebourgogne.accounts",
    "ebourgogne.organisations",
    "ebourgogne.audit",
    "ebourgogne.notifications",
    "ebourgogne.portal",
    "ebourgogne.consultations",
    "ebourgogne.dce",
    "ebourgogne.questions",
    "ebourgogne.search",
    "ebourgogne.apitokens",
    "ebourgogne.commissions",
    "ebourgogne.sealing",
    "ebourgogne.timestamping",
    "ebourgogne.tenders",
    "ebourgogne.meetings",
    "ebourgogne.signatures",
    "ebourgogne.alerts",
    "ebourgogne.vault",
    "ebourgogne.awards",
    "ebourgogne.indicators",
    "ebourgogne.contracts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks_db",
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ebourgogne.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "ebourgogne.accounts.authentication.AuthenticationMiddleware",  # Django's, user row read by compiled SQL
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "ebourgogne.accounts.middleware.RequireMFAMiddleware",
]

ROOT_URLCONF = "ebourgogne.urls"
if env_bool("EBOURGOGNE_BENCH"):  # `ebourgogne bench` only: the real URLs plus a bare reference view
    ROOT_URLCONF = "ebourgogne.bench_urls"
WSGI_APPLICATION = "ebourgogne.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ebourgogne.core.context_processors.platform",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
_database_url = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Connections are kept open as PostgreSQL's are (CONN_MAX_AGE 60 s, one per server thread): opening
    # one and running the PRAGMAs below for every request cost about 0.3 ms of each.
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the in-process worker read while one of them writes. The file is read
        # through a memory map (as much of it as SQLite's build allows, 2 GiB for Debian's; address space,
        # not memory: the pages are the system's cache, shared by every connection), the rest through a
        # 16 MiB page cache per connection (SQLite's default is 2 MB): at a million consultations the file
        # is 2.4 GB and 2,000 lookups in a search index beyond the map cost 4.7 ms against 2.1
        # (docs/benchmarks.md "Session 7").
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; "
            "PRAGMA mmap_size=17179869184; PRAGMA cache_size=-16384;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # Tests run on a file too, not on SQLite's in-memory shared cache: there a connection that meets another
    # one's lock fails at once instead of waiting busy_timeout, which the kept-open connections of the
    # in-process worker and scheduler threads would make a matter of luck.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, sessions stay in the database) --------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks -------------------------------------------------------------------------------
TASKS_BACKEND_NAME = env("EBOURGOGNE_TASKS_BACKEND") or ("redis" if REDIS_URL else "database")
_TASK_BACKENDS = {
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail"]},
    "redis": {
        "BACKEND": "ebourgogne.core.tasks_redis.RedisBackend",
        "QUEUES": ["default", "mail"],
        "OPTIONS": {"url": REDIS_URL or "redis://127.0.0.1:6379/0"},
    },
    "immediate": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "mail"]},
}
TASKS = {"default": _TASK_BACKENDS[TASKS_BACKEND_NAME]}

# --- Files ------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it, even before collectstatic
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
if env("EBOURGOGNE_STORAGE") == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("EBOURGOGNE_S3_BUCKET"),
            "endpoint_url": env("EBOURGOGNE_S3_ENDPOINT_URL") or None,
            "region_name": env("EBOURGOGNE_S3_REGION") or None,
            "access_key": env("EBOURGOGNE_S3_ACCESS_KEY") or None,
            "secret_key": env("EBOURGOGNE_S3_SECRET_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The demo and the tests serve static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
if not PRODUCTION:
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# DCE downloads handed to nginx (X-Accel-Redirect) under this internal location; empty: streamed by the app.
DCE_X_ACCEL_REDIRECT = env("EBOURGOGNE_X_ACCEL_REDIRECT")

# Bad input never reaches a 500: large bodies are refused with a clear 413 page.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- E-mail -----------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env("EBOURGOGNE_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env("EBOURGOGNE_EMAIL") == "smtp":
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("EBOURGOGNE_SMTP_HOST"),
                "port": int(env("EBOURGOGNE_SMTP_PORT")),
                "username": env("EBOURGOGNE_SMTP_USER"),
                "password": env("EBOURGOGNE_SMTP_PASSWORD"),
                "use_tls": env_bool("EBOURGOGNE_SMTP_TLS"),
                "use_ssl": env_bool("EBOURGOGNE_SMTP_SSL"),
                "timeout": 30,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "ebourgogne.notifications.backends.OutboxBackend"}}

# --- Accounts ---------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "portal:home"

ACCOUNT_ADAPTER = "ebourgogne.accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[e-bourgogne] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "5/5m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
MFA_ADAPTER = "ebourgogne.accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "e-bourgogne"
# One period either side (RFC 6238 §5.2): a code typed as the 30 s period turns is still accepted; a code is
# accepted once only (allauth remembers the codes used for the whole window).
MFA_TOTP_TOLERANCE = 1
MFA_RATE_LIMITS = {"authenticate": "5/m/user", "reauthenticate": "5/m/user"}

# --- Sessions, cookies, security headers ------------------------------------------------------------
# Django's database sessions, read by compiled SQL; through the cache as well when that cache is shared by
# every process (Redis): never with a per-process cache, where a logout would not reach the other processes.
SESSION_ENGINE = "ebourgogne.core.sessions_cached" if REDIS_URL else "ebourgogne.core.sessions"
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "ebourgogne_session"
CSRF_COOKIE_NAME = "ebourgogne_csrftoken"
LANGUAGE_COOKIE_NAME = "ebourgogne_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "ebourgogne.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # /healthz and /readyz are probed over plain HTTP by load balancers inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env_bool("EBOURGOGNE_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# --- Languages and time -----------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS: list = []  # each app carries its own locale/ folder
USE_I18N = True
TIME_ZONE = "Europe/Paris"
USE_TZ = True

# --- Logging ----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"ebourgogne": {"handlers": ["console"], "level": env("EBOURGOGNE_LOG_LEVEL"), "propagate": False}},
}

SILENCED_SYSTEM_CHECKS: list[str] = []
