"""Vendor SDK readers: ctypes against a gcc-compiled shim exporting the sdtapi functions."""

from __future__ import annotations

import ctypes

import pytest

from station.idcard.discovery import DiscoveryOptions, list_readers, open_reader
from station.idcard.errors import (
    CardRemovedError,
    NoCardError,
    NoReaderError,
    ReaderTimeoutError,
    SamStatusError,
)
from station.idcard.transports.sdk import SdkReader
from tests.idcard import cards


@pytest.fixture
def shim(shim_libs):
    lib = ctypes.CDLL(str(shim_libs["sdtapi_shim"]))  # the same handle the reader will get
    lib.shim_configure(1001, 0x90, 0, 0)
    chip = cards.resident()
    lib.shim_set_card(chip.raw_text, chip.raw_wlt, b"\x43" * 1024, 1024)
    yield lib
    lib.shim_configure(1001, 0x90, 0, 0)
    lib.shim_remove_card()


def test_port_scan_and_read(shim, shim_libs):
    reader = SdkReader(str(shim_libs["sdtapi_shim"]))
    with reader:
        assert reader.info.spec.endswith("#1001")
        chip = reader.read_card(timeout=2)
        assert chip.raw_text == cards.resident().raw_text and chip.raw_wlt == cards.resident().raw_wlt
        assert chip.sam_id == "05.01-20120411-0002011994-0000000042"
        assert not reader.card_present()  # read once: remove before the next read


def test_serial_port_numbering_and_fingerprint(shim, shim_libs):
    shim.shim_configure(3, 0x90, 0, 0)
    with open_reader(f"sdk:{shim_libs['sdtapi_shim']}") as reader:
        assert reader.info.spec.endswith("#3")
        assert reader.read_card(timeout=2, fingerprint=True).fingerprint == b"\x43" * 1024


def test_no_reader_and_no_card(shim, shim_libs):
    shim.shim_configure(0, 0x90, 0, 0)
    with pytest.raises(NoReaderError):
        SdkReader(str(shim_libs["sdtapi_shim"])).open()
    shim.shim_configure(1001, 0x90, 0, 0)
    shim.shim_remove_card()
    with SdkReader(str(shim_libs["sdtapi_shim"]), port=1001) as reader, pytest.raises(NoCardError):
        reader.read_card(timeout=1)


def test_refusal_removal_and_hang(shim, shim_libs):
    path = str(shim_libs["sdtapi_shim"])
    shim.shim_configure(1001, 0x33, 0, 0)
    with SdkReader(path) as reader, pytest.raises(SamStatusError):
        reader.read_card(timeout=2)
    chip = cards.resident()
    shim.shim_set_card(chip.raw_text, chip.raw_wlt, None, 0)
    shim.shim_configure(1001, 0x90, 0, 1)
    with SdkReader(path) as reader, pytest.raises(CardRemovedError):
        reader.read_card(timeout=2)
    shim.shim_set_card(chip.raw_text, chip.raw_wlt, None, 0)
    shim.shim_configure(1001, 0x90, 700, 0)  # the library blocks 0.7 s in every find
    reader = SdkReader(path, call_timeout=0.3)
    reader.open()
    stuck = reader._worker
    with pytest.raises(ReaderTimeoutError):  # the caller is let go while the library still blocks
        reader.read_card(timeout=0.3)
    assert reader._worker is None  # the stuck worker is dropped; a reopen starts a fresh one
    stuck.call(lambda: None, timeout=10)  # runs once the stuck call has returned: then reset the shim
    reader.close()


def test_missing_library_is_no_reader(tmp_path):
    with pytest.raises(NoReaderError):
        SdkReader(str(tmp_path / "libmissing.so")).open()


def test_configured_sdk_is_listed(shim_libs, monkeypatch):
    options = DiscoveryOptions(sdk_libraries=[str(shim_libs["sdtapi_shim"])], use_pcsc=False, use_usb=False)
    options.serial_ports = []
    assert any(info.kind == "sdk" for info in list_readers(options))
