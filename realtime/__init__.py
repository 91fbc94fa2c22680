"""The live feed: the WebSocket hub, its channels and brokers, and the telephony adapters that feed
``backend.services.telephony``. Imports ``backend``; never ``mobile_api``, ``supervisor_ui``,
``workers`` or ``fieldline``."""
