"""Run every benchmark section (each module named in SECTIONS, with a `run()`).

`python -m benchmarks [SECTION ...] [--option value ...]` runs only the named sections
(options are read by the sections, e.g. `api --store postgres`). A section that
fails (prints FAIL and exits non-zero) does not stop the others; the run then exits 1.
Shared helpers for sections (interleaved rounds, median with min-max, error counts by
status code) are in benchmarks.rounds.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks

# --- section registry: one line per section, in the order a full run takes them ------
SECTIONS: list[str] = [
    "core",
    "projections",
    "export",
    "api",
    "sealing",
    "subject_map",
    "verify",
    "partitions",
    "hsm",
    "scale",  # only when named: hours at 10M events (make bench-scale)
]
# --- end of the section registry --------------------------------------------------------

HELPERS = {"rounds", "scale_report"}  # modules of this package that are not sections


def main() -> None:
    found = {
        m.name
        for m in pkgutil.iter_modules(benchmarks.__path__)
        if not m.name.startswith("_") and m.name not in HELPERS
    }
    names = [n for n in SECTIONS if n in found] + sorted(found - set(SECTIONS))
    only: set[str] = set()
    option_value = False
    for arg in sys.argv[1:]:  # options (`--store postgres`) are for the sections
        if option_value:
            option_value = False
        elif arg.startswith("--"):
            option_value = "=" not in arg
        else:
            only.add(arg)
    unknown = only - set(names)
    if unknown:
        print(f"error: unknown benchmark section(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        sys.exit(2)
    failed: list[str] = []
    for name in names:
        if only and name not in only:
            continue
        if name == "scale" and not only:  # hours at 10M events: only when named (make bench-scale)
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        print(f"== {name} ==", flush=True)
        started = time.perf_counter()
        try:
            run()
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed.append(name)
        print(f"   ({name} took {time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        print(f"FAIL: section(s) {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
