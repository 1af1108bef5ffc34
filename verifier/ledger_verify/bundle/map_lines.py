"""The line format shared by both kinds of completeness.jsonl line (docs/export-format.md,
"completeness.jsonl"): a subject-map proof as `siblings` and `terminal`, a chain as
`[[seq, base64 leaf hash], ...]`, each line RFC 8785 JSON."""

from __future__ import annotations

import base64
import json
from typing import Any, Final

from ledger_verify.bundle.layout import load_json
from ledger_verify.smt import Leaf, MapProof, canonical_b64decode

COMPLETENESS: Final = "completeness.jsonl"


def _seq(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a chain seq is not a non-negative integer")
    return value


def proof_of(siblings: Any, terminal: Any) -> MapProof:
    """The map proof of a line's `siblings` and `terminal` members; ValueError if
    they are not the format's."""
    if not isinstance(siblings, list):
        raise ValueError("siblings is a list")
    leaf = None
    if terminal is not None:
        if not isinstance(terminal, dict) or set(terminal) != {"key", "value"}:
            raise ValueError("terminal is null or {key, value}")
        leaf = Leaf(canonical_b64decode(terminal["key"]), canonical_b64decode(terminal["value"]))
        if len(leaf.key) != 32:
            raise ValueError("a terminal key is 32 bytes")
    return MapProof(tuple(canonical_b64decode(s) for s in siblings), leaf)


def steps_of(chain: Any) -> list[tuple[int, bytes]]:
    """The (seq, leaf hash) steps of a line's `chain` member; ValueError if malformed."""
    if not isinstance(chain, list):
        raise ValueError("chain is a list")
    steps = []
    for step in chain:
        if not isinstance(step, list) or len(step) != 2:
            raise ValueError("a chain step is [seq, leaf hash]")
        steps.append((_seq(step[0]), canonical_b64decode(step[1])))
    return steps


def canonical_line(raw: bytes, members: set[str]) -> dict[str, Any]:
    """The object of an RFC 8785 line with exactly `members` and a string `subject`;
    ValueError otherwise."""
    obj = load_json(raw)
    if not isinstance(obj, dict) or set(obj) != members:
        raise ValueError(f"needs exactly {', '.join(sorted(members))}")
    if json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() != raw:
        raise ValueError("is not canonical JSON")
    if not isinstance(obj["subject"], str):
        raise ValueError("subject is a string")
    return obj


def proof_json(proof: MapProof) -> dict[str, Any]:
    """The `siblings` and `terminal` members of a map proof."""

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    terminal = proof.terminal
    return {
        "siblings": [b64(s) for s in proof.siblings],
        "terminal": None
        if terminal is None
        else {"key": b64(terminal.key), "value": b64(terminal.value)},
    }


def chain_json(chain: list[tuple[int, bytes]]) -> list[list[Any]]:
    """The `chain` member of a line."""
    return [[seq, base64.b64encode(digest).decode("ascii")] for seq, digest in chain]
