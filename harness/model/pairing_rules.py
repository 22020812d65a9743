"""SP-06 and SP-07: what a pairing did to the card, and the phone read test after it.

Pure functions over a :class:`~harness.model.observed.FlowRecord`, returning problems (none:
the rule holds).

- SP-06 (the support vendor's お知らせ 接続設定概要 【用意するもの】: 実物のマイナンバーカード ※個人の情報は読み取りません。
  設定のために必要となります): the pairing's APDU transcript on the general reader selects and
  reads only files the card model (:mod:`harness.model.mynumber_card`) knows hold nothing
  personal. A personal file selected or read fails, whatever the card answered (a real card
  may answer what the twin refused); so does a file the model does not know, a read the
  rule cannot place, and an empty or unseen transcript (nothing shows the card was used as
  the notice says, nor that nothing personal was read); what is selected is followed per
  logical channel (a read on channel 1 reads what channel 1 selected). The negative half (顔認証付きカード
  リーダーが…接続され、…受付可能な状態で設定等を行ってください): a pairing tried while the
  face-auth reader is not connected is refused by the app.
- SP-07 (接続設定概要 5: 適宜、職員などのスマートフォンを使って読み取りテストを行ってください): after the
  pairing and the maker's restart, a phone held on the general reader that was paired is
  read through PC/SC as a phone.
"""

from __future__ import annotations

import re

from harness.model.mynumber_card import ap_name, card_file
from harness.model.observed import FlowRecord, SeenApdu

INS_SELECT, INS_READ_BINARY, INS_GET_RESPONSE, INS_GET_CHALLENGE = 0xA4, 0xB0, 0xC0, 0x84
#: Commands that return data from files the rule cannot place: READ BINARY with an odd INS,
#: READ RECORD(S), GET DATA. Anything else that is not a selection, a plain READ BINARY,
#: GET RESPONSE or GET CHALLENGE (a random number) is not known to read nothing personal.
_REDACTED = re.compile(r"<redacted \d+ bytes?>")


def _parse(command: str) -> tuple[int, int, int, int, bytes] | None:
    """(CLA, INS, P1, P2, data) of a recorded command; None when it cannot be read. A
    redacted data field (a PIN) comes back empty."""
    text = _REDACTED.sub("", command).replace(" ", "")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    if len(raw) < 4:
        return None
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    data = body[1:1 + body[0]] if len(body) > 1 and body[0] and len(body) >= 1 + body[0] \
        else b""
    return cla, ins, p1, p2, data


def _sw(response: str) -> str:
    return response.split()[-1] if response else "no answer"


def check_card_reads(record: FlowRecord) -> list[str]:
    """SP-06 on the pairing's transcript (see the module)."""
    where = record.paired_general or "the general reader"
    if record.card_apdus is None:
        why = record.card_apdus_unseen or "the pairing was not watched"
        return [f"the pairing's APDU transcript on {where} was not seen ({why}): nothing shows "
                "that no personal data file was read"]
    if not record.card_apdus:
        return [f"no APDU of the pairing reached the card on {where}: the card the notice "
                "asks for (実物のマイナンバーカード) was not used, so what the pairing reads could "
                "not be seen"]
    problems: list[str] = []
    # What is selected, per logical channel (ISO 7816-4: each channel its own application
    # and file; a read on channel 1 reads what channel 1 selected).
    selected: dict[int, tuple[str | None, str | None]] = {}
    for apdu in record.card_apdus:
        parsed = _parse(apdu.command)
        at = f"at {apdu.t:.1f} s ({apdu.command}, answered {_sw(apdu.response)})"
        if parsed is None:
            problems.append(f"a command the rule cannot read {at}: not known to read nothing "
                            "personal")
            continue
        cla, ins, p1, p2, data = parsed
        channel = _channel(cla)
        ap, ef = selected.get(channel, (None, None))
        if ins == INS_SELECT and p1 == 0x04:
            selected[channel] = (data.hex().upper(), None)
            continue
        if ins == INS_SELECT and p1 in (0x00, 0x02) and len(data) == 2:
            ef = data.hex().upper()
            selected[channel] = (ap, ef)
            problems += _touched("selected", ap, ef, at)
            continue
        if ins == INS_SELECT:
            selected[channel] = (None, None)  # by path, parent, child: not followed
            problems.append(f"a selection the rule cannot follow {at}: what it selects is not "
                            "known to hold nothing personal")
            continue
        if ins == INS_READ_BINARY:
            if p1 & 0x80:  # a short EF identifier names the file read
                ef = f"00{p1 & 0x1F:02X}"
            if ef is None:
                continue  # nothing selected: nothing is read
            problems += _touched("read", ap, ef, at)
            continue
        if ins in (INS_GET_RESPONSE, INS_GET_CHALLENGE):
            continue
        problems.append(f"command INS {ins:02X} {at} is not a selection or a read of a file "
                        "the card model knows: not known to read nothing personal")
    return problems


def _channel(cla: int) -> int:
    """The logical channel a class byte names (ISO 7816-4 5.4.1: the first interindustry
    values carry channels 0-3 in bits 1-2, the further ones 4-19 in bits 1-4)."""
    return 4 + (cla & 0x0F) if cla & 0x40 else cla & 0x03


def _touched(how: str, ap: str | None, fid: str, at: str) -> list[str]:
    known = card_file(ap, fid)
    if known is None:
        return [f"{how} file {fid} of {ap_name(ap)} {at}: the card model does not know it "
                "to hold nothing personal"]
    if known.personal:
        return [f"{how} the personal data file {known.name} ({fid} of {ap_name(ap)}) {at}: "
                f"{known.why}; the notice: 個人の情報は読み取りません"]
    return []


def check_pairing_refused(record: FlowRecord) -> list[str]:
    """SP-06's negative half: the app refused the pairing tried without the face-auth
    reader connected, and said so."""
    outcome = record.pairing_outcome
    if outcome is None:
        return ["the management app's outcome of the pairing was not seen: whether it refused "
                "a pairing without the face-auth reader connected is unknown"]
    problems = []
    if not outcome.startswith("refused"):
        problems.append(f"a pairing tried while the face-auth reader was not connected ended "
                        f"{outcome!r}; the notice pairs only with the face-auth reader "
                        "connected and able to accept a card, and the app must refuse it")
    # The record starts at the maker's restart: the refused pairing must not take effect.
    if not record.screens:
        problems.append("the reader was not seen after the maker's restart: whether the "
                        "refused pairing took effect is unknown")
    shown = [s for s in record.screens if "smartphone" in s.buttons]
    if shown:
        problems.append(f"the smartphone button showed at {shown[0].t:.1f} s after the maker's "
                        "restart: the pairing tried without the face-auth reader took effect")
    return problems


#: The notice's words for the 置いた step (接続設定概要 4).
PLACED_STEP = ("the card put into the face-auth reader and 「置いた」 pressed in the management "
               "app first (接続設定概要 4: アルメックス社の顔認証付きカードリーダーをご利用の施設のみ)")


def check_pairing_placed(placed_first: bool, record: FlowRecord) -> list[str]:
    """SP-04: the pairing done as the maker's procedure says, the 置いた step done exactly
    where it says (USEN-ALMEX, and no other maker), took 置いた and was registered. An app
    that wants the step from a maker whose procedure has none refuses the pairing the
    clinic does; one that has no 置いた where the procedure presses it fails too."""
    problems = []
    if placed_first and record.pairing_placed is not True:
        problems.append(f"the procedure has {PLACED_STEP}; " + (
            "the step was not done" if record.pairing_placed is None else
            "the app had no 置いた to press"))
    outcome = record.pairing_outcome
    how = "with" if placed_first else "without"
    if outcome is None:
        problems.append(f"the management app's outcome of the pairing done {how} the 置いた "
                        "step was not seen")
    elif outcome != "registered":
        problems.append(f"the pairing done as the procedure says ({how} the 置いた step) "
                        f"ended {outcome!r}, not registered")
    return problems


def check_phone_read(record: FlowRecord) -> list[str]:
    """SP-07: the staff phone read through PC/SC on the general reader that was paired."""
    read = record.phone_read
    paired = record.paired_general
    if paired is None:
        return ["no general reader was paired in the flow: no read test can follow"]
    if read is None:
        return [f"no read test of a phone on {paired} was made after the pairing and the "
                "restart (it follows the smartphone button; see the screens)"]
    problems: list[str] = []
    if read.reader != paired:
        problems.append(f"the read test was made on {read.reader}, not on the general reader "
                        f"paired ({paired})")
    if not read.ok:
        problems.append(f"the phone held on {read.reader} at {read.t:.1f} s was not read "
                        f"through PC/SC: {read.detail}")
    elif read.holder != "smartphone":
        problems.append(f"what was read on {read.reader} at {read.t:.1f} s says it is "
                        f"{read.holder or 'nothing known'}, not a phone ({read.detail})")
    return problems


def transcript_lines(apdus: list[SeenApdu] | None) -> tuple[str, ...]:
    """The transcript for a verdict's evidence: ``12.0 s 00A4040C0A… -> 9000``."""
    return tuple(f"{a.t:.1f} s {a.reader}: {a.command} -> {a.response}" for a in apdus or ())
