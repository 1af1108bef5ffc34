"""A real `ledger serve` (gunicorn) for the end-to-end fault tests, and a load of mixed
writes against it: registrations, profile changes with If-Match, consents, complaints
and their transitions, from many concurrent clients.

Every answer is counted by status; every 2xx answer's (aggregate id, version) is kept,
so a test can check afterwards that the event it announced is in the store.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from security.bootstrap import Ledger

ROOT = Path(__file__).resolve().parents[2]
WANG = {
    "kind": "individual",
    "name": "王小明",
    "date_of_birth": "1958-02-03",
    "gender": "male",
    "phone": "13812345678",
    "email": "wang.xiaoming@example.cn",
    "id_document": {
        "type": "resident_id",
        "number": "110101195802031234",
        "expires_on": "2031-01-01",
    },
    "branch": "BJ-01",
}
GRANT = {
    "data_categories": ["contact", "preferences"],
    "notice_version": "2026.1",
    "method": "electronic",
    "evidence": "app consent screen",
}
CASE_STEPS: list[dict[str, Any]] = [
    {"transition": "acknowledge", "method": "sms"},
    {"transition": "start_investigation"},
    {"transition": "resolve", "outcome": "refunded", "root_cause": "system"},
]


def ledger_cli(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`ledger ARGS` as a user runs it, in `env`."""
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running `ledger serve`: its process (the gunicorn master) and address."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path | None = None

    def log_lines(self, containing: str = "") -> list[str]:
        """The server's log lines holding `containing` (all lines by default)."""
        if self.log_path is None or not self.log_path.exists():
            return []
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if containing in line]

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> tuple[int, dict[str, str], Any]:
        """One request on a fresh connection; (status, headers, JSON body or None)."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return response.status, dict(response.getheaders()), parsed
        finally:
            connection.close()

    def workers(self) -> set[int]:
        """The pids of the master's worker processes."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(pid) for pid in path.read_text().split()}

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                status, _, last = self.request("GET", "/readyz", timeout=5)
                if status == 200:
                    return
            except OSError as exc:
                last = exc
            time.sleep(0.3)
        raise AssertionError(f"ledger serve not ready in {timeout} s: {last}")


@contextmanager
def serving(env: dict[str, str], workers: int = 2) -> Iterator[Server]:
    """`ledger serve` on a free port in `env` (a ledger must exist there), ready. Its
    log goes to `server.log` in the data directory (`Server.log_lines` reads it)."""
    port = free_port()
    log_path = Path(env["LEDGER_DATA_DIR"]) / "server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "web.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=log_file,
        )
    server = Server(proc, port, log_path)
    try:
        server.wait_ready()
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class LoadResult:
    """What the clients saw."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    written: list[tuple[UUID, int]] = field(default_factory=list)
    # (seconds since the start, status; 0 for a connection cut before any answer)
    timeline: list[tuple[float, int]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    server_errors: list[tuple[str, int, Any]] = field(default_factory=list)
    # the first body of each (kind, status) that is not a 2xx, to tell what went wrong
    samples: dict[tuple[str, int], Any] = field(default_factory=dict)

    def by_status(self) -> Counter[int]:
        totals: Counter[int] = Counter()
        for (_, status), count in self.statuses.items():
            totals[status] += count
        return totals

    def ok_after(self, moment: float) -> int:
        """How many 2xx answers came after `moment` (seconds since the start)."""
        return sum(1 for at, status in self.timeline if at > moment and 200 <= status < 300)


class MixedWrites:
    """`clients` threads writing for `seconds` through `server`, each with its own seed."""

    def __init__(self, server: Server, token: str, clients: int, seed: int = 12) -> None:
        self.server = server
        self.token = token
        self.clients = clients
        self.seed = seed
        self.lock = threading.Lock()
        self.customers: list[list[Any]] = []  # [id, etag]
        self.cases: list[list[Any]] = []  # [id, etag, step]
        self.result = LoadResult()
        self.started = 0.0

    def run(self, seconds: float, during: Callable[[float], None] | None = None) -> LoadResult:
        """Write for `seconds`; `during(elapsed)` is called about every 0.1 s meanwhile."""
        self.started = time.monotonic()
        stop = self.started + seconds
        threads = [
            threading.Thread(target=self._client, args=(i, stop), daemon=True)
            for i in range(self.clients)
        ]
        for thread in threads:
            thread.start()
        while time.monotonic() < stop:
            if during is not None:
                during(time.monotonic() - self.started)
            time.sleep(0.1)
        for thread in threads:
            thread.join(timeout=90)
        return self.result

    # --- one client -------------------------------------------------------------------

    def _client(self, index: int, stop: float) -> None:
        rng = random.Random(self.seed * 1000 + index)
        actions = [
            (self._register, 3),
            (self._patch, 3),
            (self._consent, 2),
            (self._complaint, 1),
            (self._transition, 2),
        ]
        choices = [action for action, weight in actions for _ in range(weight)]
        while time.monotonic() < stop:
            rng.choice(choices)(rng)

    def _call(
        self, kind: str, method: str, path: str, body: Any = None, **headers: str
    ) -> tuple[int, dict[str, str], Any]:
        try:
            status, got, data = self.server.request(
                method, "/api/v1" + path, self.token, body, headers
            )
        except (OSError, http.client.HTTPException) as exc:
            with self.lock:
                self.result.dropped[type(exc).__name__] += 1
                self.result.timeline.append((time.monotonic() - self.started, 0))
            return 0, {}, None
        with self.lock:
            self.result.statuses[(kind, status)] += 1
            self.result.timeline.append((time.monotonic() - self.started, status))
            if status >= 300:
                self.result.samples.setdefault((kind, status), data)
            if status >= 500:
                self.result.server_errors.append((kind, status, data))
            if 200 <= status < 300 and method != "GET":
                self.result.written.append((UUID(data["id"]), int(data["version"])))
        return status, got, data

    def _pick(self, pool: list[list[Any]], rng: random.Random) -> list[Any] | None:
        with self.lock:
            return rng.choice(pool) if pool else None

    def _register(self, rng: random.Random) -> None:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if rng.random() < 0.5 else {}
        # one person holds one document number: a fresh one per registration, else every
        # registration after the first is a 409 and the load writes next to nothing
        number = f"L{rng.getrandbits(80):020x}"
        body = {**WANG, "id_document": {**WANG["id_document"], "number": number}}
        status, got, data = self._call("register", "POST", "/customers", body, **headers)
        if status == 201:
            with self.lock:
                self.customers.append([data["id"], got["ETag"]])

    def _patch(self, rng: random.Random) -> None:
        customer = self._pick(self.customers, rng)
        if customer is None:
            return self._register(rng)
        body = {"email": f"c{rng.randrange(10**6)}@example.cn", "source": "customer"}
        status, got, _ = self._call(
            "patch", "PATCH", f"/customers/{customer[0]}", body, **{"If-Match": customer[1]}
        )
        if status == 200:
            customer[1] = got["ETag"]
        elif status == 412:
            status, got, _ = self._call("read", "GET", f"/customers/{customer[0]}")
            if status == 200:
                customer[1] = got["ETag"]
        return None

    def _consent(self, rng: random.Random) -> None:
        customer = self._pick(self.customers, rng)
        if customer is None:
            return self._register(rng)
        body = {**GRANT, "purpose": rng.choice(["marketing", "greetings"])}
        self._call("consent", "POST", f"/customers/{customer[0]}/consents", body)
        return None

    def _complaint(self, rng: random.Random) -> None:
        customer = self._pick(self.customers, rng)
        if customer is None:
            return self._register(rng)
        body = {
            "customer_id": customer[0],
            "kind": "complaint",
            "category": "fees",
            "narrative": "charged twice for one transfer",
        }
        status, got, data = self._call("complaint", "POST", "/feedback", body)
        if status == 201:
            with self.lock:
                self.cases.append([data["id"], got["ETag"], 0])
        return None

    def _transition(self, rng: random.Random) -> None:
        case = self._pick(self.cases, rng)
        if case is None or case[2] >= len(CASE_STEPS):
            return self._complaint(rng)
        status, got, _ = self._call(
            "transition",
            "POST",
            f"/feedback/{case[0]}/transitions",
            CASE_STEPS[case[2]],
            **{"If-Match": case[1]},
        )
        if status == 200:
            case[1], case[2] = got["ETag"], case[2] + 1
        elif status in (409, 412):
            status, got, data = self._call("read", "GET", f"/feedback/{case[0]}")
            if status == 200:
                case[1] = got["ETag"]
                states = ["received", "acknowledged", "investigating"]
                case[2] = states.index(data["state"]) if data["state"] in states else 3
        return None


def missing_events(ledger: Ledger, written: list[tuple[UUID, int]]) -> list[tuple[UUID, int]]:
    """The (aggregate, version) pairs announced by a 2xx that the store does not hold."""
    recorder = ledger.app.recorder
    return [
        (aggregate_id, version)
        for aggregate_id, version in written
        if not recorder.select_events(aggregate_id, gt=version - 1, lte=version)
    ]


def unreadable_aggregates(ledger: Ledger, written: list[tuple[UUID, int]]) -> list[UUID]:
    """The aggregates announced by a 2xx whose events do not all decrypt and replay."""
    bad = []
    for aggregate_id in sorted({aggregate_id for aggregate_id, _ in written}):
        try:
            ledger.app.repository.get(aggregate_id)
        except Exception:
            bad.append(aggregate_id)
    return bad


def environment(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """A process environment pointing at one ledger (no keyring override)."""
    env = {**os.environ, "LEDGER_DATA_DIR": str(data_dir), **extra}
    for name in (
        "LEDGER_DATABASE_URL",
        "LEDGER_ANCHOR_FILE",
        "LEDGER_KEYRING",
        "LEDGER_KEYRING_FILE",
    ):
        env.pop(name, None)
    if database_url:
        env["LEDGER_DATABASE_URL"] = database_url
    return env
