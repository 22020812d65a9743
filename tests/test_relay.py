"""The Numato relay driver against the emulated board, through real pyserial on a real pty."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.devices.instruments import (
    NumatoRelay,
    RelayArgumentError,
    RelayStuck,
)
from harness.emulation.relay import EmulatedRelayBoard
from harness.errors import DeviceGone, DeviceTimeout, ProtocolViolation, RigError
from harness.model.clock import VirtualClock
from harness.model.timeline import Timeline
from harness.protocols import PowerRelay


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def timeline(clock: VirtualClock) -> Timeline:
    return Timeline(clock)


@pytest.fixture
def board(timeline: Timeline) -> Iterator[EmulatedRelayBoard]:
    with EmulatedRelayBoard(names={0: "card_reader", 1: "terminal"}, timeline=timeline) as b:
        yield b


@pytest.fixture
def relay(board: EmulatedRelayBoard) -> Iterator[NumatoRelay]:
    with NumatoRelay(board.port, timeout=0.5) as r:
        yield r


def call_bounded(
    action: Callable[[], Any], unblock: Callable[[], None], limit: float = 5.0
) -> tuple[BaseException | None, float]:
    """Run ``action`` on a thread; if it outlives ``limit``, ``unblock`` it and fail.

    Unblocking (unplugging the board) keeps a driver that waits forever from hanging the
    whole run: the test fails instead.
    """
    outcome: list[BaseException | None] = [None]

    def run() -> None:
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            outcome[0] = exc

    thread = threading.Thread(target=run)
    start = time.monotonic()
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - start
    if thread.is_alive():
        unblock()
        thread.join(limit)
        pytest.fail(f"call still blocked after {limit} s")
    return outcome[0], elapsed


# -- the emulated board on the wire -------------------------------------------------------


def test_board_speaks_numato_on_the_wire(board: EmulatedRelayBoard) -> None:
    with serial.Serial(board.port, 19200, timeout=1) as port:

        def ask(command: bytes) -> bytes:
            port.write(command + b"\r")
            return port.read_until(b">")

        assert ask(b"relay on 3") == b"relay on 3\r\n\r>"
        assert ask(b"relay read 3") == b"relay read 3\r\n\ron\n\r>"
        assert ask(b"relay read 2") == b"relay read 2\r\n\roff\n\r>"
        assert ask(b"relay readall") == b"relay readall\r\n\r08\n\r>"
        assert ask(b"ver") == b"ver\r\n\r00000008\n\r>"
        assert ask(b"relay on 8") == b"relay on 8\r\n\r>"  # no channel 8: just the prompt
        assert ask(b"bogus") == b"bogus\r\n\r>"
        assert ask(b"relay writeall 81") == b"relay writeall 81\r\n\r>"
    assert board.mask == 0x81
    assert [board.state(c) for c in range(8)] == [True] + [False] * 6 + [True]


# -- switching ----------------------------------------------------------------------------


def test_on_off_read_back(relay: NumatoRelay, board: EmulatedRelayBoard) -> None:
    assert isinstance(relay, PowerRelay)
    relay.on(0)
    assert relay.is_on(0) and board.state(0)
    assert not relay.is_on(1) and not board.state(1)
    relay.on(7)
    relay.off(0)
    assert not relay.is_on(0) and not board.state(0)
    assert relay.is_on(7) and board.state(7)
    assert board.mask == 0x80


def test_readall_writeall_reset(relay: NumatoRelay, board: EmulatedRelayBoard) -> None:
    for channel in (0, 3, 7):
        relay.on(channel)
    assert relay.read_all() == 0b1000_1001 == board.mask
    relay.write_all(0x5A)
    assert board.mask == 0x5A
    assert [relay.is_on(c) for c in range(8)] == [bool(0x5A >> c & 1) for c in range(8)]
    relay.all_off()
    assert board.mask == 0 == relay.read_all()


@pytest.mark.parametrize("channels", [16, 32])
def test_channels_past_nine_are_letters(channels: int) -> None:
    with (
        EmulatedRelayBoard(channels) as board,
        NumatoRelay(board.port, 0.5, channels=channels) as r,
    ):
        last = channels - 1
        r.on(10)
        r.on(last)
        assert board.state(10) and board.state(last)
        assert not board.state(1) and not board.state(0)  # "10" is not relay 1 then 0
        assert r.read_all() == (1 << 10) | (1 << last) == board.mask
        r.write_all(1 | 1 << last)
        assert board.mask == 1 | 1 << last


def test_readall_bits_beyond_the_configured_channels(
    relay: NumatoRelay, board: EmulatedRelayBoard
) -> None:
    relay.on(6)
    relay.close()
    with NumatoRelay(board.port, timeout=0.5, channels=4) as four:  # wrong board size
        with pytest.raises(ProtocolViolation, match="relay readall"):
            four.read_all()
        four.on(2)
    assert board.mask == 0b100_0100


def test_version_and_id(relay: NumatoRelay, board: EmulatedRelayBoard) -> None:
    assert relay.version() == "00000008"
    assert relay.read_id() == "00000000"
    relay.set_id("BENCH001")
    assert board.board_id == "BENCH001" == relay.read_id()
    with pytest.raises(RelayArgumentError):
        relay.set_id("short")
    with pytest.raises(RelayArgumentError):
        relay.set_id("has>gt12")


def test_invalid_channel_rejected(relay: NumatoRelay, board: EmulatedRelayBoard) -> None:
    for bad in (8, -1, 99):
        with pytest.raises(RelayArgumentError) as info:
            relay.on(bad)
        assert f"channel {bad}" in str(info.value) and "0..7" in str(info.value)
        assert board.port in str(info.value)
        assert isinstance(info.value, RigError)
    for wrong_type in (True, "1", 1.0):
        with pytest.raises(RelayArgumentError):
            relay.is_on(wrong_type)  # type: ignore[arg-type]
    with pytest.raises(RelayArgumentError):
        relay.write_all(0x100)
    assert board.mask == 0
    relay.on(1)  # the line is still in step after the rejections
    assert board.mask == 0b10


def test_stuck_relay_is_reported(relay: NumatoRelay, board: EmulatedRelayBoard) -> None:
    board.stuck_channels.add(2)
    with pytest.raises(RelayStuck) as info:
        relay.on(2)
    assert isinstance(info.value, ProtocolViolation)
    assert "relay on 2" in str(info.value) and board.port in str(info.value)
    assert "reads back off" in str(info.value)
    relay.on(3)
    assert board.mask == 0b1000


# -- callbacks and the timeline -------------------------------------------------------------


def test_changes_reach_callbacks_and_timeline_in_order(
    relay: NumatoRelay, board: EmulatedRelayBoard, timeline: Timeline, clock: VirtualClock
) -> None:
    seen: list[tuple[int, bool]] = []
    board.on_change.append(lambda channel, on: seen.append((channel, on)))
    # What the emulated bench does: powering a channel brings its device up.
    board.on_change.append(
        lambda channel, on: on and timeline.record(board.names.get(channel, "?"), "usb.attach")
    )
    relay.on(0)
    clock.advance(20)
    relay.on(1)
    relay.on(1)  # already on: no change, no event
    clock.advance(5)
    relay.off(0)
    relay.on(5)
    relay.off(2)  # already off

    assert seen == [(0, True), (1, True), (0, False), (5, True)]
    assert [(e.t, e.source, e.kind, e.data) for e in timeline.events("power")] == [
        (0.0, "card_reader", "power.on", {"channel": 0}),
        (20.0, "terminal", "power.on", {"channel": 1}),
        (25.0, "card_reader", "power.off", {"channel": 0}),
        (25.0, "relay.ch5", "power.on", {"channel": 5}),
    ]
    kinds = [(e.source, e.kind) for e in timeline]
    assert kinds.index(("card_reader", "power.on")) < kinds.index(("card_reader", "usb.attach"))
    assert kinds.index(("terminal", "power.on")) < kinds.index(("terminal", "usb.attach"))


def test_failing_callback_does_not_kill_the_board(
    relay: NumatoRelay, board: EmulatedRelayBoard
) -> None:
    def broken(_channel: int, _on: bool) -> None:
        raise RuntimeError("bench bug")

    board.on_change.append(broken)
    relay.on(4)
    relay.off(4)
    assert board.running
    assert [str(e) for e in board.callback_errors] == ["bench bug", "bench bug"]


# -- faults ---------------------------------------------------------------------------------


def test_garbage_gives_protocol_violation_naming_port_and_command(
    relay: NumatoRelay, board: EmulatedRelayBoard
) -> None:
    relay.on(0)  # an established session
    board.inject_garbage(b"\x00\xfe\x13#%")
    with pytest.raises(ProtocolViolation) as info:
        relay.on(2)
    message = str(info.value)
    assert board.port in message
    assert "'relay on 2'" in message
    assert "#%" in message and "\\x00" in message  # printable excerpt of what came back
    assert info.value.sent == "relay on 2"

    relay.on(3)  # resynchronised (otherwise the resync CR would eat the next garbage)
    board.inject_garbage(b"\n\rmaybe\n\r>")  # well framed, but not on/off
    with pytest.raises(ProtocolViolation) as info:
        relay.is_on(1)
    assert "'relay read 1'" in str(info.value) and "maybe" in str(info.value)

    relay.on(3)
    board.inject_garbage(b"\x01" * 500)  # a flood is cut to an excerpt, not pasted whole
    with pytest.raises(ProtocolViolation) as info:
        relay.off(3)
    assert "relay off 3" in str(info.value) and "bytes)" in str(info.value)
    assert len(str(info.value)) < 600


def test_unfinished_answer_is_a_protocol_violation(board: EmulatedRelayBoard) -> None:
    with NumatoRelay(board.port, timeout=0.3) as relay:
        relay.on(0)
        board.inject_garbage(b"\n\rERR")  # printable, never ends with the prompt
        error, _ = call_bounded(lambda: relay.is_on(0), board.stop)
        assert isinstance(error, ProtocolViolation), error
        assert "ERR" in str(error)


def test_driver_resynchronises_after_garbage(relay: NumatoRelay, board: EmulatedRelayBoard) -> None:
    relay.on(3)  # a session in step, so the garbage lands on a command's reply
    for garbage in (b"\xff\xff\xff", b"\n\r>junk after the prompt", b"relay>", b"\n\rzz\n\r>"):
        board.inject_garbage(garbage)
        with pytest.raises(ProtocolViolation):
            relay.read_all()
        relay.on(3)
        assert relay.is_on(3)
        relay.off(3)
        assert relay.read_all() == 0 == board.mask


def test_reply_to_another_command_is_rejected(
    relay: NumatoRelay, board: EmulatedRelayBoard
) -> None:
    relay.on(1)
    # Well framed and "on", but it answers "relay read 1": only the echo gives it away.
    board.inject_garbage(b"relay read 1\r\n\ron\n\r>", replace_echo=True)
    with pytest.raises(ProtocolViolation) as info:
        relay.is_on(2)
    assert "'relay read 2'" in str(info.value)
    assert not relay.is_on(2)


def test_half_typed_line_left_by_a_crashed_session(board: EmulatedRelayBoard) -> None:
    with serial.Serial(board.port, 19200, timeout=0.5) as previous:
        previous.write(b"relay of")  # died before sending the rest and the CR
    with NumatoRelay(board.port, timeout=0.5) as relay:
        relay.on(1)  # must not become "relay ofrelay on 1"
        assert relay.is_on(1)
    assert board.mask == 0b10


def test_stale_input_is_flushed_before_each_command(
    relay: NumatoRelay, board: EmulatedRelayBoard
) -> None:
    relay.on(1)
    board.send_raw(b"relay read 1\n\roff\n\r>")  # e.g. a late reply to an abandoned command
    time.sleep(0.05)
    relay.on(2)
    assert relay.read_all() == 0b110


def test_boot_noise_before_first_command(board: EmulatedRelayBoard) -> None:
    board.send_raw(b"\x00Numato\n\r>")
    board.inject_garbage(b"partial")  # the board's first answer is cut too
    time.sleep(0.05)
    with NumatoRelay(board.port, timeout=0.5) as relay:
        with pytest.raises(RigError):
            relay.on(0)
        relay.on(0)
        assert board.mask == 1


def test_silent_board_times_out_within_bound(board: EmulatedRelayBoard) -> None:
    with NumatoRelay(board.port, timeout=0.3) as relay:
        relay.on(0)
        board.silent = True
        error, elapsed = call_bounded(lambda: relay.on(4), board.stop)
        assert isinstance(error, DeviceTimeout), error
        assert 0.25 <= elapsed < 2.0
        assert board.port in str(error) and "relay on 4" in str(error)
        assert not board.state(4)

        error, elapsed = call_bounded(lambda: relay.is_on(0), board.stop)  # still bounded
        assert isinstance(error, DeviceTimeout) and elapsed < 2.0

        board.silent = False  # the board recovers; so must the driver
        relay.on(4)
        assert board.mask == 0b1_0001


def test_unplugged_board_gives_device_gone(relay: NumatoRelay, board: EmulatedRelayBoard) -> None:
    relay.on(0)
    board.stop()
    assert not board.running
    for attempt in (lambda: relay.on(1), lambda: relay.is_on(0)):
        with pytest.raises(DeviceGone) as info:
            attempt()
        assert not isinstance(info.value, OSError)
        assert board.port in str(info.value)
    relay.close()
    relay.close()


def test_unplugged_while_waiting_for_reply(board: EmulatedRelayBoard) -> None:
    with NumatoRelay(board.port, timeout=3.0) as relay:
        relay.on(0)
        board.silent = True
        pull = threading.Timer(0.1, board.stop)
        pull.start()
        error, elapsed = call_bounded(lambda: relay.is_on(0), board.stop)
        pull.join(5)  # under load its thread may still be stopping the board
        assert isinstance(error, DeviceGone), error  # not a timeout: the port hung up
        assert "relay read 0" in str(error)
        assert elapsed < 2.0


def test_unopenable_port() -> None:
    with pytest.raises(RigError, match="cannot open relay port /dev/no-such-relay: "):
        NumatoRelay("/dev/no-such-relay")


def test_pyserial_urls_are_accepted(
    board: EmulatedRelayBoard, capsys: pytest.CaptureFixture[str]
) -> None:
    with NumatoRelay(f"spy://{board.port}", timeout=0.5) as relay:  # spy: logs to stderr
        relay.on(1)
    assert board.mask == 0b10
    assert "relay on 1" in capsys.readouterr().err


def test_used_after_close(relay: NumatoRelay) -> None:
    relay.close()
    with pytest.raises(RigError, match="after close"):
        relay.on(0)


# -- property: the driver's view and the board agree ----------------------------------------

CHANNELS = 16
operation = st.one_of(
    st.tuples(st.sampled_from(["on", "off", "read"]), st.integers(0, CHANNELS - 1)),
    st.just(("readall", 0)),
)


@pytest.fixture
def wide_board() -> Iterator[tuple[EmulatedRelayBoard, NumatoRelay, list[tuple[int, bool]]]]:
    changes: list[tuple[int, bool]] = []
    with (
        EmulatedRelayBoard(CHANNELS) as board,
        NumatoRelay(board.port, 1.0, channels=CHANNELS) as r,
    ):
        board.on_change.append(lambda channel, on: changes.append((channel, on)))
        yield board, r, changes


@settings(
    max_examples=60,
    deadline=None,
    database=None,  # write nothing into the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # reset per example below
)
@given(ops=st.lists(operation, max_size=25))
def test_driver_and_board_agree(
    wide_board: tuple[EmulatedRelayBoard, NumatoRelay, list[tuple[int, bool]]],
    ops: list[tuple[str, int]],
) -> None:
    board, relay, changes = wide_board
    relay.all_off()
    changes.clear()
    model = [False] * CHANNELS
    expected_changes: list[tuple[int, bool]] = []
    for op, channel in ops:
        if op in ("on", "off"):
            wanted = op == "on"
            getattr(relay, op)(channel)
            if model[channel] != wanted:
                expected_changes.append((channel, wanted))
            model[channel] = wanted
            assert board.state(channel) == wanted
        elif op == "read":
            assert relay.is_on(channel) == model[channel]
        else:
            assert relay.read_all() == sum(1 << c for c, on in enumerate(model) if on)
    assert [board.state(c) for c in range(CHANNELS)] == model
    assert [relay.is_on(c) for c in range(CHANNELS)] == model
    assert changes == expected_changes
