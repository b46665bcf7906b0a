"""Secrets: generated with ``secrets``, stored as SHA-256, compared in constant time.

Tokens and keys are 256-bit random, so an unsalted SHA-256 is enough to make a
leaked table useless, and lets the store find a row by its hash. The
constant-time comparison guards the last step against timing probes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_PREFIX = {"enroll": "kle_", "admin": "kla_", "servicedesk": "kls_", "device": "kld_"}


def new_secret(kind: str) -> str:
    """A fresh secret; the prefix tells a human what it is (as GitHub's tokens do)."""
    return _PREFIX[kind] + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_hash(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_secret(secret))
