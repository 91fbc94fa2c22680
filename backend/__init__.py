"""Fieldline's domain, persistence and services. Imports no entry point (realtime, mobile_api,
supervisor_ui, workers, fieldline): those import this package, never the other way round."""
