"""Hunt R's findings where an instrument or the bench's identity lied, each pinned by the
check that now refuses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench_relays import RelayContext, open_relays
from harness.emulation.relay import EmulatedRelayBoard
from harness.errors import BadInput
from harness.loading import load_yaml_model
from harness.model.bench_spec import BenchSpec
from harness.model.clock import RealClock
from harness.model.timeline import Timeline


def test_a_numato_board_pinned_by_its_id_is_checked_at_open(tmp_path: Path) -> None:
    """R9 variant: two Numato boards swap /dev/ttyACM0 and 1 after a reboot; each then
    switched the other's outlets and read its own switch back. The bench file's board_id
    is asked (``id get``) at open: another board on the port is refused, nothing switched."""
    board = EmulatedRelayBoard(8, name="other", board_id="TERMINAL")
    try:
        path = tmp_path / "bench.yaml"
        timeline = Timeline(RealClock())
        for board_id, refused in (("READERS1", True), ("TERMINAL", False)):
            path.write_text(f"""bench: lab
kind: real
instruments:
  - {{name: readers, kind: numato_relay, port: "{board.port}",
     board_id: {board_id}}}
""", encoding="utf-8")
            spec = load_yaml_model(path, BenchSpec, layered=True)
            context = RelayContext(spec, path, timeline.clock, timeline, lambda: None)
            if refused:
                with pytest.raises(BadInput) as caught:
                    open_relays(context)
                assert str(caught.value) == (
                    f"{path}:5: instruments[readers].board_id: the board at {board.port} "
                    "answers id 'TERMINAL', not 'READERS1': another board is on that port "
                    "(boards renumbered?); nothing was switched")
            else:
                relays = open_relays(context)
                relays["readers"].on(0)
                relays["readers"].close()
        assert board.mask == 0b1
    finally:
        board.stop()


def test_a_board_id_is_a_numato_field_of_8_characters(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    for entry, problem in (
            ("{name: r, kind: numato_relay, port: /dev/ttyACM0, board_id: SHORT}", "board_id"),
            ("{name: r, kind: hid_relay, serial: AAAAA, board_id: ABCDEFGH}",
             "hid_relay takes no board_id")):
        path.write_text(f"bench: lab\nkind: real\ninstruments:\n  - {entry}\n",
                        encoding="utf-8")
        with pytest.raises(BadInput) as caught:
            load_yaml_model(path, BenchSpec, layered=True)
        assert problem in str(caught.value)
