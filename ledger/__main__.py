"""`python -m ledger` runs the fundledger command."""

from ledger.cli import run

run()
