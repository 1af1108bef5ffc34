"""The witness's HTTP interface: C2SP tlog-witness `add-checkpoint` (and the monitor's
`GET /<sha256 hex of origin>/checkpoint`), served by the stdlib's threading server.

`add_checkpoint` is the whole protocol as a function of the request body; the HTTP
handler only maps it onto status, content type and body. Status codes follow the
spec: 400 malformed request or old size above the checkpoint's, 403 no valid
signature of the log's key, 404 unknown origin, 409 old size is not the latest
cosigned size (body: that size, `text/x.tlog.size`), 422 a consistency failure
(bad proof, same size with another checkpoint body: another root or extension
lines, non-empty proof from size 0), 200 the
cosignature line. A refused checkpoint never changes the state.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ledger_verify.checkpoints import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint,
    verify_checkpoint,
)
from ledger_verify.checkpoints import parse_verifier_key as parse_log_vkey
from ledger_verify.cosignature import append_signature_lines, cosign
from ledger_verify.merkle import ProofError, verify_consistency
from security.witness.state import WitnessState

log = logging.getLogger("crm_ledger.witness")

EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024
SIZE_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"old (0|[1-9][0-9]*)")


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    text = body.decode("utf-8")
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if not sep or match is None:
        raise ValueError("the body must start with `old <size>`, proof lines and a blank line")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        raw = base64.b64decode(line.encode("ascii"), validate=True)
        if len(raw) != 32:
            raise ValueError("a consistency proof line is not a 32-byte hash")
        proof.append(raw)
    return int(match.group(1)), proof, note


def _same_body(cosigned: str, checkpoint: Checkpoint) -> bool:
    """Whether `checkpoint` is the checkpoint last cosigned (its note `cosigned`): the
    same size must be the same checkpoint, extension lines included (C2SP
    tlog-witness), else the log shows two signed states at one size (two subject-map
    roots, say). A state written before notes were kept compares the root only."""
    if not cosigned:
        return True
    try:
        return parse_checkpoint(cosigned).body == checkpoint.body
    except CheckpointError:
        return False


def add_checkpoint(state: WitnessState, body: bytes) -> Response:
    """Handle one add-checkpoint request body (see the module docstring)."""
    try:
        old, proof, note = _parse_request(body)
        checkpoint = parse_checkpoint(note)
    except (ValueError, UnicodeError, binascii.Error, CheckpointError) as exc:
        return Response(400, f"malformed request: {exc}\n")
    with state.locked() as data:
        known = state.log(data, checkpoint.origin)
        if known is None:
            return Response(404, f"unknown log origin {checkpoint.origin!r}\n")
        try:
            name, _kid, public_key = parse_log_vkey(known.vkey)
            verify_checkpoint(note, public_key, name, origin=checkpoint.origin)
        except CheckpointError as exc:
            return Response(403, f"checkpoint not signed by the log's key: {exc}\n")
        if old > checkpoint.size:
            return Response(400, "old size is larger than the checkpoint size\n")
        if old != known.size:
            log.warning(
                "witness: %s submitted old size %d, latest cosigned is %d",
                checkpoint.origin,
                old,
                known.size,
            )
            return Response(409, f"{known.size}\n", SIZE_TYPE)
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            return Response(422, "a checkpoint of size 0 must have the empty tree's root\n")
        if old == 0 and proof:
            return Response(422, "a consistency proof from size 0 must be empty\n")
        if old == checkpoint.size and old > 0:
            if checkpoint.root != known.root or proof or not _same_body(known.note, checkpoint):
                log.error("witness: %s forked at size %d", checkpoint.origin, old)
                return Response(422, "another checkpoint at the latest cosigned size (a fork)\n")
        elif old > 0:
            try:
                verify_consistency(old, checkpoint.size, proof, known.root, checkpoint.root)
            except ProofError as exc:
                log.error("witness: %s inconsistent: %s", checkpoint.origin, exc)
                return Response(422, f"consistency proof does not verify: {exc}\n")
        line = cosign(checkpoint.body, state.key, state.name)
        data[checkpoint.origin].update(
            size=checkpoint.size,
            root=base64.b64encode(checkpoint.root).decode("ascii"),
            note=append_signature_lines(note, [line]),
        )
        state.save(data)
    return Response(200, line)


def latest_checkpoint(state: WitnessState, origin_hash: str) -> Response:
    """The latest cosigned checkpoint of the log whose origin hashes to `origin_hash`."""
    for entry in state.logs():
        digest = hashlib.sha256(entry.origin.encode("utf-8")).hexdigest()
        if digest == origin_hash and entry.note:
            return Response(200, entry.note)
    return Response(404, "no checkpoint cosigned for that log\n")


class WitnessHandler(BaseHTTPRequestHandler):
    """Maps HTTP onto `add_checkpoint` and `latest_checkpoint`."""

    server: WitnessServer
    protocol_version = "HTTP/1.1"

    def _send(self, response: Response) -> None:
        payload = response.body.encode("utf-8")
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/add-checkpoint":
            self._send(Response(404, "not found\n"))
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(Response(411, "Content-Length required\n"))
            return
        if not 0 <= length <= MAX_BODY:
            self._send(Response(413, "request body too large\n"))
            return
        self._send(add_checkpoint(self.server.state, self.rfile.read(length)))

    def do_GET(self) -> None:
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "checkpoint":
            self._send(latest_checkpoint(self.server.state, parts[0]))
        else:
            self._send(Response(404, "not found\n"))

    def log_message(self, format: str, *args: Any) -> None:
        log.info("witness: %s " + format, self.address_string(), *args)


class WitnessServer(ThreadingHTTPServer):
    """The witness's HTTP server over its folder's state."""

    daemon_threads = True

    def __init__(self, state: WitnessState, host: str, port: int) -> None:
        self.state = state
        super().__init__((host, port), WitnessHandler)
