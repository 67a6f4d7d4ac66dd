"""Export the books to the formats accountants already use: hledger, beancount, CSV and JSON.

Each exporter is a pure function from entries to text. User text (memos,
sources, names) is made inert and quoted for the target format, so no memo
can add a line, an account or a transaction to the exported file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from ledger import model, money
from ledger.books import Books
from ledger.model import Entry
from ledger.text import inert

FORMATS = ("hledger", "beancount", "csv", "json")


def export(books: Books, fmt: str) -> str:
    """The books' entries in format `fmt`."""
    return {"hledger": as_hledger, "beancount": as_beancount, "csv": as_csv, "json": as_json}[fmt](books)


# --- hledger -------------------------------------------------------------


def as_hledger(books: Books) -> str:
    """A journal that `hledger check --strict` accepts: accounts and the commodity declared first.

    Each transaction keeps the entry's id, kind and hash as tags, and its
    memo and source as comment lines.
    """
    lines = [
        f"; fundledger export of {inert(books.name)}",
        f"; {books.count} entries, seal {books.seal}",
        "",
        f"commodity 1,000.{'0' * money.places(books.currency)} {books.currency}"
        if money.places(books.currency)
        else f"commodity 1,000 {books.currency}",
        "",
    ]
    lines += [f"account {account}" for account in _accounts(books.entries)]
    for entry in books.entries:
        lines.append("")
        description = f"{entry.kind} {inert(model.subject(entry))}".strip().replace(";", ",")
        lines.append(f"{entry.date.isoformat()} * {description}  ; id:{entry.id}, kind:{entry.kind}, hash:{entry.hash}")
        for label in ("memo", "source"):
            if getattr(entry, label):
                lines.append(f"    ; {label}: {inert(getattr(entry, label))}")
        if model.given_as(entry):
            lines.append(f"    ; given as: {_given(entry)}")
        for posting in entry.postings:
            amount = money.to_text(posting.amount, posting.currency)
            lines.append(f"    {posting.account}  {amount} {posting.currency}")
    return "\n".join(lines) + "\n"


# --- beancount -----------------------------------------------------------


def _given(entry) -> str:
    """'10000000.00 GBP at 1.1850': an entry in another currency, as it was given."""
    given = model.given_as(entry)
    return f"{money.to_text(given.amount, given.currency)} {given.currency} at {given.rate}"


def beancount_account(account: str) -> str:
    """'assets:fund:earmarked:drones' -> 'Assets:Fund:Earmarked:Drones' (beancount wants capitals)."""
    return ":".join(part[:1].upper() + part[1:] for part in account.split(":"))


def as_beancount(books: Books) -> str:
    """A file that `bean-check` accepts (and so Fava opens): accounts opened on their first date.

    Each account keeps its fundledger name as `fundledger_account` metadata;
    each transaction its id, kind, hash, memo and source.
    """
    first: dict[str, object] = {}
    for entry in books.entries:
        for posting in entry.postings:
            if posting.account not in first or entry.date < first[posting.account]:
                first[posting.account] = entry.date
    lines = [
        f"; fundledger export: {books.count} entries, seal {books.seal}",
        f'option "title" {_quoted(books.name)}',
        f'option "operating_currency" "{books.currency}"',
        "",
    ]
    for account in sorted(first, key=lambda a: (first[a], a)):
        lines.append(f"{first[account].isoformat()} open {beancount_account(account)} {books.currency}")
        lines.append(f"  fundledger_account: {_quoted(account)}")
    for entry in books.entries:
        if not entry.postings:
            continue  # membership and repairs move no money; beancount has no place for them
        lines.append("")
        narration = f"{entry.kind} {inert(model.subject(entry))}".strip()
        lines.append(f"{entry.date.isoformat()} * {_quoted(narration)}")
        lines.append(f"  fundledger_id: {entry.id}")
        lines.append(f"  fundledger_kind: {_quoted(entry.kind)}")
        lines.append(f"  fundledger_hash: {_quoted(entry.hash)}")
        for label in ("memo", "source"):
            if getattr(entry, label):
                lines.append(f"  {label}: {_quoted(getattr(entry, label))}")
        if model.given_as(entry):
            lines.append(f"  given_as: {_quoted(_given(entry))}")
        for posting in entry.postings:
            amount = money.to_text(posting.amount, posting.currency)
            lines.append(f"  {beancount_account(posting.account)}  {amount} {posting.currency}")
    return "\n".join(lines) + "\n"


# --- CSV and JSON --------------------------------------------------------

CSV_COLUMNS = ("id", "date", "kind", "account", "amount", "currency", "memo", "source", "hash")


def as_csv(books: Books) -> str:
    """One row per posting; amounts as plain decimals. Membership entries, having no postings, have no rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in books.entries:
        for posting in entry.postings:
            writer.writerow(
                [
                    entry.id,
                    entry.date.isoformat(),
                    entry.kind,
                    posting.account,
                    money.to_text(posting.amount, posting.currency),
                    posting.currency,
                    entry.memo,
                    entry.source,
                    entry.hash,
                ]
            )
    return out.getvalue()


def as_json(books: Books) -> str:
    """The entries, each as a recording command's `--json` prints it, in one JSON array."""
    return json.dumps([model.to_json(entry) for entry in books.entries], indent=2, ensure_ascii=False) + "\n"


def _accounts(entries: Sequence[Entry]) -> list[str]:
    return sorted({posting.account for entry in entries for posting in entry.postings})


def _quoted(text: str) -> str:
    """A beancount string: control characters made visible, quotes and backslashes escaped."""
    return '"' + inert(text).replace("\\", "\\\\").replace('"', '\\"') + '"'
