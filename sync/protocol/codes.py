"""Code tables shared by the station and the registry: sex, ethnic group, political status, divisions.

The tables are CSV files in ``resources/codes/`` with their provenance (``SOURCES.md`` beside them).
Two division lists matter and must not be confused:

* the *current* Inner Mongolia counties (``inner_mongolia_divisions.csv``), which may issue registration
  numbers (a registration number uses today's league/county codes);
* the *historical* place codes, which an ID number may carry for life (its first six digits are the place
  of first registration and never change when the holder moves). For these we accept any code ever in use:
  the Inner Mongolia history file plus python-stdnum's national list.

Which current divisions count as registering counties is configurable (``set_registering_kinds``, which
the station's settings call with ``STATION_REGISTERING_KINDS``); by default the league/city seats (county
digits ``00``) do not.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from sync.protocol.resources import resource_path

# Division kinds (column ``kind``) that run a county exam office by default. League/city level rows
# (地级市 / 盟) are administrative parents, not capture sites.
_DEFAULT_REGISTERING_KINDS = ("市辖区", "县", "旗", "自治旗", "县级市")

# Province-level codes an ID number may start with (GB/T 2260), plus 81/82/83 for the
# Hong Kong / Macao / Taiwan residence permits.
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


@dataclass(frozen=True)
class Division:
    code6: str
    league_code2: str
    county_code2: str
    name_zh: str
    league_name_zh: str
    kind: str


def _rows(filename: str) -> list[dict[str, str]]:
    with resource_path("codes", filename).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def divisions() -> tuple[Division, ...]:
    """All current Inner Mongolia divisions (leagues/cities and counties) at the list's date."""
    return tuple(
        Division(
            r["code6"], r["league_code2"], r["county_code2"], r["name_zh"], r["league_name_zh"], r["kind"]
        )
        for r in _rows("inner_mongolia_divisions.csv")
    )


_configured_kinds: tuple[str, ...] | None = None


def set_registering_kinds(kinds: tuple[str, ...] | None) -> None:
    """Which division kinds register students (None: the default, county-level divisions only)."""
    global _configured_kinds
    _configured_kinds = tuple(kinds) if kinds else None


def _registering_kinds() -> tuple[str, ...]:
    return _configured_kinds or _DEFAULT_REGISTERING_KINDS


def counties() -> list[Division]:
    """Current counties that may register students (and so issue registration numbers)."""
    kinds = _registering_kinds()
    return [d for d in divisions() if d.county_code2 != "00" and d.kind in kinds]


def county(code6: str) -> Division | None:
    """The registering county with this six-digit code, or None."""
    return next((d for d in counties() if d.code6 == code6), None)


def league(code2: str) -> Division | None:
    """The league/city with this two-digit code, or None."""
    return next((d for d in divisions() if d.league_code2 == code2 and d.county_code2 == "00"), None)


@cache
def ethnic_groups() -> dict[str, str]:
    """GB/T 3304 code -> name, e.g. "02" -> "蒙古族" (with the 97/98 extensions)."""
    return {r["code"]: r["name_zh"] for r in _rows("ethnic_groups.csv")}


def ethnic_code_for_name(name: str) -> str | None:
    """The code for an ethnic-group name, with or without the trailing 族 ("蒙古" or "蒙古族")."""
    wanted = name.strip()
    for code, full in ethnic_groups().items():
        if wanted in (full, full.removesuffix("族")):
            return code
    return None


@cache
def sexes() -> dict[str, str]:
    """GB/T 2261.1 code -> short name ("1" -> "男")."""
    return {r["code"]: r["short_zh"] for r in _rows("sex.csv")}


@cache
def political_statuses() -> dict[str, str]:
    """GB/T 4762 code -> short name ("03" -> "共青团员")."""
    return {r["code"]: r["short_zh"] for r in _rows("political_status.csv")}


@cache
def _inner_mongolia_history() -> frozenset[str]:
    return frozenset(r["code6"] for r in _rows("inner_mongolia_divisions_history.csv"))


def historical_place_code_known(code6: str) -> bool:
    """Whether ``code6`` was ever a place code (any year), so it may stand at the head of an ID number.

    python-stdnum's ``cn.ric`` also requires the code to have been in use in the birth year and raises a
    bare KeyError for some unknown codes; we only ask whether the code ever existed, because a number is
    issued at first registration, which can be years after birth and under a code created since.
    """
    if len(code6) != 6 or not code6.isdigit():
        return False
    if code6 in _inner_mongolia_history():
        return True
    if code6 in ("810000", "820000", "830000"):
        return True
    from stdnum import numdb  # imported lazily: the database file is parsed on first use

    try:
        info = numdb.get("cn/loc").info(code6)
    except (KeyError, ValueError):
        return False
    # A known code yields two parts, each with properties: the province and the county.
    return len(info) == 2 and all(props for _, props in info)
