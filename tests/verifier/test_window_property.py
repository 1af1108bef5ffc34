"""Property test of a window bundle's completeness check (ledger_verify.bundle.window,
window_chains) on random logs of several subjects with random checkpoints, without a
server: for every window between two checkpoints (or from the log's beginning), every
subject's window bundle is complete, and every single-event omission is caught and
named, whether the forger leaves the chain as it is or cuts the event out of it;
a window without customers names any event of its log range that it lacks."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger_verify.bundle.report import BundleReport, SeqSet
from ledger_verify.bundle.subject_chains import COMPLETENESS, match_leaves
from ledger_verify.bundle.window import Window, check_range
from ledger_verify.bundle.window_chains import window_chains, window_line_of
from ledger_verify.checkpoints import Checkpoint
from ledger_verify.merkle import leaf_hash
from ledger_verify.smt import (
    Entry,
    MemoryStore,
    chain_head,
    encode_value,
    map_key,
    map_line,
    prove,
    update,
)

pytestmark = pytest.mark.unit

settings.register_profile("window", database=None, deadline=None, max_examples=30)
FAST = settings.get_profile("window")
SALT = bytes(range(1, 33))


def leaf_line(seq: int) -> bytes:
    return json.dumps({"seq": seq, "x": seq * 7}, separators=(",", ":")).encode()


def chains_of(log: list[int], size: int) -> dict[str, list[tuple[int, bytes]]]:
    chains: dict[str, list[tuple[int, bytes]]] = {}
    for seq, subject in enumerate(log[:size]):
        chains.setdefault(f"s{subject}", []).append((seq, leaf_hash(leaf_line(seq))))
    return chains


def signed_at(log: list[int], size: int) -> tuple[Checkpoint, MemoryStore]:
    """The checkpoint of the log's first `size` events (its map line; signatures and
    consistency are window.json's checks, tested with a real log) and its map."""
    store = MemoryStore()
    root = update(
        store,
        {
            map_key(SALT, s): encode_value(Entry(*chain_head(c)))
            for s, c in chains_of(log, size).items()
        },
    )
    body = f"o\n{size}\n"
    return Checkpoint("o", size, bytes(32), body, body, (map_line(SALT, root),)), store


def check(
    window: Window,
    subject: str,
    stores: tuple[MemoryStore | None, MemoryStore],
    chain: list[tuple[int, bytes]],
    held: list[int],
) -> BundleReport:
    key = map_key(SALT, subject)
    first = None if stores[0] is None else prove(stores[0], key)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "leaves.jsonl").write_bytes(b"".join(leaf_line(s) + b"\n" for s in held))
        line = window_line_of(subject, first, prove(stores[1], key), chain)
        (root / COMPLETENESS).write_bytes(line + b"\n")
        report = BundleReport()
        match_leaves(
            root, report, window_chains(root, report, [subject], window), (window.start, window.end)
        )
        return report


windows = st.lists(st.integers(0, 6), min_size=1, max_size=50).flatmap(
    lambda log: st.tuples(
        st.just(log),
        st.lists(st.integers(1, len(log)), min_size=1, max_size=6, unique=True).map(sorted),
        st.data(),
    )
)


@FAST
@given(windows)
def test_every_window_bundle_is_complete_and_every_omission_is_caught(
    case: tuple[list[int], list[int], st.DataObject],
) -> None:
    log, sizes, data = case
    end = data.draw(st.sampled_from(sizes))
    start = data.draw(st.sampled_from([0, *[s for s in sizes if s <= end]]))
    last, last_store = signed_at(log, end)
    first, first_store = (None, None) if start == 0 else signed_at(log, start)
    window = Window(start, end, first, last)
    stores = (first_store, last_store)
    for subject, whole in chains_of(log, end).items():
        chain = [step for step in whole if step[0] >= start]
        seqs = [seq for seq, _ in chain]
        assert seqs == [s for s in range(start, end) if f"s{log[s]}" == subject]
        report = check(window, subject, stores, chain, seqs)
        assert report.ok, report.failures
        for gone in seqs:
            held = [s for s in seqs if s != gone]
            named = check(window, subject, stores, chain, held)
            assert [(f.file, f.seq) for f in named.failures] == [("leaves.jsonl", gone)]
            cut = [step for step in chain if step[0] != gone]
            unnamed = check(window, subject, stores, cut, held)
            assert not unnamed.ok
            assert "does not lead from the 'from' head" in unnamed.failures[0].message
        # a chain that starts before the window, from the log's first event, does not
        # fold from the signed 'from' head either
        if start and whole[0][0] < start:
            assert not check(window, subject, stores, whole, [s for s, _ in whole]).ok


@FAST
@given(windows)
def test_a_window_without_customers_names_each_missing_seq(
    case: tuple[list[int], list[int], st.DataObject],
) -> None:
    log, sizes, data = case
    end = data.draw(st.sampled_from(sizes))
    start = data.draw(st.sampled_from([0, *[s for s in sizes if s <= end]]))
    window = Window(start, end, None, signed_at(log, end)[0])
    if start == end:
        return
    gone = data.draw(st.integers(start, end - 1))
    held = SeqSet()
    for seq in range(start, end):
        if seq != gone:
            held.add(seq)
    report = BundleReport()
    check_range(report, window, held)
    assert [(f.file, f.seq) for f in report.failures] == [("leaves.jsonl", gone)]
    held.add(gone)
    complete = BundleReport()
    check_range(complete, window, held)
    assert complete.ok


@FAST
@given(st.data())
def test_a_damaged_window_line_is_a_failure_never_a_crash(data: st.DataObject) -> None:
    log = [0, 1, 0, 2, 0, 1]
    first, first_store = signed_at(log, 2)
    last, last_store = signed_at(log, 5)
    window = Window(2, 5, first, last)
    chain = [step for step in chains_of(log, 5)["s0"] if step[0] >= 2]
    key = map_key(SALT, "s0")
    line = window_line_of("s0", prove(first_store, key), prove(last_store, key), chain)
    at = data.draw(st.integers(0, len(line) - 1))
    damaged = line[:at] + bytes([data.draw(st.integers(0, 255))]) + line[at + 1 :]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "leaves.jsonl").write_bytes(b"".join(leaf_line(s) + b"\n" for s, _ in chain))
        (root / COMPLETENESS).write_bytes(damaged + b"\n")
        report = BundleReport()
        match_leaves(
            root, report, window_chains(root, report, ["s0"], window), (window.start, window.end)
        )
    assert report.ok == (damaged == line)
