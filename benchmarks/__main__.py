"""Run every benchmark section (each module of this package with a `run()`).

`python -m benchmarks [SECTION ...]` runs only the named sections. A section that
fails (prints FAIL and exits non-zero) does not stop the others; the run then exits 1.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks

ORDER = ["core", "projections", "export", "api", "sealing", "verify"]


def main() -> None:
    names = [
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")
    ]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    only = set(sys.argv[1:])
    unknown = only - set(names)
    if unknown:
        print(f"error: unknown benchmark section(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        sys.exit(2)
    failed: list[str] = []
    for name in names:
        if only and name not in only:
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
