"""``station operator add | list``: officers are created from the terminal, passwords never on the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _station(home, *args, stdin=""):
    env = {**os.environ, "STATION_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "station", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


# No keyring in the tests: the store is created with its first county administrator, and opens with an
# officer's log-in (their password first on standard input; a new officer's password follows).
TUMEN = ("--operator", "tumen", "--password-stdin")


def test_add_and_list_operators(station_home):
    created = _station(
        station_home, "store", "init", "--admin", "tumen", "--password-stdin", stdin="tumen-password\n"
    )
    assert created.returncode == 0, created.stderr
    added = _station(
        station_home,
        "operator",
        "add",
        "wuyun",
        "--role",
        "county_admin",
        *TUMEN,
        stdin="tumen-password\nlong-enough-1\n",
    )
    assert added.returncode == 0, added.stderr
    # Adding an officer needs a county administrator (their password first).
    alone = _station(station_home, "operator", "add", "bai", "--password-stdin", stdin="long-enough-2\n")
    assert alone.returncode == 2 and "--operator" in alone.stderr
    as_admin = ("--operator", "wuyun", "--password-stdin")
    short = _station(station_home, "operator", "add", "bai", *as_admin, stdin="long-enough-1\nshort\n")
    assert short.returncode == 2 and "8" in short.stderr
    again = _station(
        station_home, "operator", "add", "wuyun", *as_admin, stdin="long-enough-1\nlong-enough-2\n"
    )
    assert again.returncode == 2 and "已存在" in again.stderr
    listed = _station(station_home, "operator", "list", "--json", *as_admin, stdin="long-enough-1\n")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"username": "tumen", "display_name": "tumen", "role": "county_admin"},
        {"username": "wuyun", "display_name": "wuyun", "role": "county_admin"},
    ]
    refused = _station(station_home, "operator", "list")  # no terminal, no log-in: a sentence, exit 2
    assert refused.returncode == 2 and "--operator" in refused.stderr


def test_operators_need_a_station(station_home):
    result = _station(station_home, "operator", "list")
    assert result.returncode == 2 and station_home.name in result.stderr
