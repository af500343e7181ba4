"""The audit log's hash chain names an edited, a deleted and a cut-off entry (someone who holds the
key and dropped the append-only triggers), and an untouched log is intact."""

from __future__ import annotations

import sqlalchemy as sa


def _fill(station, count: int = 5) -> list[int]:
    for n in range(count):
        station.audit.append("export", operator="op1", subject="progress", detail={"rows": n})
    return sorted(e.id for e in station.audit.list())


def _tamper(station, *statements: str) -> None:
    with station.write() as conn:
        conn.execute(sa.text("DROP TRIGGER audit_no_update"))
        conn.execute(sa.text("DROP TRIGGER audit_no_delete"))
        for statement in statements:
            conn.execute(sa.text(statement))


def test_an_untouched_log_is_intact(station):
    ids = _fill(station)
    check = station.audit.check_chain()
    assert check.intact and check.entries == len(ids)


def test_an_edited_entry_is_named(station):
    ids = _fill(station)
    _tamper(station, f"UPDATE audit_log SET operator = 'someone' WHERE id = {ids[2]}")
    check = station.audit.check_chain()
    assert (check.problem, check.first_bad_id) == ("altered", ids[2])


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_next_link(station):
    from station.store.audit import _hash

    ids = _fill(station)
    with station.read() as conn:
        row = conn.execute(sa.text(f"SELECT * FROM audit_log WHERE id = {ids[1]}")).mappings().one()
    forged = _hash(row["prev_hash"], row["at"], "someone", row["action"], row["subject"], row["detail"])
    _tamper(
        station, f"UPDATE audit_log SET operator = 'someone', entry_hash = '{forged}' WHERE id = {ids[1]}"
    )
    check = station.audit.check_chain()
    assert (check.problem, check.first_bad_id) == ("broken", ids[2])


def test_a_deleted_entry_is_named(station):
    ids = _fill(station)
    _tamper(station, f"DELETE FROM audit_log WHERE id = {ids[2]}")
    check = station.audit.check_chain()
    assert (check.problem, check.first_bad_id) == ("broken", ids[3])


def test_entries_cut_off_the_end_are_noticed(station):
    ids = _fill(station)
    _tamper(station, f"DELETE FROM audit_log WHERE id >= {ids[3]}")
    check = station.audit.check_chain()
    assert (check.problem, check.first_bad_id) == ("truncated", ids[3])
    assert station.audit.verify_chain() == ids[3]
