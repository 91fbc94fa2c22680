"""The console: its JSON API (/api/console/v1) and the browser pages. Imports backend only."""
