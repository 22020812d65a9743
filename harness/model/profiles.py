"""Vendor profiles: the spec (``vendor_profiles/*.yaml``).

A profile says what must happen, requirement by requirement, with the notice it comes from
and, where a machine can check it, the expectation. Profiles are read by the checks, never
by the emulated devices (DESIGN.md principle 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pydantic

from harness.errors import BadInput
from harness.loading import Field, load_yaml_model
from harness.model.requirements import check_requirement_id
from harness.model.usb_ids import UsbIdPair

RequirementId = Annotated[str, pydantic.AfterValidator(check_requirement_id)]


class WiringCheck(Field):
    """Where the device may be plugged in."""

    kind: Literal["wiring"]
    #: The chain must start at a USB 3.x root port of the terminal.
    root_port_usb3: bool = False
    #: Hubs allowed between the device and the terminal; None: any number.
    max_hubs_between: int | None = None


class VerifiedModelCheck(Field):
    """The general reader must be one of ``verified_models`` (same maker and model)."""

    kind: Literal["verified_model"]


class AppNameCheck(Field):
    """The reader is shown under the verified model's ``app_name``."""

    kind: Literal["app_name"]


class ManualCheck(Field):
    """Not machine-checkable by this rig; ``how`` says what a person checks."""

    kind: Literal["manual"]
    how: str


Check = Annotated[
    WiringCheck | VerifiedModelCheck | AppNameCheck | ManualCheck,
    pydantic.Field(discriminator="kind"),
]


class Requirement(Field):
    id: RequirementId
    statement: str
    #: Seed file name and section the requirement comes from.
    source: str
    check: Check


class VerifiedModel(Field):
    maker: str
    model: str
    #: Public USB IDs of this model; empty when not public.
    usb_ids: list[UsbIdPair] = []
    #: Name the management app shows after pairing (USB-05).
    app_name: str
    #: Non-Sony readers need their latest firmware or phones may not read.
    needs_latest_firmware: bool


class Profile(Field):
    #: File stem: a maker key (panasonic, canon, ...) or ``general_readers``.
    key: str
    kind: Literal["face_auth_reader", "general_reader"]
    maker_name: str
    products: list[str] = []
    #: USB IDs of the maker's readers; face-auth readers' IDs are not public, so a lab fills
    #: them in here or in its bench file.
    usb_ids: list[UsbIdPair] = []
    verified_models: list[VerifiedModel] = []
    requirements: list[Requirement]

    @pydantic.model_validator(mode="after")
    def _unique_ids(self) -> Profile:
        seen: set[str] = set()
        for req in self.requirements:
            if req.id in seen:
                raise ValueError(f"requirement {req.id} is listed twice")
            seen.add(req.id)
        return self

    def requirement(self, req_id: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == req_id), None)


class ProfileSet:
    """All profiles of a folder, by key."""

    def __init__(self, profiles: dict[str, Profile]) -> None:
        self.profiles = profiles

    @classmethod
    def load(cls, folder: Path) -> ProfileSet:
        files = sorted(folder.glob("*.yaml"))
        if not files:
            raise BadInput(str(folder), None, "", "no vendor profiles (*.yaml) in this folder")
        profiles: dict[str, Profile] = {}
        for path in files:
            profile = load_yaml_model(path, Profile)
            if profile.key != path.stem:
                raise BadInput(str(path), None, "key", f"is {profile.key!r}, the file is {path.stem}")
            profiles[profile.key] = profile
        return cls(profiles)

    def face_auth_makers(self) -> list[str]:
        return [k for k, p in self.profiles.items() if p.kind == "face_auth_reader"]

    def general(self) -> Profile:
        for profile in self.profiles.values():
            if profile.kind == "general_reader":
                return profile
        raise BadInput("vendor_profiles", None, "", "no general-reader profile")

    def __getitem__(self, key: str) -> Profile:
        return self.profiles[key]

    def __contains__(self, key: str) -> bool:
        return key in self.profiles


def default_profiles_dir() -> Path:
    from harness.paths import project_file

    return project_file("vendor_profiles")
