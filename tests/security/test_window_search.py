"""The window's bounds are found by a binary search over checkpoint sizes
(security.export.window): against a brute-force scan of random checkpoint lists, it
finds the latest checkpoint recorded by a moment and the first recorded from one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import accumulate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from security.export import window
from security.integrity.sealed_log import StoredCheckpoint

pytestmark = pytest.mark.unit

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def stored(sizes: list[int]) -> list[StoredCheckpoint]:
    # recorded one second apart, in size order, some with whole seconds (isoformat
    # then omits the microseconds)
    return [
        StoredCheckpoint(
            size, bytes(32), "", (EPOCH + timedelta(seconds=i, microseconds=size % 2)).isoformat()
        )
        for i, size in enumerate(sizes)
    ]


@settings(database=None, deadline=None, max_examples=300)
@given(
    # sizes that grow by 1 to 3: neighbours are common, as under continuous sealing
    st.lists(st.integers(1, 3), min_size=0, max_size=40).map(lambda gaps: list(accumulate(gaps))),
    st.integers(-2, 45),
    st.integers(0, 125),
    st.integers(0, 125),
)
def test_the_binary_search_finds_what_a_scan_finds(
    sizes: list[int], second: int, bottom: int, top: int
) -> None:
    checkpoints = stored(sizes)

    def nearest(_ledger: object, size: int, *, below: bool) -> StoredCheckpoint | None:
        found = [c for c in checkpoints if (c.size <= size if below else c.size >= size)]
        if not found:
            return None
        return found[-1] if below else found[0]

    moment = EPOCH + timedelta(seconds=second, microseconds=1)
    original = window._nearest
    window._nearest = nearest  # type: ignore[assignment]
    try:
        last = window._last_recorded_by(None, moment, top)  # type: ignore[arg-type]
        first = window._first_recorded_from(None, moment, bottom, top)  # type: ignore[arg-type]
    finally:
        window._nearest = original
    recorded = [(c, datetime.fromisoformat(c.created_at)) for c in checkpoints]
    by = [c for c, at in recorded if at <= moment and c.size <= top]
    since = [c for c, at in recorded if at >= moment and bottom <= c.size <= top]
    assert last == (by[-1] if by else None)
    assert first == (since[0] if since else None)
