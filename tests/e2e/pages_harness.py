"""The pages' end-to-end harness: the real app (``fieldline run``: migrate, demo data, serve) as a
uvicorn subprocess on a free loopback port with a fresh SQLite database, which a test can stop and
start again on the same port and data; and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Quiet, reproducible headless Chromium: no sandbox (root in CI), no GPU, nothing phoning home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VENDOR = ROOT / "supervisor_ui" / "static" / "vendor" / "chart.umd.min.js"
WEBHOOK_SECRET = "e2e-webhook-secret-0123456789abcdef"


@dataclass
class AppServer:
    """``fieldline run`` in a subprocess; ``restart()`` keeps the port and the database."""

    workdir: Path
    port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.workdir / 'fieldline.db'}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLINE_")}
        env.update({
            "FIELDLINE_ENVIRONMENT": "test",
            "FIELDLINE_HOST": "127.0.0.1",
            "FIELDLINE_PORT": str(self.port),
            "FIELDLINE_DATABASE_URL": self.database_url,
            "FIELDLINE_DEMO_DATA": "true",
            "FIELDLINE_SIMULATOR": "false",
            "FIELDLINE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "FIELDLINE_LOG_JSON": "false",
            "FIELDLINE_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> AppServer:
        assert self.process is None, "already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"server-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fieldline", "run"], cwd=ROOT, env=self.env(),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.starts += 1
        # uvicorn binds the port only after migrations, demo data and the lifespan: open = ready.
        # Waited for in short slices so a process that dies early fails the test at once.
        for _ in range(int(timeout / 0.5)):
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"the app exited:\n{self.log_tail()}")
            try:
                wait_for_port(self.port, timeout=0.5)
                break
            except TimeoutError:
                continue
        else:
            self.stop()
            raise RuntimeError(f"the app did not start within {timeout}s:\n{self.log_tail()}")
        if httpx.get(f"{self.url}/readyz", timeout=5.0).status_code != 200:
            raise RuntimeError(f"the app is not ready:\n{self.log_tail()}")
        return self

    def stop(self, timeout: float = 20.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # uvicorn's graceful stop: hub sockets get 1012
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> AppServer:
        self.stop()
        return self.start()

    def webhook(self, *events: dict[str, Any]) -> dict[str, Any]:
        """PBX events through the signed webhook (docs/telephony.md), as a CTI system sends them."""
        now = datetime.now(UTC)
        body = json.dumps({"events": [{"id": uuid.uuid4().hex, "at": now.isoformat(), **e} for e in events]}).encode()
        stamp = str(int(now.timestamp()))
        signature = hmac.new(WEBHOOK_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        response = httpx.post(f"{self.url}/api/telephony/v1/events", content=body, timeout=10.0, headers={
            "Content-Type": "application/json", "X-Fieldline-Timestamp": stamp,
            "X-Fieldline-Signature": f"sha256={signature}"})
        assert response.status_code == 200, response.text
        result = response.json()
        assert not result["rejected"], result
        return result

    def inject(self, what: dict[str, Any]) -> None:
        """Write through the real services into this app's database from another process
        (``tests.e2e.inject``); the app's outbox relay delivers the events within its poll interval."""
        subprocess.run([sys.executable, "-m", "tests.e2e.inject", self.database_url, json.dumps(what)], cwd=ROOT,
                       env=self.env(), check=True, capture_output=True, timeout=60)

    def inject_in_background(self, what: dict[str, Any]) -> subprocess.Popen[bytes]:
        """``inject`` without waiting for it: the caller waits on the returned process."""
        return subprocess.Popen([sys.executable, "-m", "tests.e2e.inject", self.database_url, json.dumps(what)],
                                cwd=ROOT, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def log_tail(self, lines: int = 40) -> str:
        logs = sorted(self.workdir.glob("server-*.log"))
        if not logs:
            return ""
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_app(workdir: Path, **env: str) -> Iterator[AppServer]:
    server = AppServer(workdir=workdir, extra_env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def login_tokens(server: AppServer, username: str, password: str) -> dict[str, Any]:
    response = httpx.post(f"{server.url}/api/auth/login", json={"username": username, "password": password},
                          timeout=10.0)
    response.raise_for_status()
    return response.json()
