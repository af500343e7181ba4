"""The one base of every error an officer may read: a stable code, a message in both languages, a fix.

Each area derives its own errors from ``OfficerError`` (the store, the card reader, the camera, the
desk workflow, the settings, enrollment), so a front end shows any of them the same way without
guessing at attributes: ``error.message`` is what happened, ``error.fix`` what to do about it (when
there is something to do), ``error.code`` is for programs and for the small print. ``exit_code``
is what a command returns when the error ends it (2: bad input or set-up, 1: a finding).

Messages never carry personal data (no names, ID numbers, photos), so these errors may be logged.
"""

from __future__ import annotations

from station.i18n import Text

GENERIC = Text("操作未能完成。", "The operation could not be completed.")


class OfficerError(Exception):
    """An error with something to say to a person: ``code``, ``message`` (Text), ``fix`` (Text | None)."""

    code: str = "error"
    message: Text = GENERIC
    fix: Text | None = None
    exit_code: int = 2

    def __init__(
        self, message: Text | None = None, *, code: str | None = None, fix: Text | None = None
    ) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if fix is not None:
            self.fix = fix
        super().__init__(f"{self.code}: {self.message.en}")

    def __str__(self) -> str:
        return str(self.message)

    def sentence(self) -> Text:
        """The message and, when there is one, the fix, as one text to show."""
        if self.fix is None:
            return self.message
        return Text(f"{self.message.zh}{self.fix.zh}", f"{self.message.en} {self.fix.en}")

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message.as_dict()}
        if self.fix is not None:
            out["fix"] = self.fix.as_dict()
        return out
