"""``./dev mutate [area ...]``: mutation testing of the critical modules with mutmut, one area at a time.

An area is a few modules and the tests that exercise them (``AREAS``). For each area this prepares a
private work directory ``.mutation/<area>/`` (git-ignored) holding links to the sources and a copy of
``pyproject.toml`` with the area's ``[tool.mutmut]`` section, runs ``mutmut run`` there at the lowest
CPU priority, and reads mutmut's per-file results back into a score per module:

* killed: a test failed (or timed out) with the mutant in place;
* explained: the mutant survived and ``tests/mutation/EQUIVALENT.md`` names it with the reason it cannot
  be told apart by behaviour (an equivalent mutant);
* open: survived, or no selected test reaches it, and nobody explained why. Open mutants are findings.

Lines that hold officer-facing wording are not mutated (``WORDING``): the wording is reviewed text, not
logic; the tests pin that the right message appears with the right values, not its letters.

Exit codes: 0 every mutant killed or explained, 1 open mutants remain, 2 bad usage or mutmut failed.
``--list`` prints the areas, ``--report`` scores the last run again, ``--only GLOB`` runs some mutants
(with ``--keep``, on top of the last run's results). ``MUTATE_JOBS`` sets mutmut's children (default 2).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".mutation"
EQUIVALENT = Path(__file__).with_name("EQUIVALENT.md")

# Lines that hold officer-facing wording: a Chinese message, or an English sentence standing alone as
# the second half of a ``Text(zh, en)`` pair.
WORDING = [
    r"[\u4e00-\u9fff\uff08\uff09\uff1a\uff0c\u3002]",
    r'^\s*f?"[A-Z][a-z]+ [a-z][^"]*",?\s*(\)[,)]*)?\s*$',
]


@dataclass(frozen=True)
class Area:
    name: str
    what: str
    modules: tuple[str, ...]  # glob patterns of files to mutate
    tests: tuple[str, ...]  # pytest selection (paths and options)
    isolation: str = "fork"  # "forkserver" where tests start threads (servers) in the collecting process


AREAS = {
    a.name: a
    for a in (
        Area(
            "domain",
            "desk rules, capture records, students, progress; the wrong-person guard and the desk's guidance; "
            "ID and registration numbers",
            (
                "station/domain/*.py",
                "station/capture/presence.py",
                "station/capture/guidance.py",
                "sync/protocol/idnumber.py",
                "sync/protocol/regno.py",
            ),
            ("tests/unit",),
        ),
        Area(
            "idcard",
            "SAM frame codec and the chip-text parser",
            ("station/idcard/frames.py", "sync/protocol/chiptext.py"),
            (
                "tests/idcard/test_frames.py",
                "tests/idcard/test_frames_edges.py",
                "tests/idcard/test_chiptext.py",
                "tests/idcard/test_chiptext_edges.py",
            ),
        ),
        Area(
            "photo",
            "photo checks, their thresholds, measures and profiles",
            (
                "station/camera/checks.py",
                "station/camera/quality.py",
                "station/camera/measures.py",
                "station/camera/profiles.py",
            ),
            (
                "tests/camera/test_quality.py",
                "tests/camera/test_checks.py",
                "tests/camera/test_measures.py",
                "tests/camera/test_profiles.py",
            ),
        ),
        Area(
            "store",
            "capture records and the outbox in the encrypted station database",
            ("station/store/records.py", "station/store/outbox.py"),
            (
                "tests/store/test_outbox.py",
                "tests/store/test_outbox_edges.py",
                "tests/store/test_atomicity.py",
                "tests/store/test_immutability.py",
                "tests/store/test_records.py",
                "tests/store/test_listing_limits.py",
                # Reading around a damaged page needs a damaged page: the one damage test that reads.
                "tests/store/test_damage.py::test_a_flipped_photo_page_names_the_record_and_the_rest_still_read",
            ),
        ),
        Area(
            "client",
            "the station's sync engine, batch bodies and reconciliation",
            ("sync/client/engine.py", "sync/client/batch.py"),
            # The focused engine tests only: the wider sync suites run the station as a subprocess
            # (the unmutated code) or take minutes per mutant.
            (
                "tests/sync/test_batch_body.py",
                "tests/sync/test_engine.py",
                "tests/sync/test_reconcile.py",
                "tests/sync/test_registry_faults.py::test_s8_edited_record_is_a_conflict_never_an_overwrite",
                # How the engine stops (revoked), pauses (refused) and renews its certificate.
                "tests/sync/test_certificates.py::test_revoked_station_is_refused_reports_it_and_stops_retrying",
                "tests/sync/test_certificates.py::"
                "test_connections_closed_after_the_handshake_pause_sync_until_the_registry_lets_the_station_in",
                "tests/sync/test_certificates.py::test_certificate_is_renewed_before_it_expires",
            ),
            isolation="forkserver",
        ),
        Area(
            "registry",
            "registry intake, the deciding rules (chip evidence, photos, one transaction per batch), "
            "ledger and serial allocation (SQLite)",
            (
                "sync/registry/intake.py",
                "sync/registry/decisions.py",
                "sync/registry/evidence.py",
                "sync/registry/photos.py",
                "sync/registry/ledger.py",
            ),
            (
                "tests/registry/test_evidence.py",
                "tests/registry/test_push.py",
                "tests/registry/test_intake.py",
                "tests/registry/test_manual_evidence.py",
                "-k",
                "not postgresql",
            ),
            isolation="forkserver",
        ),
    )
}


def explained() -> dict[str, str]:
    """Mutant names that EQUIVALENT.md explains (a list item starting with the name in backticks)."""
    names: dict[str, str] = {}
    for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^\s*[-*]\s+`([\w.ǁ]+__mutmut_\d+)`\s*:?\s*(.*)$", line)
        if found:
            names[found.group(1)] = found.group(2)
    return names


def prepare(area: Area) -> Path:
    """A fresh work directory for the area: links to the sources, pyproject.toml with its mutmut section."""
    work = WORK / area.name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for name in ("station", "sync", "tests", "resources"):
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    files = sorted(
        {str(p.relative_to(ROOT)) for pattern in area.modules for p in ROOT.glob(pattern) if p.is_file()}
    )
    if not files:
        raise SystemExit(f"mutate: area {area.name} names no existing module")
    config = {
        "source_paths": ["station", "sync"],
        "only_mutate": files,
        "pytest_add_cli_args_test_selection": [t for t in area.tests if not _missing_test_path(t)],
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-W", "ignore"],
        "also_copy": ["resources"],
        "do_not_mutate_patterns": WORDING,
        "process_isolation": area.isolation,
        "use_git_change_detection": False,
    }
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    text += "\n[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in config.items())
    (work / "pyproject.toml").write_text(text, encoding="utf-8")
    return work


def _missing_test_path(selection: str) -> bool:
    return selection.startswith("tests/") and not (ROOT / selection.split("::")[0]).exists()


def run(area: Area, jobs: int, only: list[str], keep: bool) -> int:
    work = WORK / area.name if keep and (WORK / area.name / "mutants").is_dir() else prepare(area)
    if (work / "mutants" / "tests").is_dir():
        # mutmut copies a file into mutants/ only when it is not there yet: a kept run would test the
        # mutants against the tests of the first run. The tests are never mutated, so refresh them.
        shutil.copytree(ROOT / "tests", work / "mutants" / "tests", dirs_exist_ok=True)
    mutmut = Path(sys.executable).with_name("mutmut")
    log = work / "mutmut.log"
    print(f"==> mutate {area.name}: {area.what} (log: {log.relative_to(ROOT)})", flush=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with log.open("a" if keep else "w") as out:
        done = subprocess.run(
            ["nice", "-n", "19", str(mutmut), "run", "--max-children", str(jobs), *only],
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    if done.returncode != 0:
        print(f"!! mutmut failed ({done.returncode}); see {log}", file=sys.stderr)
        return 2
    return 0


# -11: the test process crashed (SIGSEGV, e.g. OpenCV handed None): the test run fails, so the mutant is caught.
STATUS = {1: "killed", 3: "killed", 36: "killed", -24: "killed", 24: "killed", 152: "killed", 255: "killed", -11: "killed",
          0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not checked"}  # fmt: skip


def score(area: Area) -> tuple[list[dict], list[str]]:
    """Per-module figures of the area's last run, and the open mutants (neither killed nor explained)."""
    mutants = WORK / area.name / "mutants"
    reasons = explained()
    rows, open_names = [], []
    for meta in sorted(mutants.rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        codes = data["exit_code_by_key"]
        if not codes:
            continue
        module = str(meta.relative_to(mutants))[: -len(".meta")]
        counts = {"killed": 0, "explained": 0, "open": 0, "skipped": 0, "not_checked": 0}
        for name, code in codes.items():
            status = STATUS.get(code, "suspicious")
            if status == "killed":
                counts["killed"] += 1
            elif status == "skipped":
                counts["skipped"] += 1
            elif status == "not checked":  # the run was stopped before this mutant
                counts["not_checked"] += 1
            elif name in reasons:
                counts["explained"] += 1
            else:
                counts["open"] += 1
                open_names.append(f"{name}: {status}")
        total = sum(counts.values()) - counts["skipped"] - counts["not_checked"]
        rows.append(
            {
                "module": module,
                "mutants": total,
                **counts,
                "killed_pct": round(100 * counts["killed"] / total, 1) if total else None,
                "killed_or_explained_pct": (
                    round(100 * (counts["killed"] + counts["explained"]) / total, 1) if total else None
                ),
            }
        )
    return rows, open_names


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value}"


def report(area: Area) -> int:
    rows, open_names = score(area)
    if not rows:
        print(f"!! no results for area {area.name}; run it first", file=sys.stderr)
        return 2
    print("| module | mutants | killed | explained | open | killed % | killed or explained % | not run |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| `{r['module']}` | {r['mutants']} | {r['killed']} | {r['explained']} | {r['open']} "
            f"| {_pct(r['killed_pct'])} | {_pct(r['killed_or_explained_pct'])} | {r['not_checked']} |"
        )
    (WORK / area.name / "scores.json").write_text(json.dumps(rows, indent=2))
    if open_names:
        print(
            f"\n{len(open_names)} open mutants (see them with `cd .mutation/{area.name} && mutmut show NAME`):"
        )
        for name in open_names:
            print(f"  {name}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev mutate", description=__doc__.split("\n\n")[0])
    parser.add_argument("areas", nargs="*", help=f"areas to mutate (default: all): {', '.join(AREAS)}")
    parser.add_argument("--list", action="store_true", help="list the areas and exit")
    parser.add_argument("--report", action="store_true", help="only print the scores of the last run")
    parser.add_argument(
        "--only", action="append", default=[], metavar="GLOB",
        help="run only mutants whose name matches (e.g. 'sync.registry.intake.x_claim*'); repeatable",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the last run's results and work directory")
    args = parser.parse_args(argv)
    if args.list:
        for area in AREAS.values():
            print(f"{area.name:10} {area.what}\n{'':10} mutates {', '.join(area.modules)}")
        return 0
    unknown = [a for a in args.areas if a not in AREAS]
    if unknown:
        print(f"unknown area(s): {', '.join(unknown)}; known: {', '.join(AREAS)}", file=sys.stderr)
        return 2
    jobs = int(os.environ.get("MUTATE_JOBS", "2"))
    worst = 0
    for name in args.areas or list(AREAS):
        area = AREAS[name]
        if not args.report:
            code = run(area, jobs, args.only, args.keep)
            if code:
                return code
        worst = max(worst, report(area))
    return worst


if __name__ == "__main__":
    sys.exit(main())
