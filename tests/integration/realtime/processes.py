"""Real hub processes for the end-to-end tests: migrate and seed a database, then serve the app in
a subprocess with uvicorn until stopped. ``python -m tests.integration.realtime.processes PORT
[SNDBUF]`` is the server side; a small send buffer (inherited by accepted sockets) lets a test
fill a frozen client's buffers in a moment."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import wait_for_port

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK_SECRET = "e2e-webhook-secret"


def base_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLINE_")}
    env.update({"FIELDLINE_ENVIRONMENT": "test", "FIELDLINE_DATABASE_URL": database_url,
                "FIELDLINE_SIMULATOR": "false", "FIELDLINE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "FIELDLINE_LOG_JSON": "false", "FIELDLINE_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **extra})
    return env


def prepare(env: dict[str, str]) -> None:
    """Migrate and load the demo data (users, queues), once per database."""
    for command in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "fieldline", command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def metric(self, name: str) -> float:
        total = 0.0
        for line in httpx.get(f"{self.url}/metrics", timeout=5).text.splitlines():
            if line.startswith(name):
                total += float(line.rsplit(" ", 1)[1])
        return total


@contextlib.contextmanager
def serve(env: dict[str, str], port: int, workdir: Path, *, sndbuf: int | None = None) -> Iterator[Server]:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"server-{port}.log"
    args = [sys.executable, "-m", "tests.integration.realtime.processes", str(port)] + ([str(sndbuf)] if sndbuf else [])
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(process, port, log_path)
    try:
        try:
            wait_for_port(port, timeout=60)  # the socket is bound before the app starts: requests then wait
            ready = httpx.get(f"{server.url}/readyz", timeout=60).status_code == 200
        except (TimeoutError, httpx.HTTPError):
            ready = False
        if not ready:
            raise RuntimeError(f"the server did not start:\n{log_path.read_text()[-3000:]}")
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def main() -> None:
    from backend.observability import configure_logging
    from backend.settings import Settings
    from fieldline import server
    from fieldline.app import create_app

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    sndbuf = int(sys.argv[2]) if len(sys.argv) > 2 else None
    sock = server.listening_socket("127.0.0.1", int(sys.argv[1]), sndbuf=sndbuf)
    # the server exactly as ``fieldline serve`` configures it (uvloop, httptools, the frames extension)
    server.Server(server.config(create_app(settings), graceful_s=5)).run(sockets=[sock])


if __name__ == "__main__":
    main()
