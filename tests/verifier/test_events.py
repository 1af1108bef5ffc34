"""The rendering of one event into events.jsonl and events.csv (ledger_verify.bundle.events)."""

from __future__ import annotations

from typing import Any

import pytest

from ledger_verify.bundle.events import csv_cells, event_record, record_line

pytestmark = pytest.mark.unit

LEAF = {
    "seq": 3,
    "originator_id": "0b1e6f4a-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
    "originator_version": 1,
    "topic": "domain.customer:CustomerRegistered",
}
STAMP = {"_type_": "datetime_iso", "_data_": "2026-03-01T09:30:00+00:00"}


def test_time_is_the_timestamp_when_occurred_at_is_null_or_absent() -> None:
    for state in ({"timestamp": STAMP, "occurred_at": None}, {"timestamp": STAMP}):
        assert event_record(LEAF, None, state)["time"] == "2026-03-01T09:30:00+00:00"


def test_time_is_occurred_at_when_it_is_set() -> None:
    occurred = {"_type_": "datetime_iso", "_data_": "2026-02-01T08:00:00+08:00"}
    state = {"timestamp": STAMP, "occurred_at": occurred}
    assert event_record(LEAF, None, state)["time"] == "2026-02-01T08:00:00+08:00"


def test_a_non_string_column_value_is_its_compact_json() -> None:
    state: dict[str, Any] = {"timestamp": STAMP, "actor_id": {"b": ["史", 1]}, "reason": 7}
    record = event_record(LEAF, None, state)
    assert (record["actor"], record["reason"]) == ('{"b":["史",1]}', "7")


def test_event_type_is_the_topic_after_its_last_colon() -> None:
    record = event_record(
        {**LEAF, "topic": "domain.audit_export:AuditExport.AuditTrailExported"}, None, None
    )
    assert record["event_type"] == "AuditExport.AuditTrailExported"


def test_an_erased_event_renders_empty_and_marks_erased() -> None:
    record = event_record(LEAF, "c0ffee00-0000-4000-8000-000000000000", None)
    assert record_line(record) == (
        '{"seq":3,"time":"","customer":"c0ffee00-0000-4000-8000-000000000000",'
        '"event_type":"CustomerRegistered","actor":"","role":"","channel":"","reason":"",'
        '"erased":true,"fields":{},"originator_id":"0b1e6f4a-2c3d-4e5f-8a9b-0c1d2e3f4a5b",'
        '"originator_version":1,"topic":"domain.customer:CustomerRegistered"}\n'
    )
    assert csv_cells(record)[8] == "erased"


def test_csv_cells_starting_with_a_formula_character_tab_or_cr_are_prefixed() -> None:
    starts = ["=1", "+1", "-1", "@1", "\t1", "\r1", "1=", " =1", "'1"]
    for text in starts:
        record = event_record(LEAF, None, {"timestamp": STAMP, "actor_id": text})
        expected = "'" + text if text[0] in "=+-@\t\r" else text
        assert csv_cells(record)[4] == expected
