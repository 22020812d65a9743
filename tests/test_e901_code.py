"""E901-05 on Panasonic and Canon, whose 901 screens the notice lost: the code itself must
show (【901】, or 【901: / 【901： with words), never another code that starts alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import deviant_bench_file, failed, load_profiles, open_bench, run_judged

E901 = ("e901", ("upgrade_pending_reboot",))
#: The 901 screen's code line -> whether E901-05 holds.
CODES = {"【901】": True, "【901：システム障害】": True, "【9010】": False, "【906】": False}


#: (maker, code): the genuine code holds on the default bench (the certification's own
#: E901-05); here the notices' other form, and two codes that are not 901.
CASES = [("panasonic", "【901：システム障害】"), ("panasonic", "【9010】"), ("canon", "【906】")]


@pytest.mark.parametrize(("maker", "code"), CASES)
def test_the_901_code_itself(tmp_path: Path, maker: str, code: str) -> None:
    path = deviant_bench_file(tmp_path, "e901-code", readers={maker: [
        {"change": "behaviour.states.error_901.texts", "to": [code, "受付窓口にお越しください"]}]})
    for bench in open_bench(path):
        record, judged = run_judged(bench, load_profiles(), maker, E901)
        assert ("E901-05" not in failed(judged)) is CODES[code], (code, judged["E901-05"],
                                                                  record.path())
