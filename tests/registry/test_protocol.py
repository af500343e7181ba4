"""Shared protocol pieces: canonical JSON and record hashes, UUIDv7, cursors, wire models."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sync.protocol import cursor
from sync.protocol.canonical import (
    CanonicalJsonError,
    canonical_json,
    canonical_record,
    is_uuid7,
    payload_sha256,
    uuid7,
    uuid7_unix_ms,
)
from sync.protocol.wire import (
    BatchEnvelope,
    LedgerDigest,
    RecordsStatusRequest,
    format_ledger_digest,
    parse_ledger_digest,
    wants_ledger_digest,
)


def test_canonical_json_follows_rfc8785():
    # RFC 8785 §3.2.2/§3.2.3: sorted by UTF-16 code units, ECMAScript numbers, minimal escapes.
    value = {"b": [1.0, 1e21, 1e-7, 0.000001, -0.0], "a": "é\n\u20ac", "\U0001f600": 1, "\ufb33": 2}
    assert canonical_json(value) == (
        '{"a":"é\\n€","b":[1,1e+21,1e-7,0.000001,0],"\U0001f600":1,"\ufb33":2}'.encode()
    )
    for bad in (float("nan"), float("inf"), {1: "x"}, {"s": {1, 2}}):
        with pytest.raises(CanonicalJsonError):
            canonical_json(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_json_round_trips_and_is_order_free(value):
    import json

    text = canonical_json(value)
    assert canonical_json(json.loads(text)) == text
    if isinstance(value, dict):
        assert canonical_json(dict(reversed(list(value.items())))) == text


def test_payload_hash_ignores_only_itself():
    record = {"record_id": "x", "n": 1}
    digest = payload_sha256(record)
    assert payload_sha256({**record, "payload_sha256": digest}) == digest
    assert payload_sha256({**record, "n": 2}) != digest


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["payload_sha256", "a", "z", "é", "\U0001f600"]) | st.text(max_size=4),
        json_values,
        max_size=6,
    )
)
def test_canonical_record_is_the_hash_and_the_text_in_one_pass(record):
    digest, text = canonical_record(record)
    assert digest == payload_sha256(record)
    assert text.encode() == canonical_json(record)
    assert canonical_json({"records": [text]}) == canonical_json({"records": [record]})


def test_ledger_digest_header_round_trips_and_refuses_garbage():
    digest = LedgerDigest(head_seq=7, count=6, xor_sha256="ab" * 32)
    assert parse_ledger_digest(format_ledger_digest(digest)) == digest
    for bad in (
        None,
        "",
        "head_seq=7",
        "head_seq=x;count=6;xor_sha256=" + "ab" * 32,
        "head_seq=7;count=6;xor_sha256=zz",
    ):
        assert parse_ledger_digest(bad) is None
    assert wants_ledger_digest("respond-async, ledger-digest") and wants_ledger_digest("Ledger-Digest; x=1")
    assert not wants_ledger_digest(None) and not wants_ledger_digest("ledger-digests, wait=5")


def test_uuid7():
    first, second = uuid7(1_700_000_000_000), uuid7()
    assert is_uuid7(first) and is_uuid7(second) and first != second
    assert uuid7_unix_ms(first) == 1_700_000_000_000
    assert not is_uuid7("not-a-uuid") and not is_uuid7(first.upper())


def test_cursor_round_trip_and_garbage():
    text = cursor.encode("ep1", 2026, "150102", 812341)
    assert cursor.decode(text) == cursor.Cursor("ep1", 2026, "150102", 812341)
    assert cursor.is_start(None) and cursor.is_start("0") and not cursor.is_start(text)
    for garbage in ("!!!", "YWJj", "x" * 300, "YzF8ZXwxfHN8eA"):
        with pytest.raises(cursor.InvalidCursor):
            cursor.decode(garbage)


def test_wire_models_refuse_bad_input():
    with pytest.raises(ValidationError):
        BatchEnvelope.model_validate({"batch_id": "nope", "station_id": "S", "season": 2026, "records": []})
    with pytest.raises(ValidationError):
        RecordsStatusRequest.model_validate({"record_ids": ["NOT-A-UUID"]})
