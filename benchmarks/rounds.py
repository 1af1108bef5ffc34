"""Figures that survive a noisy machine: interleaved rounds, median with min-max.

A ratio of two rates measured one after the other puts every burst of noise on one
side. Here the two sides run in alternating rounds (A, B, A, B, …, at least
`MIN_ROUNDS` each), each round yields one ratio from its own A and B, and the report
is the median ratio with the lowest and highest beside it.

    spread = interleave({"ledger": run_ledger, "plain": run_plain}, rounds=5)
    print(spread["ledger"].describe("events/s"))
    print(ratio(spread["ledger"], spread["plain"]).describe())

Every helper here is pure Python (no dependencies) so any section can use it.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

MIN_ROUNDS = 5
_LABELS = {0: "no answer", -1: "non-2xx"}


@dataclass(frozen=True)
class Spread:
    """Samples of one figure: median with min-max."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else 0.0

    @property
    def low(self) -> float:
        return min(self.samples) if self.samples else 0.0

    @property
    def high(self) -> float:
        return max(self.samples) if self.samples else 0.0

    def describe(self, unit: str = "", digits: int = 0) -> str:
        """`1234 events/s (min 1100 - max 1300, 5 rounds)`."""
        f = f"{{:.{digits}f}}"
        tail = f" {unit}" if unit else ""
        return (
            f"{f.format(self.median)}{tail} (min {f.format(self.low)} - "
            f"max {f.format(self.high)}, {len(self.samples)} rounds)"
        )


def ratio(a: Spread, b: Spread) -> Spread:
    """Round-by-round ratio a/b (round i of a over round i of b)."""
    if len(a.samples) != len(b.samples):
        raise ValueError("a ratio needs the same number of rounds on both sides")
    return Spread(tuple(x / y if y else 0.0 for x, y in zip(a.samples, b.samples, strict=True)))


def interleave(
    sides: Mapping[str, Callable[[], float]],
    *,
    rounds: int = MIN_ROUNDS,
    warmup: bool = False,
    between: Callable[[], None] | None = None,
) -> dict[str, Spread]:
    """Run each side once per round, in alternating order (A, B; B, A; …) so neither
    side always runs first; each call returns one sample (a rate, seconds…).

    `warmup` runs each side once first and discards it; `between` runs after each call
    (e.g. to reset a store)."""
    if rounds < 1:
        raise ValueError("at least one round")
    names = list(sides)
    if warmup:
        for name in names:
            sides[name]()
            if between is not None:
                between()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        order = names if number % 2 == 0 else list(reversed(names))
        for name in order:
            samples[name].append(sides[name]())
            if between is not None:
                between()
    return {name: Spread(tuple(values)) for name, values in samples.items()}


@dataclass
class Errors:
    """Error answers counted per endpoint and status code (0: no answer at all, -1: an
    answer not 2xx whose code the load generator did not say)."""

    counts: dict[str, dict[int, int]] = field(default_factory=dict)

    def add(self, endpoint: str, status: int, n: int = 1) -> None:
        by_status = self.counts.setdefault(endpoint, {})
        by_status[status] = by_status.get(status, 0) + n

    def total(self, endpoint: str | None = None) -> int:
        if endpoint is not None:
            return sum(self.counts.get(endpoint, {}).values())
        return sum(sum(v.values()) for v in self.counts.values())

    def describe(self, endpoint: str) -> str:
        """`500 x1, 503 x3` or `0`."""
        found = self.counts.get(endpoint, {})
        if not found:
            return "0"
        return ", ".join(
            f"{_LABELS.get(code, str(code))} x{n}" for code, n in sorted(found.items())
        )

    def lines(self) -> list[str]:
        """One `FAIL: <endpoint>: <codes>` line per endpoint with errors."""
        return [
            f"FAIL: {endpoint}: {self.describe(endpoint)}"
            for endpoint in sorted(self.counts)
            if self.total(endpoint)
        ]


def fail_if(problems: Sequence[str]) -> None:
    """Print each problem (prefixed FAIL) and exit 1 when there is any."""
    for problem in problems:
        print(problem if problem.startswith("FAIL") else f"FAIL: {problem}", flush=True)
    if problems:
        sys.exit(1)
