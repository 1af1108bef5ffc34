"""The benchmarks' shared figures: interleaved rounds, median with min-max, error counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarks.rounds import Errors, Spread, fail_if, interleave, ratio

pytestmark = pytest.mark.unit


def test_sides_alternate_which_goes_first_round_by_round() -> None:
    calls: list[str] = []

    def side(name: str, value: float) -> Callable[[], float]:
        def call() -> float:
            calls.append(name)
            return value

        return call

    spread = interleave({"a": side("a", 2.0), "b": side("b", 4.0)}, rounds=5)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a", "a", "b"]
    assert spread["a"].samples == (2.0,) * 5
    assert ratio(spread["a"], spread["b"]).median == 0.5


def test_a_spread_reports_median_with_min_and_max() -> None:
    spread = Spread((3.0, 1.0, 10.0, 2.0, 4.0))
    assert (spread.median, spread.low, spread.high) == (3.0, 1.0, 10.0)
    assert spread.describe("events/s") == "3 events/s (min 1 - max 10, 5 rounds)"


def test_a_ratio_pairs_rounds_and_refuses_uneven_sides() -> None:
    assert ratio(Spread((1.0, 9.0)), Spread((2.0, 3.0))).samples == (0.5, 3.0)
    with pytest.raises(ValueError):
        ratio(Spread((1.0,)), Spread((1.0, 2.0)))


def test_errors_are_counted_per_endpoint_and_status_and_fail_the_section(
    capsys: pytest.CaptureFixture[str],
) -> None:
    errors = Errors()
    errors.add("POST /x", 503, 2)
    errors.add("POST /x", 0)
    errors.add("GET /y", 200, 0)
    assert errors.total() == 3
    assert errors.describe("POST /x") == "no answer x1, 503 x2"
    assert errors.lines() == ["FAIL: POST /x: no answer x1, 503 x2"]
    with pytest.raises(SystemExit) as exited:
        fail_if(errors.lines())
    assert exited.value.code == 1
    assert "FAIL: POST /x" in capsys.readouterr().out
    fail_if([])  # nothing wrong: returns
