"""The SAM frame codec (GA 467): building and parsing frames, and an incremental stream decoder.

Frame: ``AA AA AA 96 69 | LEN(2, big-endian) | body | CHK`` where LEN counts body + CHK and CHK is the
XOR of LEN_H up to the last body byte. Frames are cut by length, never by delimiter (payloads contain
``AA`` and ``00``), and the decoder resynchronises on the next preamble after garbage or a bad frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.idcard.errors import ChecksumError, FrameLengthError, TruncatedFrameError

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE = len(PREAMBLE) + 2
# The largest real response is 2321 bytes (30 10 with two fingerprint templates). A larger LEN is
# taken as a false preamble inside garbage, so a corrupted length byte cannot stall a read.
MAX_BODY = 4096


def xor(data: bytes) -> int:
    """XOR of all bytes, folded as one big integer (C speed; a Python loop costs ~0.2 ms per frame)."""
    value = int.from_bytes(data, "little")
    width = len(data)
    while width > 1:
        half = (width + 1) // 2
        value = (value & ((1 << (8 * half)) - 1)) ^ (value >> (8 * half))
        width = half
    return value & 0xFF


def build_frame(body: bytes) -> bytes:
    """Wrap ``body`` (CMD PARA DATA, or SW1 SW2 SW3 DATA) into a complete frame."""
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor(length + body)])


def build_command(cmd: int, para: int, data: bytes = b"") -> bytes:
    return build_frame(bytes([cmd, para]) + data)


def build_response(sw3: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return build_frame(bytes([sw1, sw2, sw3]) + data)


@dataclass(frozen=True)
class Response:
    """A decoded SAM response: the three status bytes and the data after them."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes


@dataclass(frozen=True)
class Command:
    cmd: int
    para: int
    data: bytes


def frame_body(frame: bytes) -> bytes:
    """Check one complete frame and return its body (between LEN and CHK)."""
    start = frame.find(PREAMBLE)
    if start < 0:
        raise TruncatedFrameError(detail="no preamble")
    frame = frame[start:]
    if len(frame) < HEADER_SIZE:
        raise TruncatedFrameError(detail=f"{len(frame)} bytes")
    length = int.from_bytes(frame[5:7], "big")
    if length < 1:
        raise FrameLengthError(detail=f"LEN={length}")
    total = HEADER_SIZE + length
    if len(frame) < total:
        raise TruncatedFrameError(detail=f"{len(frame)} of {total} bytes")
    if len(frame) > total:
        raise FrameLengthError(detail=f"{len(frame) - total} bytes after the frame")
    if xor(frame[5:total]) != 0:
        raise ChecksumError()
    return frame[7 : total - 1]


def parse_response(frame: bytes) -> Response:
    return response_from_body(frame_body(frame))


def response_from_body(body: bytes) -> Response:
    """A Response from a frame body already checked (the stream decoder verified length and XOR)."""
    if len(body) < 3:
        raise FrameLengthError(detail=f"response body of {len(body)} bytes")
    return Response(body[0], body[1], body[2], bytes(body[3:]))


def parse_command(frame: bytes) -> Command:
    body = frame_body(frame)
    if len(body) < 2:
        raise FrameLengthError(detail=f"command body of {len(body)} bytes")
    return Command(body[0], body[1], bytes(body[2:]))


class FrameDecoder:
    """Incremental decoder for a byte stream: feed bytes, take complete frames out.

    Garbage before a preamble is dropped silently. A frame whose checksum fails is reported once
    (``take`` raises ChecksumError) and the search restarts one byte after its preamble, so a real
    frame hidden behind a false preamble is still found.
    """

    def __init__(self, min_body: int = 1, max_body: int = MAX_BODY) -> None:
        self._buffer = bytearray()
        self._min = min_body
        self._max = max_body
        self.discarded = 0

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def needed(self) -> int:
        """How many more bytes complete the frame in progress (at least 1)."""
        buf = self._buffer
        start = buf.find(PREAMBLE)
        if start < 0 or len(buf) - start < HEADER_SIZE:
            return max(1, HEADER_SIZE - (len(buf) - start if start >= 0 else 0))
        length = int.from_bytes(buf[start + 5 : start + 7], "big")
        return max(1, start + HEADER_SIZE + length - len(buf))

    def take(self) -> bytes | None:
        """Return the next complete frame, None when more bytes are needed; raise on a bad checksum."""
        buf = self._buffer
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                # Keep a tail that could be the start of a preamble split across reads.
                keep = next((k for k in range(min(4, len(buf)), 0, -1) if PREAMBLE.startswith(buf[-k:])), 0)
                self.discarded += len(buf) - keep
                del buf[: len(buf) - keep]
                return None
            if start:
                self.discarded += start
                del buf[:start]
            if len(buf) < HEADER_SIZE:
                return None
            length = int.from_bytes(buf[5:7], "big")
            if length < self._min or length > self._max:
                self._skip_false_preamble()
                continue
            total = HEADER_SIZE + length
            if len(buf) < total:
                return None
            frame = bytes(buf[:total])
            if xor(frame[5:]) != 0:
                self._skip_false_preamble()
                raise ChecksumError()
            del buf[:total]
            return frame

    def _skip_false_preamble(self) -> None:
        self.discarded += 1
        del self._buffer[:1]

    def pending(self) -> int:
        return len(self._buffer)

    def clear(self) -> None:
        self._buffer.clear()
