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


def test_add_and_list_operators(station_home):
    assert _station(station_home, "store", "init").returncode == 0
    added = _station(
        station_home,
        "operator",
        "add",
        "wuyun",
        "--role",
        "county_admin",
        "--password-stdin",
        stdin="long-enough-1\n",
    )
    assert added.returncode == 0, added.stderr
    # Once there is a county administrator, adding an officer needs one (their password first).
    alone = _station(station_home, "operator", "add", "bai", "--password-stdin", stdin="long-enough-2\n")
    assert alone.returncode == 2 and "--operator" in alone.stderr
    as_admin = ("--operator", "wuyun", "--password-stdin")
    short = _station(station_home, "operator", "add", "bai", *as_admin, stdin="long-enough-1\nshort\n")
    assert short.returncode == 2 and "8" in short.stderr
    again = _station(station_home, "operator", "add", "wuyun", *as_admin, stdin="long-enough-1\nlong-enough-2\n")
    assert again.returncode == 2 and "已存在" in again.stderr
    listed = _station(station_home, "operator", "list", "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == [
        {"username": "wuyun", "display_name": "wuyun", "role": "county_admin"}
    ]


def test_operators_need_a_station(station_home):
    result = _station(station_home, "operator", "list")
    assert result.returncode == 2 and station_home.name in result.stderr
