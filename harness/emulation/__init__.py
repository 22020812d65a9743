"""The digital twin: emulated devices implementing the same protocols as the real ones.

Suites never import this package (DESIGN.md principle 1); the bench decides what is real.
Emulated devices take their behaviour from ``fixtures/devices/``, never from the profiles
they are checked against (principle 2).
"""
