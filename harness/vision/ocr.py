"""Reading a screen's Japanese text with Tesseract (``tesserocr``, Debian's ``jpn`` model).

The rig reads text where it does not know how the panel draws it (a lab's reader whose
screen was never confirmed, a screen whose layout moved) and, everywhere, to say in a report
what a screen shows (:class:`ReadLine`). Checks that a text is shown character for character
are harness/vision/text_check.py's business; this module only reads.

- The model: ``TESSDATA_PREFIX`` if set (the folder holding ``jpn.traineddata``), else
  Debian's places (``tesseract-ocr-jpn``). The PyPI wheel bundles libtesseract but no model.
- One Tesseract instance per thread, made on first use (~0.1 s) and kept: Tesseract's API is
  not thread-safe, and making one per read would cost more than the read.
- Pictures are read grey, dark pages inverted (Tesseract reads dark text on light best),
  small text scaled up to the references' own size or more, as one block of text (PSM 6):
  a screen's lines come back top to bottom, each with its confidence and box.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import attrs
import cv2
import numpy as np

from harness.errors import MissingSystemPart

TESSDATA_ENV = "TESSDATA_PREFIX"
#: Where Debian's tesseract-ocr-jpn puts the model (Tesseract 5, then 4).
_TESSDATA_PLACES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
)
LANGUAGE = "jpn"
#: Text is read with glyphs at least this many pixels high (about the references' body
#: text at their own size): Tesseract's Japanese model misreads smaller glyphs.
MIN_GLYPH_PX = 28

#: Lines read with less confidence are noise (a speck, an edge of the picture): left out.
MIN_CONFIDENCE = 0.05

Box = tuple[int, int, int, int]


@attrs.frozen
class ReadSymbol:
    """One character as Tesseract read it."""

    text: str
    confidence: float
    #: x, y, width, height in the screen's reference pixels.
    box: Box


@attrs.frozen
class ReadLine:
    """One line of text read off a screen."""

    text: str
    #: Tesseract's confidence in the line, 0 to 1.
    confidence: float
    #: x, y, width, height in the screen's reference pixels (the picture's own pixels when
    #: no reference size was given).
    box: Box
    #: Each character, when asked for (``symbols=True``): for layouts learnt from a lab's
    #: reader.
    symbols: tuple[ReadSymbol, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"text": self.text, "confidence": round(self.confidence, 3),
                "box": list(self.box)}


def find_tessdata() -> Path:
    """The folder holding Tesseract's Japanese model, or :class:`MissingSystemPart`."""
    env = os.environ.get(TESSDATA_ENV)
    places = [env] if env else list(_TESSDATA_PLACES)
    for place in places:
        if (Path(place) / f"{LANGUAGE}.traineddata").is_file():
            return Path(place)
    where = f"{TESSDATA_ENV}={env} holds" if env else "no tessdata folder holds"
    raise MissingSystemPart(
        f"Tesseract's Japanese model ({where} {LANGUAGE}.traineddata)",
        "apt-get install tesseract-ocr tesseract-ocr-jpn, or set TESSDATA_PREFIX to a folder "
        f"holding {LANGUAGE}.traineddata",
    )


class _Engines(threading.local):
    api: object | None = None


_engines = _Engines()


def _api():  # noqa: ANN202 - tesserocr.PyTessBaseAPI
    if _engines.api is None:
        import tesserocr

        api = tesserocr.PyTessBaseAPI(path=str(find_tessdata()), lang=LANGUAGE,
                                      psm=tesserocr.PSM.SINGLE_BLOCK)
        _engines.api = api
    return _engines.api


def prepare(image: np.ndarray, upscale: float = 1.0,
            light_text: bool | None = None) -> np.ndarray:
    """A picture as Tesseract reads it best: grey, dark text on light, ``upscale`` times
    larger. ``light_text``: whether the text is lighter than its background (None: the
    picture's median says; a page is mostly background)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    if light_text is None:
        light_text = float(np.median(grey)) < 128
    if light_text:
        grey = 255 - grey
    if upscale > 1.0:
        grey = cv2.resize(grey, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
    return grey


def read_lines(image: np.ndarray, *, box: Box | None = None,
               reference_size: tuple[int, int] | None = None,
               symbols: bool = False, glyph_px: float | None = None,
               light_text: bool | None = None) -> tuple[ReadLine, ...]:
    """The lines of text on a rectified screen (BGR or grey, any size), top to bottom.

    ``reference_size``: the references' width and height; boxes are then in reference
    pixels, and a screen smaller than that is read scaled up to it. ``box`` (reference
    pixels when ``reference_size`` is given, else the picture's): read only there (a
    dialog, a line: faster). ``symbols``: each line also carries its characters.
    ``glyph_px``: the text's size (reference pixels), when known: small type is scaled up
    to :data:`MIN_GLYPH_PX`. ``light_text``: see :func:`prepare`."""
    height, width = image.shape[:2]
    to_ref = reference_size[0] / width if reference_size else 1.0
    x0 = y0 = 0
    if box is not None:
        bx, by, bw, bh = (v / to_ref for v in box)
        x0, y0 = max(0, int(np.floor(bx))), max(0, int(np.floor(by)))
        x1, y1 = min(width, int(np.ceil(bx + bw))), min(height, int(np.ceil(by + bh)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return ()
        image = image[y0:y1, x0:x1]
    # Up to the references' own size at least (text drawn for them reads there).
    upscale = max(1.0, to_ref, MIN_GLYPH_PX / glyph_px if glyph_px else 1.0)
    picture = prepare(image, upscale, light_text)
    # A margin: Tesseract misses text that touches the picture's edge.
    pad = 10
    picture = cv2.copyMakeBorder(picture, pad, pad, pad, pad, cv2.BORDER_CONSTANT,
                                 value=int(np.median(picture)))
    return _recognise(picture, lambda bx, by, bw, bh: _back(
        (bx - pad, by - pad, bw, bh), upscale, (x0, y0), to_ref), symbols)


def _back(box: Box, upscale: float, origin: tuple[int, int], to_ref: float) -> Box:
    x, y, w, h = (v / upscale for v in box)
    return (int(round((x + origin[0]) * to_ref)), int(round((y + origin[1]) * to_ref)),
            max(1, int(round(w * to_ref))), max(1, int(round(h * to_ref))))


def _recognise(picture: np.ndarray, to_box, symbols: bool) -> tuple[ReadLine, ...]:  # noqa: ANN001
    import tesserocr
    from PIL import Image

    api = _api()
    api.SetImage(Image.fromarray(picture))
    api.Recognize()
    it = api.GetIterator()
    level = tesserocr.RIL.TEXTLINE
    lines: list[ReadLine] = []
    if it is None:
        return ()
    while True:
        text = _text(it, level)
        bbox = it.BoundingBox(level)
        if text and bbox is not None and it.Confidence(level) >= 100 * MIN_CONFIDENCE:
            x0, y0, x1, y1 = bbox
            lines.append(ReadLine(text, it.Confidence(level) / 100.0,
                                  to_box(x0, y0, x1 - x0, y1 - y0)))
        if not it.Next(level):
            break
    if symbols:
        lines = _with_symbols(api, lines, to_box)
    lines.sort(key=lambda line: (line.box[1], line.box[0]))
    return tuple(lines)


def _text(it, level) -> str:  # noqa: ANN001
    try:
        return (it.GetUTF8Text(level) or "").strip()
    except RuntimeError:  # an element with no text (tesserocr raises on it)
        return ""


def _with_symbols(api, lines: list[ReadLine], to_box) -> list[ReadLine]:  # noqa: ANN001
    """Each line with the characters whose centres lie in it."""
    import tesserocr

    level = tesserocr.RIL.SYMBOL
    found: list[ReadSymbol] = []
    it = api.GetIterator()
    while it is not None:
        text = _text(it, level)
        bbox = it.BoundingBox(level)
        if text and bbox is not None:
            x0, y0, x1, y1 = bbox
            found.append(ReadSymbol(text, it.Confidence(level) / 100.0,
                                    to_box(x0, y0, x1 - x0, y1 - y0)))
        if not it.Next(level):
            break
    out = []
    for line in lines:
        lx, ly, lw, lh = line.box
        mine = tuple(s for s in found
                     if lx <= s.box[0] + s.box[2] / 2 <= lx + lw
                     and ly <= s.box[1] + s.box[3] / 2 <= ly + lh)
        out.append(attrs.evolve(line, symbols=mine))
    return out


def read_text(image: np.ndarray, **kwargs: object) -> str:
    """All lines read, joined with newlines (see :func:`read_lines`)."""
    return "\n".join(line.text for line in read_lines(image, **kwargs))  # type: ignore[arg-type]
