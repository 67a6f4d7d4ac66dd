"""The one exception tree of fundledger; the CLI turns each into a one-line message."""

from __future__ import annotations


class LedgerError(Exception):
    """A problem the user can cause or fix: shown as one line, exit status 1."""

    prefix = "error"


class BadInput(LedgerError):
    """Text from the user (an amount, a name, a date) that we cannot read."""


class Refused(LedgerError):
    """An entry that would break a rule that protects the fund's money."""

    prefix = "refused"


class NotALedger(LedgerError):
    """No ledger where one was expected."""


class CorruptJournal(LedgerError):
    """A journal on disk that breaks the format, the chain or a rule."""

    prefix = "corrupt"


class TornWrite(CorruptJournal):
    """An unfinished write at the very end of the newest journal file."""

    def __init__(self, message: str, path: str, offset: int) -> None:
        super().__init__(message)
        self.path = path
        self.offset = offset
