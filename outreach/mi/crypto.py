"""Encryption of MI note text: AES-256-GCM with keys derived from ``NOTES_KEY`` by HKDF.

The configured secret is stretched by HKDF-SHA256 into a 32-byte key. Each key is named by a
fingerprint (an HMAC of a fixed label under the key), stored with every note as its
``key_version``, so the right key is found again after a rotation. ``NOTES_KEYS_OLD``
(comma-separated) lists previous secrets, used only to decrypt until ``flask mi rotate-key``
has re-encrypted every note with the current key.

A ciphertext is ``nonce (12 bytes) || AES-GCM(ciphertext + tag)``; the associated data names
the encounter and the field, so a ciphertext copied to another note or field does not decrypt.
"""

import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from config import old_notes_keys

NONCE_BYTES = 12
HKDF_SALT = b"outreach-notes-key"
HKDF_INFO = b"outreach mi notes aes-256-gcm v1"
FINGERPRINT_LABEL = b"outreach notes key fingerprint v1"


class NotesKeyError(RuntimeError):
    """A note cannot be encrypted or decrypted with the configured keys (no text in it)."""


@dataclass(frozen=True)
class NotesKey:
    """One derived key and its fingerprint."""

    version: str
    key: bytes

    def __repr__(self) -> str:
        return f"<NotesKey {self.version}>"


def derive_key(secret: str) -> NotesKey:
    """Derive a 32-byte AES key from a configured secret string, and name it."""
    if not secret:
        raise NotesKeyError("NOTES_KEY is not set.")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=HKDF_SALT, info=HKDF_INFO).derive(
        secret.encode()
    )
    version = hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]
    return NotesKey(version=version, key=key)


@dataclass(frozen=True)
class Keyring:
    """The current key (encrypts and decrypts) and old keys (decrypt only)."""

    current: NotesKey
    keys: dict[str, NotesKey]

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """Encrypt text with the current key, bound to its context."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.current.key).encrypt(nonce, plaintext.encode(), context.encode())
        return nonce + sealed

    def decrypt(self, ciphertext: bytes, version: str, context: str) -> str:
        """Decrypt text sealed with the key of that version; refuse tampered text."""
        key = self.keys.get(version)
        if key is None:
            raise NotesKeyError(f"No configured notes key has version {version}.")
        nonce, sealed = ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:]
        try:
            return AESGCM(key.key).decrypt(nonce, sealed, context.encode()).decode()
        except InvalidTag as error:
            raise NotesKeyError("A note's text does not decrypt: wrong key or altered.") from error


@lru_cache(maxsize=8)
def build_keyring(current: str, old: tuple[str, ...]) -> Keyring:
    """Derive the keyring from the configured secrets (cached: HKDF per request is waste)."""
    current_key = derive_key(current)
    keys = {key.version: key for key in (derive_key(secret) for secret in old)}
    keys[current_key.version] = current_key
    return Keyring(current=current_key, keys=keys)


def keyring() -> Keyring:
    """Return the keyring of the running app's configuration."""
    config = current_app.config
    return build_keyring(config.get("NOTES_KEY") or "", old_notes_keys(config))


def text_context(encounter_id: int, field: str) -> str:
    """Return the associated data binding a field's ciphertext to its note."""
    return f"mi_note:{encounter_id}:{field}"
