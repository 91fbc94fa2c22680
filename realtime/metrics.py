"""The hub's Prometheus metrics, registered on the app's registry (``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from realtime.hub import Hub


class HubMetrics:
    def __init__(self, registry: CollectorRegistry, hub: Hub) -> None:
        self.connections = Gauge("fieldline_ws_connections", "Open hub WebSockets", registry=registry)
        self.connections.set_function(lambda: len(hub.connections))
        self.closed = Counter("fieldline_ws_closed_total", "Hub WebSockets closed, by close code (0: by the peer)",
                              ["code"], registry=registry)
        self.events = Gauge("fieldline_hub_events_applied", "Events the hub applied since start", registry=registry)
        self.events.set_function(lambda: hub.events_applied)
        self.frames = Gauge("fieldline_hub_frames_published", "Deltas the hub published since start",
                            registry=registry)
        self.frames.set_function(lambda: hub.frames_published)
