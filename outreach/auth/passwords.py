"""Argon2id hashing and the NIST SP 800-63B password policy."""

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from zxcvbn import zxcvbn

MAX_PASSWORD_LENGTH = 128
#: zxcvbn only needs the start of a long passphrase to judge it.
ZXCVBN_PREFIX = 64
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hasher() -> PasswordHasher:
    """Return an Argon2id hasher with the configured cost."""
    config = current_app.config
    return PasswordHasher(
        time_cost=config.get("ARGON2_TIME_COST", 3),
        memory_cost=config.get("ARGON2_MEMORY_KIB", 65536),
        parallelism=config.get("ARGON2_PARALLELISM", 4),
    )


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Check a password against its hash without raising."""
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether a hash was made with other cost settings."""
    return hasher().check_needs_rehash(password_hash)


def burn_verification_time(password: str) -> None:
    """Spend the time of one verification so unknown usernames are not revealed by timing."""
    verify_password(hash_password("not-a-real-password"), password)


#: The app's name: refused in passwords like the username (ASVS 6.2.11 context words).
CONTEXT_WORD = "outreach"


def password_problems(password: str, username: str = "") -> list[str]:
    """Return why a new password is refused (empty when it is acceptable)."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return [f"Use at least {minimum} characters."]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [f"Use at most {MAX_PASSWORD_LENGTH} characters."]
    if username and username.lower() in password.lower():
        return ["Do not use your username in your password."]
    if CONTEXT_WORD in password.lower():
        return [f"Do not use the word {CONTEXT_WORD} in your password: it is guessed first."]
    verdict = zxcvbn(password[:ZXCVBN_PREFIX], user_inputs=[username])
    if verdict["score"] < 3:
        warning = verdict["feedback"].get("warning") or "It would be easy to guess."
        return [f"This password is too easy to guess. {warning} Try a few unrelated words."]
    return []


def temporary_password() -> str:
    """Return a random one-time password, easy to read aloud and type."""
    groups = ("".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)
