"""Configuration classes, read from the environment."""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("OUTREACH_INSTANCE_DIR", BASE_DIR / "instance"))

#: Secrets the app refuses to start without outside development and testing.
REQUIRED_SECRETS = ("SECRET_KEY", "CLIENT_CODE_KEY", "NOTES_KEY")


#: The largest number setting: a hundred years in days. Larger day counts cannot be added to
#: a date, and no setting needs more.
SETTING_MAX = 36_500


def env_int(name: str, default: int) -> int:
    """Read a whole number from 0 to SETTING_MAX from the environment."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise RuntimeError(f"{name} must be a whole number, not {raw!r}.") from error
    if not 0 <= value <= SETTING_MAX:
        raise RuntimeError(f"{name} must be a whole number from 0 to {SETTING_MAX:,}, not {raw}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no flag from the environment."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def development_secret(name: str) -> str:
    """Return a random secret kept in the instance folder, made on first use."""
    INSTANCE_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = INSTANCE_DIR / f"{name.lower()}.secret"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as secret_file:
            secret_file.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    PROGRAM_NAME = os.environ.get("OUTREACH_PROGRAM_NAME", "Outreach")
    OUTREACH_TIMEZONE = os.environ.get("OUTREACH_TIMEZONE", "UTC")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "")
    #: PostgreSQL connections are checked out by ``outreach.liveness``, not ``pool_pre_ping``.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    CLIENT_CODE_KEY = os.environ.get("CLIENT_CODE_KEY", "")
    NOTES_KEY = os.environ.get("NOTES_KEY", "")
    #: Previous notes keys, comma-separated: they only decrypt, until ``flask mi rotate-key``.
    NOTES_KEYS_OLD = os.environ.get("NOTES_KEYS_OLD", "")

    SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 15)
    SESSION_LIFETIME_HOURS = env_int("SESSION_LIFETIME_HOURS", 12)
    SESSION_WARNING_SECONDS = env_int("SESSION_WARNING_SECONDS", 120)
    PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12)
    LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 60)
    LOGIN_IP_MAX_FAILURES = env_int("LOGIN_IP_MAX_FAILURES", 30)
    #: Reverse proxies in front of the app whose X-Forwarded-For and -Proto are believed
    #: (0: none; 1: the usual one HTTPS proxy on the same machine).
    TRUSTED_PROXIES = env_int("OUTREACH_TRUSTED_PROXIES", 0)
    LOGIN_IP_WINDOW_MINUTES = env_int("LOGIN_IP_WINDOW_MINUTES", 15)
    AUDIT_PAGE_SIZE = env_int("AUDIT_PAGE_SIZE", 50)
    #: Roles that must log in with a second factor: comma-separated role names, "all" or "".
    MFA_REQUIRED_ROLES = os.environ.get("MFA_REQUIRED_ROLES", "supervisor,admin")
    #: Days encounters are kept before ``flask retention purge`` removes them (about 7 years).
    RETENTION_DAYS = env_int("RETENTION_DAYS", 2555)

    WORKER_BACKDATE_DAYS = env_int("WORKER_BACKDATE_DAYS", 7)
    #: How far back a receipt of stock may be dated (deliveries are often entered later).
    STOCK_BACKDATE_DAYS = env_int("STOCK_BACKDATE_DAYS", 31)
    WORKER_EDIT_HOURS = env_int("WORKER_EDIT_HOURS", 48)
    SYRINGES_PER_LITRE = env_int("SYRINGES_PER_LITRE", 100)
    SUPPRESSION_THRESHOLD = env_int("SUPPRESSION_THRESHOLD", 11)
    #: Warn supervisors about lots with stock that expire within this many days.
    STOCK_EXPIRY_WARNING_DAYS = env_int("STOCK_EXPIRY_WARNING_DAYS", 60)

    SESSION_COOKIE_NAME = "outreach_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    PREFERRED_URL_SCHEME = "http"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_ENABLED = True
    SQLALCHEMY_TRACK_MODIFICATIONS = False


class DevelopmentConfig(Config):
    """Local development: embedded SQLite and random per-install secrets."""

    ENV_NAME = "development"
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'outreach.db'}"
    )


class ProductionConfig(Config):
    """Production: every secret and the database come from the environment."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    #: "__Host-": the browser keeps it only if it is Secure, for this host and path "/".
    SESSION_COOKIE_NAME = "__Host-outreach_session" if SESSION_COOKIE_SECURE else "outreach_session"
    PREFERRED_URL_SCHEME = "https"


class TestConfig(Config):
    """Tests: fixed throwaway secrets; the database is given by the test fixture."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105
    CLIENT_CODE_KEY = "test-client-code-key"
    NOTES_KEY = "test-notes-key"
    WTF_CSRF_ENABLED = False
    PASSWORD_MIN_LENGTH = 12
    #: Tests that need two-factor login turn it on themselves.
    MFA_REQUIRED_ROLES = ""


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """Pick the configuration class named by ``OUTREACH_ENV`` (default development)."""
    name = name or os.environ.get("OUTREACH_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError as error:
        choices = ", ".join(CONFIGS)
        raise RuntimeError(f"OUTREACH_ENV must be one of {choices}, not {name!r}.") from error


def finish_settings(settings: dict) -> None:
    """Fill development secrets, or refuse production settings that lack any."""
    if settings["ENV_NAME"] == "development":
        for name in REQUIRED_SECRETS:
            settings[name] = settings.get(name) or development_secret(name)
    elif settings["ENV_NAME"] == "production":
        check_production_settings(settings)


def check_production_settings(settings: dict) -> None:
    """Refuse to start in production without a database and every secret."""
    missing = [name for name in REQUIRED_SECRETS if not settings.get(name)]
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        missing.append("DATABASE_URL")
    if missing:
        raise RuntimeError(
            "Outreach will not start in production without: " + ", ".join(missing) + "."
        )
    short = [name for name in REQUIRED_SECRETS if len(settings[name]) < 32]
    if short:
        raise RuntimeError("These secrets must be at least 32 characters: " + ", ".join(short))


def old_notes_keys(settings) -> tuple[str, ...]:
    """Return the retired NOTES_KEYS_OLD secrets (comma-separated), still used to decrypt."""
    raw = settings.get("NOTES_KEYS_OLD") or ""
    return tuple(part.strip() for part in raw.split(",") if part.strip())
