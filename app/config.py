"""Settings, every value from the environment."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("ONSITE_INSTANCE", ROOT / "instance"))

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = "&copy; OpenStreetMap contributors"


def _database_url(value: str | None) -> str | None:
    """Normalise postgres:// URLs to the psycopg 3 driver."""
    if not value:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


def _development_secret() -> str:
    """Generate a random secret once into instance/ and reuse it."""
    path = INSTANCE / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        INSTANCE.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Configuration read from the environment."""

    ENV = os.environ.get("ONSITE_ENV", "development")
    IS_PRODUCTION = ENV == "production"

    SQLALCHEMY_DATABASE_URI = _database_url(os.environ.get("DATABASE_URL"))
    # JIT compilation costs ~150 ms on geography queries whose estimated cost is high; they run in ~2 ms.
    # No pre-ping (a round trip on every request): a connection the server dropped fails one
    # request (503, app/errors.py), which marks every older pooled connection stale, so the next
    # checkouts get fresh ones; recycling bounds their age. A server that does not answer at all
    # fails a connection attempt after DB_CONNECT_TIMEOUT seconds instead of hanging the worker.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": _bool("DB_POOL_PRE_PING"), "pool_recycle": 1800,
                                 "pool_size": 5, "max_overflow": 5,
                                 "connect_args": {"options": "-c jit=off -c timezone=UTC",
                                                  "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", 5))}}
    REDIS_URL = os.environ.get("REDIS_URL")
    # Tests run every process of a run at one chosen instant (app/clock.py); never in production.
    CLOCK_OFFSET_SECONDS = float(os.environ["ONSITE_CLOCK_OFFSET"]) if os.environ.get("ONSITE_CLOCK_OFFSET") else None

    TILE_URL = os.environ.get("TILE_URL", DEFAULT_TILE_URL)
    TILE_ATTRIBUTION = os.environ.get("TILE_ATTRIBUTION", DEFAULT_TILE_ATTRIBUTION)

    # Photos: stored (as resized JPEG variants) under UPLOAD_DIR and served from /media/. One photo file may
    # be MAX_PHOTO_BYTES and MAX_PHOTO_PIXELS (checked before decoding); a request that uploads photos may carry
    # a full gallery of them, any other request MAX_CONTENT_LENGTH.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_BYTES", 5 * 1024 * 1024))
    MAX_PHOTO_BYTES = int(os.environ.get("MAX_PHOTO_BYTES", 8 * 1024 * 1024))
    MAX_PHOTO_PIXELS = int(os.environ.get("MAX_PHOTO_PIXELS", 40_000_000))

    # Cookies are also marked Secure on every response to a request that came over HTTPS
    # (app/headers.py), so a TLS deployment gets them whatever ONSITE_ENV says.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = IS_PRODUCTION
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = IS_PRODUCTION
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are believed (ProxyFix).
    # 0: the client is the socket's peer, and a forwarded header never changes whose limit a request counts on.
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", 0))
    HSTS_MAX_AGE = int(os.environ.get("HSTS_MAX_AGE", 365 * 24 * 3600))  # sent on HTTPS responses only

    WTF_CSRF_CHECK_DEFAULT = False
    # A form (or a page's X-CSRFToken) older than this is refused with "this form expired"; read with app.clock.
    WTF_CSRF_TIME_LIMIT = int(float(os.environ.get("CSRF_TOKEN_HOURS", 8)) * 3600)
    # "Keep me logged in": how long a remember-me token lasts, and how long a replaced one still serves a
    # request that raced its replacement (a second tab opened at the same moment).
    REMEMBER_DAYS = int(os.environ.get("REMEMBER_DAYS", 30))
    REMEMBER_GRACE_SECONDS = 60
    # The per-account login lock: this many wrong passwords in a row (each within the window of the
    # previous one) lock the account for LOGIN_LOCK_SECONDS, twice as long at each lock, at most the max.
    LOGIN_FAILURES_BEFORE_LOCK = int(os.environ.get("LOGIN_FAILURES_BEFORE_LOCK", 5))
    LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60))
    LOGIN_LOCK_SECONDS = int(os.environ.get("LOGIN_LOCK_SECONDS", 60))
    LOGIN_LOCK_MAX_SECONDS = int(os.environ.get("LOGIN_LOCK_MAX_SECONDS", 30 * 60))

    # Limits live in Redis, shared by every worker and kept across restarts (`make run` starts a private
    # one, scripts/devredis.sh). When Redis fails, each worker counts in its own memory until it is back
    # (flask-limiter logs both) and requests are served meanwhile; a stalled Redis costs at most 1 s.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1,
                                 "key_prefix": os.environ.get("RATELIMIT_KEY_PREFIX", "onsite")} if REDIS_URL else {}
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True

    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", 3))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", 65536))

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ["en", "zh_CN"]

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # Wrong codes tried at the counter before a pause (per staff account, and per store).
    CHECKIN_GUESSES_PER_USER = os.environ.get("CHECKIN_GUESSES_PER_USER", "20 per minute")
    CHECKIN_GUESSES_PER_STORE = os.environ.get("CHECKIN_GUESSES_PER_STORE", "60 per minute")
    # Reviews (trust/services/reviews.py): a store's review past this many in an hour, or the Nth review in
    # 30 days from an account created on its visit's day, is held for the operator; posting is rate limited.
    REVIEW_BURST_PER_HOUR = int(os.environ.get("REVIEW_BURST_PER_HOUR", 5))
    REVIEW_SAME_DAY_ACCOUNTS = int(os.environ.get("REVIEW_SAME_DAY_ACCOUNTS", 3))
    REVIEW_POSTS_PER_USER = os.environ.get("REVIEW_POSTS_PER_USER", "10 per hour")
    # Disputes opened per resident (trust/api/disputes.py), pages and API together.
    DISPUTE_OPENS_PER_USER = os.environ.get("DISPUTE_OPENS_PER_USER", "5 per hour")
    # The integrity score (trust/score.py): fewer visits in 90 days than this shows "new"; below WARN the merchant
    # is warned (inbox and e-mail, at most weekly); below HIDE its experiences leave "Best match".
    INTEGRITY_MIN_VISITS = int(os.environ.get("INTEGRITY_MIN_VISITS", 10))
    INTEGRITY_WARN_BELOW = int(os.environ.get("INTEGRITY_WARN_BELOW", 60))
    INTEGRITY_HIDE_BELOW = int(os.environ.get("INTEGRITY_HIDE_BELOW", 40))
    # The demand radar (app/insights): a cell shows only with at least RADAR_K distinct searchers, and days and
    # hours of the roll-ups are counted in RADAR_TIMEZONE.
    RADAR_K = int(os.environ.get("RADAR_K", 10))
    RADAR_TIMEZONE = os.environ.get("RADAR_TIMEZONE", "Asia/Shanghai")
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", 587))
    SMTP_USER = os.environ.get("SMTP_USER")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", True)
    MAIL_FROM = os.environ.get("MAIL_FROM", "Onsite <no-reply@onsite.local>")
    SEARCH_LOG_FLUSH_SECONDS: float | None = float(os.environ.get("SEARCH_LOG_FLUSH_SECONDS", 1.0))
    # Map clusters at city zoom come from a materialized grid at most this many seconds old.
    GRID_REFRESH_SECONDS: float | None = float(os.environ.get("GRID_REFRESH_SECONDS", 120))
    API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", 90))
    MAX_BUSINESSES_PER_ACCOUNT = int(os.environ.get("MAX_BUSINESSES_PER_ACCOUNT", 5))

    # APIFlask: documentation that works offline.
    OPENAPI_VERSION = "3.1.0"
    SPEC_FORMAT = "json"
    DOCS_FAVICON = "/static/vendor/swagger-ui/favicon-32x32.png"
    SWAGGER_UI_CSS = "/static/vendor/swagger-ui/swagger-ui.css"
    SWAGGER_UI_BUNDLE_JS = "/static/vendor/swagger-ui/swagger-ui-bundle.js"
    SWAGGER_UI_STANDALONE_PRESET_JS = "/static/vendor/swagger-ui/swagger-ui-standalone-preset.js"
    SWAGGER_UI_CONFIG = {"validatorUrl": None}
    VALIDATION_ERROR_STATUS_CODE = 422
    INFO = {"description": "Onsite: find, book and check in to in-store experiences."}

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY")
        if not self.SECRET_KEY:
            if self.IS_PRODUCTION:
                raise RuntimeError("SECRET_KEY must be set when ONSITE_ENV=production")
            self.SECRET_KEY = _development_secret()
        if self.IS_PRODUCTION and self.CLOCK_OFFSET_SECONDS:
            raise RuntimeError("ONSITE_CLOCK_OFFSET is for tests: unset it when ONSITE_ENV=production")
        if self.IS_PRODUCTION and len(self.SECRET_KEY) < 32:
            raise RuntimeError("SECRET_KEY must be at least 32 characters in production")
        if not self.SQLALCHEMY_DATABASE_URI:
            raise RuntimeError(
                "DATABASE_URL is not set: run the app with `make run`, or export DATABASE_URL="
                "postgresql+psycopg://user@host:port/dbname (a PostGIS database)"
            )


class TestConfig(Config):
    """Settings for the test suite: its own database, cheap password hashing."""

    TESTING = True
    SQLALCHEMY_DATABASE_URI = _database_url(
        os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    )
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    REDIS_URL = None  # make test exports one for the live servers; in-process tests count in memory
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STORAGE_OPTIONS: dict = {}
    TILE_URL = ""
    SEARCH_LOG_FLUSH_SECONDS = None  # tests flush the search log by hand, inside their transaction
    GRID_REFRESH_SECONDS = None  # tests refresh the grid by hand

    def __init__(self) -> None:
        self.SECRET_KEY = "test-secret-key-" + "x" * 32
        self.UPLOAD_DIR = os.environ.get("TEST_UPLOAD_DIR", str(INSTANCE / "test-uploads"))
        if not self.SQLALCHEMY_DATABASE_URI:
            raise RuntimeError("TEST_DATABASE_URL is not set: run the tests with `make test`")
