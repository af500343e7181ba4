"""Serial readers over a real pty pair (pyserial + termios) with an emulated SAM on the far end."""

from __future__ import annotations

import pytest

from station.idcard.discovery import DiscoveryOptions, list_readers, open_reader
from station.idcard.errors import (
    CardRemovedError,
    ChecksumError,
    NoCardError,
    ReaderGoneError,
    ReaderTimeoutError,
    SamStatusError,
)
from station.idcard.transports.base import SamOptions, SamTimeouts
from station.idcard.transports.serial import SerialReader, probe
from tests.idcard import cards
from tests.idcard.samline import SamLine

FAST = SamOptions(timeouts=SamTimeouts(status=0.5, find=0.5, select=0.5, read=1.5, other=0.5))


def _reader(line: SamLine, options: SamOptions = FAST) -> SerialReader:
    return SerialReader(line.path, options=options)


def test_full_read(sam_line):
    with _reader(sam_line) as reader:
        chip = reader.read_card(timeout=3)
    expected = cards.resident()
    assert chip.id_number == expected.id_number and chip.raw_text == expected.raw_text
    assert chip.raw_wlt == expected.raw_wlt and chip.sam_id == "05.01-20120411-0002011994-0000004242"


def test_fingerprint_read(sam_line):
    sam_line.emulator.card.fingerprint = b"\x43" * 512
    with _reader(sam_line) as reader:
        chip = reader.read_card(timeout=3, fingerprint=True)
    assert chip.fingerprint == b"\x43" * 512 and chip.to_dict()["has_fingerprint"]


def test_same_card_needs_removal_before_next_read(sam_line):
    with _reader(sam_line) as reader:
        assert reader.card_present()
        reader.read_card(timeout=3)
        assert not reader.card_present()
        with pytest.raises(NoCardError):
            reader.read_card(timeout=2)
        sam_line.emulator.remove()
        sam_line.emulator.place(cards.resident(2))
        assert reader.read_card(timeout=3).id_number == cards.resident(2).id_number


def test_slow_and_fragmented_stream(sam_line):
    sam_line.delay = 0.05
    sam_line.chunk = 37
    sam_line.chunk_gap = 0.002
    with _reader(sam_line) as reader:
        assert reader.read_card(timeout=5).raw_wlt == cards.resident().raw_wlt


def test_one_byte_at_a_time(sam_line):
    sam_line.chunk = 1
    with _reader(sam_line) as reader:
        assert reader.read_card(timeout=5).id_number == cards.resident().id_number


def test_garbage_before_every_frame_is_skipped(sam_line):
    sam_line.garbage = b"\x00\xff\xaa\xaa\x96\x13\x37\xaa\xaa\xaa\x96"
    with _reader(sam_line) as reader:
        assert reader.read_card(timeout=3).id_number == cards.resident().id_number


def test_one_corrupted_reply_is_asked_again(sam_line):
    sam_line.corrupt_next = 1
    with _reader(sam_line) as reader:
        assert reader.read_card(timeout=3).id_number == cards.resident().id_number


def test_persistent_corruption_is_a_typed_error(sam_line):
    sam_line.corrupt_next = 1000
    with _reader(sam_line) as reader, pytest.raises(ChecksumError) as caught:
        reader.read_card(timeout=3)
    assert caught.value.message.zh


def test_silent_reader_times_out_then_reads_once_it_answers(sam_line):
    # How long the timeout takes against the requested one: tests/bench/bench_timeouts.py.
    sam_line.silent = True
    with _reader(sam_line) as reader:
        with pytest.raises(ReaderTimeoutError):
            reader.read_card(timeout=0.6)
        sam_line.silent = False
        assert reader.read_card(timeout=3).id_number == cards.resident().id_number


def test_sam_refusal_and_card_pulled_mid_read(sam_line):
    sam_line.emulator.forced[(0x30, 0x01)] = 0x32
    with _reader(sam_line) as reader:
        with pytest.raises(SamStatusError) as caught:
            reader.read_card(timeout=3)
        assert caught.value.code == "sam_auth_card" and caught.value.exit_code == 1
        sam_line.emulator.forced.clear()
        sam_line.emulator.remove_on = (0x30, 0x01)
        sam_line.emulator.place(cards.resident())
        with pytest.raises(CardRemovedError):
            reader.read_card(timeout=3)


def test_unplugged_cable(sam_line):
    reader = _reader(sam_line)
    reader.open()
    sam_line.unplug()
    with pytest.raises((ReaderGoneError, ReaderTimeoutError)):
        reader.read_card(timeout=1)
    reader.close()


def test_missing_port_is_reader_gone():
    with pytest.raises(ReaderGoneError):
        SerialReader("/dev/does-not-exist-idcard").open()


def test_probe_and_discovery_with_explicit_ports(sam_line):
    other = SamLine()
    other.silent = True  # something else on that port: not a SAM
    try:
        assert probe(sam_line.path, timeout=0.5)
        assert not probe(other.path, timeout=0.3)
        options = DiscoveryOptions(
            serial_ports=[other.path, sam_line.path], probe_timeout=0.3, use_pcsc=False
        )
        infos = list_readers(options)
        assert [info.spec for info in infos] == [f"serial:{sam_line.path}"]
        reader = open_reader("auto", options)
        reader.options = FAST
        with reader:
            assert reader.read_card(timeout=3).id_number == cards.resident().id_number
    finally:
        other.close()


def test_sam_that_will_not_tell_its_id_still_reads(sam_line):
    sam_line.emulator.forced[(0x12, 0xFF)] = 0x21
    with _reader(sam_line) as reader:
        chip = reader.read_card(timeout=3)
    assert chip.sam_id is None and chip.id_number == cards.resident().id_number


def test_additional_address_when_asked(sam_line):
    newest = "内蒙古自治区呼和浩特市新城区演示街9号".ljust(35).encode("utf-16-le")
    sam_line.emulator.card.new_address = newest
    options = SamOptions(timeouts=FAST.timeouts, read_new_address=True)
    with _reader(sam_line, options) as reader:
        chip = reader.read_card(timeout=3)
    assert chip.new_address.endswith("9号") and chip.to_dict()["new_address"] == chip.new_address
    sam_line.emulator.remove()
    sam_line.emulator.place(cards.resident(1))  # no appendix on this card: SW3 91, not an error
    with _reader(sam_line, options) as reader:
        assert reader.read_card(timeout=3).new_address is None
