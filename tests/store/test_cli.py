"""`station store` subcommands through argparse, as station/__main__ wires them."""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path

import pytest

from station.store import cli, paths
from tests.support.stations import context_for


def _run(argv, capsys, stdin: str | None = None, monkeypatch=None):
    parser = argparse.ArgumentParser(prog="station")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = args.handler(args, context_for(Path(os.environ["STATION_HOME"])))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_init_status_backup_recover(station_home, capsys, monkeypatch):
    code, out, _ = _run(["store", "init", "--json"], capsys)
    assert code == 0
    recovery_code = json.loads(out)["recovery_code"]
    code, out, _ = _run(["store", "status", "--json"], capsys)
    status = json.loads(out)
    assert code == 0 and status["queue"] == 0 and status["key_store"] == "slots"
    code, out, _ = _run(["store", "backup"], capsys)
    assert code == 0 and paths.BACKUP_DIR in out
    (station_home / "keyslots.json").unlink()  # every officer's key slot lost
    code, out, err = _run(["store", "status"], capsys)
    assert code == 2 and err.strip()
    code, out, _ = _run(
        ["store", "recover", "--json"], capsys, stdin=recovery_code + "\n", monkeypatch=monkeypatch
    )
    assert code == 0 and json.loads(out)["ok"]
    code, out, _ = _run(["store", "status", "--json"], capsys)
    assert code == 0


def test_init_twice_and_a_mistyped_code_are_clear_errors(station_home, capsys, monkeypatch):
    assert _run(["store", "init"], capsys)[0] == 0
    code, _, err = _run(["store", "init"], capsys)
    assert code == 2 and err
    code, out, _ = _run(
        ["store", "recover", "--json"], capsys, stdin="ABCDE-FGHJK\n", monkeypatch=monkeypatch
    )
    assert code == 2 and json.loads(out)["code"] == "recovery_length"


@pytest.mark.parametrize("command", ["status", "backup"])
def test_commands_on_a_missing_station(station_home, capsys, command):
    code, _, err = _run(["store", command], capsys)
    assert code == 2 and err
    assert not (station_home / paths.DATABASE_FILE).exists()
