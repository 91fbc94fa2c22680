"""Use cases. Services are the only writers: load through a repository, call the domain, save,
append events to the outbox and an audit row, all in the caller's unit of work. They never commit."""
