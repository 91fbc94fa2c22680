"""The composition root: builds the ASGI app and the CLI from every package. Nothing imports it."""
