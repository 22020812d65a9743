"""The eligibility terminal twin (資格確認端末) and the receipt computer it reports to.

It boots on the bench clock, runs the eligibility client and the distribution management
tool, polls for the January 2026 upgrade inside the distribution windows, installs it and
applies it at the next start (UPD-01..06). A check made while the upgrade waits for that
start fails: two error dialogs on the terminal, then the reader's 901 screen (E901). It
issues visual-confirmation passcodes, runs each maker's pairing app, and hands results to
the receipt computer only for checks that completed.

What it shows and when comes from its behaviour file (``fixtures/devices/terminal/``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from typing import Literal

import attrs

from harness.emulation.behaviour import Dialog, Distribution, TerminalBehaviour
from harness.emulation.network import NetworkTwin
from harness.emulation.people import Phone
from harness.emulation.reader_twin import FaceAuthReaderTwin
from harness.model.clock import JST, Timer, VirtualClock
from harness.model.timeline import Timeline

#: ``data_missing``: the upgrade was installed but its data was never downloaded (the support vendor's お知らせ:
#: バージョンアップ用のデータがダウンロードされていない場合): a restart does not clear the error.
Upgrade = Literal["none", "downloading", "installed", "applied", "data_missing"]


#: The browser's line-authentication page as the terminal shows it: connected, and cut.
LINE_AUTH_PAGES = ("line_auth_page_connected", "line_auth_page_cut")


def distribution_open(plan: Distribution, when: dt.datetime) -> bool:
    """Whether the upgrade is being distributed at ``when`` (any timezone-aware time)."""
    local = when.astimezone(plan.manual_from.tzinfo)
    if local.date() >= plan.all_day_from:
        return True
    t = local.time()
    # A night's window runs from its evening into the next morning.
    if t >= plan.nightly_start:
        night = local.date()
    elif t < plan.nightly_end:
        night = local.date() - dt.timedelta(days=1)
    else:
        return False
    return plan.nightly_from <= night <= plan.nightly_to and night not in plan.nightly_except


@attrs.frozen
class EligibilityResult:
    """What the receipt computer gets: which reader, which card (by label, never data)."""

    reader: str
    card: str
    t: float


@attrs.frozen
class OpenDialog:
    id: str
    dialog: Dialog
    #: The reader whose check raised it (error dialogs).
    reader: str | None = None


@attrs.define
class GeneralReaderSeen:
    """A general reader plugged into the terminal, as Windows knows it."""

    name: str
    #: The name the maker's management app shows (the PC/SC reader name).
    app_name: str
    attached: bool = True
    recognised: bool = True


@attrs.define
class Pairing:
    """One maker app's pairing of a general reader with a face-auth reader (SP-04)."""

    reader: str
    general: str | None = None
    placed_pressed: bool = False
    card_on_general: bool = False
    registered: bool = False
    #: Registered and the terminal (or the app) restarted since.
    effective: bool = False


class ReceiptComputerTwin:
    """The receipt computer (レセコン): powered or not; collects the results it is handed."""

    def __init__(self, name: str, timeline: Timeline) -> None:
        self.name = name
        self.timeline = timeline
        self.powered = False
        self.results: list[EligibilityResult] = []

    def set_power(self, on: bool) -> None:
        self.powered = on

    def receive(self, result: EligibilityResult) -> bool:
        if not self.powered:
            self.timeline.record(self.name, "result.not_received", reader=result.reader)
            return False
        self.results.append(result)
        self.timeline.record(self.name, "result.received", reader=result.reader, card=result.card)
        return True


class TerminalTwin:
    def __init__(
        self,
        behaviour: TerminalBehaviour,
        clock: VirtualClock,
        timeline: Timeline,
        *,
        name: str = "terminal",
        network: NetworkTwin | None = None,
        receipt_computer: ReceiptComputerTwin | None = None,
        monitorless: bool = False,
        upgrade: Upgrade = "none",
    ) -> None:
        self.behaviour = behaviour
        self.clock = clock
        self.timeline = timeline
        self.name = name
        self.network = network or NetworkTwin(behaviour.network, clock, timeline)
        self.network.listeners.append(self._network_changed)
        self.receipt_computer = receipt_computer
        self.monitorless = monitorless
        self.readers: dict[str, FaceAuthReaderTwin] = {}
        self.general_readers: dict[str, GeneralReaderSeen] = {}
        self.mains = False
        #: The operating system is up (False while shut down or rebooting).
        self.powered = False
        self.app_running = False
        if upgrade == "installed" and behaviour.upgrade.applies_at == "install":
            upgrade = "applied"  # such a terminal has no installed-but-pending state
        self.upgrade: Upgrade = upgrade
        #: ``installed`` (or ``data_missing``) at construction stands for a terminal that got
        #: the upgrade overnight and was never restarted: its first start continues that
        #: session, so the upgrade stays pending until a real restart.
        self._keep_pending_once = upgrade in ("installed", "data_missing")
        #: Starts since the upgrade was installed (``upgrade.restarts`` apply it).
        self._starts_since_install = 0
        #: Checks failed for the pending upgrade (``upgrade.failed_checks``, a deviation).
        self._failed_checks = 0
        self.face_auth_library = (
            behaviour.versions.face_auth_library_upgrade
            if upgrade == "applied"
            else behaviour.versions.face_auth_library
        )
        self.distribution_disabled = False
        self.account_ok = True
        self.passcode_issued = False
        self._passcode: str | None = None
        #: What the distribution side offers a manual download (UPD-05).
        self.offered: Literal["face_auth_library", "distribution_app"] = "face_auth_library"
        self.dialogs: list[OpenDialog] = []
        self.pairings: dict[str, Pairing] = {}
        self.results: list[EligibilityResult] = []
        #: The running download ends with the tool's 確認しました dialog (a manual download of
        #: the face-auth library; not of the distribution app itself, UPD-05).
        self._ready_dialog_due = False
        self._boot_timer: Timer | None = None
        self._poll_timer: Timer | None = None
        self._download_timer: Timer | None = None
        #: Where a download falls back to if the terminal stops before it ends.
        self._before_download: Upgrade = "none"
        #: The clinic's daily automatic restart (UPD-07), Japan time; None: none set.
        self.restart_at: dt.time | None = None
        self._restart_timer: Timer | None = None

    def attach_reader(self, reader: FaceAuthReaderTwin) -> None:
        self.readers[reader.name] = reader
        reader.terminal = self

    def attach_general_reader(self, name: str, app_name: str) -> None:
        self.general_readers[name] = GeneralReaderSeen(name, app_name)

    # -- power, boot, reboot ----------------------------------------------------------------
    def set_power(self, on: bool) -> None:
        with self.clock.lock:
            if on == self.mains:
                return
            self.mains = on
            if on:
                self._boot()
            else:
                self._shutdown()

    def reboot(self) -> None:
        with self.clock.lock:
            if not self.mains:
                return
            self.timeline.record(self.name, "terminal.reboot")
            self._shutdown()
            self._boot_timer = self.clock.call_later(self.behaviour.shutdown_seconds, self._boot)

    def schedule_restart(self, at: dt.time | None) -> None:
        """The clinic sets the terminal to restart by itself every day at ``at`` (Japan
        time), or clears that (None). It restarts only while switched on."""
        with self.clock.lock:
            if self._restart_timer is not None:
                self._restart_timer.cancel()
                self._restart_timer = None
            self.restart_at = at
            self.timeline.record(self.name, "terminal.restart_scheduled",
                                 at=at.isoformat() if at is not None else None)
            self._arm_restart()

    def _arm_restart(self) -> None:
        if self.restart_at is None:
            return
        now = self.clock.wallclock().astimezone(JST)
        due = dt.datetime.combine(now.date(), self.restart_at, tzinfo=JST)
        if due <= now:
            due += dt.timedelta(days=1)
        self._restart_timer = self.clock.call_later((due - now).total_seconds(),
                                                    self._scheduled_restart)

    def _scheduled_restart(self) -> None:
        self._restart_timer = None
        if self.mains and self.powered:
            does = self.behaviour.scheduled_restart
            self.timeline.record(self.name, "terminal.scheduled_restart", does=does)
            if does == "restart":
                self.reboot()
            else:
                # Only the eligibility application restarts: nothing is installed or applied.
                self.timeline.record(self.name, "app.restarted")
        self._arm_restart()

    def _boot(self) -> None:
        if not self.mains or self.powered:
            return
        self.powered = True
        self.network.pc_started()
        self.timeline.record(self.name, "terminal.starting")
        for reader in self.readers.values():
            reader.terminal_power_changed(True)
        self._boot_timer = self.clock.call_later(self.behaviour.boot_seconds, self._app_start)

    def _app_start(self) -> None:
        self._boot_timer = None
        if self.upgrade == "data_missing":
            if self.behaviour.upgrade.restart_fetches_missing_data and not self._keep_pending_once:
                self._apply_upgrade()
            else:
                self.timeline.record(self.name, "upgrade.data_missing")
        elif self.upgrade == "installed" and self._keep_pending_once:
            self.timeline.record(self.name, "upgrade.pending_reboot")
        elif self.upgrade == "installed":
            self._starts_since_install += 1
            if self._starts_since_install >= self.behaviour.upgrade.restarts:
                self._apply_upgrade()
            else:
                self.timeline.record(self.name, "upgrade.pending_reboot",
                                     starts=self._starts_since_install)
        for pairing in self.pairings.values():
            pairing.effective = pairing.registered
        for seen in self.general_readers.values():
            seen.recognised = seen.attached
        self.app_running = True
        self.timeline.record(
            self.name,
            "terminal.started",
            application=self.behaviour.versions.application,
            face_auth_library=self.face_auth_library,
        )
        for reader in self.readers.values():
            reader.terminal_app_started()
        self._poll()

    def _apply_upgrade(self) -> None:
        self.upgrade = "applied"
        self.face_auth_library = self.behaviour.versions.face_auth_library_upgrade
        self.timeline.record(self.name, "upgrade.applied", version=self.face_auth_library)

    def _shutdown(self) -> None:
        self._keep_pending_once = False
        for timer in (self._boot_timer, self._poll_timer, self._download_timer):
            if timer is not None:
                timer.cancel()
        self._boot_timer = self._poll_timer = None
        if self._download_timer is not None:
            self._download_timer = None
            self.upgrade = self._before_download
            self.timeline.record(self.name, "upgrade.download_interrupted")
        was_up = self.powered
        self.powered = False
        self.app_running = False
        for dialog in self.dialogs:
            self.timeline.record(self.name, "dialog.closed", dialog=dialog.id, button=None)
        self.dialogs.clear()
        if was_up:
            self.timeline.record(self.name, "terminal.stopped")
        for reader in self.readers.values():
            reader.update_link()
            reader.terminal_power_changed(False)

    # -- distribution of the upgrade (UPD-01..04) -------------------------------------------
    def distribution_open(self) -> bool:
        return distribution_open(self.behaviour.distribution, self.clock.wallclock())

    def _poll(self) -> None:
        self._poll_timer = None
        if not self.app_running:
            return
        plan = self.behaviour.distribution
        if not self.distribution_disabled and self.network.up:
            for reader in self.readers.values():
                if reader.linked:
                    reader.software_updated()
            ready = not plan.needs_reader or any(r.linked for r in self.readers.values())
            if self.upgrade == "none" and ready and self.distribution_open():
                self._start_download("distribution", "face_auth_library")
        self._poll_timer = self.clock.call_later(plan.poll_seconds, self._poll)

    def _start_download(self, how: str, target: str, ready_dialog: bool = False) -> None:
        self._before_download = self.upgrade
        self.upgrade = "downloading"
        self._ready_dialog_due = ready_dialog
        self.timeline.record(self.name, "upgrade.download_started", how=how, target=target)
        self._download_timer = self.clock.call_later(
            self.behaviour.distribution.download_seconds, self._downloaded
        )

    def _downloaded(self) -> None:
        self._download_timer = None
        if not self.network.up:
            self.upgrade = self._before_download
            self.timeline.record(self.name, "upgrade.download_interrupted", why="network down")
            return
        self.upgrade = "installed"
        self._starts_since_install = 0
        version = self.behaviour.versions.face_auth_library_upgrade
        at_once = self.behaviour.upgrade.applies_at == "install"
        self.timeline.record(self.name, "upgrade.installed", version=version,
                             pending_reboot=not at_once)
        if at_once:
            self._apply_upgrade()
        if self._ready_dialog_due:
            self._open_dialog("update_ready")
        self._ready_dialog_due = False

    def _app_updated(self, ready_dialog: bool) -> None:
        self.timeline.record(self.name, "tool.app_updated")
        if ready_dialog:
            self._open_dialog("update_ready")

    # -- the management tool (配信アプリケーション管理ツール) ----------------------------------
    def download_now(self, target: Literal["face_auth_library", "distribution_app"] | None = None
                     ) -> bool:
        """今すぐダウンロード (UPD-05) of ``target`` (default: what is on offer). False if the
        tool cannot run (terminal not up)."""
        target = target or self.offered
        with self.clock.lock:
            if not self.app_running:
                return False
            self.timeline.record(self.name, "tool.download_now", target=target)
            if self.clock.wallclock() < self.behaviour.distribution.manual_from or not self.network.up:
                self._open_dialog("no_update")
                return True
            self._open_dialog("download_request_accepted")
            ready = target in self.behaviour.ready_dialog_for
            if target == "distribution_app":
                # The tool updates itself; the face-auth library is left as it is.
                self.clock.call_later(self.behaviour.distribution.download_seconds,
                                      lambda: self._app_updated(ready))
            elif self.upgrade in ("none", "data_missing"):
                self._start_download("manual", target, ready)
            elif self.upgrade == "installed" and ready:
                self._open_dialog("update_ready")
            return True

    def delivery_list(self) -> list[dict[str, str]]:
        """配信実績の確認 (UPD-04): the face-auth library as delivered to this terminal."""
        delivered = self.upgrade in ("installed", "applied")
        version = (
            self.behaviour.versions.face_auth_library_upgrade if delivered else self.face_auth_library
        )
        return [{"component": "顔認証ライブラリ", "version": version}]

    def set_distribution_disabled(self, disabled: bool) -> None:
        """設定変更 → 配信機能を無効化する."""
        with self.clock.lock:
            self.distribution_disabled = disabled
            self.timeline.record(self.name, "tool.distribution_disabled", value=disabled)

    # -- dialogs ---------------------------------------------------------------------------
    def _open_dialog(self, dialog_id: str, reader: str | None = None) -> None:
        dialog = self.behaviour.dialogs.get(dialog_id)
        if dialog is None:
            raise KeyError(f"the terminal's behaviour file has no dialog {dialog_id!r}")
        self.dialogs.append(OpenDialog(dialog_id, dialog, reader))
        self.timeline.record(self.name, "dialog.shown", dialog=dialog_id)

    def press(self, button: str) -> bool:
        """Press a button of the topmost dialog; False if there is none or no such button."""
        with self.clock.lock:
            if not self.dialogs or button not in self.dialogs[-1].dialog.buttons:
                return False
            top = self.dialogs.pop()
            self.timeline.record(self.name, "dialog.closed", dialog=top.id, button=button)
            if top.id in LINE_AUTH_PAGES:
                # The page's buttons are the line authentication's (ERR-10 ④); the browser
                # then leaves the page.
                self.network.press_line_auth(button)
            if top.dialog.then_dialog is not None:
                self._open_dialog(top.dialog.then_dialog, top.reader)
            reader = self.readers.get(top.reader or "")
            if top.dialog.then_reader is not None and reader is not None:
                reader.post(top.dialog.then_reader)
            return True

    # -- the browser: line authentication (ERR-10) -----------------------------------------
    def open_line_auth_page(self) -> bool:
        """The browser at https://www.lineauth.mnw (the support vendor's お知らせ ③ 確認手順): 回線認証接続済み, or
        the 希望する/希望しない buttons when line authentication is cut. False: not running."""
        with self.clock.lock:
            if not self.powered:
                return False
            self.close_line_auth_page()
            self._open_dialog(LINE_AUTH_PAGES[0] if self.network.line_auth
                              else LINE_AUTH_PAGES[1])
            return True

    def close_line_auth_page(self) -> None:
        with self.clock.lock:
            for page in [d for d in self.dialogs if d.id in LINE_AUTH_PAGES]:
                self.dialogs.remove(page)
                self.timeline.record(self.name, "dialog.closed", dialog=page.id, button=None)

    # -- eligibility checks ------------------------------------------------------------------
    def request_check(self, reader: FaceAuthReaderTwin) -> None:
        # A phone session names the phone even if a card lies in the slot meanwhile.
        card = reader.phone or reader.card
        label = card.label if card is not None else "(none)"
        self.timeline.record(self.name, "check.requested", reader=reader.name, card=label)
        self.clock.call_later(self.behaviour.check_seconds, lambda: self._finish_check(reader, label))

    def _finish_check(self, reader: FaceAuthReaderTwin, label: str) -> None:
        if not self.app_running or not reader.linked:
            self.timeline.record(self.name, "check.lost", reader=reader.name)
            return
        if not self.network.up and self._cached(label):
            # Deviation network.offline_results_s: answered from the cache, as if done.
            self.timeline.record(self.name, "check.offline", reader=reader.name, card=label)
            self._hand_over(reader, label)
            reader.post("check_ok")
        elif not self.network.up:
            self.timeline.record(
                self.name, "check.failed", reader=reader.name, why=self.network.why_down()
            )
            self._open_dialog("network_error", reader.name)
            self._failed_result(reader, label)
            reader.post("check_network_error")
        elif self.upgrade in ("installed", "data_missing"):
            why = ("upgrade installed, not rebooted" if self.upgrade == "installed"
                   else "upgrade installed, its data never downloaded")
            extra = self.behaviour.upgrade_error_extra_seconds
            if extra > 0:
                self.clock.call_later(extra, lambda: self._upgrade_failed(reader, label, why))
            else:
                self._upgrade_failed(reader, label, why)
        else:
            self._hand_over(reader, label)
            reader.post("check_ok")

    def _upgrade_failed(self, reader: FaceAuthReaderTwin, label: str, why: str) -> None:
        self.timeline.record(self.name, "check.failed", reader=reader.name, why=why)
        self._open_dialog("check_error_1", reader.name)
        self._failed_result(reader, label)
        reader.post("check_failed")
        self._failed_checks += 1
        after = self.behaviour.upgrade.failed_checks
        if self.upgrade == "installed" and after is not None and self._failed_checks >= after:
            self._apply_upgrade()

    def _hand_over(self, reader: FaceAuthReaderTwin, label: str) -> None:
        result = EligibilityResult(reader.name, label, self.clock.now())
        self.results.append(result)
        self.timeline.record(self.name, "check.result", reader=reader.name, card=label)
        if self.receipt_computer is not None:
            self.receipt_computer.receive(result)

    def _failed_result(self, reader: FaceAuthReaderTwin, label: str) -> None:
        """A failed check's patient is not confirmed: nothing goes to the receipt computer
        (unless the behaviour file says this terminal sends it anyway)."""
        if self.behaviour.result_on_failed_check:
            self._hand_over(reader, label)

    # -- visual-confirmation passcode (AUTH-03, AUTH-04) -------------------------------------
    def issue_passcode(self) -> str:
        """目視確認用パスコード発行: a new passcode of ``passcode_digits`` digits (returned,
        never recorded)."""
        with self.clock.lock:
            first = not self.passcode_issued
            digits = self.behaviour.passcode_digits
            self._passcode = f"{secrets.randbelow(10**digits):0{digits}d}"
            self.passcode_issued = True
            self.timeline.record(self.name, "passcode.issued", first=first)
            return self._passcode

    def passcode_matches(self, code: str) -> bool:
        return self._passcode is not None and secrets.compare_digest(code, self._passcode)

    def set_account_ok(self, ok: bool) -> None:
        with self.clock.lock:
            self.account_ok = ok
            self.timeline.record(self.name, "terminal.account", ok=ok)

    # -- general readers and pairing (SP-04, USB-05, USB-06) ---------------------------------
    def general_reader_plugged(self, name: str, attached: bool) -> None:
        with self.clock.lock:
            seen = self.general_readers.get(name)
            if seen is None:
                return
            seen.attached = attached
            misses = (self.behaviour.remote_desktop_misses_new_usb if self.monitorless
                      else self.behaviour.with_monitor_misses_new_usb)
            if not attached:
                seen.recognised = False
            elif self.app_running and misses:
                # Recognised at the terminal's next start (_app_start).
                why = "remote desktop, no monitor" if self.monitorless else "with a monitor"
                self.timeline.record(self.name, "usb.not_recognised", device=name, why=why)
            else:
                seen.recognised = True

    def recognised_general_readers(self) -> list[str]:
        return [g.app_name for g in self.general_readers.values() if g.attached and g.recognised]

    def start_pairing(self, reader: str) -> PairingSession:
        twin = self.readers[reader]
        if twin.behaviour.pairing is None:
            raise KeyError(f"{reader}: its behaviour file has no pairing app")
        return PairingSession(self, twin)

    def restart_management_app(self, reader: str) -> None:
        with self.clock.lock:
            pairing = self.pairings.get(reader)
            twin = self.readers[reader]
            self.timeline.record(self.name, "app.restart", reader=reader)
            if (
                pairing is not None
                and pairing.registered
                and twin.behaviour.pairing is not None
                and twin.behaviour.pairing.then_restart == "management_app"
            ):
                pairing.effective = True

    def smartphone_ready(self, reader: str) -> bool:
        pairing = self.pairings.get(reader)
        return pairing is not None and pairing.effective

    def reads_phones(self, general: str) -> bool:
        """Whether a phone held on ``general`` reaches its PC/SC side: not once a pairing
        app that leaves it unable to (``pairing.phones_read_after: false``) registered it."""
        for pairing in self.pairings.values():
            app = self.readers[pairing.reader].behaviour.pairing
            if pairing.registered and pairing.general == general and app is not None \
                    and not app.phones_read_after:
                return False
        return True

    def takes_phone_from(self, reader: FaceAuthReaderTwin, general: str) -> bool:
        """Whether the app hands a phone on ``general`` to ``reader`` (its behaviour's
        ``smartphone.phones_from``; a reader that needs pairing: once it is in effect)."""
        seen = self.general_readers.get(general)
        if seen is None or not (seen.attached and seen.recognised):
            return False
        pairing = self.pairings.get(reader.name)
        paired = pairing.general if pairing is not None and pairing.effective else None
        needs = reader.behaviour.smartphone.needs_pairing
        if needs and paired is None:
            return False
        match reader.behaviour.smartphone.phones_from:
            case "paired":
                return general == paired
            case "any_general":
                return True
            case "other_general":
                return general != paired

    def phone_placed(self, general: str, phone: Phone,
                     transmit: Callable[[bytes], bytes]) -> list[str]:
        """A phone lies on ``general``: for each reader the app takes that reader's phones
        for, the app reads it through the terminal's PC/SC (``transmit``: the JPKI AP, its
        token) and, if the token says a phone, hands it to the reader. The readers that took
        it."""
        with self.clock.lock:
            wanting = [r for r in self.readers.values() if self.takes_phone_from(r, general)]
            if not wanting:
                return []
            answers = [transmit(bytes.fromhex(c)) for c in PHONE_READS]
            token = answers[-1]
            if token[-2:] != b"\x90\x00" or not token[:-2].startswith(PHONE_TOKENS):
                self.timeline.record(self.name, "phone.not_a_phone", general=general)
                return []
            return [r.name for r in wanting if r.phone_from_general(phone, general)]

    def general_reader_paired(self, reader: str) -> bool:
        pairing = self.pairings.get(reader)
        if pairing is None or not pairing.effective or pairing.general is None:
            return False
        seen = self.general_readers.get(pairing.general)
        return seen is not None and seen.attached

    # -- events from readers and the network -----------------------------------------------
    def reader_linked(self, reader: FaceAuthReaderTwin) -> None:
        if not self.distribution_disabled and self.network.up:
            reader.software_updated()

    def _cached(self, label: str | None = None) -> bool:
        """A result (of ``label``, or of anyone) younger than ``network.offline_results_s``
        (a deviation: 0 by default, so never)."""
        keep = self.behaviour.network.offline_results_s
        now = self.clock.now()
        return keep > 0 and any(now - r.t < keep and label in (None, r.card)
                                for r in self.results)

    def _network_changed(self, up: bool) -> None:
        if not up and self._cached():
            self.timeline.record(self.name, "terminal.offline_mode")
            return  # deviation: the cut hidden from the readers while the cache serves
        for reader in list(self.readers.values()):
            if reader.linked:
                reader.post("network_restored" if up else "network_lost")


#: What the app reads off a phone on a general reader: SELECT the JPKI AP, SELECT its token
#: EF, READ BINARY 32 bytes (the token: a phone's says JPKIAPGPSETOKEN or JPKIAPIOSTOKEN).
PHONE_READS = ("00A4040C0AD392F000260100000001", "00A4020C020006", "00B0000020")
PHONE_TOKENS = (b"JPKIAPGPSETOKEN", b"JPKIAPIOSTOKEN")


class PairingSession:
    """The maker's management app, pairing a general reader (SP-04, SP-06).

    The app pairs only with the face-auth reader linked and on its first screen (the support vendor's お知らせ:
    顔認証付きカードリーダーが資格確認端末(PC)に接続され、実物のマイナンバーカードで受付可能な状態で),
    else it refuses and says so (its wording is the twin's own: the notice gives none). It
    reads the real card placed on the general reader through the terminal's PC/SC (the
    ``transmit`` the bench gives it): the behaviour's ``card_reads``, and registers only a
    card whose JPKI token says a My Number card."""

    #: The twin's own wording (no notice gives the app's message).
    REFUSED = "顔認証付きカードリーダーが接続されていないか、カードを受け付けられる状態ではありません"
    NOT_A_CARD = "マイナンバーカードを読み取れませんでした"

    def __init__(self, terminal: TerminalTwin, reader: FaceAuthReaderTwin) -> None:
        assert reader.behaviour.pairing is not None
        self.terminal = terminal
        self.reader = reader
        self.app = reader.behaviour.pairing
        self.pairing = Pairing(reader.name)
        #: What the app says it refused for (None: it goes on).
        self.refused: str | None = None
        accepting = reader.linked and reader.screen().shows == "first"
        if self.app.needs_face_reader and not accepting:
            self.refused = self.REFUSED
        terminal.timeline.record(terminal.name, "pairing.opened", reader=reader.name,
                                 app=self.app.app, refused=self.refused is not None)

    def shown_readers(self) -> list[str]:
        """The general readers the app lists, by the name it shows."""
        return self.terminal.recognised_general_readers()

    def press_placed(self) -> bool:
        """「置いた」: only for apps that want the card in the face-auth reader first."""
        if self.refused or not self.app.card_into_face_reader_first or self.reader.card is None:
            return False
        self.pairing.placed_pressed = True
        return True

    def place_card_on(self, general: str, transmit: Callable[[bytes], bytes] | None) -> bool:
        """The card is on ``general``: the app reads it (``transmit``: the terminal's PC/SC
        to that reader; None: it cannot reach it)."""
        seen = self.terminal.general_readers.get(general)
        if self.refused or seen is None or not (seen.attached and seen.recognised):
            return False
        if transmit is None:
            self.refused = self.NOT_A_CARD
            return False
        answers = [transmit(bytes.fromhex(c)) for c in self.app.card_reads]
        if not any(a[-2:] == b"\x90\x00" and a[:-2].startswith(b"JPKIAPICCTOKEN")
                   for a in answers):
            self.refused = self.NOT_A_CARD
            return False
        self.pairing.general = general
        self.pairing.card_on_general = True
        return True

    def register(self) -> bool:
        """設置完了・ペアリング登録."""
        p = self.pairing
        if self.refused or not p.card_on_general or (
                self.app.card_into_face_reader_first and not p.placed_pressed):
            self.terminal.timeline.record(self.terminal.name, "pairing.refused",
                                          reader=self.reader.name, message=self.outcome())
            return False
        p.registered = True
        self.terminal.pairings[self.reader.name] = p
        self.terminal.timeline.record(
            self.terminal.name, "pairing.registered", reader=self.reader.name, general=p.general
        )
        return True

    def outcome(self) -> str:
        """What the app says at the end: ``registered``, or ``refused: <message>``."""
        if self.pairing.registered:
            return "registered"
        return f"refused: {self.refused or 'ペアリングできませんでした'}"
