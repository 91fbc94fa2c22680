"""The engineers' mobile API (/api/mobile/v1). Imports backend, never another entry point."""
