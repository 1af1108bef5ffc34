"""How an event is rendered into a bundle: its events.jsonl object and line, its
events.csv row (docs/export-format.md).

Pure and deterministic. The exporter writes with these functions and the offline
verifier recomputes with them, so what is written is by construction what is checked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

CSV_HEADER: Final = (
    "seq",
    "time",
    "customer",
    "event_type",
    "actor",
    "role",
    "channel",
    "reason",
    "erased",
    "fields",
    "originator_id",
    "originator_version",
    "topic",
)
# state keys shown in their own columns (or library bookkeeping), not under "fields"
_COLUMNS: Final = {"actor_id": "actor", "actor_role": "role", "channel": "channel"}
_NOT_FIELDS: Final = frozenset(
    {"actor_id", "actor_role", "channel", "reason", "occurred_at", "timestamp", "originator_topic"}
)


def humanise(value: Any) -> Any:
    """The transcoder's JSON made readable: `{"_type_", "_data_"}` pairs become their
    data (a `uuid_hex` becomes the canonical dashed UUID), recursively."""
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            data = value["_data_"]
            if value["_type_"] == "uuid_hex" and isinstance(data, str):
                try:
                    return str(UUID(hex=data))
                except ValueError:
                    return data
            return humanise(data)
        return {key: humanise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [humanise(item) for item in value]
    return value


def _compact(value: Any, *, sort_keys: bool = False) -> str:
    # the one JSON style of both files: no spaces, raw UTF-8 (no \u escapes of text)
    return json.dumps(value, ensure_ascii=False, sort_keys=sort_keys, separators=(",", ":"))


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else _compact(value)


def event_record(
    leaf: Mapping[str, Any], customer: str | None, state: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The events.jsonl object of one event: `state` is the decrypted transcoder JSON
    (parsed), None when the subject was erased. Deterministic in its arguments."""
    topic = str(leaf["topic"])
    record: dict[str, Any] = {
        "seq": leaf["seq"],
        "time": "",
        "customer": customer,
        "event_type": topic.rpartition(":")[2],
        "actor": "",
        "role": "",
        "channel": "",
        "reason": "",
        "erased": state is None,
        "fields": {},
        "originator_id": leaf["originator_id"],
        "originator_version": leaf["originator_version"],
        "topic": topic,
    }
    if state is not None:
        readable = humanise(state)
        # occurred_at when set; when absent or null, the time the library recorded
        occurred = readable.get("occurred_at")
        record["time"] = _text(readable.get("timestamp") if occurred is None else occurred)
        for key, column in _COLUMNS.items():
            record[column] = _text(readable.get(key))
        record["reason"] = _text(readable.get("reason"))
        record["fields"] = {k: v for k, v in readable.items() if k not in _NOT_FIELDS}
    return record


def record_line(record: Mapping[str, Any]) -> str:
    """One events.jsonl line (UTF-8 JSON, no spaces, `\\n` end)."""
    return _compact(record) + "\n"


def _cell(text: str) -> str:
    # a leading = + - @ (or a tab or CR before one) makes spreadsheets evaluate the
    # cell (CSV injection): a leading ' makes it text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_cells(record: Mapping[str, Any]) -> list[str]:
    """The events.csv row of an events.jsonl record (columns as in CSV_HEADER)."""
    fields = _compact(record["fields"], sort_keys=True)
    cells = [
        str(record["seq"]),
        record["time"],
        record["customer"] or "",
        record["event_type"],
        record["actor"],
        record["role"],
        record["channel"],
        record["reason"],
        "erased" if record["erased"] else "",
        fields,
        record["originator_id"],
        str(record["originator_version"]),
        record["topic"],
    ]
    return [_cell(str(cell)) for cell in cells]
