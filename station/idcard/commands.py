"""The SAM command set, the SAM ID format and the layout of the read-base-message response.

Pure functions and constants; no I/O. Transports that speak frames (serial, USB bulk, the simulator)
run the read sequence in ``station.idcard.transports.base.SamReader`` using these builders.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from station.i18n import Text
from station.idcard.errors import ChipDataError, FrameLengthError
from station.idcard.frames import build_command

SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_CONTENT = 0x91
SW_NO_CARD = 0x80

RESET_SAM = build_command(0x10, 0xFF)
SAM_STATUS = build_command(0x11, 0xFF)
SAM_ID = build_command(0x12, 0xFF)
FIND_CARD = build_command(0x20, 0x01)
SELECT_CARD = build_command(0x20, 0x02)
READ_BASE = build_command(0x30, 0x01)
READ_BASE_FP = build_command(0x30, 0x10)
READ_NEW_ADDRESS = build_command(0x30, 0x03)
READ_MANAGEMENT_NO = build_command(0x30, 0x05)

TEXT_SIZE = 256
PHOTO_SIZE = 1024


def set_baud(code: int) -> bytes:
    """``60 xx``: 00 115200, 01 57600, 02 38400, 03 19200, 04 9600 (switch host baud only after the reply)."""
    return build_command(0x60, code)


def set_max_rf_frame(size: int) -> bytes:
    return build_command(0x61, 0xFF, bytes([size]))


def format_sam_id(data: bytes) -> str:
    """The canonical SAM ID string ``%02d.%02d-%08u-%010u-%010u`` from the 16 little-endian data bytes."""
    if len(data) < 16:
        raise FrameLengthError(detail=f"SAM ID of {len(data)} bytes")
    a, b, date, n1, n2 = struct.unpack("<HHIII", data[:16])
    return f"{a:02d}.{b:02d}-{date:08d}-{n1:010d}-{n2:010d}"


def sam_id_bytes(text: str) -> bytes:
    """Inverse of ``format_sam_id`` (for emulators and tests)."""
    head, date, n1, n2 = text.split("-")
    a, b = head.split(".")
    return struct.pack("<HHIII", int(a), int(b), int(date), int(n1), int(n2))


@dataclass(frozen=True)
class BaseMessage:
    """The raw blocks of a ``30 01`` / ``30 10`` response."""

    text: bytes
    photo: bytes
    fingerprint: bytes | None


_BAD_LAYOUT = Text(zh="证件数据长度不符", en="The card data lengths do not add up")


def parse_base_message(data: bytes, with_fingerprint: bool) -> BaseMessage:
    """Split the data of a ``30 01`` (TL PL) or ``30 10`` (TL PL FL) response using its own lengths."""
    head = 6 if with_fingerprint else 4
    if len(data) < head:
        raise ChipDataError(_BAD_LAYOUT, code="chip_layout", detail=f"{len(data)} data bytes")
    text_len = (data[0] << 8) | data[1]
    photo_len = (data[2] << 8) | data[3]
    fp_len = ((data[4] << 8) | data[5]) if with_fingerprint else 0
    if head + text_len + photo_len + fp_len != len(data):
        raise ChipDataError(
            _BAD_LAYOUT,
            code="chip_layout",
            detail=f"TL={text_len} PL={photo_len} FL={fp_len} data={len(data)}",
        )
    text = data[head : head + text_len]
    photo = data[head + text_len : head + text_len + photo_len]
    fingerprint = data[head + text_len + photo_len :] if with_fingerprint else None
    return BaseMessage(bytes(text), bytes(photo), bytes(fingerprint) if fingerprint is not None else None)


def build_base_message(text: bytes, photo: bytes, fingerprint: bytes | None = None) -> bytes:
    """The data part of a read-base-message response (for emulators and tests)."""
    head = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprint is None:
        return head + text + photo
    return head + len(fingerprint).to_bytes(2, "big") + text + photo + fingerprint


def parse_base_message_any(data: bytes) -> BaseMessage:
    """Split response data whose command is unknown (a saved frame): try ``30 01`` then ``30 10``."""
    if len(data) >= 4 and 4 + ((data[0] << 8) | data[1]) + ((data[2] << 8) | data[3]) == len(data):
        return parse_base_message(data, with_fingerprint=False)
    return parse_base_message(data, with_fingerprint=True)
