"""Audit-trail export: export and verify-bundle rates and peak memory.

For each size (BENCH_EXPORT_SIZES, default "100000,1000000") a fresh SQLite ledger
gets that many events about BENCH_EXPORT_CUSTOMERS customers (default 10,000), 1%
of them erased, sealed. Then `export_bundle(--all)` and `verify_bundle` each run
in a child process, which reports its wall time and its peak RSS (ru_maxrss), so
the figures are those of the operation alone, not of the generator.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from security.bootstrap import Settings, build_ledger

SIZES = [int(s) for s in os.environ.get("BENCH_EXPORT_SIZES", "100000,1000000").split(",") if s]
CUSTOMERS = int(os.environ.get("BENCH_EXPORT_CUSTOMERS", "10000"))
BATCH = 1000


class Touch(Aggregate):
    """One interaction with a customer: one event, encrypted under the customer's key."""

    class Event(Aggregate.Event):
        @property
        def subject_id(self) -> UUID:
            return self.customer_id  # type: ignore[attr-defined,no-any-return]

    @event("Recorded")
    def __init__(self, customer_id: UUID, channel: str, note: str, amount: str) -> None:
        self.customer_id = customer_id
        self.channel = channel
        self.note = note
        self.amount = amount


class BenchApp(Application[UUID]):
    name = "Ledger"

    def __init__(self, env: Any = None, **_: Any) -> None:
        super().__init__(env)


def generate(config: Settings, total: int) -> tuple[float, int]:
    """Write `total` events in saves of BATCH aggregates, seal, shred 1% of customers."""
    started = time.perf_counter()
    ledger = build_ledger(config, app_class=BenchApp)
    try:
        customers = [uuid4() for _ in range(min(CUSTOMERS, total))]
        for start in range(0, total, BATCH):
            ledger.app.save(
                *(
                    Touch(
                        customers[i % len(customers)],
                        "branch",
                        f"interaction {i} about product {i % 17} 客户",
                        f"{i * 13 % 9999}.{i % 100:02d}",
                    )
                    for i in range(start, min(start + BATCH, total))
                )
            )
        ledger.seal()
        erased = customers[: max(1, len(customers) // 100)]
        for customer in erased:
            ledger.keystore.shred(customer)
    finally:
        ledger.close()
    return time.perf_counter() - started, len(erased)


def _rss_mb() -> float:
    """Peak RSS of this process image in MB. VmHWM, because ru_maxrss survives exec
    and would report the (larger) generating parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(argv: list[str]) -> None:
    """Run one operation and print {"seconds", "peak_mb", "before_mb", ...} as JSON."""
    from ledger_verify.bundle.verify import verify_bundle
    from security.export.exporter import ExportActor, ExportScope, export_bundle

    operation, data_dir, bundle = argv
    if operation == "export":
        ledger = build_ledger(Settings(data_dir=Path(data_dir)), app_class=BenchApp)
        before = _rss_mb()
        started = time.perf_counter()
        result = export_bundle(
            ledger, bundle, ExportScope(everything=True), ExportActor("bench", channel="bench")
        )
        seconds = time.perf_counter() - started
        ledger.close()
        out = {"events": result.events, "erased": result.erased}
    else:
        before = _rss_mb()
        started = time.perf_counter()
        report = verify_bundle(bundle)
        seconds = time.perf_counter() - started
        assert report.ok, [str(f) for f in report.failures[:5]]
        out = {"events": report.events, "erased": report.erased}
    print(json.dumps({**out, "seconds": seconds, "peak_mb": _rss_mb(), "before_mb": before}))


def _run_child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.export", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _size_of(path: Path) -> int:
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def run_one(total: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        data = Path(tmp) / "ledger"
        gen_seconds, erased = generate(Settings(data_dir=data), total)
        print(
            f"{total} events ({min(CUSTOMERS, total)} customers, {erased} erased): "
            f"generated and sealed in {gen_seconds:.1f} s",
            flush=True,
        )
        bundle = Path(tmp) / "bundle"
        exported = _run_child("export", str(data), str(bundle))
        megabytes = _size_of(bundle) / 1e6
        verified = _run_child("verify", str(data), str(bundle))
        for name, figures in (("export", exported), ("verify-bundle", verified)):
            print(
                f"  {name:<13} {figures['events'] / figures['seconds']:9.0f} events/s "
                f"({figures['seconds']:6.1f} s)  peak RSS {figures['peak_mb']:6.0f} MB "
                f"({figures['before_mb']:.0f} MB before it started)",
                flush=True,
            )
        print(f"  bundle size   {megabytes:9.0f} MB, Merkle tree held {total * 64 / 1e6:.0f} MB")


def run() -> None:
    """Print export and verify-bundle rates and peak memory for each size."""
    for total in SIZES:
        run_one(total)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(sys.argv[1:])
    else:
        run()
