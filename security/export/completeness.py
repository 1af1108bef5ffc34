"""completeness.jsonl of a customer bundle: each customer's entry in the subject map
the bundle's checkpoint signs, with its proof and the chain of the customer's events
(format: `ledger_verify.bundle.subject_chains`, docs/export-format.md). Each line is
verified before it is written, as the inclusion proofs are."""

from __future__ import annotations

from collections.abc import Sequence

from ledger_verify.bundle.subject_chains import COMPLETENESS, customers_in_scope, line_of
from ledger_verify.checkpoints import parse_checkpoint
from ledger_verify.smt import Entry, MapProofError, chain_head, map_key, signed_map, verify_proof
from security.bootstrap import Ledger
from security.export.errors import ExportError
from security.integrity.subject_map import MapMissing

__all__ = ["COMPLETENESS", "completeness_lines", "customers_in_scope"]


def completeness_lines(ledger: Ledger, customers: Sequence[str], size: int, note: str) -> bytes:
    """The file's bytes for `customers` at the checkpoint `note` of size `size`;
    ExportError if the map the checkpoint signs does not prove one of them."""
    try:
        signed = signed_map(parse_checkpoint(note).extensions)
    except ValueError as exc:
        raise ExportError(f"the checkpoint's subject-map line is malformed: {exc}") from exc
    if signed is None:
        raise ExportError("the checkpoint signs no subject map; seal the log again")
    salt, root = signed
    lines = []
    for customer in customers:
        try:
            proven = ledger.sealed_log.subject_proof(customer, size)
            entry = verify_proof(root, map_key(salt, customer), proven.proof)
            chained = Entry(*chain_head(proven.chain)) if proven.chain else None
        except (MapMissing, MapProofError) as exc:
            raise ExportError(f"the subject map does not prove a customer: {exc}") from exc
        if entry != chained:
            raise ExportError(
                "a customer's chain does not reach its map entry; run `ledger verify`"
            )
        lines.append(line_of(customer, proven.proof, list(proven.chain)) + b"\n")
    return b"".join(lines)
