"""The card-event stream: placed → read → result/error, remove-before-next-read, unplug / replug."""

from __future__ import annotations

import time

from station.idcard.errors import NoReaderError, SamStatusError
from station.idcard.events import CardEventStream
from station.idcard.transports.base import SamOptions, SamTimeouts
from station.idcard.transports.serial import SerialReader
from station.idcard.transports.sim import SimulatedReader
from tests.idcard import cards
from tests.idcard.samline import SamLine

FAST = SamOptions(timeouts=SamTimeouts(find=0.3, select=0.3, read=1.0, other=0.3))


def _kinds_until(stream: CardEventStream, last: str, timeout: float = 5.0) -> list[str]:
    kinds: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = stream.get(0.1)
        if event is not None:
            kinds.append(event.kind)
            if event.kind == last:
                break
    return kinds


def test_simulated_desk_cycle():
    reader = SimulatedReader(cycle=0.2)
    stream = CardEventStream(lambda: reader, poll=0.05).start()
    try:
        assert _kinds_until(stream, "result") == ["reader_ready", "placed", "reading", "result"]
        second = stream.wait_for("result", 3)
        assert second is not None and second.chip.id_number == reader.chips[1].id_number
        assert str(second.message) in ("读卡成功", "Card read")
    finally:
        assert stream.stop(2)  # the reader thread ended within the stop's own wait


def test_card_is_read_once_until_it_is_presented_again():
    line = SamLine()
    stream = CardEventStream(lambda: SerialReader(line.path, options=FAST), poll=0.05).start()
    try:
        assert stream.wait_for("reader_ready", 3) is not None
        line.emulator.place(cards.resident())
        result = stream.wait_for("result", 3)
        assert result is not None and result.chip.raw_text == cards.resident().raw_text
        assert stream.wait_for("placed", 0.5) is None  # still on the reader: not read again
        stream.request_read()
        refused = stream.wait_for("remove_card_first", 2)
        assert refused is not None and "Remove the card" in refused.message.en
        line.emulator.remove()
        line.emulator.place(cards.resident(3))
        again = stream.wait_for("result", 3)
        assert again is not None and again.chip.id_number == cards.resident(3).id_number
    finally:
        assert stream.stop(3)
        line.close()


def test_errors_are_events_and_the_loop_goes_on():
    reader = SimulatedReader(fault="sw3=0x41")
    calls = []

    def faulty_consumer(event):
        calls.append(event.kind)
        raise RuntimeError("a consumer bug must not stop the reader loop")

    stream = CardEventStream(
        lambda: reader, poll=0.05, retry_after_error=0.05, on_event=faulty_consumer
    ).start()
    try:
        first = stream.wait_for("error", 3)
        assert first is not None and isinstance(first.error, SamStatusError)
        assert stream.wait_for("error", 3) is not None
    finally:
        assert stream.stop(2)
    assert "error" in calls and calls[-1] == "stopped"


def test_unplug_and_replug_without_restart():
    current = {"line": SamLine()}
    current["line"].emulator.place(cards.resident())
    opened = []

    def factory():
        opened.append(current["line"].path)
        return SerialReader(current["line"].path, options=FAST)

    stream = CardEventStream(factory, poll=0.05, reconnect=0.1).start()
    try:
        assert stream.wait_for("result", 3) is not None
        current["line"].unplug()
        lost = stream.wait_for("reader_lost", 3)
        assert lost is not None and lost.error.exit_code == 2
        replugged = SamLine()
        replugged.emulator.place(cards.resident(4))
        old, current["line"] = current["line"], replugged
        ready = stream.wait_for("reader_ready", 3)
        assert ready is not None
        result = stream.wait_for("result", 3)
        assert result is not None and result.chip.id_number == cards.resident(4).id_number
        assert len(set(opened)) == 2
    finally:
        assert stream.stop(3)
        current["line"].close()
        old.close()


def test_missing_reader_is_reported_once_then_found():
    state = {"available": False}
    reader = SimulatedReader()

    def factory():
        if not state["available"]:
            raise NoReaderError()
        return reader

    stream = CardEventStream(factory, poll=0.05, reconnect=0.05).start()
    try:
        assert stream.wait_for("reader_lost", 2) is not None
        assert stream.wait_for("reader_lost", 0.4) is None  # reported once, not every retry
        state["available"] = True
        assert _kinds_until(stream, "result", 3)[-1] == "result"
    finally:
        assert stream.stop(2)


def test_reader_lost_is_reported_once_while_it_stays_gone():
    reader = SimulatedReader(fault="gone")
    stream = CardEventStream(lambda: reader, poll=0.05, reconnect=0.05).start()
    try:
        lost = stream.wait_for("reader_lost", 2)
        assert lost is not None and lost.error.code == "reader_gone"
        assert stream.wait_for("reader_lost", 0.5) is None
    finally:
        assert stream.stop(2)
