"""The vocabulary both sides share: reader screen classes, terminal dialogs, flows.

Profiles (the spec) say which screen class must appear; behaviour files (the twin) say which
class each of the twin's states shows; vision (a real bench) tells classes apart on camera
frames. Only the names are shared, never the expectations (DESIGN.md principle 2).
"""

from __future__ import annotations

import difflib
from typing import Annotated, Literal

import pydantic

#: Screen classes of a face-auth reader, with what each one means.
SCREENS: dict[str, str] = {
    "dark": "nothing shown: no power, or not started",
    "starting": "the reader's start-up screen",
    "link_wait": "waiting for the eligibility terminal to connect",
    "first": "the first screen (初期画面): place the card; staff and smartphone buttons",
    "face_auth": "looking at the patient's face",
    "pin_entry": "4-digit PIN entry",
    "pin_locked": "the card's PIN is locked (3 wrong entries): staff must help",
    "staff_passcode": "staff enter the 4-digit visual-confirmation passcode",
    "visual_confirm": "staff compare the card photo with the patient",
    "place_card": "place the card (after visual confirmation)",
    "sp_choose": "smartphone: choose iPhone or Android",
    "sp_pin": "smartphone (Android): the phone certificate's 4-digit PIN",
    "sp_hold": "smartphone: hold the phone over the reader",
    "consent": "a consent screen",
    "checking": "the eligibility check is running",
    "completion": "the completion screen",
    "please_wait": "「しばらくお待ちください」",
    "error_901": "901 error: eligibility system failure",
    "error_network": "network error (011 and the like)",
    "error_timeout": "time-out error",
    "error_account": "connection error between the eligibility system and the reader (906)",
}

#: Drawn over a screen.
Overlay = Literal["spinner"]

#: Dialogs of the eligibility terminal (its own screen, not the reader's).
DIALOGS: dict[str, str] = {
    "check_error_1": "first error dialog of a check made before the upgrade reboot",
    "check_error_2": "second error dialog, after OK on the first",
    "download_request_accepted": "management tool: ダウンロード依頼の受付",
    "update_ready": "management tool: update prepared, button 確認しました",
    "no_update": "management tool: nothing to download yet",
    "network_error": "network error on the terminal",
    "line_auth_page_connected": "the browser at https://www.lineauth.mnw: 回線認証接続済み",
    "line_auth_page_cut": "the browser at https://www.lineauth.mnw: the 希望する/希望しない buttons",
}

#: The buttons of the dialogs whose buttons the notices name (a profile's ``press:`` must be
#: one): the check's error dialogs 「OK」 (MHLW's notice on the January 2026 upgrade, the
#: 901 sequence ②), the management tool's [OK] and [確認しました] and the line
#: authentication page's 「希望する/希望しない」 (the terminal's upgrade and line
#: authentication procedures). The others are not checked.
DIALOG_BUTTONS: dict[str, tuple[str, ...]] = {
    "check_error_1": ("OK",),
    "check_error_2": ("OK",),
    "download_request_accepted": ("OK",),
    "update_ready": ("確認しました",),
    "line_auth_page_connected": (),
    "line_auth_page_cut": ("希望する", "希望しない"),
}

#: Flows a suite can drive on a bench; profile checks name the flow they expect things of.
Flow = Literal[
    "e901",
    "e901_phone",
    "e901_android",
    "e901_pin",
    "e901_staff",
    "reboot_then_check",
    "upgrade_nightly",
    "upgrade_manual",
    "upgrade_scheduled_restart",
    "upgrade_data_missing",
    "delivery_list",
    "consent",
    "face_auth",
    "pin_lock",
    "pin_visit",
    "pin_lock_staff",
    "staff_visual",
    "passcode_first_issue",
    "smartphone_iphone",
    "smartphone_android",
    "pairing",
    "network_error",
    "network_error_pin",
    "network_error_staff",
    "network_error_phone",
    "network_error_android",
    "network_long_outage",
    "network_intermittent",
    "line_auth_cut",
    "line_auth_page",
    "network_recovery",
    "network_renewal",
    "software_outdated",
    "startup_network_error",
    "account_error",
    "usb_link_lost",
    "no_power",
    "first_screen",
    "general_reader_hotplug",
]


def _known(table: dict[str, str], what: str):
    def check(value: str) -> str:
        if value not in table:
            raise ValueError(f"{value!r} is not a known {what} ({', '.join(table)})")
        return value

    return pydantic.AfterValidator(check)


def _enum(table: dict[str, str]) -> pydantic.WithJsonSchema:
    """The names in the JSON Schema too, so that an editor flags a misspelt one as it is
    typed (the validator above says so when the file loads)."""
    return pydantic.WithJsonSchema({"type": "string", "enum": list(table)})


ScreenClass = Annotated[str, _enum(SCREENS), _known(SCREENS, "screen class")]
DialogId = Annotated[str, _enum(DIALOGS), _known(DIALOGS, "terminal dialog")]
#: What a reference picture may show: a reader's screen class, a terminal dialog, or the
#: terminal's desktop with no dialog. A name outside these would never match a profile's
#: step, and a ``never`` or ``no_buttons`` rule would pass on it unseen.
SHOWN: dict[str, str] = {**SCREENS, **DIALOGS,
                         "desktop": "the terminal's desktop, no dialog open"}
Shown = Annotated[str, _enum(SHOWN), _known(SHOWN, "screen class or terminal dialog")]

#: The terminal's screens (its reference folder's ``maker``): what its references show.
TERMINAL = "terminal"


def shown_by(maker: str) -> dict[str, str]:
    """What a reference of ``maker``'s folder may show: a reader's screens are the screen
    classes, the terminal's its dialogs, desktop and dark monitor."""
    return ({**DIALOGS, "desktop": SHOWN["desktop"], "dark": "its monitor off"}
            if maker == TERMINAL else SCREENS)


def shown_problem(maker: str, shows: str) -> str | None:
    """Why a reference of ``maker``'s folder may not show ``shows`` (:func:`shown_by`): a
    reader screen marked ``network_error``, the terminal's dialog, would match no profile
    step, and every ``never`` would pass on it."""
    allowed = shown_by(maker)
    if shows in allowed:
        return None
    what = "the terminal's" if maker == TERMINAL else "a reader's"
    return f"{shows!r} is not one of {what} screens ({', '.join(allowed)})"


def variant_problem(name: str) -> str | None:
    """Why a reference's name may not say the buttons it shows (``first@staff+smartphone``:
    the parts after ``@``): a part that is nearly a reader button's name (``stafff``,
    ``Staff``) would be read as a button no ``no_buttons`` names. Other parts are a lab's
    own labels for its takes (``error_901@lab``), no button's."""
    _, at, variant = name.partition("@")
    for part in variant.split("+") if at else ():
        near = difflib.get_close_matches(part.lower(), list(BUTTONS), n=1, cutoff=0.75)
        if part not in BUTTONS and near:
            return (f"{part!r} after '@' is not a reader button: did you mean {near[0]}? "
                    f"(buttons: {', '.join(BUTTONS)})")
    return None


#: Buttons of a reader's panel, by the names profiles, suites and hands use (the labels the
#: notices print are the robot's: harness.model.robot_spec.DEFAULT_BUTTONS).
BUTTONS: dict[str, str] = {
    "staff": "職員用ボタン, shown only when a visual-confirmation passcode is issued (AUTH-03)",
    "smartphone": "スマートフォンを利用, the smartphone path (SP-01)",
    "iphone": "iPhone, on the smartphone path's choice",
    "android": "Android, on the smartphone path's choice",
    "cancel": "戻る, back to the screen before",
}
ReaderButton = Annotated[str, _enum(BUTTONS), _known(BUTTONS, "reader button")]

#: What a flow's record names as done (``FlowRun.do``): a profile's field that names an
#: action (``upon``, ``after_last``, ``stays_through``, a response's ``action`` and
#: ``until``, a remedy) must name one, or its rule would wait for an action no flow takes.
ACTIONS: dict[str, str] = {
    "card_in": "the patient's card put on the reader",
    "card_out": "the card taken away",
    "face": "the patient looks at the camera",
    "consent": "a consent screen answered",
    "pin:right": "the card's PIN typed", "pin:wrong": "another PIN typed",
    "passcode:right": "the staff's visual-confirmation passcode typed",
    "passcode:wrong": "another passcode typed",
    "phone_pin:right": "the phone certificate's PIN typed (Android)",
    "phone_pin:wrong": "another 4-digit code typed (the phone's unlock code)",
    "staff_confirm": "staff confirm the card's photo is the patient",
    "staff_phone_away": "the staff's phone taken off the general reader",
    "usb_cable_out": "the reader's USB cable pulled", "usb_cable_in": "and put back",
    "lan_out": "the terminal's LAN cable loosened", "lan_in": "and seated again",
    "account_fixed": "the account information corrected (the terminal's settings)",
    "line_auth_cut": "line authentication (回線認証) cut",
    "line_auth_page": "the browser opened at the line-authentication page",
    "close_browser": "the browser closed",
    "network_cut": "a replayed network cut begins", "network_restore": "and ends",
    "router_restart": "the router restarted", "reboot_terminal": "the terminal rebooted",
    "download_now": "今すぐダウンロード pressed in the management tool",
    "restart_reader": "the reader restarted", "power_cycle_reader": "the reader power-cycled",
    "power_on": "the reader switched on",
    "restart:terminal": "the terminal restarted after pairing",
    "restart:management_app": "the maker's management app restarted after pairing",
    "restart:connected_devices": "the devices connected to the terminal restarted",
}
#: Actions with a name after the colon: a reader's button (``press:staff``), a terminal
#: dialog's button as its label reads (``terminal:OK``), where a phone is held or taken from
#: (``hold_phone:front``, ``phone_away:<general reader>``), the general reader a staff phone
#: is held on.
ACTION_FAMILIES: dict[str, str] = {
    "press": "a reader button", "terminal": "a terminal dialog's button label",
    "hold_phone": "where the phone is held", "phone_away": "where the phone is taken from",
    "staff_phone": "the general reader the staff's phone is held on",
}


def check_action(value: str) -> str:
    """``value`` if it names an action a flow's record can hold, else ValueError."""
    family, colon, name = value.partition(":")
    if value in ACTIONS or (colon and family in ACTION_FAMILIES and name.strip() and (
            family != "press" or name in BUTTONS)):
        return value
    if family == "press" and colon:
        raise ValueError(f"{value!r}: {name!r} is not a known reader button "
                         f"({', '.join(BUTTONS)})")
    near = difflib.get_close_matches(value, list(ACTIONS), n=2)
    raise ValueError(f"{value!r} is not an action a flow takes" + (
        f" (did you mean {' or '.join(near)}?)" if near else
        f" ({', '.join(ACTIONS)}; or "
        + ", ".join(f"{f}:<{what}>" for f, what in ACTION_FAMILIES.items()) + ")"))


ActionName = Annotated[str, pydantic.WithJsonSchema({"type": "string", "anyOf": [
    {"enum": list(ACTIONS)},
    {"pattern": f"^(press:({'|'.join(BUTTONS)})|({'|'.join(f for f in ACTION_FAMILIES if f != 'press')}):.+)$"},
]}), pydantic.AfterValidator(check_action)]

#: Preconditions a flow check may ask the suite to set up before driving the flow.
GIVENS: dict[str, str] = {
    "upgrade_pending_reboot": "the upgrade is downloaded and installed; the terminal not rebooted",
    "upgrade_applied": "the terminal was rebooted after the upgrade",
    "in_distribution_window": "bench time inside a distribution window, terminal and reader on",
    "daily_restart_scheduled": "the terminal is set to restart by itself every day before the "
                               "day's practice (日々の診療等の開始前に自動で再起動)",
    "upgrade_data_missing": "the upgrade is installed but its data was never downloaded "
                            "(バージョンアップ用のデータがダウンロードされていない)",
    "before_manual_download": "bench time before manual download opens",
    "update_target_distribution_app": "the update on offer is the distribution application "
                                      "itself (更新対象が配信アプリケーションの場合)",
    "passcode_issued": "a visual-confirmation passcode is issued and the reader restarted since",
    "passcode_first_issue": "the first passcode was just issued; the reader not restarted",
    "no_passcode_issued": "no visual-confirmation passcode was ever issued for the terminal "
                          "(a restored bench)",
    "paired": "a verified general reader is paired and the terminal (or app) restarted",
    "not_paired": "no general reader paired",
    "network_down": "the terminal's LAN is down",
    "line_auth_cut": "line authentication (回線認証) is disconnected",
    "network_stuck_pc": "the terminal's network fails in a way a restart of the PC clears",
    "network_stuck_router": "the terminal's network fails in a way only a restart of the "
                            "router clears",
    "long_outage": "a long network outage is under way",
    "intermittent_outage": "intermittent outages of a few minutes are under way",
    "reader_software_outdated": "the reader's software is older than the distributed one",
    "distribution_disabled": "the management tool's 配信機能を無効化する is ticked",
    "wrong_account": "the terminal's account information for the reader is wrong",
    "usb_cable_out": "the reader's USB cable is not connected to the terminal",
    "reader_unpowered": "the reader's power is off",
    "no_general_reader": "no general reader is plugged into the terminal",
    "face_reader_unplugged": "the face-auth reader's USB cable is pulled out of the terminal "
                             "while the pairing is tried, and put back after",
}
Given = Annotated[str, _enum(GIVENS), _known(GIVENS, "precondition")]
