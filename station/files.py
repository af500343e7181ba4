"""Reading a file a person hands the station (card reads, photos, enrollment files) as hostile input.

``read_bounded`` refuses a file larger than the stated limit before reading it (the size on disk),
and reads at most one byte past the limit whatever the file system says (a pipe or a device has no
size), so memory stays bounded. Every failure is an ``OfficerError`` naming the file and what to do,
never an ``OSError`` text.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from station.errors import OfficerError
from station.i18n import Text


class FileRefused(OfficerError):
    """The file is missing, unreadable or larger than its limit (exit 2: bad input)."""

    code = "file_refused"


def read_bounded(path: str | os.PathLike[str], limit: int, what: Text) -> bytes:
    """The bytes of ``path`` (at most ``limit``), or ``FileRefused`` saying why not."""
    target = Path(path)
    name = target.name
    try:
        with open(target, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError
            if stat.S_ISREG(info.st_mode) and info.st_size > limit:
                raise _too_large(what, name, limit)
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise FileRefused(
            Text("找不到{what}：{name}", "The {what_en} is not there: {name}").format(
                what=what.zh, what_en=what.en, name=name
            ),
            code="file_missing",
        ) from None
    except OSError:  # permissions, a directory, an I/O error
        raise FileRefused(
            Text(
                "无法读取{what}：{name}（没有权限或不是文件）。",
                "Cannot read the {what_en} {name} (permissions, or not a file).",
            ).format(what=what.zh, what_en=what.en, name=name),
            code="file_unreadable",
        ) from None
    if len(data) > limit:
        raise _too_large(what, name, limit)
    return data


def _too_large(what: Text, name: str, limit: int) -> FileRefused:
    return FileRefused(
        Text(
            "{what} {name} 过大（上限 {limit}），未读取。",
            "The {what_en} {name} is too large (limit {limit}); it was not read.",
        ).format(what=what.zh, what_en=what.en, name=name, limit=_human(limit)),
        code="file_too_large",
    )


def _human(size: int) -> str:
    return f"{size // 1024**2} MiB" if size >= 1024**2 else f"{size // 1024} KiB"
