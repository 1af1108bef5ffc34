"""The file layout of an audit-trail bundle (docs/export-format.md) and safe reading of it.

Pure: shared by the exporter, which writes this layout, and the offline verifier,
which reads it; needs nothing but the standard library.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path
from typing import IO, Any, Final

FORMAT: Final = "crm-ledger-bundle/v1"
TOP_FILES: Final = (
    "README.txt",
    "checkpoint",
    "events.csv",
    "events.jsonl",
    "keys.jsonl",
    "leaves.jsonl",
    "log.pub",
    "log.vkey",
)
OPTIONAL_FILES: Final = ("completeness.jsonl", "window.json")
"""Top-level files only some bundles hold (a customer scope's completeness proof, a
time window's log range)."""
PROOF_NAME: Final = re.compile(r"proofs/(0|[1-9][0-9]{0,19})\.tlog-proof")
HEX64: Final = re.compile(r"[0-9a-f]{64}")


def load_json(raw: bytes | str) -> Any:
    """`json.loads` of untrusted text, with nesting too deep for the parser
    (RecursionError) a ValueError like any other malformed JSON."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("is nested too deeply to be the format's JSON") from None


def proof_path(seq: int) -> str:
    """The bundle-relative path of the inclusion proof of leaf `seq`."""
    return f"proofs/{seq}.tlog-proof"


def open_regular(path: Path) -> IO[bytes] | None:
    """The file opened for reading if it is a regular file and not a symbolic link
    (a link could point outside the bundle); None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def sha256_file(path: Path) -> str | None:
    """SHA-256 hex of a regular file, None if it is missing or not a regular file."""
    fh = open_regular(path)
    if fh is None:
        return None
    digest = hashlib.sha256()
    with fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
