"""The WebSocket hub: protocol, connections, channels, brokers. Imports backend, never another entry point."""
