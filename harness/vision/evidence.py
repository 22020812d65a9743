"""The frames behind the rig's decisions, kept for reports.

When vision decides something (a screen class, a stuck screen, a spinner), the frame it
decided on goes to an :class:`EvidenceStore`: the camera frame as a JPEG (downscaled, a
report needs to show it, not measure it), the rectified screen the classifier saw as a
lossless PNG beside it, and one JSON line per item in ``evidence.jsonl``::

    <dir>/<source>/<index:06d>-<t:.3f>-<label>.jpg
    <dir>/<source>/<index:06d>-<t:.3f>-<label>.rectified.png
    <dir>/evidence.jsonl

No secrets in artefacts (DESIGN.md principle 7): ``data`` is written as given, so callers
pass only non-secret data (scores, regions, screen class names), never a PIN, passcode or
card personal data. As a guard, keys named like a PIN, passcode or password are refused
with ValueError, except the shared screen and dialog class names (``pin_entry``,
``staff_passcode``, ...), which name screens, not secrets.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import attrs
import cv2
import numpy as np

from harness.errors import RigError
from harness.loading import json_loads
from harness.model.screens import DIALOGS, SCREENS
from harness.protocols import Frame

INDEX_FILE = "evidence.jsonl"

# Words that make a key look like it holds a secret (matched per word of the key, so
# "spinner" or "pinned" pass while "pin", "user_pin", "pinCode" and "暗証番号" do not).
_SECRET_WORDS = frozenset(
    {"pin", "pins", "pincode", "passcode", "passcodes", "password", "passwords", "passwd"}
)
_SECRET_FRAGMENTS = ("暗証",)  # 暗証番号: the Japanese for PIN
# Screen and dialog class names are vocabulary, not secrets: a classifier's score table
# keyed by class ("pin_entry", "staff_passcode", "sp_pin") must be keepable.
_VOCABULARY = frozenset(SCREENS) | frozenset(DIALOGS)


@attrs.frozen
class Evidence:
    """One kept frame; paths are relative to the store's directory (for reports)."""

    source: str
    index: int
    t: float
    label: str
    #: The camera frame (JPEG, at most the store's max_width wide).
    image: str
    #: The rectified screen (PNG), if one was given.
    rectified: str | None = None
    #: Width of the kept JPEG divided by the frame's width (1.0 if not downscaled).
    scale: float = 1.0
    data: dict[str, Any] = attrs.field(factory=dict)


def _words(key: str) -> list[str]:
    # "userPIN_code2" -> ["user", "pin", "code"]: split camelCase, separators and digits.
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key)
    return [w.lower() for w in re.split(r"[^A-Za-z]+", spaced) if w]


def _secret_key(key: str) -> bool:
    if key in _VOCABULARY:
        return False
    if any(fragment in key for fragment in _SECRET_FRAGMENTS):
        return True
    words = _words(key)
    joined = "".join(words)  # "pin_code" and "pinCode" -> "pincode"
    return any(w in _SECRET_WORDS for w in words) or joined in _SECRET_WORDS


def _check_keys(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}"
            if _secret_key(str(key)):
                raise ValueError(
                    f"evidence data key {path!r} looks like a secret (PIN, passcode, "
                    "password); evidence never holds secrets, leave it out"
                )
            _check_keys(item, path)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_keys(item, f"{where}[{i}]")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return value.as_posix()
    raise TypeError(
        f"evidence data: a {type(value).__name__} is not JSON; pass numbers, strings, "
        "lists and dicts"
    )


def safe_name(text: str, fallback: str = "item", max_len: int = 60) -> str:
    """``text`` as a file-name part: letters (any script), digits, ``_``, ``-``, ``.``.

    Everything else (slashes, spaces, ``..``) becomes ``_``, so a label never leaves the
    directory or breaks a report link.
    """
    name = re.sub(r"[^\w.-]+", "_", text, flags=re.UNICODE)
    name = re.sub(r"\.{2,}", "_", name)
    name = re.sub(r"_{2,}", "_", name).strip("._-")
    return name[:max_len].rstrip("._-") or fallback


def _encode(image: np.ndarray, ext: str, params: list[int], what: str) -> bytes:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"{what} must be a uint8 grey or BGR image")
    ok, buf = cv2.imencode(ext, image, params)
    if not ok:
        raise RigError(f"evidence: OpenCV could not encode the {what} as {ext}")
    return buf.tobytes()


@attrs.define(eq=False)
class EvidenceStore:
    """Keeps frames behind decisions under ``directory`` (created on first use)."""

    directory: Path = attrs.field(converter=Path)
    max_width: int = attrs.field(default=960, kw_only=True)
    jpeg_quality: int = attrs.field(default=85, kw_only=True)
    _lock: threading.Lock = attrs.field(init=False, factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.max_width < 1:
            raise ValueError(f"max_width must be positive, got {self.max_width}")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg_quality must be 1..100, got {self.jpeg_quality}")

    @property
    def index_file(self) -> Path:
        return self.directory / INDEX_FILE

    def keep(
        self,
        frame: Frame,
        label: str,
        *,
        rectified: np.ndarray | None = None,
        data: dict[str, Any] | None = None,
    ) -> Evidence:
        """Write the frame (and the rectified screen) and index it; see the module doc.

        ``data`` must hold only non-secret, JSON-able values (numpy scalars and arrays are
        converted); keys named like a PIN, passcode or password raise ValueError and
        nothing is written.
        """
        data = dict(data or {})
        _check_keys(data, "data")
        json.dumps(data, default=_json_default)  # fail before writing any file

        image = frame.image
        height, width = image.shape[:2]
        scale = 1.0
        if width > self.max_width:
            scale = self.max_width / width
            size = (self.max_width, max(1, round(height * scale)))
            # INTER_AREA: the least aliasing when shrinking screen text.
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        jpeg = _encode(image, ".jpg", [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality], "frame")
        # Huffman coding alone: lossless as ever, a fifth faster and smaller than OpenCV's
        # default run-length coding on these screens.
        png = None if rectified is None else _encode(
            rectified, ".png", [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY],
            "rectified screen")

        t = float(frame.t)
        stem = f"{frame.index:06d}-{t:.3f}-{safe_name(label)}"
        with self._lock:
            folder = self.directory / safe_name(frame.source, fallback="camera")
            folder.mkdir(parents=True, exist_ok=True)
            stem = self._free_stem(folder, stem)
            image_path = folder / f"{stem}.jpg"
            # Encoded in memory then written as bytes: cv2.imwrite fails on some non-ASCII
            # paths (Windows) and says nothing.
            image_path.write_bytes(jpeg)
            rectified_rel = None
            if png is not None:
                rectified_path = folder / f"{stem}.rectified.png"
                rectified_path.write_bytes(png)
                rectified_rel = rectified_path.relative_to(self.directory).as_posix()
            evidence = Evidence(
                source=frame.source,
                index=frame.index,
                t=t,
                label=label,
                image=image_path.relative_to(self.directory).as_posix(),
                rectified=rectified_rel,
                scale=scale,
                data=data,
            )
            line = json.dumps(attrs.asdict(evidence), default=_json_default, ensure_ascii=False)
            with self.index_file.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        return evidence

    @staticmethod
    def _free_stem(folder: Path, stem: str) -> str:
        # The same frame kept twice under one label (two rules citing it) gets two files.
        candidate, n = stem, 1
        while (folder / f"{candidate}.jpg").exists():
            n += 1
            candidate = f"{stem}-{n}"
        return candidate

    @staticmethod
    def load(directory: str | Path) -> list[Evidence]:
        """The evidence indexed under ``directory``, in the order it was kept."""
        index = Path(directory) / INDEX_FILE
        if not index.is_file():
            return []
        items = []
        # Whole lines only: the last one, without its newline, is still being written (the
        # live report of a run spread over workers reads a worker's index as it grows).
        for line in index.read_text(encoding="utf-8").split("\n")[:-1]:
            if line.strip():
                items.append(Evidence(**json_loads(line)))
        return items
