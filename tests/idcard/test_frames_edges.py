"""The SAM frame codec byte for byte and at its edges: exact frames, every refusal with its detail, the
stream decoder's byte accounting and its "how many more bytes" answer."""

from __future__ import annotations

import pytest

from station.idcard.errors import ChecksumError, FrameLengthError, TruncatedFrameError
from station.idcard.frames import (
    HEADER_SIZE,
    PREAMBLE,
    Command,
    FrameDecoder,
    Response,
    build_command,
    build_frame,
    build_response,
    frame_body,
    parse_command,
    parse_response,
    response_from_body,
    xor,
)


def test_frames_byte_for_byte():
    # GA 467's "find card" command: AA AA AA 96 69 00 03 20 01 22 (LEN 3, CHK = 00^03^20^01).
    assert build_command(0x20, 0x01) == bytes.fromhex("aaaaaa9669000320 0122".replace(" ", ""))
    assert build_command(0x30, 0x01, b"\x01\x02") == PREAMBLE + bytes.fromhex("00053001010237")
    assert build_response(0x90, b"\xab", sw1=0x01, sw2=0x02) == PREAMBLE + bytes.fromhex(
        "00050102 90ab3d".replace(" ", "")
    )
    long_body = bytes(300)
    frame = build_frame(long_body)
    assert frame[5:7] == b"\x01\x2d"  # 301, big-endian
    assert xor(bytes([0x12, 0x34, 0x56, 0x78, 0x9A])) == 0x12 ^ 0x34 ^ 0x56 ^ 0x78 ^ 0x9A
    assert xor(b"") == 0 and xor(b"\x7f") == 0x7F


def test_responses_and_commands_read_each_byte():
    assert parse_response(build_response(0x90, b"data", sw1=0x11, sw2=0x22)) == Response(
        0x11, 0x22, 0x90, b"data"
    )
    assert parse_command(build_command(0x30, 0x10, b"\x05\x06")) == Command(0x30, 0x10, b"\x05\x06")
    assert parse_command(build_command(0x20, 0x02)) == Command(0x20, 0x02, b"")
    assert response_from_body(b"\x01\x02\x03") == Response(1, 2, 3, b"")
    assert frame_body(b"\x00\x01" + build_command(0x20, 0x01)) == b"\x20\x01"  # garbage before the preamble


def _refusal(error_type, frame: bytes) -> str:
    with pytest.raises(error_type) as caught:
        frame_body(frame)
    return caught.value.detail


def test_every_refusal_names_its_detail():
    good = build_command(0x20, 0x01)
    assert _refusal(TruncatedFrameError, b"\x00\x01\x02") == "no preamble"
    assert _refusal(TruncatedFrameError, PREAMBLE + b"\x00") == "6 bytes"
    assert _refusal(FrameLengthError, PREAMBLE + b"\x00\x00") == "LEN=0"
    assert _refusal(TruncatedFrameError, good[:-1]) == "9 of 10 bytes"
    assert _refusal(FrameLengthError, good + b"\x00\x00") == "2 bytes after the frame"
    with pytest.raises(ChecksumError):
        frame_body(good[:-1] + bytes([good[-1] ^ 1]))
    assert frame_body(PREAMBLE + b"\x00\x01\x01") == b""  # LEN 1: a body of nothing but the checksum
    with pytest.raises(FrameLengthError) as short:
        response_from_body(b"\x01\x02")
    assert short.value.detail == "response body of 2 bytes"
    with pytest.raises(FrameLengthError) as command:
        parse_command(build_frame(b"\x20"))
    assert command.value.detail == "command body of 1 bytes"


def test_the_first_preamble_counts_even_when_another_follows():
    first, second = build_command(0x20, 0x01), build_command(0x20, 0x02)
    assert _refusal(FrameLengthError, first + second) == f"{len(second)} bytes after the frame"


def test_decoder_counts_what_it_drops_and_says_what_it_needs():
    decoder = FrameDecoder()
    assert decoder.discarded == 0 and decoder.needed() == HEADER_SIZE
    decoder.feed(b"\x01\x02\x03" + PREAMBLE[:3])  # garbage, then half a preamble split across reads
    assert decoder.take() is None
    assert decoder.discarded == 3 and decoder.pending() == 3
    assert decoder.needed() == HEADER_SIZE  # no whole preamble yet
    frame = build_response(0x90, b"abcdef")
    decoder.feed(frame[3:6])
    assert decoder.needed() == HEADER_SIZE - 6 and decoder.take() is None
    decoder.feed(frame[6:8])
    assert decoder.needed() == len(frame) - 8  # LEN known now: exactly the rest of the frame
    decoder.feed(frame[8:-1])
    assert decoder.needed() == 1 and decoder.take() is None
    decoder.feed(frame[-1:] + b"\x55")
    assert decoder.take() == frame and decoder.pending() == 1
    decoder.clear()
    assert decoder.pending() == 0


def test_decoder_skips_false_preambles_one_byte_at_a_time():
    decoder = FrameDecoder(min_body=2, max_body=20)
    real = build_command(0x20, 0x01)
    decoder.feed(PREAMBLE + b"\x00\x01" + real)  # LEN 1 is below the minimum: a false preamble
    assert decoder.take() == real
    assert decoder.discarded == 7  # the false preamble and its LEN, one byte at a time
    decoder.feed(PREAMBLE + b"\x00\x15" + real)  # LEN 21 is above the maximum
    assert decoder.take() == real and decoder.discarded == 14
    exact = build_frame(bytes(19))  # LEN 20: the maximum itself is allowed
    decoder.feed(exact)
    assert decoder.take() == exact
    minimal = build_frame(b"\x01")  # LEN 2: the minimum itself is allowed
    decoder.feed(minimal)
    assert decoder.take() == minimal and decoder.discarded == 14


def test_decoder_reports_a_bad_checksum_once_then_finds_the_next_frame():
    decoder = FrameDecoder()
    bad = bytearray(build_command(0x20, 0x01))
    bad[-1] ^= 0xFF
    good = build_command(0x20, 0x02)
    decoder.feed(bytes(bad) + good)
    with pytest.raises(ChecksumError):
        decoder.take()
    assert decoder.discarded == 1
    assert decoder.take() == good
    assert decoder.discarded == len(bad)


def test_defaults_of_a_response_and_of_the_decoder():
    assert build_response(0x90) == PREAMBLE + bytes.fromhex("0004000090") + bytes([0x04 ^ 0x90])
    empty = build_frame(b"")  # LEN 1: nothing but the checksum; the decoder's default minimum takes it
    decoder = FrameDecoder()
    decoder.feed(empty)
    assert decoder.take() == empty and decoder.discarded == 0


def test_needed_counts_from_the_first_preamble_after_garbage():
    decoder = FrameDecoder()
    decoder.feed(bytes(10))  # no preamble at all: a whole header is needed
    assert decoder.needed() == HEADER_SIZE
    decoder = FrameDecoder()
    decoder.feed(b"\x01\x02\x03" + PREAMBLE)  # garbage not yet taken, then a preamble without LEN
    assert decoder.needed() == 2
    decoder.feed(b"\x05")
    assert decoder.needed() == 1
    decoder = FrameDecoder()
    decoder.feed(PREAMBLE + b"\x00\x10" + PREAMBLE)  # a preamble inside the frame's own data
    assert decoder.needed() == HEADER_SIZE + 16 - 12
    decoder = FrameDecoder()
    decoder.feed(PREAMBLE + b"\x01\x2d")  # LEN 301: both bytes count
    assert decoder.needed() == 301


def test_garbage_without_a_preamble_tail_is_dropped_whole():
    decoder = FrameDecoder()
    decoder.feed(b"\x01\x02\x03")
    assert decoder.take() is None and decoder.discarded == 3 and decoder.pending() == 0
    decoder.feed(PREAMBLE + b"\x00\x00")  # a whole header whose LEN 0 marks a false preamble
    assert decoder.take() is None and decoder.discarded > 3
