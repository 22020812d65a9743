"""SELECT + READ BINARY on the emulated My Number card, through each transport.

One round = SELECT the JPKI applet by AID, SELECT the authentication certificate's EF,
READ BINARY of 256 bytes: what a general reader's software does first. Measured through the
real pcscd and the vpcd driver (pyscard), through nfcpy's udp transport (ISO-DEP Type 4B),
and in process for reference.

    python benchmarks/card_read.py [--rounds N] [--transport pcscd|nfc|inprocess]...

pcscd must be running with the emulated bench's vpcd reader (README: Benchmarks).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.bench import Bench  # noqa: E402
from harness.devices.nfc import NfcFrontend  # noqa: E402
from harness.emulation.card import FileSystemCard  # noqa: E402
from harness.emulation.nfc_udp import UdpType4BTarget  # noqa: E402
from harness.model.clock import VirtualClock  # noqa: E402
from harness.model.timeline import Timeline  # noqa: E402
from harness.paths import project_file  # noqa: E402

READER = "sony-rc-s300-s1"
JPKI = bytes.fromhex("D392F000260100000001")
ROUND = [bytes([0x00, 0xA4, 0x04, 0x0C, len(JPKI)]) + JPKI,
         bytes.fromhex("00A4020C02000A"), bytes.fromhex("00B0000000")]


def card() -> FileSystemCard:
    return FileSystemCard.load(project_file("fixtures/cards/mynumber-card.yaml"))


def measure(transmit: Callable[[bytes], bytes], rounds: int) -> list[float]:
    for _ in range(20):  # warm up
        for apdu in ROUND:
            transmit(apdu)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for apdu in ROUND:
            response = transmit(apdu)
        times.append((time.perf_counter() - t0) * 1000)
        assert len(response) == 258 and response[-2:] == b"\x90\x00", response[-2:].hex()
    return times


def through_pcsc(service: str, rounds: int) -> list[float]:
    with Bench.load(None, pcsc_service=service) as bench:
        emu = bench.emulation
        name = emu.pcsc_names[READER]
        bench.pcsc.wait_for_card(name, timeout=5, present=False)
        emu.insert_card(READER, card())
        bench.pcsc.wait_for_card(name, timeout=5)
        conn = bench.pcsc.connect(name)
        try:
            return measure(conn.transmit, rounds)
        finally:
            conn.close()
            emu.remove_card(READER)
            bench.pcsc.wait_for_card(name, timeout=5, present=False)


def through_nfc(rounds: int) -> list[float]:
    with UdpType4BTarget(card(), name="card", timeline=Timeline(VirtualClock())) as target:
        target.place()
        with NfcFrontend(target.path, "rcs300", Timeline(VirtualClock())) as frontend:
            found = frontend.wait_for_card(2.0, targets=("106B",))
            return measure(found.transmit, rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--transport", action="append", choices=("pcscd", "nfc", "inprocess"))
    args = parser.parse_args()
    runs = {"pcscd": lambda: through_pcsc("vpcd", args.rounds),
            "nfc": lambda: through_nfc(args.rounds),
            "inprocess": lambda: through_pcsc("inprocess", args.rounds)}
    print(f"SELECT applet + SELECT EF + READ BINARY (256 bytes), {args.rounds} rounds:")
    for name in args.transport or list(runs):
        ms = sorted(runs[name]())
        print(f"  {name:10} median {statistics.median(ms):7.3f} ms   "
              f"p95 {ms[int(0.95 * len(ms))]:7.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
