"""HTTP plumbing shared by every transport (request parsing, error mapping, auth routes,
middleware). Lives in ``backend`` because two entry points need it; holds no business rule."""
