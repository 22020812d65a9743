"""USB vendor/product IDs as written in YAML files ("054C", "0x054c", 1356)."""

from __future__ import annotations

from typing import Annotated

import pydantic

from harness.loading import Field


def _parse_id(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("a USB ID is a 4-digit hex number like 054C")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip().lower().removeprefix("0x")
        if not text or len(text) > 4 or any(c not in "0123456789abcdef" for c in text):
            raise ValueError(f"{value!r} is not a 4-digit hex USB ID like 054C")
        number = int(text, 16)
    else:
        raise ValueError("a USB ID is a 4-digit hex number like 054C (quote it in YAML)")
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"{value!r} is out of range for a USB ID")
    return number


#: What a file may write (for the JSON Schema): "054C", "0x054c" or a number.
_WRITTEN = (Annotated[str, pydantic.StringConstraints(pattern=r"^\s*(0[xX])?[0-9A-Fa-f]{1,4}\s*$")]
            | Annotated[int, pydantic.Field(ge=0, le=0xFFFF)])

def fmt_id(number: int) -> str:
    return f"{number:04X}"


#: Written back (a bench file the box writes) as lsusb prints it: a YAML file must quote it.
UsbId = Annotated[int, pydantic.BeforeValidator(_parse_id, json_schema_input_type=_WRITTEN),
                  pydantic.PlainSerializer(fmt_id, return_type=str, when_used="json")]


class UsbIdPair(Field):
    vid: UsbId
    pid: UsbId
    #: True for IDs a lab has not filled in yet: the emulated bench's stand-ins.
    placeholder: bool = False
    note: str = ""

    def matches(self, vid: int, pid: int) -> bool:
        return (self.vid, self.pid) == (vid, pid)

    def __str__(self) -> str:
        return f"{fmt_id(self.vid)}:{fmt_id(self.pid)}"
