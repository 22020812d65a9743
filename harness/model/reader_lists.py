"""USB-07 and USB-08: the general readers against the lab's lists, as pure functions.

Seed 002 says that usen_almex, atlas and panasonic designate the general readers usable with
their face-auth readers, and that non-Sony general readers need their latest firmware; it
names neither the list nor a version. The lab gives both in the bench file
(``general_reader_rules``); without them the designated readers are the verified models and
no minimum applies, and the verdict says which list it went by.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from harness.model.bench_spec import GeneralReaderRules, ReaderModel
from harness.model.profiles import Profile, VerifiedModel
from harness.model.requirements import Unchecked, Violation


@attrs.frozen
class Judged:
    """A rule's outcome (None: it holds) and what it went by, for the report."""

    outcome: Violation | Unchecked | None
    basis: str


def bcd_text(number: int) -> str:
    """A USB bcdDevice as lsusb prints it: 0x0110 -> ``1.10``."""
    return f"{number >> 8:x}.{number & 0xFF:02x}"


def _bcd(text: str) -> int:
    major, _, minor = text.partition(".")
    return (int(major, 16) << 8) | int(minor, 16)


def _same(maker: str | None, model: str | None, ref: ReaderModel | VerifiedModel,
          general: Profile) -> bool:
    # Maker by any of its names in any case (the bench writes "SONY", "Sony" or ソニー), model
    # character for character: "RC-S300" is another product than "RC-S300/S1" (the support
    # vendor's お知らせ).
    return general.maker_key(maker) == general.maker_key(ref.maker) and model == ref.model


def _names(models: Sequence[ReaderModel | VerifiedModel]) -> str:
    return ", ".join(f"{m.maker} {m.model}" for m in models) or "none"


def designated(rules: GeneralReaderRules, maker: str, general: Profile
               ) -> tuple[Sequence[ReaderModel | VerifiedModel], str]:
    """The models designated for ``maker``'s face-auth reader, and whose list it is."""
    if maker in rules.designated:
        models = rules.designated[maker]
        return models, f"the lab's list for {maker} (bench file): {_names(models)}"
    return general.verified_models, (
        f"no list from the lab for {maker} (the notice names none): the "
        f"{len(general.verified_models)} verified models, {_names(general.verified_models)}")


def judge_designated(req_id: str, maker: str, readers: Sequence[tuple[str, str | None,
                     str | None]], rules: GeneralReaderRules, general: Profile) -> Judged:
    """USB-07 for ``maker``'s face-auth reader: every general reader on the bench
    (``readers``: label, maker, model) is designated for it. No general reader on the bench
    proves nothing: unchecked."""
    models, basis = designated(rules, maker, general)
    if not readers:
        return Judged(Unchecked(req_id, "no general reader on the bench to judge"), basis)
    # A label given several times is one device its USB ID cannot name (re-badged alike):
    # it is designated only if every model it may be is, and off only if none is.
    by_label: dict[str, list[tuple[str | None, str | None]]] = {}
    for label, m, model in readers:
        by_label.setdefault(label, []).append((m, model))
    off: list[str] = []
    unsure: list[str] = []
    for label, candidates in by_label.items():
        listed = [any(_same(m, model, d, general) for d in models)
                  for m, model in candidates]
        names = " / ".join(" ".join(p for p in c if p) or "unidentified" for c in candidates)
        if not any(listed):
            off.append(f"{label} ({names})")
        elif not all(listed):
            unsure.append(f"{label} (one of {names}: its USB ID cannot tell which)")
    if off:
        return Judged(Violation(req_id, f"not designated for {maker}: {', '.join(off)}; "
                                f"designated: {_names(models)}"), basis)
    if unsure:
        return Judged(Unchecked(req_id, f"whether designated for {maker} is not known: "
                                f"{', '.join(unsure)}; name its model in the bench file"),
                      basis)
    return Judged(None, basis)


def judge_firmware(req_id: str, maker: str | None, model: str | None, version: str | None,
                   rules: GeneralReaderRules, general: Profile,
                   usb_id: tuple[int, int] | None = None) -> Judged:
    """USB-08 for one general reader: its firmware ``version`` (bcdDevice text) is at least
    the lab's minimum for its model; a verified model that needs no update (Sony) passes
    whatever it runs. A reader whose USB ID says it is not the model it is labelled is
    not judged by that model's rule (a CIR315 labelled Sony is not exempt)."""
    verified = general.verified(maker, model)
    name = " ".join(p for p in (maker, model) if p) or "an unidentified reader"
    if verified is None:
        return Judged(Unchecked(req_id, f"{name} is not a verified model, so the notice "
                                "says nothing of its firmware"), "")
    disagrees = general.id_disagrees(verified, *usb_id) if usb_id is not None else None
    if disagrees:
        return Judged(Unchecked(req_id, f"labelled {name}, but {disagrees}: which model's "
                                "firmware rule applies is not known"), "")
    if not verified.needs_latest_firmware:
        return Judged(None, f"{name} needs no firmware update (the support vendor's お知らせ: ソニー社製については、"
                      "バージョンアップ対応は不要です)")
    minimum = next((m for m in rules.min_firmware if _same(maker, model, m, general)),
                   None)
    if version is None:
        return Judged(Unchecked(req_id, f"the firmware version of {name} could not be read"),
                      "")
    if minimum is None:
        return Judged(None, f"firmware {version}; no minimum for {name} from the lab (the "
                      "notice names no version): any version passes")
    basis = f"firmware {version}; the lab's minimum for {name}: {minimum.version}"
    if _bcd(version) < _bcd(minimum.version):
        return Judged(Violation(req_id, f"{name} runs firmware {version}, below the lab's "
                                f"minimum {minimum.version}: phones may not read (the support vendor's お知らせ)"),
                      basis)
    return Judged(None, basis)


def rules_problems(rules: GeneralReaderRules, makers: Sequence[str], general: Profile
                   ) -> list[tuple[tuple[str | int, ...], str]]:
    """Names in the lab's lists the profiles do not know: a misspelt maker or model would
    leave a rule on its default (a pass) without a word. (location in the file, problem)"""
    found: list[tuple[tuple[str | int, ...], str]] = []
    where = ("general_reader_rules",)
    for key, models in rules.designated.items():
        if key not in makers:
            found.append(((*where, "designated", key), f"no face-auth maker {key!r} "
                          f"(known: {', '.join(makers)})"))
        # As min_firmware's: a model the profiles do not know could never be on the bench
        # under that name, so the list would fail USB-07 for a reason nobody meant.
        found += [((*where, "designated", key, i), _unverified(entry, general))
                  for i, entry in enumerate(models) if _unverified(entry, general)]
        found += _twice((*where, "designated", key), models, general)
    found += [((*where, "min_firmware", i), _unverified(entry, general))
              for i, entry in enumerate(rules.min_firmware) if _unverified(entry, general)]
    # A model listed twice contradicts itself (two minimum versions): one would win unsaid.
    found += _twice((*where, "min_firmware"), rules.min_firmware, general)
    return found


def _twice(where: tuple[str | int, ...], entries: Sequence[ReaderModel], general: Profile
           ) -> list[tuple[tuple[str | int, ...], str]]:
    """Each entry naming a model an earlier one of the list names."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    for i, entry in enumerate(entries):
        first = next((k for k, other in enumerate(entries[:i])
                      if _same(other.maker, other.model, entry, general)), None)
        if first is not None:
            found.append(((*where, i), f"{entry.maker} {entry.model} is listed twice (first "
                          f"as [{first}])"))
    return found


def _unverified(entry: ReaderModel, general: Profile) -> str:
    """Why a lab list's model is not one the general readers' profile knows, or ""."""
    if general.verified(entry.maker, entry.model) is not None:
        return ""
    return (f"{entry.maker} {entry.model} is not a verified model (verified: "
            f"{_names(general.verified_models)})")
