"""Two-factor login with TOTP: encrypted secrets, codes accepted once, hashed recovery codes."""

import base64
import binascii
import hmac
import io
import os
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, func, select

from config import old_notes_keys
from outreach.audit.services import record
from outreach.auth.models import RecoveryCode, TotpFactor
from outreach.auth.passwords import TEMPORARY_ALPHABET, hash_password, verify_password
from outreach.auth.sessions import sessions_end_for_user
from outreach.dbtypes import utcnow
from outreach.extensions import db
from outreach.users.models import Role, User

#: Seconds per TOTP time step (RFC 6238 default; what every authenticator app uses).
STEP_SECONDS = 30
DIGITS = 6
#: Steps either side of the current one that are also accepted: none. A code lives for its
#: own 30 seconds only (ASVS 6.5.5; phones set their clocks from the network), and works once:
#: after a code is accepted, its step and every earlier one are refused (ASVS 6.5.1).
VALID_WINDOW = 0
RECOVERY_CODE_COUNT = 10
#: Characters per recovery code (31-letter alphabet: about 59 bits each), shown in groups.
RECOVERY_CODE_LENGTH = 12
#: How long a new secret waits for its first code before set-up must start again.
SETUP_LIFETIME = timedelta(minutes=15)
#: Key-derivation label: TOTP secrets get their own key, never the notes' key itself.
KEY_INFO = b"outreach totp secret aes-256-gcm v1"
NONCE_BYTES = 12


class MfaError(ValueError):
    """A two-factor request that cannot be carried out, with a message for the form."""


def secret_key(material: str) -> bytes:
    """Derive the 256-bit key for TOTP secrets from a configured secret with HKDF-SHA256."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=KEY_INFO).derive(material.encode())


def key_materials() -> list[str]:
    """Return NOTES_KEY (encrypts and decrypts) then NOTES_KEYS_OLD (decrypt only)."""
    config = current_app.config
    return [config["NOTES_KEY"], *old_notes_keys(config)]


def bound_to(user_id: int) -> bytes:
    """Return the associated data that ties a ciphertext to its user's row."""
    return f"totp-secret:user:{user_id}".encode()


def encrypt_secret(secret: str, user_id: int) -> str:
    """Encrypt a base32 TOTP secret with AES-256-GCM under the current NOTES_KEY."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(secret_key(key_materials()[0])).encrypt(
        nonce, secret.encode(), bound_to(user_id)
    )
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(token: str, user_id: int) -> str | None:
    """Decrypt a stored TOTP secret (None if no configured key fits or it was tampered with)."""
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except (ValueError, binascii.Error):
        return None
    for material in key_materials():
        try:
            opened = AESGCM(secret_key(material)).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to(user_id)
            )
        except (InvalidTag, ValueError):
            continue
        return opened.decode()
    return None


def reencrypt_secrets() -> tuple[int, int]:
    """Re-encrypt every TOTP secret under the current NOTES_KEY; return (done, unreadable)."""
    done = unreadable = 0
    for factor in db.session.scalars(select(TotpFactor)):
        for column in ("secret", "pending_secret"):
            token = getattr(factor, column)
            if token is None:
                continue
            secret = decrypt_secret(token, factor.user_id)
            if secret is None:
                unreadable += 1
                continue
            setattr(factor, column, encrypt_secret(secret, factor.user_id))
            done += 1
    record("mfa.reencrypt", data={"secrets": done, "unreadable": unreadable})
    return done, unreadable


def parse_required_roles(raw: str | None) -> frozenset[str]:
    """Read MFA_REQUIRED_ROLES: role names separated by commas, "all", or empty for none."""
    raw = (raw or "").strip().lower()
    if raw == "all":
        return frozenset(role.value for role in Role)
    names = frozenset(name.strip() for name in raw.split(",") if name.strip())
    unknown = names - {role.value for role in Role}
    if unknown:
        raise RuntimeError(f"MFA_REQUIRED_ROLES names unknown roles: {', '.join(sorted(unknown))}")
    return names


def required_roles() -> frozenset[str]:
    """Return the roles that must use two-factor login."""
    return parse_required_roles(current_app.config.get("MFA_REQUIRED_ROLES"))


def is_required(user: User) -> bool:
    """Tell whether a user's role must log in with a second factor."""
    return str(user.role) in required_roles()


def factor_of(user_id: int) -> TotpFactor | None:
    """Return a user's TOTP record, if any."""
    return db.session.get(TotpFactor, user_id)


def is_enrolled(user_id: int) -> bool:
    """Tell whether a user has a confirmed authenticator app."""
    query = select(TotpFactor.confirmed_at).where(TotpFactor.user_id == user_id)
    return db.session.scalar(query) is not None


def enrolment_due(user: User) -> bool:
    """Tell whether a logged-in user must set up two-factor login before going on."""
    return is_required(user) and not is_enrolled(user.id)


def recovery_codes_left(user_id: int) -> int:
    """Count a user's unused recovery codes."""
    query = select(func.count(RecoveryCode.id)).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
    )
    return db.session.scalar(query)


def provisioning_uri(secret: str, username: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    issuer = current_app.config.get("PROGRAM_NAME") or "Outreach"
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=issuer
    )


def qr_data_uri(text: str) -> str:
    """Render text as a QR code, locally, into an SVG ``data:`` address for an <img>."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=4, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def grouped(secret: str) -> str:
    """Split a secret into groups of four for typing by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def current_step(now: datetime | None = None) -> int:
    """Return the TOTP time step of a moment (now by default)."""
    return int((now or utcnow()).timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, after: int | None, now: datetime | None = None):
    """Return the time step whose code this is, within the window and after ``after``."""
    code = "".join((code or "").split())
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    found = None
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        fresh = after is None or candidate > after
        if hmac.compare_digest(totp.generate_otp(candidate), code) and fresh:
            found = candidate
    return found


def normalise_recovery_code(code: str) -> str:
    """Return a recovery code without spaces, dashes or capitals."""
    return "".join(char for char in (code or "").lower() if char.isalnum())


def new_recovery_codes(user_id: int) -> list[str]:
    """Replace a user's recovery codes with fresh ones (stored hashed) and return them."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        db.session.add(RecoveryCode(user_id=user_id, code_hash=hash_password(raw)))
        codes.append("-".join(raw[index : index + 4] for index in range(0, len(raw), 4)))
    db.session.flush()
    return codes


def mfa_setup_start(*, user: User) -> str:
    """Make a new secret waiting for its first code; return it (a working one stays meanwhile)."""
    secret = pyotp.random_base32(length=32)
    factor = factor_of(user.id) or TotpFactor(user_id=user.id)
    factor.pending_secret = encrypt_secret(secret, user.id)
    factor.pending_at = utcnow()
    db.session.add(factor)
    db.session.flush()
    record("mfa.setup_start", "user", user.id)
    return secret


def pending_secret(user: User) -> str | None:
    """Return the secret being set up, unless there is none or it is too old."""
    factor = factor_of(user.id)
    if factor is None or factor.pending_secret is None:
        return None
    if utcnow() - factor.pending_at > SETUP_LIFETIME:
        return None
    return decrypt_secret(factor.pending_secret, user.id)


def mfa_setup_confirm(*, user: User, code: str) -> list[str]:
    """Turn on the secret being set up once its first code is right; return recovery codes."""
    secret = pending_secret(user)
    if secret is None:
        raise MfaError("Set-up took too long. Start again.")
    step = matching_step(secret, code, after=None)
    if step is None:
        raise MfaError("That code is not right. Type the 6 digits the app shows now.")
    factor = factor_of(user.id)
    replaced = factor.secret is not None
    factor.secret, factor.confirmed_at, factor.last_step = factor.pending_secret, utcnow(), step
    factor.pending_secret = factor.pending_at = None
    codes = new_recovery_codes(user.id)
    record("mfa.enrol", "user", user.id, data={"replaced": replaced, "recovery_codes": len(codes)})
    return codes


def mfa_recovery_codes_renew(*, user: User) -> list[str]:
    """Give an enrolled user new recovery codes; the old ones stop working."""
    if not is_enrolled(user.id):
        raise MfaError("Set up two-factor login first.")
    codes = new_recovery_codes(user.id)
    record("mfa.recovery_codes_renew", "user", user.id, data={"recovery_codes": len(codes)})
    return codes


def remove_factor(user_id: int) -> bool:
    """Delete a user's authenticator secret and recovery codes; tell whether one was set up."""
    had = is_enrolled(user_id)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id))
    return had


def mfa_disable(*, user: User) -> None:
    """Turn off one's own two-factor login (refused when the role requires it)."""
    if is_required(user):
        raise MfaError("Your role requires two-factor login. Set up a new app instead.")
    if not is_enrolled(user.id):
        raise MfaError("Two-factor login is not on.")
    remove_factor(user.id)
    record("mfa.disable", "user", user.id)


def mfa_reset(*, user: User) -> None:
    """Administrator: remove a user's second factor and log them out everywhere."""
    had = remove_factor(user.id)
    ended = sessions_end_for_user(user.id, "mfa_reset")
    record("mfa.reset", "user", user.id, data={"was_enrolled": had, "sessions_ended": ended})


def second_factor_check(*, user: User, code: str) -> str | None:
    """Accept a TOTP code (once) or an unused recovery code; return which, or None."""
    factor = factor_of(user.id)
    if factor is None or factor.secret is None:
        return None
    secret = decrypt_secret(factor.secret, user.id)
    step = matching_step(secret, code, after=factor.last_step) if secret else None
    if step is not None:
        factor.last_step = step
        factor.secret = encrypt_secret(secret, user.id)
        return "totp"
    return "recovery" if use_recovery_code(user.id, code) else None


def use_recovery_code(user_id: int, code: str) -> bool:
    """Mark a matching unused recovery code used; tell whether there was one."""
    raw = normalise_recovery_code(code)
    if len(raw) != RECOVERY_CODE_LENGTH:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
    )
    for stored in unused:
        if verify_password(stored.code_hash, raw):
            stored.used_at = utcnow()
            db.session.flush()
            left = recovery_codes_left(user_id)
            record("mfa.recovery_code_used", "user", user_id, data={"left": left}, actor_id=user_id)
            return True
    return False
