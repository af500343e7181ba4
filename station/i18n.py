"""Officer-facing text in two languages.

Every message an officer reads is a ``Text`` carrying Simplified Chinese (the default) and English.
``str(text)`` renders it in the station's language, chosen once per process at start-up from the
settings (``station.config``: ``STATION_LANG`` or the station's configured language, ``zh`` or ``en``). Domain code builds ``Text`` values and
never formats for a language itself, so the same error reads right in the CLI, the GUI and the logs.
"""

from __future__ import annotations

from dataclasses import dataclass

_SUPPORTED = ("zh", "en")
_language = "zh"


def set_language(language: str) -> None:
    """Switch the rendering language (``zh`` or ``en``) for the whole process."""
    global _language
    if language not in _SUPPORTED:
        raise ValueError(f"unsupported language {language!r}; choose one of {_SUPPORTED}")
    _language = language


def current_language() -> str:
    return _language


@dataclass(frozen=True)
class Text:
    """One message in both languages."""

    zh: str
    en: str

    def format(self, **values: object) -> Text:
        return Text(self.zh.format(**values), self.en.format(**values))

    def render(self, language: str | None = None) -> str:
        return self.en if (language or _language) == "en" else self.zh

    def __str__(self) -> str:
        return self.render()

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}
