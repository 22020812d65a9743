"""Texts the seeds give, as the tests read them: shared by the tests of the spec and of the
twin, so both are held to the same reading of the notice."""

from __future__ import annotations

#: The 901 screens as notice 7福薬業発第367号 (記 2. ②) gives them, one entry per printed line; the ⚠️
#: pictograms of Atlas's left out. Panasonic's and Canon's pictures were lost.
E901_TEXTS = {
    "usen_almex": [
        "職員はオンライン資格確認等システムの障害発生状況を確認してください。"
        "【901：オンライン資格確認等システムの障害発生】",
    ],
    "fujitsu_japan": [
        "受付窓口にご連絡ください",
        "職員はオンライン資格確認等システムの障害状況を確認してください"
        "【901: オンライン資格確認等システムの障害】",
    ],
    "atlas": [
        "エラーコード表示",
        "ご確認ください",
        "職員はオンライン資格確認等システムの障害発生状況を確認してください",
        "【901】",
        "マイナンバーカードを取り出し",
        "受付窓口までお越しください",
    ],
}
