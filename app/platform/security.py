"""Password hashing (Argon2 via pwdlib) and JWT access tokens (PyJWT, algorithm pinned)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

password_hash = PasswordHash((Argon2Hasher(),))

# Verified against when the username is unknown, so a miss costs the same as a wrong password.
_DUMMY_HASH = password_hash.hash("flightdesk-timing-equaliser")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        password_hash.verify(password, _DUMMY_HASH)
        return False
    return password_hash.verify(password, hashed)


def create_access_token(user_id: uuid.UUID, *, secret: str, algorithm: str, expire_minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "iat": now, "exp": now + timedelta(minutes=expire_minutes)}
    return jwt.encode(claims, secret, algorithm=algorithm)


class InvalidToken(Exception):
    pass


def decode_access_token(token: str, *, secret: str, algorithm: str) -> uuid.UUID:
    try:
        user_id, expires = _verified(token, secret, algorithm)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if expires <= time.time():  # PyJWT's own rule (no leeway), for a token verified while still valid
        raise InvalidToken("Signature has expired")
    return user_id


@lru_cache(maxsize=8192)
def _verified(token: str, secret: str, algorithm: str) -> tuple[uuid.UUID, float]:
    """The subject and expiry of a token whose signature and claims checked out. Cached by the whole
    token string (signature included, so only a token that verified once can hit) with the secret
    and algorithm: PyJWT's checks cost more than the rest of a cached search or a booking's
    request handling. Failures raise and are never cached; expiry is checked on every use."""
    claims = jwt.decode(token, secret, algorithms=[algorithm], options={"require": ["exp", "sub", "iat"]})
    return uuid.UUID(str(claims["sub"])), float(claims["exp"])
