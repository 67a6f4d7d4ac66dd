"""The one place where an entry meets the books: its chain and every rule checked, then applied.

Loading a journal, recording, importing, syncing, the merge driver and the
audit all fold entries through `fold`; nothing else calls a kind's rule or
apply. The order of the checks is the order of their messages: the chain,
then that its date is in no closed period, then the kind's own rule,
then that what needs another officer's approval has it (which names the event: an unknown package), then
what every entry must be (balanced, known accounts, the accounts its kind
may touch), then the envelopes (no account below zero on any day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ledger import kinds, rules
from ledger.books import Books
from ledger.errors import Refused
from ledger.model import Entry


def check(books: Books, entry: Entry, *, hashed: bool = False, proposing: bool = False) -> kinds.Kind:
    """Run every rule on `entry` against `books` (the first broken one refuses it); return its kind.

    `hashed`: the caller has just checked the entry's hash against its
    content (the journal reader does, for every entry it reads).
    `proposing`: the entry is checked as a proposal would put it, before
    anyone approved it.
    """
    kind = _kind(entry)
    if not hashed:
        rules.check_hash(books, entry)
    rules.check_sequence(books, entry)
    rules.check_open_period(books, entry)
    kind.rule(books, entry)
    rules.check_four_eyes(books, entry, proposing)
    rules.check_postings(books, entry, kind.moves_money)
    rules.check_limit(books, entry)
    rules.check_accounts(books, entry)
    if kind.accounts is not None:
        rules.check_allowed(books, entry, kind.accounts(books, entry))
    rules.check_envelopes(books, entry)
    return kind


def fold(books: Books, entry: Entry, *, hashed: bool = False, checked: bool = False, chained: bool = False) -> None:
    """Check `entry` against `books` and apply it.

    `checked`: it was checked against these same entries before (a copy, a day's books): nothing is checked.
    `chained`: its rules were checked when it was recorded and a close recorded later vouches for it (a first
    read, docs/PERFORMANCE.md): only its hash and its place in the chain are checked; `verify` checks the rest.
    """
    if checked:
        kind = _kind(entry)
    elif chained:
        kind = _kind(entry)
        if not hashed:
            rules.check_hash(books, entry)
        rules.check_sequence(books, entry)
    else:
        kind = check(books, entry, hashed=hashed)
    books.post(entry)
    kind.apply(books, entry)


def rebuild(currency: str, entries: Iterable[Entry], name: str = "", manager: str = "") -> Books:
    """Books built again from entries that were checked when they were recorded (a copy, a day's books)."""
    books = Books(currency, name, manager)
    for entry in entries:
        fold(books, entry, checked=True)
    return books


def as_of(books: Books, day: dt.date) -> Books:
    """The books as they stood at the end of `day`: only entries dated on or before it."""
    return rebuild(books.currency, (e for e in books.iter_entries() if e.date <= day), books.name, books.manager)


_WHOLE: dict[str, kinds.Kind] = {}  # kinds found to lack no part, by name (a kind registered anew is looked at again)


def _kind(entry: Entry) -> kinds.Kind:
    kind = kinds.get(entry.kind)
    if kind is None:
        raise Refused(str(kinds.UnknownKind(entry.kind, entry.id)))
    if _WHOLE.get(entry.kind) is kind:
        return kind
    missing = kind.missing()
    if missing:
        raise Refused(
            f"entry #{entry.id} is a {entry.kind} entry, but this fundledger's {entry.kind} kind has no "
            f"{', '.join(missing)}: it can be neither recorded nor read"
        )
    _WHOLE[entry.kind] = kind
    return kind
