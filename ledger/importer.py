"""Import a bank statement (camt.053/052/054, MT940 or CSV) or a spreadsheet of pledges into the books.

`read_statement` recognises the format from the file's content and reads it
(`ledger.statements`); `plan` says what each row becomes, checked by the
same rules as the command it stands for: money in is a contribution
(matched to the member's open pledge), money out a payment from the package
its reference names, bank charges and interest their own entries, each as a
mapping's `[[rules]]` may direct. A row already recorded (same kind,
reference, amount and day, not reversed) is skipped. Statements that state
their balances are reconciled with the books' cash. A mapping (TOML, see
docs/IMPORT.md) says how to read a CSV and how to name what a bank writes.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ledger import fold, fund, model, money
from ledger import statements as stm
from ledger.books import Books, Pledge, cash_on, latest_statement
from ledger.errors import BadInput, LedgerError, Refused
from ledger.model import Entry
from ledger.statements import Row, Statement

KINDS = ("contribute", "pledge")
RULE_KINDS = ("contribute", "pay", "charge", "interest", "fee")
_DIRECTION = {"contribute": "credit", "interest": "credit", "pay": "debit", "charge": "debit", "fee": "debit"}
# Kinds an import records: what is already recorded of them is not recorded again.
IMPORTED = frozenset({"contribute", "pledge", "pay", "charge", "interest", "fee"})
_COLUMN_KEYS = (
    "date", "member", "amount", "debit", "credit", "direction", "currency", "reference", "memo", "description",
    "pledge", "year",
)  # fmt: skip
_TOP_KEYS = (
    "kind", "format", "delimiter", "encoding", "account", "reconcile", "columns", "formats", "members", "skip",
    "extract", "rules",
)  # fmt: skip
_FORMAT_KEYS = ("date", "decimal", "thousands", "credit", "debit")
_RULE_KEYS = ("match", "kind", "direction", "package", "envelope", "member", "supplier")
_CREDIT_MARKS = frozenset({"C", "CR", "CRDT", "CREDIT", "+", "H"})  # H: Haben, in German exports
_DEBIT_MARKS = frozenset({"D", "DR", "DBIT", "DEBIT", "-", "S"})  # S: Soll
# Dates a format must give back exactly: a day above 12 tells day from month, a year 2000+ keeps %y honest.
_SAMPLE_DAYS = (dt.date(2025, 12, 31), dt.date(2004, 2, 9))


@dataclass(frozen=True)
class Rule:
    """A `[[rules]]` entry: rows whose text `match` finds become this kind of entry."""

    match: re.Pattern
    kind: str
    direction: str = ""  # "credit", "debit" or "" for both
    package: str = ""
    envelope: str = "unallocated"
    member: str = ""
    supplier: str = ""


@dataclass(frozen=True)
class Mapping:
    kind: str = "contribute"
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str = "%Y-%m-%d"
    decimal: str = "."
    thousands: str = ","
    delimiter: str = ","
    encoding: str = "utf-8"
    members: dict[str, str] = field(default_factory=dict)
    format: str = ""  # "" (recognised from the content), "csv", "camt" or "mt940"
    account: str = ""  # the IBAN statements must be for ("" for any)
    ledger_accounts: tuple[str, ...] = ()  # the fund's accounts, from ledger.toml's bank_accounts (() for any)
    reconcile: bool = True
    skip: dict[str, frozenset[str]] = field(default_factory=dict)  # column -> values of rows to leave out
    extract: dict[str, re.Pattern] = field(default_factory=dict)  # "member"/"reference" -> pattern on description
    credit_marks: frozenset[str] = _CREDIT_MARKS
    debit_marks: frozenset[str] = _DEBIT_MARKS
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Planned:
    """What becomes of one row: `record` (its entry), `skip` (already there, or left out), `unmatched` or `refused`."""

    row: int
    status: str
    reason: str = ""
    entry: Entry | None = None
    values: dict[str, str] = field(default_factory=dict)
    what: str = ""  # "contribute Latvia, pledge #4", "pay recon-drones-2025-03", "charge"
    source: Row | None = None


@dataclass(frozen=True)
class Reconciliation:
    """The bank's balances beside the books' cash on the same days (None: the statement states no such balance)."""

    currency: str
    opening_day: dt.date | None = None
    opening_bank: Decimal | None = None
    opening_books: Decimal | None = None
    closing_day: dt.date | None = None
    closing_bank: Decimal | None = None
    closing_books: Decimal | None = None

    @property
    def opening_difference(self) -> Decimal | None:
        return None if self.opening_bank is None else self.opening_bank - self.opening_books

    @property
    def closing_difference(self) -> Decimal | None:
        return None if self.closing_bank is None else self.closing_bank - self.closing_books


@dataclass(frozen=True)
class Plan:
    statement: Statement
    rows: list[Planned]
    problems: list[str] = field(default_factory=list)  # what refuses the whole statement
    notes: list[str] = field(default_factory=list)  # what the user should know, refusing nothing
    reconciliation: Reconciliation | None = None
    kept: Entry | None = None  # the statement itself (its balances), recorded after its rows

    @property
    def entries(self) -> list[Entry]:
        rows = [p.entry for p in self.rows if p.status == "record"]
        return [*rows, self.kept] if self.kept is not None else rows

    @property
    def left(self) -> list[Planned]:
        """The rows nothing matched or the rules refused."""
        return [p for p in self.rows if p.status in ("unmatched", "refused")]

    def refusal(self, *, partial: bool) -> str:
        """Why the import must refuse, in one line ('' when it need not): the whole statement, or any row left."""
        if self.problems:
            return self.problems[0]
        left = self.left
        if left and not partial:
            first = left[0]
            return f"{len(left)} row(s) refused, first row {first.row}: {first.reason}"
        return ""


# --- the mapping ----------------------------------------------------------


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
    fmt = raw.get("format", "")
    if fmt not in ("", *stm.FORMATS):
        raise BadInput(f"{where}: format must be one of {', '.join(stm.FORMATS)}, not {_shown(fmt)}")
    columns, formats, members, skip, extract = (
        _table(raw, name, where) for name in ("columns", "formats", "members", "skip", "extract")
    )
    _check_columns(columns, kind, extract, where)
    unknown = set(formats) - set(_FORMAT_KEYS)
    if unknown:
        raise BadInput(f"{where}: [formats] has unknown key(s) {', '.join(sorted(unknown))}")
    decimal, thousands = formats.get("decimal", "."), formats.get("thousands", ",")
    if isinstance(thousands, str) and len(thousands) == 1 and thousands.isspace():
        thousands = " "  # any Unicode space, written as a space, a no-break space or a thin space
    if decimal not in (".", ",") or thousands not in (",", ".", " ", "'", "") or decimal == thousands:
        raise BadInput(f"{where}: [formats] decimal is '.' or ',', thousands is another separator or ''")
    for name, member in members.items():
        if not isinstance(member, str):
            raise BadInput(f"{where}: [members] maps names in the file to member names: {name!r} = {_shown(member)}")
    reconcile = raw.get("reconcile", True)
    if not isinstance(reconcile, bool):
        raise BadInput(f"{where}: reconcile is true or false, not {_shown(reconcile)}")
    return Mapping(
        kind=kind,
        columns=dict(columns),
        date_format=_date_format(formats.get("date", "%Y-%m-%d"), where),
        decimal=decimal,
        thousands=thousands,
        delimiter=_delimiter(raw.get("delimiter", ","), where),
        encoding=_encoding(raw.get("encoding", "utf-8"), where),
        members=dict(members),
        format=fmt,
        account=_account(raw.get("account", ""), where),
        reconcile=reconcile,
        skip=_skip(skip, where),
        extract={key: _pattern(value, f"[extract] {key}", where, group=key) for key, value in extract.items()},
        credit_marks=_marks(formats, "credit", _CREDIT_MARKS, where),
        debit_marks=_marks(formats, "debit", _DEBIT_MARKS, where),
        rules=_rules(raw.get("rules", []), where),
    )


def _check_columns(columns: dict, kind: str, extract: dict, where: str) -> None:
    unknown = set(extract) - {"member", "reference"}
    if unknown:
        raise BadInput(f"{where}: [extract] takes member and reference, not {', '.join(sorted(unknown))}")
    for key, column in columns.items():
        if key in _COLUMN_KEYS and (not isinstance(column, str) or not column):
            raise BadInput(f"{where}: [columns] {key} must be a column name (the header's text), not {_shown(column)}")
    if not columns:
        return  # camt and MT940 need no columns; a CSV without them is refused when it is read
    needed = {
        "date": "date",
        "amount": "amount (or debit and credit)",
        "member": "member (or [extract] member)",
        "reference": "reference (or [extract] reference)",
        **({"year": "year"} if kind == "pledge" else {}),
    }
    given = set(columns) | set(extract)
    if "debit" in columns or "credit" in columns:
        given.add("amount")
    missing = [text for key, text in needed.items() if key not in given]
    if missing:
        raise BadInput(f"{where}: [columns] needs {', '.join(missing)} for a {kind} import")
    unknown = set(columns) - set(_COLUMN_KEYS)
    if unknown:
        raise BadInput(f"{where}: unknown column key(s) {', '.join(sorted(unknown))}")
    if "amount" in columns and ("debit" in columns or "credit" in columns):
        raise BadInput(f"{where}: [columns] takes amount, or debit and credit, not both")
    if ("debit" in columns) != ("credit" in columns):
        raise BadInput(f"{where}: [columns] debit and credit go together")
    if extract and "description" not in columns:
        raise BadInput(f"{where}: [extract] reads the description column: name it in [columns]")


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


def _account(value: object, where: str) -> str:
    """The IBAN a statement must be for, checked (country, length, check digits) by schwifty."""
    if value == "":
        return ""
    if not isinstance(value, str):
        raise BadInput(f"{where}: account must be the account's IBAN, not {_shown(value)}")
    return check_iban(value, f"{where}: account")


def check_iban(text: str, what: str) -> str:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(text).compact
    except SchwiftyException as problem:
        raise BadInput(f"{what} {text[:40]!r} is not a valid IBAN: {problem}") from None


def _skip(table: dict, where: str) -> dict[str, frozenset[str]]:
    skip = {}
    for column, values in table.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise BadInput(f"{where}: [skip] maps a column to the values of rows to leave out: {column!r}")
        skip[column] = frozenset(v.strip() for v in values)
    return skip


def _pattern(value: object, what: str, where: str, *, group: str = "") -> re.Pattern:
    if not isinstance(value, str) or not value:
        raise BadInput(f"{where}: {what} must be a regular expression, not {_shown(value)}")
    try:
        pattern = re.compile(value)
    except re.error as problem:
        raise BadInput(f"{where}: {what} {value!r} is not a regular expression: {problem}") from None
    if group and group not in pattern.groupindex:
        raise BadInput(f"{where}: {what} must name what it captures: (?P<{group}>...)")
    return pattern


def _marks(formats: dict, key: str, default: frozenset[str], where: str) -> frozenset[str]:
    value = formats.get(key)
    if value is None:
        return default
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise BadInput(
            f'{where}: [formats] {key} lists what the direction column writes for it, such as ["{key[0].upper()}"]'
        )
    return frozenset(v.strip().upper() for v in value)


def _rules(value: object, where: str) -> tuple[Rule, ...]:
    if not isinstance(value, list) or not all(isinstance(rule, dict) for rule in value):
        raise BadInput(f"{where}: rules must be [[rules]] tables")
    rules = []
    for number, raw in enumerate(value, start=1):
        what = f"[[rules]] #{number}"
        unknown = set(raw) - set(_RULE_KEYS)
        if unknown:
            raise BadInput(f"{where}: {what} has unknown key(s) {', '.join(sorted(unknown))}")
        if raw.get("kind") not in RULE_KINDS:
            raise BadInput(
                f"{where}: {what} kind must be one of {', '.join(RULE_KINDS)}, not {_shown(raw.get('kind'))}"
            )
        for key in ("direction", "package", "envelope", "member", "supplier"):
            if not isinstance(raw.get(key, ""), str):
                raise BadInput(f"{where}: {what} {key} must be text, not {_shown(raw[key])}")
        if raw.get("direction", "") not in ("", _DIRECTION[raw["kind"]]):
            raise BadInput(
                f"{where}: {what} direction of a {raw['kind']} is {_DIRECTION[raw['kind']]}, "
                f"not {_shown(raw['direction'])}"
            )
        if raw["kind"] == "pay" and not raw.get("package"):
            raise BadInput(f'{where}: {what} pays a package: name it (package = "...")')
        rules.append(
            Rule(
                _pattern(raw.get("match"), f"{what} match", where),
                raw["kind"],
                raw.get("direction", ""),
                raw.get("package", ""),
                raw.get("envelope", "") or "unallocated",
                raw.get("member", ""),
                raw.get("supplier", ""),
            )
        )
    return tuple(rules)


def _shown(value: object) -> str:
    """A value from a mapping, for a message: a short repr."""
    text = repr(value)
    return f"{text[:40]}…" if len(text) > 41 else text


# --- reading --------------------------------------------------------------


def read_statement(path: Path, mapping: Mapping | None) -> Statement:
    """The statement in `path`, its format recognised from its content (or named by the mapping)."""
    from ledger.statements import camt, csvfile, swift

    mapping = mapping or Mapping()
    data = stm.read_bytes(path)
    fmt = mapping.format or stm.sniff(data)
    if fmt == "camt":
        if len(data) > stm.MAX_XML_BYTES:
            raise BadInput(
                f"{path} is {len(data):,} bytes of XML; a camt file larger than {stm.MAX_XML_BYTES:,} bytes is "
                "refused (ask the bank for one statement a day)"
            )
        statement = camt.read(data, path)
    elif fmt == "mt940":
        stm.check_lines(data, path)
        statement = swift.read(stm.decode(data, mapping.encoding, path), path)
    else:
        if not mapping.columns:
            raise BadInput(
                f"{path} is neither camt XML nor MT940; to read it as CSV, give a mapping with [columns] "
                "(--map FILE, docs/IMPORT.md)"
            )
        statement = csvfile.read(data, path, mapping)
    if statement.format != "csv" and mapping.kind == "pledge":
        raise BadInput(f"{path} is a {statement.format} statement: pledges are imported from a spreadsheet")
    return statement


# --- planning -------------------------------------------------------------


def plan(
    books: Books,
    statement: Statement,
    mapping: Mapping,
    *,
    match: bool = True,
    partial: bool = False,
    tick: Callable[[], None] | None = None,
) -> Plan:
    """What each row would become, checked in order against books that include the rows before it.

    Works on a copy of `books`, so it can be shown (`--dry-run`) without
    changing anything; the import plans again under the write lock.
    `match`: settle receipts against open pledges; `partial`: a closing
    balance the books miss is a note, not a refusal (only matched rows
    are to be recorded).
    """
    problems, notes = _account_problems(statement, mapping), []
    opening = _opening(books, statement, mapping, problems, notes)
    books = fold.rebuild(books.currency, books.entries, books.name, books.manager)
    seen = {  # what identifies each bank movement already recorded (money in or out) -> the entry that records it
        _key(e, books.currency): e.id for e in books.entries if e.kind in IMPORTED and e.id not in books.reversed_by
    }
    planned = []
    for row in statement.rows:
        planned.append(_plan_row(books, row, mapping, seen, match))
        if tick:
            tick()
    # With rows left out the closing balance cannot be reached: those rows are the refusal to show first.
    soft = partial or any(p.status in ("unmatched", "refused") for p in planned)
    reconciliation = _closing(books, statement, mapping, opening, problems, notes, soft)
    kept = _kept(books, statement, mapping, problems, notes)
    return Plan(statement, planned, problems, notes, reconciliation, kept)


def _kept(books: Books, statement: Statement, mapping: Mapping, problems: list[str], notes: list[str]) -> Entry | None:
    """The entry that keeps a statement's balances in the books (for `report reconcile`), after its rows.

    None for a statement with no id or no balance, one not reconciled (in
    another currency, or `reconcile = false`), or one already recorded.
    """
    if not statement.id or not _reconcilable(books, statement, mapping, []):
        return None
    prior = latest_statement(books, statement.account, statement.id)
    if prior is not None and prior.reversed_by is None:
        notes.append(f"statement {statement.id} was recorded already (#{prior.id})")
        return None
    days = [b.day for b in (statement.closing, statement.opening) if b] + [r.day for r in statement.rows if r.day]
    balances = {w: (b.day, b.amount) for w, b in (("opening", statement.opening), ("closing", statement.closing)) if b}
    note = fund.Note(days[0], memo=f"{statement.format} statement {statement.id}")
    entry = fund.statement(books, statement.id, statement.account, statement.format, books.currency,
                           len(statement.rows), note, **balances)  # fmt: skip
    try:
        entry = entry.sealed(books.last_id + 1, books.seal)
        fold.fold(books, entry)
    except LedgerError as problem:
        problems.append(f"statement {statement.id}: {problem}")
        return None
    return entry


def _plan_row(books: Books, row: Row, mapping: Mapping, seen: dict, match: bool) -> Planned:
    values = row.shown
    if row.skip:
        return Planned(row.number, "skip", row.skip, values=values, source=row)
    if row.problem:
        return Planned(row.number, "refused", row.problem, values=values, source=row)
    try:
        # Known before the row is matched to anything: a row recorded last time is skipped even when
        # what it was matched to has changed since (a package it paid in full, a pledge it settled).
        key = _row_key(row, books.currency)
        if key in seen:
            why = f"already recorded as #{seen[key]} (same reference, amount, day and direction)"
            return Planned(row.number, "skip", why, values=values, source=row)
        entry, what = _entry(books, row, mapping, match)
    except _Unmatched as why:
        return Planned(row.number, "unmatched", str(why), values=values, source=row)
    except LedgerError as problem:
        return Planned(row.number, "refused", str(problem), values=values, source=row)
    try:
        entry = entry.sealed(books.last_id + 1, books.seal)
        fold.fold(books, entry)
    except LedgerError as problem:
        return Planned(row.number, "refused", str(problem), values=values, what=what, source=row)
    seen[key] = entry.id
    return Planned(row.number, "record", entry=entry, values=values, what=what, source=row)


class _Unmatched(Exception):
    """Nothing says what the row is: no member, no package, no rule."""


def _key(entry: Entry, currency: str) -> tuple:
    """What identifies the bank movement an entry records: its reference, its day, the money as given."""
    given = model.given_as(entry)
    moved = (given.currency, given.amount) if given else (currency, model.size(entry))
    return (entry.source, entry.date, "in" if entry.kind in ("contribute", "pledge", "interest") else "out", moved)


def _row_key(row: Row, currency: str) -> tuple:
    """A row's `_key`, from the row alone: the entry it becomes would have the same."""
    if not row.reference:
        raise BadInput("the row has no reference")
    given = (row.currency or currency).upper()
    return (row.reference, row.day, "in" if row.credit else "out", (given, money.parse_amount(row.amount, given)))


def _entry(books: Books, row: Row, mapping: Mapping, match: bool) -> tuple[Entry, str]:
    """The entry a row stands for, and a few words saying what it is."""
    if not row.reference:
        raise BadInput("the row has no reference")
    note = fund.Note(row.day, row.memo, row.reference)
    currency = (row.currency or books.currency).upper()
    foreign = currency != books.currency
    amount = f"{row.amount} {currency}" if foreign else row.amount
    kind, rule = _kind(books, row, mapping)
    contract = _contract_named(books, row) if kind == "pay" and not (rule and rule.package) else None
    if contract is not None and currency == (contract.currency or books.currency):
        return fund.pay(books, contract.package, amount, note, contract=contract.ref), (
            f"pay {contract.package}, contract {contract.ref}"
        )
    if kind in ("pay", "charge", "interest", "fee") and foreign:
        raise BadInput(f"a {kind} in {currency}: only money received is converted; record it by hand")
    if kind == "pay":
        package = rule.package if rule else _package_named(books, row)
        supplier = (rule.supplier if rule else "") or row.payer
        return fund.pay(books, package, amount, note, supplier=supplier), f"pay {package}"
    if kind in ("charge", "interest", "fee"):
        envelope = rule.envelope if rule else "unallocated"
        build = {"charge": fund.charge, "interest": fund.interest, "fee": fund.fee}[kind]
        return build(books, amount, note, envelope=envelope), kind + (
            "" if envelope == "unallocated" else f" {envelope}"
        )
    member = (rule.member if rule and rule.member else "") or _member(books, row, mapping)
    if kind == "pledge":
        try:
            year = int(row.year)
        except ValueError:
            raise BadInput(f"year {row.year!r} is not a year") from None
        return fund.pledge(books, member, amount, year, (), note), f"pledge {member}"
    pledge_id = None
    if row.pledge:
        if not row.pledge.isdigit():
            raise BadInput(f"pledge {row.pledge!r} is not an entry id")
        pledge_id = int(row.pledge)
    elif match:
        found = _open_pledge(books, member, currency, money.parse_amount(row.amount, currency))
        pledge_id = found.id if found else None
    what = f"contribute {member}" + (f", pledge #{pledge_id}" if pledge_id else "")
    return fund.contribute(books, member, amount, note, pledge_id=pledge_id), what


def _kind(books: Books, row: Row, mapping: Mapping) -> tuple[str, Rule | None]:
    """What the row is: the first rule that matches its text, else its bank code, else its direction."""
    text = " ".join((row.payer, row.reference, row.memo))
    for rule in mapping.rules:
        if (rule.direction or _DIRECTION[rule.kind]) != ("credit" if row.credit else "debit"):
            continue  # a rule never turns money in into a payment, or money out into a receipt
        if rule.match.search(text):
            return rule.kind, rule
    if row.code == "interest":
        return ("interest" if row.credit else "charge"), None
    if row.code == "charge":
        if row.credit:
            raise _Unmatched(
                "money in with a bank-charges code (a refund?): add a [[rules]] entry that says what it is"
            )
        return "charge", None
    if mapping.kind == "pledge":
        if not row.credit:
            raise BadInput(f"amount -{row.amount} is negative: a pledge is a promise to give")
        return "pledge", None
    return ("contribute" if row.credit else "pay"), None


def _contract_named(books: Books, row: Row):
    """The one open contract whose reference the row's reference or text holds (None when none does)."""
    text = " ".join((row.reference, row.memo, row.payer)).casefold()
    named = sorted(
        (c for c in books.contracts.values() if c.status == "open" and c.ref.casefold() in text), key=lambda c: c.ref
    )
    if len(named) > 1:
        refs = ", ".join(c.ref for c in named)
        raise _Unmatched(f"money out whose text names several open contracts ({refs}): add a [[rules]] entry")
    return named[0] if named else None


def _package_named(books: Books, row: Row) -> str:
    """The one open package whose name the row's reference or text holds."""
    text = " ".join((row.reference, row.memo, row.payer)).casefold()
    named = sorted(p.name for p in books.packages.values() if p.status == "open" and p.name.casefold() in text)
    if len(named) == 1:
        return named[0]
    if named:
        raise _Unmatched(
            f"money out whose text names several open packages ({', '.join(named)}): add a [[rules]] entry"
        )
    raise _Unmatched(
        'money out whose reference names no open package: add a [[rules]] entry (match = "...", kind = "pay", '
        'package = "...")'
    )


def _member(books: Books, row: Row, mapping: Mapping) -> str:
    """The member that paid: by the mapping's [members], by its name, or a mapped name inside the row's text."""
    payer = row.payer
    if payer in mapping.members:
        return mapping.members[payer]
    folded = {name.casefold(): member for name, member in mapping.members.items()}
    if payer.casefold() in folded:
        return folded[payer.casefold()]
    if payer and model.slug(payer) and books.member(payer):
        return books.member(payer).name
    text = " ".join((payer, row.memo)).casefold()
    inside = {member for name, member in folded.items() if name and name in text}
    if not inside:  # MT940's free text often holds the member's own name
        inside = {m.name for m in books.members.values() if re.search(rf"\b{re.escape(m.name.casefold())}\b", text)}
    if len(inside) == 1:
        return inside.pop()
    if payer:
        return payer  # the rules refuse a name that is no member's, and say so
    raise _Unmatched("money in from no one the row names: map the payer under [members] or with [extract] member")


def _open_pledge(books: Books, member: str, currency: str, amount: Decimal) -> Pledge | None:
    """The member's oldest open pledge in `currency` with at least `amount` outstanding."""
    found = books.member(member) if model.slug(member) else None
    if found is None:
        return None
    open_ = [
        p
        for p in books.pledges.values()
        if p.member == found.name
        and p.reversed_by is None
        and p.closed_by is None
        and p.currency == currency
        and amount <= p.total_original_outstanding
    ]
    return min(open_, key=lambda p: (p.date, p.id), default=None)


# --- reconciliation -------------------------------------------------------


def _account_problems(statement: Statement, mapping: Mapping) -> list[str]:
    account = statement.account.replace(" ", "").upper()
    if re.fullmatch(r"[A-Z]{2}\d\d[A-Z0-9]{8,30}", account):
        check_iban(account, "the statement's account")
    if mapping.account and account != mapping.account:
        return [f"the statement is for account {account or '(none named)'}; the mapping names {mapping.account}"]
    if mapping.ledger_accounts and account not in mapping.ledger_accounts:
        named = ", ".join(mapping.ledger_accounts)
        return [f"the statement is for account {account or '(none named)'}, not one of the fund's ({named})"]
    return []


def with_ledger_accounts(mapping: Mapping, accounts: tuple[str, ...]) -> Mapping:
    """The mapping, also held to the bank accounts ledger.toml names (each checked as an IBAN)."""
    checked = tuple(check_iban(a.replace(" ", "").upper(), "ledger.toml's bank account") for a in accounts)
    return dataclasses.replace(mapping, ledger_accounts=checked)


def _reconcilable(books: Books, statement: Statement, mapping: Mapping, notes: list[str]) -> bool:
    if not mapping.reconcile or (statement.opening is None and statement.closing is None):
        return False
    currency = (statement.opening or statement.closing).currency
    if currency != books.currency:
        notes.append(f"not reconciled: the statement is in {currency}, the books in {books.currency}")
        return False
    return True


def _opening(books: Books, statement: Statement, mapping: Mapping, problems: list[str], notes: list[str]):
    """(day, bank, books) for the statement's opening balance, with a problem when they differ."""
    if not _reconcilable(books, statement, mapping, notes) or statement.opening is None:
        return None
    days = [row.day for row in statement.rows if row.day and not row.skip]
    day = min([statement.opening.day, *(d - dt.timedelta(days=1) for d in days)])
    ours = cash_on(books, day)
    if ours != statement.opening.amount:
        problems.append(
            f"the statement opens at {_money(statement.opening.amount, books.currency)} after {day}; the books' cash "
            f"then is {_money(ours, books.currency)}, a difference of "
            f"{_money(statement.opening.amount - ours, books.currency)}: record what is missing before importing "
            "(or set reconcile = false for a fund with several accounts)"
        )
    return day, statement.opening.amount, ours


def _closing(books, statement, mapping, opening, problems, notes, partial) -> Reconciliation | None:
    if not _reconcilable(books, statement, mapping, []):
        return None
    result = Reconciliation(books.currency, *(opening or (None, None, None)))
    if statement.closing is None:
        return result
    day = statement.closing.day
    ours = cash_on(books, day)
    if ours != statement.closing.amount and not problems:
        line = (
            f"the statement closes at {_money(statement.closing.amount, books.currency)} on {day}; with its rows the "
            f"books' cash would be {_money(ours, books.currency)}, a difference of "
            f"{_money(statement.closing.amount - ours, books.currency)}"
        )
        (notes if partial else problems).append(line)
    return Reconciliation(books.currency, *(opening or (None, None, None)), day, statement.closing.amount, ours)


def _money(amount: Decimal, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    return sign + money.format_money(abs(amount), currency)


@dataclass(frozen=True)
class StatementCheck:
    """One statement beside the books as they stand: its balances and the books' cash, its rows recorded or not."""

    name: str
    format: str
    id: str
    account: str
    currency: str
    opening_day: dt.date | None
    opening_bank: Decimal | None
    opening_books: Decimal | None
    closing_day: dt.date | None
    closing_bank: Decimal | None
    closing_books: Decimal | None
    rows: int
    recorded: int  # rows whose entry the books hold
    missing: int  # rows the books do not hold (not recorded, unmatched or refused)

    @property
    def reconciled(self) -> bool:
        return self.opening_bank == self.opening_books and self.closing_bank == self.closing_books


def check_statement(books: Books, statement: Statement, mapping: Mapping, name: str) -> StatementCheck:
    """`statement` against the books as they stand (a pure function: it reads the books and changes nothing).

    The balances it states beside the books' cash on the same days (see
    `cash_on`), and how many of its rows the books hold.
    """
    planned = plan(books, statement, mapping)
    held = sum(1 for p in planned.rows if p.status == "skip" and p.reason.startswith("already"))
    missing = sum(1 for p in planned.rows if p.status in ("record", "unmatched", "refused"))
    rec = planned.reconciliation
    opening_day = rec.opening_day if rec else None
    closing_day = statement.closing.day if rec and statement.closing else None
    return StatementCheck(
        name=name,
        format=statement.format,
        id=statement.id,
        account=statement.account,
        currency=(statement.opening or statement.closing).currency if rec else "",
        opening_day=opening_day,
        opening_bank=rec.opening_bank if rec else None,
        opening_books=cash_on(books, opening_day) if opening_day else None,
        closing_day=closing_day,
        closing_bank=statement.closing.amount if closing_day else None,
        closing_books=cash_on(books, closing_day) if closing_day else None,
        rows=len(statement.rows),
        recorded=held,
        missing=missing,
    )


# --- undo by batch ----------------------------------------------------------


def batch(ledger, batch_id: int) -> list[int]:
    """The ids of the entries import batch `batch_id` recorded: those of the one commit that recorded them.

    An import records all its entries in one git commit whose trailer says
    `Entry-Kind: import`, whose subject counts them ("import 12 entries …")
    and whose `Entry-Id` is the last; the batch's id is the first's.
    """
    from ledger import git

    if not git.inside_work_tree(ledger.path):
        raise BadInput("batches are found in the ledger's git history, and this ledger is not kept in git")
    for _sha, message in git.messages_with(ledger.path, "Entry-Kind: import"):
        counted = re.match(r"fundledger: import (\d+) entries", message)
        last = re.search(r"^Entry-Id: (\d+)$", message, re.MULTILINE)
        if counted and last and int(last[1]) - int(counted[1]) + 1 == batch_id:
            return list(range(batch_id, int(last[1]) + 1))
    raise Refused(f"no import batch {batch_id}: a batch's id is the id of the first entry an import recorded")


def reverse_batch(ledger, batch_id: int, reason: str, note: fund.Note):
    """A plan reversing every entry of import batch `batch_id` not reversed yet, for the one writer."""
    ids = batch(ledger, batch_id)

    def build(books: Books) -> list[Entry]:
        undone = [fund.reverse(books, i, reason, note) for i in ids if i not in books.reversed_by]
        if not undone:
            raise Refused(f"every entry of batch {batch_id} (#{ids[0]}-#{ids[-1]}) is already reversed")
        return undone

    build.batch = f"reverse batch {batch_id}"  # the commit's subject
    return build
