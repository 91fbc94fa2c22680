"""The telephony domain, pure: calls and agents as state machines fed normalized PBX commands,
the statistics reducer with its KPI formulas and service-level presets, the stats day boundary,
and the live board (the in-memory projection the hub and the wallboard snapshots share)."""
