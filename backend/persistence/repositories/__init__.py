"""Repositories: the only place with queries. One module per aggregate."""
