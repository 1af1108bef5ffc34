"""`python -m ledger_verify BUNDLE` (and the zipapp): the same as `ledger-verify`."""

from ledger_verify.cli import run

run()
