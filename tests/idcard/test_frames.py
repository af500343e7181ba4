"""Frame codec: the worked frames of the reference, parsing by length, resync, typed errors."""

from __future__ import annotations

import pytest

from station.i18n import Text
from station.idcard import commands as cmd
from station.idcard.errors import (
    ChecksumError,
    FrameLengthError,
    NoCardError,
    SamStatusError,
    TruncatedFrameError,
    sam_status_error,
)
from station.idcard.frames import FrameDecoder, build_response, parse_command, parse_response

WORKED_REQUESTS = {
    "AAAAAA9669000310FFEC": cmd.RESET_SAM,
    "AAAAAA9669000311FFED": cmd.SAM_STATUS,
    "AAAAAA9669000312FFEE": cmd.SAM_ID,
    "AAAAAA966900032001 22": cmd.FIND_CARD,
    "AAAAAA96690003200221": cmd.SELECT_CARD,
    "AAAAAA96690003300132": cmd.READ_BASE,
    "AAAAAA96690003301023": cmd.READ_BASE_FP,
    "AAAAAA96690003300330": cmd.READ_NEW_ADDRESS,
    "AAAAAA96690003300536": cmd.READ_MANAGEMENT_NO,
    "AAAAAA96690003600063": cmd.set_baud(0),
    "AAAAAA96690003600467": cmd.set_baud(4),
    "AAAAAA96690004 61FF50CA": cmd.set_max_rf_frame(0x50),
    "AAAAAA96690004 61FF58C2": cmd.set_max_rf_frame(0x58),
}


@pytest.mark.parametrize("expected", list(WORKED_REQUESTS))
def test_request_frames_match_the_reference(expected):
    assert WORKED_REQUESTS[expected] == bytes.fromhex(expected.replace(" ", ""))


@pytest.mark.parametrize(
    ("frame", "sw3", "data"),
    [
        ("AAAAAA9669000400009094", 0x90, b""),
        ("AAAAAA9669000400006064", 0x60, b""),
        ("AAAAAA96690008 00009F 00000000 97", 0x9F, b"\0" * 4),
        ("AAAAAA9669000400008084", 0x80, b""),
        ("AAAAAA9669000C 000090 0000000000000000 9C", 0x90, b"\0" * 8),
        ("AAAAAA9669000400008185", 0x81, b""),
        ("AAAAAA9669000400004145", 0x41, b""),
    ],
)
def test_reference_responses_parse(frame, sw3, data):
    response = parse_response(bytes.fromhex(frame.replace(" ", "")))
    assert (response.sw1, response.sw2, response.sw3, response.data) == (0, 0, sw3, data)


def test_build_response_round_trips_and_sizes():
    frame = build_response(0x90, b"\xaa" * 1284)  # payloads may contain preamble bytes
    assert len(frame) == 1295 == 0x0508 + 7
    assert parse_response(frame).data == b"\xaa" * 1284
    assert parse_command(cmd.FIND_CARD).cmd == 0x20


def test_sam_id_worked_example():
    raw = bytes.fromhex("050001005B0333015AB31E00") + (1234567890).to_bytes(4, "little")
    assert cmd.format_sam_id(raw) == "05.01-20120411-0002011994-1234567890"
    assert cmd.sam_id_bytes("05.01-20120411-0002011994-1234567890") == raw


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("AAAAAA96690004000090", TruncatedFrameError),
        ("AAAAAA9669000400009095", ChecksumError),
        ("AAAAAA966900040000909400", FrameLengthError),
        ("AAAAAA96", TruncatedFrameError),
        ("1234", TruncatedFrameError),
        ("AAAAAA96690002009292", FrameLengthError),
    ],
)
def test_bad_frames_raise_typed_errors(frame, error):
    with pytest.raises(error) as caught:
        parse_response(bytes.fromhex(frame))
    assert isinstance(caught.value.message, Text)
    assert caught.value.message.zh and caught.value.message.en


def test_decoder_skips_garbage_and_handles_fragments():
    good = build_response(0x90, bytes(range(256)) * 2)
    stream = b"\x00\xaa\xaa\x96garbage\xaa\xaa\xaa" + good + b"\x55" + good
    decoder = FrameDecoder(min_body=4)
    frames = []
    for index in range(0, len(stream), 7):  # fragmented arrival
        decoder.feed(stream[index : index + 7])
        while (frame := decoder.take()) is not None:
            frames.append(frame)
    assert frames == [good, good]
    assert decoder.discarded > 0


def test_decoder_reports_bad_checksum_then_resyncs():
    good = build_response(0x90, b"ok")
    bad = bytearray(good)
    bad[9] ^= 0xFF
    decoder = FrameDecoder(min_body=4)
    decoder.feed(bytes(bad) + good)
    with pytest.raises(ChecksumError):
        decoder.take()
    assert decoder.take() == good


def test_decoder_rejects_absurd_length_as_false_preamble():
    good = build_response(0x9F, b"\0\0\0\0")
    decoder = FrameDecoder(min_body=4)
    decoder.feed(b"\xaa\xaa\xaa\x96\x69\xff\xff" + good)
    assert decoder.take() == good


def test_decoder_needed_counts_down_to_the_frame_end():
    frame = build_response(0x90, b"x" * 100)
    decoder = FrameDecoder()
    assert decoder.needed() == 7
    decoder.feed(frame[:7])
    assert decoder.needed() == len(frame) - 7
    decoder.feed(frame[7:])
    assert decoder.take() == frame


@pytest.mark.parametrize(
    "sw3", [0x91, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47, 0x60, 0x66, 0x81]
)
def test_every_documented_status_has_a_bilingual_typed_error(sw3):
    error = sam_status_error(sw3)
    assert isinstance(error, SamStatusError)
    assert error.sw3 == sw3 and error.code != "sam_unknown_status"
    assert error.message.zh and error.message.en and error.exit_code in (1, 2)


def test_no_card_and_unknown_status():
    assert isinstance(sam_status_error(0x80), NoCardError)
    unknown = sam_status_error(0x77)
    assert (
        unknown.code == "sam_unknown_status" and "0x77" in unknown.message.en and "0x77" in unknown.message.zh
    )
    assert unknown.as_dict()["message"] == unknown.message.as_dict()
