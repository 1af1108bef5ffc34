"""The recorder's bounded memory of subject-index pairs already committed."""

from __future__ import annotations

import pytest

from security.subject_streams import IndexedPairs

pytestmark = pytest.mark.unit


def test_indexed_pairs_remember_only_what_was_committed_and_stay_bounded() -> None:
    pairs = IndexedPairs(limit=4)
    assert pairs.missing([("k", "a"), ("k", "b")]) == [("k", "a"), ("k", "b")]
    pairs.committed([("k", "a")])
    assert pairs.missing([("k", "a"), ("k", "b")]) == [("k", "b")]
    pairs.committed([("k", str(n)) for n in range(5)])  # past the limit: the newer half
    assert len(pairs) == 2
    assert ("k", "4") in pairs and ("k", "3") in pairs and ("k", "a") not in pairs
    pairs.clear()
    assert len(pairs) == 0
