"""The GUI's runtime plumbing: background operations and the crash dialog, with real Qt."""

from __future__ import annotations

import threading

import pytest

from station.app import Context, Startup
from station.config import load_settings
from station.errors import OfficerError
from station.i18n import Text
from station.services.tasks import BackgroundOps, Lane
from station.ui.desk_app import CrashReporting


@pytest.fixture
def ops(qtbot):
    unexpected: list[BaseException] = []
    running = BackgroundOps(unexpected.append)
    running.unexpected = unexpected  # type: ignore[attr-defined]
    yield running
    running.shutdown()


def test_success_arrives_on_the_gui_thread(qtbot, ops):
    gui_thread = threading.current_thread()
    seen = []
    ops.run(
        lambda: threading.current_thread(),
        on_success=lambda worker: seen.append((worker, threading.current_thread())),
    )
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    worker, delivered_on = seen[0]
    assert worker is not gui_thread and delivered_on is gui_thread


def test_known_failure_goes_to_the_failed_signal(qtbot, ops):
    def refuse() -> None:
        raise OfficerError(Text("磁盘已满。", "The disk is full."), code="disk_full")

    with qtbot.waitSignal(ops.failed, timeout=5_000) as signal:
        ops.run(refuse, lane=Lane.STORE)
    assert signal.args[0].code == "disk_full" and ops.unexpected == []


def test_a_bug_is_reported_even_when_the_caller_handles_the_failure(qtbot, ops):
    handled = []
    ops.run(lambda: 1 / 0, on_failure=handled.append)
    qtbot.waitUntil(lambda: bool(handled) and bool(ops.unexpected), timeout=5_000)
    assert isinstance(handled[0], ZeroDivisionError) and isinstance(ops.unexpected[0], ZeroDivisionError)


def test_the_store_lane_runs_one_write_at_a_time(qtbot, ops):
    inside, overlaps, done = [0], [], []
    lock = threading.Lock()

    def write() -> None:
        with lock:
            inside[0] += 1
            overlaps.append(inside[0])
        threading.Event().wait(0.01)
        with lock:
            inside[0] -= 1

    for _ in range(8):
        ops.run(write, lane=Lane.STORE, on_success=done.append)
    qtbot.waitUntil(lambda: len(done) == 8, timeout=10_000)
    assert max(overlaps) == 1


def test_a_forced_exception_in_a_worker_thread_shows_the_crash_dialog_and_writes_a_report(qtbot, tmp_path):
    startup = Startup(load_settings({}, home=tmp_path)).crash_handling()
    try:
        reporting = CrashReporting(Context(startup))
        worker = threading.Thread(target=lambda: 1 / 0, name="forced")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: reporting.dialog.isVisible(), timeout=5_000)
        assert startup.crash.reports and startup.crash.reports[0].exists()
        assert "采集站出现意外错误" in reporting.dialog.windowTitle()
        assert str(startup.crash.reports[0]) in reporting.dialog.text()
        assert (
            "Traceback" not in reporting.dialog.text() and "ZeroDivisionError" not in reporting.dialog.text()
        )
        reporting.dialog.close()
    finally:
        startup.crash.uninstall()
