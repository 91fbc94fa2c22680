"""A local stand-in for FCM HTTP v1 (``POST /v1/projects/<id>/messages:send``) and Google's OAuth
token endpoint, served by uvicorn on a free loopback port in a thread of its own (google-auth
fetches tokens synchronously, so the stand-in must not share the caller's event loop). It records
every request and answers from a per-token script, with FCM's real error bodies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import free_port, wait_for_port

PROJECT = "fieldline-test"
ACCESS_TOKEN = "test-access-token"
FCM_ERRORS: dict[str, tuple[int, str, str]] = {  # FcmError code -> HTTP status, status, message
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Messages'"),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
}


def fcm_error(code: str, retry_after: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    status, name, message = FCM_ERRORS[code]
    body = {"error": {"code": status, "message": message, "status": name, "details": [
        {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}}
    return status, body, ({"Retry-After": retry_after} if retry_after else {})


@dataclass
class Standin:
    port: int
    requests: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    script: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/projects/{{0}}/messages:send"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.script.clear()

    def sends_to(self, token: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["json"]["message"].get("token") == token]

    def service_account(self, directory: Path) -> Path:
        """A real service-account file whose token_uri is this stand-in (no call leaves the host)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        path = directory / "service-account.json"
        path.write_text(json.dumps({
            "type": "service_account", "project_id": PROJECT, "private_key_id": "test-key", "private_key": pem,
            "client_email": f"push@{PROJECT}.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": f"http://127.0.0.1:{self.port}/token",
        }))
        return path

    async def _send(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.requests.append({"path": request.url.path, "headers": dict(request.headers), "json": body})
            count = len(self.requests)
            queue = self.script.get(body["message"].get("token", ""), [])
            answer = queue.pop(0) if queue else None
        if answer is None:
            project = request.path_params["project"]
            return JSONResponse({"name": f"projects/{project}/messages/{count}"})
        status, payload, headers = answer
        return JSONResponse(payload, status_code=status, headers=headers)

    async def _token(self, request: Request) -> JSONResponse:
        with self._lock:
            self.token_requests += 1
        return JSONResponse({"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/projects/{project}/messages:send", self._send, methods=["POST"]),
                                 Route("/token", self._token, methods=["POST"])])


@contextmanager
def fcm_standin() -> Iterator[Standin]:
    standin = Standin(port=free_port())
    server = uvicorn.Server(uvicorn.Config(standin.app(), host="127.0.0.1", port=standin.port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name="fcm-standin", daemon=True)
    thread.start()
    try:
        wait_for_port(standin.port)
        yield standin
    finally:
        server.should_exit = True
        thread.join(timeout=10)
