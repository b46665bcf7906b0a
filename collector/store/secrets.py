"""Secrets: generated with ``secrets``, stored as SHA-256, found by their digest.

Tokens and keys are 256-bit random, so an unsalted SHA-256 is enough to make a
leaked table useless, and lets the store find a row by its digest with an
index lookup. No constant-time comparison is needed, or made: the database
compares digests, not secrets, so what a timing probe of the lookup could
learn is a prefix of a stored digest, and a digest leads to no secret (a
preimage of SHA-256 over 256 random bits). An earlier helper for such a
comparison was never called; the docs no longer promise it.
"""

from __future__ import annotations

import hashlib
import secrets

_PREFIX = {"enroll": "kle_", "admin": "kla_", "servicedesk": "kls_", "device": "kld_"}


def new_secret(kind: str) -> str:
    """A fresh secret; the prefix tells a human what it is (as GitHub's tokens do)."""
    return _PREFIX[kind] + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
