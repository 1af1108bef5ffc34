"""Read models built from the log, each event applied exactly once (docs/projections.md).

Entry point: `projections.runtime.read_models(ledger)` (queries, status, rebuild,
waiting for a position) and `start_following(ledger)` (the background projector).
"""
