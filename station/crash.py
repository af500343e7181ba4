"""What happens when the station itself fails: a crash report, a log line, and a sentence for a person.

``CrashHandler.install()`` takes over ``sys.excepthook`` and ``threading.excepthook`` and turns on
``faulthandler`` (vendor card-reader SDKs are loaded through ctypes and can die natively) writing to
``<home>/logs/native-crash.log``. An uncaught exception in any thread writes a report under
``<home>/crashes/`` -- the program version, platform, thread, exception type and the frames (file,
line, function), with the exception's text passed through the log's personal-data mask; never
locals, never record contents -- logs it, and tells the front end through ``notify`` (the desk
shows a plain-language dialog; the command line prints one sentence). A native crash leaves its
faulthandler file; the next start finds it (``previous_native_crash``) and files it as a report.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from station import __version__
from station.i18n import Text
from station.log import scrub

log = logging.getLogger("station.app")

CRASH_DIR = "crashes"
NATIVE_LOG = "native-crash.log"
KEEP_REPORTS = 50

CRASH_MESSAGE = Text(
    "采集站出现意外错误。已确认保存的采集记录不受影响；正在进行的这一步没有完成，请重新操作。",
    "The station hit an unexpected error. Captures already shown as saved are safe; the step in "
    "progress did not finish, please do it again.",
)
CRASH_FIX = Text(
    "如果反复出现，请把错误报告文件 {path} 发给盟市或自治区技术支持。",
    "If it happens again, send the report file {path} to league or provincial IT support.",
)

Notifier = Callable[[Path | None], None]


def crash_dir(home: Path) -> Path:
    return Path(home) / CRASH_DIR


def format_report(
    kind: type[BaseException], error: BaseException, tb: TracebackType | None, thread: str
) -> str:
    """The text of a crash report: what failed and where, nothing of what was being processed."""
    frames = traceback.extract_tb(tb)
    lines = [
        f"capture-station {__version__}",
        f"time: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"platform: {platform.platform()} python {platform.python_version()}",
        f"thread: {thread}",
        f"exception: {kind.__module__}.{kind.__qualname__}",
        f"message: {scrub(str(error))[:500]}",
        "frames (most recent call last):",
    ]
    lines += [f"  {_short(frame.filename)}:{frame.lineno} in {frame.name}" for frame in frames]
    cause = error.__cause__ or error.__context__
    if cause is not None:
        lines.append(f"caused by: {type(cause).__module__}.{type(cause).__qualname__}")
    return "\n".join(lines) + "\n"


def _short(filename: str) -> str:
    """A frame's file relative to the package roots (no user names from home directories)."""
    parts = Path(filename).parts
    for anchor in ("station", "sync", "site-packages"):
        if anchor in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(anchor) - 1 :])
    return Path(filename).name


class CrashHandler:
    """Installs the hooks; writes reports; relays each crash to ``notify`` (the front end)."""

    def __init__(self, home: Path | None, notify: Notifier | None = None) -> None:
        self.home = home
        self.notify = notify
        self.reports: list[Path] = []
        self._native_file = None
        self._previous_hooks: tuple | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook
        if self.home is not None:
            try:
                directory = Path(self.home) / "logs"  # type: ignore[arg-type]
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(directory / NATIVE_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                self._native_file = os.fdopen(fd, "a", encoding="utf-8")
                faulthandler.enable(self._native_file, all_threads=True)
            except OSError:
                self._native_file = None

    def uninstall(self) -> None:
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks
            self._previous_hooks = None
        if self._native_file is not None:
            faulthandler.disable()
            self._native_file.close()
            self._native_file = None

    def previous_native_crash(self) -> Path | None:
        """File a native crash of an earlier run (faulthandler's output) as a report; return it."""
        if self.home is None:
            return None
        native = Path(self.home) / "logs" / NATIVE_LOG
        try:
            text = native.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if not text.strip():
            return None
        report = self._write(f"capture-station {__version__}\nnative crash of an earlier run:\n{scrub(text)}")
        if self._native_file is not None:
            self._native_file.seek(0)
            self._native_file.truncate()
        else:
            native.write_text("", encoding="utf-8")
        return report

    def handle(self, kind: type[BaseException], error: BaseException, tb, thread: str) -> Path | None:
        """Report one uncaught exception; returns the report file (None when it could not be written)."""
        text = format_report(kind, error, tb, thread)
        log.error("uncaught %s in thread %s", kind.__qualname__, thread)
        path = self._write(text)
        if self.notify is not None:
            try:
                self.notify(path)
            except Exception:  # the notifier must never turn one crash into two
                log.exception("crash notifier failed")
        return path

    def _sys_hook(self, kind, error, tb) -> None:  # type: ignore[no-untyped-def]
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        self.handle(kind, error, tb, threading.current_thread().name)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        self.handle(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback, name)

    def _write(self, text: str) -> Path | None:
        if self.home is None:
            return None
        directory = crash_dir(self.home)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        with self._lock:
            path = directory / f"crash-{stamp}-{os.getpid()}-{len(self.reports) + 1}.txt"
            try:
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
            except OSError:  # a full or read-only disk: no half-written report is left behind
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass
                log.error("could not write a crash report")
                return None
            self.reports.append(path)
            for old in sorted(directory.glob("crash-*.txt"))[:-KEEP_REPORTS]:
                old.unlink(missing_ok=True)
        log.error("crash report written: %s", path.name)
        return path


def crash_sentence(report: Path | None) -> Text:
    """What a person reads after a crash: what it means and what to do."""
    if report is None:
        return CRASH_MESSAGE
    fix = CRASH_FIX.format(path=report)
    return Text(f"{CRASH_MESSAGE.zh}{fix.zh}", f"{CRASH_MESSAGE.en} {fix.en}")
