"""An export of one customer from a store full of other customers' events: its
proofs are read from the stored tree nodes and are byte for byte the proofs the
in-memory tree of the whole log gives (the path before the nodes table), and the
bundle verifies offline. A stored node that differs from the signed tree stops the
export before anything is published."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger_verify.bundle.layout import proof_path
from ledger_verify.bundle.verify import verify_bundle
from ledger_verify.tlog_proof import format_tlog_proof
from security.bootstrap import Ledger, Settings, build_ledger
from security.export.exporter import ExportActor, ExportError, ExportScope, export_bundle
from tests.support.sample import SampleApp
from tests.support.store import run_sql

pytestmark = pytest.mark.integration

OFFICER = ExportActor("officer-7", "compliance_officer", "cli", "regulator request R-2")


@pytest.fixture
def ledger(ledger_config: Settings) -> Iterator[Ledger]:
    built = build_ledger(ledger_config, app_class=SampleApp)
    yield built
    built.close()


def crowd(ledger: Ledger) -> str:
    """Forty people, each renamed; the customer of interest is in the middle."""
    people = []
    for i in range(40):
        person = ledger.app.register(f"P{i}", f"1390000{i:04d}", f"ID{i}")
        people.append(person)
        if i % 9 == 0:
            ledger.seal()
    for person in people:
        ledger.app.rename(person, "renamed")
    return str(people[17])


def test_one_customer_export_has_the_whole_tree_proofs_and_verifies(
    ledger: Ledger, tmp_path: Path
) -> None:
    customer = crowd(ledger)
    result = export_bundle(ledger, tmp_path / "b", ExportScope(customers=(customer,)), OFFICER)
    assert verify_bundle(result.path).ok
    tree = ledger.sealed_log.tree(result.checkpoint_size)
    note = (result.path / "checkpoint").read_text("utf-8")
    proofs = sorted((result.path / "proofs").iterdir())
    assert len(proofs) == result.events == 2
    for path in proofs:
        seq = int(path.name.split(".")[0])
        assert path.name == Path(proof_path(seq)).name
        old = format_tlog_proof(seq, tree.inclusion_proof(seq, result.checkpoint_size), note)
        assert path.read_text("utf-8") == old


def test_a_tampered_stored_node_stops_the_export(ledger: Ledger, tmp_path: Path) -> None:
    customer = crowd(ledger)
    ledger.seal()
    sealed = ledger.sealed_log
    run_sql(ledger, f"UPDATE {sealed.nodes.nodes_table} SET hash=? WHERE level=1", (bytes(32),))
    with pytest.raises(ExportError):
        export_bundle(ledger, tmp_path / "b", ExportScope(customers=(customer,)), OFFICER)
    assert not (tmp_path / "b").exists()


def test_a_store_without_nodes_is_backfilled_by_its_first_export(
    ledger: Ledger, tmp_path: Path
) -> None:
    customer = crowd(ledger)
    ledger.seal()
    sealed = ledger.sealed_log
    run_sql(ledger, f"DELETE FROM {sealed.nodes.nodes_table}")
    run_sql(ledger, f"DELETE FROM {sealed.nodes.state_table}")
    result = export_bundle(ledger, tmp_path / "b", ExportScope(customers=(customer,)), OFFICER)
    assert verify_bundle(result.path).ok
    assert sealed.nodes_covered() >= result.checkpoint_size
