"""Background work: outbox relay, timers, push delivery, reports (arq in scaled mode).
Imports backend only."""
