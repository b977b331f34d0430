"""One settings module, driven by environment variables.

Defaults are safe for a developer laptop: SQLite, kombu's filesystem broker and the Slurm
backend that only records intended changes. Production sets the variables listed in README.md.
"""

import json
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_int, env_list, env_str, url_origin

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("AIF_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# The "django-insecure-" prefix makes `check --deploy` flag a deployment that forgot SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY", "django-insecure-dev-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A refused form (expired page, cookies blocked) gets the portal's page that says how to send it again.
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "compliance",
    "allocations",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Ahead of everything that answers on its own (static files, the 413 page, redirects): every
    # response gets Content-Security-Policy and Permissions-Policy.
    "csp.middleware.CSPMiddleware",
    "portal.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the body (the CSRF middleware reads a form's fields): refuses it by its length.
    "portal.uploads.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMFARequiredMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
                "accounts.context_processors.roles",
                "accounts.context_processors.notifications",
            ],
        },
    },
    {
        # The plain-text mails (portal.emails): the same templates, never HTML-escaped ("D'Hondt", not
        # "D&#x27;Hondt"); the HTML alternative is built from the text, escaped there.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "dashboard"
LOGIN_URL = "account_login"

# django-allauth: e-mail is the login, verification is mandatory.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"  # adds the person's full name
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[AI Factory] "
if env_bool("AIF_DISABLE_RATE_LIMITS", False):
    ACCOUNT_RATE_LIMITS = False
# The client's address behind the reverse proxy, for allauth's rate limits, the API token failure
# counts and the audit trail alike (portal.client_ip). With neither set, REMOTE_ADDR is the client:
# behind a proxy that would be the proxy, and one client's failures would lock everyone out.
# AIF_TRUSTED_PROXY_COUNT: how many proxies of ours append to X-Forwarded-For (the client is the
# entry that many from the end; anything before it is the client's own, forgeable, text).
# AIF_CLIENT_IP_HEADER: a header our proxy sets to the client's address (X-Real-IP); it wins over the count.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("AIF_TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env_str("AIF_CLIENT_IP_HEADER", "") or None
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = "AI Factory portal"
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"

# OpenID Connect single sign-on (EuroHPC users sign in through an OIDC proxy such as MyAccessID).
# accounts.oidc adds to allauth's provider what a client must check (nonce, signature, userinfo subject).
OIDC_PROVIDER_ID = env_str("OIDC_PROVIDER_ID", "myaccessid")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
OIDC_SERVER_URL = env_str("OIDC_SERVER_URL", "")
OIDC_NAME = env_str("OIDC_NAME", "MyAccessID")
# acr values sent with the authorization request (acr_values, comma-separated here): many providers
# state in the ID token how the person signed in (acr) only when asked.
OIDC_ACR_VALUES = env_list("OIDC_ACR_VALUES", [])
# The provider class is set even without an app: allauth reads it once, when the URLs are built.
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "provider_class": "accounts.oidc.provider.PortalOIDCProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [],
    }
}
if OIDC_CLIENT_ID and OIDC_SERVER_URL:
    # email_authentication: a sign-in whose e-mail the provider marks verified (email_verified) signs
    # in to, and is linked to, the portal account with that address; an unverified one never does.
    _oidc_app_settings = {"server_url": OIDC_SERVER_URL, "email_authentication": True}
    if OIDC_ACR_VALUES:
        _oidc_app_settings["auth_params"] = {"acr_values": " ".join(OIDC_ACR_VALUES)}
    SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].append({
        "provider_id": OIDC_PROVIDER_ID,
        "name": OIDC_NAME,
        "client_id": OIDC_CLIENT_ID,
        "secret": OIDC_CLIENT_SECRET,
        "settings": _oidc_app_settings,
    })
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
# A second factor passed at the identity provider: when AIF_TRUST_IDP_MFA is on and the ID token's acr
# is one of AIF_IDP_MFA_ACR_VALUES (default: the REFEDS MFA profile), the single sign-on counts as the
# portal's second factor (accounts.mfa.record_idp_mfa). Off by default: staff then enter the portal's own.
AIF_TRUST_IDP_MFA = env_bool("AIF_TRUST_IDP_MFA", False)
AIF_IDP_MFA_ACR_VALUES = env_list("AIF_IDP_MFA_ACR_VALUES", ["https://refeds.org/profile/mfa"])

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("nl", _("Dutch"))]
# locale_overrides/ holds hand-kept wording for the installed apps (allauth's Dutch in the formal "u"); makemessages
# writes to the first entry only.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_overrides"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True
# Dates in the day-month order of the active language (portal/formats/en replaces Django's US English
# formats), numbers grouped by thousands ("7,000,000", "7 000 000", "7.000.000").
FORMAT_MODULE_PATH = ["portal.formats"]
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded attachments live outside static files and are served only through permission checks.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
# A request body over this is refused with 413 before any of it is read (portal/uploads.py): no temporary
# file is written. The margin over ATTACHMENT_MAX_BYTES is for the form's other fields and the multipart
# framing, so that a file a little over the limit gets the form's own message. See docs/deploy.md.
UPLOAD_MAX_BODY_BYTES = env_int("UPLOAD_MAX_BODY_BYTES", ATTACHMENT_MAX_BYTES + 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.BodyLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# An uploaded file up to this size stays in memory while it is checked; a larger one (up to the limit
# above) goes to a temporary file in FILE_UPLOAD_TEMP_DIR, removed at the end of the request.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Form fields and JSON bodies, files excluded: nothing the portal takes comes near it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "AI Factory portal <noreply@aifactory.example>")
# Sent messages stay in the outbox (portal.models.OutgoingEmail) this long, then the sweeper deletes them.
EMAIL_OUTBOX_RETENTION_DAYS = env_int("EMAIL_OUTBOX_RETENTION_DAYS", 30)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# The portal's name as mails print it: in every subject ("[AI Factory] ...") and in allauth's greeting.
AIF_PORTAL_NAME = env_str("AIF_PORTAL_NAME", "AI Factory")

# Who runs the service and how to reach them: the home page, the footer and the public notices
# (contact, legal notice, privacy notice, accessibility statement) show these. The defaults are
# placeholders for a developer laptop; `check --deploy` warns while they are left (portal.W005).
AIF_OPERATOR_NAME = env_str("AIF_OPERATOR_NAME", "AI Factory hosting entity")
AIF_OPERATOR_ADDRESS = env_str("AIF_OPERATOR_ADDRESS", "")
AIF_OPERATOR_ENTERPRISE_NUMBER = env_str("AIF_OPERATOR_ENTERPRISE_NUMBER", "")
AIF_OPERATOR_WEBSITE = env_str("AIF_OPERATOR_WEBSITE", "")
AIF_CONTACT_EMAIL = env_str("AIF_CONTACT_EMAIL", "contact@aifactory.example")
AIF_PRIVACY_EMAIL = env_str("AIF_PRIVACY_EMAIL", "privacy@aifactory.example")
AIF_ACCESSIBILITY_EMAIL = env_str("AIF_ACCESSIBILITY_EMAIL", "accessibility@aifactory.example")
# The accessibility statement (Directive 2016/2102): the day of its last check against WCAG 2.1 AA
# (YYYY-MM-DD), and where a person may complain when the answer to a reported barrier does not satisfy.
AIF_ACCESSIBILITY_CHECKED = env_str("AIF_ACCESSIBILITY_CHECKED", "2026-12-04")
AIF_ACCESSIBILITY_COMPLAINTS_URL = env_str("AIF_ACCESSIBILITY_COMPLAINTS_URL", "https://www.federaalombudsman.be/")
AIF_DATA_PROTECTION_AUTHORITY_URL = env_str("AIF_DATA_PROTECTION_AUTHORITY_URL",
                                            "https://www.dataprotectionauthority.be/")

# Cache: memory of each process unless CACHE_URL names a Redis database. Production sets it, so that
# every web process on every machine shares allauth's rate limits and the API token failure counts.
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
                          "KEY_PREFIX": "aif"}}
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL, not {CACHE_URL!r}")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: kombu's filesystem transport is the embedded default; Redis in CI and production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"data_folder_in": str(_BROKER_DIR), "data_folder_out": str(_BROKER_DIR),
     "control_folder": str(_BROKER_DIR / "control"), "processed_folder": str(_BROKER_DIR / "processed")}
    if CELERY_BROKER_URL.startswith("filesystem")
    # Above the longest retry countdown (300 s) plus the longest hard time limit (900 s), so that kombu
    # never delivers a running or waiting task twice; a lost worker's task comes back after 25 minutes at
    # most (the provisioning sweeper re-queues it within 3). docs/reliability.md, drill 2.
    else {"visibility_timeout": 1500}
)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Task names are their module paths. Everything that talks to a site's Slurm or directory runs on the
# "slurm" queue, whose worker runs where sacctmgr, squeue and the directory are reachable (docs/deploy.md);
# PDF reports run on "reports". tests/portal/test_task_routes.py routes every registered task.
CELERY_TASK_ROUTES = {
    "allocations.provisioning.*": {"queue": "slurm"},
    "compliance.tasks.generate_*": {"queue": "reports"},
}
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_BEAT_SCHEDULE: dict = {}  # filled by portal/schedule.py at app import
CELERY_TIMEZONE = TIME_ZONE

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a request without credentials a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.authentication.ApiTokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "accounts.api.permissions.TokenScope",
                                   "accounts.api.permissions.StaffTokenMFA"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend",
                                "rest_framework.filters.OrderingFilter"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "portal.api.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI Factory portal API",
    "DESCRIPTION": "Applications, AI Act assessments, reviews, decisions and allocations of the AI Factory. "
                   "Errors share one shape: {\"error\": {\"code\", \"message\", \"fields\"}}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI from the drf-spectacular-sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "allocations.applications.models.ApplicationStatus",
        "AllocationStatusEnum": "allocations.grants.models.AllocationStatus",
        "AssignmentStatusEnum": "allocations.review.models.AssignmentStatus",
        "ChangeStatusEnum": "allocations.grants.models.ChangeStatus",
        "ChangeKindEnum": "allocations.grants.models.ChangeKind",
        "ReviewKindEnum": "allocations.review.models.ReviewKind",
        "EthicsStatusEnum": "compliance.models.EthicsStatus",
        "SectorEnum": "accounts.models.Sector",
        "AuditActionEnum": "portal.audit_actions.AuditAction",
        "SyncStateEnum": "allocations.grants.models.SyncState",
        "AttachmentKindEnum": "allocations.applications.models.AttachmentKind",
        "RiskClassEnum": "compliance.ai_act.risk.RiskClass",
        "RoleEnum": "accounts.roles.Role",
        "MembershipRoleEnum": "accounts.models.MembershipRole",
        "OrganisationTypeEnum": "accounts.models.OrganisationType",
        "ReportKindEnum": "compliance.models.ReportKind",
    },
    "PATH_CONVERTER_OVERRIDE": {
        "api_id": {"type": "integer", "minimum": 1, "maximum": 999_999_999_999},
        "api_ref": {"type": "string", "pattern": r"^[A-Z]{2,10}-[0-9]{4}-[0-9]{4,6}$"},
    },
}
# Failed API token authentications per client address before 429 (counted in the default cache).
AIF_API_TOKEN_FAILURE_LIMIT = env_int("AIF_API_TOKEN_FAILURE_LIMIT", 20)
AIF_API_TOKEN_FAILURE_WINDOW = env_int("AIF_API_TOKEN_FAILURE_WINDOW", 300)

# Security: production sets DEBUG=0 and HTTPS variables; check --deploy must be clean then.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# The load balancer probes the web processes directly over HTTP: /healthz answers it, not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Database sessions whose key is checked before any query (portal.sessions).
SESSION_ENGINE = "portal.sessions"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp 4; docs/deploy.md, "Security headers"). Scripts and styles come
# from the portal's own static files only: no inline <script>, no on*= or style= attributes. A page
# that cannot do without an inline script gives it nonce="{{ request.csp_nonce }}"; the nonce is
# added to the header only on the responses that used it. data: images are the TOTP QR code (allauth).
# form-action: every form posts to the portal, but the OIDC sign-in form is answered with a redirect
# to the issuer, and browsers check each redirect after a form's submission against form-action: the
# issuer's origin is allowed, and AIF_CSP_FORM_ACTION adds origins (comma-separated) for an issuer
# that redirects on to another one before it shows a page.
# (Not named CSP_*: django-csp takes such settings for its old format and refuses to start.)
_form_action = [SELF]
if SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] and url_origin(OIDC_SERVER_URL):
    _form_action.append(url_origin(OIDC_SERVER_URL))
_form_action += env_list("AIF_CSP_FORM_ACTION", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": _form_action,
    },
}
# Permissions-Policy (portal.middleware.PermissionsPolicyMiddleware): the browser features the portal
# never uses are refused to every page and frame; security keys (WebAuthn) and copying the recovery
# codes stay allowed to the portal's own pages. Only features Chromium knows: an unknown one is a
# console error on every page.
PERMISSIONS_POLICY = {
    "accelerometer": [], "autoplay": [], "browsing-topics": [],
    "camera": [], "display-capture": [], "encrypted-media": [], "fullscreen": [], "geolocation": [],
    "gyroscope": [], "hid": [], "idle-detection": [], "local-fonts": [], "magnetometer": [],
    "microphone": [], "midi": [], "payment": [], "picture-in-picture": [], "screen-wake-lock": [],
    "serial": [], "usb": [], "xr-spatial-tracking": [],
    "clipboard-write": ["self"], "publickey-credentials-create": ["self"], "publickey-credentials-get": ["self"],
}

# Portal behaviour.
AIF_REQUIRE_MFA_FOR_STAFF = env_bool("AIF_REQUIRE_MFA_FOR_STAFF", True)
AIF_DEMO_PASSWORD = env_str("AIF_DEMO_PASSWORD", "demo-portal-2026")
AIF_INVITATION_DAYS = env_int("AIF_INVITATION_DAYS", 14)
# Mails an organisation makes the portal send to an address someone typed (invitations, team
# confirmations): at most this many in any 24 hours, and none to the same address for the same
# organisation or application within the cool-down (accounts.services.addressed_mail_record).
AIF_INVITE_MAILS_PER_DAY = env_int("AIF_INVITE_MAILS_PER_DAY", 50)
AIF_INVITE_MAIL_COOLDOWN_MINUTES = env_int("AIF_INVITE_MAIL_COOLDOWN_MINUTES", 10)

# Final reports (allocations.outcomes): the reminder this many days before the due date (another on it),
# and the days an organisation gets when the managers ask for more.
AIF_FINAL_REPORT_REMINDER_DAYS = max(1, env_int("AIF_FINAL_REPORT_REMINDER_DAYS", 14))
AIF_FINAL_REPORT_RESUBMIT_DAYS = max(1, env_int("AIF_FINAL_REPORT_RESUBMIT_DAYS", 14))

# A reviewer with this many open assignments (not yet reviewed, on applications in review) is not offered more.
AIF_REVIEWER_MAX_OPEN_ASSIGNMENTS = max(1, env_int("AIF_REVIEWER_MAX_OPEN_ASSIGNMENTS", 6))

# De minimis aid (allocations/aid, docs/aid.md): the ceiling per single undertaking over any three years
# (Regulation (EU) 2023/2831, Article 3(2): EUR 300,000), and how old an organisation's self-declaration of
# de minimis aid may be when it submits an application under a de minimis access mode.
AIF_DE_MINIMIS_CEILING_EUR = env_int("AIF_DE_MINIMIS_CEILING_EUR", 300_000)
AIF_AID_DECLARATION_MAX_AGE_DAYS = max(1, env_int("AIF_AID_DECLARATION_MAX_AGE_DAYS", 180))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every page it lays out at INFO. The audit chain's head is logged at INFO whatever
    # LOG_LEVEL says: it is shipped off the machine (portal.audit.log_chain_head, docs/deploy.md).
    "loggers": {"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"},
                "portal.audit.head": {"level": "INFO"}},
}

# Slurm provisioning. Each site chooses its backend in the admin; AIF_SLURM_BACKEND overrides every
# direct site (record | sacctmgr | slurmrestd), e.g. to point all sites at a local test stack.
AIF_SLURM_BACKEND = env_str("AIF_SLURM_BACKEND", "")
AIF_SLURM_CONF = env_str("AIF_SLURM_CONF", env_str("SLURM_CONF", ""))
AIF_SLURMRESTD_URL = env_str("AIF_SLURMRESTD_URL", "")
AIF_SLURM_JWT_KEY = env_str("AIF_SLURM_JWT_KEY", "")
# Seconds a provisioning run waits for its cluster's lock (allocations.provisioning.locks) before it fails
# and its task retries; below the provisioning task's soft time limit (240 s).
AIF_SLURM_LOCK_WAIT_SECONDS = float(env_str("AIF_SLURM_LOCK_WAIT_SECONDS", "200"))
AIF_COMPUTE_UTILISATION = float(env_str("AIF_COMPUTE_UTILISATION", "0.4"))
# The sacctmgr and squeue executables and the command prefix (e.g. ["ssh", "slurm-head"]) of the
# sacctmgr backend, and the JWT user of slurmrestd: settings only. A site's backend_options (database)
# carry harmless options only (allocations.provisioning.identity.options).
AIF_SLURM_COMMAND_PREFIX = env_str("AIF_SLURM_COMMAND_PREFIX", "").split()
AIF_SLURMRESTD_USER = env_str("AIF_SLURMRESTD_USER", "")

# Cluster identities (docs/identity.md). A site whose identity backend is "directory" has its team
# members' POSIX accounts looked up, and created where AIF_DIRECTORY_CREATE_ACCOUNTS allows, in this
# LDAP directory; the connection and the password come from the environment, never from the database.
AIF_DIRECTORY_URL = env_str("AIF_DIRECTORY_URL", "")
AIF_DIRECTORY_BIND_DN = env_str("AIF_DIRECTORY_BIND_DN", "")
AIF_DIRECTORY_BIND_PASSWORD = env_str("AIF_DIRECTORY_BIND_PASSWORD", "")
AIF_DIRECTORY_USERS_DN = env_str("AIF_DIRECTORY_USERS_DN", "")
AIF_DIRECTORY_GROUPS_DN = env_str("AIF_DIRECTORY_GROUPS_DN", "")
AIF_DIRECTORY_UID_MIN = env_int("AIF_DIRECTORY_UID_MIN", 200000)
AIF_DIRECTORY_UID_MAX = env_int("AIF_DIRECTORY_UID_MAX", 299999)
AIF_DIRECTORY_GID_MIN = env_int("AIF_DIRECTORY_GID_MIN", 300000)
AIF_DIRECTORY_GID_MAX = env_int("AIF_DIRECTORY_GID_MAX", 399999)
AIF_DIRECTORY_LOGIN_SHELL = env_str("AIF_DIRECTORY_LOGIN_SHELL", "/bin/bash")
AIF_DIRECTORY_HOME_PATTERN = env_str("AIF_DIRECTORY_HOME_PATTERN", "/home/{uid}")
AIF_DIRECTORY_CREATE_ACCOUNTS = env_bool("AIF_DIRECTORY_CREATE_ACCOUNTS", False)
# The attribute holding the person's OpenID Connect subject (the "sub" of the sign-in identity).
AIF_DIRECTORY_SUBJECT_ATTRIBUTE = env_str("AIF_DIRECTORY_SUBJECT_ATTRIBUTE", "employeeNumber")
# What happens to an account whose allocations all ended, or whose person was erased: "nologin" (login
# shell set to AIF_DIRECTORY_LOCKED_SHELL and SSH keys removed) or "none" (the site locks by hand).
AIF_DIRECTORY_LOCK_POLICY = env_str("AIF_DIRECTORY_LOCK_POLICY", "nologin")
AIF_DIRECTORY_LOCKED_SHELL = env_str("AIF_DIRECTORY_LOCKED_SHELL", "/usr/sbin/nologin")
AIF_DIRECTORY_TIMEOUT = env_int("AIF_DIRECTORY_TIMEOUT", 10)
# Storage quotas kept in the directory (docs/storage.md): per site code whose storage backend is
# "directory_quota", where the quota of a project lives: {"zellik": {"base_dn": "ou=groups,dc=...",
# "attribute": "aifStorageQuota", "unit": "GB", "object_class": ""}}. The entry is cn=<Slurm account>,<base_dn>
# (base_dn defaults to AIF_DIRECTORY_GROUPS_DN: the project's posixGroup); object_class, when set, is added
# to the entry if missing (an auxiliary class that allows the attribute). Units: bytes, KiB, MiB, GiB, TiB,
# GB, TB. The connection is the AIF_DIRECTORY_* one.
AIF_STORAGE_DIRECTORY_QUOTA = json.loads(env_str("AIF_STORAGE_DIRECTORY_QUOTA", "") or "{}")
# How a "confirmed-username" site checks that a username exists: "getent" (getent passwd on this host
# or behind AIF_USERNAME_CHECK_PREFIX, e.g. "ssh slurm-head"), "directory", or "none".
AIF_USERNAME_CHECK = env_str("AIF_USERNAME_CHECK", "none")
AIF_USERNAME_CHECK_PREFIX = env_str("AIF_USERNAME_CHECK_PREFIX", "").split()
