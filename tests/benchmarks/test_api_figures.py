"""The API benchmark's figures: wrk's summary parsed, and the latency columns."""

from __future__ import annotations

import pytest

from benchmarks.api import NON_2XX, latency_columns, load_average, parse_wrk

pytestmark = pytest.mark.unit

WRK = """Running 3s test @ http://127.0.0.1:8000/api/v1/customers
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    31.56ms   12.00ms 120.31ms   72.76%
    Req/Sec   250.28     20.77   300.00     70.69%
  Latency Distribution
     50%   27.99ms
     75%   33.39ms
     90%   41.36ms
     99%   87.00ms
  1500 requests in 3.01s, 194.22KB read
  Non-2xx or 3xx responses: 7
Requests/sec:    498.34
"""


def test_wrk_output_gives_requests_duration_percentiles_and_errors() -> None:
    figures = parse_wrk(WRK)
    assert figures.requests == 1500
    assert figures.seconds == pytest.approx(3.01)
    assert figures.p50_ms == pytest.approx(27.99)
    assert figures.p99_ms == pytest.approx(87.0)
    assert figures.errors == {NON_2XX: 7}


def test_wrk_percentiles_in_microseconds_and_seconds_are_read_as_ms() -> None:
    output = WRK.replace("27.99ms", "950.00us").replace("87.00ms", "1.20s")
    figures = parse_wrk(output)
    assert figures.p50_ms == pytest.approx(0.95)
    assert figures.p99_ms == pytest.approx(1200.0)


def test_the_p50_column_of_wrk_rounds_is_the_median_of_their_p50s() -> None:
    # wrk keeps no latencies of its own: the columns come from its per-round figures
    assert latency_columns([], [20.0, 30.0, 25.0], [80.0, 90.0, 85.0]) == (25.0, 85.0)


def test_the_columns_of_timed_requests_come_from_every_latency() -> None:
    latencies = [i / 1000 for i in range(1, 201)]  # 1 ms to 200 ms
    p50, p99 = latency_columns(latencies, [0.0], [0.0])
    assert p50 == pytest.approx(100.5)
    assert p99 == pytest.approx(199.0)


def test_the_load_average_reads_as_uptime_shows_it() -> None:
    assert load_average((1.5, 2.25, 10.0)) == "1.50 2.25 10.00"
    assert len(load_average().split()) == 3
