"""Import contributions or pledges from a CSV file (a bank statement, a spreadsheet) through a mapping.

A mapping (TOML, see docs/IMPORT.md) says which column holds the date, the
member, the amount, the currency and the reference, and how dates and
numbers are written. Each row becomes the entry `contribute` or `pledge`
would record, checked by the same rules. A row whose reference and amount
match an entry already recorded (or an earlier row) is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger import fold, fund, model
from ledger.books import Books
from ledger.errors import BadInput, LedgerError
from ledger.model import Entry

KINDS = ("contribute", "pledge")
_NEEDED = {
    "contribute": ("date", "member", "amount", "reference"),
    "pledge": ("date", "member", "amount", "reference", "year"),
}
_OPTIONAL = ("currency", "memo", "pledge")


@dataclass(frozen=True)
class Mapping:
    kind: str
    columns: dict[str, str]
    date_format: str = "%Y-%m-%d"
    decimal: str = "."
    thousands: str = ","
    delimiter: str = ","
    encoding: str = "utf-8"
    members: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Planned:
    """What becomes of one row: `record` (with its entry), `skip` (already there) or `refused` (with why)."""

    row: int
    status: str
    reason: str = ""
    entry: Entry | None = None
    values: dict[str, str] = field(default_factory=dict)


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; a bad one is one clear BadInput."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise BadInput(f"cannot read mapping {path}: {problem.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as problem:
        raise BadInput(f"mapping {path} is not valid TOML: {problem}") from None
    kind = raw.get("kind", "contribute")
    if kind not in KINDS:
        raise BadInput(f"mapping {path}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    columns = raw.get("columns", {})
    formats = raw.get("formats", {})
    missing = [name for name in _NEEDED[kind] if not isinstance(columns.get(name), str)]
    if missing:
        raise BadInput(f"mapping {path}: [columns] needs {', '.join(missing)} for a {kind} import")
    unknown = set(columns) - set(_NEEDED[kind]) - set(_OPTIONAL)
    if unknown:
        raise BadInput(f"mapping {path}: unknown column key(s) {', '.join(sorted(unknown))}")
    decimal, thousands = formats.get("decimal", "."), formats.get("thousands", ",")
    if decimal not in (".", ",") or thousands not in (",", ".", " ", "'", "") or decimal == thousands:
        raise BadInput(f"mapping {path}: [formats] decimal is '.' or ',', thousands is another separator or ''")
    return Mapping(
        kind=kind,
        columns=dict(columns),
        date_format=formats.get("date", "%Y-%m-%d"),
        decimal=decimal,
        thousands=thousands,
        delimiter=raw.get("delimiter", ","),
        encoding=raw.get("encoding", "utf-8"),
        members=dict(raw.get("members", {})),
    )


def read_rows(path: Path, mapping: Mapping) -> list[dict[str, str]]:
    """The CSV's rows as dicts keyed by its header; a missing mapped column is an error."""
    try:
        with open(path, encoding=mapping.encoding, newline="") as handle:
            reader = csv.DictReader(handle, delimiter=mapping.delimiter)
            header = reader.fieldnames or []
            absent = [column for column in mapping.columns.values() if column not in header]
            if absent:
                raise BadInput(
                    f"{path} has no column {', '.join(map(repr, absent))} (its columns: {', '.join(header)})"
                )
            return list(reader)
    except OSError as problem:
        raise BadInput(f"cannot read {path}: {problem.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as problem:
        raise BadInput(f"cannot read {path} as {mapping.encoding} CSV: {problem}") from None


def plan(books: Books, rows: list[dict[str, str]], mapping: Mapping, source: str, tick: Callable | None = None):
    """What each row would become, checked in order against books that include the rows before it.

    Works on a copy of `books`, so it can be shown (`--dry-run`) without
    changing anything; the import re-plans under the write lock.
    """
    books = fold.rebuild(books.currency, books.entries, books.name, books.manager)
    seen = {(e.source, model.size(e)) for e in books.entries if e.kind == mapping.kind}
    planned = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        values = {key: (row.get(column) or "").strip() for key, column in mapping.columns.items()}
        try:
            entry = _entry(books, values, mapping, source, number)
            key = (entry.source, model.size(entry))
            if key in seen:
                planned.append(Planned(number, "skip", "already recorded (same reference and amount)", values=values))
                continue
            entry = entry.sealed(books.last_id + 1, books.seal)
            fold.fold(books, entry)
        except LedgerError as problem:
            planned.append(Planned(number, "refused", str(problem), values=values))
        else:
            seen.add(key)
            planned.append(Planned(number, "record", entry=entry, values=values))
        if tick:
            tick()
    return planned


def _entry(books: Books, values: dict[str, str], mapping: Mapping, source: str, number: int) -> Entry:
    try:
        day = dt.datetime.strptime(values["date"], mapping.date_format).date()
    except ValueError:
        raise BadInput(f"date {values['date']!r} does not match the mapping's format {mapping.date_format!r}") from None
    amount = _amount(values["amount"], mapping)
    currency = values.get("currency")
    if currency and currency.upper() != books.currency:
        raise BadInput(f"amount is in {currency}; this ledger keeps {books.currency}")
    if not values["reference"]:
        raise BadInput("the row has no reference")
    member = mapping.members.get(values["member"], values["member"])
    note = fund.Note(day, values.get("memo", ""), values["reference"])
    if mapping.kind == "pledge":
        try:
            year = int(values["year"])
        except ValueError:
            raise BadInput(f"year {values['year']!r} is not a year") from None
        return fund.pledge(books, member, amount, year, (), note)
    pledge_id = None
    if values.get("pledge"):
        if not values["pledge"].isdigit():
            raise BadInput(f"pledge {values['pledge']!r} is not an entry id")
        pledge_id = int(values["pledge"])
    return fund.contribute(books, member, amount, note, pledge_id=pledge_id)


def _amount(text: str, mapping: Mapping) -> str:
    """The amount as fundledger reads it: '1.234,56' with decimal ',' and thousands '.' -> '1234.56'.

    Thousands separators must group digits in threes, so '1.5' under
    thousands '.' is refused rather than read as 15.
    """
    whole, point, fraction = text.strip().partition(mapping.decimal)
    if mapping.thousands and mapping.thousands in whole:
        groups = whole.split(mapping.thousands)
        if not (groups[0] and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
            raise BadInput(f"amount {text!r} does not group thousands by {mapping.thousands!r} in threes")
        whole = "".join(groups)
    other = "." if mapping.decimal == "," else ","
    if other in whole + fraction:
        raise BadInput(
            f"amount {text!r} has a {other!r}, but the mapping says decimals are written with {mapping.decimal!r}"
        )
    return whole + ("." + fraction if point else "")
