"""An image file's declared size, read from its header before anything decodes it.

A decoder allocates what the header declares: a few bytes claiming 20000x20000 pixels cost
over a gigabyte before the decoder finds there is no picture behind them. PNG's IHDR and
JPEG's SOF marker say the size; both are read here with plain byte parsing.
"""

from __future__ import annotations

import struct
from pathlib import Path

from harness.errors import BadInput
from harness.loading import read_head

#: Pixels an image may declare: four times a 4K camera frame, far above any screen or frame
#: the rig handles.
MAX_PIXELS = 4 * 3840 * 2160
#: Bytes an image file may have.
MAX_BYTES = 64_000_000

_PNG = b"\x89PNG\r\n\x1a\n"
#: JPEG start-of-frame markers (baseline, progressive, lossless, ...): not DHT, JPG, DAC.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def declared_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) that a PNG or JPEG header declares; None for another format.
    Raises ValueError for a PNG or JPEG whose header is cut short or broken."""
    if head.startswith(_PNG):
        if len(head) < 24 or head[12:16] != b"IHDR":
            raise ValueError("a PNG without its IHDR header (cut short?)")
        return struct.unpack(">II", head[16:24])
    if head.startswith(b"\xff\xd8"):
        at = 2
        while at + 4 <= len(head):
            if head[at] != 0xFF:
                raise ValueError(f"a broken JPEG header (no marker at byte {at})")
            marker = head[at + 1]
            if marker == 0xFF:  # fill byte
                at += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                at += 2
                continue
            (length,) = struct.unpack(">H", head[at + 2 : at + 4])
            if marker in _SOF:
                if at + 9 > len(head):
                    break
                height, width = struct.unpack(">HH", head[at + 5 : at + 9])
                return width, height
            if marker == 0xDA or length < 2:  # image data before any frame header
                raise ValueError("a JPEG with no frame header")
            at += 2 + length
        raise ValueError("a JPEG without its frame header (cut short?)")
    return None


def check_image_file(path: Path, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse, before decoding, an image file that is empty, too large, cut short in its
    header or declares more than ``max_pixels`` (a BadInput naming the file)."""
    shown = str(path)
    head = read_head(path, 1 << 16, "an image")
    size = path.stat().st_size
    if size == 0:
        raise BadInput(shown, None, "", "an empty file, not an image")
    if size > MAX_BYTES:
        raise BadInput(shown, None, "", f"{size} bytes: larger than any image the rig reads")
    try:
        dims = declared_size(head)
    except ValueError as exc:
        raise BadInput(shown, None, "", str(exc)) from None
    if dims is None:
        return  # another format: its decoder's own limits apply
    width, height = dims
    if width == 0 or height == 0:
        raise BadInput(shown, None, "", f"declares {width}x{height} pixels: no picture")
    if width * height > max_pixels:
        raise BadInput(shown, None, "", f"declares {width}x{height} pixels (more than "
                       f"{max_pixels} pixels): refused before decoding")
