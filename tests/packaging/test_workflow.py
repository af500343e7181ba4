"""The Windows workflow calls what exists: ``build/package`` subcommands, the Windows lock, test folders.
(It runs only on GitHub's Windows runners; its syntax was checked with actionlint and the workflow
JSON schema when written, see build/README.md.)"""

from __future__ import annotations

import re

import yaml

from stationbuild import ROOT
from stationbuild.cli import build_parser

WORKFLOW = ROOT / ".github/workflows/windows.yml"


def run_lines() -> list[str]:
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    return [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]


def test_the_workflow_uses_real_subcommands_files_and_test_folders():
    text = "\n".join(run_lines())
    subcommands = set(build_parser().commands)
    used = set(re.findall(r"build\\package (\w+)", text))
    assert used and used <= subcommands
    assert "requirements-windows.lock" in text and (ROOT / "requirements-windows.lock").is_file()
    pytest_line = next(line for line in text.splitlines() if "-m pytest" in line)
    folders = re.findall(r"tests/\w+", pytest_line)
    assert folders and all((ROOT / folder).is_dir() for folder in folders)
