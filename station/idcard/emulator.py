"""A SAM module in software: answers request frames the way a certified reader's SAM does.

Used by the simulated reader (demo, officer training) and, behind a pty or a USB double, by the tests
and the benchmark. It keeps the quirk that matters to the desk: after a successful read, 'find'
answers 80 until the card leaves the field and comes back. Cards are synthetic people only.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import date

from station.idcard import commands as cmd
from station.idcard.errors import ChecksumError, FrameError
from station.idcard.frames import build_response, parse_command
from sync.protocol import synthetic
from sync.protocol.card import ChipData
from sync.protocol.chiptext import encode_text

DEFAULT_SAM_ID = "05.01-20120411-0002011994-0000004242"


@dataclass
class EmulatedCard:
    text: bytes
    wlt: bytes
    fingerprint: bytes | None = None
    new_address: bytes | None = None

    @classmethod
    def from_chip(cls, chip: ChipData, fingerprint: bytes | None = None) -> EmulatedCard:
        return cls(encode_text(chip), chip.raw_wlt or synthetic_wlt(chip.id_number), fingerprint)


def synthetic_wlt(seed: str) -> bytes:
    """1024 deterministic bytes standing in for a WLT photo (real WLT data is never used in tests)."""
    out = b""
    counter = 0
    while len(out) < 1024:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out[:1024]


def synthetic_chip(person: synthetic.SyntheticPerson, *, valid_until: date = date(2029, 3, 1)) -> ChipData:
    """The resident card a synthetic person would carry, with its encoded text block and a synthetic WLT."""
    chip = ChipData(
        card_type="resident",
        name=person.name,
        name_en=None,
        sex=person.sex,
        nation=person.nation,
        birth_date=person.birth_date,
        address=person.address,
        id_number=person.id_number,
        issuer=person.issuer,
        valid_from=date(2024, 3, 1),
        valid_until=valid_until,
        raw_text=b"",
        raw_wlt=synthetic_wlt(person.id_number),
    )
    return chip.with_reader_data(raw_text=encode_text(chip))


def synthetic_chips(
    count: int = 5, county_code6: str = "150102", seed: int = 0, birth_year: int = 2010
) -> list[ChipData]:
    """Resident-card ChipData for synthetic people (``sync.protocol.synthetic``, same seed → same people)."""
    return [
        synthetic_chip(p) for p in synthetic.people(count, county_code6, seed=seed, birth_year=birth_year)
    ]


@dataclass
class SamEmulator:
    """State of one SAM and the card in its field. Thread-safe: tests move cards while a reader reads.

    ``forced`` maps a command (cmd, para) to an SW3 it must answer instead (fault injection);
    ``remove_on`` removes the card when that command arrives (a card pulled away mid-read).
    """

    sam_id: str = DEFAULT_SAM_ID
    card: EmulatedCard | None = None
    forced: dict[tuple[int, int], int] = field(default_factory=dict)
    remove_on: tuple[int, int] | None = None
    selftest_ok: bool = True
    _read_done: bool = False
    _selected: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0

    def place(self, card: EmulatedCard | ChipData) -> None:
        with self._lock:
            self.card = card if isinstance(card, EmulatedCard) else EmulatedCard.from_chip(card)
            self._read_done = self._selected = False

    def remove(self) -> None:
        with self._lock:
            self.card = None
            self._read_done = self._selected = False

    def handle(self, request: bytes) -> bytes:
        """One request frame in, one response frame out (a bad frame gets SW3 10/11 like a real SAM)."""
        try:
            command = parse_command(request)
        except ChecksumError:
            return build_response(0x10)
        except FrameError:
            return build_response(0x11)
        with self._lock:
            self.requests += 1
            key = (command.cmd, command.para)
            if key == self.remove_on:
                self.card = None
                self._read_done = self._selected = False
            if key in self.forced:
                return build_response(self.forced[key])
            return self._answer(key)

    def _answer(self, key: tuple[int, int]) -> bytes:
        card = self.card
        if key in ((0x10, 0xFF), (0x11, 0xFF)):
            return build_response(0x90 if self.selftest_ok else 0x60)
        if key == (0x12, 0xFF):
            return build_response(0x90, cmd.sam_id_bytes(self.sam_id))
        if key == (0x20, 0x01):
            if card is None or self._read_done:
                return build_response(0x80)
            return build_response(0x9F, b"\0" * 4)
        if key == (0x20, 0x02):
            if card is None:
                return build_response(0x81)
            self._selected = True
            return build_response(0x90, b"\0" * 8)
        if key in ((0x30, 0x01), (0x30, 0x10)):
            if card is None or not self._selected:
                return build_response(0x41)
            self._read_done = True
            fingerprint = (card.fingerprint or b"") if key == (0x30, 0x10) else None
            return build_response(0x90, cmd.build_base_message(card.text, card.wlt, fingerprint))
        if key == (0x30, 0x03):
            if card is None or not self._selected:
                return build_response(0x41)
            return build_response(0x90, card.new_address) if card.new_address else build_response(0x91)
        if key[0] in (0x60, 0x61):
            return build_response(0x90)
        return build_response(0x21)
