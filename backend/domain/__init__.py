"""The pure domain: state machines, rules and reducers over dataclasses and enums.
No I/O, no database, no framework, no clock (time is an argument)."""
