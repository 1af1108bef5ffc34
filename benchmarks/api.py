"""REST API under load: writes and reads beside the bare /healthz ceiling, per store.

Starts `ledger serve` (gunicorn, 2 workers) on a temporary ledger seeded with
`ledger demo` - SQLite, and PostgreSQL in a fresh schema - then drives each endpoint
with concurrent clients:

- `GET /healthz`: no auth, no ledger; the ceiling of this server on this machine;
- `POST /api/v1/customers` (front office): validation, encrypted writes;
- `GET /api/v1/customers/<id>` (front office): decrypt, replay, mask;
- `GET /api/v1/customers/<id>` with `X-Purpose` (compliance): full, access-logged.

The targets run in interleaved rounds (benchmarks.rounds): every round runs each
endpoint for BENCH_API_SECONDS, in an order that alternates from round to round, so
a burst of noise from other processes lands on both sides of a ratio. Each endpoint's
share of the ceiling is the median of its per-round shares with min-max. Every
answer other than the expected 2xx is counted per endpoint and status code; any such
answer prints FAIL and the section exits 1.

The load comes from wrk (Debian package `wrk`, if on the PATH; it reports non-2xx
answers without their codes) or else from BENCH_API_CLIENT_PROCESSES (default 2)
Python processes holding the connections between them. Settings: BENCH_API_STORE
(`sqlite`, `postgres` or `both`, default both; or `python -m benchmarks api --store X`),
BENCH_API_SECONDS (default 3 per endpoint per round), BENCH_API_ROUNDS (default 5),
BENCH_API_CONNECTIONS (default 16), BENCH_API_DEMO_CUSTOMERS (default 30),
BENCH_API_CLIENT_PROCESSES, BENCH_API_THREADS (request threads per worker, passed to
`ledger serve --threads`; default: what `ledger serve` chooses, LEDGER_WEB_THREADS or its
measured default). The p50 and p99 columns are from every latency the Python clients
saw, or the median of wrk's per-round percentiles.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

from benchmarks.rounds import MIN_ROUNDS, Errors, Spread, fail_if

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_API_SECONDS", "3"))
ROUNDS = max(MIN_ROUNDS, int(os.environ.get("BENCH_API_ROUNDS", str(MIN_ROUNDS))))
CONNECTIONS = int(os.environ.get("BENCH_API_CONNECTIONS", "16"))
CLIENT_PROCESSES = max(1, int(os.environ.get("BENCH_API_CLIENT_PROCESSES", "2")))
PG_DSN = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NON_2XX = -1  # wrk's count of non-2xx answers, without their codes
TARGETS = {"POST /api/v1/customers": 0.25, "GET /api/v1/customers/<id>": 0.50}
P99_TARGET_MS = 100.0
DEMO_CUSTOMERS = int(os.environ.get("BENCH_API_DEMO_CUSTOMERS", "30"))
WORKERS = 2  # as `ledger serve` is started below
THREADS = os.environ.get("BENCH_API_THREADS", "").strip()  # "" : ledger serve's default
READ_IDS = 50

# One person holds one document number (a second registration of it is a 409
# `already_registered`): each POST gets a fresh number in place of FRESH_ID.
FRESH_ID = "__FRESH_ID__"
CUSTOMER = {
    "kind": "individual",
    "name": "王小明",
    "date_of_birth": "1980-02-03",
    "gender": "male",
    "phone": "13812345678",
    "email": "wang.xiaoming@example.cn",
    "id_document": {"type": "resident_id", "number": FRESH_ID, "expires_on": "2031-01-01"},
    "branch": "BJ-01",
}


def fresh(body: bytes | None) -> bytes | None:
    """`body` with a document number no other request uses (96 random bits)."""
    if body is None or FRESH_ID.encode() not in body:
        return body
    return body.replace(FRESH_ID.encode(), f"B{uuid.uuid4().hex[:24]}".encode())


# wrk scripts: each names what it sends; `ids` is filled in for the reads.
POST_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local template = [[{body}]]
local tag = string.gsub(tostring({{}}), "%W", ""):sub(-8) .. math.random(100000, 999999)
local n = 0
request = function()
  n = n + 1
  local body = string.gsub(template, "__FRESH_ID__", "W" .. tag .. "n" .. n)
  return wrk.format(nil, nil, nil, body)
end
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
    errors: dict[int, int]  # status code (0: no answer, -1: wrk's non-2xx) -> count
    seconds: float
    latencies: tuple[float, ...]  # seconds, every request (empty from wrk)
    p50_ms: float = 0.0
    p99_ms: float = 0.0

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


def _client_process(
    port: int, target: Target, connections: int, offset: int, seconds: float
) -> tuple[list[float], dict[int, int], float]:
    """One client process: `connections` threads sending requests for `seconds`;
    returns every latency, the error answers by status code and the time taken."""
    began = time.perf_counter()
    stop_at = began + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors: list[dict[int, int]] = [{} for _ in range(connections)]
    expected = 201 if target.method == "POST" else 200

    def client(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = offset + slot
        while time.perf_counter() < stop_at:
            path = target.paths[n % len(target.paths)]
            n += connections * CLIENT_PROCESSES
            started = time.perf_counter()
            status = 0
            try:
                conn.request(target.method, path, body=fresh(target.body), headers=target.headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
            latencies[slot].append(time.perf_counter() - started)
            if status != expected:
                errors[slot][status] = errors[slot].get(status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    merged: dict[int, int] = {}
    for found in errors:
        for code, n in found.items():
            merged[code] = merged.get(code, 0) + n
    return [x for slot in latencies for x in slot], merged, time.perf_counter() - began


def python_load(port: int, target: Target, pool: multiprocessing.pool.Pool) -> Figures:
    """CONNECTIONS connections spread over CLIENT_PROCESSES processes, for SECONDS."""
    share = [CONNECTIONS // CLIENT_PROCESSES] * CLIENT_PROCESSES
    for i in range(CONNECTIONS % CLIENT_PROCESSES):
        share[i] += 1
    results = pool.starmap(
        _client_process,
        [(port, target, n, sum(share[:i]), SECONDS) for i, n in enumerate(share) if n],
    )
    elapsed = max(taken for _, _, taken in results)
    every = sorted(x for found, _, _ in results for x in found)
    errors: dict[int, int] = {}
    for _, found, _ in results:
        for code, n in found.items():
            errors[code] = errors.get(code, 0) + n
    if not every:
        return Figures(0, errors, elapsed, ())
    p99 = every[min(len(every) - 1, int(len(every) * 0.99))]
    return Figures(
        len(every),
        errors,
        elapsed,
        tuple(every),
        statistics.median(every) * 1000,
        p99 * 1000,
    )


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
    return Figures(
        requests,
        {NON_2XX: errors} if errors else {},
        seconds,
        (),
        percentiles.get("50%", 0.0),
        percentiles["99%"],
    )


def latency_columns(
    latencies: list[float], p50s: list[float], p99s: list[float]
) -> tuple[float, float]:
    """The p50 and p99 columns in ms: from every latency (seconds) when the Python
    clients timed each request, else (wrk) the median of the per-round percentiles."""
    every = sorted(latencies)
    if every:
        p50 = statistics.median(every) * 1000
        return p50, every[min(len(every) - 1, int(len(every) * 0.99))] * 1000
    return statistics.median(p50s), statistics.median(p99s)


def _ms(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


def load_average(figures: tuple[float, float, float] | None = None) -> str:
    """The 1-, 5- and 15-minute load averages (now, or `figures`), as `uptime` shows them."""
    return " ".join(f"{x:.2f}" for x in (figures or os.getloadavg()))


def worker_class() -> str:
    """The worker class and threads `ledger serve` runs with here, as its options say."""
    from web.cli.serving import gunicorn_options, threads_from_env

    threads = int(THREADS) if THREADS else threads_from_env()
    options = gunicorn_options("127.0.0.1", 0, WORKERS, threads)
    return f"{options['worker_class']}, {options['threads']} thread(s) each"


# --- the run --------------------------------------------------------------------------


def stores() -> list[str]:
    """The stores to measure: BENCH_API_STORE or `--store`, default both."""
    chosen = os.environ.get("BENCH_API_STORE", "both")
    for number, arg in enumerate(sys.argv):
        if arg == "--store" and number + 1 < len(sys.argv):
            chosen = sys.argv[number + 1]
        elif arg.startswith("--store="):
            chosen = arg.split("=", 1)[1]
    if chosen not in ("sqlite", "postgres", "both"):
        raise SystemExit("error: --store must be sqlite, postgres or both")
    return ["sqlite", "postgres"] if chosen == "both" else [chosen]


def run() -> None:
    """Serve, seed, load, and print requests/s and p99 per endpoint beside /healthz."""
    problems: list[str] = []
    for store in stores():
        problems += run_store(store)
    fail_if(problems)


def run_store(store: str) -> list[str]:
    """One store: serve, seed, measure; returns the problems found (errors)."""
    schema = ""
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data = Path(tmp)
        env = {**os.environ, "LEDGER_DATA_DIR": str(data / "var")}
        env.pop("LEDGER_DATABASE_URL", None)
        if store == "postgres":
            schema = f"bench_api_{os.getpid()}"
            try:
                with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                    conn.execute(f'CREATE SCHEMA "{schema}"')
            except psycopg.Error:
                return ["postgres: unreachable"]
            env["LEDGER_DATABASE_URL"] = f"{PG_DSN}?schema={schema}"
        try:
            cli(env, "demo", "--customers", str(DEMO_CUSTOMERS))
            front = cli(
                env,
                "token",
                "issue",
                "--role",
                "front_office",
                "--subject",
                "bench-fo",
                "--branch",
                "BJ-01",
            )
            compliance = cli(
                env, "token", "issue", "--role", "compliance_officer", "--subject", "co"
            )
            port = free_port()
            serve = ["serve", "--port", str(port), "--workers", str(WORKERS)]
            if THREADS:
                serve += ["--threads", THREADS]
            proc = subprocess.Popen(
                [sys.executable, "-m", "web.cli", *serve],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                wait_until_up(port, proc)
                return _measure(store, port, front, compliance, data)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            if schema:
                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _measure(store: str, port: int, front: str, compliance: str, workdir: Path) -> list[str]:
    body = json.dumps(CUSTOMER, ensure_ascii=False).encode()
    auth = {"Authorization": f"Bearer {front}", "Content-Type": "application/json"}
    ids = []
    for _ in range(READ_IDS):
        status, answer = request(port, "POST", "/api/v1/customers", auth, fresh(body))
        if status != 201:
            return [f"{store}: seeding POST /api/v1/customers answered {status}"]
        ids.append(json.loads(answer)["id"])
    reads = [f"/api/v1/customers/{i}" for i in ids]
    ceiling = "GET /healthz (ceiling)"
    targets = [
        Target(ceiling, "GET", ["/healthz"], {}),
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
    how = (
        f"wrk, {CONNECTIONS} connections"
        if wrk
        else f"{CLIENT_PROCESSES} Python client processes, {CONNECTIONS} connections in all "
        "(wrk not installed)"
    )
    print(
        f"{store}: gunicorn, {WORKERS} workers ({worker_class()}), {DEMO_CUSTOMERS} demo customers"
    )
    print(
        f"  load: {how}; {ROUNDS} interleaved rounds x {SECONDS:.0f} s per endpoint; "
        "same machine as the server"
    )
    rates: dict[str, list[float]] = {t.label: [] for t in targets}
    latencies: dict[str, list[float]] = {t.label: [] for t in targets}
    p50s: dict[str, list[float]] = {t.label: [] for t in targets}
    p99s: dict[str, list[float]] = {t.label: [] for t in targets}
    errors = Errors()
    before = os.getloadavg()
    context = multiprocessing.get_context("spawn")
    with context.Pool(CLIENT_PROCESSES) as pool:
        # every client process started and imported before the first timed round
        pool.starmap(_client_process, [(port, targets[0], 1, 0, 0.1)] * CLIENT_PROCESSES)
        for number in range(ROUNDS):
            order = targets if number % 2 == 0 else list(reversed(targets))
            for target in order:
                figures = (
                    wrk_load(port, target, workdir) if wrk else python_load(port, target, pool)
                )
                rates[target.label].append(figures.rate)
                latencies[target.label].extend(figures.latencies)
                p50s[target.label].append(figures.p50_ms)
                p99s[target.label].append(figures.p99_ms)
                for code, n in figures.errors.items():
                    errors.add(target.label, code, n)
    print(f"  load average: {load_average(before)} before the rounds, {load_average()} after")
    columns = ("req/s", "p50 ms", "p99 ms", "errors", "of ceiling (median, min-max)")
    print(
        f"  {'endpoint':<36} {columns[0]:>7} {columns[1]:>7} {columns[2]:>7}  "
        f"{columns[3]:<12} {columns[4]}"
    )
    problems = [f"{store}: {line.removeprefix('FAIL: ')}" for line in errors.lines()]
    for target in targets:
        label = target.label
        p50, p99 = latency_columns(latencies[label], p50s[label], p99s[label])
        share = ""
        if label != ceiling:
            shares = Spread(
                tuple(
                    a / b if b else 0.0 for a, b in zip(rates[label], rates[ceiling], strict=True)
                )
            )
            share = f"{shares.median:.0%} ({shares.low:.0%}-{shares.high:.0%})"
            wanted = TARGETS.get(label)
            if wanted is not None:
                met = shares.median >= wanted and p99 < P99_TARGET_MS
                share += f"  target >= {wanted:.0%}, p99 < {P99_TARGET_MS:.0f} ms: " + (
                    "met" if met else "MISSED"
                )
        print(
            f"  {label:<36} {statistics.median(rates[label]):7.0f} {p50:7.1f} {p99:7.1f}  "
            f"{errors.describe(label):<12} {share}",
            flush=True,
        )
    return problems


if __name__ == "__main__":  # pragma: no cover
    run()
