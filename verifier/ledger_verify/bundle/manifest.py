"""manifest.json of a bundle: its strict streaming parser, and the check that it
lists every file with the right SHA-256 (step 1 of `verify_bundle`).

Streaming because `files` has one entry per proof: millions in a large bundle.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ledger_verify.bundle.layout import (
    FORMAT,
    HEX64,
    OPTIONAL_FILES,
    PROOF_NAME,
    TOP_FILES,
    sha256_file,
)
from ledger_verify.bundle.report import BundleReport, SeqSet


class ManifestError(ValueError):
    """manifest.json is not the JSON object the format describes."""


def _reject_constant(name: str) -> Any:
    raise ManifestError(f"{name} is not JSON")


class _JsonStream:
    """A pull parser for one JSON object read in chunks, so that the `files` member
    (one entry per proof: millions in a large bundle) is never held in memory."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder(parse_constant=_reject_constant)

    def _fill(self) -> bool:
        chunk = self.fh.read(1 << 16)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character, not consumed ("" at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or not self._fill():
                return self.buf[self.pos : self.pos + 1]

    def take(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            raise ManifestError(f"expected one of {allowed!r}, found {char or 'the end'!r}")
        self.pos += 1
        return char

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                obj, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise ManifestError(f"not valid JSON: {exc.msg}") from exc
            except RecursionError:
                raise ManifestError("a value is nested too deeply") from None
            # a number or literal ending at the buffer's end may go on in the next chunk
            if end == len(self.buf) and not self.eof and self._fill():
                continue
            self.pos = end
            return obj

    def string(self) -> str:
        if self.peek() != '"':
            raise ManifestError("expected a JSON string")
        text = self.value()
        assert isinstance(text, str)
        return text


def parse_manifest(fh: IO[str], on_file: Callable[[str, str], None]) -> dict[str, Any]:
    """Parse manifest.json strictly, streaming: calls `on_file(path, sha256 hex)` for
    each `files` entry and returns every other member. Raises ManifestError."""
    stream = _JsonStream(fh)
    header: dict[str, Any] = {}
    seen_files = False
    stream.take("{")
    if stream.peek() == "}":
        stream.take("}")
    else:
        while True:
            key = stream.string()
            stream.take(":")
            if key in header or (key == "files" and seen_files):
                raise ManifestError(f"member {key!r} appears twice")
            if key == "files":
                seen_files = True
                stream.take("{")
                if stream.peek() == "}":
                    stream.take("}")
                else:
                    while True:
                        path = stream.string()
                        stream.take(":")
                        on_file(path, stream.string())
                        if stream.take(",}") == "}":
                            break
            else:
                header[key] = stream.value()
            if stream.take(",}") == "}":
                break
    if stream.peek():
        raise ManifestError("text follows the JSON object")
    if not seen_files:
        raise ManifestError("it has no 'files' member")
    return header


@dataclass
class ManifestListing:
    """What manifest.json holds besides the digests: its other members, and which
    top-level files and proofs it lists."""

    header: dict[str, Any] = field(default_factory=dict)
    top: set[str] = field(default_factory=set)
    proofs: SeqSet = field(default_factory=SeqSet)


def check_manifest(root: Path, report: BundleReport, size: int | None) -> ManifestListing:
    """Check that manifest.json lists every top-level file and each listed file with
    its SHA-256; records the bundle digest and each failure in `report`. `size`: the
    checkpoint's size, which every listed proof's seq must be below (None: the
    checkpoint does not parse, and has failed already)."""
    listing = ManifestListing(proofs=SeqSet(size or 0))

    def on_file(path: str, digest: str) -> None:
        match = PROOF_NAME.fullmatch(path)
        seq = int(match[1]) if match else None
        if path in TOP_FILES or path in OPTIONAL_FILES:
            if path in listing.top:
                report.fail("manifest.json", None, f"lists {path} twice")
            listing.top.add(path)
        elif seq is not None:
            if size is None:
                pass  # no checkpoint: nothing to bound the seq by, so nothing kept
            elif seq >= size:
                report.fail("manifest.json", seq, f"lists {path}, beyond the checkpoint's size")
            elif not listing.proofs.add(seq):
                report.fail("manifest.json", seq, f"lists {path} twice")
        else:
            report.fail("manifest.json", None, f"lists an unexpected file {path!r}")
            return
        actual = sha256_file(root / path)
        if not HEX64.fullmatch(digest):
            report.fail(path, seq, "manifest.json gives no lowercase SHA-256 hex for it")
        elif actual is None:
            report.fail(path, seq, "listed in manifest.json but missing")
        elif actual != digest:
            report.fail(path, seq, "its SHA-256 differs from manifest.json: it was changed")

    path = root / "manifest.json"
    digest = sha256_file(path)
    if digest is None:
        report.fail("manifest.json", None, "missing: this is not a bundle")
        return listing
    report.bundle_digest = digest
    try:
        with path.open(encoding="utf-8") as fh:
            listing.header = parse_manifest(fh, on_file)
    except (ManifestError, UnicodeDecodeError) as exc:
        report.fail("manifest.json", None, f"malformed: {exc}")
    for name in TOP_FILES:
        if name not in listing.top:
            report.fail("manifest.json", None, f"does not list {name}")
    if listing.header.get("format") != FORMAT:
        report.fail("manifest.json", None, f"format is not {FORMAT}")
    return listing
