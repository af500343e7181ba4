"""PC/SC with the real pcscd and the vsmartcard vpcd reader, the virtual card served by the tests."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import time

import pytest

from station.idcard.errors import (
    CardRemovedError,
    NoCardError,
    PersonalDataUnavailableError,
    ReaderGoneError,
    ReaderTimeoutError,
    ServiceGoneError,
)
from station.idcard.events import CardEventStream
from station.idcard.transports.pcsc import PcscReader, list_reader_names, load_profiles
from station.idcard.transports.pcsc_monitor import PcscMonitor
from sync.protocol.resources import resource_path
from tests.idcard import cards
from tests.idcard.conftest import VPCD_PORT, VPCD_READER
from tests.idcard.vcard import ATR_TYPE_B, VirtualIdCard
from tests.support.system import require

pytestmark = pytest.mark.pcsc


def _wait(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def vcard(pcscd):
    """Factory: put a virtual card on the vpcd reader; every card is removed after the test."""
    made: list[VirtualIdCard] = []
    probe = PcscReader(VPCD_READER)

    def insert(chip=None, **options) -> VirtualIdCard:
        chip = chip or cards.resident()
        card = VirtualIdCard(chip.raw_text, chip.raw_wlt, port=VPCD_PORT, **options).insert()
        made.append(card)
        assert _wait(probe.card_present), "pcscd did not see the virtual card"
        return card

    yield insert
    for card in made:
        card.remove()
    _wait(lambda: not probe.card_present(), 3.0)
    probe.close()


def test_readers_listed(pcscd):
    assert VPCD_READER in list_reader_names()


def test_read_through_the_page_profile(vcard):
    card = vcard(cards.resident())
    with PcscReader(VPCD_READER) as reader:
        chip = reader.read_card(timeout=5)
    assert chip.raw_text == cards.resident().raw_text and chip.raw_wlt == cards.resident().raw_wlt
    assert chip.chip_serial == "0123456789ABCDEF"
    assert card.apdus[0] == bytes.fromhex("0036000008")
    assert [apdu.hex().upper() for apdu in card.apdus[1:]] == [f"FFB00{p}0000" for p in range(6)]
    json.dumps(chip.to_dict(), ensure_ascii=False)


def test_type_b_atr_uses_the_second_profile(vcard):
    vcard(cards.foreign_2017(), atr=ATR_TYPE_B)
    profiles = load_profiles()
    assert not profiles.profiles[0].applies(ATR_TYPE_B) and profiles.profiles[1].applies(ATR_TYPE_B)
    with PcscReader(VPCD_READER, profiles) as reader:
        assert reader.read_card(timeout=5).card_type == "foreign_2017"


def test_plain_reader_gives_only_the_chip_serial(vcard):
    vcard(serves_pages=False)
    with PcscReader(VPCD_READER) as reader:
        assert reader.read_chip_serial() == "0123456789ABCDEF"
        with pytest.raises(PersonalDataUnavailableError) as caught:
            reader.read_card(timeout=5)
    assert caught.value.chip_serial == "0123456789ABCDEF" and caught.value.exit_code == 1


def test_profile_is_configuration(vcard, tmp_path):
    vcard()
    data = json.loads(resource_path("idcard", "pcsc_profiles.json").read_text("utf-8"))
    data["profiles"] = [dict(data["profiles"][0], atr_requires=[{"offset": 0, "hex": "3F"}])]
    custom = tmp_path / "profiles.json"
    custom.write_text(json.dumps(data))
    with (
        PcscReader(VPCD_READER, load_profiles(str(custom))) as reader,
        pytest.raises(PersonalDataUnavailableError),
    ):
        reader.read_card(timeout=5)


def test_no_card(pcscd):
    with PcscReader(VPCD_READER) as reader:
        assert not reader.card_present()
        with pytest.raises(NoCardError):
            reader.read_card(timeout=3)


def test_unknown_reader_name(pcscd):
    with PcscReader("No Such Reader 00 00") as reader, pytest.raises(ReaderGoneError) as caught:
        reader.read_card(timeout=3)
    assert caught.value.exit_code == 2


def test_card_removed_mid_read(vcard):
    vcard(remove_at_page=3)
    with PcscReader(VPCD_READER) as reader, pytest.raises(CardRemovedError) as caught:
        reader.read_card(timeout=5)
    assert caught.value.exit_code == 1


def test_card_that_stops_answering(vcard):
    card = vcard(silent_at_page=2)
    reader = PcscReader(VPCD_READER)
    with pytest.raises(ReaderTimeoutError):  # how long it takes: tests/bench/bench_timeouts.py
        reader.read_card(timeout=1.0)
    card.remove()
    reader.close()
    vcard()
    with PcscReader(VPCD_READER) as fresh:  # the reader recovers once the card is gone
        assert fresh.read_card(timeout=5).raw_text == cards.resident().raw_text


def test_presence_events(pcscd, vcard):
    seen: queue.Queue = queue.Queue()
    monitor = PcscMonitor(seen.put, poll=0.1).start()
    try:

        def next_kind(kind: str, timeout: float = 5.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    event = seen.get(timeout=0.1)
                except queue.Empty:
                    continue
                if event.kind == kind and event.reader == VPCD_READER:
                    return event
            return None

        assert next_kind("reader_added") is not None
        card = vcard()
        inserted = next_kind("inserted")
        assert inserted is not None and inserted.atr == card.atr
        card.remove()
        assert next_kind("removed") is not None
    finally:
        monitor.stop()
    assert not monitor.alive


def test_event_stream_over_pcsc(vcard):
    stream = CardEventStream(lambda: PcscReader(VPCD_READER), poll=0.1, read_timeout=5).start()
    try:
        assert stream.wait_for("reader_ready", 5) is not None
        card = vcard(cards.hmt_permit())
        assert stream.wait_for("placed", 5) is not None
        result = stream.wait_for("result", 5)
        assert result is not None and result.chip.card_type == "hmt_permit"
        stream.request_read()
        assert stream.wait_for("remove_card_first", 3) is not None
        card.remove()
        assert stream.wait_for("removed", 5) is not None
    finally:
        assert stream.stop(5)


def test_watchdog_when_pcscd_goes_away(pcscd, vcard):
    require(pcscd.owned, "a pcscd the tests started themselves (one started outside them is never stopped)")
    seen: queue.Queue = queue.Queue()
    monitor = PcscMonitor(seen.put, poll=0.1, retry=0.2).start()
    stream = CardEventStream(lambda: PcscReader(VPCD_READER), poll=0.1, reconnect=0.2).start()
    try:
        assert stream.wait_for("reader_ready", 5) is not None
        pcscd.stop()
        kinds = []
        deadline = time.monotonic() + 5
        while "service_lost" not in kinds and time.monotonic() < deadline:
            try:
                kinds.append(seen.get(timeout=0.1).kind)
            except queue.Empty:
                pass
        assert "service_lost" in kinds
        lost = stream.wait_for("reader_lost", 5)
        assert lost is not None and isinstance(lost.error, ServiceGoneError)
        with pytest.raises(ServiceGoneError):
            list_reader_names()
        pcscd.start()
        deadline = time.monotonic() + 10
        while "service_back" not in kinds and time.monotonic() < deadline:
            try:
                kinds.append(seen.get(timeout=0.1).kind)
            except queue.Empty:
                pass
        assert "service_back" in kinds
        assert stream.wait_for("reader_ready", 10) is not None
        vcard()
        result = stream.wait_for("result", 10)
        assert result is not None and result.chip.id_number == cards.resident().id_number
    finally:
        monitor.stop()
        assert stream.stop(5)


SERVICE_ABSENT = """
import queue, sys
from station.idcard.errors import ServiceGoneError
from station.idcard.transports.pcsc import PcscReader, list_reader_names
from station.idcard.transports.pcsc_monitor import PcscMonitor
from station.idcard.discovery import DiscoveryOptions, list_readers
seen = queue.Queue()
monitor = PcscMonitor(seen.put, poll=0.05, retry=0.05).start()
assert seen.get(timeout=5).kind == "service_lost"
monitor.stop()
try:
    list_reader_names()
except ServiceGoneError:
    pass
else:
    sys.exit("no ServiceGoneError")
try:
    PcscReader("Virtual PCD 00 00").card_present()
except ServiceGoneError:
    pass
else:
    sys.exit("no ServiceGoneError from the reader")
assert list_readers(DiscoveryOptions(serial_ports=[], use_usb=False)) == []
print("ok")
"""


def test_service_absent_in_a_process_pointed_at_a_dead_socket(tmp_path):
    """Runs whoever owns pcscd: the PC/SC client is pointed at a socket nobody serves."""
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(tmp_path / "nobody.comm"), PYTHONPATH=os.getcwd())
    done = subprocess.run(
        [sys.executable, "-c", SERVICE_ABSENT], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_event_stream_reports_a_plain_reader_once_per_card(vcard):
    stream = CardEventStream(lambda: PcscReader(VPCD_READER), poll=0.1, retry_after_error=0.1).start()
    try:
        assert stream.wait_for("reader_ready", 5) is not None
        card = vcard(serves_pages=False)
        error = stream.wait_for("error", 5)
        assert error is not None and isinstance(error.error, PersonalDataUnavailableError)
        assert error.error.chip_serial == "0123456789ABCDEF"
        assert stream.wait_for("error", 1.0) is None  # not retried while the same card stays
        card.remove()
        assert stream.wait_for("removed", 5) is not None
    finally:
        assert stream.stop(5)


def test_card_removed_before_the_first_page(vcard):
    vcard(remove_at_page=0)
    with PcscReader(VPCD_READER) as reader, pytest.raises(CardRemovedError):
        reader.read_card(timeout=5)
