"""What patients bring to the reader: a My Number card, a smartphone.

Only what the reader's flows need: the card's PIN counter and lock (the chip itself is the
card twin's business), the phone's kind and certificate PIN. PINs never reach a repr, a log
or the timeline.
"""

from __future__ import annotations

from typing import Literal

import attrs


@attrs.define
class PatientCard:
    """A My Number card. ``label`` is how it appears in records: never personal data."""

    label: str
    pin: str = attrs.field(repr=False)
    #: Wrong entries in a row that lock the PIN (利用者証明用電子証明書: 3).
    pin_tries: int = 3
    failures: int = 0
    #: Wrong entries since the PIN was last set (a right entry does not clear it): what a
    #: reader that never starts the count again would go by (AUTH-02 deviation).
    wrong_since_unlock: int = 0
    locked: bool = False

    def check_pin(self, pin: str) -> bool:
        """A PIN entry as the chip judges it: a locked PIN refuses even the right one."""
        if self.locked:
            return False
        if pin == self.pin:
            self.failures = 0
            return True
        self.failures += 1
        self.wrong_since_unlock += 1
        if self.failures >= self.pin_tries:
            self.locked = True
        return False

    def unlock(self) -> None:
        """Staff have the PIN reset (at the municipal office): the only way out of a lock."""
        self.locked = False
        self.failures = 0
        self.wrong_since_unlock = 0


@attrs.define
class Phone:
    """A smartphone carrying the My Number card function."""

    label: str
    kind: Literal["iphone", "android"]
    #: Android: the phone certificate's 4-digit PIN (not the unlock code).
    pin: str = attrs.field(default="", repr=False)
    #: iPhone: Face ID / Touch ID succeeds.
    biometrics_ok: bool = True
