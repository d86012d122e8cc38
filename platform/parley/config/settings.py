"""Parley settings, read from the environment (see the README's configuration table).

Embedded default: SQLite under var/ and Celery in eager mode, so `make run` needs no
services. DATABASE_URL / REDIS_URL switch to PostgreSQL and a real broker.
"""
from datetime import timedelta
from pathlib import Path
import os

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[3]  # repository root
VAR_DIR = Path(os.environ.get("PARLEY_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("PARLEY_DEBUG", default=False)
def _installation_secret_key() -> str:
    """A random key made once per installation and kept in var/ (never a key from the repo).

    Several machines sharing a database must set the same PARLEY_SECRET_KEY instead.
    """
    import secrets

    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = os.environ.get("PARLEY_SECRET_KEY", "") or _installation_secret_key()

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("PARLEY_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("PARLEY_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "parley.access.apps.ParleyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",  # login throttling (docs/security.md, "Authentication surface")
    # Parley apps, in import order (an app imports only from apps above it).
    "parley.events",
    "parley.runs",
    "parley.checks",
    "parley.locales",
    "parley.access",
    "parley.nlu",
    "parley.interchange",
    "parley.datasets",
    "parley.feedback",
    "parley.collection",
    "parley.culture",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # NUL in the path, query or credentials is a 400 before any view or database sees it.
    "parley.config.middleware.HostileRequestMiddleware",
    # A view that cannot reach the database (or get a pooled connection in time) answers 503.
    "parley.config.faults.DatabaseUnavailableMiddleware",
    # Read-path copies (tokens, locale registry, templates) check their counters once a request.
    "parley.config.generations.GenerationSnapshotMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: the admin follows the user's language preference.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "parley.config.urls"
WSGI_APPLICATION = "parley.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
# PostgreSQL connections are bounded per process by a psycopg pool (Django 5.2 `OPTIONS["pool"]`),
# whatever serves: runserver starts a thread per request, gunicorn runs workers (and threads), a
# Celery worker runs tasks with helper threads. A request waits up to the pool timeout for a free
# connection, then answers 503. The bound of a deployment is processes x PARLEY_DB_POOL_MAX_SIZE
# (plus one per running task's heartbeat and import writer threads, which come from the same pool).
# "0" turns the pool off: one persistent connection per thread, unbounded under runserver.
PARLEY_DB_POOL_MAX_SIZE = int(os.environ.get("PARLEY_DB_POOL_MAX_SIZE", 8))
PARLEY_DB_POOL_TIMEOUT_SECONDS = float(os.environ.get("PARLEY_DB_POOL_TIMEOUT_SECONDS", 10))
if DATABASE_URL:
    if PARLEY_DB_POOL_MAX_SIZE > 0:
        # Pooled connections go back to the pool at the end of each request (no CONN_MAX_AGE);
        # idle ones beyond min_size are closed after max_idle seconds.
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": PARLEY_DB_POOL_MAX_SIZE, "timeout": PARLEY_DB_POOL_TIMEOUT_SECONDS,
            "max_idle": 300}
    else:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "parley.sqlite3",
            # Writers wait instead of failing with "database is locked" under the dev server.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out user+address before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "parley.access.backends.LocaleScopedRoleBackend"]

# Login throttling (/admin/login/, /collect/login/): after PARLEY_LOGIN_FAILURE_LIMIT failed logins
# for one user name from one address, that pair is refused (even the right password) for
# PARLEY_LOGIN_COOLOFF_MINUTES after the last failure; a successful login clears the count. Counts
# live in the database (shared by every process). The client address is REMOTE_ADDR, or behind
# PARLEY_TRUSTED_PROXY_COUNT proxies the X-Forwarded-For entry the outermost one appended.
AXES_FAILURE_LIMIT = int(os.environ.get("PARLEY_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("PARLEY_LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout do not extend it: the cool-off runs from the last failure that counted.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "parley.config.logins.lockout_response"  # access/lockout.html, HTTP 429
AXES_VERBOSE = False
PARLEY_TRUSTED_PROXY_COUNT = int(os.environ.get("PARLEY_TRUSTED_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "parley.config.logins.client_address"

# The OpenAPI schema and Swagger UI: API tokens and admin-role users only, unless this opens them.
PARLEY_API_DOCS_PUBLIC = env_flag("PARLEY_API_DOCS_PUBLIC", default=False)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "platform" / "parley" / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request if it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "admin:login"

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "parley.access.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["parley.access.permissions.IsAuthenticatedActor"],
    "DEFAULT_PAGINATION_CLASS": "parley.api.pagination.StableCursorPagination",
    "PAGE_SIZE": 100,
    # DRF's parsers with the hostile-input rules (parley/api/parsers.py): NUL, lone surrogates,
    # deep nesting, NaN/Infinity and oversized numbers are a 400, never a 500.
    "DEFAULT_PARSER_CLASSES": ["parley.api.parsers.JSONParser", "parley.api.parsers.FormParser",
                               "parley.api.parsers.MultiPartParser"],
    # django-filter's backend, refusing a boolean parameter it would silently ignore (api/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["parley.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "parley.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Parley API",
    "DESCRIPTION": "Locale and cultural-context management for multilingual virtual assistants.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Sidecar assets: the docs work offline, with no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the error shape and the errors any request can get, and form bodies
    # what an empty value means (parley/api/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "parley.api.schema.error_responses",
                           "parley.api.schema.form_empty_values"],
    "ENUM_NAME_OVERRIDES": {
        "LocaleStatusEnum": "parley.locales.models.Locale.Status",
        "TaskRunStatusEnum": "parley.runs.models.TaskRun.Status",
        "PartitionEnum": "parley.nlu.models.Utterance.Partition",
        # culture
        "ResponseTemplateStatusEnum": "parley.culture.models.ResponseTemplate.Status",
        "SensitiveTermKindEnum": "parley.culture.models.SensitiveTerm.Kind",
    },
}

# --- Celery ---------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CELERY_BROKER_URL = REDIS_URL or "memory://"
# No broker configured: run tasks in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("PARLEY_CELERY_QUEUE", "parley")
# After this long in "queued", a task run reports whether any worker consumes its queue.
PARLEY_TASK_PICKUP_GRACE_SECONDS = int(os.environ.get("PARLEY_TASK_PICKUP_GRACE_SECONDS", 15))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker that does not answer must not hold a web request: connecting gives up after this long,
# and a send is tried 3 times within about a second, then the run stays in the outbox.
PARLEY_BROKER_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("PARLEY_BROKER_CONNECT_TIMEOUT_SECONDS", 3))
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600,
                                   "socket_connect_timeout": PARLEY_BROKER_CONNECT_TIMEOUT_SECONDS}
CELERY_BROKER_CONNECTION_TIMEOUT = PARLEY_BROKER_CONNECT_TIMEOUT_SECONDS
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.2,
                                    "interval_max": 0.5}
# A running task's worker writes a heartbeat this often; a run whose heartbeat is older than the
# stale limit is failed by the sweeper ("worker lost", with "run again"). The sweeper also sends
# runs the broker did not take (the outbox) once they are older than the retry delay.
PARLEY_TASK_HEARTBEAT_SECONDS = float(os.environ.get("PARLEY_TASK_HEARTBEAT_SECONDS", 10))
PARLEY_TASK_STALE_SECONDS = float(os.environ.get("PARLEY_TASK_STALE_SECONDS", 30))
PARLEY_TASK_SWEEP_SECONDS = float(os.environ.get("PARLEY_TASK_SWEEP_SECONDS", 15))
PARLEY_TASK_DISPATCH_RETRY_SECONDS = float(os.environ.get("PARLEY_TASK_DISPATCH_RETRY_SECONDS", 10))
CELERY_TASK_IGNORE_RESULT = True  # results live in TaskRun rows, not in the broker
# Validated data flows on its own: accepted candidates are promoted, due webhooks retried.
CELERY_BEAT_SCHEDULE: dict = {
    "datasets-promote-pending": {"task": "parley.datasets.tasks.promote_pending_task",
                                 "schedule": float(os.environ.get("PARLEY_PROMOTE_EVERY_SECONDS", 300))},
    "datasets-webhooks-retry-due": {"task": "parley.datasets.tasks.webhook_retry_due_task", "schedule": 30.0},
    # Lost workers' runs fail with a reason; runs the broker did not take are sent.
    "runs-sweep": {"task": "parley.runs.tasks.task_runs_sweep_task", "schedule": PARLEY_TASK_SWEEP_SECONDS},
}

# --- Parley ---------------------------------------------------------------------
# How long a process may trust its copy of a token's grants, the locale registry or a template
# key's texts without their counter changing (parley/config/generations.py). "0" turns copies
# off; unset: 30 s with REDIS_URL (shared counters), off without (counters per process).
PARLEY_READ_CACHE_SECONDS = (float(os.environ["PARLEY_READ_CACHE_SECONDS"])
                             if os.environ.get("PARLEY_READ_CACHE_SECONDS", "").strip() else None)
PARLEY_LOCALE_PACKS_DIR = Path(os.environ.get("PARLEY_LOCALE_PACKS_DIR", BASE_DIR / "locales"))
PARLEY_FIXTURES_DIR = BASE_DIR / "fixtures"
# Uploaded import files: where they are kept, and the largest accepted.
PARLEY_IMPORT_DIR = VAR_DIR / "imports"
# A finished batch's uploaded file is deleted this many days after it finished (the batch and its
# reject report stay); files no batch names (a killed upload) and spooled request files go once
# older than the orphan age. The cleanup is a beat task (interchange.tasks.import_files_clean_task).
PARLEY_IMPORT_RETENTION_DAYS = float(os.environ.get("PARLEY_IMPORT_RETENTION_DAYS", 7))
PARLEY_UPLOAD_ORPHAN_HOURS = float(os.environ.get("PARLEY_UPLOAD_ORPHAN_HOURS", 24))
# Large request bodies spool here (not the system /tmp), so the cleanup finds what a killed request left.
FILE_UPLOAD_TEMP_DIR = VAR_DIR / "uploads-tmp"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE["interchange-import-files-clean"] = {
    "task": "parley.interchange.tasks.import_files_clean_task", "schedule": 3600.0}
# Published releases live here, one read-only folder each; builds stage beside them.
PARLEY_RELEASES_DIR = Path(os.environ.get("PARLEY_RELEASES_DIR", VAR_DIR / "releases"))
# Webhook deliveries: attempts before giving up, first backoff (doubling), request timeout.
PARLEY_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("PARLEY_WEBHOOK_MAX_ATTEMPTS", 6))
PARLEY_WEBHOOK_BACKOFF_SECONDS = int(os.environ.get("PARLEY_WEBHOOK_BACKOFF_SECONDS", 30))
PARLEY_WEBHOOK_TIMEOUT_SECONDS = int(os.environ.get("PARLEY_WEBHOOK_TIMEOUT_SECONDS", 10))
# Webhooks reach public addresses only; these host names, addresses or networks (CIDR) are the
# exceptions, e.g. "127.0.0.1" for a local receiver in development (docs/security.md).
PARLEY_WEBHOOK_ALLOWED_HOSTS = [h.strip() for h in os.environ.get("PARLEY_WEBHOOK_ALLOWED_HOSTS", "").split(",")
                                if h.strip()]
PARLEY_IMPORT_MAX_BYTES = int(os.environ.get("PARLEY_IMPORT_MAX_BYTES", 512 * 1024 * 1024))
# Archives are checked against these before anything is read (MASSIVE 1.1 unpacks to ~1 GB).
PARLEY_IMPORT_MAX_UNPACKED_BYTES = int(os.environ.get("PARLEY_IMPORT_MAX_UNPACKED_BYTES", 4 * 1024 ** 3))
PARLEY_IMPORT_MAX_MEMBERS = int(os.environ.get("PARLEY_IMPORT_MAX_MEMBERS", 10_000))
# A longer line is one reject naming its line, read past without being held (MASSIVE's longest is ~3 KB).
PARLEY_IMPORT_MAX_LINE_BYTES = int(os.environ.get("PARLEY_IMPORT_MAX_LINE_BYTES", 1024 * 1024))
# An import writing at least this many rows vacuums the utterance table after it (PostgreSQL).
PARLEY_IMPORT_VACUUM_ROWS = int(os.environ.get("PARLEY_IMPORT_VACUUM_ROWS", 50_000))
# An import into an EMPTY utterance table drops its secondary indexes and rebuilds
# them before committing (PostgreSQL; the table stays locked until then). "0" turns this off.
PARLEY_IMPORT_EMPTY_TABLE_REBUILD = os.environ.get("PARLEY_IMPORT_EMPTY_TABLE_REBUILD", "1") != "0"
# Request bodies (files excepted) larger than this answer 413 in the API's error shape.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# JSON request bodies nested deeper than this answer 400 (no endpoint takes more than a few levels).
PARLEY_API_MAX_JSON_DEPTH = 32
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # larger uploads spool to a temporary file
# An API token's last-used time is written at most this often, not on every request.
PARLEY_TOKEN_LAST_USED_RESOLUTION_SECONDS = 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PARLEY_LOG_LEVEL", "INFO")},
    # django-axes says INFO on every login; failures and lockouts are WARNING.
    "loggers": {"axes": {"level": "WARNING"}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    X_FRAME_OPTIONS = "DENY"


# --- Feedback (issue 8) -----------------------------------------------------------
PARLEY_FEEDBACK_MAX_BATCH = int(os.environ.get("PARLEY_FEEDBACK_MAX_BATCH", 1000))  # events a request
# Events a token may push per minute (Redis counter when REDIS_URL is set, else per process).
PARLEY_FEEDBACK_RATE_PER_MINUTE = int(os.environ.get("PARLEY_FEEDBACK_RATE_PER_MINUTE", 600_000))
PARLEY_FEEDBACK_CLOCK_SKEW_SECONDS = 300  # how far in the future an event's timestamp may be
PARLEY_FEEDBACK_SLA_HOURS = int(os.environ.get("PARLEY_FEEDBACK_SLA_HOURS", 72))  # when a locale sets none
PARLEY_FEEDBACK_REPHRASE_WINDOW_SECONDS = 120  # a rephrase follows its failed turn within this
PARLEY_FEEDBACK_MIN_SUPPORT = 3  # distinct sessions before a mined pair becomes a candidate
CELERY_BEAT_SCHEDULE["feedback-escalate"] = {"task": "parley.feedback.tasks.feedback_sla_escalate",
                                             "schedule": 600.0}
CELERY_BEAT_SCHEDULE["feedback-mine"] = {"task": "parley.feedback.tasks.paraphrase_mine_scheduled",
                                         "schedule": 86400.0}
# Feedback's own `kind` and `partition` choices would otherwise rename nlu's enums to hashed names.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "FeedbackKindEnum": "parley.feedback.models.Kind",
    "FeedbackLabelPartitionEnum": ["train", "test"],
    "KindEnum": "parley.nlu.models.SlotType.Kind",
})
