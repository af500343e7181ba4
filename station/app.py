"""The composition root: one station's settings, encrypted store and desk workflow, wired together.

Both front ends start here: the GUI (``station gui`` / ``station demo``) and the command line
(``station capture`` in a later issue). The adapters below give the pure desk workflow its ports on
top of the store, so neither the workflow nor the widgets touch the database directly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from station import config as station_config
from station.capture.workflow import Desk, Station
from station.domain.records import CaptureRecord
from station.domain.students import Student, StudentStatus
from station.store import paths
from station.store.database import StationDatabase
from station.store.rows import QueuedStudent, RecordRow

# Outbox states in which a record still stands for the student (a rejected record does not).
_LIVE_RECORD_STATES = ("pending", "inflight", "accepted")


def student_from_queue(row: QueuedStudent) -> Student:
    return Student.from_feed(row.feed_data())


class StoreQueue:
    """The workflow's queue port over the store. "Captured here" is derived from the records."""

    def __init__(self, database: StationDatabase) -> None:
        self._database = database

    def student_by_national_id(self, national_id: str) -> Student | None:
        row = self._database.queue.get_by_national_id(national_id)
        if row is None:
            return None
        student = student_from_queue(row)
        if student.status is StudentStatus.APPROVED and self.latest_record_id(student.student_id):
            return replace(student, status=StudentStatus.CAPTURED)
        return student

    def latest_record_id(self, student_id: str) -> str | None:
        for summary in self._database.records.list(student_id=student_id, limit=20):
            if summary.state in _LIVE_RECORD_STATES:
                return summary.record_id
        return None


class StoreSink:
    """The workflow's record port: one transaction for the record, its outbox row and the audit entry."""

    def __init__(self, database: StationDatabase) -> None:
        self._database = database

    def save(self, record: CaptureRecord) -> None:
        self._database.records.save(RecordRow.from_capture(record))


@dataclass
class StationApp:
    home: Path
    config: station_config.StationConfig
    database: StationDatabase

    @classmethod
    def open(cls, home: Path | None = None) -> StationApp:
        """Open the station at ``home`` (STATION_HOME or the platform directory): typed errors if it can't."""
        resolved = paths.station_home(home)
        return cls(resolved, station_config.load(resolved), StationDatabase.open(resolved))

    def queue_view(self) -> list[Student]:
        """The county queue as the desk shows it: approved students with a live record here are "captured"."""
        captured = {
            summary.student_id
            for summary in self.database.records.list(limit=1_000_000)
            if summary.state in _LIVE_RECORD_STATES
        }
        students = [student_from_queue(row) for row in self.database.queue.list()]
        return [
            replace(s, status=StudentStatus.CAPTURED)
            if s.status is StudentStatus.APPROVED and s.student_id in captured
            else s
            for s in students
        ]

    def desk(self, clock=None) -> Desk:
        station = Station(self.config.station_id, self.config.county_code6, self.config.entry_year)
        desk = Desk(station, StoreQueue(self.database), StoreSink(self.database))
        if clock is not None:
            desk.clock = clock
        return desk

    def close(self) -> None:
        self.database.close()
