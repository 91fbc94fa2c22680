"""Access tokens (HS256 JWTs, algorithm pinned) and opaque refresh tokens. Pure: secret, issuer,
audience, lifetime and the current time are arguments; no database, no settings, no clock."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from backend import errors
from backend.domain.actors import Role

ALGORITHM = "HS256"  # pinned on both sides: the token's own "alg" header is never trusted
TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "sub"]
CLOCK_SKEW_S = 30  # an "iat" this far ahead of our clock is tolerated (several processes, one DB)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    role: Role
    username: str
    region_id: int | None
    provider_id: int | None
    session_id: str  # the refresh-token family
    issued_at: datetime
    expires_at: datetime


def encode_access(claims: AccessClaims, *, secret: str, issuer: str, audience: str) -> str:
    payload = {
        "sub": str(claims.user_id),
        "role": str(claims.role),
        "usr": claims.username,
        "rgn": claims.region_id,
        "prv": claims.provider_id,
        "sid": claims.session_id,
        "typ": TOKEN_TYPE,
        "iat": int(claims.issued_at.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
        "aud": audience,
        "iss": issuer,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM, headers={"typ": TOKEN_TYPE})


def issue_access(*, user_id: int, role: Role, username: str, region_id: int | None,
                 provider_id: int | None, session_id: str, now: datetime, ttl_s: int,
                 secret: str, issuer: str, audience: str) -> tuple[str, AccessClaims]:
    """A fresh access token valid for ``ttl_s`` seconds from ``now`` (whole seconds, as JWT has)."""
    issued = now.replace(microsecond=0)
    claims = AccessClaims(user_id, role, username, region_id, provider_id, session_id,
                          issued, issued + timedelta(seconds=ttl_s))
    return encode_access(claims, secret=secret, issuer=issuer, audience=audience), claims


def _invalid(reason: str) -> errors.Unauthenticated:
    return errors.Unauthenticated("invalid-token", "the access token is not valid", reason=reason)


def decode_access(token: str, *, secret: str, issuer: str, audience: str, now: datetime) -> AccessClaims:
    """Verify signature, algorithm, audience, issuer and type, then expiry against ``now``.
    Raises ``Unauthenticated`` with code ``invalid-token`` or ``token-expired``."""
    claims = _verified(token, secret, issuer, audience)
    if claims.issued_at > now + timedelta(seconds=CLOCK_SKEW_S):
        raise _invalid("issued in the future")
    if claims.expires_at <= now:
        raise errors.Unauthenticated("token-expired", "the access token has expired")
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str, issuer: str, audience: str) -> AccessClaims:
    """Everything about a token that does not depend on the time. Remembered for the tokens in use
    (a phone sends the same token with every request for its lifetime, and verifying it is a third
    of the request's authentication); only successes are remembered, the time checks run every
    call."""
    try:
        header = jwt.get_unverified_header(token)
        payload: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], audience=audience, issuer=issuer,
            # Time comes from our injected clock, so PyJWT's wall-clock checks are off and done above.
            options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False, "strict_aud": True},
        )
    except jwt.InvalidTokenError as exc:
        raise _invalid(type(exc).__name__) from None
    if header.get("typ") != TOKEN_TYPE or payload.get("typ") != TOKEN_TYPE:
        raise _invalid("wrong token type")
    try:
        issued_at = datetime.fromtimestamp(int(payload["iat"]), UTC)
        expires_at = datetime.fromtimestamp(int(payload["exp"]), UTC)
        user_id = int(payload["sub"])
        role = Role(payload["role"])
        session_id = payload["sid"]
        region_id, provider_id = payload.get("rgn"), payload.get("prv")
    except (KeyError, ValueError, TypeError, OverflowError):
        raise _invalid("malformed claims") from None
    if role is Role.SYSTEM or not isinstance(session_id, str) or not session_id:
        raise _invalid("malformed claims")
    if not all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in (region_id, provider_id)):
        raise _invalid("malformed claims")
    return AccessClaims(user_id, role, str(payload.get("usr", "")), region_id, provider_id,
                        session_id, issued_at, expires_at)


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are stored only as this digest: 256 random bits need no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()
