"""A flow's timeline as a picture: swimlanes over the span a verdict judged.

Lanes, from the run's ``timeline.jsonl`` and the verdict itself: the power of the reader,
the terminal and the receipt computer; the reader's USB link; PC/SC events; the reader's
screen and the terminal's monitor as the cameras saw them (one band per state); the
network; the hands' actions (from the verdict's observed record). The span the rule judged
is shaded; the windows its time rules checked (BOOT-01's 15 to 30 s, a screen that must stay
unchanged, a screen due after an action) are drawn as a lane of their own. A lane's labels
are staggered over rows so that none is written over another; those with no room are named
under the picture with their times. Drawn with matplotlib (Agg, no display), as PNG bytes.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Sequence
from typing import Any

from harness.errors import MissingSystemPart
from harness.fonts import find_font
from harness.kept import Kept

ACTION = re.compile(r"^(\d+(?:\.\d+)?):(\S+)$")
#: Seconds shown either side of the span.
PAD_S = 5.0


def _bands(events: Sequence[dict[str, Any]], t0: float, t1: float, state_of: Any
           ) -> list[tuple[float, float, str]]:
    """(start, end, state) over [t0, t1] from events in time order; the state before t0 is
    the last event's before it."""
    bands: list[tuple[float, float, str]] = []
    current: tuple[float, str] | None = None
    for e in events:
        state = state_of(e)
        if state is None:
            continue
        t = float(e["t"])
        if t <= t0:
            current = (t0, state)
            continue
        if t > t1:
            break
        if current is not None and current[1] != state:
            bands.append((current[0], t, current[1]))
            current = (t, state)
        elif current is None:
            current = (t, state)
    if current is not None:
        bands.append((current[0], t1, current[1]))
    return bands


def _colour(state: str) -> tuple[float, float, float]:
    # A stable pale colour per state name, so a state looks the same in every picture.
    h = zlib.crc32(state.encode("utf-8"))
    return (0.55 + (h & 0xFF) / 640, 0.55 + ((h >> 8) & 0xFF) / 640,
            0.55 + ((h >> 16) & 0xFF) / 640)


def flow_timeline_png(events: Sequence[dict[str, Any]], span: Sequence[float], *,
                      reader: str, reader_cameras: Sequence[str],
                      terminal: str | None, terminal_cameras: Sequence[str],
                      observed: Sequence[str], title: str,
                      windows: Sequence[Sequence[Any]] = ()) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    families = _families()
    # The picture is its lanes, drawn: a report written again as the run goes (and its
    # allure results) asks for a failure's picture each time, and drawing is ~0.3 s.
    lanes = _lanes(span, events, reader, terminal, reader_cameras, terminal_cameras,
                   observed, windows)
    key = (float(span[0]), float(span[1]), title, tuple(families), repr(lanes))

    def draw() -> bytes:
        with plt.rc_context({"font.family": families}):
            return _draw(plt, span, lanes, title)

    return _DRAWN.get(key, draw)


#: Pictures drawn in this process, by what they show.
_DRAWN: Kept[bytes] = Kept(256)


def _families() -> list[str]:
    """Latin in matplotlib's own face, Japanese (a dialog's button, 確認しました, in the
    hands' lane) in Noto Sans CJK JP where the machine has it; else boxes, not a crash."""
    from matplotlib import font_manager

    try:
        path = find_font("to write Japanese in a timeline picture")
    except MissingSystemPart:
        return ["DejaVu Sans"]
    if str(path) not in _ADDED:
        font_manager.fontManager.addfont(str(path))
        _ADDED.add(str(path))
    return ["DejaVu Sans", "Noto Sans CJK JP"]


_ADDED: set[str] = set()


def _draw(plt: Any, span: Sequence[float], lanes: list[Lane], title: str) -> bytes:
    fig = _lanes_figure(plt, span, lanes, title)
    buf = io.BytesIO()
    # No metadata: a picture carries nothing but its pixels.
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


Lane = tuple[str, list[tuple[float, float, str]], list[tuple[float, str]]]


def _lanes(span: Sequence[float], events: Sequence[dict[str, Any]], reader: str | None,
           terminal: str | None, reader_cameras: Sequence[str],
           terminal_cameras: Sequence[str], observed: Sequence[str],
           windows: Sequence[Sequence[Any]]) -> list[Lane]:
    t0, t1 = float(span[0]) - PAD_S, float(span[1]) + PAD_S
    lanes: list[Lane] = []

    def by(sources: set[str], kinds: set[str] | None = None) -> list[dict[str, Any]]:
        return [e for e in events if e.get("source") in sources
                and (kinds is None or e.get("kind") in kinds)]

    for device in (reader, terminal, "receipt_computer"):
        if device is None:
            continue
        power = by({device}, {"power.on", "power.off"})
        if power:
            lanes.append((f"power: {device}", _bands(
                power, t0, t1, lambda e: "on" if e["kind"] == "power.on" else "off"), []))
    usb = by({reader}, {"usb.attach", "usb.detach"})
    if usb:
        lanes.append(("USB link", _bands(
            usb, t0, t1, lambda e: "attached" if e["kind"] == "usb.attach" else "detached"), []))
    # "pcsc.card_inserted" and the like, or a bare "apdu" (each exchange with a card)
    pcsc = [(float(e["t"]), e["kind"].split(".", 1)[-1]) for e in by({"pcsc"})
            if t0 <= float(e["t"]) <= t1]
    if pcsc:
        lanes.append(("PC/SC", [], pcsc))
    screen = by(set(reader_cameras), {"screen.seen"})
    lanes.append(("reader screen (camera)",
                  _bands(screen, t0, t1, lambda e: e.get("state")), []))
    if terminal_cameras:
        monitor = by(set(terminal_cameras), {"screen.seen"})
        lanes.append(("terminal monitor (camera)",
                      _bands(monitor, t0, t1, lambda e: e.get("state")), []))
    network = by({"network"}, {"network.down", "network.up"})
    if network:
        lanes.append(("network", _bands(
            network, t0, t1, lambda e: "down" if e["kind"] == "network.down" else "up"), []))
    actions = [(float(m.group(1)), m.group(2)) for line in observed for token in line.split()
               if (m := ACTION.match(token))]
    lanes.append(("hands", [], [(t, what) for t, what in actions if t0 <= t <= t1]))
    checked = [(max(float(a), t0), min(float(b), t1), str(what)) for a, b, what in windows
               if float(b) >= t0 and float(a) <= t1]
    if checked:
        lanes.append(("checked windows", checked, []))
    # A lane with nothing known in the window says nothing: left out.
    return [lane for lane in lanes if lane[1] or lane[2]] or lanes[-1:]


#: Rows a lane's labels are staggered over (offsets from its middle, in lane heights):
#: labels too close to stand side by side go one above another, not over each other.
LABEL_ROWS = (0.0, 0.24, -0.24)
MARK_ROWS = (0.24, 0.0, -0.24)
#: Points between two labels on one row.
LABEL_GAP_PT = 4.0
#: Labels that found no room, named under the picture at most this many.
MAX_UNNAMED = 12
#: Characters of the footnote naming them per line (7 pt across the 11 inch picture).
FOOTNOTE_CHARS = 170


def _rows_for(extents: Sequence[tuple[float, float]], rows: int, gap: float
              ) -> list[int | None]:
    """Each (left, right), in the order given (by left), to the first row where it clears
    the last label put there by ``gap``; None where no row has room."""
    ends = [float("-inf")] * rows
    out: list[int | None] = []
    for left, right in extents:
        row = next((r for r in range(rows) if left >= ends[r]), None)
        if row is not None:
            ends[row] = right + gap
        out.append(row)
    return out


def _figure(plt: Any, span: Sequence[float], events: Sequence[dict[str, Any]],
            reader: str | None, terminal: str | None, reader_cameras: Sequence[str],
            terminal_cameras: Sequence[str], observed: Sequence[str], title: str,
            windows: Sequence[Sequence[Any]]) -> Any:
    """The picture as a matplotlib figure (tests read its labels' places)."""
    return _lanes_figure(plt, span, _lanes(span, events, reader, terminal, reader_cameras,
                                           terminal_cameras, observed, windows), title)


def _lanes_figure(plt: Any, span: Sequence[float], lanes: list[Lane], title: str) -> Any:
    start, end = float(span[0]), float(span[1])
    t0, t1 = start - PAD_S, end + PAD_S
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(lanes) + 1.3), dpi=90)
    ax.axvspan(start, end, color="#fff3c4", zorder=0, label="span judged")
    for i, (name, bands, marks) in enumerate(lanes):
        y = len(lanes) - 1 - i
        checked = name == "checked windows"
        for a, b, state in bands:
            ax.broken_barh([(a, max(b - a, 0.05))], (y - 0.35, 0.7),
                           facecolors="none" if checked else _colour(state),
                           edgecolors="#1565c0" if checked else "#555",
                           linewidth=1.2 if checked else 0.4,
                           hatch="//" if checked else None, zorder=2)
        for t, _ in marks:
            ax.plot([t, t], [y - 0.35, y + 0.35], color="#b00020", linewidth=1.2, zorder=3)
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([name for name, _, _ in reversed(lanes)], fontsize=8)
    ax.set_ylim(-0.6, len(lanes) - 0.2)
    ax.set_xlim(t0, t1)
    ax.set_xlabel("bench time (s)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=9, loc="left")
    ax.grid(axis="x", linewidth=0.3, color="#ccc")
    fig.tight_layout()
    unnamed = _labels(fig, ax, lanes, t0, t1)
    if unnamed:
        more = f"; and {len(unnamed) - MAX_UNNAMED} more" if len(unnamed) > MAX_UNNAMED else ""
        # Wrapped to the picture's width (one long line is cut at both its ends), never
        # inside a name and its time.
        items = ["no room to name:", *(f"{u};" for u in unnamed[:MAX_UNNAMED])]
        items[-1] = items[-1].rstrip(";") + more
        note = _wrapped(items)
        ax.set_xlabel("bench time (s)\n" + note, fontsize=7)
        fig.tight_layout()
    return fig


def _wrapped(items: Sequence[str]) -> str:
    """``items`` joined by spaces in lines of at most FOOTNOTE_CHARS, each item whole."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 1 + len(item) <= FOOTNOTE_CHARS:
            lines[-1] += " " + item
        else:
            lines.append(item)
    return "\n".join(lines)


def _labels(fig: Any, ax: Any, lanes: list[Lane], t0: float, t1: float) -> list[str]:
    """Each lane's labels, staggered over rows so that none overlaps another (measured in
    the picture's pixels); those with no room are returned in time order
    (``consent_2 at 12.0 s``)."""
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()
    px_per_s = ax.get_window_extent().width / (t1 - t0)
    px_per_pt = fig.dpi / 72

    def width_s(text: str, size: float) -> float:
        w, _, _ = renderer.get_text_width_height_descent(
            text, FontProperties(size=size), ismath=False)
        return w / px_per_s

    unnamed: list[tuple[float, str]] = []
    for i, (_, bands, marks) in enumerate(lanes):
        y = len(lanes) - 1 - i
        # A band's state centred on it; an action's name from its mark to the right.
        items = sorted([((a + b) / 2, state, 7.0, "center") for a, b, state in bands] +
                       [(t, what, 6.0, "left") for t, what in marks], key=lambda x: x[0])
        extents = []
        for x, text, size, ha in items:
            w = width_s(text, size)
            left = x - w / 2 if ha == "center" else x + 2 * px_per_pt / px_per_s
            left = max(t0, min(left, t1 - w))  # inside the picture where it fits
            extents.append((left, left + w))
        offsets = MARK_ROWS if marks and not bands else LABEL_ROWS
        rows = _rows_for(extents, len(offsets), LABEL_GAP_PT * px_per_pt / px_per_s)
        for (x, text, size, _), (left, _), row in zip(items, extents, rows, strict=True):
            if row is None:
                unnamed.append((x, f"{text} at {x:.1f} s"))
                continue
            ax.text(left, y + offsets[row], text, ha="left", va="center", fontsize=size,
                    clip_on=True, zorder=3)
    return [text for _, text in sorted(unnamed)]
