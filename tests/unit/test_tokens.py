"""Access-token encoding and verification, pure: expiry at the boundary, audience, issuer, type,
pinned algorithm (``none`` and HS512 refused), foreign keys, malformed claims; refresh-token digests."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from backend import errors
from backend.auth import tokens
from backend.domain.actors import Role

SECRET = "unit-test-secret-key-that-is-long-enough-0123456789"
NOW = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
ISS, AUD = "fieldline", "fieldline-api"


def _issue(now: datetime = NOW, ttl_s: int = 900, **overrides: Any) -> str:
    args: dict[str, Any] = dict(user_id=7, role=Role.ENGINEER, username="eve", region_id=3, provider_id=None,
                                session_id="fam-1", now=now, ttl_s=ttl_s, secret=SECRET, issuer=ISS,
                                audience=AUD)
    args.update(overrides)
    token, _ = tokens.issue_access(**args)
    return token


def _decode(token: str, now: datetime = NOW, **overrides: Any) -> tokens.AccessClaims:
    args: dict[str, Any] = dict(secret=SECRET, issuer=ISS, audience=AUD, now=now)
    args.update(overrides)
    return tokens.decode_access(token, **args)


def _code(token: str, **overrides: Any) -> str:
    with pytest.raises(errors.Unauthenticated) as caught:
        _decode(token, **overrides)
    return caught.value.code


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(**changes: Any) -> dict[str, Any]:
    payload = jwt.decode(_issue(), options={"verify_signature": False})
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None or k in ("rgn", "prv")}


def test_round_trip_carries_every_claim() -> None:
    claims = _decode(_issue(now=NOW.replace(microsecond=123)))
    assert claims == tokens.AccessClaims(7, Role.ENGINEER, "eve", 3, None, "fam-1", NOW,
                                         NOW + timedelta(seconds=900))
    header = jwt.get_unverified_header(_issue())
    assert header == {"alg": "HS256", "typ": "access"}
    assert set(_payload()) == {"sub", "role", "usr", "rgn", "prv", "sid", "typ", "iat", "exp", "aud", "iss"}
    assert _payload()["sub"] == "7"


def test_expiry_is_checked_against_the_given_time() -> None:
    token = _issue(ttl_s=60)
    assert _decode(token, now=NOW + timedelta(seconds=59)).user_id == 7
    assert _code(token, now=NOW + timedelta(seconds=60)) == "token-expired"
    assert _code(token, now=NOW + timedelta(days=365)) == "token-expired"


@pytest.mark.parametrize("overrides", [
    {"audience": "someone-else"},
    {"issuer": "someone-else"},
    {"secret": "a-different-secret-key-also-long-enough-0123456789"},
])
def test_audience_issuer_and_key_must_match(overrides: dict[str, str]) -> None:
    assert _code(_issue(), **overrides) == "invalid-token"


def test_expired_and_forged_is_invalid_not_expired() -> None:
    forged = _issue(ttl_s=60, secret="a-different-secret-key-also-long-enough-0123456789")
    assert _code(forged, now=NOW + timedelta(hours=1)) == "invalid-token"


def test_alg_none_is_refused() -> None:
    unsigned = f"{_b64({'alg': 'none', 'typ': 'access'})}.{_b64(_payload())}."
    assert _code(unsigned) == "invalid-token"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512 wants 64 bytes
def test_other_hmac_algorithms_are_refused_even_with_the_right_key() -> None:
    token = jwt.encode(_payload(), SECRET, algorithm="HS512", headers={"typ": "access"})
    assert _code(token) == "invalid-token"


@pytest.mark.parametrize("changes", [
    {"typ": "refresh"},
    {"exp": None},
    {"iat": None},
    {"sub": None},
    {"sub": "not-a-number"},
    {"role": "system"},
    {"role": "overlord"},
    {"sid": None},
    {"rgn": "3"},
    {"iat": int((NOW + timedelta(minutes=5)).timestamp())},
])
def test_malformed_claims_are_invalid(changes: dict[str, Any]) -> None:
    token = jwt.encode(_payload(**changes), SECRET, algorithm="HS256", headers={"typ": "access"})
    assert _code(token) == "invalid-token"


def test_header_type_must_be_access() -> None:
    token = jwt.encode(_payload(), SECRET, algorithm="HS256", headers={"typ": "JWT"})
    assert _code(token) == "invalid-token"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_garbage_is_invalid(garbage: str) -> None:
    assert _code(garbage) == "invalid-token"


def test_refresh_tokens_are_random_and_stored_as_sha256_hex() -> None:
    first, second = tokens.new_refresh_token(), tokens.new_refresh_token()
    assert first != second and len(first) >= 43  # 32 random bytes, base64url
    digest = tokens.hash_refresh_token(first)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == tokens.hash_refresh_token(first) != tokens.hash_refresh_token(second)


def test_a_token_verified_once_is_still_checked_against_the_time_and_the_keys() -> None:
    token = _issue()
    assert _decode(token).user_id == 7  # verified, and now remembered
    assert _code(token, now=NOW + timedelta(seconds=900)) == "token-expired"  # expiry is checked every time
    assert _code(token, now=NOW - timedelta(seconds=tokens.CLOCK_SKEW_S + 1)) == "invalid-token"
    assert _code(token, secret=SECRET + "-rotated") == "invalid-token"  # another key: verified afresh
    assert _code(token, audience="someone-else") == "invalid-token"
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert _code(tampered) == "invalid-token"
    assert _decode(token).user_id == 7
