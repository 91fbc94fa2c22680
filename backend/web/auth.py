"""HTTP transport for authentication (``/api/auth``: login, refresh, logout, me) and
``require_principal``, the Bearer guard every other HTTP route uses. Thin: no rule lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend import errors
from backend.domain.actors import Principal, Role
from backend.persistence.db import read_connection
from backend.services import auth
from backend.services.uow import UnitOfWork
from backend.web.requests import StrictModel, read_json

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # token responses must not be cached


class LoginRequest(StrictModel):
    username: str = Field(min_length=1, max_length=64)
    password: Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=1024)]


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=1, max_length=256)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def require_principal(request: Request, *roles: Role) -> Principal:
    """The authenticated principal of the request (``Authorization: Bearer``). Raises
    ``Unauthenticated`` (401) or, when ``roles`` are given and the role is not among them,
    ``Forbidden("role-not-allowed")`` (403)."""
    state = request.app.state
    async with read_connection(state.engine) as connection:
        principal = await auth.authenticate(connection, state.settings, bearer_token(request), state.clock.now())
    require_role(principal, *roles)
    return principal


def token_principal(request: Request) -> Principal:
    """The principal of the request's access token, checked WITHOUT the database: only for a
    request whose own transaction checks the session is live (``mobile_api.idempotent.mutating``).
    Raises ``Unauthenticated`` (401) as ``require_principal`` does, except ``token-revoked``."""
    state = request.app.state
    return auth.token_principal(state.settings, bearer_token(request), state.clock.now())


async def require_live(request: Request, principal: Principal) -> None:
    """Raises ``Unauthenticated("token-revoked")`` if the principal's session was revoked."""
    async with read_connection(request.app.state.engine) as connection:
        await auth.require_live(connection, principal)


def require_role(principal: Principal, *roles: Role) -> None:
    """Raises ``Forbidden("role-not-allowed")`` (403) when ``roles`` are given and the principal's
    role is not among them."""
    if roles and principal.role not in roles:
        raise errors.Forbidden("role-not-allowed", "your role may not do this",
                               allowed=sorted(str(r) for r in roles))


@asynccontextmanager
async def _committing_refusals(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work that also commits when the service refuses: a failed login's attempt row and
    a reused refresh token's family revocation must persist although the request gets a 4xx."""
    async with request.app.state.uows() as uow:
        try:
            yield uow
        except errors.DomainError:
            await uow.commit()
            raise
        await uow.commit()


def _user_body(user: auth.UserInfo) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": str(user.role), "region_id": user.region_id, "provider_id": user.provider_id}


def _tokens_response(pair: auth.TokenPair) -> JSONResponse:
    return JSONResponse({
        "access_token": pair.access_token,
        "token_type": "bearer",
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "refresh_expires_in": pair.refresh_expires_in,
        "user": _user_body(pair.user),
    }, headers=NO_STORE)


async def login(request: Request) -> Response:
    body = await read_json(request, LoginRequest)
    remote = request.client.host if request.client else ""
    async with _committing_refusals(request) as uow:
        pair = await auth.login(uow, request.app.state.settings, body.username, body.password, remote)
    return _tokens_response(pair)


async def refresh(request: Request) -> Response:
    body = await read_json(request, RefreshRequest)
    async with _committing_refusals(request) as uow:
        pair = await auth.refresh(uow, request.app.state.settings, body.refresh_token)
    return _tokens_response(pair)


async def logout(request: Request) -> Response:
    principal = await require_principal(request)
    async with request.app.state.uows() as uow:
        await auth.logout(uow, principal)
        await uow.commit()
    return Response(status_code=204)


async def me(request: Request) -> Response:
    principal = await require_principal(request)
    async with request.app.state.sessions() as session:
        user = await auth.current_user(session, principal)
    return JSONResponse({"user": _user_body(user)}, headers={"Cache-Control": "no-store"})


routes = [
    Route("/login", login, methods=["POST"]),
    Route("/refresh", refresh, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/me", me, methods=["GET"]),
]
