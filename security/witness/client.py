"""The ledger's side of tlog-witness: submit each new checkpoint to `LEDGER_WITNESSES`.

`WitnessSubmitter` is a `SealedLog.on_checkpoint` listener. For each configured
witness it sends `old <size>`, the consistency proof from the witness's last known
size (the largest size it cosigned, from `ledger_cosignatures`; 0 at first) and the
checkpoint; on 409 it retries once from the size the witness names. Each returned
line is verified against the witness's vkey before it is stored in
`ledger_cosignatures(origin, size, witness, line)`. Submission runs on a background
thread with a timeout: an unreachable or refusing witness is logged and retried on the
next checkpoint, and never blocks or fails sealing.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger_verify.checkpoints import CheckpointError, parse_note
from ledger_verify.cosignature import (
    Cosigner,
    append_signature_lines,
    parse_cosigner_vkey,
    verify_cosignature,
)
from security.dialect import Dialect
from security.errors import ConfigurationError

log = logging.getLogger("crm_ledger.witness")

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class WitnessEndpoint:
    """A configured witness: its cosigner key and its submission prefix URL."""

    cosigner: Cosigner
    url: str

    @property
    def add_checkpoint_url(self) -> str:
        return self.url.rstrip("/") + "/add-checkpoint"


def parse_witnesses(raw: str) -> tuple[WitnessEndpoint, ...]:
    """`LEDGER_WITNESSES`: entries separated by `;`, each `<witness vkey> <url>`."""
    endpoints = []
    for entry in raw.split(";"):
        if not entry.strip():
            continue
        parts = entry.split()
        if len(parts) != 2 or not parts[1].startswith(("http://", "https://")):
            raise ConfigurationError(
                f"LEDGER_WITNESSES entry {entry.strip()!r} must be `<witness vkey> <http(s) url>`"
            )
        try:
            cosigner = parse_cosigner_vkey(parts[0])
        except CheckpointError as exc:
            raise ConfigurationError(f"LEDGER_WITNESSES: {exc}") from None
        endpoints.append(WitnessEndpoint(cosigner, parts[1]))
    return tuple(endpoints)


class CosignatureStore:
    """`<prefix>_cosignatures`: the witnesses' cosignature lines of each checkpoint."""

    def __init__(self, datastore: Any, dialect: Dialect, prefix: str = "ledger") -> None:
        self.datastore = datastore
        self.dialect = dialect
        self.table = dialect.table(f"{prefix}_cosignatures")
        dialect.create_tables(datastore, self.create_table_statements(dialect, prefix))

    @staticmethod
    def create_table_statements(dialect: Dialect, prefix: str = "ledger") -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {dialect.table(prefix + '_cosignatures')} ("
            f"origin TEXT NOT NULL, size {dialect.bigint} NOT NULL, witness TEXT NOT NULL, "
            "line TEXT NOT NULL, PRIMARY KEY (origin, size, witness))"
        ]

    def add(self, origin: str, size: int, witness: str, line: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"DELETE FROM {self.table} WHERE origin=? AND size=? AND witness=?",
                (origin, size, witness),
            )
            self.dialect.execute(
                cursor,
                f"INSERT INTO {self.table} (origin, size, witness, line) VALUES (?,?,?,?)",
                (origin, size, witness, line),
            )

    def lines(self, origin: str, size: int) -> list[str]:
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT line FROM {self.table} WHERE origin=? AND size=? ORDER BY witness",
                (origin, size),
            )
            return [str(row["line"]) for row in cursor.fetchall()]

    def witnesses(self, origin: str, size: int) -> set[str]:
        """The witnesses (`name+key id`) whose cosignature of that checkpoint is stored."""
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT witness FROM {self.table} WHERE origin=? AND size=?",
                (origin, size),
            )
            return {str(row["witness"]) for row in cursor.fetchall()}

    def last_size(self, origin: str, witness: str) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            self.dialect.execute(
                cursor,
                f"SELECT MAX(size) AS m FROM {self.table} WHERE origin=? AND witness=?",
                (origin, witness),
            )
            row = cursor.fetchone()
        return 0 if row is None or row["m"] is None else int(row["m"])

    def cosigned(self, origin: str, size: int, note: str) -> str:
        """`note` with the stored cosignature lines of that checkpoint appended."""
        lines = self.lines(origin, size)
        return append_signature_lines(note, lines) if lines else note


class WitnessRefused(Exception):
    """A witness answered with an error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body.strip()[:200]}")
        self.status = status
        self.body = body


def post_checkpoint(url: str, old: int, proof: Sequence[bytes], note: str) -> str:
    """POST one add-checkpoint request; the response body, or WitnessRefused."""
    lines = [f"old {old}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    body = ("\n".join(lines) + "\n\n" + note).encode("utf-8")
    # the URL is from LEDGER_WITNESSES, checked to be http(s) by parse_witnesses
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "text/plain; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return str(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise WitnessRefused(exc.code, exc.read().decode("utf-8", "replace")) from None


class WitnessSubmitter:
    """Submits a sealed log's checkpoints to witnesses and stores their cosignatures."""

    def __init__(
        self,
        sealed_log: Any,
        witnesses: Sequence[WitnessEndpoint],
        store: CosignatureStore,
        *,
        background: bool = True,
    ) -> None:
        self.sealed_log = sealed_log
        self.witnesses = tuple(witnesses)
        self.store = store
        self.background = background
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __call__(self, checkpoint: Any) -> None:
        """The on_checkpoint listener: submit now, or hand over to the worker thread."""
        if not self.witnesses:
            return
        if not self.background:
            self.submit(checkpoint.size, checkpoint.note)
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="witness-submitter", daemon=True
                )
                self._thread.start()
        self._queue.put((checkpoint.size, checkpoint.note))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                # only the newest checkpoint matters: skip those already overtaken
                while not self._queue.empty():
                    self._queue.task_done()
                    item = self._queue.get_nowait()
                self.submit(*item)
            except Exception:  # pragma: no cover (submit logs its own failures)
                log.exception("witness submission failed")
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every queued checkpoint was submitted (for one-shot processes)."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def submit(self, size: int, note: str) -> int:
        """Submit the checkpoint of `size` to every witness; the number that cosigned."""
        cosigned = 0
        for witness in self.witnesses:
            try:
                self._submit_one(witness, size, note)
                cosigned += 1
            except (OSError, WitnessRefused, CheckpointError, ValueError) as exc:
                log.warning(
                    "witness %s did not cosign checkpoint %d of %s: %s (retried on the "
                    "next checkpoint)",
                    witness.cosigner,
                    size,
                    self.sealed_log.origin,
                    exc,
                )
        return cosigned

    def _proof(self, old: int, size: int) -> list[bytes]:
        if old == 0 or old == size:
            return []
        tree = self.sealed_log.shared_tree(size)
        return list(tree.consistency_proof(old, size))

    def _submit_one(self, witness: WitnessEndpoint, size: int, note: str) -> None:
        origin, name = self.sealed_log.origin, str(witness.cosigner)
        old = min(self.store.last_size(origin, name), size)
        try:
            response = post_checkpoint(
                witness.add_checkpoint_url, old, self._proof(old, size), note
            )
        except WitnessRefused as exc:
            if exc.status != 409:
                raise
            old = int(exc.body.strip())
            if old > size:
                raise WitnessRefused(
                    409, f"the witness has cosigned size {old}, larger than this log's {size}"
                ) from None
            response = post_checkpoint(
                witness.add_checkpoint_url, old, self._proof(old, size), note
            )
        body = parse_note(note).text
        stored = 0
        for line in response.splitlines(keepends=True):
            try:
                sig = parse_note(body + "\n" + line).signatures[0]
                verify_cosignature(body, sig, witness.cosigner)
            except CheckpointError:
                continue  # another key of the witness, or not ours to trust
            self.store.add(origin, size, name, line)
            stored += 1
        if not stored:
            raise CheckpointError("the response holds no valid cosignature of its key")
