"""Typed errors of the camera area: each carries a machine code and an officer-facing ``Text``."""

from __future__ import annotations

from station.errors import OfficerError
from station.i18n import Text


class CameraError(OfficerError):
    """Base of every error raised by ``station.camera``.

    ``code`` is stable and machine-readable; ``message`` is what the officer reads. The exception
    text never contains personal data (no names, numbers or pixels), so it is safe to log.
    """

    def __init__(self, code: str, message: Text, *, fix: Text | None = None) -> None:
        super().__init__(message, code=code, fix=fix)


class SourceError(CameraError):
    """A frame source could not be opened or stopped delivering frames."""


class ProfileError(CameraError):
    """An output profile is missing or malformed."""


class ImageError(CameraError):
    """An input image could not be read or decoded."""


class EncodeError(CameraError):
    """The JPEG could not be produced inside the profile's bounds, or failed verification."""


class NotConforming(CameraError):
    """The photo does not conform; ``report`` holds the checks that failed."""

    def __init__(self, report: object) -> None:
        super().__init__(
            "not_conforming",
            Text(
                zh="照片不符合要求,请查看未通过的检查项",
                en="The photo does not conform; see the failed checks",
            ),
        )
        self.report = report
