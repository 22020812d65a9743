"""What a screen's words claim, judged on their meaning rather than on a list of phrases.

A failed check's screen (the 901: 患者の資格確認は完了していない, notice 7福薬業発第367号 記 2.)
must not tell the patient that the check or the reception is done. A list of forbidden
phrases keeps leaking (hunt G30: 資格確認完了, G31: 受付できました): the rule here is on the
meaning, over everything read off the screen, normalised (NFKC, no whitespace):

- 完了 (done), unless negated right after it (完了していません, 完了できません, 完了しておりません)
  or before it (未完了);
- 済 (settled: 受付済, 済みました, 確認済);
- できました (managed to: 受付できました, 確認できました, 読み取りできました);
- the reception, check, registration or reading in the past tense (受付しました,
  確認されました, 受け付けました, 照会いたしました);
- 終了 / 終わり in the past tense (終了しました, 終わりました), 成功 (success) unless negated.

What genuine 901 screens say (障害が発生しました, 確認してください, 受付窓口までお越しください,
ご連絡ください) claims nothing of the kind.

A consent screen must not ask for the high-cost medical expense limit (高額療養費の限度額情報:
notice 7福薬業発第81号, the consent left out). Its list of words leaked as the 901's did
(hunt G32: 医療費の支払いの上限, 上限 without 額): the rule is on the stems of the limit and of
what it belongs to, over everything read off the screen (:func:`limit_ask`): 限度 (限度額,
自己負担限度, 限度額適用), 上限 (上限額, 支払いの上限, 自己負担上限), 高額 (高額療養費, 高額医療),
the limit's category (適用区分, 所得区分), and their kana. The genuine consents (診療・薬剤情報,
特定健診情報, 手術情報) use none of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Each pattern is one way of saying "done"; the first that matches is the evidence.
DONE_CLAIMS: tuple[re.Pattern[str], ...] = tuple(map(re.compile, (
    r"(?<!未)完了(?!(?:して|されて|でき|致して|いたして)(?:い|おり)?(?:ない|ません)|せず|前|待ち|予定)",
    r"済",
    r"できました",
    r"(?:受付|受け付け|受付け|確認|照会|登録|手続き?|読み?取り|認証)(?:が|は|を)?"
    r"(?:し|され|いたし|致し)?ました",
    r"(?:終了|終わり)(?:し|いたし|致し)?ました",
    r"成功(?!し(?:ませ|なか)|せず|でき(?:ませ|なか))",
)))


def normalised(lines: Iterable[str]) -> str:
    """The screen's lines as one string: NFKC, without whitespace (OCR splits words)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "".join(lines)))


def done_claim(lines: Iterable[str]) -> str | None:
    """The words of ``lines`` that claim the check or the reception is done (with a little
    of what surrounds them), or None: they claim nothing of the kind."""
    text = normalised(lines)
    for pattern in DONE_CLAIMS:
        found = pattern.search(text)
        if found is not None:
            return text[max(0, found.start() - 4):found.end() + 4]
    return None


#: Each pattern is one way of naming the high-cost limit or what it is made of.
LIMIT_WORDS: tuple[re.Pattern[str], ...] = tuple(map(re.compile, (
    r"限度", r"上限", r"高額", r"適用区分", r"所得区分",
    r"げんど", r"じょうげん", r"こうがくりょうよう", r"ゲンド", r"ジョウゲン",
)))


def limit_ask(lines: Iterable[str]) -> str | None:
    """The words of ``lines`` that name the high-cost medical expense limit (with a little of
    what surrounds them), or None: they name nothing of it."""
    text = normalised(lines)
    for pattern in LIMIT_WORDS:
        found = pattern.search(text)
        if found is not None:
            return text[max(0, found.start() - 4):found.end() + 4]
    return None
