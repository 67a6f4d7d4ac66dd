"""The fund's data: postings, entries, the chart of accounts and safe names. No I/O here.

An entry is a frozen record. Its canonical form (documented in
docs/FORMAT.md) is what the SHA-256 chain hashes, so that anyone can re-check
a journal in a few lines of any language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from ledger import money
from ledger.errors import BadInput

Account = str
Currency = str

GENESIS = "0" * 64  # the `prev` of the first entry

COMMON_FIELDS = ("id", "date", "recorded_at", "kind", "memo", "source", "postings", "prev", "hash")
_COMMON = frozenset(COMMON_FIELDS)

# The chart of accounts (the envelope model, laid out in docs/FORMAT.md).
UNALLOCATED = "assets:fund:unallocated"
EARMARKED = "assets:fund:earmarked"
COMMITTED = "assets:fund:committed"
RECEIVABLE = "assets:receivable"
CONTRIBUTIONS = "income:contributions"
PACKAGE_EXPENSES = "expenses:packages"
# What receipts against a pledge in another currency gain (credit) or lose (debit) against the
# pledge's value in the fund's currency on the day it was made.
EXCHANGE = "income:exchange-differences"
INTEREST = "income:interest"  # bank interest received
BANK_CHARGES = "expenses:bank-charges"
MANAGEMENT_FEE = "expenses:management-fee"
WRITE_OFFS = "expenses:write-offs"  # what is left of a pledge the fund gave up on, per member


def contracted(package: str, contract: str) -> Account:
    """The envelope of a contract under its package: what the package committed to that supplier, not yet paid."""
    return f"{COMMITTED}:{package}:{slug(contract)}"


def write_offs(slug: str) -> Account:
    return f"{WRITE_OFFS}:{slug}"


def cash_account(envelope: str) -> Account:
    """The account of an envelope of cash: 'unallocated', an earmark's name, or 'package:<name>'."""
    if envelope == "unallocated":
        return UNALLOCATED
    if envelope.startswith("package:"):
        return committed(envelope.removeprefix("package:"))
    return earmarked(envelope)


def exchange(slug: str) -> Account:
    return f"{EXCHANGE}:{slug}"


def earmarked(earmark: str) -> Account:
    return f"{EARMARKED}:{earmark}"


def committed(package: str) -> Account:
    return f"{COMMITTED}:{package}"


def expense(package: str) -> Account:
    return f"{PACKAGE_EXPENSES}:{package}"


def receivable(member_slug: str, earmark: str | None = None) -> Account:
    return f"{RECEIVABLE}:{member_slug}:{earmark}" if earmark else f"{RECEIVABLE}:{member_slug}"


def contributions(member_slug: str) -> Account:
    return f"{CONTRIBUTIONS}:{member_slug}"


def envelope(source: str) -> Account:
    """The account of a package or earmark source: `unallocated` or an earmark's name."""
    return UNALLOCATED if source == "unallocated" else earmarked(source)


@dataclass(frozen=True)
class Posting:
    account: Account
    amount: Decimal  # positive debits, negative credits
    currency: Currency

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"posting amounts are Decimal, never {type(self.amount).__name__}")


@dataclass(frozen=True)
class Entry:
    """One recorded event. `data` holds the kind's own fields (member, year, split, ...)."""

    id: int
    date: dt.date
    recorded_at: dt.datetime
    kind: str
    postings: tuple[Posting, ...] = ()
    memo: str = ""
    source: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    prev: str = ""
    hash: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def __reduce__(self):
        """Pickled as its fields (a read-only mapping cannot be), as a helper process hands entries back and
        a journal file's entries are kept (`cache.keep_entries`); taken back without `__init__`'s checks, as
        they were made by it."""
        fields = (self.id, self.date, self.recorded_at, self.kind, self.postings, self.memo, self.source)
        return (_unpickled, (*fields, dict(self.data), self.prev, self.hash))

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def sealed(self, entry_id: int, prev: str) -> Entry:
        """This entry with its id and place in the chain, and the hash that pins both."""
        placed = replace(self, id=entry_id, prev=prev, hash="")
        return replace(placed, hash=entry_hash(placed))


_ENTRY_FIELDS = tuple(Entry.__dataclass_fields__)


def _unpickled(*values: Any) -> Entry:
    """An entry from its fields in order, as `Entry.__reduce__` gave them: a third quicker than `Entry(...)`."""
    entry = object.__new__(Entry)
    state = dict(zip(_ENTRY_FIELDS, values, strict=True))
    state["data"] = MappingProxyType(state["data"])
    object.__setattr__(entry, "__dict__", state)
    return entry


def entry_hash(entry: Entry) -> str:
    """SHA-256 of the entry's canonical form (see docs/FORMAT.md)."""
    return hashlib.sha256(canonical(entry)).hexdigest()


def canonical(entry: Entry) -> bytes:
    """The bytes the chain hashes: the record without `hash`, as compact sorted JSON in UTF-8."""
    record = to_json(entry)
    del record["hash"]
    return _CANONICAL.encode(record).encode("utf-8")


# What json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds anew on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_json(entry: Entry) -> dict[str, Any]:
    """The entry as JSON-ready data: dates as ISO text, amounts as decimal strings."""
    record = to_record(entry)
    record["date"] = entry.date.isoformat()
    record["recorded_at"] = format_timestamp(entry.recorded_at)
    return record


def proposable(entry: Entry) -> dict[str, Any]:
    """What a proposal holds of an entry, and what its booking must match: all but its id, chain and time (and a
    close's state, which the writer adds as it seals the close: ledger.state)."""
    record = to_json(entry)
    for name in ("id", "recorded_at", "prev", "hash"):
        del record[name]
    if record["kind"] == "close":
        record.pop("state", None)
        record.pop("state_layout", None)
    return record


def to_record(entry: Entry) -> dict[str, Any]:
    """The entry as the TOML journal stores it (dates stay dates)."""
    record: dict[str, Any] = {
        "id": entry.id,
        "date": entry.date,
        "recorded_at": entry.recorded_at,
        "kind": entry.kind,
        "memo": entry.memo,
        "source": entry.source,
    }
    for key, value in entry.data.items():  # most are text or numbers: known as such before asking Mapping
        record[key] = value if type(value) in _PLAIN else dict(value) if isinstance(value, Mapping) else value
    text = money.to_text
    record["postings"] = [
        {"account": p.account, "amount": text(p.amount, p.currency), "currency": p.currency} for p in entry.postings
    ]
    record["prev"] = entry.prev
    record["hash"] = entry.hash
    return record


_PLAIN = frozenset({str, int, bool, Decimal, dt.date})


def from_record(record: Mapping[str, Any], own: Mapping[str, tuple[type, bool]]) -> Entry:
    """Build an entry from a parsed TOML table, checking its shape; ValueError says what is wrong.

    `own` is the kind's own fields, name -> (type, required): `kinds.from_record` looks them up.
    """
    kind = record["kind"]
    unknown = record.keys() - _COMMON - own.keys()
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))} for a {kind} entry")
    _need(record, "id", int)
    _need(record, "date", dt.date)
    _need(record, "recorded_at", dt.datetime)
    for name in ("memo", "source", "prev", "hash"):
        _need(record, name, str)
    if isinstance(record["date"], dt.datetime):
        raise ValueError("date must be a date, not a date and time")
    stamp = record["recorded_at"]
    if stamp.utcoffset() != dt.timedelta(0) or stamp.microsecond:
        raise ValueError("recorded_at must be a UTC timestamp to the second")
    data = {}
    for name, (typ, required) in own.items():
        if name in record:
            _need(record, name, typ)
            data[name] = _split(record[name]) if typ is dict else record[name]
        elif required:
            raise ValueError(f"a {kind} entry needs {name!r}")
    postings = record.get("postings", [])
    if not isinstance(postings, list):
        raise ValueError("postings must be a list of tables")
    # Every field checked above: made as a pickled entry is taken back (`_unpickled`), without __init__'s
    # setting its ten fields one by one through the frozen class's guard.
    return _unpickled(record["id"], record["date"], stamp, kind, tuple([_posting(p) for p in postings]),
                      record["memo"], record["source"], data, record["prev"], record["hash"])  # fmt: skip


def subject(entry: Entry) -> str:
    """A few words naming what an entry is about: its member, package or earmark, or what it reverses."""
    data = entry.data
    if entry.kind == "reverse":
        return f"reverses #{data['reverses']}: {data['reason']}"
    if entry.kind == "approve":
        return f"{data['member']} by {data.get('by') or data.get('decision')}"
    if entry.kind == "contribute" and data.get("pledge"):
        return f"{data['member']} against pledge #{data['pledge']}"
    if entry.kind == "rate":
        return f"{data['currency']} at {data['rate']}"
    if entry.kind == "pay" and data.get("supplier"):
        return f"{data['package']} to {data['supplier']}"
    return str(data.get("member") or data.get("package") or data.get("earmark") or "")


@dataclass(frozen=True)
class Given:
    """Money as it was given, for an entry in another currency than the fund's."""

    amount: Decimal
    currency: str
    rate: Decimal  # fund currency per unit; prints as recorded ("1.1850")
    parts: dict[str | None, Decimal]  # per earmark: the named ones from `split`, the rest (None) not earmarked

    def __str__(self) -> str:
        return f"{money.format_money(self.amount, self.currency)} at {self.rate}"


def given_as(entry: Entry) -> Given | None:
    """What an entry in another currency was given as; None for one in the fund's.

    ValueError when its fields are not decimal strings of the currency's places.
    """
    currency = entry.get("original_currency")
    if not currency:
        return None
    amount = money.parse_stored(entry.get("original_amount"), currency)
    named = {e: money.parse_stored(a, currency) for e, a in (entry.get("split") or {}).items()}
    rest = amount - sum(named.values(), Decimal(0))
    return Given(amount, currency, Decimal(entry.get("rate")), {**named, **({None: rest} if rest else {})})


def size(entry: Entry) -> Decimal:
    """How much an entry moves: the sum of its debits (an exchange loss is not money that moved)."""
    return sum((p.amount for p in entry.postings if p.amount > 0 and not p.account.startswith(EXCHANGE)), Decimal(0))


def period_bounds(text: object) -> tuple[dt.date, dt.date]:
    """The first and last day of a period: '2024', '2025Q1' or '2025-03'. ValueError says what is wrong."""
    match = PERIOD.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"period {text!r} is not a year (2024), a quarter (2025Q1) or a month (2025-03)")
    year, quarter, month = int(match["year"]), match["quarter"], match["month"]
    if quarter:
        first, months = 3 * int(quarter) - 2, 3
    elif month:
        first, months = int(month), 1
        if not 1 <= first <= 12:
            raise ValueError(f"period {text!r}: there is no month {first}")
    else:
        first, months = 1, 12
    start = dt.date(year, first, 1)
    after = dt.date(year + (first + months - 1) // 12, (first + months - 1) % 12 + 1, 1)
    return start, after - dt.timedelta(days=1)


PERIOD = re.compile(r"(?P<year>[0-9]{4})(?:Q(?P<quarter>[1-4])|-(?P<month>[0-9]{2}))?")


def format_timestamp(stamp: dt.datetime) -> str:
    if stamp.tzinfo is not dt.UTC:  # a local time: its text depends on its zone's rules and `fold`, never kept
        return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = _STAMPS.get(stamp)
    if text is None:
        if len(_STAMPS) >= 10_000:
            _STAMPS.clear()
        text = _STAMPS[stamp] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return text


# UTC times written out before (every time an entry holds is UTC): entries recorded in one second share theirs.
_STAMPS: dict[dt.datetime, str] = {}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


# --- names ---------------------------------------------------------------

_KEY_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", re.ASCII)
_MAX_MEMBER = 64


def check_key(name: str, what: str) -> str:
    """An earmark or package name: it becomes part of an account, so only a-z, 0-9 and '-'."""
    if not _KEY_NAME.fullmatch(name) or "--" in name:
        hint = slug(name) if _has_letters(name) else ""
        suggestion = f" (for example {hint!r})" if hint and _KEY_NAME.fullmatch(hint) and "--" not in hint else ""
        raise BadInput(
            f"{what} name {name!r} is not allowed: use lower-case letters, digits and single hyphens, "
            f"at most 64 characters{suggestion}"
        )
    if name == "unallocated":
        raise BadInput(f"{what} name 'unallocated' is reserved for the fund's free cash")
    return name


# Apostrophes as people type them: straight, curly (right and left) and the modifier letter.
_APOSTROPHES = "'’‘ʼ"
_AS_STRAIGHT = str.maketrans({char: "'" for char in _APOSTROPHES})


def check_member_name(name: str) -> str:
    """A member state's name, in any script: letters (with their marks), spaces, hyphens, apostrophes and dots."""
    if not name or len(name) > _MAX_MEMBER or name != name.strip() or "  " in name:
        raise BadInput(f"member name {name!r} is not allowed: 1 to {_MAX_MEMBER} characters, no outer or double spaces")
    for char in name:
        if not (char.isalpha() or char in " -." + _APOSTROPHES or unicodedata.category(char) in ("Mn", "Mc")):
            raise BadInput(
                f"member name {name!r} is not allowed: character {char!r} is not a letter, space, hyphen, "
                "apostrophe or dot"
            )
    if not name[0].isalpha() or not slug(name):
        raise BadInput(f"member name {name!r} is not allowed: it must start with a letter")
    return name


def slug(name: str) -> str:
    """The account part for a name: 'United Kingdom' -> 'united-kingdom', 'Türkiye' -> 'turkiye', 'Україна' -> 'xn--80aaxgrpt'.

    Lower case, accents dropped, every apostrophe alike, anything but a-z and
    0-9 made one '-'. A name with no letter that has an ASCII form (Україна,
    日本) has each word, case folded and its accents dropped, written in
    punycode (RFC 3492, as Internet domain names are) after 'xn--'. Such a
    slug always holds '--' and an ASCII one never does, so neither can be
    taken for the other. The slug of a name an earlier version took never
    changes (docs/FORMAT.md).
    """
    plain = unicodedata.normalize("NFKD", name.translate(_AS_STRAIGHT))
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", plain.encode("ascii", "ignore").decode("ascii").lower()).strip("-")
    return ascii_slug or _unicode_slug(plain)


def _unicode_slug(decomposed: str) -> str:
    """'xn--' and the punycode of each word, case folded and without accents, joined by '-' ('' with no letters)."""
    folded = unicodedata.normalize("NFKD", decomposed.casefold())
    kept = "".join(c for c in folded if unicodedata.category(c) != "Mn")
    words = "".join(c if c.isalpha() or unicodedata.category(c)[0] == "M" else " " for c in kept).split()
    return "-".join("xn--" + unicodedata.normalize("NFC", word).encode("punycode").decode("ascii") for word in words)


def _has_letters(name: str) -> bool:
    return any(char.isalnum() for char in name)


def _need(record: Mapping[str, Any], name: str, typ: type) -> None:
    if name not in record:
        raise ValueError(f"missing field {name!r}")
    value = record[name]
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise ValueError(f"field {name!r} must be {typ.__name__}, not {type(value).__name__}")
    if typ is int and not -(2**63) <= value < 2**63:
        # TOML's integers are 64-bit; tomllib takes any size, even one too long to print in a message or hash.
        raise ValueError(f"field {name!r} is an integer out of range (more than 64 bits)")


def _split(value: Mapping[str, Any]) -> dict[str, str]:
    for key, amount in value.items():
        if not isinstance(amount, str):
            raise ValueError(f"split amount for {key!r} must be a decimal string")
    return dict(value)


_POSTING_FIELDS = frozenset({"account", "amount", "currency"})


def _posting(record: Any) -> Posting:
    if not (type(record) is dict or isinstance(record, Mapping)) or record.keys() != _POSTING_FIELDS:
        raise ValueError("a posting has exactly account, amount and currency")
    account, amount, currency = record["account"], record["amount"], record["currency"]
    if not (isinstance(account, str) and isinstance(amount, str) and isinstance(currency, str)):
        # Named by its type, not shown: a value of any type can be here (an int too long to print).
        what, value = next((k, v) for k, v in record.items() if not isinstance(v, str))
        wanted = "a decimal string" if what == "amount" else "text"
        raise ValueError(f"posting {what} ({type(value).__name__}) is not {wanted}")
    found = _POSTINGS.get((account, amount, currency))
    if found is not None:
        return found
    if currency not in money.PLACES:
        raise ValueError(f"posting {dict(record)!r} has a bad account or currency")
    if len(_POSTINGS) >= 20_000:  # about 6 MB at the most
        _POSTINGS.clear()
    made = _POSTINGS[account, amount, currency] = Posting(account, money.parse_stored(amount, currency), currency)
    return made


# Postings read before, by their account, amount (as stored) and currency: a journal moves the same sums
# between the same accounts again and again, and a posting cannot be changed, so entries share them. Only
# postings that read without error are kept; forgotten all at once when full.
_POSTINGS: dict[tuple[str, str, str], Posting] = {}
