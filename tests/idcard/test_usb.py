"""USB bulk readers: real pyusb core over a backend double (no 部标 device exists on a CI machine)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from station.idcard.discovery import DiscoveryOptions, list_readers, open_reader
from station.idcard.errors import NoCardError, ReaderGoneError, ReaderSpecError, ReaderTimeoutError
from station.idcard.transports.base import SamOptions, SamTimeouts
from station.idcard.transports.usb import UsbReader, known_models, model_for, parse_vid_pid
from tests.idcard import cards
from tests.idcard.usbdouble import SamUsbBackend

FAST = SamOptions(timeouts=SamTimeouts(find=0.3, select=0.3, read=0.5, other=0.3))


def test_vid_pid_list_is_configuration():
    specs = {model.spec for model in known_models()}
    assert {"usb:0400:c35a", "usb:0483:5652"} <= specs
    assert model_for(0x0400, 0xC35A).out_body == 0x06 and model_for(0x0400, 0xC35A).in_body == 0x85
    assert parse_vid_pid("0400:C35A") == (0x0400, 0xC35A)
    with pytest.raises(ReaderSpecError):
        parse_vid_pid("nonsense")


@pytest.mark.parametrize("layout", ["split", "single"])
def test_read_over_bulk_endpoints(layout):
    backend = SamUsbBackend(layout=layout)
    backend.emulator.place(cards.foreign_2023())
    reader = UsbReader(replace(model_for(0x0400, 0xC35A), layout=layout), backend=backend, options=FAST)
    with reader:
        chip = reader.read_card(timeout=2)
        assert chip.card_type == "foreign_2023" and chip.raw_wlt == cards.foreign_2023().raw_wlt
        with pytest.raises(NoCardError):
            reader.read_card(timeout=1)


def test_discovery_finds_the_known_device_and_opens_it():
    backend = SamUsbBackend()
    backend.emulator.place(cards.resident())
    options = DiscoveryOptions(usb_backend=backend, use_pcsc=False, serial_ports=[])
    assert [info.spec for info in list_readers(options)] == ["usb:0400:c35a"]
    with open_reader("auto", options) as reader:
        assert reader.read_card(timeout=2).id_number == cards.resident().id_number


def test_unplugged_and_silent_device():
    backend = SamUsbBackend()
    backend.emulator.place(cards.resident())
    reader = UsbReader(model_for(0x0400, 0xC35A), backend=backend, options=FAST)
    reader.open()
    backend.silent = True
    with pytest.raises(ReaderTimeoutError):  # how long it takes: tests/bench/bench_timeouts.py
        reader.read_card(timeout=0.5)
    backend.silent, backend.plugged = False, False
    with pytest.raises(ReaderGoneError):
        reader.read_card(timeout=1)
    reader.close()
    with pytest.raises(ReaderGoneError):
        UsbReader(model_for(0x0400, 0xC35A), backend=backend).open()


def test_late_answer_after_a_timeout_is_drained():
    backend = SamUsbBackend()
    backend.emulator.place(cards.resident())
    reader = UsbReader(model_for(0x0400, 0xC35A), backend=backend, options=FAST)
    with reader:
        backend.mute_on = (0x30, 0x01)  # the read answer comes, but too late for its exchange
        with pytest.raises(ReaderTimeoutError):
            reader.read_card(timeout=1.0)
        backend.silent = False
        backend.emulator.place(cards.resident(1))
        assert reader.read_card(timeout=2).raw_text == cards.resident(1).raw_text
