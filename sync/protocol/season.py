"""The registration calendar both ends share: the deadline of an entry year and the season open today.

Rule 7.1: first-year registration closes on 30 November of the entry year. The registry's own settings may
move its deadline and season opening (``sync.registry.config.Settings``); these are the defaults.
"""

from __future__ import annotations

from datetime import date


def deadline(entry_year: int) -> date:
    """The last day of first-year registration (rule 7.1)."""
    return date(entry_year, 11, 30)


def open_entry_year(today: date) -> int:
    """The entry year whose registration is open or comes next: this year until its 30 November, then the next."""
    return today.year if today <= deadline(today.year) else today.year + 1
