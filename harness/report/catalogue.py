"""The requirement catalogue (``docs/requirements.md``), generated from the profiles.

Per requirement ID: the makers it applies to, its statement, the notice it comes from (cited
as people find it: :mod:`harness.report.notices`) and how the rig checks it. Makers whose
profiles say the same thing share one entry; where they differ, each variant is listed with
its makers. ``onshi-rig catalogue > docs/requirements.md`` writes it; a test keeps the
committed file up to date.
"""

from __future__ import annotations

from harness.model.profiles import (
    AppNameCheck,
    BootOrderCheck,
    Check,
    DeliveryVersionCheck,
    FlowCheck,
    HotplugCheck,
    ManualCheck,
    ProfileSet,
    Requirement,
    ScheduleCheck,
    VerifiedModelCheck,
    WiringCheck,
)
from harness.model.requirements import FAMILIES
from harness.report.notices import cite

#: What each family of IDs is about (headings of the catalogue).
FAMILY_TITLES = {
    "UPD": "The January 2026 upgrade",
    "E901": "A check after an unrebooted upgrade (error 901)",
    "USB": "Connection rules",
    "BOOT": "Power-on order",
    "ERR": "Troubleshooting behaviours",
    "NET": "The year-end network renewal",
    "AUTH": "Identity check modes",
    "SP": "My Number card on a smartphone",
    "CON": "Consent",
}


def describe_check(check: Check) -> str:
    """How the rig checks it, in a line."""
    if isinstance(check, WiringCheck):
        rules = []
        if check.root_port_usb3:
            rules.append("on a USB 3 root port of the terminal")
        if check.max_hubs_between is not None:
            rules.append("directly on the terminal" if check.max_hubs_between == 0
                         else f"at most {check.max_hubs_between} hub(s) between")
        return "wiring (scan of the USB tree): " + ("; ".join(rules) or "any port")
    if isinstance(check, VerifiedModelCheck):
        return "verified model: the reader's maker and model are on the verified list"
    if isinstance(check, AppNameCheck):
        return "app name: the PC/SC name the terminal sees is the verified model's"
    if isinstance(check, HotplugCheck):
        return "hot-plug: the reader plugged in on the running terminal is listed"
    if isinstance(check, ManualCheck):
        return f"manual (a person checks): {check.how}"
    if isinstance(check, BootOrderCheck):
        out = "power-on order: " + " -> ".join(check.order)
        gaps = [f"{g.after} to {g.then} "
                + (f"{g.min_s:g} to {g.max_s:g} s" if g.min_s is not None and g.max_s is not None
                   else f"at least {g.min_s:g} s" if g.min_s is not None
                   else f"at most {g.max_s:g} s")
                for g in check.gaps]
        return out + (f" ({'; '.join(gaps)})" if gaps else "")
    if isinstance(check, FlowCheck):
        from harness.model.flow_rules import describe_flow

        return "flow, driven on the bench and watched by camera: " + describe_flow(check)
    if isinstance(check, ScheduleCheck):
        return (f"distribution schedule: nightly {check.nightly_from}..{check.nightly_to} "
                f"{check.window.start}-{check.window.end}, all day from {check.all_day_from}, "
                f"manual from {check.manual_from.isoformat()}")
    if isinstance(check, DeliveryVersionCheck):
        return f"delivery list: {check.component} {check.version}"
    return check.kind  # a kind added to the profiles later: still listed


def _family(req_id: str) -> str:
    return req_id.split("-", 1)[0]


def _sort_key(req_id: str) -> tuple[int, int]:
    family, number = req_id.split("-", 1)
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), int(number))


def render_catalogue(profiles: ProfileSet) -> str:
    """The catalogue as Markdown."""
    by_id: dict[str, list[tuple[str, Requirement]]] = {}
    for key, profile in profiles.profiles.items():
        for req in profile.requirements:
            by_id.setdefault(req.id, []).append((key, req))
    makers = {key: p.maker_name for key, p in profiles.profiles.items()}
    out = [
        "# Requirement catalogue",
        "",
        "Every requirement the rig certifies, generated from `vendor_profiles/` by",
        "`onshi-rig catalogue > docs/requirements.md` (do not edit by hand: a test checks that",
        "this file is what the profiles say). Each entry gives the makers it applies to, the",
        "statement, the notice it comes from (issuer, document number, date and title as",
        "printed, and the section) and how the rig checks it.",
        "",
        "Makers: " + ", ".join(f"`{k}` {name}" for k, name in makers.items()) + ".",
    ]
    family = None
    for req_id in sorted(by_id, key=_sort_key):
        if _family(req_id) != family:
            family = _family(req_id)
            out += ["", f"## {family}: {FAMILY_TITLES.get(family, family)}"]
        out += ["", f"### {req_id}"]
        variants: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
        for key, req in by_id[req_id]:
            how = tuple(describe_check(c) for c in req.checks)
            variants.setdefault((req.statement, req.source, how), []).append(key)
        for (statement, source, how), keys in variants.items():
            if len(variants) > 1 and out[-1] != "":
                out.append("")
            out.append(f"- **Applies to:** {', '.join(f'`{k}`' for k in keys)}")
            out.append(f"- **Statement:** {statement}")
            citations = cite(source)
            if len(citations) == 1:
                out.append(f"- **Notice:** {citations[0].text()}")
            else:
                out.append("- **Notices:**")
                out += [f"  - {c.text()}" for c in citations]
            if len(how) == 1:
                out.append(f"- **Check:** {how[0]}")
            else:
                out.append("- **Checks:**")
                out += [f"  - {h}" for h in how]
    return "\n".join(out) + "\n"
