"""Export the books to the tools accountants already use: hledger and ledger-cli, beancount (and Fava), CSV and JSON.

Each exporter is a pure function from books to text, produced in pieces as it
is written (`stream`) so that memory stays flat whatever the journal's length;
docs/EXPORT.md says what every file holds. Money stays `Decimal` from the journal to the text. User
text (memos, sources, reasons, names) is made inert and written only where
the target format reads it as text, so no memo can add a line, a tag, an
account, a transaction or a directive to an exported file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from ledger import kinds, model, money
from ledger.books import Books
from ledger.model import Entry
from ledger.text import inert, spreadsheet_safe

FORMATS = ("hledger", "beancount", "csv", "json")
JSON_VERSION = 1  # the layout of the JSON export (docs/EXPORT.md); raised when a field changes meaning


def export(books: Books, fmt: str) -> str:
    """The books in format `fmt`, one of FORMATS."""
    return "".join(stream(books, fmt))


def stream(books: Books, fmt: str, tick: Callable[[int], None] | None = None) -> Iterator[str]:
    """The books in format `fmt`, in pieces to write as they come; `tick(n)` hears of `n` more of `steps` done.

    Every entry is read once, in id order, and its text set aside in a
    temporary file while what the file's head needs (accounts, payees,
    currencies, rates) is gathered; then the head is written and the
    entries' texts follow by date, then id. Nothing is written before every
    entry was read and checked, so a refusal writes nothing; only JSON, in
    id order, is written as it is read.
    """
    exporters: dict[str, Callable[[Books, Callable[[int], None]], Iterator[str]]] = {
        "hledger": _hledger_lines,
        "beancount": _beancount_lines,
        "csv": _csv_lines,
        "json": _json_lines,
    }
    return exporters[fmt](books, tick or _quiet)


def steps(books: Books, fmt: str) -> int:
    """How many steps `stream` ticks: each entry read, and (but for JSON) each written in date order."""
    return books.count if fmt == "json" else 2 * books.count


# --- what every format needs -----------------------------------------------

_BATCH = 1024  # entries read or written between two ticks, and written back from the spill at once


def _quiet(_steps: int) -> None:
    pass


def _entry(books: Books, entry_id: int) -> Entry | None:
    """The entry with `entry_id` (books from a journal read that one entry again)."""
    return books.entry(entry_id)


class _Spill:
    """Each entry's text, set aside in a temporary file as the entries are read in id order, given back by date.

    In memory stay three numbers an entry: where its text is, how long it
    is, and its date with its place (whose order is the ids').
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by by_date, or when the spill is dropped)
        self._keys = array("Q")  # (the date's ordinal << 32) | its place in id order: sorted, (date, id)
        self._at = array("Q")
        self._size = array("I")
        self._end = 0

    def put(self, entry: Entry, text: str) -> None:
        data = text.encode("utf-8")
        self._keys.append(entry.date.toordinal() << 32 | len(self._at))
        self._at.append(self._end)
        self._size.append(len(data))
        self._file.write(data)
        self._end += len(data)

    def by_date(self, tick: Callable[[int], None]) -> Iterator[str]:
        """The texts by date, then id, a batch at a time; the file is gone afterwards."""
        with self._file as file:
            file.flush()
            order = sorted(self._keys)
            self._keys = array("Q")
            for first in range(0, len(order), _BATCH):
                batch = []
                for key in order[first : first + _BATCH]:
                    place = key & 0xFFFFFFFF
                    file.seek(self._at[place])
                    batch.append(file.read(self._size[place]))
                yield b"".join(batch).decode("utf-8")
                tick(len(batch))


def _spilled(books: Books, text_of: Callable[[Entry], str], tick: Callable[[int], None]) -> _Spill:
    """Every entry read once, in id order, checked by `handled` and its text (`text_of`, which may gather) set aside."""
    spill = _Spill()
    read = 0
    for entry in books.iter_entries():
        handled(entry)
        spill.put(entry, text_of(entry))
        read += 1
        if read % _BATCH == 0:
            tick(_BATCH)
    tick(read % _BATCH)
    return spill


class _Seen:
    """The rates and currencies the entries name, gathered as they are read (a file's head lists them)."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.rates: set[tuple[dt.date, str, str]] = set()
        self.others: set[str] = set()

    def see(self, entry: Entry) -> None:
        found = _rate_of(entry)
        if found is not None:
            self.rates.add(found)
            self.others.add(found[1])
        if entry.kind == "write_off":
            self.others.add(entry.data["currency"])
        for posting in entry.postings:
            self.others.add(posting.currency)

    def currencies(self) -> list[str]:
        """The fund's currency, then every other one the entries name (rates, amounts given, write-offs)."""
        return [self.currency, *sorted(c for c in self.others - {self.currency} if c in money.PLACES)]


# What an entry of a kind that moves no money is, in a few words; an exporter writes it as an event. A kind
# missing here (and moving no money) is refused by every exporter, so a new kind cannot be silently dropped.
EVENTS: Mapping[str, tuple[str, Callable[[Entry], str]]] = {
    "join": ("membership", lambda e: f"{e.get('member')} joined ({e.get('role')})"),
    "apply": ("membership", lambda e: f"{e.get('member')} applied to join"),
    "approve": ("membership", lambda e: f"{e.get('member')} approved by {e.get('by') or e.get('decision')}"),
    "leave": ("membership", lambda e: f"{e.get('member')} left"),
    "rate": ("rate", lambda e: f"{e.get('currency')} at {e.get('rate')}"),
    "repair": ("repair", lambda e: f"unfinished write of {e.get('removed_bytes')} bytes cut from {e.get('file')}"),
    "close": ("period", lambda e: f"{e.get('period')} closed ({e.get('start')} to {e.get('end')})"),
    "reopen": ("period", lambda e: f"close #{e.get('close')} reopened: {e.get('reason')}"),
    "supplier": ("supplier", lambda e: f"{e.get('supplier')} ({e.get('country')}) named"),
    "deliver": ("delivery", lambda e: f"{e.get('quantity')} {e.get('item')} delivered for {e.get('package')}"
                + (f" to {e.get('to')}" if e.get("to") else "")),
    "statement": ("bank statement", lambda e: f"statement {e.get('statement')} of {e.get('account') or 'the bank'}"
                  + "".join(f", {w} {e.get(w)} {e.get('currency')} on {e.get(w + '_date')}"
                            for w in ("opening", "closing") if e.get(w) is not None)),
    "officer": ("officer", lambda e: f"{e.get('officer')} named officer ({', '.join(e.get('roles'))})"),
    "policy": ("policy", lambda e: f"{e.get('target')} needs {e.get('approvals')} approval(s)"
               + (f" above {e.get('above')}" if e.get("above") else "")),
    "proposal": ("proposal", lambda e: f"a {json.loads(e.get('proposed'))['kind']} proposed"),
    "approval": ("approval", lambda e: f"proposal #{e.get('proposal')} approved"),
    "reject": ("approval", lambda e: f"proposal #{e.get('proposal')} rejected: {e.get('reason')}"),
}  # fmt: skip


def handled(entry: Entry) -> None:
    """Refuse an entry no exporter knows how to write: a kind that moves no money and has no event."""
    kind = kinds.get(entry.kind)
    if kind is None or (not kind.moves_money and entry.kind not in EVENTS):
        raise ValueError(f"entry #{entry.id} is of kind {entry.kind!r}, which the exporters do not handle yet")


def payee(books: Books, entry: Entry) -> str:
    """Who an entry deals with: the member, the supplier paid, the manager for a fee, else the fund itself."""
    data = entry.data
    if entry.kind == "reverse":
        original = _entry(books, data["reverses"])
        return payee(books, original) if original is not None else books.name or "the fund"
    if entry.kind == "pay" and data.get("supplier"):
        return data["supplier"]
    if entry.kind == "write_off":
        pledge = _entry(books, data["pledge"])
        if pledge is not None and pledge.get("member"):
            return pledge.get("member")
    if entry.kind == "fee" and books.manager:
        return books.manager
    return data.get("member") or books.name or "the fund"


def narration(books: Books, entry: Entry) -> str:
    """'contribute against pledge #4': the kind and what it is about, less the payee that names it already."""
    subject, who = model.subject(entry), payee(books, entry)
    if subject == who:
        subject = ""
    elif subject.startswith(who + " "):
        subject = subject.removeprefix(who + " ")
    return f"{entry.kind} {subject}".strip()


class Cost(NamedTuple):
    """A posting's amount as it was given, in the currency it was given in (signed like the posting)."""

    amount: Decimal
    currency: str


class _Costs:
    """Entry id -> posting index -> the amount as given, for the postings of money given in another currency,
    found entry by entry as the entries are read in id order.

    A pledge's receivables and its contribution carry their part in the
    pledge's currency; so do the receivables a receipt against it relieves
    and those a write-off closes; a contribution without a pledge carries its
    total on the contribution. Cash and exchange differences stay in the
    fund's currency. Every posting's cost is its amount in the fund's
    currency, so at cost the books are exactly the fund's.
    """

    def __init__(self, books: Books) -> None:
        self.books = books
        self.found: dict[int, dict[int, Cost]] = {}
        # What each pledge's receivables still hold in the pledge's own currency, so a write-off closes exactly that.
        self.owed: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))

    def of(self, entry: Entry) -> dict[int, Cost]:
        """The costs of `entry`'s postings; every entry before it (by id) must have been asked first."""
        here = _costs_of(self.books, entry, self.found, self.owed)
        if here:
            self.found[entry.id] = here
        return here


def _costs_of(books: Books, entry: Entry, found, owed) -> dict[int, Cost]:
    data = entry.data
    if entry.kind == "reverse":
        original = _entry(books, data["reverses"])
        here = {i: Cost(-c.amount, c.currency) for i, c in found.get(data["reverses"], {}).items()}
        if original is not None:
            _track(owed, _pledge_of(original), original, found.get(original.id, {}), -1)
        return here
    if entry.kind in ("pledge", "contribute"):
        given = model.given_as(entry)
        if given is None:
            return {}
        pledge_id = _pledge_of(entry)
        promised = _entry(books, pledge_id) if pledge_id else None
        if entry.kind == "contribute" and promised is not None and promised.get("original_currency") != given.currency:
            return {}  # the pledge is followed in another currency: the amount given stays in the comment
        slug = _slug(books, data["member"])
        parts = {model.receivable(slug, earmark): amount for earmark, amount in given.parts.items()}
        here = {}
        for i, posting in enumerate(entry.postings):
            if posting.account in parts:
                here[i] = _signed(parts[posting.account], posting.amount, given.currency)
            elif posting.account == model.contributions(slug) and not (entry.kind == "contribute" and pledge_id):
                here[i] = _signed(given.amount, posting.amount, given.currency)
        here = {i: cost for i, cost in here.items() if cost.amount and entry.postings[i].amount}
        _track(owed, pledge_id, entry, here, 1)
        return here
    if entry.kind == "write_off" and data["currency"] != books.currency:
        left = owed.get(data["pledge"], {})
        here = {}
        for i, posting in enumerate(entry.postings):
            if posting.amount < 0 and left.get(posting.account):
                here[i] = _signed(left[posting.account], posting.amount, data["currency"])
            elif posting.amount > 0:
                here[i] = _signed(
                    money.parse_stored(data["amount"], data["currency"]), posting.amount, data["currency"]
                )
        here = {i: cost for i, cost in here.items() if cost.amount}
        _track(owed, data["pledge"], entry, here, 1)
        return here
    return {}


def _pledge_of(entry: Entry) -> int | None:
    return entry.id if entry.kind == "pledge" else entry.get("pledge")


def _track(owed, pledge_id, entry: Entry, here: Mapping[int, Cost], sign: int) -> None:
    if not pledge_id:
        return
    for i, cost in here.items():
        account = entry.postings[i].account
        if account.startswith(model.RECEIVABLE + ":"):
            owed[pledge_id][account] += sign * cost.amount


def _signed(amount: Decimal, like: Decimal, currency: str) -> Cost:
    return Cost(abs(amount) if like > 0 else -abs(amount), currency)


def _slug(books: Books, name: str) -> str:
    member = books.member(name)
    return member.slug if member is not None else model.slug(name)


def _rate_of(entry: Entry) -> tuple[dt.date, str, str] | None:
    if entry.kind == "rate":
        return entry.date, entry.data["currency"], entry.data["rate"]
    if entry.get("original_currency") and entry.get("rate"):
        return entry.date, entry.data["original_currency"], entry.data["rate"]
    return None


# --- hledger and ledger-cli ------------------------------------------------

# hledger reads a tag from any `word:` in a comment (its value runs to a comma) and a posting date from
# `[2025-01-01]`; ledger-cli reads metadata from `word:` and dates from `[...]` too. In user text written to
# a comment these are swapped for look-alikes; the exact text is in the JSON, CSV and beancount exports.
_COMMENT = str.maketrans({":": "꞉", "[": "［", "]": "］"})
_TAG_VALUE = str.maketrans({":": "꞉", "[": "［", "]": "］", ",": "，"})
_PAYEE = str.maketrans({":": "꞉", "[": "［", "]": "］", ";": "；", "|": "｜"})

# Fields written as tags (values fundledger checks: names, ids, dates, keys); the rest is text, in comments.
_TAGGED = (
    "member", "by", "year", "pledge", "earmark", "package", "envelope", "reverses", "currency", "rate",
    "original_amount", "original_currency", "due", "withdrawn", "amount", "period", "start", "end", "seal", "close",
    "offset", "removed_bytes", "removed_sha256",
)  # fmt: skip


def as_hledger(books: Books) -> str:
    """A journal that hledger (`check -s ordereddates payees`) and ledger-cli (`--pedantic`, `--strict`) accept.

    Entries by date then id; the member, supplier or fund as the payee
    (also as ledger-cli's `Payee:` metadata); id, kind, hash and the checked
    fields as tags; memos, sources and other text as plain comments; rates
    as `P` directives; money given in another currency as its amount with
    the fund-currency cost (`@@`), so `-B` shows the fund's books to the cent
    and `-X GBP` converts. Commodities, tags, payees and accounts are declared first.
    """
    return "".join(_hledger_lines(books))


def _hledger_lines(books: Books, tick: Callable[[int], None] = _quiet) -> Iterator[str]:
    seen, priced = _Seen(books.currency), _Costs(books)
    tags, payees, accounts = {"id", "kind", "hash", "Payee"}, set(), set()

    def text_of(entry: Entry) -> str:
        seen.see(entry)
        tags.update(name for name in entry.data if name in _TAGGED)
        who = _payee_text(books, entry)
        payees.add(who)
        accounts.update(posting.account for posting in entry.postings)
        return "\n" + "".join(_hledger_transaction(books, entry, priced.of(entry), who))

    spill = _spilled(books, text_of, tick)
    yield f"; fundledger export of {_comment(books.name)}, for hledger and ledger-cli\n"
    yield f"; {books.count} entries, seal {books.seal}\n"
    yield "; user text is in comments, with : [ ] written as ꞉ ［ ］ so that no tool reads a tag or a date in it\n\n"
    for currency in seen.currencies():
        places = money.places(currency)
        # Both tools read `format 1,000.00 EUR`. With no decimals there is no form both read alike: hledger
        # takes `1,000 JPY` for a decimal comma (1.000) and refuses `1000 JPY`, ledger-cli refuses `1,000.`;
        # so such a currency is declared by its code alone, and shown as its amounts are written (1234567 JPY).
        yield (
            f"commodity {currency}\n    format 1,000.{'0' * places} {currency}\n"
            if places
            else f"commodity {currency}\n"
        )
    yield "\n"
    yield "".join(f"tag {tag}\n" for tag in sorted(tags))
    yield "\n"
    yield "".join(f"payee {name}\n" for name in sorted(payees))
    yield "\n"
    yield "".join(f"account {account}\n" for account in sorted(accounts))
    yield "".join(f"P {day.isoformat()} {currency} {rate} {books.currency}\n" for day, currency, rate in sorted(seen.rates))
    yield from spill.by_date(tick)


def _hledger_transaction(books: Books, entry: Entry, priced: Mapping[int, Cost], who: str) -> Iterator[str]:
    yield f"{entry.date.isoformat()} * {who} | {_payee_safe(narration(books, entry))}\n"
    yield f"    ; id: {entry.id}\n    ; kind: {entry.kind}\n    ; hash: {entry.hash}\n    ; Payee: {who}\n"
    for name, value in entry.data.items():
        if name in _TAGGED:
            yield f"    ; {name}: {inert(str(value)).translate(_TAG_VALUE)}\n"
    for name in ("memo", "source"):
        if getattr(entry, name):
            yield from _comment_lines(name, [getattr(entry, name)])
    for name, value in entry.data.items():
        if name not in _TAGGED:
            parts = [f"{key}={amount}" for key, amount in value.items()] if isinstance(value, Mapping) else [str(value)]
            yield from _comment_lines(name, parts)
    for i, posting in enumerate(entry.postings):
        amount = f"{money.to_text(posting.amount, posting.currency)} {posting.currency}"
        if i in priced:
            cost = priced[i]
            amount = f"{money.to_text(cost.amount, cost.currency)} {cost.currency} @@ {money.to_text(abs(posting.amount), posting.currency)} {posting.currency}"
        yield f"    {posting.account}  {amount}\n"


def _comment(text: str) -> str:
    return inert(text).translate(_COMMENT)


# ledger-cli refuses a line of more than 4,096 bytes: a comment is cut into lines of at most this many
# characters (four bytes each at most in UTF-8), and a mapping (a close's balances) is written a pair a line.
_COMMENT_WIDTH = 1000


def _comment_lines(name: str, parts: list[str]) -> Iterator[str]:
    """`; name = text`, the text cut into lines ledger-cli reads (`;   more` continues it); a part per line."""
    head = f"    ; {name} ="
    for number, part in enumerate(parts or [""]):
        text = _comment(part)
        chunks = [text[at : at + _COMMENT_WIDTH] for at in range(0, len(text), _COMMENT_WIDTH)] or [""]
        for place, chunk in enumerate(chunks):
            lead = head if number == 0 and place == 0 else "    ;  "
            yield f"{lead} {chunk}\n"


def _payee_safe(text: str) -> str:
    safe = " ".join(inert(text).translate(_PAYEE).split())
    return "（" + safe[1:] if safe.startswith("(") else safe  # '(' right after the status would be a code


def _payee_text(books: Books, entry: Entry) -> str:
    return _payee_safe(payee(books, entry)) or "the fund"


def _plain_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={amount}" for key, amount in value.items())
    return str(value)


# --- beancount and Fava ----------------------------------------------------

_BY_MEMBER = (model.RECEIVABLE, model.CONTRIBUTIONS, model.EXCHANGE, model.WRITE_OFFS)
_DATES = ("due", "start", "end")


def beancount_account(account: str, names: Mapping[str, str] | None = None) -> str:
    """'assets:fund:earmarked:drones' -> 'Assets:Fund:Earmarked:Drones' (beancount wants capitals).

    `names` maps a member's slug to the account part its name makes
    ('united-kingdom' -> 'United-Kingdom', 'cote-d-ivoire' -> 'Côte-d-Ivoire').
    """
    parts = account.split(":")
    if names and len(parts) >= 3 and ":".join(parts[:2]) in _BY_MEMBER and parts[2] in names:
        parts[2] = names[parts[2]]
        return ":".join([*(p[:1].upper() + p[1:] for p in parts[:2]), parts[2], *(_capital(p) for p in parts[3:])])
    return ":".join(_capital(part) for part in parts)


def _capital(part: str) -> str:
    return part[:1].upper() + part[1:]


def member_component(name: str) -> str | None:
    """A member's name as a beancount account part, or None when beancount would not take it.

    Letters and digits are kept as written (accents, any script); every run
    of anything else becomes one '-'; the first letter is capitalised.
    """
    words = "".join(c if c.isalnum() else " " for c in unicodedata.normalize("NFC", name)).split()
    part = "-".join(words)
    if not part:
        return None
    part = part[0].upper() + part[1:]
    first_ok = part[0].isdigit() or unicodedata.category(part[0]) in ("Lu", "Lo", "Lt")
    rest_ok = all(c == "-" or unicodedata.category(c) in ("Lu", "Ll", "Lt", "Lm", "Lo", "Nd") for c in part)
    return part if first_ok and rest_ok else None


def _member_names(books: Books) -> dict[str, str]:
    """Slug -> account part, each distinct (a clash keeps the capitalised slug)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for member in sorted(books.members.values(), key=lambda m: m.slug):
        part = member_component(member.name) or _capital(member.slug)
        if part.lower() in taken:
            part = _capital(member.slug)
        taken.add(part.lower())
        names[member.slug] = part
    return names


def as_beancount(books: Books) -> str:
    """A file that `bean-check` accepts and Fava opens without an error.

    Accounts opened on their first day (keeping fundledger's name as
    `fundledger_account`), members' accounts named as the members are;
    membership, periods and repairs as `event`s, rates as `price`s;
    transactions with the member or supplier as payee, and the entry's id,
    kind, hash, memo, source and every field as typed metadata (`given` is
    an amount, `year` a number, `due` a date); a standing close's balances as
    `balance` assertions on the day after the period, so bean-check proves them.
    """
    return "".join(_beancount_lines(books))


def _beancount_lines(books: Books, tick: Callable[[int], None] = _quiet) -> Iterator[str]:
    seen, names = _Seen(books.currency), _member_names(books)
    first: dict[str, dt.date] = {}  # each account's first day: the earliest date of an entry posting to it
    earliest: list[dt.date] = []
    standing = _Standing(books)

    def text_of(entry: Entry) -> str:
        seen.see(entry)
        day = entry.date
        if not earliest or day < earliest[0]:
            earliest[:] = [day]
        for posting in entry.postings:
            if day < first.get(posting.account, dt.date.max):
                first[posting.account] = day
        standing.see(entry)
        if entry.postings:
            return "\n" + "".join(_beancount_transaction(books, entry, names))
        return "\n" + "".join(_beancount_event(books, entry))

    spill = _spilled(books, text_of, tick)
    start = earliest[0].isoformat() if earliest else "1970-01-01"
    yield f"; fundledger export: {books.count} entries, seal {books.seal}\n"
    yield f'option "title" {_quoted(books.name or "fundledger")}\n'
    yield f'option "operating_currency" "{books.currency}"\n'
    yield 'option "render_commas" "TRUE"\n'
    # Fava: income (what members gave and pledged) shows as a positive figure, as a fund reads it.
    yield f'{start} custom "fava-option" "invert-income-liabilities-equity" "true"\n'
    yield f'{start} custom "fava-option" "default-page" "balance_sheet/"\n\n'
    for currency in seen.currencies():
        yield f"{start} commodity {currency}\n"
    yield "\n"
    for account in sorted(first, key=lambda a: (first[a], a)):
        yield f"{first[account].isoformat()} open {beancount_account(account, names)} {books.currency}\n"
        yield f"  fundledger_account: {_quoted(account)}\n"
    yield "".join(f"{day.isoformat()} price {currency} {rate} {books.currency}\n" for day, currency, rate in sorted(seen.rates))
    yield from spill.by_date(tick)
    yield from standing.assertions(books, names)


def _beancount_transaction(books: Books, entry: Entry, names: Mapping[str, str]) -> Iterator[str]:
    yield f"{entry.date.isoformat()} * {_quoted(payee(books, entry))} {_quoted(narration(books, entry))}\n"
    yield from _beancount_meta(books, entry)
    for posting in entry.postings:
        amount = money.to_text(posting.amount, posting.currency)
        yield f"  {beancount_account(posting.account, names)}  {amount} {posting.currency}\n"


def _beancount_event(books: Books, entry: Entry) -> Iterator[str]:
    kind, describe = EVENTS[entry.kind]
    yield f"{entry.date.isoformat()} event {_quoted(kind)} {_quoted(describe(entry))}\n"
    yield from _beancount_meta(books, entry)


def _beancount_meta(books: Books, entry: Entry) -> Iterator[str]:
    yield f"  fundledger_id: {entry.id}\n  fundledger_kind: {_quoted(entry.kind)}\n"
    yield f"  fundledger_hash: {_quoted(entry.hash)}\n"
    for name in ("memo", "source"):
        if getattr(entry, name):
            yield f"  {name}: {_quoted(getattr(entry, name))}\n"
    for name, value in entry.data.items():
        yield f"  {name}: {_typed(name, value)}\n"
    given = model.given_as(entry)
    if given is not None:
        yield f"  given: {money.to_text(given.amount, given.currency)} {given.currency}\n"


def _typed(name: str, value: Any) -> str:
    """A field as beancount metadata of its own type: a number, TRUE/FALSE, a date, else a string."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if name in _DATES and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    if name == "rate" and isinstance(value, str):
        try:
            return str(Decimal(value)) if Decimal(value).is_finite() else _quoted(value)
        except ArithmeticError:
            pass
    return _quoted(_plain_text(value))


class _Standing:
    """The closes that stand in these books, and what the exported entries hold on each one's last day.

    Gathered as the entries are read (any order): a close's balances become
    `balance` assertions only where the entries dated up to its end give them.
    """

    def __init__(self, books: Books) -> None:
        self.ends = {close.id: close.end for close in books.closes.values() if not close.reopened_by}
        self.held: dict[int, dict[str, Decimal]] = {close_id: defaultdict(Decimal) for close_id in self.ends}
        self.closes: list[Entry] = []

    def see(self, entry: Entry) -> None:
        if entry.kind == "close" and entry.id in self.ends:
            self.closes.append(entry)
        for close_id, end in self.ends.items():
            if entry.date <= end:
                held = self.held[close_id]
                for posting in entry.postings:
                    held[posting.account] += posting.amount

    def assertions(self, books: Books, names: Mapping[str, str]) -> Iterator[str]:
        """A close that stands: its balances as `balance` directives, when this file still holds them."""
        for entry in sorted(self.closes, key=lambda close: (close.date, close.id)):
            end = dt.date.fromisoformat(entry.data["end"])  # the close's end in its books (apply_close reads it)
            yield from _assertions_of(books, entry, end, self.held[entry.id], names)


def _assertions_of(books: Books, entry: Entry, end: dt.date, held: Mapping[str, Decimal], names: Mapping[str, str]) -> Iterator[str]:
    """Its balances as `balance` directives on the day after `end`, or a comment where `held` differs."""
    stated = {a: money.parse_stored(v, books.currency) for a, v in entry.data["balances"].items()}
    if stated != {a: v for a, v in held.items() if v}:
        yield f"\n; close #{entry.id} of {entry.data['period']}: its balances do not hold in this export\n"
        return
    yield "\n"
    day = (end + dt.timedelta(days=1)).isoformat()
    for account in sorted(stated):
        # beancount's balance of an account counts the accounts below it too
        amount = sum((v for a, v in stated.items() if a == account or a.startswith(account + ":")), Decimal(0))
        yield f"{day} balance {beancount_account(account, names)}  {money.to_text(amount, books.currency)} {books.currency}\n"
        yield f"  fundledger_close: {entry.id}\n"


def _quoted(text: str) -> str:
    """A beancount string: control characters made visible, quotes and backslashes escaped."""
    return '"' + inert(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- CSV -----------------------------------------------------------------

CSV_COLUMNS = (
    "date", "id", "kind", "account", "amount", "currency", "member", "earmark", "package", "supplier", "contract",
    "amount_given", "currency_given", "rate", "memo", "source", "hash",
)  # fmt: skip
_NUMBERS = frozenset({"id", "amount", "amount_given", "rate"})  # written by fundledger from Decimals and ints


def as_csv(books: Books) -> str:
    """One row per posting (and one per entry that moves no money), by date then id; see docs/EXPORT.md."""
    return "".join(_csv_lines(books))


def _csv_lines(books: Books, tick: Callable[[int], None] = _quiet) -> Iterator[str]:
    out = io.StringIO()
    # Lines end in CRLF (RFC 4180): Python's csv module quotes a cell holding any character of the line
    # terminator, so with "\n" alone a memo holding a bare CR would be written unquoted and split the row.
    writer = csv.writer(out, lineterminator="\r\n")
    priced = _Costs(books)

    def text_of(entry: Entry) -> str:
        out.seek(0)
        out.truncate()
        for row in _csv_rows_of(books, entry, priced.of(entry)):
            writer.writerow([row[c] if c in _NUMBERS else spreadsheet_safe(row[c]) for c in CSV_COLUMNS])
        return out.getvalue()

    spill = _spilled(books, text_of, tick)
    out.seek(0)
    out.truncate()
    writer.writerow(CSV_COLUMNS)
    yield out.getvalue()
    yield from spill.by_date(tick)


def _csv_rows_of(books: Books, entry: Entry, priced: Mapping[int, Cost]) -> Iterator[dict[str, str]]:
    """One entry's rows: one per posting, or one for an entry that moves no money."""
    about = _about(books, entry)
    given = model.given_as(entry)
    # A rate entry names its currency and rate; an entry in another currency, the one it was given in.
    currency_given = given.currency if given else entry.get("currency", "") if entry.kind == "rate" else ""
    common = {
        "date": entry.date.isoformat(),
        "id": str(entry.id),
        "kind": entry.kind,
        "member": about.get("member", ""),
        "supplier": about.get("supplier", ""),
        "contract": str(about.get("contract", "")),
        "currency_given": currency_given,
        "rate": str(entry.get("rate", "")) if currency_given else "",
        "memo": entry.memo,
        "source": entry.source,
        "hash": entry.hash,
    }
    blank = {"account": "", "amount": "", "currency": "", "amount_given": ""}
    if not entry.postings:
        yield {**common, **blank, "earmark": about.get("earmark", ""), "package": about.get("package", "")}
    for i, posting in enumerate(entry.postings):
        cost = priced.get(i)
        yield {
            **common,
            "account": posting.account,
            "amount": money.to_text(posting.amount, posting.currency),
            "currency": posting.currency,
            "earmark": _earmark_of(posting.account) or about.get("earmark", ""),
            "package": _package_of(posting.account) or about.get("package", ""),
            "amount_given": money.to_text(cost.amount, cost.currency) if cost else "",
            "currency_given": cost.currency if cost else common["currency_given"],
        }


def _about(books: Books, entry: Entry) -> dict[str, Any]:
    """The member, earmark, package, supplier and contract an entry is about (a reversal: what it reverses)."""
    data = dict(entry.data)
    if entry.kind == "reverse":
        original = _entry(books, data["reverses"])
        data = dict(original.data) if original is not None else {}
    if entry.kind == "write_off":
        pledge = _entry(books, data["pledge"])
        data["member"] = pledge.get("member", "") if pledge is not None else ""
    envelope = data.get("envelope", "")
    if envelope.startswith("package:"):
        data.setdefault("package", envelope.removeprefix("package:"))
    elif envelope and envelope != "unallocated":
        data.setdefault("earmark", envelope)
    return {k: v for k, v in data.items() if k in ("member", "earmark", "package", "supplier", "contract")}


def _earmark_of(account: str) -> str:
    if account.startswith(model.EARMARKED + ":"):
        return account.removeprefix(model.EARMARKED + ":")
    parts = account.split(":")
    return parts[3] if account.startswith(model.RECEIVABLE + ":") and len(parts) == 4 else ""


def _package_of(account: str) -> str:
    for prefix in (model.COMMITTED, model.PACKAGE_EXPENSES):
        if account.startswith(prefix + ":"):
            return account.removeprefix(prefix + ":")
    return ""


# --- JSON ----------------------------------------------------------------


def as_json(books: Books) -> str:
    """One object: the format and its version, the ledger's settings, the seal, and every entry as in the journal.

    The entries are in id order with their `prev` and `hash`, so the chain
    can be re-checked from this file alone (docs/EXPORT.md shows how).
    """
    return "".join(_json_lines(books))


def _json_lines(books: Books, tick: Callable[[int], None] = _quiet) -> Iterator[str]:
    """`as_json`'s text, the entries written as they are read: the same bytes as `json.dumps` of the whole."""
    _refuse_unhandled(books)  # before anything is written, as the other formats refuse
    # Every entry from #1 on, so the chain runs unbroken (an --as-of export may leave out later-recorded ones):
    # the ids of books' entries rise, so they are 1 to n exactly when the last is the count.
    complete = books.last_id == books.count
    document = {
        "format": "fundledger-export",
        "version": JSON_VERSION,
        "ledger": {"name": books.name, "currency": books.currency, "manager": books.manager},
        "count": books.count,
        "seal": books.seal,
        "complete": complete,
        "entries": [],
    }
    head = json.dumps(document, indent=2, ensure_ascii=False)
    head = head[: head.rindex("[]")]  # json.dumps nests by indenting: each entry is its own dump, indented twice
    read = 0
    for entry in books.iter_entries():
        handled(entry)
        read += 1
        if complete and entry.id != read:
            raise ValueError(f"entry #{entry.id} is where #{read} should be: the books' entries are not 1 to {books.count}")
        text = json.dumps(model.to_json(entry), indent=2, ensure_ascii=False).replace("\n", "\n    ")
        yield (head + "[\n    " if read == 1 else ",\n    ") + text
        if read % _BATCH == 0:
            tick(_BATCH)
    tick(read % _BATCH)
    yield head + "[]\n}\n" if read == 0 else "\n  ]\n}\n"


def _refuse_unhandled(books: Books) -> None:
    """`handled`'s refusal of the first entry (by id) of a kind no exporter knows, found by the index, nothing read."""
    strangers = [ids[0] for kind, ids in books.index.ids["kind"].items() if ids and not _known(kind)]
    if strangers:
        handled(books.entry(min(strangers)))


def _known(kind_name: str) -> bool:
    kind = kinds.get(kind_name)
    return kind is not None and (kind.moves_money or kind_name in EVENTS)
