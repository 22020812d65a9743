"""Median APDU round trip through the real pcscd and the vpcd driver, via pyscard.

Needs pcscd running with the emulated bench's vpcd reader (see README):
    python benchmarks/apdu_roundtrip.py [--count N]
The card side sets TCP_QUICKACK (harness/emulation/vpcd.py); ``--no-quickack`` shows the
~40 ms stall that delayed ACKs cause without it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from harness.bench import Bench
from harness.emulation import vpcd
from harness.emulation.card import FileSystemCard
from harness.paths import project_file

READER = "sony-rc-s300-s1"
SELECT = bytes.fromhex("00A4040009F06F6E736869726967")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--no-quickack", action="store_true")
    args = parser.parse_args()
    if args.no_quickack:
        vpcd._quickack = lambda sock: None  # the stall this benchmark exists to catch
    with Bench.load(None, pcsc_service="vpcd") as bench:
        emu = bench.emulation
        emu.insert_card(READER, FileSystemCard.load(project_file("fixtures/cards/test-card.yaml")))
        name = emu.pcsc_names[READER]
        bench.pcsc.wait_for_card(name, timeout=5)
        conn = bench.pcsc.connect(name)
        for _ in range(50):  # warm up
            conn.transmit(SELECT)
        times = []
        for _ in range(args.count):
            t0 = time.perf_counter()
            conn.transmit(SELECT)
            times.append(time.perf_counter() - t0)
        conn.close()
    times.sort()
    ms = [t * 1000 for t in times]
    print(f"APDU round trip through pcscd+vpcd, {args.count} x SELECT "
          f"({'no ' if args.no_quickack else ''}TCP_QUICKACK):")
    print(f"  median {statistics.median(ms):.3f} ms   p95 {ms[int(0.95 * len(ms))]:.3f} ms   "
          f"max {ms[-1]:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
