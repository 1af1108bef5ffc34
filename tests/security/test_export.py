"""Audit-trail export on both stores: a bundle verifies with our verifier, with
openssl, with an RFC 9162 check written here and with AES-GCM done here; scopes
select the right events; erased customers keep leaves and proofs but no keys."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import tarfile
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import Aggregate, event

from domain.audit_export import AuditExport
from ledger_verify.bundle.verify import verify_bundle
from security.bootstrap import Ledger, Settings, build_ledger
from security.export import selection
from security.export.disclosed_keys import KeyDirectory
from security.export.exporter import (
    ExportActor,
    ExportError,
    ExportResult,
    ExportScope,
    ExportScopeError,
    export_bundle,
)
from tests.support.sample import SampleApp
from tests.support.store import events_table, run_sql

pytestmark = pytest.mark.integration

OFFICER = ExportActor("officer-7", "compliance_officer", "cli", "regulator request R-1")
EXPORTED_TOPIC = "domain.audit_export:AuditExport.AuditTrailExported"


class Contact(Aggregate):
    """Another aggregate about a person: its events are encrypted under the person's key."""

    class Event(Aggregate.Event):
        @property
        def subject_id(self) -> UUID:
            return self.person_id  # type: ignore[attr-defined,no-any-return]

    class Logged(Event, Aggregate.Created):
        person_id: UUID
        summary: str

    @event(Logged)
    def __init__(self, person_id: UUID, summary: str) -> None:
        self.person_id = person_id
        self.summary = summary


@pytest.fixture
def ledger(keyed_config: Settings) -> Iterator[Ledger]:
    """Over the file keyring and an HSM (SoftHSM2), on each store."""
    built = build_ledger(keyed_config, app_class=SampleApp)
    yield built
    built.close()


def populate(ledger: Ledger) -> dict[str, UUID]:
    """Three people (one renamed, one with a contact log), a note; the third is erased."""
    app = ledger.app
    ann = app.register("Ann 安", "13900000001", "ID-ANN")
    bob = app.register("Bob", "13900000002", "ID-BOB")
    eve = app.register("Eve", "13900000003", "ID-EVE")
    app.rename(ann, "Ann Li")
    app.save(Contact(ann, "called about a loan " * 20))  # long: stored zlib-compressed
    app.note("a note about no one")
    app.rename(eve, "Eve Wu")
    ledger.keystore.shred(eve)
    return {"ann": ann, "bob": bob, "eve": eve}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def export(ledger: Ledger, tmp_path: Path, scope: ExportScope, **kwargs: Any) -> ExportResult:
    return export_bundle(ledger, tmp_path / "out" / "bundle", scope, OFFICER, **kwargs)


# --------------------------------------------------------------------- independent checks


def rfc9162_root(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2, written here without the project's Merkle code."""
    node = hashlib.sha256(b"\x00" + leaf).digest()
    fn, sn = index, size - 1
    for sibling in path:
        assert sn != 0, "proof longer than the path"
        if fn & 1 or fn == sn:
            node = hashlib.sha256(b"\x01" + sibling + node).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            node = hashlib.sha256(b"\x01" + node + sibling).digest()
        fn >>= 1
        sn >>= 1
    assert sn == 0, "proof shorter than the path"
    return node


def test_whole_log_bundle_verifies_four_independent_ways(ledger: Ledger, tmp_path: Path) -> None:
    populate(ledger)
    result = export(ledger, tmp_path, ExportScope(everything=True))
    bundle = result.path
    assert (result.events, result.decrypted, result.erased) == (7, 5, 2)

    # (a) our offline verifier
    report = verify_bundle(bundle)
    assert report.ok, [str(f) for f in report.failures]
    assert report.events == 7 and report.bundle_digest == result.bundle_digest

    # (b) openssl on the checkpoint body with log.pub
    note = (bundle / "checkpoint").read_text("utf-8")
    body, signatures = note.split("\n\n", 1)
    (tmp_path / "body").write_text(body + "\n", "utf-8")
    blob = base64.b64decode(signatures.split(" ")[2])
    (tmp_path / "sig").write_bytes(blob[4:])
    openssl = subprocess.run(
        [
            *("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(bundle / "log.pub")),
            *("-rawin", "-in", str(tmp_path / "body"), "-sigfile", str(tmp_path / "sig")),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert openssl.returncode == 0, openssl.stdout + openssl.stderr
    assert "Signature Verified Successfully" in openssl.stdout
    origin, size_text, root_b64, map_line = body.split("\n")
    assert map_line.startswith("crm-ledger/subject-map/v1 ")  # a C2SP extension line
    assert origin == ledger.config.log_origin
    size, root = int(size_text), base64.b64decode(root_b64)
    assert size == result.checkpoint_size == 7

    # (c) RFC 9162 inclusion of every leaf, checked here
    raw_leaves = (bundle / "leaves.jsonl").read_bytes().split(b"\n")
    assert raw_leaves[-1] == b"" and len(raw_leaves) == 8
    for raw in raw_leaves[:-1]:
        seq = json.loads(raw)["seq"]
        proof = (bundle / "proofs" / f"{seq}.tlog-proof").read_text("utf-8")
        head, proof_note = proof.split("\n\n", 1)
        header = head.split("\n")
        assert header[:2] == ["c2sp.org/tlog-proof@v1", f"index {seq}"]
        assert proof_note == note
        hashes = [base64.b64decode(h) for h in header[2:]]
        assert rfc9162_root(raw, seq, size, hashes) == root

    # (d) AES-256-GCM decryption straight from keys.jsonl and leaves.jsonl
    leaves = {json.loads(raw)["seq"]: json.loads(raw) for raw in raw_leaves[:-1]}
    events = {record["seq"]: record for record in lines(bundle / "events.jsonl")}
    keys = lines(bundle / "keys.jsonl")
    assert len(keys) == 5
    for entry in keys:
        leaf = leaves[entry["seq"]]
        aad = json.dumps(
            {k: leaf[k] for k in ("originator_id", "originator_version", "topic")},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
        plaintext = AESGCM(base64.b64decode(entry["key"])).decrypt(
            base64.b64decode(leaf["nonce"]), base64.b64decode(leaf["ciphertext"]), aad
        )
        if leaf["compression"] == "zlib":
            plaintext = zlib.decompress(plaintext)
        state = json.loads(plaintext)
        record = events[entry["seq"]]
        assert record["erased"] is False
        for name, value in state.items():
            if name in ("name", "text", "summary", "phone"):
                assert record["fields"][name] == value
        assert record["time"] == state["timestamp"]["_data_"]
    assert {leaf["compression"] for leaf in leaves.values()} == {"zlib", "none"}


def test_every_export_is_recorded_in_the_ledger(ledger: Ledger, tmp_path: Path) -> None:
    people = populate(ledger)
    result = export(ledger, tmp_path, ExportScope(everything=True))
    digest = hashlib.sha256((result.path / "manifest.json").read_bytes()).hexdigest()
    assert result.bundle_digest == digest
    recorded: AuditExport = ledger.app.repository.get(result.export_id)
    assert recorded.bundle_digest == digest
    assert (recorded.actor_id, recorded.actor_role, recorded.reason) == (
        "officer-7",
        "compliance_officer",
        "regulator request R-1",
    )
    assert recorded.scope == {"all": True, "customers": [], "since": None, "until": None}
    assert (recorded.checkpoint_size, recorded.event_count) == (7, 7)
    # and visible in the access log: one entry per customer whose data it disclosed
    entries = ledger.access_log.entries(actor_id="officer-7")
    assert {e.subject_id for e in entries} == {str(people["ann"]), str(people["bob"])}
    assert {(e.purpose, e.role, e.what) for e in entries} == {
        ("regulatory_request", "compliance_officer", f"audit_export:{result.export_id}")
    }
    # the record is in the log after the bundle's checkpoint: the next export discloses it
    second = export_bundle(
        ledger, tmp_path / "out" / "again", ExportScope(everything=True), OFFICER
    )
    topics = [json.loads(line)["topic"] for line in (second.path / "leaves.jsonl").open()]
    assert topics[-1] == EXPORTED_TOPIC and second.checkpoint_size == 8
    record = lines(second.path / "events.jsonl")[-1]
    assert (record["actor"], record["role"], record["customer"]) == (
        "officer-7",
        "compliance_officer",
        None,
    )
    assert record["fields"]["bundle_digest"] == digest


def test_customer_scope_holds_every_event_about_the_customer_and_nothing_else(
    ledger: Ledger, tmp_path: Path
) -> None:
    people = populate(ledger)
    result = export(ledger, tmp_path, ExportScope(customers=(str(people["ann"]),)))
    records = lines(result.path / "events.jsonl")
    assert [r["event_type"] for r in records] == [
        "Person.Registered",
        "Person.Renamed",
        "Contact.Logged",  # another aggregate, same subject
    ]
    assert {r["customer"] for r in records} == {str(people["ann"])}
    assert len(lines(result.path / "keys.jsonl")) == 3
    assert sorted(p.name for p in (result.path / "proofs").iterdir()) == sorted(
        f"{r['seq']}.tlog-proof" for r in records
    )
    assert verify_bundle(result.path).ok


def test_a_customer_export_reads_the_customers_events_only_whatever_the_logs_size(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = populate(ledger)
    for i in range(300):
        ledger.app.note(f"note {i} about no one")
    ledger.seal()
    read: list[int] = []
    select = ledger.app.recorder.select_notifications

    def counting(*args: Any, **kwargs: Any) -> Any:
        found = select(*args, **kwargs)
        read.extend(note.id for note in found)
        return found

    monkeypatch.setattr(ledger.app.recorder, "select_notifications", counting)
    result = export(ledger, tmp_path, ExportScope(customers=(str(people["ann"]),)))
    records = lines(result.path / "events.jsonl")
    assert [r["event_type"] for r in records] == [
        "Person.Registered",
        "Person.Renamed",
        "Contact.Logged",
    ]
    leaves = lines(result.path / "leaves.jsonl")
    assert len(read) == len(records) == len(leaves)
    assert sorted(read) == sorted(leaf["notification_id"] for leaf in leaves)
    assert verify_bundle(result.path).ok


def test_a_customer_export_fails_when_a_sealed_event_of_the_customer_is_gone(
    ledger: Ledger, tmp_path: Path
) -> None:
    people = populate(ledger)
    ledger.seal()
    registered = next(
        n
        for n in ledger.app.recorder.select_notifications(None, 100)
        if n.originator_id == people["ann"] and n.originator_version == 1
    )
    table, nid = events_table(ledger)
    run_sql(ledger, f"DELETE FROM {table} WHERE {nid}=?", (registered.id,))
    with pytest.raises(ExportError, match="missing from the store"):
        export(ledger, tmp_path, ExportScope(customers=(str(people["ann"]),)))
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_an_erased_customer_has_leaves_and_proofs_but_no_keys(
    ledger: Ledger, tmp_path: Path
) -> None:
    people = populate(ledger)
    result = export(ledger, tmp_path, ExportScope(customers=(str(people["eve"]),)))
    records = lines(result.path / "events.jsonl")
    assert len(records) == 2 and all(r["erased"] for r in records)
    assert all(r["fields"] == {} and r["time"] == "" for r in records)
    assert (result.path / "keys.jsonl").read_bytes() == b""
    assert len(list((result.path / "proofs").iterdir())) == 2
    assert len((result.path / "leaves.jsonl").read_bytes().splitlines()) == 2
    csv_rows = (result.path / "events.csv").read_text("utf-8").splitlines()
    assert all(",erased," in row for row in csv_rows[1:])
    report = verify_bundle(result.path)
    assert report.ok and (report.erased, report.decrypted) == (2, 0)


def test_a_time_window_places_erased_events_by_their_readable_neighbours(
    ledger: Ledger, tmp_path: Path
) -> None:
    app = ledger.app

    def pause() -> datetime:
        time.sleep(0.02)
        moment = datetime.now(UTC)
        time.sleep(0.02)
        return moment

    before = app.register("A0")
    hidden_before = app.register("A1")  # erased, both neighbours before the window
    app.register("A2")
    edge = app.register("A3")  # erased, between the last event before and the first inside
    ledger.seal()  # the window's log range starts here
    since = pause()
    inside = [app.register("B0"), app.register("B1"), app.register("B2")]
    until = pause()
    ledger.seal()  # the first checkpoint recorded after `until`...
    margin = app.note("after the window")  # in the log range: disclosed
    ledger.seal()  # ...and the next, whose seal began after it: the log range ends here
    app.register("C0")
    for erased in (hidden_before, edge, inside[1]):
        ledger.keystore.shred(erased)
    result = export(ledger, tmp_path, ExportScope(since=since, until=until))
    records = lines(result.path / "events.jsonl")
    assert [r["originator_id"] for r in records] == [
        str(edge),
        *(str(i) for i in inside),
        str(margin),
    ]
    assert [r["erased"] for r in records] == [True, False, True, False, False]
    assert str(before) not in {r["originator_id"] for r in records}
    assert verify_bundle(result.path).ok
    # a window and a customer: that customer's events in the window only
    both = export_bundle(
        ledger,
        tmp_path / "out" / "both",
        ExportScope(customers=(str(inside[0]),), since=since, until=until),
        OFFICER,
    )
    assert [r["originator_id"] for r in lines(both.path / "events.jsonl")] == [str(inside[0])]


def test_a_tar_bundle_verifies_and_names_no_local_user(ledger: Ledger, tmp_path: Path) -> None:
    populate(ledger)
    result = export(ledger, tmp_path, ExportScope(everything=True), tar=True)
    assert result.path.name == "bundle.tar.gz" and result.path.is_file()
    assert not (tmp_path / "out" / "bundle").exists()
    with tarfile.open(result.path) as tar:
        members = tar.getmembers()
    assert {m.uname for m in members} == {""} and {m.uid for m in members} == {0}
    assert members[0].name == "bundle" and members[1].name == "bundle/manifest.json"
    assert verify_bundle(result.path).ok


def test_bad_scopes_and_targets_are_refused_before_anything_is_written(
    ledger: Ledger, tmp_path: Path
) -> None:
    with pytest.raises(ExportScopeError, match="empty"):
        export(ledger, tmp_path, ExportScope(everything=True))
    populate(ledger)
    with pytest.raises(ExportScopeError, match="no events are recorded about customer"):
        export(ledger, tmp_path, ExportScope(customers=("00000000-0000-4000-8000-000000000000",)))
    for bad in (
        {},
        {"everything": True, "customers": ("x",)},
        {"customers": ("not-a-uuid",)},
        {"since": datetime(2030, 1, 1, tzinfo=UTC), "until": datetime(2020, 1, 1, tzinfo=UTC)},
    ):
        with pytest.raises(ExportScopeError):
            ExportScope(**bad)
    (tmp_path / "out" / "bundle").mkdir(parents=True)
    (tmp_path / "out" / "bundle" / "x").write_text("occupied")
    with pytest.raises(ExportScopeError, match="already exists"):
        export(ledger, tmp_path, ExportScope(everything=True))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bundle"]


def test_an_export_of_a_tampered_store_fails_leaving_no_bundle_and_no_record(
    ledger: Ledger, tmp_path: Path
) -> None:
    populate(ledger)
    ledger.seal()
    if ledger.config.store_kind == "sqlite":
        table, nid = "stored_events", "rowid"
    else:
        table, nid = f'"{ledger.datastore.schema}".ledger_events', "notification_id"
    target = next(ledger.sealed_log.leaf_rows(2, 3)).notification_id
    with ledger.datastore.transaction(commit=True) as cursor:
        ledger.keystore.dialect.execute(
            cursor, f"UPDATE {table} SET topic=? WHERE {nid}=?", ("x:Forged", target)
        )
    with pytest.raises(ExportError, match="seq 2"):
        export(ledger, tmp_path, ExportScope(everything=True))
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    topics = [n.topic for n in ledger.app.recorder.select_notifications(None, 100)]
    assert EXPORTED_TOPIC not in topics
    assert ledger.access_log.entries(actor_id="officer-7") == []


def test_a_shred_during_an_export_discloses_no_key_of_the_subject_after_it(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = ledger.app
    ann = app.register("Ann", "13900000001", "ID-ANN")  # seq 0: before the shred
    bob = app.register("Bob", "13900000002", "ID-BOB")
    app.rename(bob, "Bob Wu")
    app.rename(ann, "Ann Li")  # seq 3: in the second batch, after the shred
    app.save(Contact(ann, "called about a loan"))  # seq 4
    app.rename(bob, "Bob Li")
    monkeypatch.setattr(selection, "BATCH", 2)
    shredded: list[int] = []

    def shred_after_the_first_batch(done: int, total: int) -> None:
        if not shredded:
            ledger.keystore.shred(ann)  # e.g. the retention job, in this process
            shredded.append(done)

    result = export(
        ledger, tmp_path, ExportScope(everything=True), progress=shred_after_the_first_batch
    )
    assert shredded == [2]
    records = {r["seq"]: r for r in lines(result.path / "events.jsonl")}
    assert [seq for seq, r in sorted(records.items()) if r["erased"]] == [3, 4]
    assert records[0]["originator_id"] == str(ann) and not records[0]["erased"]
    assert not records[5]["erased"]  # Bob, after the shred: still disclosed
    keyed = {r["seq"] for r in lines(result.path / "keys.jsonl")}
    assert 3 not in keyed and 4 not in keyed and {0, 1, 2, 5} <= keyed
    report = verify_bundle(result.path)
    assert report.ok, report.problems
    assert report.erased == 2
    # the export's key directory stopped listening when it ended
    assert not any(
        isinstance(getattr(listener, "__self__", None), KeyDirectory)
        for listener in ledger.keystore._shred_listeners
    )


def test_a_closed_key_directory_no_longer_hears_shreds(ledger: Ledger) -> None:
    ann = ledger.app.register("Ann", "13900000001", "ID-ANN")
    bob = ledger.app.register("Bob", "13900000002", "ID-BOB")
    with KeyDirectory(ledger.keystore) as lookup:
        found = lookup.refs_of([str(ann), str(bob)])
    refs = {subject: next(iter(subject_refs)) for subject, subject_refs in found.items()}
    with KeyDirectory(ledger.keystore) as open_one:
        open_one.prefetch(refs.values())
        ledger.keystore.shred(ann)
        assert open_one.get(refs[str(ann)], 0).dek is None
        assert open_one.get(refs[str(bob)], 1).dek is not None
    closed = open_one
    ledger.keystore.shred(bob)
    assert closed.get(refs[str(bob)], 1).dek is not None  # cached before, no longer told


def test_the_manifest_is_not_dated_before_the_checkpoint_it_carries(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The export seals first and dates the bundle after: a bundle created before its own
    checkpoint was recorded would contradict itself."""
    populate(ledger)
    result = export(ledger, tmp_path, ExportScope(everything=True))
    manifest = json.loads((result.path / "manifest.json").read_text("utf-8"))
    checkpoint = ledger.sealed_log.checkpoint(result.checkpoint_size)
    assert checkpoint is not None
    created = datetime.fromisoformat(manifest["created_at"])
    assert created >= datetime.fromisoformat(checkpoint.created_at)
    readme = (result.path / "README.txt").read_text("utf-8")
    assert manifest["created_at"] in readme
