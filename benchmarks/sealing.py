"""Continuous sealing: time from a write's 2xx answer to a signed checkpoint covering it.

Starts `ledger serve` (gunicorn, 2 workers, each running the continuous sealer of
security/integrity/sealer.py; one leads) on a fresh SQLite ledger, then
BENCH_SEALING_CLIENTS (default 8) clients POST /api/v1/customers one after another for
BENCH_SEALING_SECONDS (default 15).

Per write: right after its 2xx answer the client reads the event store's highest
notification id M (the write's events are committed by then, so M is at or above
them); a poller reads the database every POLL seconds and marks the write covered
once a signed checkpoint's last leaf has a notification id >= M. The figure is an
upper bound: M may include a concurrent write committed in between, and the poll
interval adds up to POLL. Any non-2xx answer, or a write not covered within
DEADLINE seconds, prints FAIL and exits non-zero.
BENCH_SEALING_SERVER_LOG=1 prints the tail of the server's log when a write failed.

SQLite only: the api benchmark this follows serves SQLite only (it unsets
LEDGER_DATABASE_URL); PostgreSQL is not measured here.
"""

from __future__ import annotations

import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.api import CUSTOMER, ROOT, cli, free_port, wait_until_up

SECONDS = float(os.environ.get("BENCH_SEALING_SECONDS", "15"))
CLIENTS = int(os.environ.get("BENCH_SEALING_CLIENTS", "8"))
WORKERS = 2
POLL = 0.002
DEADLINE = 10.0


@dataclass
class Pending:
    """Writes answered but not yet covered: (max notification id, answered at)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    waiting: list[tuple[int, float]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    late: int = 0


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    conn.isolation_level = None  # autocommit: every SELECT sees the latest commit
    return conn


def max_event_id(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def covered_id(conn: sqlite3.Connection) -> int:
    """The notification id of the last event under the newest signed checkpoint."""
    row = conn.execute(
        "SELECT l.notification_id FROM ledger_leaves l "
        "WHERE l.seq = (SELECT MAX(size) - 1 FROM ledger_checkpoints)"
    ).fetchone()
    return int(row[0]) if row else 0


def poll(db: Path, pending: Pending, done: threading.Event) -> None:
    """Mark writes covered as checkpoints appear, until `done` and nothing waits."""
    conn = connect(db)
    try:
        while True:
            covered = covered_id(conn)
            now = time.perf_counter()
            with pending.lock:
                still = []
                for event_id, answered in pending.waiting:
                    if event_id <= covered:
                        pending.latencies.append(now - answered)
                    elif now - answered > DEADLINE:
                        pending.late += 1
                    else:
                        still.append((event_id, answered))
                pending.waiting = still
                if done.is_set() and not still:
                    return
            time.sleep(POLL)
    finally:
        conn.close()


def write(
    port: int, token: str, db: Path, pending: Pending, stop: float, errors: list[str]
) -> None:
    """POST customers one after another until `stop`; queue each 2xx for the poller."""
    body = json.dumps(CUSTOMER, ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    http_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    db_conn = connect(db)
    try:
        while time.perf_counter() < stop:
            try:
                http_conn.request("POST", "/api/v1/customers", body=body, headers=headers)
                response = http_conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                errors.append(f"{type(error).__name__}: {error}")
                http_conn.close()
                continue
            answered = time.perf_counter()
            if not 200 <= response.status < 300:
                errors.append(f"HTTP {response.status}")
                continue
            event_id = max_event_id(db_conn)
            with pending.lock:
                pending.waiting.append((event_id, answered))
            if response.getheader("Connection", "").lower() == "close":
                http_conn.close()
    finally:
        http_conn.close()
        db_conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def run() -> None:
    """Serve a fresh SQLite ledger, write, and print seal latency p50/p99/max."""
    with tempfile.TemporaryDirectory(prefix="bench-sealing-") as tmp:
        data = Path(tmp) / "var"
        env = {**os.environ, "LEDGER_DATA_DIR": str(data)}
        env.pop("LEDGER_DATABASE_URL", None)
        env.pop("LEDGER_WITNESSES", None)
        cli(env, "init")
        token = cli(
            env,
            "token",
            "issue",
            "--role",
            "front_office",
            "--subject",
            "bench-seal",
            "--branch",
            "BJ-01",
        )
        port = free_port()
        server_log = (Path(tmp) / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=server_log,
        )
        try:
            wait_until_up(port, proc)
            pending, errors, seconds = measure(port, token, data / "ledger.sqlite3")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            server_log.close()
            if errors and os.environ.get("BENCH_SEALING_SERVER_LOG"):
                print((Path(tmp) / "serve.log").read_text(errors="replace")[-4000:])
    report(pending, errors, seconds)


def measure(port: int, token: str, db: Path) -> tuple[Pending, list[str], float]:
    pending = Pending()
    errors: list[str] = []
    done = threading.Event()
    poller = threading.Thread(target=poll, args=(db, pending, done))
    stop = time.perf_counter() + SECONDS
    clients = [
        threading.Thread(target=write, args=(port, token, db, pending, stop, errors))
        for _ in range(CLIENTS)
    ]
    began = time.perf_counter()
    poller.start()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    seconds = time.perf_counter() - began
    done.set()
    poller.join(timeout=DEADLINE + 30)
    return pending, errors, seconds


def report(pending: Pending, errors: list[str], seconds: float) -> None:
    writes = len(pending.latencies) + pending.late + len(pending.waiting)
    print(
        f"gunicorn, {WORKERS} sync workers (a sealer thread in each, one leads, "
        f"interval 150 ms), SQLite, fresh ledger"
    )
    print(
        f"load: {CLIENTS} Python clients POST /api/v1/customers for {SECONDS:.0f} s; "
        f"poll every {POLL * 1000:.0f} ms; same machine as the server"
    )
    print(f"  writes answered 2xx         : {writes:9d}  ({writes / seconds:.0f}/s)")
    if pending.latencies:
        ms = [x * 1000 for x in pending.latencies]
        print(f"  seal latency p50            : {percentile(ms, 0.50):9.0f} ms")
        print(f"  seal latency p99            : {percentile(ms, 0.99):9.0f} ms")
        print(f"  seal latency max            : {max(ms):9.0f} ms")
    print("  PostgreSQL: not measured (the api benchmark serves SQLite only)", flush=True)
    failures = []
    if errors:
        failures.append(f"{len(errors)} failed write(s), first: {errors[0]}")
    late = pending.late + len(pending.waiting)
    if late:
        failures.append(f"{late} write(s) not covered by a checkpoint within {DEADLINE:.0f} s")
    if not pending.latencies:
        failures.append("no write was measured")
    if failures:
        print("FAIL: " + "; ".join(failures), flush=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
