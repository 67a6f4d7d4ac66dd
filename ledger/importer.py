"""Import contributions or pledges from a CSV file (a bank statement, a spreadsheet) through a mapping.

A mapping (TOML, see docs/IMPORT.md) says which column holds the date, the
member, the amount, the currency and the reference, and how dates and
numbers are written. Each row becomes the entry `contribute` or `pledge`
would record, checked by the same rules. A row whose reference and amount
match an entry already recorded (or an earlier row) is skipped.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger import fold, fund, model, money
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
    """Read and check a mapping file, every field for its type and meaning; a bad one is one clear BadInput."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise BadInput(f"cannot read mapping {path}: {problem.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as problem:
        raise BadInput(f"mapping {path} is not valid TOML: {problem}") from None
    where = f"mapping {path}"
    unknown = set(raw) - set(_TOP_KEYS)
    if unknown:
        raise BadInput(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (it takes {', '.join(_TOP_KEYS)})")
    kind = raw.get("kind", "contribute")
    if not isinstance(kind, str) or kind not in KINDS:
        raise BadInput(f"{where}: kind must be one of {', '.join(KINDS)}, not {_shown(kind)}")
    columns, formats, members = (_table(raw, name, where) for name in ("columns", "formats", "members"))
    missing = [name for name in _NEEDED[kind] if name not in columns]
    if missing:
        raise BadInput(f"{where}: [columns] needs {', '.join(missing)} for a {kind} import")
    unknown = set(columns) - set(_NEEDED[kind]) - set(_OPTIONAL)
    if unknown:
        raise BadInput(f"{where}: unknown column key(s) {', '.join(sorted(unknown))}")
    for key, column in columns.items():
        if not isinstance(column, str) or not column:
            raise BadInput(f"{where}: [columns] {key} must be a column name (the header's text), not {_shown(column)}")
    unknown = set(formats) - set(_FORMAT_KEYS)
    if unknown:
        raise BadInput(f"{where}: [formats] has unknown key(s) {', '.join(sorted(unknown))}")
    decimal, thousands = formats.get("decimal", "."), formats.get("thousands", ",")
    if decimal not in (".", ",") or thousands not in (",", ".", " ", "'", "") or decimal == thousands:
        raise BadInput(f"{where}: [formats] decimal is '.' or ',', thousands is another separator or ''")
    for name, member in members.items():
        if not isinstance(member, str):
            raise BadInput(f"{where}: [members] maps names in the file to member names: {name!r} = {_shown(member)}")
    return Mapping(
        kind=kind,
        columns=dict(columns),
        date_format=_date_format(formats.get("date", "%Y-%m-%d"), where),
        decimal=decimal,
        thousands=thousands,
        delimiter=_delimiter(raw.get("delimiter", ","), where),
        encoding=_encoding(raw.get("encoding", "utf-8"), where),
        members=dict(members),
    )


_TOP_KEYS = ("kind", "delimiter", "encoding", "columns", "formats", "members")
_FORMAT_KEYS = ("date", "decimal", "thousands")
# Dates a format must give back exactly: a day above 12 tells day from month, a year 2000+ keeps %y honest.
_SAMPLE_DAYS = (dt.date(2025, 12, 31), dt.date(2004, 2, 9))


def _table(raw: dict, name: str, where: str) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise BadInput(f"{where}: [{name}] must be a table, not {_shown(value)}")
    return value


def _date_format(value: object, where: str) -> str:
    """A strptime format that reads back every date it writes (so it names the day, the month and the year)."""
    if not isinstance(value, str):
        raise BadInput(f"{where}: [formats] date must be a strptime format such as '%d/%m/%Y', not {_shown(value)}")
    try:
        good = all(dt.datetime.strptime(day.strftime(value), value).date() == day for day in _SAMPLE_DAYS)
    except (ValueError, TypeError):
        good = False
    if not good:
        raise BadInput(
            f"{where}: [formats] date {value!r} does not read back a whole date: "
            "use strptime codes for the day, month and year, such as '%d/%m/%Y'"
        )
    return value


def _delimiter(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) != 1:
        raise BadInput(f"{where}: delimiter must be one character, such as ';' or '\\t', not {_shown(value)}")
    if value in '"\r\n':
        raise BadInput(f"{where}: delimiter cannot be a quote or a line break ({value!r})")
    return value


def _encoding(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadInput(f"{where}: encoding must be the name of a text encoding such as 'utf-8', not {_shown(value)}")
    try:
        codecs.lookup(value)
    except (LookupError, ValueError):
        raise BadInput(f"{where}: unknown encoding {value!r} (try 'utf-8', 'utf-16', 'cp1252' or 'latin-1')") from None
    try:
        "".encode(value)  # the codec machinery refuses a bytes-to-bytes or text-to-text codec (rot13, hex)
    except LookupError:
        raise BadInput(f"{where}: {value!r} is not a text encoding (try 'utf-8' or 'latin-1')") from None
    return value


def _shown(value: object) -> str:
    """A value from a mapping, for a message: its TOML type and a short repr."""
    text = repr(value)
    return f"{text[:40]}…" if len(text) > 41 else text


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
    written_in, number = money.split_currency(values["amount"])  # "£100", "1.000,00 GBP"
    currency = values.get("currency")
    if written_in and currency and written_in != currency.upper():
        raise BadInput(f"amount {values['amount']!r} is written in {written_in}, but the row's currency is {currency}")
    currency = currency or written_in
    if currency and currency.upper() != books.currency:
        raise BadInput(f"amount is in {currency}; this ledger keeps {books.currency}")
    amount = _amount(number, mapping)
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
