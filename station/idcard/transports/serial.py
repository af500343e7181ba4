"""Serial / USB-CDC readers (pyserial, 115200 8N1) and probing ports with the SAM status frame."""

from __future__ import annotations

import os
import select

import serial as pyserial
from serial.tools import list_ports

from station.idcard.errors import IdCardError, ReaderGoneError, ReaderTimeoutError
from station.idcard.transports.base import ReaderInfo, SamOptions, SamReader, StreamChannel

DEFAULT_BAUD = 115200
try:  # pyserial lets termios errors through on a vanished tty (POSIX only)
    from termios import error as _TermiosError
except ImportError:  # Windows
    _TermiosError = OSError

PORT_ERRORS = (pyserial.SerialException, OSError, _TermiosError)
# pyserial re-applies termios on every timeout change, so reads poll in fixed slices instead.
POLL_SLICE = 0.02


class SerialChannel(StreamChannel):
    def __init__(self, port: str, baudrate: int = DEFAULT_BAUD) -> None:
        try:
            self._port = pyserial.Serial(
                port, baudrate, bytesize=8, parity="N", stopbits=1, timeout=POLL_SLICE
            )
        except (pyserial.SerialException, OSError, ValueError) as error:
            raise ReaderGoneError(
                detail=f"cannot open {port}: {type(error).__name__}", code="serial_open"
            ) from None
        self._port.write_timeout = 2.0

    def _discard_input(self) -> None:
        try:
            self._port.reset_input_buffer()
        except PORT_ERRORS:
            raise ReaderGoneError() from None

    def _write(self, data: bytes, timeout: float) -> None:
        try:
            self._port.write(data)
        except pyserial.SerialTimeoutException:
            raise ReaderTimeoutError(detail="write") from None
        except PORT_ERRORS:
            raise ReaderGoneError() from None

    def _read(self, size: int, timeout: float) -> bytes:
        fd = getattr(self._port, "fd", None)
        try:
            if fd is None:  # Windows: pyserial's own read, in slices
                return self._port.read(size)
            # POSIX: wait on the descriptor pyserial configured and take whatever has arrived, so a
            # frame costs one wake-up instead of a header read plus a body read.
            ready, _, _ = select.select([fd], [], [], min(timeout, 0.5))
            if not ready:
                return b""
            data = os.read(fd, max(size, 4096))
            if not data:
                raise ReaderGoneError(detail="end of file on the port")
            return data
        except PORT_ERRORS:
            raise ReaderGoneError() from None

    def close(self) -> None:
        try:
            self._port.close()
        except PORT_ERRORS:
            pass


class SerialReader(SamReader):
    def __init__(self, port: str, baudrate: int = DEFAULT_BAUD, options: SamOptions | None = None) -> None:
        super().__init__(
            ReaderInfo(f"serial:{port}", "serial", f"SAM reader on {port} ({baudrate} 8N1)"), options
        )
        self.port, self.baudrate = port, baudrate

    def _open_channel(self) -> SerialChannel:
        return SerialChannel(self.port, self.baudrate)


def candidate_ports() -> list[str]:
    """Serial ports the system knows (USB-serial bridges and CDC first)."""
    ports = sorted(list_ports.comports(), key=lambda p: (p.vid is None, p.device))
    return [p.device for p in ports]


def probe(port: str, timeout: float = 2.0, baudrate: int = DEFAULT_BAUD) -> bool:
    """True when a SAM answers the status frame on ``port`` within ``timeout``."""
    reader = SerialReader(port, baudrate)
    try:
        reader.status(timeout)
        return True
    except (IdCardError, ReaderTimeoutError):
        return False
    finally:
        reader.close()
