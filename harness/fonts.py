"""Noto Sans CJK (Debian ``fonts-noto-cjk``): the face the twins draw their screens in, and
the one the vision sets a glyph's near twin in (harness/vision/twins.py)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.errors import MissingSystemPart

FONT_ENV = "ONSHI_RIG_FONT"
_FONT_PLACES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)


def find_font(purpose: str = "to draw a screen the reference screens do not hold") -> Path:
    candidates = [os.environ[FONT_ENV]] if os.environ.get(FONT_ENV) else list(_FONT_PLACES)
    for place in candidates:
        if Path(place).is_file():
            return Path(place)
    raise MissingSystemPart(
        f"the Noto Sans CJK font ({purpose})",
        "apt-get install fonts-noto-cjk, or set ONSHI_RIG_FONT to a NotoSansCJK-Regular.ttc",
    )


class Fonts:
    """Noto Sans CJK JP at any size, loaded on first use."""

    def __init__(self, purpose: str = "to draw a screen the reference screens do not hold",
                 ) -> None:
        self._purpose = purpose
        self._path: Path | None = None
        self._sizes: dict[int, object] = {}

    def get(self, size: int):  # noqa: ANN201 - PIL's FreeTypeFont
        from PIL import ImageFont

        if self._path is None:
            self._path = find_font(self._purpose)
        if size not in self._sizes:
            # Index 0 of the collection is the Japanese face.
            self._sizes[size] = ImageFont.truetype(str(self._path), size, index=0)
        return self._sizes[size]
