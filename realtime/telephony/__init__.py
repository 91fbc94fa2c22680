"""Telephony adapters: the Asterisk Manager Interface client, the signed webhook, the simulator,
and the PBX control port the agent-state routes use. Each turns its input into normalized
commands for ``backend.services.telephony.ingest``."""
