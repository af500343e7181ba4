"""Vendor SDK readers (``sdtapi``-style libraries) through ctypes; ``termb`` libraries in ``termb``.

The library returns the same raw text and photo bytes as the frame protocol; every ``SDT_*`` call
returns the SAM status (SW3). Vendor calls block inside C and may hang, so each runs on one worker
thread (the libraries are not thread-safe) and the caller waits at most its timeout; a call that
overruns leaves the reader marked unusable until it is reopened.
Port numbers: 1001–1016 are USB devices, 1–16 serial ports; ``auto`` scans USB first.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable
from typing import Any

from station.idcard import commands as cmd
from station.idcard.errors import (
    CardRemovedError,
    NoReaderError,
    ReaderGoneError,
    ReaderSpecError,
    ReaderTimeoutError,
    officer_chip_errors,
    sam_status_error,
)
from station.idcard.transports.base import Reader, ReaderInfo
from station.idcard.transports.worker import DeviceWorker
from sync.protocol.card import ChipData
from sync.protocol.chiptext import parse_text

SCAN_PORTS = (*range(1001, 1017), *range(1, 17))
_U8P = ctypes.POINTER(ctypes.c_ubyte)
_UIP = ctypes.POINTER(ctypes.c_uint)
_SIGNATURES: dict[str, list[Any]] = {
    "SDT_OpenPort": [ctypes.c_int],
    "SDT_ClosePort": [ctypes.c_int],
    "SDT_GetSAMStatus": [ctypes.c_int, ctypes.c_int],
    "SDT_GetSAMID": [ctypes.c_int, _U8P, ctypes.c_int],
    "SDT_StartFindIDCard": [ctypes.c_int, _U8P, ctypes.c_int],
    "SDT_SelectIDCard": [ctypes.c_int, _U8P, ctypes.c_int],
    "SDT_ReadBaseMsg": [ctypes.c_int, _U8P, _UIP, _U8P, _UIP, ctypes.c_int],
    "SDT_ReadBaseFPMsg": [ctypes.c_int, _U8P, _UIP, _U8P, _UIP, _U8P, _UIP, ctypes.c_int],
}
_OPTIONAL = {"SDT_GetSAMID", "SDT_ReadBaseFPMsg", "SDT_GetSAMStatus"}


def load_dll(path: str) -> Any:
    """The vendor library at ``path``, as the platform loads it (no signatures declared yet)."""
    try:
        return ctypes.WinDLL(path) if sys.platform == "win32" else ctypes.CDLL(path)  # type: ignore[attr-defined]
    except OSError as error:
        raise NoReaderError(detail=f"cannot load vendor library: {type(error).__name__}") from None


def load_library(path: str) -> Any:
    """The sdtapi library with its function signatures declared."""
    lib = load_dll(path)
    for name, argtypes in _SIGNATURES.items():
        if not hasattr(lib, name):
            if name in _OPTIONAL:
                continue
            raise ReaderSpecError(detail=f"vendor library lacks {name}")
        func = getattr(lib, name)
        func.argtypes, func.restype = argtypes, ctypes.c_int
    return lib


class SdkReader(Reader):
    """A reader behind an sdtapi-style vendor library. ``port`` None scans 1001–1016 then 1–16."""

    def __init__(self, library: str, port: int | None = None, call_timeout: float = 3.0) -> None:
        self.library_path = library
        self.port = port
        self.call_timeout = call_timeout
        self.info = ReaderInfo(
            f"sdk:{library}" + (f"#{port}" if port else ""), "sdk", f"vendor SDK {library}"
        )
        self._lib: Any = None
        self._worker: DeviceWorker | None = None
        self._open_port: int | None = None
        self.sam_id: str | None = None

    def _call(self, name: str, *args: Any, timeout: float | None = None) -> int:
        assert self._worker is not None
        func = getattr(self._lib, name)
        try:
            return int(self._worker.call(lambda: func(*args), timeout or self.call_timeout))
        except ReaderTimeoutError:
            self._abandon()
            raise

    def _abandon(self) -> None:
        # The stuck call keeps the old worker; a fresh open starts a new one.
        self._worker = None
        self._open_port = None

    def open(self) -> None:
        if self._open_port is not None:
            return
        if self._lib is None:
            self._lib = load_library(self.library_path)
        self._worker = self._worker or DeviceWorker("idcard-sdk")
        for port in (self.port,) if self.port else SCAN_PORTS:
            if self._call("SDT_OpenPort", port) == cmd.SW_OK:
                self._open_port = port
                self.info = ReaderInfo(f"sdk:{self.library_path}#{port}", "sdk", f"vendor SDK, port {port}")
                return
        raise NoReaderError(detail="the vendor library found no reader on any port")

    def close(self) -> None:
        if self._open_port is not None and self._worker is not None:
            try:
                self._call("SDT_ClosePort", self._open_port, timeout=1.0)
            except ReaderTimeoutError:
                pass
        if self._worker is not None:
            self._worker.stop()
        self._worker, self._open_port = None, None

    def card_present(self, timeout: float = 1.0) -> bool:
        self.open()
        iin = (ctypes.c_ubyte * 4)()
        sw3 = self._call("SDT_StartFindIDCard", self._open_port, iin, 0, timeout=timeout)
        if sw3 in (cmd.SW_FOUND, cmd.SW_NO_CARD):
            return sw3 == cmd.SW_FOUND
        raise sam_status_error(sw3)

    def read_card(self, timeout: float = 5.0, *, fingerprint: bool = False) -> ChipData:
        deadline = time.monotonic() + timeout
        self.open()
        port = self._open_port

        def left() -> float:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReaderTimeoutError(detail="read deadline passed")
            return remaining

        if self.sam_id is None and hasattr(self._lib, "SDT_GetSAMID"):
            raw = (ctypes.c_ubyte * 16)()
            if self._call("SDT_GetSAMID", port, raw, 0, timeout=left()) == cmd.SW_OK:
                self.sam_id = cmd.format_sam_id(bytes(raw))
        iin, sn = (ctypes.c_ubyte * 4)(), (ctypes.c_ubyte * 8)()
        sw3 = self._call("SDT_StartFindIDCard", port, iin, 0, timeout=left())
        if sw3 == cmd.SW_NO_CARD:
            sw3 = self._call("SDT_StartFindIDCard", port, iin, 0, timeout=left())
        if sw3 != cmd.SW_FOUND:
            raise sam_status_error(sw3)
        sw3 = self._call("SDT_SelectIDCard", port, sn, 0, timeout=left())
        if sw3 != cmd.SW_OK:
            raise self._failure(sw3, port, left)
        text, photo, fp = (ctypes.c_ubyte * 512)(), (ctypes.c_ubyte * 2048)(), (ctypes.c_ubyte * 2048)()
        text_len, photo_len, fp_len = ctypes.c_uint(0), ctypes.c_uint(0), ctypes.c_uint(0)
        if fingerprint and hasattr(self._lib, "SDT_ReadBaseFPMsg"):
            args = (
                port,
                text,
                ctypes.byref(text_len),
                photo,
                ctypes.byref(photo_len),
                fp,
                ctypes.byref(fp_len),
                0,
            )
            sw3 = self._call("SDT_ReadBaseFPMsg", *args, timeout=left())
        else:
            args2 = (port, text, ctypes.byref(text_len), photo, ctypes.byref(photo_len), 0)
            sw3 = self._call("SDT_ReadBaseMsg", *args2, timeout=left())
        if sw3 != cmd.SW_OK:
            raise self._failure(sw3, port, left)
        if text_len.value > len(text) or photo_len.value > len(photo) or fp_len.value > len(fp):
            raise ReaderGoneError(detail="vendor library reported impossible lengths", code="sdk_lengths")
        with officer_chip_errors():
            chip = parse_text(bytes(text)[: text_len.value])
        fingerprint_bytes = bytes(fp)[: fp_len.value] if fp_len.value else None
        return chip.with_reader_data(
            raw_wlt=bytes(photo)[: photo_len.value], fingerprint=fingerprint_bytes, sam_id=self.sam_id
        )

    def _failure(self, sw3: int, port: int | None, left: Callable[[], float]) -> Exception:
        if sw3 in (0x41, 0x81):
            try:
                iin = (ctypes.c_ubyte * 4)()
                if self._call("SDT_StartFindIDCard", port, iin, 0, timeout=left()) == cmd.SW_NO_CARD:
                    return CardRemovedError(detail=f"SW3=0x{sw3:02X}")
            except ReaderTimeoutError:
                pass
        return sam_status_error(sw3)
