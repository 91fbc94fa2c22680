"""Broker implementations behind ``backend.ports.Broker``: in-process (embedded) and Redis (scaled)."""
