"""Storage: engine, table models, repositories (the only place with queries), outbox.
Table models never leave ``backend``; transports get schemas built from domain objects."""
