"""REST API under load: writes and reads beside the bare /healthz ceiling.

Starts `ledger serve` (gunicorn, 2 workers) on a temporary SQLite data directory
seeded with `ledger demo`, then drives, with concurrent clients, each for the same
time:

- `GET /healthz`: no auth, no ledger; the ceiling of this server on this machine;
- `POST /api/v1/customers` (front office): validation, two encrypted writes;
- `GET /api/v1/customers/<id>` (front office): decrypt, replay, mask;
- `GET /api/v1/customers/<id>` with `X-Purpose` (compliance): full, access-logged.

The load comes from wrk (Debian package `wrk`) with a Lua script when it is on the
PATH, else from a Python thread pool (the output says which). Settings:
BENCH_API_SECONDS (default 10), BENCH_API_CONNECTIONS (default 8),
BENCH_API_DEMO_CUSTOMERS (default 30).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_API_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_API_CONNECTIONS", "8"))
DEMO_CUSTOMERS = int(os.environ.get("BENCH_API_DEMO_CUSTOMERS", "30"))
WORKERS = 2  # as `ledger serve` is started below
READ_IDS = 50

CUSTOMER = {
    "kind": "individual",
    "name": "王小明",
    "date_of_birth": "1980-02-03",
    "gender": "male",
    "phone": "13812345678",
    "email": "wang.xiaoming@example.cn",
    "id_document": {
        "type": "resident_id",
        "number": "110101198002031234",
        "expires_on": "2031-01-01",
    },
    "branch": "BJ-01",
}

# wrk scripts: each names what it sends; `ids` is filled in for the reads.
POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.body = [[{body}]]
"""
GET_LUA = """
local ids = {{{ids}}}
local n = 0
wrk.headers["Authorization"] = "Bearer {token}"
{purpose}
request = function()
  n = n + 1
  return wrk.format("GET", "/api/v1/customers/" .. ids[(n % #ids) + 1])
end
"""


@dataclass(frozen=True)
class Figures:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Target:
    label: str
    method: str
    paths: list[str]
    headers: dict[str, str]
    body: bytes | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("ledger serve exited before answering")
        try:
            if request(port, "GET", "/healthz", {})[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("ledger serve did not answer /healthz within 60 s")


# --- load generators ------------------------------------------------------------------


def python_load(port: int, target: Target) -> Figures:
    """CONNECTIONS threads, each sending requests one after another for SECONDS."""
    latencies: list[list[float]] = [[] for _ in range(CONNECTIONS)]
    errors = [0] * CONNECTIONS
    stop = time.perf_counter() + SECONDS

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = slot
        while time.perf_counter() < stop:
            path = target.paths[n % len(target.paths)]
            n += CONNECTIONS
            started = time.perf_counter()
            try:
                conn.request(target.method, path, body=target.body, headers=target.headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[slot] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                conn.close()
            latencies[slot].append(time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for slot in latencies for x in slot)
    if not every:
        return Figures(0, sum(errors), elapsed, 0.0, 0.0)
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
    return Figures(len(every), sum(errors), elapsed, statistics.median(every) * 1000, p99 * 1000)


def wrk_load(port: int, target: Target, workdir: Path) -> Figures:
    """wrk with a Lua script per target; figures from its --latency summary."""
    script = workdir / f"{target.label.split()[0].lower()}-{abs(hash(target.label))}.lua"
    token = target.headers.get("Authorization", "").removeprefix("Bearer ")
    if target.method == "POST":
        script.write_text(POST_LUA.format(token=token, body=(target.body or b"").decode()))
    elif len(target.paths) > 1:
        ids = ", ".join(f'"{p.rsplit("/", 1)[1]}"' for p in target.paths)
        purpose = target.headers.get("X-Purpose")
        extra = f'wrk.headers["X-Purpose"] = "{purpose}"' if purpose else ""
        script.write_text(GET_LUA.format(ids=ids, token=token, purpose=extra))
    else:
        script.write_text("")
    threads = max(1, min(CONNECTIONS, 2))
    done = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(SECONDS))}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{target.paths[0]}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> Figures:
    """Requests, errors, duration, p50 and p99 from wrk's --latency output."""
    requests, seconds, errors = 0, 0.0, 0
    percentiles: dict[str, float] = {}
    for line in output.splitlines():
        words = line.split()
        if not words:
            continue
        if words[0] in ("50%", "99%") and len(words) == 2:
            percentiles[words[0]] = _ms(words[1])
        elif "requests in" in line:
            requests = int(words[0])
            seconds = _ms(words[3].rstrip(",")) / 1000
        elif words[0] == "Non-2xx":
            errors += int(words[-1])
        elif words[0] == "Socket" and "errors:" in line:
            errors += sum(int(w.rstrip(",")) for w in words[3::2])
    return Figures(requests, errors, seconds, percentiles.get("50%", 0.0), percentiles["99%"])


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


# --- the run --------------------------------------------------------------------------


def run() -> None:
    """Serve, seed, load, and print requests/s and p99 per endpoint beside /healthz."""
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data = Path(tmp)
        env = {**os.environ, "LEDGER_DATA_DIR": str(data / "var")}
        env.pop("LEDGER_DATABASE_URL", None)
        cli(env, "demo", "--customers", str(DEMO_CUSTOMERS))
        front = cli(env, "token", "issue", "--role", "front_office", "--subject", "bench-fo")
        compliance = cli(env, "token", "issue", "--role", "compliance_officer", "--subject", "co")
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(port, proc)
            _measure(port, front, compliance, data)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _measure(port: int, front: str, compliance: str, workdir: Path) -> None:
    body = json.dumps(CUSTOMER, ensure_ascii=False).encode()
    auth = {"Authorization": f"Bearer {front}", "Content-Type": "application/json"}
    ids = []
    for _ in range(READ_IDS):
        status, answer = request(port, "POST", "/api/v1/customers", auth, body)
        if status != 201:
            raise RuntimeError(f"seeding POST /api/v1/customers answered {status}")
        ids.append(json.loads(answer)["id"])
    reads = [f"/api/v1/customers/{i}" for i in ids]
    targets = [
        Target("GET /healthz (ceiling)", "GET", ["/healthz"], {}),
        Target("POST /api/v1/customers", "POST", ["/api/v1/customers"], auth, body),
        Target("GET /api/v1/customers/<id>", "GET", reads, {"Authorization": f"Bearer {front}"}),
        Target(
            "GET /api/v1/customers/<id> +purpose",
            "GET",
            reads,
            {"Authorization": f"Bearer {compliance}", "X-Purpose": "compliance_audit"},
        ),
    ]
    wrk = shutil.which("wrk")
    load: Callable[[Target], Figures]
    if wrk:
        load = lambda target: wrk_load(port, target, workdir)  # noqa: E731
        how = f"wrk, {CONNECTIONS} connections"
    else:
        load = lambda target: python_load(port, target)  # noqa: E731
        how = (
            f"Python thread pool, {CONNECTIONS} clients (wrk not installed: "
            "`apt-get install wrk` for a load generator that is not itself the bottleneck)"
        )
    print(f"gunicorn, {WORKERS} sync workers, SQLite, {DEMO_CUSTOMERS} demo customers")
    print(f"load: {how}; {SECONDS:.0f} s per endpoint; same machine as the server")
    columns = ("req/s", "p50 ms", "p99 ms", "errors", "of ceiling")
    print(f"  {'endpoint':<38} " + " ".join(f"{c:>9}" for c in columns))
    ceiling = 0.0
    failures: list[str] = []
    for target in targets:
        figures = load(target)
        if figures.errors:
            failures.append(f"{target.label}: {figures.errors} errors")
        if target.paths == ["/healthz"]:
            ceiling = figures.rate
        share = f"{figures.rate / ceiling:9.0%}" if ceiling else ""
        print(
            f"  {target.label:<38} {figures.rate:9.0f} {figures.p50_ms:9.1f} "
            f"{figures.p99_ms:9.1f} {figures.errors:9d} {share:>9}",
            flush=True,
        )
    if failures:
        # a figure with errors in it is not a figure
        print("FAIL: " + "; ".join(failures), flush=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    run()
