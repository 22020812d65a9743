"""Values kept by key in this process, at most a number of them, the least recently used
dropped first: what the rig derives again and again from the same inputs (reference
screens read, a camera's desk and views, a classifier's preparations), when a test run or a
certification opens the same benches many times."""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import numpy as np

V = TypeVar("V")


class Kept(Generic[V]):
    """At most ``size`` values by key. Thread-safe: two threads asking for a value not made
    yet may both make it (the one made last is kept); a value must not depend on which."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: collections.OrderedDict[Hashable, V] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for ``key``, or ``make()``'s, kept."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


def pixels_key(image: np.ndarray) -> tuple[bytes, tuple[int, ...]]:
    """A key for an image's pixels (SHA-1 of its bytes, and its shape): what the rig derives
    from an image it has seen before, byte for byte, is kept by it (~1.3 ms for 2 MB)."""
    return (hashlib.sha1(np.ascontiguousarray(image), usedforsecurity=False).digest(),
            image.shape)
