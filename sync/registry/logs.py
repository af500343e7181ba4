"""The registry's own log: stderr always, plus a rotating file when ``serve --log-dir DIR`` is given.

What it logs: start-up settings (no secrets), refused certificates and re-bound station ids, one line
per batch with its outcome counts, CRL reloads, unhandled errors with their traceback. What it never
logs: names, ID numbers, addresses, photos -- no record content at all, and no request bodies
(``tests/registry/test_attacks.py`` runs a push at DEBUG and searches the file). Several worker
processes (``--workers N``) each write their own file, ``registry-<pid>.log``, so rotation never races.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
LOGGERS = ("sync.registry", "uvicorn", "uvicorn.error")
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 5


def configure(log_dir: Path | None, level: str = "INFO", *, per_process: bool = False) -> Path | None:
    """Send the registry's and uvicorn's loggers to stderr and, with ``log_dir``, a rotating file."""
    formatter = logging.Formatter(FORMAT)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path = None
    if log_dir is not None:
        log_dir = Path(log_dir)
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = log_dir / (f"registry-{os.getpid()}.log" if per_process else "registry.log")
        handlers.append(logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS))
    for handler in handlers:
        handler.setFormatter(formatter)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for old in list(logger.handlers):
            logger.removeHandler(old)
        for handler in handlers:
            logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False
    if path is not None:
        os.chmod(path, 0o600)
    return path
