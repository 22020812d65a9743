"""Reading a screen's Japanese text with Tesseract (``tesserocr``, Debian's ``jpn`` model).

The rig reads text where it does not know how the panel draws it (a lab's reader whose
screen was never confirmed, a screen whose layout moved) and, everywhere, to say in a report
what a screen shows (:class:`ReadLine`). Checks that a text is shown character for character
are harness/vision/text_check.py's business; this module only reads.

- The model: ``TESSDATA_PREFIX`` if set (the folder holding ``jpn.traineddata``), else
  Debian's places (``tesseract-ocr-jpn``). The PyPI wheel bundles libtesseract but no model.
- One Tesseract instance per thread, made on first use (~0.1 s) and kept: Tesseract's API is
  not thread-safe, and making one per read would cost more than the read.
- A screen is read at the references' size, line by line: the lines are found first
  (harness/vision/text_lines.py: borders, frames and bars' edges are not text), and each is
  read alone as one line (PSM 7) with its own polarity (Tesseract reads dark text on light:
  light title text on a dark bar is inverted, the page around it is not), its frame and
  rules painted out, small type scaled up, the camera's blur sharpened a little. Tesseract's
  own page layout took a dialog's borders for lines of ``|`` and lost light text on dark
  bars. Lines read as nothing but stroke debris (``|``, ``ー``) are no lines. The lines
  come back top to bottom, each with its confidence and box.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import attrs
import cv2
import numpy as np

from harness.errors import MissingSystemPart
from harness.vision.text_lines import Box, LineBox, find_layout

TESSDATA_ENV = "TESSDATA_PREFIX"
#: Where Debian's tesseract-ocr-jpn puts the model (Tesseract 5, then 4).
_TESSDATA_PLACES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
)
LANGUAGE = "jpn"
#: Text whose glyphs' size is given (``glyph_px``) is read scaled up to glyphs this many
#: pixels high (about the references' body text at their own size).
MIN_GLYPH_PX = 28
#: A line lower than this (pixels) is read scaled up to it: Tesseract's Japanese model
#: misreads smaller glyphs. (Scaling the terminal's title text, 21 pixels, up further
#: read its blurred kanji worse: the window's title read whole on 24 of 64 frames at 28
#: pixels, on 34 at its own size.)
MIN_LINE_PX = 20

#: Lines read with less confidence are noise (a speck, an edge of the picture): left out.
MIN_CONFIDENCE = 0.05
#: Around a line's ink, this share of its height is read with it (Tesseract misses text
#: that touches the picture's edge).
LINE_PAD = 0.35
#: The unsharp mask: how much, over what blur (pixels at the references' size).
SHARPEN = 1.5
SHARPEN_SIGMA = 1.5
#: White around a line read.
_MARGIN = 16
#: What Tesseract makes of a stroke that is not text: a line of nothing else is no line.
DEBRIS = frozenset("|｜丨¦!Il[]_‐-–—―─━一ー.,、。・'\"` ")



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
                                      psm=tesserocr.PSM.SINGLE_LINE)
        # A line is given cleaned of everything but its text: Tesseract's rejection of
        # "noise rows" then drops whole lines of crisp glyphs (it read nothing of
        # 回線認証接続済み, sharp on white).
        api.SetVariable("textord_noise_rejrows", "0")
        _engines.api = api
    return _engines.api


def _grey(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    return grey


def read_lines(image: np.ndarray, *, box: Box | None = None,
               reference_size: tuple[int, int] | None = None,
               symbols: bool = False, glyph_px: float | None = None,
               light_text: bool | None = None) -> tuple[ReadLine, ...]:
    """The lines of text on a rectified screen (BGR or grey, any size), top to bottom.

    The lines are found first (harness/vision/text_lines.py: borders, frames and bars'
    edges left out), each read with its own polarity (light title text on a dark bar, dark
    text on a light page). ``reference_size``: the references' width and height; the screen
    is read at that size and boxes are in reference pixels. ``box`` (reference pixels when
    ``reference_size`` is given, else the picture's): read only there (a dialog, a line:
    faster). ``symbols``: each line also carries its characters. ``glyph_px``: the text's
    size (reference pixels), when known: small type is scaled up to :data:`MIN_GLYPH_PX`.
    ``light_text``: every line's polarity (None: each line's own background says)."""
    grey = _grey(image)
    if reference_size is not None and grey.shape[1] != reference_size[0]:
        shrink = grey.shape[1] > reference_size[0]
        grey = cv2.resize(grey, reference_size,
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    height, width = grey.shape
    x0 = y0 = 0
    if box is not None:
        bx, by, bw, bh = box
        x0, y0 = max(0, int(np.floor(bx))), max(0, int(np.floor(by)))
        x1, y1 = min(width, int(np.ceil(bx + bw))), min(height, int(np.ceil(by + bh)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return ()
        grey = grey[y0:y1, x0:x1]
    layout = find_layout(grey, drop_edge=box is None)
    upscale = max(1.0, MIN_GLYPH_PX / glyph_px) if glyph_px else 1.0
    slots = [_slot(grey, line, layout.clutter[line.light_text if light_text is None
                                              else light_text], light_text, upscale)
             for line in layout.lines]
    lines = _recognise_slots(slots, (x0, y0), symbols)
    return tuple(sorted(lines, key=lambda line: (line.box[1], line.box[0])))


@attrs.frozen
class _Slot:
    """One line as Tesseract gets it: dark on light, sharpened, scaled."""

    picture: np.ndarray = attrs.field(eq=False)
    #: Where the picture's top-left corner lies on the screen, and its scale.
    origin: tuple[int, int]
    scale: float


def _slot(grey: np.ndarray, line: LineBox, clutter: np.ndarray, light_text: bool | None,
          upscale: float) -> _Slot:
    x, y, w, h = line.box
    pad = max(4, int(round(LINE_PAD * h)))
    height, width = grey.shape
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(width, x + w + pad), min(height, y + h + pad)
    picture = grey[y0:y1, x0:x1].astype(np.float32)
    light = line.light_text if light_text is None else light_text
    if light:
        picture = 255 - picture
    # A frame around a button, a border beside a line: background to the line.
    clear = clutter[y0:y1, x0:x1] == 0
    scale = max(upscale, MIN_LINE_PX / h)
    if scale > 1.0:
        picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        clear = cv2.resize(clear.astype(np.uint8), picture.shape[::-1],
                           interpolation=cv2.INTER_NEAREST) > 0
    # The camera's blur taken back a little (an unsharp mask): Tesseract's Japanese model
    # reads blurred small kanji as their neighbours (資 as 責).
    blurred = cv2.GaussianBlur(picture, (0, 0), SHARPEN_SIGMA * max(1.0, scale))
    picture = picture + SHARPEN * (picture - blurred)
    # Its background to white, its ink to black.
    dark, background = np.percentile(picture[clear] if clear.any() else picture, (2, 75))
    picture = 255 * (picture - dark) / max(background - dark, 1.0)
    picture[~clear] = 255
    return _Slot(np.clip(picture, 0, 255).astype(np.uint8), (x0, y0), max(1.0, scale))


def _recognise_slots(slots: list[_Slot], origin: tuple[int, int],
                     symbols: bool) -> list[ReadLine]:
    """Each slot read as one line of text (Tesseract's own layout finds nothing to merge
    or skip), its results taken back to the slot's place on the screen."""
    out: list[ReadLine] = []
    for slot in slots:
        picture = cv2.copyMakeBorder(slot.picture, _MARGIN, _MARGIN, _MARGIN, _MARGIN,
                                     cv2.BORDER_CONSTANT, value=255)

        def to_box(bx: int, by: int, bw: int, bh: int, slot: _Slot = slot) -> Box:
            x = (bx - _MARGIN) / slot.scale + slot.origin[0] + origin[0]
            y = (by - _MARGIN) / slot.scale + slot.origin[1] + origin[1]
            return (int(round(x)), int(round(y)), max(1, int(round(bw / slot.scale))),
                    max(1, int(round(bh / slot.scale))))

        line = _read_line(picture, to_box, symbols)
        if line is not None and not _debris(line.text):
            out.append(line)
    return out


def _debris(text: str) -> bool:
    return not text.strip() or set(text) <= DEBRIS


def _read_line(picture: np.ndarray, to_box, symbols: bool) -> ReadLine | None:  # noqa: ANN001
    """One line of text on ``picture`` (dark on white), or None when Tesseract reads
    nothing there it trusts."""
    import tesserocr

    api = _api()
    # The pixels as they are (a PIL image would be encoded and decoded on the way in).
    picture = np.ascontiguousarray(picture)
    api.SetImageBytes(picture.tobytes(), picture.shape[1], picture.shape[0], 1,
                      picture.shape[1])
    api.Recognize()
    text = (api.GetUTF8Text() or "").strip()
    # The words' mean (a line's own confidence is its least certain word's, often 0).
    confidence = api.MeanTextConf() / 100.0
    if not text or confidence < MIN_CONFIDENCE:
        return None
    boxes = []
    it = api.GetIterator()
    level = tesserocr.RIL.TEXTLINE
    while it is not None:
        bbox = it.BoundingBox(level)
        if bbox is not None:
            boxes.append(bbox)
        if not it.Next(level):
            break
    if boxes:
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    else:
        (y0, x0), (y1, x1) = (0, 0), picture.shape
    line = ReadLine(text, confidence, to_box(x0, y0, x1 - x0, y1 - y0))
    return _with_symbols(api, [line], to_box)[0] if symbols else line


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
