"""The line files of a bundle: strict parsers of leaves.jsonl, keys.jsonl and
events.jsonl lines, readers that stream them (and events.csv rows) in seq order,
and the decryption of a leaf under its disclosed key (AES-256-GCM)."""

from __future__ import annotations

import base64
import binascii
import csv
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

from ledger_verify.bundle.events import CSV_HEADER
from ledger_verify.bundle.layout import load_json
from ledger_verify.bundle.report import BundleReport
from ledger_verify.leaf import LEAF_FIELDS

FILES: Final = {
    "leaves": "leaves.jsonl",
    "keys": "keys.jsonl",
    "events": "events.jsonl",
    "csv": "events.csv",
}


def _seq(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("seq is not a non-negative integer")
    return value


def jcs(obj: Any) -> bytes:
    """`obj` as RFC 8785 canonical JSON (sorted keys, no spaces, UTF-8)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def parse_leaf(raw: bytes) -> tuple[int, Any]:
    """(seq, (raw, leaf object)) of a leaves.jsonl line; ValueError if not canonical."""
    obj = load_json(raw)
    if not isinstance(obj, dict) or set(obj) != LEAF_FIELDS:
        raise ValueError("is not a leaf object with exactly the nine leaf fields")
    for name in ("notification_id", "originator_version"):
        _seq(obj[name])
    strings = ("ciphertext", "key_ref", "nonce", "originator_id", "topic")
    if not all(isinstance(obj[name], str) for name in strings):
        raise ValueError("a leaf field that must be a string is not")
    if obj["compression"] not in ("zlib", "none"):
        raise ValueError("compression is neither 'zlib' nor 'none'")
    if jcs(obj) != raw:
        raise ValueError("is not RFC 8785 canonical JSON")
    return _seq(obj["seq"]), (raw, obj)


def parse_key(raw: bytes) -> tuple[int, Any]:
    """(seq, 32-byte key) of a keys.jsonl line; ValueError if malformed."""
    obj = load_json(raw)
    if not isinstance(obj, dict) or set(obj) != {"seq", "key"} or not isinstance(obj["key"], str):
        raise ValueError('is not an object {"seq", "key"}')
    try:
        key = base64.b64decode(obj["key"], validate=True)
    except binascii.Error as exc:
        raise ValueError("key is not base64") from exc
    if len(key) != 32:
        raise ValueError("key is not 32 bytes (AES-256)")
    return _seq(obj["seq"]), key


def parse_event(raw: bytes) -> tuple[int, Any]:
    """(seq, object) of an events.jsonl line; ValueError if it is not an object."""
    obj = load_json(raw)
    if not isinstance(obj, dict):
        raise ValueError("is not a JSON object")
    return _seq(obj.get("seq")), obj


def read_lines(
    root: Path, report: BundleReport, kind: str, parse: Callable[[bytes], tuple[int, Any]]
) -> Iterator[tuple[int, Any]]:
    """The parsed lines of one JSONL file in rising seq order; a line that is
    malformed or out of order is reported and skipped."""
    name = FILES[kind]
    try:
        fh = (root / name).open("rb")
    except OSError:
        return  # the manifest check has named it
    last = -1
    with fh:
        for number, line in enumerate(fh, start=1):
            if line.endswith(b"\n"):
                line = line[:-1]
            else:
                report.fail(name, None, f"line {number} does not end in a newline")
            try:
                seq, item = parse(line)
            except (ValueError, KeyError, TypeError) as exc:
                report.fail(name, None, f"line {number}: {exc}")
                continue
            if seq <= last:
                report.fail(name, seq, f"line {number} is out of seq order")
                continue
            last = seq
            yield seq, item


def read_csv_rows(root: Path, report: BundleReport) -> Iterator[tuple[int, Any]]:
    """The rows of events.csv in rising seq order, after checking the header row."""
    try:
        fh = (root / "events.csv").open(encoding="utf-8", newline="")
    except OSError:
        return
    last = -1
    with fh:
        rows = csv.reader(fh)
        try:
            if next(rows, None) != list(CSV_HEADER):
                report.fail("events.csv", None, "the header row is not the format's")
            for row in rows:
                seq = int(row[0]) if row and re.fullmatch(r"0|[1-9][0-9]{0,19}", row[0]) else -1
                if seq <= last:
                    report.fail("events.csv", None, f"row {rows.line_num}: bad seq")
                    continue
                last = seq
                yield seq, row
        except (csv.Error, UnicodeDecodeError) as exc:
            report.fail("events.csv", None, f"malformed CSV: {exc}")
