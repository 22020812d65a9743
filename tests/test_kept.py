"""harness/kept.py: values made once per key, at most ``size`` of them, the least recently
used dropped first (the reference sets, desks, views and classifier preparations the rig
shares within a process)."""

from __future__ import annotations

from harness.kept import Kept


def test_a_value_is_made_once_and_the_least_recently_used_goes_first() -> None:
    made: list[str] = []

    def maker(key: str):  # noqa: ANN202
        return lambda: made.append(key) or f"value of {key}"

    kept: Kept[str] = Kept(2)
    assert kept.get("a", maker("a")) == "value of a"
    assert kept.get("b", maker("b")) == "value of b"
    assert kept.get("a", maker("a")) == "value of a"  # kept, and now the most recent
    assert kept.get("c", maker("c")) == "value of c"  # b, the least recently used, goes
    assert kept.get("a", maker("a")) == "value of a"
    assert kept.get("b", maker("b")) == "value of b"  # made again
    assert made == ["a", "b", "c", "b"]
    assert len(kept) == 2  # never more than its size


def test_a_falsy_value_is_kept_too() -> None:
    calls: list[int] = []
    kept: Kept[int] = Kept(1)
    for _ in range(3):
        assert kept.get("zero", lambda: calls.append(1) or 0) == 0
    assert calls == [1]
