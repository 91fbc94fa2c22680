"""Token checks for the socket: who an access token speaks for and until when. The rule is
``backend.services.auth.authenticate`` (signature, expiry, live session family); this adds the
expiry instant so the hub can close the socket the moment the token runs out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from backend import errors
from backend.auth import tokens
from backend.clock import Clock
from backend.domain.actors import Principal
from backend.persistence.db import read_connection
from backend.services import auth
from backend.settings import Settings
from realtime.protocol import Close


@dataclass(frozen=True)
class Grant:
    principal: Principal
    expires_at: datetime
    token: str


class Authenticator:
    def __init__(self, settings: Settings, engine: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock

    async def check(self, token: str | None) -> Grant:
        """Raises ``errors.Unauthenticated`` (codes as ``authenticate``)."""
        now = self.clock.now()
        async with read_connection(self.engine) as connection:
            principal = await auth.authenticate(connection, self.settings, token, now)
        assert token is not None
        claims = tokens.decode_access(token, secret=self.settings.secret_key.get_secret_value(),
                                      issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience, now=now)
        return Grant(principal, claims.expires_at, token)


def close_code_for(exc: errors.DomainError) -> Close:
    if exc.code == "unauthenticated":
        return Close.NO_TOKEN
    if exc.code == "token-expired":
        return Close.AUTH_EXPIRED
    return Close.AUTH_FAILED
