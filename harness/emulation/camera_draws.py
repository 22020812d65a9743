"""Where a camera model's random draws come from: one stream per purpose, keyed by the
camera's seed (and for per-frame draws by the bump count, the frame number and the frame's
time), so a replayed run draws the same numbers whatever else changed in between."""

from __future__ import annotations

import numpy as np

#: The purpose of each stream: a new purpose takes a new number, never an old one's.
TAG = {"pose": 1, "bench": 2, "housing": 3, "drift": 4, "sensor": 5, "frame": 6, "focus": 7,
       "desk": 8, "desk_frame": 9}


def stream(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([*key]))


def t_key(t: float) -> int:
    """A frame's time as an integer key: its float64 bits."""
    return int(np.float64(t).view(np.uint64))
