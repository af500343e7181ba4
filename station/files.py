"""Reading a file a person hands the station (card reads, photos, enrollment files) as hostile input.

``read_bounded`` refuses a file larger than the stated limit before reading it (the size on disk),
and reads at most one byte past the limit whatever the file system says (a pipe or a device has no
size), so memory stays bounded. Every failure is an ``OfficerError`` naming the file and what to do,
never an ``OSError`` text.
"""

from __future__ import annotations

import errno
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


_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_ALLOWED = (errno.EACCES, errno.EPERM, errno.EROFS)


def os_error_sentence(error: OSError) -> Text | None:
    """What a full, read-only or forbidden disk means to a person (None for other OS errors)."""
    if error.errno in _DISK_FULL:
        return Text(
            "磁盘已满，本次操作未完成（已保存的数据不受影响）。请清理磁盘空间后重试。",
            "The disk is full: the operation did not complete (data saved earlier is safe). Free disk space "
            "and try again.",
        )
    if error.errno in _NOT_ALLOWED:
        where = Path(error.filename).name if error.filename else ""
        return Text(
            "无法读写 {where}（磁盘只读或没有权限），本次操作未完成。请以采集站的系统账号运行，或联系技术支持。",
            "Cannot read or write {where} (read-only disk or missing permissions): the operation did not "
            "complete. Run the station as its own system account, or call IT support.",
        ).format(where=where or "—")
    return None
