"""PC/SC readers through pyscard: reader listing, the chip serial, and page-profile data reads.

A plain contactless reader reaches only the chip serial (``00 36 00 00 08``); some certified readers
hand the decrypted text and photo through pseudo-APDUs described by a page profile
(``resources/idcard/pcsc_profiles.json``), so another reader's layout is configuration, not code.
All calls into the PC/SC client run on one worker thread so every read honours its timeout even if
the service stalls. Presence events and the service watchdog live in ``pcsc_monitor``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from smartcard import scard

from station.idcard.errors import (
    CardRemovedError,
    IdCardError,
    NoCardError,
    NoReaderError,
    PersonalDataUnavailableError,
    ReaderError,
    ReaderGoneError,
    ReaderTimeoutError,
    ServiceGoneError,
    officer_chip_errors,
)
from station.idcard.transports.base import Reader, ReaderInfo
from station.idcard.transports.worker import DeviceWorker
from sync.protocol.card import ChipData
from sync.protocol.chiptext import parse_text
from sync.protocol.resources import resource_path

SERVICE_GONE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_E_INVALID_HANDLE}
CARD_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD}
READER_GONE = {
    scard.SCARD_E_UNKNOWN_READER,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_NO_READERS_AVAILABLE,
}


def _code(hresult: int) -> int:
    return hresult & 0xFFFFFFFF


def error_for(hresult: int, reading: bool) -> IdCardError:
    """The typed error for a PC/SC result; ``reading`` tells a vanished card from one never there."""
    detail = f"PC/SC 0x{_code(hresult):08X}"
    code = _code(hresult)
    if code in {_code(c) for c in SERVICE_GONE}:
        return ServiceGoneError(detail=detail)
    if code in {_code(c) for c in CARD_GONE}:
        return CardRemovedError(detail=detail) if reading else NoCardError(detail=detail)
    if code in {_code(c) for c in READER_GONE}:
        return ReaderGoneError(detail=detail)
    if code == _code(scard.SCARD_W_UNRESPONSIVE_CARD):
        return NoCardError(detail=detail)
    return ReaderError(detail=detail, code="pcsc_error")


@dataclass(frozen=True)
class PageRead:
    apdu: bytes
    skip: int
    take: int
    into: str  # "text" or "photo"


@dataclass(frozen=True)
class PageProfile:
    name: str
    description: str
    atr_requires: tuple[tuple[int, bytes], ...]
    pages: tuple[PageRead, ...]

    def applies(self, atr: bytes) -> bool:
        return all(atr[offset : offset + len(value)] == value for offset, value in self.atr_requires)


@dataclass(frozen=True)
class ProfileSet:
    chip_serial_apdu: bytes
    profiles: tuple[PageProfile, ...]


def load_profiles(path: str | None = None) -> ProfileSet:
    source = resource_path("idcard", "pcsc_profiles.json") if path is None else path
    with open(source, encoding="utf-8") as handle:
        data = json.load(handle)
    profiles = tuple(
        PageProfile(
            name=entry["name"],
            description=entry.get("description", ""),
            atr_requires=tuple(
                (int(r["offset"]), bytes.fromhex(r["hex"])) for r in entry.get("atr_requires", [])
            ),
            pages=tuple(
                PageRead(bytes.fromhex(p["apdu"]), int(p["skip"]), int(p["take"]), p["into"])
                for p in entry["pages"]
            ),
        )
        for entry in data["profiles"]
    )
    return ProfileSet(bytes.fromhex(data.get("chip_serial_apdu", "0036000008")), profiles)


def list_reader_names(timeout: float = 2.0) -> list[str]:
    """Names of the PC/SC readers; [] when none; ServiceGoneError when pcscd is not running."""
    worker = DeviceWorker("idcard-pcsc-list")
    try:
        return worker.call(_list_once, timeout)
    finally:
        worker.stop()


def _list_once() -> list[str]:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise error_for(hresult, False)
    try:
        hresult, names = scard.SCardListReaders(context, [])
        if _code(hresult) == _code(scard.SCARD_E_NO_READERS_AVAILABLE):
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            raise error_for(hresult, False)
        return list(names)
    finally:
        scard.SCardReleaseContext(context)


class PcscReader(Reader):
    """One PC/SC reader slot. ``read_card`` needs a page profile; ``read_chip_serial`` works on any."""

    reports_presence = True

    def __init__(self, name: str, profiles: ProfileSet | None = None, call_timeout: float = 3.0) -> None:
        self.name = name
        self.profiles = profiles or load_profiles()
        self.call_timeout = call_timeout
        self.info = ReaderInfo(f"pcsc:{name}", "pcsc", f"PC/SC reader {name}")
        self._worker: DeviceWorker | None = None
        self._context: Any = None

    # -- plumbing: everything below runs on the worker thread --------------------------------------

    def _run(self, func: Any, timeout: float) -> Any:
        if self._worker is None:
            self._worker = DeviceWorker("idcard-pcsc")
        try:
            return self._worker.call(func, timeout)
        except ReaderTimeoutError:
            self._worker, self._context = None, None  # the stuck call keeps the old worker and context
            raise
        except ServiceGoneError:
            self._context = None
            raise

    def _ctx(self) -> Any:
        if self._context is None:
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult != scard.SCARD_S_SUCCESS:
                raise error_for(hresult, False)
            self._context = context
        return self._context

    def close(self) -> None:
        worker, context = self._worker, self._context
        self._worker, self._context = None, None
        if worker is not None:
            if context is not None:
                try:
                    worker.call(lambda: scard.SCardReleaseContext(context), 1.0)
                except IdCardError:
                    pass
            worker.stop()

    def _connect(self) -> tuple[Any, int, bytes]:
        hresult, card, protocol = scard.SCardConnect(
            self._ctx(),
            self.name,
            scard.SCARD_SHARE_SHARED,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
        )
        if hresult != scard.SCARD_S_SUCCESS:
            if _code(hresult) == _code(scard.SCARD_E_INVALID_HANDLE):
                self._context = None
            raise error_for(hresult, False)
        hresult, _reader, _state, _protocol, atr = scard.SCardStatus(card)
        if hresult != scard.SCARD_S_SUCCESS:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
            raise error_for(hresult, True)
        return card, protocol, bytes(atr)

    @staticmethod
    def _transmit(card: Any, protocol: int, apdu: bytes) -> tuple[bytes, int]:
        hresult, response = scard.SCardTransmit(card, protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            raise error_for(hresult, True)
        if len(response) < 2:
            raise ReaderError(detail="APDU response shorter than its status word", code="pcsc_short")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]

    # -- the Reader interface ----------------------------------------------------------------------

    def card_present(self, timeout: float = 1.0) -> bool:
        def query() -> bool:
            hresult, states = scard.SCardGetStatusChange(
                self._ctx(), 0, [(self.name, scard.SCARD_STATE_UNAWARE)]
            )
            if hresult != scard.SCARD_S_SUCCESS:
                raise error_for(hresult, False)
            return bool(states[0][1] & scard.SCARD_STATE_PRESENT)

        return self._run(query, timeout)

    def read_chip_serial(self, timeout: float = 3.0) -> str:
        def job() -> str:
            card, protocol, _atr = self._connect()
            try:
                data, sw = self._transmit(card, protocol, self.profiles.chip_serial_apdu)
            finally:
                scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)
            if sw != 0x9000 or not data:
                raise PersonalDataUnavailableError(detail=f"chip serial APDU answered {sw:04X}")
            return data.hex().upper()

        return self._run(job, timeout)

    def read_card(self, timeout: float = 5.0, *, fingerprint: bool = False) -> ChipData:
        deadline = time.monotonic() + timeout
        return self._run(lambda: self._read_job(deadline), timeout)

    def _read_job(self, deadline: float) -> ChipData:
        card, protocol, atr = self._connect()
        try:
            return self._read_connected(card, protocol, atr, deadline)
        except ReaderError as error:
            raise self._removed_or(error, deadline) from None
        finally:
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)

    def _read_connected(self, card: Any, protocol: int, atr: bytes, deadline: float) -> ChipData:
        data, sw = self._transmit(card, protocol, self.profiles.chip_serial_apdu)
        chip_serial = data.hex().upper() if sw == 0x9000 and data else None
        for profile in self.profiles.profiles:
            if not profile.applies(atr):
                continue
            blocks = self._read_pages(card, protocol, profile, deadline)
            if blocks is not None:
                text, photo = blocks
                with officer_chip_errors():
                    chip = parse_text(text)
                return chip.with_reader_data(raw_wlt=photo, chip_serial=chip_serial)
        raise PersonalDataUnavailableError(chip_serial=chip_serial, detail="no page profile answered")

    def _removed_or(self, error: IdCardError, deadline: float) -> IdCardError:
        """After a failed page: if the card has left the field it was pulled away mid-read."""
        if isinstance(error, ServiceGoneError):
            return error
        state = scard.SCARD_STATE_UNAWARE
        limit = min(deadline, time.monotonic() + 1.0)  # pcscd notices a vanished card within ~0.4 s
        while time.monotonic() < limit:
            hresult, states = scard.SCardGetStatusChange(self._ctx(), 100, [(self.name, state)])
            if hresult == scard.SCARD_S_SUCCESS:
                state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                if not state & scard.SCARD_STATE_PRESENT:
                    return CardRemovedError(detail=error.detail)
            elif _code(hresult) != _code(scard.SCARD_E_TIMEOUT):
                break
        return error

    def _read_pages(
        self, card: Any, protocol: int, profile: PageProfile, deadline: float
    ) -> tuple[bytes, bytes] | None:
        parts: dict[str, bytearray] = {"text": bytearray(), "photo": bytearray()}
        for index, page in enumerate(profile.pages):
            if time.monotonic() > deadline:
                raise ReaderTimeoutError(detail=f"page {index}")
            data, sw = self._transmit(card, protocol, page.apdu)
            if sw != 0x9000 or len(data) < page.skip + page.take:
                if index == 0:
                    return None  # this profile does not fit the reader
                raise ReaderError(
                    detail=f"page {index} answered {sw:04X}, {len(data)} bytes", code="pcsc_page"
                )
            parts[page.into] += data[page.skip : page.skip + page.take]
        return bytes(parts["text"]), bytes(parts["photo"])


def open_first() -> PcscReader:
    names = list_reader_names()
    if not names:
        raise NoReaderError(detail="no PC/SC reader")
    return PcscReader(names[0])
