"""The My Number card (個人番号カード) as public sources describe it: its APs and files, and
which files hold the holder's personal data, with why.

What the rig judges a pairing's APDU transcript against (SP-06, the support vendor's お知らせ 接続設定概要: 実物の
マイナンバーカード ※個人の情報は読み取りません). A fact about the real card, not about the rig's
twin of it: the twin (fixtures/cards/) serves some of these files with test data; a test
keeps the two in step. A file this table does not name is not known to be free of personal
data, so a pairing that touches it fails closed.

AIDs and file IDs as the public JPKI tools and the open-source My Number card libraries use
them (e.g. OpenSC's JPKI driver; the mynacard constants of AokiApp's jsapdu).
"""

from __future__ import annotations

import attrs

JPKI_AID = "D392F000260100000001"
#: 券面事項入力補助AP (card-info input support).
CARD_INFO_INPUT_AID = "D3921000310001010408"
#: 券面事項確認AP (card-surface confirmation).
CARD_SURFACE_AID = "D3921000310001010402"

APS = {JPKI_AID: "公的個人認証AP (JPKI)", CARD_INFO_INPUT_AID: "券面事項入力補助AP",
       CARD_SURFACE_AID: "券面事項確認AP"}


@attrs.frozen
class CardFile:
    aid: str
    fid: str
    name: str
    personal: bool
    why: str


_HOLDER_CERT = ("the holder's own certificate: its serial number and key identify the "
                "holder (an eligibility check finds the patient by it)")
FILES: tuple[CardFile, ...] = (
    # JPKI AP: what tells a My Number card from other cards, and the issuer's CA
    # certificates (the same on every card) hold nothing of the holder.
    CardFile(JPKI_AID, "0006", "token (JPKIAPICCTOKEN2)", False,
             "the AP's token: the same text on every card; says card or phone, nobody's"),
    CardFile(JPKI_AID, "000B", "利用者証明用電子証明書 CA", False,
             "the issuing CA's certificate, the same on every card"),
    CardFile(JPKI_AID, "0002", "署名用電子証明書 CA", False,
             "the issuing CA's certificate, the same on every card"),
    CardFile(JPKI_AID, "000A", "利用者証明用電子証明書", True, _HOLDER_CERT),
    CardFile(JPKI_AID, "0001", "署名用電子証明書", True,
             "holds the holder's name, address, birth date and sex (基本4情報)"),
    CardFile(JPKI_AID, "0018", "利用者証明用 PIN", True,
             "the holder's PIN: selected only to VERIFY it, which unlocks the holder's data"),
    CardFile(JPKI_AID, "001B", "署名用 PIN", True,
             "the holder's PIN: selected only to VERIFY it, which unlocks the holder's data"),
    CardFile(JPKI_AID, "0017", "利用者証明用 private key", True, "the holder's private key"),
    CardFile(JPKI_AID, "001A", "署名用 private key", True, "the holder's private key"),
    CardFile(CARD_INFO_INPUT_AID, "0001", "個人番号 (My Number)", True,
             "the holder's My Number"),
    CardFile(CARD_INFO_INPUT_AID, "0002", "基本4情報", True,
             "the holder's name, address, birth date and sex"),
    CardFile(CARD_INFO_INPUT_AID, "0003", "個人番号と基本4情報の署名", True,
             "a signature over the holder's My Number and 基本4情報"),
    CardFile(CARD_INFO_INPUT_AID, "0011", "券面事項入力補助用 PIN", True,
             "the holder's PIN: selected only to VERIFY it, which unlocks the My Number"),
    CardFile(CARD_INFO_INPUT_AID, "0014", "照合番号A", True, "compared with the My Number"),
    CardFile(CARD_INFO_INPUT_AID, "0015", "照合番号B", True,
             "compared with the birth date and the card's expiry"),
    CardFile(CARD_SURFACE_AID, "0001", "生年月日", True, "the holder's birth date"),
    CardFile(CARD_SURFACE_AID, "0002", "券面事項", True,
             "the card's face: name, address, photo"),
    CardFile(CARD_SURFACE_AID, "0005", "個人番号", True, "the holder's My Number"),
)

_BY_KEY = {(f.aid, f.fid): f for f in FILES}


def card_file(aid: str | None, fid: str) -> CardFile | None:
    """The file ``fid`` (4 hex digits) of the AP ``aid`` (hex), None when not known."""
    if aid is None:
        return None
    return _BY_KEY.get((aid.upper(), fid.upper()))


def ap_name(aid: str | None) -> str:
    if aid is None:
        return "no AP selected"
    return APS.get(aid.upper(), f"an AP not known ({aid})")
