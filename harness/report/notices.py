"""Requirement sources cited as people find the notices, never by this team's file names.

A profile's ``source`` reads ``7福薬業発第367号, 事務連絡(令和7年12月24日) 記 1. ...;
記 2. ...; お知らせ, 《 ... 》 ①``: a notice as it is cited (its document number, or the
title of a page that prints none), then sections, ``;`` between them. ``notices.yaml``
(beside this module) says what each notice is (issuer, document number, date and title as
printed) and which notices it relays; :func:`cite` turns a source into :class:`Citation` s
of those notices, with their sections.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import attrs
import pydantic

from harness.loading import Field, load_yaml_model

NOTICES_FILE = Path(__file__).with_name("notices.yaml")

#: A file name of a copy kept of a notice (``999_0123456789abcdef.txt``), as an older
#: profile's source may start: never printed, cited as a notice the catalogue does not know.
COPY = re.compile(r"\b\d{3}_[0-9a-f]{8,}\.txt\b")


class NoticeEntry(Field):
    #: How sources cite the notice (outer notices only): its document number, or the title
    #: of a page that prints none.
    cited_as: str | None = None
    #: How a profile's section names this notice inside the one enclosing it.
    named: str | None = None
    issuer: str
    number: str | None = None
    date: dt.date | None = None
    date_printed: str | None = None
    title: str
    #: Where the notice can be read, when it is published on the web.
    url: str | None = None
    encloses: list[NoticeEntry] = []

    @pydantic.model_validator(mode="after")
    def _cited_or_named(self) -> NoticeEntry:
        if bool(self.cited_as) == bool(self.named):
            raise ValueError("a notice is cited_as (an outer notice) or named inside one, "
                             "not both")
        return self


class NoticeCatalogue(Field):
    notices: list[NoticeEntry]


@attrs.frozen
class Notice:
    issuer: str
    title: str
    number: str | None = None
    date: dt.date | None = None
    date_printed: str | None = None
    #: The notices that passed this one on, nearest first.
    relayed_by: tuple[Notice, ...] = ()
    url: str | None = None

    def name(self) -> str:
        """``厚生労働省保険局… 事務連絡 令和7年12月24日 (2025-12-24)「…」``."""
        if not self.number and not self.date:  # a page that prints neither: title first
            return f"「{self.title}」, {self.issuer}"
        parts = [self.issuer]
        if self.number:
            parts.append(self.number)
        if self.date_printed or self.date:
            when = self.date_printed or ""
            if self.date:
                when = f"{when} ({self.date.isoformat()})" if when else self.date.isoformat()
            parts.append(when)
        return " ".join(parts) + f"「{self.title}」"

    def short(self) -> str:
        """``日本薬剤師会 日薬業発第375号 (2025-12-26)``: for the relaying notices."""
        parts = [self.issuer] + ([self.number] if self.number else [])
        return " ".join(parts) + (f" ({self.date.isoformat()})" if self.date else "")


@attrs.frozen
class Citation:
    """One notice and the sections of it a requirement comes from. ``notice`` is None for a
    source naming no copy (cited as the profile writes it) or a copy the catalogue does not
    know (cited without its file name)."""

    notice: Notice | None
    sections: tuple[str, ...]
    unknown_copy: bool = False

    def text(self) -> str:
        where = "; ".join(s for s in self.sections if s)
        if self.notice is None:
            what = "a notice not in the rig's catalogue of notices" if self.unknown_copy else ""
            return ", ".join(p for p in (what, where) if p)
        out = self.notice.name() + (f", {where}" if where else "")
        if self.notice.relayed_by:
            out += " (relayed by " + " and ".join(n.short() for n in self.notice.relayed_by) + ")"
        return out


@attrs.frozen
class _Copy:
    outer: Notice
    #: Enclosed notices by the name sections give them.
    inner: dict[str, Notice]


def _notice(entry: NoticeEntry, relayed_by: tuple[Notice, ...]) -> Notice:
    return Notice(entry.issuer, entry.title, entry.number, entry.date, entry.date_printed,
                  relayed_by, entry.url)


def _walk(entry: NoticeEntry, relayed_by: tuple[Notice, ...], into: dict[str, Notice]) -> None:
    for child in entry.encloses:
        notice = _notice(child, relayed_by)
        into[child.named or ""] = notice
        _walk(child, (notice, *relayed_by), into)


@functools.cache
def _catalogue(path: Path = NOTICES_FILE) -> dict[str, _Copy]:
    copies: dict[str, _Copy] = {}
    for entry in load_yaml_model(path, NoticeCatalogue).notices:
        outer = _notice(entry, ())
        inner: dict[str, Notice] = {}
        _walk(entry, (outer,), inner)
        copies[entry.cited_as or ""] = _Copy(outer, inner)
    return copies


def _cited(segment: str, copies: dict[str, _Copy]) -> tuple[str, int] | None:
    """The notice a source's segment starts with (its ``cited_as``, or a kept copy's file
    name) and where the rest begins."""
    found = COPY.match(segment)
    if found:
        return found.group(0), found.end()
    for key in sorted(copies, key=len, reverse=True):
        if key and segment.startswith(key) and segment[len(key):len(key) + 1] in ("", ",", " "):
            return key, len(key)
    return None


def _normal(text: str) -> str:
    # Sections are typed by hand: （） or (), spaces or none.
    return re.sub(r"\s+", "", text.replace("（", "(").replace("）", ")"))


def _starts_with(section: str, named: str) -> str | None:
    """The rest of ``section`` after ``named`` at its start (brackets and spaces aside)."""
    want = _normal(named)
    for end in range(len(section) + 1):
        if _normal(section[:end]) == want:
            return section[end:].strip(" ,")
    return None


def cite(source: str, catalogue: dict[str, _Copy] | None = None) -> list[Citation]:
    """The notices ``source`` cites, in its order, each with its sections."""
    copies = _catalogue() if catalogue is None else catalogue
    citations: list[Citation] = []
    copy: _Copy | None = None
    current: Notice | None = None
    unknown = False
    sections: list[str] = []

    def flush() -> None:
        # A notice left before any section of it (the copy's cover, when the source goes
        # straight to a notice it relays) is not cited.
        if sections:
            citations.append(Citation(current, tuple(sections), unknown))

    for raw in source.split(";"):
        segment = raw.strip()
        if not segment:
            continue
        found = _cited(segment, copies)
        if found:
            flush()
            sections = []
            copy = copies.get(found[0])
            unknown = copy is None
            current = copy.outer if copy is not None else None
            segment = segment[found[1]:].strip(" ,")
        if copy is not None:
            for named, notice in copy.inner.items():
                rest = _starts_with(segment, named)
                if rest is not None:
                    if notice is not current:
                        flush()
                        sections = []
                        current = notice
                    segment = rest
                    break
        # A copy's name anywhere else in a section is never printed either.
        sections.append(COPY.sub("(a notice)", segment).strip())
    flush()
    return citations


def citation_text(source: str) -> str:
    """The whole source as one line of citations."""
    return " / ".join(c.text() for c in cite(source))
