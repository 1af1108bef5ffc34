"""The witness quorum of a bundle (step 2b of `verify_bundle`): the bundle's checkpoint
must carry valid C2SP cosignatures (ledger_verify.cosignature) from at least `quorum`
of the trusted witnesses."""

from __future__ import annotations

from collections.abc import Sequence

from ledger_verify.bundle.checkpoint import BundleCheckpoint
from ledger_verify.bundle.report import BundleReport
from ledger_verify.checkpoints import CheckpointError
from ledger_verify.cosignature import Cosigner, verify_cosignatures


def check_quorum(
    report: BundleReport, anchor: BundleCheckpoint, witnesses: Sequence[Cosigner], quorum: int
) -> None:
    """Record a failure unless `quorum` distinct trusted witnesses cosigned the checkpoint."""
    if quorum <= 0:
        return
    if anchor.checkpoint is None:
        report.fail("checkpoint", None, f"cannot be checked for a quorum of {quorum} witnesses")
        return
    try:
        valid = verify_cosignatures(anchor.note_bytes, witnesses)
    except CheckpointError as exc:
        report.fail("checkpoint", None, f"a trusted witness's cosignature is bad: {exc}")
        return
    report.cosigned_by = sorted(str(v.cosigner) for v in valid)
    if len(valid) < quorum:
        report.fail(
            "checkpoint",
            None,
            f"carries valid cosignatures from {len(valid)} trusted witness(es), "
            f"the quorum is {quorum}",
        )
