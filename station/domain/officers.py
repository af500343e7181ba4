"""An officer's log-in as typed: what opens a station whose key is wrapped by officers' passwords.

Plain data, shared by the layers that ask for a log-in (the command line, the desk's log-in dialog,
the first-run wizard) and the store that checks it (``station.store.keyslots``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class OfficerLogin:
    """An officer's username and password (the password never shows in a repr or a log line)."""

    username: str
    password: str = field(repr=False)


# Who opens a slot-wrapped store: a log-in, or a function asked for one only when one is needed
# (it returns None when nobody can be asked: no terminal, no --password-stdin).
OfficerSource = OfficerLogin | Callable[[], "OfficerLogin | None"] | None
