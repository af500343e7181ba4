"""The simulated reader: synthetic cards through a software SAM, with injectable faults.

It speaks real frames through the codec (so the demo exercises the same path as hardware) and serves
synthetic people only. Spec: ``sim`` or ``sim:seed=3,count=5,county=150121,birth_year=2010,fault=no_card,cycle=2``
(the demo points it at the same synthetic people as its queue).
Faults: ``no_card``, ``remove_mid_read``, ``timeout`` (reader stops answering), ``corrupt`` (every
response checksum broken), ``gone`` (unplugged), ``sw3=0x41`` (the SAM answers that status to reads).
"""

from __future__ import annotations

import threading
import time

from station.idcard.emulator import SamEmulator, synthetic_chips
from station.idcard.errors import ReaderGoneError, ReaderSpecError, ReaderTimeoutError
from station.idcard.frames import FrameDecoder, Response, parse_response
from station.idcard.transports.base import FrameChannel, ReaderInfo, SamOptions, SamReader
from sync.protocol.card import ChipData

FAULTS = ("no_card", "remove_mid_read", "timeout", "corrupt", "gone")


class LoopbackChannel(FrameChannel):
    """Hands request frames to an in-process SamEmulator and decodes its answers like any line."""

    def __init__(self, emulator: SamEmulator, fault: str | None = None) -> None:
        self.emulator = emulator
        self.fault = fault
        self._stop = threading.Event()

    def transact(self, request: bytes, timeout: float) -> Response:
        if self.fault == "gone":
            raise ReaderGoneError(detail="simulated unplug")
        if self.fault == "timeout":
            self._stop.wait(timeout)  # a silent reader: the caller waits exactly its timeout, no longer
            raise ReaderTimeoutError(detail="simulated silence")
        answer = bytearray(self.emulator.handle(request))
        if self.fault == "corrupt":
            answer[-1] ^= 0x5A
        decoder = FrameDecoder(min_body=4)
        decoder.feed(bytes(answer))
        frame = decoder.take()
        assert frame is not None
        return parse_response(frame)

    def close(self) -> None:
        self._stop.set()


class SimulatedReader(SamReader):
    """A reader with a synthetic card on it. ``cycle`` > 0 presents the next person after each read."""

    def __init__(
        self,
        seed: int = 0,
        count: int = 5,
        fault: str | None = None,
        cycle: float = 0.0,
        options: SamOptions | None = None,
        county_code6: str = "150102",
        birth_year: int = 2010,
    ) -> None:
        super().__init__(ReaderInfo("sim", "sim", "simulated reader with synthetic cards"), options)
        self.emulator = SamEmulator()
        self.chips = synthetic_chips(count, county_code6, seed, birth_year)
        self.fault = fault
        self.cycle = cycle
        self._next = 0
        self._read_at: float | None = None
        self._next_requested = threading.Event()
        self._unplugged = False
        if fault and fault.startswith("sw3="):
            self.emulator.forced[(0x30, 0x01)] = self.emulator.forced[(0x30, 0x10)] = int(fault[4:], 16)
        elif fault == "remove_mid_read":
            self.emulator.remove_on = (0x30, 0x01)
        elif fault is not None and fault not in FAULTS:
            raise ReaderSpecError(detail=f"unknown simulator fault {fault!r}")
        if fault != "no_card":
            self.present_next()

    def present_next(self) -> None:
        """Put the next synthetic person's card on the reader."""
        self.emulator.place(self.chips[self._next % len(self.chips)])
        self._next += 1
        self._read_at = None

    def request_next(self) -> None:
        """Put the next person's card on the reader at the next poll (any thread: the demo's key)."""
        self._next_requested.set()

    def set_plugged(self, plugged: bool) -> None:
        """Pull or reinsert the simulated USB cable: unplugged, every exchange fails as a gone reader."""
        self._unplugged = not plugged
        channel = self._channel
        if isinstance(channel, LoopbackChannel):
            channel.fault = "gone" if self._unplugged else self._channel_fault()

    def _channel_fault(self) -> str | None:
        if self._unplugged:
            return "gone"
        return self.fault if self.fault in ("timeout", "corrupt", "gone") else None

    def _open_channel(self) -> LoopbackChannel:
        return LoopbackChannel(self.emulator, self._channel_fault())

    def card_present(self, timeout: float = 1.0) -> bool:
        if self._next_requested.is_set():
            self._next_requested.clear()
            self.present_next()
        elif self.cycle and self._read_at is not None and time.monotonic() - self._read_at >= self.cycle:
            self.present_next()
        return super().card_present(timeout)

    def read_card(self, timeout: float = 5.0, *, fingerprint: bool = False) -> ChipData:
        chip = super().read_card(timeout, fingerprint=fingerprint)
        self._read_at = time.monotonic()
        return chip


def from_spec(options_text: str) -> SimulatedReader:
    """``seed=3,count=5,fault=no_card,cycle=2`` → SimulatedReader."""
    kwargs: dict[str, object] = {}
    for part in filter(None, options_text.split(",")):
        key, _, value = part.partition("=")
        if key in ("seed", "count", "birth_year"):
            kwargs[key] = int(value)
        elif key == "county":
            kwargs["county_code6"] = value
        elif key == "cycle":
            kwargs[key] = float(value)
        elif key == "fault":
            kwargs[key] = value
        else:
            raise ReaderSpecError(detail=f"unknown simulator option {key!r}")
    try:
        return SimulatedReader(**kwargs)  # type: ignore[arg-type]
    except ValueError:
        raise ReaderSpecError(detail="bad simulator option") from None
