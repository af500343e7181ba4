"""How two spellings of a person's name are compared, the same at the desk and at the registry.

Names compare after NFKC, without whitespace, with every middle-dot variant as "·" ("巴特尔·敖其尔").
A chip may store a rare character in the private-use area (outside GB 18030's common set); the desk
then lets the officer compare by eye and confirm, and the registry accepts the same difference.
"""

from __future__ import annotations

import unicodedata

_MIDDLE_DOTS = "·•・‧∙⋅･.．"


def normalize_name(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name)
    folded = "".join(ch for ch in folded if not ch.isspace())
    return "".join("·" if ch in _MIDDLE_DOTS else ch for ch in folded)


def _is_private_use(ch: str) -> bool:
    return unicodedata.category(ch) == "Co"


def differ_only_in_rare_characters(chip: str, queue: str) -> bool:
    """True when two normalised names differ only where the chip has a private-use character."""
    if len(chip) != len(queue):
        return False
    pairs = [(a, b) for a, b in zip(chip, queue, strict=True) if a != b]
    return bool(pairs) and all(_is_private_use(a) for a, _ in pairs)
