"""Structured logs (JSON, one object a line) carrying the request id, and Prometheus metrics."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str] = ContextVar("request_id", default="")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactQueryFilter(logging.Filter):
    """uvicorn logs each WebSocket handshake (``'%s - "WebSocket %s" [accepted]'``) with the query
    string, where a hub client may carry its token (``/ws?token=``): keep the path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and '"WebSocket %s"' in record.msg and isinstance(record.args, tuple):
            record.args = tuple(a.split("?", 1)[0] if isinstance(a, str) and "?" in a else a for a in record.args)
        return True


def configure_logging(level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    if json_logs:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log would print raw URLs (and any token in them): ours redacts instead.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, RedactQueryFilter) for f in uvicorn_error.filters):
        uvicorn_error.addFilter(RedactQueryFilter())


class Metrics:
    """The process's Prometheus metrics, on a registry of its own (no global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "fieldline_http_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "fieldline_http_request_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry,
        )
        self.domain_errors = Counter(
            "fieldline_domain_errors_total", "Refused requests by error code", ["code"],
            registry=self.registry,
        )
        self.outbox_published = Counter(
            "fieldline_outbox_published_total", "Outbox events handed to the broker",
            registry=self.registry,
        )
