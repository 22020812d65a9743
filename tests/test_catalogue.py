"""The requirement catalogue in the repository (docs/requirements.md) is what the profiles
say, and cites every notice as people find it: issuer, number, date, title, section, never
the team's file name for its copy."""

from __future__ import annotations

import re

import pytest

from harness.model.profiles import ProfileSet, default_profiles_dir
from harness.paths import project_file
from harness.report.catalogue import render_catalogue
from harness.report.notices import COPY, citation_text, cite

MHLW = "厚生労働省保険局医療介護連携政策課"


@pytest.fixture(scope="module")
def profiles() -> ProfileSet:
    return ProfileSet.load(default_profiles_dir())


def test_the_committed_catalogue_is_what_the_profiles_say(profiles: ProfileSet) -> None:
    committed = project_file("docs/requirements.md").read_text(encoding="utf-8")
    assert committed == render_catalogue(profiles), (
        "docs/requirements.md is out of date: run `onshi-rig catalogue > docs/requirements.md`")


def test_every_requirement_is_listed_with_its_makers(profiles: ProfileSet) -> None:
    text = render_catalogue(profiles)
    entries = dict(re.findall(r"^### (\S+)\n(.*?)(?=^### |\Z)", text, flags=re.M | re.S))
    for key, profile in profiles.profiles.items():
        for req in profile.requirements:
            entry = entries[req.id]
            block = next(b for b in entry.split("- **Applies to:**")[1:] if f"`{key}`" in
                         b.splitlines()[0])
            assert req.statement in block, (key, req.id)
    assert not COPY.search(text), "a kept copy's file name reached the catalogue"
    # Nor the rig's own files: a certification's reader has the notices, not the source.
    assert not re.search(r"[\w/]+\.(py|j2)\b", text), \
        re.search(r".{60}[\w/]+\.(py|j2)\b.{20}", text)


def test_every_source_cites_a_known_notice(profiles: ProfileSet) -> None:
    for key, profile in profiles.profiles.items():
        for req in profile.requirements:
            citations = cite(req.source)
            assert citations, (key, req.id)
            for c in citations:
                assert c.notice is not None and not c.unknown_copy, (key, req.id, c)
                assert not COPY.search(c.text()), (key, req.id)


def test_a_relayed_notice_is_cited_as_itself_with_its_relays() -> None:
    source = ("7福薬業発第367号, 事務連絡(令和7年12月24日) 記 1. 配信期間; 記 2. 適用; "
              "日薬業発第375号 (手動); お知らせ, 《 手順 》 ①")
    mhlw, jpa, page = cite(source)
    assert mhlw.notice is not None and mhlw.notice.issuer == MHLW
    assert mhlw.notice.date is not None and mhlw.notice.date.isoformat() == "2025-12-24"
    # The sections after the relayed notice's name stay with it.
    assert mhlw.sections == ("記 1. 配信期間", "記 2. 適用")
    text = mhlw.text()
    assert "事務連絡 令和7年12月24日 (2025-12-24)" in text
    assert "「オンライン資格確認等システムのメンテナンスに伴う資格確認端末の再起動等の案内について（周知）」" in text
    assert "relayed by 日本薬剤師会 日薬業発第375号 (2025-12-26) and 公益社団法人福岡県薬剤師会 " \
           "7福薬業発第367号 (2026-01-15)" in text
    assert jpa.notice is not None and jpa.notice.number == "日薬業発第375号"
    assert jpa.sections == ("(手動)",)
    assert page.notice is not None and page.sections == ("《 手順 》 ①",)


def test_a_copy_the_catalogue_does_not_know_is_never_named() -> None:
    # An older profile's source starting with a kept copy's file name, even one of the
    # notices the catalogue holds: the file name is never printed.
    for name in ("999_0123456789abcdef.txt", "000_8133acc4e12ea9a4.txt"):
        (c,) = cite(f"{name}, 記 3")
        assert c.notice is None and c.unknown_copy
        assert name[:4] not in c.text() and "記 3" in c.text()
    # A notice's number must stand alone: 7福薬業発第367号0 is not 7福薬業発第367号.
    (c,) = cite("7福薬業発第367号0, 記 3")
    assert c.notice is None and not c.unknown_copy
    # A source that names no copy is cited as the profile writes it.
    assert citation_text("A lab's own notice, section 3") == "A lab's own notice, section 3"


def test_the_requirement_marker_points_to_the_catalogue(pytestconfig: pytest.Config) -> None:
    (line,) = [m for m in pytestconfig.getini("markers") if m.startswith("requirement(")]
    assert "docs/requirements.md" in line and "shared/" not in line
