"""Idempotent POSTs: a replay with the same `Idempotency-Key` gets the first answer.

Keys are scoped to the caller (token subject). The first request with a key
reserves it; its response (any status below 500) is stored; a replay with the same
method, path and body gets that stored response and records nothing new; the same
key with a different request gets 422; a replay while the first is still running
gets 409. A 5xx frees the key so the client can retry (when the store itself is
unavailable then, the reservation stays and is taken over once stale).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, g, request

from security.dialect import Dialect
from security.store_faults import classify, retry_busy
from web.auth import current_principal
from web.problems import problem

HEADER = "Idempotency-Key"
STALE_SECONDS = 120  # longer than any request may run (gunicorn's timeout is 60 s)
KEPT_HEADERS = ("ETag", "Location", "Content-Type")

log = logging.getLogger("web.idempotency")


def create_table_statements(dialect: Dialect) -> list[str]:
    """DDL of the idempotency table."""
    return [
        f"CREATE TABLE IF NOT EXISTS {dialect.table('web_idempotency')} ("
        "actor_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
        "status INTEGER, body TEXT, headers TEXT, created_at TEXT NOT NULL, "
        "PRIMARY KEY (actor_id, idem_key))"
    ]


class IdempotencyStore:
    def __init__(self, datastore: Any, dialect: Dialect) -> None:
        self.datastore = datastore
        self.dialect = dialect
        self.table = dialect.table("web_idempotency")
        dialect.create_tables(datastore, create_table_statements(dialect))

    # Each of these is one transaction, rolled back when it fails: a busy store (a lock
    # or deadlock past its timeout) is tried again with backoff (`retry_busy`).

    def reserve(self, actor: str, key: str, fingerprint: str) -> dict[str, Any] | None:
        """Reserve the key; or return the existing row if it was used before."""
        return retry_busy(lambda: self._reserve(actor, key, fingerprint))

    def complete(self, actor: str, key: str, response: Response) -> None:
        retry_busy(lambda: self._complete(actor, key, response))

    def release(self, actor: str, key: str) -> None:
        retry_busy(lambda: self._release(actor, key))

    def _reserve(self, actor: str, key: str, fingerprint: str) -> dict[str, Any] | None:
        with self.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"INSERT INTO {self.table} (actor_id, idem_key, fingerprint, created_at) "
                "VALUES (?,?,?,?) ON CONFLICT (actor_id, idem_key) DO NOTHING",
                (actor, key, fingerprint, datetime.now(UTC).isoformat()),
            )
            inserted = self.dialect.rowcount(cursor) == 1
            if inserted:
                return None
            # a reservation whose request died with its worker is taken over, or the
            # key would answer 409 forever
            stale = (datetime.now(UTC) - timedelta(seconds=STALE_SECONDS)).isoformat()
            self.dialect.execute(
                cursor,
                f"UPDATE {self.table} SET fingerprint=?, created_at=? WHERE actor_id=? "
                "AND idem_key=? AND status IS NULL AND created_at<?",
                (fingerprint, datetime.now(UTC).isoformat(), actor, key, stale),
            )
            if self.dialect.rowcount(cursor) == 1:
                return None
            self.dialect.execute(
                cursor,
                f"SELECT * FROM {self.table} WHERE actor_id=? AND idem_key=?",
                (actor, key),
            )
            return dict(cursor.fetchone())

    def _complete(self, actor: str, key: str, response: Response) -> None:
        headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
        with self.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"UPDATE {self.table} SET status=?, body=?, headers=? "
                "WHERE actor_id=? AND idem_key=?",
                (
                    response.status_code,
                    response.get_data(as_text=True),
                    json.dumps(headers),
                    actor,
                    key,
                ),
            )

    def _release(self, actor: str, key: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self.dialect.execute(
                cursor,
                f"DELETE FROM {self.table} WHERE actor_id=? AND idem_key=?",
                (actor, key),
            )


def install(app: Flask, store_factory: Any) -> None:
    """Hook idempotency into every POST under /api/."""

    @app.before_request
    def replay_or_reserve() -> Response | None:
        key = request.headers.get(HEADER)
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return None
        if len(key) > 200 or not (key.isascii() and key.isprintable()):
            return problem(
                400,
                "bad_idempotency_key",
                "Idempotency-Key must be 1 to 200 printable ASCII characters",
            )
        try:
            actor = current_principal().actor_id
        except Exception:  # the endpoint itself answers 401 for a bad token
            return None
        digest = hashlib.sha256()
        digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
        digest.update(request.get_data(cache=True))
        fingerprint = digest.hexdigest()
        store: IdempotencyStore = store_factory()
        existing = store.reserve(actor, key, fingerprint)
        if existing is None:
            g.idempotency = (store, actor, key)
            return None
        if existing["fingerprint"] != fingerprint:
            return problem(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            )
        if existing["status"] is None:
            return problem(409, "idempotency_in_progress", "the first request is still running")
        response = Response(existing["body"], status=int(existing["status"]))
        for name, value in json.loads(existing["headers"] or "{}").items():
            response.headers[name] = value
        response.headers["Idempotent-Replayed"] = "true"
        return response

    @app.after_request
    def remember(response: Response) -> Response:
        pending = g.pop("idempotency", None)
        if pending is not None:
            store, actor, key = pending
            try:
                if response.status_code >= 500:
                    store.release(actor, key)
                else:
                    store.complete(actor, key, response)
            except Exception as exc:
                # the store went away after the command: the answer stands (a 2xx was
                # recorded); the reservation, left open, is taken over once stale
                fault = classify(exc)
                if fault is None:
                    raise
                log.warning(
                    "idempotency key not %s: store %s",
                    "released" if response.status_code >= 500 else "completed",
                    fault,
                )
        return response
