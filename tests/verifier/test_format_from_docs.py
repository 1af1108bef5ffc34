"""docs/export-format.md is true to the bytes: an independent implementation written
from that page alone (its own JSON and CSV writers, `cryptography`'s HKDF and
AES-GCM) decrypts a real bundle and reproduces its events.jsonl and events.csv
byte for byte.

Deliberately uses none of the project's code (no `ledger_verify`, no `security`):
only the page, the standard library and `cryptography`. The bundle (tests/verifier/
conftest.py) holds the demo's real events, a crypto-shredded customer, and awkward
values: a null and an absent `occurred_at`, formula-like and tab/CR-led cells,
quotes, commas and line breaks, Chinese and non-BMP text, typed values nested in
lists and objects."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests.verifier.conftest import ExportedBundle

pytestmark = pytest.mark.integration

# ------------------------------------------------ §4 "JSON text", written from the page

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def json_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def json_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json_string(value)
    if isinstance(value, list):
        return "[" + ",".join(json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json_string(k) + ":" + json_text(v) for k, v in value.items()) + "}"
    raise AssertionError(f"the page says the ledger writes no {type(value).__name__}")


def sorted_members(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: sorted_members(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_members(item) for item in value]
    return value


# --------------------------------------------- §4 "keys.jsonl": event key, AAD, plaintext


def event_key(data_key: bytes, originator_id: str, originator_version: int) -> bytes:
    info = originator_id.encode("utf-8") + struct.pack(">Q", originator_version)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(data_key)


def associated_data(leaf: dict[str, Any]) -> bytes:
    # RFC 8785 of three members: keys sorted, no whitespace
    members = {name: leaf[name] for name in ("originator_id", "originator_version", "topic")}
    return json_text(sorted_members(members)).encode("utf-8")


def plaintext(leaf: dict[str, Any], key: bytes) -> bytes:
    raw = AESGCM(key).decrypt(
        base64.b64decode(leaf["nonce"]), base64.b64decode(leaf["ciphertext"]), associated_data(leaf)
    )
    return zlib.decompress(raw) if leaf["compression"] == "zlib" else raw


# ----------------------------------------------- §4 "events.jsonl and events.csv"

_UUID_HEX = re.compile(r"[0-9a-f]{32}")
_OWN_COLUMNS = ("actor_id", "actor_role", "channel", "reason")
_NOT_FIELDS = {*_OWN_COLUMNS, "occurred_at", "timestamp", "originator_topic"}


def readable(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            data = value["_data_"]
            if (
                value["_type_"] == "uuid_hex"
                and isinstance(data, str)
                and _UUID_HEX.fullmatch(data)
            ):
                return f"{data[:8]}-{data[8:12]}-{data[12:16]}-{data[16:20]}-{data[20:]}"
            return readable(data)
        return {key: readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    return value


def as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json_text(value)


def render(
    leaf: dict[str, Any], customer: str | None, state: dict[str, Any] | None
) -> dict[str, Any]:
    erased = state is None
    view = readable(state) if state is not None else {}
    time = view.get("occurred_at")
    if time is None:
        time = view.get("timestamp")
    return {
        "seq": leaf["seq"],
        "time": as_text(time),
        "customer": customer,
        "event_type": leaf["topic"].rsplit(":", 1)[-1],
        "actor": as_text(view.get("actor_id")),
        "role": as_text(view.get("actor_role")),
        "channel": as_text(view.get("channel")),
        "reason": as_text(view.get("reason")),
        "erased": erased,
        "fields": {key: item for key, item in view.items() if key not in _NOT_FIELDS},
        "originator_id": leaf["originator_id"],
        "originator_version": leaf["originator_version"],
        "topic": leaf["topic"],
    }


HEADER = (
    "seq,time,customer,event_type,actor,role,channel,reason,erased,fields,"
    "originator_id,originator_version,topic"
)


def csv_cell(text: str) -> str:
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    if any(char in text for char in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_row(record: dict[str, Any]) -> str:
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
        json_text(sorted_members(record["fields"])),
        record["originator_id"],
        str(record["originator_version"]),
        record["topic"],
    ]
    return ",".join(csv_cell(cell) for cell in cells) + "\r\n"


# ------------------------------------------------------------------------------ tests


def jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as lines:
        for line in lines:
            assert line.endswith(b"\n")
            yield json.loads(line)


@pytest.fixture(scope="module")
def states(exported_bundle: ExportedBundle) -> dict[int, dict[str, Any] | None]:
    """Each leaf's decrypted state (None: no key disclosed, i.e. erased)."""
    bundle = exported_bundle.path
    keys = {line["seq"]: base64.b64decode(line["key"]) for line in jsonl(bundle / "keys.jsonl")}
    found: dict[int, dict[str, Any] | None] = {}
    for leaf in jsonl(bundle / "leaves.jsonl"):
        key = keys.get(leaf["seq"])
        found[leaf["seq"]] = None if key is None else json.loads(plaintext(leaf, key))
    return found


def test_events_jsonl_and_csv_are_what_the_page_says_byte_for_byte(
    exported_bundle: ExportedBundle, states: dict[int, dict[str, Any] | None]
) -> None:
    bundle = exported_bundle.path
    lines, rows = [], [HEADER + "\r\n"]
    for leaf in jsonl(bundle / "leaves.jsonl"):
        customer = exported_bundle.customer_of_key[leaf["key_ref"]]
        record = render(leaf, customer, states[leaf["seq"]])
        lines.append(json_text(record) + "\n")
        rows.append(csv_row(record))
    # lines end at "\n" only: the text may hold U+2028 or U+0085 raw
    written_lines = [
        line + "\n" for line in (bundle / "events.jsonl").read_bytes().decode().split("\n")[:-1]
    ]
    written_rows = (bundle / "events.csv").read_bytes().decode("utf-8").split("\r\n")
    assert len(lines) == len(written_lines)
    for ours, theirs in zip(lines, written_lines, strict=True):
        assert ours == theirs
    assert [row.removesuffix("\r\n") for row in rows] + [""] == written_rows
    assert "".join(lines).encode("utf-8") == (bundle / "events.jsonl").read_bytes()
    assert "".join(rows).encode("utf-8") == (bundle / "events.csv").read_bytes()


def test_the_bundle_exercises_every_rule_of_the_page(
    exported_bundle: ExportedBundle, states: dict[int, dict[str, Any] | None]
) -> None:
    """The comparison above means something only if the bundle has every case."""
    erased = [seq for seq, state in states.items() if state is None]
    assert erased, "a crypto-shredded customer"
    readable_states = [state for state in states.values() if state is not None]
    assert any(s.get("occurred_at", 0) is None for s in readable_states), "a null occurred_at"
    assert any("occurred_at" not in s for s in readable_states), "an absent occurred_at"
    text = json.dumps(readable_states, ensure_ascii=False)
    for needle in ("史", "𝄞", "\\t", "\\r", '\\"', ",", "uuid_hex", "date_iso", "decimal_str"):
        assert needle in text, needle
    nested = [
        s
        for s in readable_states
        if any(isinstance(v, (dict, list)) and "_type_" in json.dumps(v) for v in s.values())
    ]
    assert nested, "typed values nested in lists or objects"
    topics = {leaf["topic"] for leaf in jsonl(exported_bundle.path / "leaves.jsonl")}
    assert "domain.customer:CustomerRegistered" in topics  # the page's example topic
    cells = (exported_bundle.path / "events.csv").read_bytes().decode("utf-8")
    for start in ("'=", "'+", "'-", "'@", "'\t", "'\r"):
        assert start in cells, repr(start)


def test_keys_are_the_documented_hkdf_of_the_data_key_and_leaves_are_canonical(
    exported_bundle: ExportedBundle,
) -> None:
    bundle = exported_bundle.path
    leaves = {leaf["seq"]: leaf for leaf in jsonl(bundle / "leaves.jsonl")}
    disclosed = list(jsonl(bundle / "keys.jsonl"))
    raw_keys = (bundle / "keys.jsonl").read_bytes().splitlines()
    for line, raw in zip(disclosed, raw_keys, strict=True):
        assert raw == json_text({"seq": line["seq"], "key": line["key"]}).encode()
        leaf = leaves[line["seq"]]
        data_key = exported_bundle.data_keys[leaf["key_ref"]]
        assert data_key is not None
        derived = event_key(data_key, leaf["originator_id"], leaf["originator_version"])
        assert base64.b64decode(line["key"]) == derived
    for raw in (bundle / "leaves.jsonl").read_bytes().splitlines():
        leaf = json.loads(raw)
        assert raw == json_text(sorted_members(leaf)).encode("utf-8")
        assert set(leaf) == {
            *("ciphertext", "compression", "key_ref", "nonce", "notification_id"),
            *("originator_id", "originator_version", "seq", "topic"),
        }
    shredded = {ref for ref, key in exported_bundle.data_keys.items() if key is None}
    assert {leaves[seq]["key_ref"] for seq in set(leaves) - {d["seq"] for d in disclosed}} == (
        shredded
    )
    assert (
        hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
        in ((bundle / "manifest.sig").read_text("utf-8").split("\n")[2])
    )
