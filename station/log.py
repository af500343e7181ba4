"""The station's log: named loggers, one rotating file under ``<station home>/logs/``, no personal data.

Loggers are named per area (``station.app``, ``station.desk``, ``station.store``, ``station.sync``,
``station.camera``, ``station.card``, ``station.qt``, and ``sync.client``); ``init_logging`` gives
them one rotating file, ``station.log`` (owner-only), at the level the settings ask for
(``STATION_LOG_LEVEL`` or the station's ``log_level``; INFO by default).

What is logged names records by their ids, students by nothing, and errors by type and code. As a
second line of defence every line passes ``PersonalDataFilter``, which masks anything shaped like an
ID number and any run of Chinese characters (log lines are English; Chinese in them can only be a
name or an address that slipped through). The log is for the provincial IT engineer, never shown
to an officer as it is.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

LOG_DIR = "logs"
LOG_FILE = "station.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
ROOTS = ("station", "sync")

# 18-character resident and permanent-residence numbers, 15-digit old ones, 9-character permits.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15}|[HhMm]\d{8,10})(?![0-9A-Za-z])")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff\ue000-\uf8ff]+")


def scrub(text: str) -> str:
    """``text`` with ID-number-shaped tokens and Chinese character runs masked."""
    return _CJK.sub("…", _ID_NUMBER.sub("<id>", text))


class PersonalDataFilter(logging.Filter):
    """Masks what could be personal data in a record's final message (and its exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = scrub(message), ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class _QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log file; a line that cannot be written (disk full, read-only, removed) is dropped silently.

    ``logging`` would print the failure with a traceback on stderr, i.e. in front of an officer whose
    disk just filled up; the command itself says what happened, in a sentence."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass

    def close(self) -> None:
        try:
            super().close()  # flushes: may fail on a full disk like any write
        except OSError:
            pass


def log_dir(home: Path) -> Path:
    return Path(home) / LOG_DIR


def init_logging(home: Path | None, level: str = "INFO") -> Path | None:
    """Send the station's loggers to ``<home>/logs/station.log`` at ``level``; return the file.

    Idempotent (a second call replaces the handler). When the home cannot hold a log (read-only,
    full) the station runs without a file rather than failing: returns None.
    """
    numeric = getattr(logging, level.upper(), logging.INFO)
    for name in ROOTS:
        logger = logging.getLogger(name)
        logger.setLevel(numeric)
        for handler in [h for h in logger.handlers if getattr(h, "_station", False)]:
            logger.removeHandler(handler)
            handler.close()
    if home is None:
        return None
    directory = log_dir(home)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / LOG_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        handler = _QuietFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler._station = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(PersonalDataFilter())
    for name in ROOTS:
        logging.getLogger(name).addHandler(handler)
    # Third-party chatter (urllib3's connection lines name hosts and ports only) stays at WARNING.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    return path


def close_logging() -> None:
    """Detach and close the file handler (tests, and before a station home is removed)."""
    init_logging(None)
