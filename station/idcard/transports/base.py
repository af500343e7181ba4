"""The one reader interface, and the SAM read sequence shared by every frame-speaking transport.

``Reader`` is what the rest of the station sees: ``open``, ``card_present``, ``read_card``, ``close``.
``FrameChannel`` is the narrow waist under the serial, USB-bulk and simulated readers: send one
request frame, get one decoded response within a deadline. ``SamReader`` runs the recommended
sequence (find → select → read) over any channel.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from station.idcard import commands as cmd
from station.idcard.errors import (
    CardError,
    CardRemovedError,
    FrameError,
    IdCardError,
    ReaderTimeoutError,
    officer_chip_errors,
    sam_status_error,
)
from station.idcard.frames import HEADER_SIZE, FrameDecoder, Response, response_from_body
from sync.protocol.card import ChipData
from sync.protocol.chiptext import parse_new_address, parse_text


@dataclass(frozen=True)
class ReaderInfo:
    """How a reader is reached: ``spec`` (e.g. ``serial:/dev/ttyUSB0``), ``kind`` and a description."""

    spec: str
    kind: str
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"spec": self.spec, "kind": self.kind, "description": self.description}


class Reader(ABC):
    """A card reader, whatever the wire. Every call returns or raises a typed error within its timeout."""

    info: ReaderInfo
    # True when card_present tracks the card physically (PC/SC); SAM readers only see new cards.
    reports_presence = False

    def open(self) -> None:  # noqa: B027 - optional hook
        """Acquire the device; readers that need nothing leave it empty."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the device; safe to call twice."""

    @abstractmethod
    def card_present(self, timeout: float = 1.0) -> bool:
        """True when a card is ready to be read (for SAM readers: a new card answered 'find')."""

    @abstractmethod
    def read_card(self, timeout: float = 5.0, *, fingerprint: bool = False) -> ChipData:
        """Read the card on the reader: ChipData, or NoCardError / CardError / ReaderError."""

    def __enter__(self) -> Reader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FrameChannel(ABC):
    """Sends one SAM request frame and returns the decoded response."""

    @abstractmethod
    def transact(self, request: bytes, timeout: float) -> Response: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class StreamChannel(FrameChannel):
    """A FrameChannel over a byte stream (serial line, USB endpoints): subclasses move raw bytes."""

    @abstractmethod
    def _write(self, data: bytes, timeout: float) -> None: ...

    @abstractmethod
    def _read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes; may return fewer (or none) when ``timeout`` passes."""

    def _discard_input(self) -> None:
        pass

    _dirty = False  # a previous exchange failed: its late answer may still be on the way

    def transact(self, request: bytes, timeout: float) -> Response:
        deadline = time.monotonic() + timeout
        self._discard_input()
        self._dirty = True
        self._write(request, timeout)
        decoder = FrameDecoder(min_body=4)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReaderTimeoutError(detail=f"{decoder.pending()} bytes received")
            chunk = self._read(decoder.needed(), remaining)
            if chunk:
                decoder.feed(chunk)
                frame = decoder.take()
                if frame is not None:
                    self._dirty = False
                    return response_from_body(frame[HEADER_SIZE:-1])  # take() verified length and checksum


@dataclass
class SamTimeouts:
    """Per-command timeouts in seconds (open implementations use 0.2–0.8 s find, up to 2 s read)."""

    status: float = 2.0
    find: float = 1.0
    select: float = 1.0
    read: float = 3.0
    other: float = 1.0


@dataclass
class SamOptions:
    timeouts: SamTimeouts = field(default_factory=SamTimeouts)
    frame_retries: int = 1  # a corrupted response is asked for again this many times
    read_sam_id: bool = True
    read_new_address: bool = False


class SamReader(Reader):
    """The SAM read sequence over a FrameChannel (serial, USB bulk, simulator)."""

    def __init__(self, info: ReaderInfo, options: SamOptions | None = None) -> None:
        self.info = info
        self.options = options or SamOptions()
        self._channel: FrameChannel | None = None
        self.sam_id: str | None = None
        self._sam_id_refused = False

    @abstractmethod
    def _open_channel(self) -> FrameChannel: ...

    def open(self) -> None:
        if self._channel is None:
            self._channel = self._open_channel()

    def close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

    def _send(self, request: bytes, timeout: float, deadline: float | None = None) -> Response:
        self.open()
        assert self._channel is not None
        attempts = self.options.frame_retries + 1
        for attempt in range(attempts):
            budget = timeout if deadline is None else min(timeout, deadline - time.monotonic())
            if budget <= 0:
                raise ReaderTimeoutError(detail="read deadline passed")
            try:
                return self._channel.transact(request, budget)
            except FrameError:
                if attempt + 1 == attempts:
                    raise
        raise AssertionError("unreachable")

    def status(self, timeout: float | None = None) -> int:
        """Send the SAM status frame; returns SW3 (0x90 = ready). Used to probe ports."""
        return self._send(cmd.SAM_STATUS, timeout or self.options.timeouts.status).sw3

    def read_sam_id(self, timeout: float | None = None) -> str:
        response = self._send(cmd.SAM_ID, timeout or self.options.timeouts.other)
        if response.sw3 != cmd.SW_OK:
            raise sam_status_error(response.sw3)
        self.sam_id = cmd.format_sam_id(response.data)
        return self.sam_id

    def _read_failure(self, sw3: int, deadline: float) -> IdCardError:
        """A failed select/read: if the card no longer answers 'find', it was pulled away mid-read."""
        if sw3 in (0x41, 0x81) and deadline - time.monotonic() > 0.05:
            try:
                if self._send(cmd.FIND_CARD, self.options.timeouts.find, deadline).sw3 == cmd.SW_NO_CARD:
                    return CardRemovedError(detail=f"SW3=0x{sw3:02X}")
            except IdCardError:
                pass
        return sam_status_error(sw3)

    def card_present(self, timeout: float = 1.0) -> bool:
        response = self._send(cmd.FIND_CARD, min(timeout, self.options.timeouts.find))
        if response.sw3 == cmd.SW_FOUND:
            return True
        if response.sw3 == cmd.SW_NO_CARD:
            return False
        raise sam_status_error(response.sw3)

    def read_card(self, timeout: float = 5.0, *, fingerprint: bool = False) -> ChipData:
        deadline = time.monotonic() + timeout
        t = self.options.timeouts
        if self.options.read_sam_id and self.sam_id is None and not self._sam_id_refused:
            try:
                self.read_sam_id(min(t.other, timeout))
            except CardError:  # a SAM that will not tell its ID can still read cards
                self._sam_id_refused = True
        found = self._send(cmd.FIND_CARD, t.find, deadline)
        if found.sw3 == cmd.SW_NO_CARD:  # Routon retries once: the RF field may need a moment
            found = self._send(cmd.FIND_CARD, t.find, deadline)
        if found.sw3 != cmd.SW_FOUND:
            raise sam_status_error(found.sw3)
        selected = self._send(cmd.SELECT_CARD, t.select, deadline)
        if selected.sw3 != cmd.SW_OK:
            raise self._read_failure(selected.sw3, deadline)
        request = cmd.READ_BASE_FP if fingerprint else cmd.READ_BASE
        response = self._send(request, t.read, deadline)
        if response.sw3 != cmd.SW_OK:
            raise self._read_failure(response.sw3, deadline)
        message = cmd.parse_base_message(response.data, with_fingerprint=fingerprint)
        with officer_chip_errors():
            chip = parse_text(message.text)
        new_address = None
        if self.options.read_new_address:
            extra = self._send(cmd.READ_NEW_ADDRESS, t.other, deadline)
            if extra.sw3 == cmd.SW_OK:
                with officer_chip_errors():
                    new_address = parse_new_address(extra.data)
        return chip.with_reader_data(
            raw_wlt=message.photo,
            fingerprint=message.fingerprint or None,
            sam_id=self.sam_id,
            new_address=new_address,
        )
