"""`python -m web.cli`: the `ledger` command."""

from web.cli import main

main(prog_name="ledger")
