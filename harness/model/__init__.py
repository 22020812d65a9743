"""The pure domain: no I/O. Profiles (the spec), requirements, the timeline, wiring rules."""
