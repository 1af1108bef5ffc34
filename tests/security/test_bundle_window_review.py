"""An outside review of window completeness (issue 16): each attack by an insider
holding the log signing key (re-signing manifest.sig and, where said, checkpoint
notes) fails verification with exit 1 and a precise message. A scope that is not
exactly the documented shape, a customer id that is not a canonical UUID, window
notes without the witnesses' cosignatures (or whose cosignature times refute their
recorded times), self-contradictory window claims, and events relabelled as another
customer's. Both stores."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_verify.bundle.report import BundleReport
from ledger_verify.bundle.signature import sign_manifest
from ledger_verify.bundle.subject_chains import COMPLETENESS
from ledger_verify.bundle.verify import summary, verify_bundle
from ledger_verify.bundle.window import WINDOW
from ledger_verify.checkpoints import parse_checkpoint, sign_note
from ledger_verify.cli import main as ledger_verify
from ledger_verify.cosignature import append_signature_lines, cosign, cosigner_vkey
from security.bootstrap import Settings, build_ledger
from tests.security.test_bundle_completeness import Store, forge, withhold
from tests.security.test_bundle_window import three_periods, window
from tests.support.sample import SampleApp

pytestmark = pytest.mark.integration

WITNESS = "witness.example/w1"


@pytest.fixture
def store(ledger_config: Settings, tmp_path: Path) -> Iterator[Store]:
    ledger = build_ledger(ledger_config, app_class=SampleApp)
    try:
        yield Store(ledger, ledger.keyring.signing_key(), tmp_path / "out")
    finally:
        ledger.close()


def copy(bundle: Path, name: str) -> Path:
    target = bundle.parent / name
    shutil.copytree(bundle, target)
    return target


def rescope(bundle: Path, signer: Ed25519PrivateKey, change: Callable[[Any], Any]) -> None:
    """Rewrite manifest.json's scope (`change` returns the new one, or None to drop
    it) and re-sign, as the firm's log key can."""
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    scope = change(manifest["scope"])
    if scope is None:
        del manifest["scope"]
    else:
        manifest["scope"] = scope
    (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    forge(bundle, signer)


def write_window(bundle: Path, bounds: dict[str, Any]) -> None:
    text = json.dumps(bounds, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    (bundle / WINDOW).write_text(text + "\n", "utf-8")


def cli(bundle: Path, *extra: str) -> tuple[int, str]:
    """`ledger-verify BUNDLE ...`: its exit status and everything it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = ledger_verify([str(bundle), *extra])
    return code, out.getvalue() + err.getvalue()


def lines_of(bundle: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (bundle / COMPLETENESS).read_text().splitlines()]


def write_lines(bundle: Path, objs: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(o, sort_keys=True, separators=(",", ":")) + "\n" for o in objs)
    (bundle / COMPLETENESS).write_text(text)


# ------------------------------------------------------------- findings 1 and 2


def test_a_scope_customer_must_be_a_canonical_uuid(store: Store) -> None:
    """Finding 1: alice's UUID in upper case is the same UUID but another map key, which
    the map lacks; its proof of absence must not pass for her completeness."""
    given = three_periods(store)
    alice = str(given["alice"])
    for windowed in (False, True):
        scope = {"since": given["since"], "until": given["until"]} if windowed else {}
        bundle = store.export(given["alice"], **scope)
        report = verify_bundle(bundle)
        assert report.ok, summary(report)
        assert "complete for" in summary(report) and f"1 customer(s): {alice}" in summary(report)
        upper = store.export(given["bob"], **scope)  # its lines prove bob; rebuilt below
        # the map proof of the upper-case key: absent (the key is not in the map); the
        # exporter would write that proof for any string its scope names
        for seq in [
            json.loads(x)["seq"] for x in (upper / "leaves.jsonl").read_text().splitlines()
        ]:
            withhold(upper, seq, store.signer)
        objs = lines_of(upper)
        for obj in objs:
            obj["subject"] = alice.upper()
        write_lines(upper, objs)
        rescope(upper, store.signer, lambda s: {**s, "customers": [alice.upper()]})
        code, output = cli(upper)
        assert code == 1, output
        assert "is not a canonical lowercase UUID" in output


@pytest.mark.parametrize(
    "case",
    [
        "customers-as-string",
        "non-string-member",
        "all-is-1",
        "no-scope",
        "unknown-key",
        "since-after-until",
        "duplicate-customer",
        "all-with-customers",
        "nothing",
    ],
)
def test_a_malformed_scope_fails_rather_than_weakening_the_check(store: Store, case: str) -> None:
    """Finding 2 (and 6: since after until): a scope not exactly the documented shape
    is a failure, never a silently weaker completeness check."""
    given = three_periods(store)
    alice, bob = str(given["alice"]), str(given["bob"])
    bundle = store.export(given["alice"], given["bob"])
    everything = store.export(everything=True)
    changes: dict[str, tuple[Path, Callable[[Any], Any]]] = {
        "customers-as-string": (bundle, lambda s: {**s, "customers": alice}),
        "non-string-member": (bundle, lambda s: {**s, "customers": [alice, {"id": bob}]}),
        "all-is-1": (everything, lambda s: {**s, "all": 1}),
        "no-scope": (bundle, lambda s: None),
        "unknown-key": (bundle, lambda s: {**s, "also": []}),
        "since-after-until": (
            bundle,
            lambda s: {
                **s,
                "since": given["until"].isoformat(),
                "until": given["since"].isoformat(),
            },
        ),
        "duplicate-customer": (bundle, lambda s: {**s, "customers": [alice, alice]}),
        "all-with-customers": (everything, lambda s: {**s, "customers": [alice]}),
        "nothing": (bundle, lambda s: {**s, "customers": []}),
    }
    source, change = changes[case]
    target = copy(source, case)
    withhold(target, 2, store.signer)  # an event of alice, and of the whole log
    rescope(target, store.signer, change)
    code, output = cli(target)
    assert code == 1, output
    assert "manifest.json: its scope is malformed" in output


# ------------------------------------------------------------- findings 4 and 5


def cosigned_window(
    store: Store, bundle: Path, name: str, witness: Ed25519PrivateKey, times: dict[str, int]
) -> Path:
    """A copy of `bundle` whose window notes carry the witness's cosignature at
    `times[end]` (an end not named: none), re-signed."""
    target = copy(bundle, name)
    bounds = window(target)
    for end, when in times.items():
        note = bounds[end]["checkpoint"]
        bounds[end]["checkpoint"] = append_signature_lines(
            note, [cosign(note, witness, WITNESS, when)]
        )
    write_window(target, bounds)
    forge(target, store.signer)
    return target


def cosign_checkpoint(bundle: Path, witness: Ed25519PrivateKey) -> None:
    note = (bundle / "checkpoint").read_text("utf-8")
    line = cosign(note, witness, WITNESS, int(datetime.now(UTC).timestamp()))
    (bundle / "checkpoint").write_text(append_signature_lines(note, [line]), "utf-8")


def test_with_witness_keys_the_window_notes_need_the_quorum_too(store: Store) -> None:
    """Finding 4: a `to` note re-signed by the log key with a forged map root (same
    size and log root, so the consistency proofs hold) and no witness cosignature
    must not pass when the regulator requires witnesses."""
    given = three_periods(store)
    witness = Ed25519PrivateKey.generate()
    vkey = cosigner_vkey(WITNESS, witness.public_key())
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])
    cosign_checkpoint(bundle, witness)
    now = int(datetime.now(UTC).timestamp())
    honest = cosigned_window(store, bundle, "honest", witness, {"from": now, "to": now})
    report = verify_bundle(honest, witness_vkeys=[vkey])
    assert report.ok, summary(report)

    forged = copy(bundle, "forged")
    bounds = window(forged)
    cp = parse_checkpoint(bounds["to"]["checkpoint"])
    body = cp.body.replace(cp.extensions[0], cp.extensions[0][:-8] + "AAAAAAA=")
    bounds["to"]["checkpoint"] = sign_note(body, store.signer, cp.origin)
    write_window(forged, bounds)
    forge(forged, store.signer)
    code, output = cli(forged, "--witness-vkey", vkey)
    assert code == 1, output
    assert "window.json: its 'to' checkpoint carries valid cosignatures from 0" in output
    # without a quorum the witness is not required, but a cosignature it bears must verify
    bad = cosigned_window(store, bundle, "bad", witness, {"from": now})
    bounds = window(bad)
    bounds["from"]["checkpoint"] = bounds["from"]["checkpoint"][:-6] + "AAAAA\n"
    write_window(bad, bounds)
    forge(bad, store.signer)
    code, output = cli(bad, "--witness-vkey", vkey, "--witness-quorum", "0")
    assert code == 1, output
    assert "its 'from' checkpoint: a trusted witness's cosignature is bad" in output


def test_a_witness_time_that_refutes_a_recorded_time_fails(store: Store) -> None:
    """Finding 5: a trusted witness cosigned the `to` note before `until`, so it was
    recorded before `until`, whatever recorded_at claims; and a cosignature timed
    before the note's claimed recorded_at refutes that claim."""
    given = three_periods(store)
    witness = Ed25519PrivateKey.generate()
    vkey = cosigner_vkey(WITNESS, witness.public_key())
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])
    cosign_checkpoint(bundle, witness)
    until = int(given["until"].timestamp())
    later = int(datetime.now(UTC).timestamp()) + 1
    ok = cosigned_window(store, bundle, "ok", witness, {"from": later, "to": later})
    assert verify_bundle(ok, witness_vkeys=[vkey]).ok
    early = cosigned_window(store, bundle, "early", witness, {"from": later, "to": until - 1})
    code, output = cli(early, "--witness-vkey", vkey)
    assert code == 1, output
    assert "its 'to' checkpoint was cosigned by a trusted witness at" in output
    assert "before the window's end" in output
    recorded = datetime.fromisoformat(window(bundle)["from"]["recorded_at"])
    before = int(recorded.timestamp()) - 3600
    refuted = cosigned_window(store, bundle, "refuted", witness, {"from": before, "to": later})
    code, output = cli(refuted, "--witness-vkey", vkey, "--witness-quorum", "0")
    assert code == 1, output
    assert "its 'from' checkpoint was cosigned by a trusted witness at" in output
    assert "before its recorded_at" in output


# ------------------------------------------------------------- finding 6


def test_self_contradictory_window_claims_fail(store: Store) -> None:
    given = three_periods(store)
    bundle = store.export(given["alice"], since=given["since"], until=given["until"])

    def edit(name: str, change: Callable[[dict[str, Any]], None]) -> str:
        target = copy(bundle, name)
        bounds = window(target)
        change(bounds)
        write_window(target, bounds)
        forge(target, store.signer)
        code, output = cli(target)
        assert code == 1, output
        return output

    def same_checkpoint(bounds: dict[str, Any]) -> None:
        bounds["from"] = {**bounds["to"], "recorded_at": given["since"].isoformat()}
        bounds["from"]["consistency"] = []

    def far_future(bounds: dict[str, Any]) -> None:
        bounds["to"]["recorded_at"] = "9999-12-31T23:59:59-01:00"

    def from_after_to(bounds: dict[str, Any]) -> None:
        bounds["from"]["recorded_at"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
        bounds["to"]["recorded_at"] = (datetime.now(UTC) - timedelta(days=2)).isoformat()

    def year_one(bounds: dict[str, Any]) -> None:
        bounds["from"]["recorded_at"] = "0001-01-01T00:00:00+01:00"

    assert "the same checkpoint with two recorded times" in edit("same", same_checkpoint)
    assert "lies outside the range of UTC times" in edit("future", far_future)
    assert "claimed recorded after its 'to' checkpoint" in edit("after", from_after_to)
    assert "lies outside the range of UTC times" in edit("year-one", year_one)


# ------------------------------------------------------------- finding 7


def relabel(bundle: Path, seq: int, customer: str) -> None:
    """Label the event at `seq` as `customer`'s in events.jsonl and events.csv."""
    path = bundle / "events.jsonl"
    rows = []
    for text in path.read_text("utf-8").splitlines():
        obj = json.loads(text)
        if obj["seq"] == seq:
            obj["customer"] = customer
            text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        rows.append(text + "\n")
    path.write_text("".join(rows), "utf-8")
    csv = (bundle / "events.csv").read_bytes().decode("utf-8").split("\r\n")
    for i, row in enumerate(csv):
        cells = row.split(",")
        if i and cells[0] == str(seq):
            cells[2] = customer
            csv[i] = ",".join(cells)
    (bundle / "events.csv").write_bytes("\r\n".join(csv).encode("utf-8"))


def test_an_event_relabelled_as_another_customers_fails(store: Store) -> None:
    """Finding 7: a chain step proves whose event it is; events.jsonl's `customer`
    must say the same (an erased event's label is the only statement of it). An event
    on no scope customer's chain has no place in a customer bundle."""
    given = three_periods(store)
    alice, bob = str(given["alice"]), str(given["bob"])
    store.ledger.keystore.shred(given["bob"])  # bob's events: erased, labels unchecked by keys
    for scope in ({}, {"since": given["since"], "until": given["until"]}):
        both = store.export(given["alice"], given["bob"], **scope)
        assert verify_bundle(both).ok, summary(verify_bundle(both))
        moved = copy(both, f"moved-{bool(scope)}")
        relabel(moved, 4, alice)  # bob's erased event 4, on bob's chain
        forge(moved, store.signer)
        code, output = cli(moved)
        assert code == 1, output
        assert "events.jsonl seq 4: 'customer' is not the subject of the chain" in output
    # bob's erased event 4 kept in a bundle re-scoped to alice alone, labelled hers
    both = store.export(given["alice"], given["bob"])
    foreign = copy(both, "foreign")
    withhold(foreign, 1, store.signer)
    relabel(foreign, 4, alice)
    write_lines(foreign, [o for o in lines_of(foreign) if o["subject"] == alice])
    rescope(foreign, store.signer, lambda s: {**s, "customers": [alice]})
    code, output = cli(foreign)
    assert code == 1, output
    assert "events.jsonl seq 4: is on no scope customer's chain" in output
    assert bob not in output


def report_of(bundle: Path, **kwargs: Any) -> BundleReport:
    return verify_bundle(bundle, **kwargs)


# ------------------------------------------------------------- findings 8 and 9

DEEP = "[" * 100_000 + "]" * 100_000


def _append_line(name: str, text: str) -> Callable[[Path], None]:
    def edit(bundle: Path) -> None:
        with (bundle / name).open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")

    return edit


def _replace(name: str, text: str) -> Callable[[Path], None]:
    return lambda bundle: (bundle / name).write_text(text + "\n", "utf-8")


def _chain_seq(seq: int) -> Callable[[Path], None]:
    def edit(bundle: Path) -> None:
        objs = lines_of(bundle)
        objs[0]["chain"][0][0] = seq
        write_lines(bundle, objs)

    return edit


def _proof_named(seq: str) -> Callable[[Path], None]:
    """A proof file of that seq listed in manifest.json (the file itself too, where
    the file system allows so long a name)."""

    def edit(bundle: Path) -> None:
        name = f"proofs/{seq}.tlog-proof"
        if len(name) < 200:
            shutil.copy(bundle / "proofs" / "0.tlog-proof", bundle / name)
        manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
        manifest["files"][name] = "0" * 64
        (bundle / "manifest.json").write_text(json.dumps(manifest), "utf-8")

    return edit


def sign_as_is(bundle: Path, signer: Ed25519PrivateKey) -> None:
    """Rehash the files manifest.json lists and re-sign it, reading no other file."""
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    for name in manifest["files"]:
        if len(name) < 200 and (bundle / name).is_file():
            manifest["files"][name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    digest = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    origin = json.loads((bundle / "manifest.json").read_text("utf-8"))["log"]["origin"]
    sign_manifest(bundle, digest, signer, origin)


def _leaf_seq(seq: int) -> Callable[[Path], None]:
    def edit(bundle: Path) -> None:
        path = bundle / "leaves.jsonl"
        rows = path.read_text("utf-8").splitlines()
        obj = json.loads(rows[-1])
        obj["seq"] = seq
        rows.append(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        path.write_text("".join(r + "\n" for r in rows), "utf-8")

    return edit


HOSTILE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "deep-window": ("window", _replace(WINDOW, DEEP)),
    "deep-window-line": ("window", _replace(COMPLETENESS, DEEP)),
    "deep-plain-line": ("plain", _replace(COMPLETENESS, DEEP)),
    "deep-leaf": ("plain", _append_line("leaves.jsonl", DEEP)),
    "deep-event": ("plain", _append_line("events.jsonl", DEEP)),
    "chain-seq-2-64": ("plain", _chain_seq(2**64)),
    "leaf-seq-10-15": ("plain", _leaf_seq(10**15)),
    "proof-name-10-15": ("plain", _proof_named(str(10**15))),
    "proof-name-5000-digits": ("plain", _proof_named("9" * 5000)),
    "csv-seq-5000-digits": ("plain", _append_line("events.csv", "9" * 5000 + ",x")),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_a_failure_never_a_crash(store: Store, case: str) -> None:
    """Finding 8: deeply nested JSON, a seq too large for a chain step, a seq of 10^15
    in a leaf line or a proof file's name: a failure line and exit 1, never exit 3."""
    given = three_periods(store)
    kind, edit = HOSTILE[case]
    scope = {"since": given["since"], "until": given["until"]} if kind == "window" else {}
    target = copy(store.export(given["alice"], **scope), case)
    edit(target)
    sign_as_is(target, store.signer)
    code, output = cli(target)
    assert code == 1, output
    assert "runtime error" not in output and "FAILED" in output


def test_a_crafted_seq_allocates_nothing(store: Store) -> None:
    """Finding 9: the verifier's memory is bounded by the checkpoint's size, not by a
    number a bundle states (a proof file named 4000000000 took 500 MB)."""
    given = three_periods(store)
    target = copy(store.export(given["alice"]), "memory")
    _proof_named("4000000000")(target)
    sign_as_is(target, store.signer)
    tracemalloc.start()
    try:
        report = verify_bundle(target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not report.ok
    assert "lists proofs/4000000000.tlog-proof, beyond the checkpoint's size" in summary(report)
    assert peak < 64 * 2**20, peak  # a bitmap to seq 4e9 alone is 500 MB
