"""The books: the fund's state after a run of entries, and how each kind of entry changes it.

Entries meet the books in one place, `fold.fold`, which checks an entry's
chain and rules and then applies it: `Books.post` for what every entry does
(balances, the day-by-day history of asset accounts, the chain's head) and
the kind's own `apply_<kind>` function, found through the registry in
`ledger.kinds`, for the rest. Reports read books; they never change them.

Where the entries themselves are kept is not the books' concern: they sit
behind an `EntryStore` (a list in memory here; the journal's files for books
read from disk, see `journal.Archived`). Keeping a large ledger's books in
a cache, and reading its parts back lazily, is `ledger.cache`'s business.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ledger import funding, index, model, money
from ledger.index import supplier_key
from ledger.model import Account, Entry

ZERO = Decimal(0)

# Kinds that need another officer's approval once a fund names its officers, unless its policy says otherwise.
DEFAULT_POLICY = {
    kind: 1
    for kind in ("package", "amend", "contract", "amend_contract", "pay", "charge", "fee", "reverse", "write_off",
                 "close", "reopen", "officer", "policy")
}  # fmt: skip


@dataclass
class Member:
    name: str
    slug: str
    role: str = "member"
    status: str = "pending"  # active, pending, left
    joined: dt.date | None = None
    applied: dt.date | None = None
    left: dt.date | None = None
    decision: str = ""
    approvals: dict[str, dt.date] = field(default_factory=dict)
    periods: list[tuple[dt.date, dt.date | None]] = field(default_factory=list)
    last_dealing: dt.date | None = None  # the latest date of its pledges and contributions
    given: dict[str, Decimal] = field(default_factory=dict)  # received from it, per currency as it gave it
    earmarked: dict[str, Decimal] = field(default_factory=dict)  # earmark -> what its receipts put in it

    def is_active(self, day: dt.date) -> bool:
        """Whether the state was a member on `day` (a member that leaves on a day is out that day)."""
        return any(start <= day and (end is None or day < end) for start, end in self.periods)


@dataclass
class Pledge:
    """A pledge, followed in the fund's currency (its value when made) and in its own currency.

    For a pledge in the fund's currency the two are the same. For one in
    another currency, `split` and `received` are what the receivable holds and
    has been relieved of in the fund's currency, while `original_split` and
    `original_received` count the pledge's own currency: what is outstanding
    on a pound pledge is pounds.
    """

    id: int
    member: str
    year: int
    date: dt.date
    amount: Decimal
    split: dict[str | None, Decimal]  # earmark (None: not earmarked) -> amount
    received: dict[str | None, Decimal] = field(default_factory=dict)
    reversed_by: int | None = None
    currency: str = ""  # the pledge's own currency
    rate: Decimal | None = None  # fund currency per unit of `currency`, when it is another
    original_split: dict[str | None, Decimal] = field(default_factory=dict)
    original_received: dict[str | None, Decimal] = field(default_factory=dict)
    # What was left of it when it was closed (written off by the fund, or withdrawn by the member).
    closed: dict[str | None, Decimal] = field(default_factory=dict)
    original_closed: dict[str | None, Decimal] = field(default_factory=dict)
    closed_by: int | None = None
    withdrawn: bool = False
    due: dt.date | None = None  # when all of it falls due
    instalments: dict[dt.date, Decimal] = field(default_factory=dict)  # or: what falls due when (own currency)

    @property
    def foreign(self) -> bool:
        return self.rate is not None

    def outstanding(self, earmark: str | None) -> Decimal:
        if self.reversed_by is not None:
            return ZERO
        return self.split.get(earmark, ZERO) - self.received.get(earmark, ZERO) - self.closed.get(earmark, ZERO)

    def original_outstanding(self, earmark: str | None) -> Decimal:
        if self.reversed_by is not None:
            return ZERO
        owed = self.original_split.get(earmark, ZERO) - self.original_received.get(earmark, ZERO)
        return owed - self.original_closed.get(earmark, ZERO)

    @property
    def total_original_closed(self) -> Decimal:
        return sum(self.original_closed.values(), ZERO)

    def schedule(self) -> dict[dt.date, Decimal]:
        """What falls due when, in the pledge's own currency: its instalments, or all of it on its due date."""
        if self.instalments:
            return dict(sorted(self.instalments.items()))
        return {self.due: self.original_amount} if self.due else {}

    def overdue(self, day: dt.date) -> tuple[Decimal, dt.date | None]:
        """What had fallen due by `day` and was not received (own currency), and the earliest day it fell due.

        Receipts settle the earliest instalments first; a closed pledge owes nothing.
        """
        if self.reversed_by is not None or self.closed_by is not None:
            return ZERO, None
        paid, due, since = self.total_original_received, ZERO, None
        for when, amount in self.schedule().items():
            if when >= day:
                break
            due += amount
            if since is None and due > paid:
                since = when
        return max(due - paid, ZERO), since

    @property
    def original_amount(self) -> Decimal:
        return sum(self.original_split.values(), ZERO)

    @property
    def total_original_received(self) -> Decimal:
        return sum(self.original_received.values(), ZERO)

    @property
    def total_original_outstanding(self) -> Decimal:
        return sum((self.original_outstanding(earmark) for earmark in self.original_split), ZERO)

    @property
    def total_received(self) -> Decimal:
        return sum(self.received.values(), ZERO)

    @property
    def total_outstanding(self) -> Decimal:
        return sum((self.outstanding(earmark) for earmark in self.split), ZERO)


class Spendable:
    """What a package and a contract share: an amount committed, what is paid of it, and how it stands."""

    amount: Decimal
    paid: Decimal
    reversed_by: int | None
    closed_by: int | None

    @property
    def remaining(self) -> Decimal:
        return ZERO if self.reversed_by is not None else self.amount - self.paid

    @property
    def status(self) -> str:
        if self.reversed_by is not None:
            return "cancelled"
        if self.closed_by is not None:
            return "closed"
        return "paid" if self.remaining == 0 else "open"


@dataclass
class Package(Spendable):
    name: str
    id: int
    date: dt.date
    memo: str
    amount: Decimal
    sources: dict[str, Decimal]  # "unallocated" or an earmark -> amount
    paid: Decimal = ZERO
    reversed_by: int | None = None
    original: Decimal = ZERO  # the amount first committed
    amendments: list[Amendment] = field(default_factory=list)
    closed_by: int | None = None


def give_back(package: Package, amount: Decimal, currency: str) -> dict[str, Decimal]:
    """Where `amount` a package no longer needs goes: back to the envelopes it came from, in proportion to what
    each gave it; what is beyond all they gave (interest the package earned) goes to unallocated."""
    given = sum(package.sources.values(), ZERO)
    if 0 < amount <= given:
        return money.allocate(amount, dict(package.sources), currency)
    back = {source: part for source, part in package.sources.items() if part}
    back["unallocated"] = back.get("unallocated", ZERO) + amount - given
    return back


@dataclass
class Supplier:
    name: str
    country: str
    number: str = ""
    since: dt.date | None = None


@dataclass
class Contract(Spendable):
    """What a package committed to one supplier: paid against in milestones, delivered against in items."""

    ref: str
    package: str
    supplier: str
    id: int
    date: dt.date
    amount: Decimal
    item: str = ""
    quantity: int | None = None
    paid: Decimal = ZERO
    delivered: dict[str, int] = field(default_factory=dict)  # item -> quantity
    reversed_by: int | None = None
    original: Decimal = ZERO
    amendments: list[Amendment] = field(default_factory=list)
    closed_by: int | None = None
    currency: str = ""  # the contract's own currency, when it is not the fund's
    original_amount: Decimal = ZERO  # in that currency
    original_paid: Decimal = ZERO

    @property
    def foreign(self) -> bool:
        return bool(self.currency)

    @property
    def original_left(self) -> Decimal:
        return ZERO if self.reversed_by is not None else self.original_amount - self.original_paid


@dataclass
class Delivery:
    id: int
    date: dt.date
    package: str
    item: str
    quantity: int
    contract: str = ""
    recipient: str = ""
    value: Decimal | None = None
    reversed_by: int | None = None


@dataclass
class BankStatement:
    """A bank statement an import recorded: the balances the bank stated, to be held beside the books' cash."""

    id: int  # the entry that recorded it
    statement: str  # the bank's own id for it
    account: str
    format: str
    currency: str
    rows: int
    opening: tuple[dt.date, Decimal] | None = None
    closing: tuple[dt.date, Decimal] | None = None
    reversed_by: int | None = None


def cash_on(books: Books, day: dt.date) -> Decimal:
    """The fund's cash (every `assets:fund:` envelope) at the end of `day`, as a bank would see it.

    An entry that was reversed, and its reversal, are left out: a reversal
    says the entry was a mistake, so neither moved money at the bank, on
    whatever days the two are dated.
    """
    books._whole(f"the cash on {day}", day)
    # From the books' day-by-day history of each account, so that no entry is read back from disk ...
    total = sum(
        (
            delta
            for account, days in books.history.days.items()
            if account.startswith("assets:fund:")
            for when, delta in days.items()
            if when <= day
        ),
        ZERO,
    )
    # ... but for the few that were reversed, and their reversals.
    for undone in {*books.reversed_by, *books.reversed_by.values()}:
        entry = books.entry(undone)
        if entry is not None and entry.date <= day:
            total -= sum((p.amount for p in entry.postings if p.account.startswith("assets:fund:")), ZERO)
    return total


def statement_key(account: str, statement: str) -> str:
    """What identifies a bank statement: the account it is for and the bank's id for it."""
    return f"{account.replace(' ', '').upper()}/{statement}"


def latest_statement(books: Books, account: str, statement: str) -> BankStatement | None:
    """The latest import of this statement of this account, withdrawn or not (None: never imported)."""
    entry_id = books.statement_ids.get(statement_key(account, statement))
    return None if entry_id is None else books.statements[entry_id]


@dataclass
class Officer:
    name: str
    key: str  # the public key its commits are signed with ("ssh-ed25519 AAAA…")
    roles: tuple[str, ...]
    since: dt.date
    id: int
    history: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)  # (entry id, key, roles), in order

    @property
    def keys(self) -> list[str]:
        """Every key it ever signed with (an old commit stays its own after a new key is named)."""
        return list(dict.fromkeys(key for _, key, _ in self.history)) or [self.key]

    def roles_on(self, entry_id: int) -> tuple[str, ...]:
        """Its roles as they stood when entry `entry_id` was recorded."""
        held = [roles for named, _, roles in self.history if named < entry_id]
        return held[-1] if held else ()


@dataclass
class Proposal:
    """An entry one officer proposed; booked once enough others approve it, or closed by a rejection."""

    id: int
    date: dt.date
    proposed: dict[str, Any]  # the entry as it would be recorded, less its id, chain and recorded_at
    approvals: list[int] = field(default_factory=list)  # approval entry ids
    needed: int = 1
    rejected_by: int | None = None
    booked_as: int | None = None

    @property
    def status(self) -> str:
        if self.rejected_by is not None:
            return "rejected"
        return "booked" if self.booked_as is not None else "open"


@dataclass
class Amendment:
    """A package increased (positive) or decreased (negative), per source, and why."""

    id: int
    date: dt.date
    change: Decimal
    sources: dict[str, Decimal]
    reason: str
    close: bool = False


@dataclass
class Close:
    """A closed period: nothing may be dated from `start` to `end` while it stands."""

    id: int
    period: str
    start: dt.date
    end: dt.date
    date: dt.date  # when it was closed
    seal: str  # what a report as of `end` prints
    reopened_by: int | None = None


@dataclass
class Earmark:
    name: str
    purpose: str
    since: dt.date



class EntryStore(Protocol):
    """Where books keep their entries: `entries()` in order, `get(id)` one of them, `append` a new one."""

    def entries(self) -> list[Entry]: ...

    def get(self, entry_id: int) -> Entry | None: ...

    def append(self, entry: Entry) -> None: ...

    def copied(self) -> EntryStore: ...

    def stream(self) -> Iterator[Entry]: ...

    def hashes(self) -> Iterator[tuple[int, str]]: ...

    def expect(self, ids: Iterable[int] | None) -> None: ...

    def read(self, ids: Iterable[int]) -> dict[int, Entry]: ...

    def rows(self, ids: Iterable[int], make: Callable[[list[Entry]], list], kind: str) -> dict[int, Any]: ...


def made_of(entries: dict[int, Entry], make: Callable[[list[Entry]], list]) -> dict[int, Any]:
    """What `make` makes of `entries` (a row an entry, in their order), by the same ids (`EntryStore.rows`)."""
    return dict(zip(entries, make(list(entries.values())), strict=True))


class Held:
    """Entries held in memory, the store of books built from entries at hand."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._by_id: dict[int, Entry] = {}

    def entries(self) -> list[Entry]:
        return self._entries

    def get(self, entry_id: int) -> Entry | None:
        return self._by_id.get(entry_id)

    def append(self, entry: Entry) -> None:
        self._entries.append(entry)
        self._by_id[entry.id] = entry

    def stream(self) -> Iterator[Entry]:
        return iter(list(self._entries))

    def hashes(self) -> Iterator[tuple[int, str]]:
        return iter([(entry.id, entry.hash) for entry in self._entries])

    def expect(self, ids: Iterable[int] | None) -> None:
        """Entries held are at hand whichever are read: nothing to prepare."""

    def read(self, ids: Iterable[int]) -> dict[int, Entry]:
        return {i: self._by_id[i] for i in sorted(ids) if i in self._by_id}

    def rows(self, ids: Iterable[int], make: Callable[[list[Entry]], list], kind: str) -> dict[int, Any]:
        return made_of(self.read(ids), make)

    def copied(self) -> Held:
        """The same entries, in a store of its own (entries appended to it are its own)."""
        twin = Held()
        twin._entries, twin._by_id = list(self._entries), dict(self._by_id)
        return twin


class Incomplete(Exception):
    """Books begun from a close's state (`ledger.state`) were asked for something from before it.

    Not a user's error: whoever read the books that way reads the whole journal instead.
    """


class History:
    """The net change of every asset account on each day: what a backdated entry is checked against."""

    def __init__(self) -> None:
        self.days: dict[Account, dict[dt.date, Decimal]] = defaultdict(dict)

    def note(self, account: Account, day: dt.date, amount: Decimal) -> None:
        days = self.days[account]
        days[day] = days.get(day, ZERO) + amount

    def changes(self, account: Account) -> dict[dt.date, Decimal]:
        return self.days.get(account, {})



class Books:
    """Balances, members, pledges, earmarks and packages after a run of entries."""

    def __init__(self, currency: str, name: str = "", manager: str = "") -> None:
        self.currency = currency
        self.name = name
        self.manager = manager
        self.count = 0
        self.seal = model.GENESIS
        self.last_id = 0
        self.store: EntryStore = Held()
        self.balances: dict[Account, Decimal] = defaultdict(Decimal)
        self.history = History()
        self.latest: dict[Account, dt.date] = {}  # the last day each asset account changed
        self.members: dict[str, Member] = {}
        self.slugs: dict[str, str] = {}  # account slug -> member name: found by name at any size of fund
        self.pledges: MutableMapping[int, Pledge] = {}
        self.packages: MutableMapping[str, Package] = {}
        self.earmarks: dict[str, Earmark] = {}
        self.reversed_by: dict[int, int] = {}
        # Exchange rates recorded with `rate`: currency -> [(date, rate, entry id)], in date order.
        self.rates: dict[str, list[tuple[dt.date, Decimal, int]]] = {}
        self.rate_uses: dict[int, int] = {}  # rate entry id -> entries converted at it
        # Rates typed with --rate: (date, currency, rate, entry id).
        self.given_rates: list[tuple[dt.date, str, Decimal, int]] = []
        self.invoices: dict[tuple[str, str, str], tuple[int, dt.date]] = {}  # (package, supplier, invoice) -> paid by
        self.closes: dict[int, Close] = {}
        self.funding = funding.Funding(currency)  # whose money is in each envelope, and what it bought
        self.suppliers: dict[str, Supplier] = {}
        self.contracts: dict[str, Contract] = {}  # by reference
        self.refs: dict[str, str] = {}  # a reference's slug -> the reference: found by any spelling at any size
        self.supplier_keys: dict[str, str] = {}  # supplier_key(name) -> the supplier's name
        self.deliveries: list[Delivery] = []
        self.statements: dict[int, BankStatement] = {}  # by the entry that recorded it, withdrawn ones too
        self.statement_ids: dict[str, int] = {}  # statement_key -> the entry of its latest import
        self.officers: dict[str, Officer] = {}
        self.policy: dict[str, tuple[int, Decimal | None]] = {}  # kind -> (approvals needed, only above this)
        self.proposals: dict[int, Proposal] = {}
        self.booking: int | None = None  # the proposal whose entry must come next (its last approval was just made)
        self.index: index.Index = index.Index()  # where each entry is (ledger.index; a cache's reads it lazily)
        self.checkpoints: Any = None  # books kept at marks, to start the books as of a day from (ledger.checkpoints)
        # Books begun from a close's state (ledger.state) hold no record of the entries before `begun`, and their
        # history holds each account's changes up to `floor` as one: asked for either, they raise `Incomplete`.
        self.begun = 1
        self.floor: dt.date | None = None

    # --- reading ---------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """Every entry, in order (books read from a journal read them from its files)."""
        self._whole("every entry")
        return self.store.entries()

    def iter_entries(self) -> Iterator[Entry]:
        """Every entry, in order, read as the iterator is asked (books from a journal keep none of them in memory)."""
        self._whole("every entry")
        return self.store.stream()

    def hashes(self) -> Iterator[tuple[int, str]]:
        """(id, hash) of every entry, in order: books from a journal read them without parsing any entry."""
        self._whole("every entry's hash")
        return self.store.hashes()

    def expect(self, ids: Iterable[int] | None) -> None:
        """Say which entries are about to be read (None: every one): a store that reads them from the journal
        chooses how to read each file (`journal.JournalArchive.expect`). Only ever a matter of speed."""
        self.store.expect(ids)

    def read(self, ids: Iterable[int]) -> dict[int, Entry]:
        """The entries `ids` these books hold, by id in id order: `entry` for each, the journal's files read once
        for all the entries each holds (as after `expect`)."""
        return self.store.read(self._held(ids))

    def rows(self, ids: Iterable[int], make: Callable[[list[Entry]], list], kind: str) -> dict[int, Any]:
        """What `make` makes of the entries `ids` these books hold (a row an entry), by id in id order, without
        reading them where the rows of their file were kept (`journal.JournalArchive.rows`): `make` must make
        of an entry only what no later entry changes, and `kind` (`cache.REGISTER_ROWS`) says what it makes."""
        return self.store.rows(self._held(ids), make, kind)

    def _held(self, ids: Iterable[int]) -> list[int]:
        """`ids` in order, once each; `Incomplete` if one is before where books begun from a state begin."""
        wanted = sorted(set(ids))
        first = next((i for i in wanted if i > 0), None)
        if first is not None and first < self.begun:
            self._whole(f"entry #{first}")
        return wanted

    def pledges_of(self, member: str) -> list[Pledge]:
        """The pledges of `member` (by name), in the order of their ids: where the books keep them pickled member
        by member (`cache.PledgeMap`), only its own are read."""
        of = getattr(self.pledges, "of", None)
        return of(member) if of is not None else [p for p in self.pledges.values() if p.member == member]

    def entry(self, entry_id: int) -> Entry | None:
        """The entry with `entry_id`, if these books hold it."""
        if 0 < entry_id < self.begun:
            self._whole(f"entry #{entry_id}")
        return self.store.get(entry_id)

    def _whole(self, what: str, day: dt.date | None = None) -> None:
        """Refuse, with `Incomplete`, what books begun from a close's state do not hold (see `ledger.state`)."""
        lacking = self.begun > 1 if day is None else self.floor is not None and day < self.floor
        if lacking:
            raise Incomplete(f"{what}: these books begin at entry #{self.begun}, from a close's state")

    def balance(self, account: Account) -> Decimal:
        return self.balances.get(account, ZERO)

    def subtotal(self, prefix: str) -> Decimal:
        """The sum of an account and every account below it."""
        return sum(
            (
                amount
                for account, amount in self.balances.items()
                if account == prefix or account.startswith(prefix + ":")
            ),
            ZERO,
        )

    def subtotals(self) -> dict[str, Decimal]:
        """Every account's and every parent's subtotal, in one pass (for many subtotals of books of many accounts)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for account, amount in self.balances.items():
            end = len(account)
            while end > 0:
                totals[account[:end]] += amount
                end = account.rfind(":", 0, end)
        return totals

    def lowest_from(self, account: Account, day: dt.date) -> Decimal:
        """The lowest balance `account` has on `day` or on any later day."""
        if account not in self.latest:
            return ZERO
        if self.latest[account] <= day:  # nothing dated later: the lowest is today's balance
            return self.balances[account]
        self._whole(f"{account} on {day}", day)
        changes = self.history.changes(account)
        lowest = sum((delta for when, delta in changes.items() if when <= day), ZERO)
        running = lowest
        for when in sorted(when for when in changes if when > day):
            running += changes[when]
            lowest = min(lowest, running)
        return lowest

    def rate_on(self, currency: str, day: dt.date) -> tuple[Decimal, int] | None:
        """The rate of `currency` recorded for `day` or the latest day before it, and the entry that records it."""
        rates = self.rates.get(currency, [])
        index = bisect.bisect_right(rates, day, key=lambda known: known[0]) - 1
        return (rates[index][1], rates[index][2]) if index >= 0 else None

    def member(self, name: str) -> Member | None:
        """Find a member by its name or account slug, ignoring case ('latvia', 'United kingdom')."""
        return self.members.get(self.slugs.get(model.slug(name), ""))

    def active_members(self, day: dt.date) -> list[Member]:
        return [member for member in self.members.values() if member.is_active(day)]

    def supplier(self, name: str) -> Supplier | None:
        """A supplier by its name, ignoring case and spacing."""
        return self.suppliers.get(self.supplier_keys.get(supplier_key(name), ""))

    def contract(self, ref: str) -> Contract | None:
        """A contract by its reference, ignoring case (its account part is the reference's slug)."""
        return self.contracts.get(self.refs.get(model.slug(ref), ""))

    def approvals_needed(self, entry: Entry) -> int:
        """How many other officers must approve `entry` before it is booked: 0 without officers or policy."""
        approvers = sum(1 for officer in self.officers.values() if "approver" in officer.roles)
        if approvers < 2:  # four eyes need two: until then, nothing waits (and the second officer is named)
            return 0
        needed, above = self.policy.get(entry.kind, (DEFAULT_POLICY.get(entry.kind, 0), None))
        if needed and above is not None and model.size(entry) <= above:
            return 0
        return needed

    def closed_on(self, day: dt.date) -> Close | None:
        """The close (not reopened) whose period holds `day`, if any."""
        for close in self.closes.values():
            if close.reopened_by is None and close.start <= day <= close.end:
                return close
        return None

    def balances_on(self, day: dt.date) -> tuple[dict[Account, Decimal], str]:
        """Every account's balance at the end of `day`, and the seal a report as of `day` prints.

        From the index: each account's change in the months before `day`'s, and the entries of its month
        up to `day`; the seal is the hash of the last entry dated on or before it. Only one month's entries
        are read (a close, which holds this, is checked on a first read without reading them all again).
        """
        where = self.index
        month, bound = index.month_of(day), day.toordinal()
        balances: dict[Account, Decimal] = defaultdict(Decimal)
        for account, months in where.monthly.items():
            for when, amount in months.items():
                if when < month:
                    balances[account] += amount
        within = [entry_id for entry_id in where.named("month", month) if where.dates[entry_id - 1] <= bound]
        for entry in self.read(within).values():
            for posting in entry.postings:
                balances[posting.account] += posting.amount
        last = where.count_to(day)[1]
        seal = self.entry(last).hash if last else model.GENESIS
        return {account: amount for account, amount in sorted(balances.items()) if amount}, seal

    def approvals_missing(self, applicant: Member, day: dt.date) -> list[str]:
        """The members active on `day` whose approval of `applicant` is not yet recorded."""
        return [
            member.name
            for member in self.active_members(day)
            if member.name != applicant.name and member.name not in applicant.approvals
        ]

    # --- changing --------------------------------------------------------

    def post(self, entry: Entry) -> None:
        """What every accepted entry does to the books: keep it, move its postings, advance the chain.

        Only `fold.fold` calls this, followed by the kind's own apply.
        """
        if self.booking is not None and entry.kind not in ("approval", "proposal", "reject"):
            self.proposals[self.booking].booked_as = entry.id
            self.booking = None
        self.store.append(entry)
        self.count += 1
        self.last_id, self.seal = entry.id, entry.hash
        for posting in entry.postings:
            self.balances[posting.account] += posting.amount
            if posting.account.startswith("assets:"):
                self.history.note(posting.account, entry.date, posting.amount)
                self.latest[posting.account] = max(entry.date, self.latest.get(posting.account, entry.date))
        undone = self.entry(entry.get("reverses")) if entry.kind == "reverse" else None
        if entry.postings:
            self.funding.move(entry, undone)
        if self.index.noting:  # books begun from a close's state keep no index (ledger.state)
            self.index.add(index.note(entry, undone))


# --- how each kind changes the books (the registry in ledger.kinds names them) ---


def apply_join(books: Books, entry: Entry) -> None:
    name = entry.get("member")
    member = books.members.get(name) or Member(name, model.slug(name))
    member.role = entry.get("role")
    _activate(member, entry.date)
    _admit(books, member)


def apply_apply(books: Books, entry: Entry) -> None:
    name = entry.get("member")
    member = books.members.get(name) or Member(name, model.slug(name))
    member.status, member.applied, member.approvals = "pending", entry.date, {}
    _admit(books, member)


def _admit(books: Books, member: Member) -> None:
    books.members[member.name] = member
    books.slugs[member.slug] = member.name


def apply_approve(books: Books, entry: Entry) -> None:
    member = books.members[entry.get("member")]
    if entry.get("decision"):
        member.decision = entry.get("decision")
    else:
        member.approvals[entry.get("by")] = entry.date
    if entry.get("decision") or books.approvals_missing(member, entry.date) == []:
        _activate(member, entry.date)


def apply_leave(books: Books, entry: Entry) -> None:
    """The member leaves; an applicant that only its approval was still missing for is admitted that day."""
    member = books.members[entry.get("member")]
    start, _ = member.periods[-1]
    member.periods[-1] = (start, entry.date)
    member.status, member.left = "left", entry.date
    for applicant in list(books.members.values()):
        if applicant.status == "pending" and applicant.approvals and not books.approvals_missing(applicant, entry.date):
            _activate(applicant, entry.date)


def apply_pledge(books: Books, entry: Entry) -> None:
    _dealt(books, entry)
    _note_rate(books, entry)
    split: dict[str | None, Decimal] = {}
    for posting in entry.postings:
        if posting.account.startswith(model.RECEIVABLE + ":"):
            split[_earmark_of_receivable(posting.account)] = posting.amount
            _note_earmark(books, _earmark_of_receivable(posting.account), entry)
    given = model.given_as(entry)
    books.pledges[entry.id] = Pledge(
        id=entry.id,
        member=entry.get("member"),
        year=entry.get("year"),
        date=entry.date,
        amount=sum(split.values(), ZERO),
        split=split,
        currency=given.currency if given else books.currency,
        rate=given.rate if given else None,
        original_split=_given_for(given, split) if given else dict(split),
        due=dt.date.fromisoformat(entry.get("due")) if entry.get("due") else None,
        instalments={dt.date.fromisoformat(day): Decimal(amount) for day, amount in (entry.get("instalments") or {}).items()},
    )


def apply_contribute(books: Books, entry: Entry) -> None:
    _dealt(books, entry)
    _note_rate(books, entry)
    _count_given(books, entry, 1)
    pledge = books.pledges.get(entry.get("pledge")) if entry.get("pledge") else None
    relieved: dict[str | None, Decimal] = {}
    for posting in entry.postings:
        if posting.account.startswith(model.EARMARKED + ":"):
            _note_earmark(books, posting.account.rsplit(":", 1)[1], entry)
        if pledge and posting.account.startswith(model.RECEIVABLE + ":"):
            relieved[_earmark_of_receivable(posting.account)] = -posting.amount
    if pledge:
        _settle(pledge, entry, relieved, 1)


def apply_statement(books: Books, entry: Entry) -> None:
    def balance(which: str) -> tuple[dt.date, Decimal] | None:
        amount = entry.get(which)
        return None if amount is None else (dt.date.fromisoformat(entry.get(f"{which}_date")), Decimal(amount))

    books.statement_ids[statement_key(entry.get("account", ""), entry.get("statement"))] = entry.id
    books.statements[entry.id] = BankStatement(
        entry.id, entry.get("statement"), entry.get("account", ""), entry.get("format", ""), entry.get("currency"),
        entry.get("rows", 0), balance("opening"), balance("closing"),
    )  # fmt: skip


def apply_rate(books: Books, entry: Entry) -> None:
    known = books.rates.setdefault(entry.get("currency"), [])
    known.append((entry.date, Decimal(entry.get("rate")), entry.id))
    known.sort(key=lambda rate: (rate[0], rate[2]))


def apply_earmark(books: Books, entry: Entry) -> None:
    _note_earmark(books, entry.get("earmark"), entry, entry.get("purpose", ""))


def apply_package(books: Books, entry: Entry) -> None:
    name = entry.get("package")
    sources = {}
    for posting in entry.postings:
        if posting.amount < 0:
            sources[_source_of(posting.account)] = -posting.amount
    amount = sum(sources.values(), ZERO)
    books.packages[name] = Package(name, entry.id, entry.date, entry.memo, amount, sources, original=amount)


def apply_pay(books: Books, entry: Entry) -> None:
    package = books.packages[entry.get("package")]
    paid = sum((p.amount for p in entry.postings if p.account == model.expense(package.name)), ZERO)
    package.paid += paid
    if entry.get("contract"):
        _pay_contract(books, entry, 1)
    if entry.get("invoice"):
        books.invoices.setdefault(invoice_key(entry), (entry.id, entry.date))


def _pay_contract(books: Books, entry: Entry, sign: int) -> None:
    """What a payment (sign 1) or its reversal (-1) does to its contract: what it relieved, and in its currency."""
    contract = books.contract(entry.get("contract"))
    account = model.contracted(contract.package, contract.ref)
    contract.paid -= sign * sum((p.amount for p in entry.postings if p.account == account), ZERO)
    given = model.given_as(entry)
    if given is not None:
        contract.original_paid += sign * given.amount


def invoice_key(entry: Entry) -> tuple[str, str, str]:
    return (entry.get("package"), entry.get("supplier", ""), entry.get("invoice"))


def apply_supplier(books: Books, entry: Entry) -> None:
    name = entry.get("supplier")
    books.suppliers[name] = Supplier(name, entry.get("country"), entry.get("number", ""), entry.date)
    books.supplier_keys.setdefault(supplier_key(name), name)


def apply_contract(books: Books, entry: Entry) -> None:
    ref = entry.get("contract")
    amount = sum((p.amount for p in entry.postings if p.amount > 0), ZERO)
    given = model.given_as(entry)
    books.refs.setdefault(model.slug(ref), ref)
    books.contracts[ref] = Contract(
        ref, entry.get("package"), entry.get("supplier"), entry.id, entry.date, amount,
        entry.get("item", ""), entry.get("quantity"), original=amount,
        currency=given.currency if given else "", original_amount=given.amount if given else ZERO,
    )  # fmt: skip


def apply_amend_contract(books: Books, entry: Entry) -> None:
    contract = books.contract(entry.get("contract"))
    account = model.contracted(contract.package, contract.ref)
    change = sum((p.amount for p in entry.postings if p.account == account), ZERO)
    contract.amount += change
    contract.amendments.append(
        Amendment(entry.id, entry.date, change, {}, entry.get("reason"), bool(entry.get("close")))
    )
    if entry.get("close"):
        contract.closed_by = entry.id


def apply_deliver(books: Books, entry: Entry) -> None:
    value = entry.get("value")
    delivery = Delivery(
        entry.id, entry.date, entry.get("package"), entry.get("item"), entry.get("quantity"),
        entry.get("contract", ""), entry.get("to", ""), Decimal(value) if value else None,
    )  # fmt: skip
    books.deliveries.append(delivery)
    _count_delivered(books, delivery, 1)


def _count_delivered(books: Books, delivery: Delivery, sign: int) -> None:
    if delivery.contract:
        contract = books.contract(delivery.contract)
        contract.delivered[delivery.item] = contract.delivered.get(delivery.item, 0) + sign * delivery.quantity


def apply_officer(books: Books, entry: Entry) -> None:
    name = entry.get("officer")
    before = books.officers.get(name)
    officer = Officer(name, entry.get("key"), tuple(entry.get("roles")), entry.date, entry.id)
    officer.history = [*(before.history if before else []), (entry.id, officer.key, officer.roles)]
    books.officers[name] = officer


def apply_policy(books: Books, entry: Entry) -> None:
    above = entry.get("above")
    books.policy[entry.get("target")] = (entry.get("approvals"), Decimal(above) if above else None)


def apply_proposal(books: Books, entry: Entry) -> None:
    import json

    proposed = json.loads(entry.get("proposed"))
    books.proposals[entry.id] = Proposal(entry.id, entry.date, proposed, needed=entry.get("needed", 1))


def apply_approval(books: Books, entry: Entry) -> None:
    proposal = books.proposals[entry.get("proposal")]
    proposal.approvals.append(entry.id)
    if len(proposal.approvals) >= proposal.needed:
        books.booking = proposal.id


def apply_reject(books: Books, entry: Entry) -> None:
    books.proposals[entry.get("proposal")].rejected_by = entry.id
    if books.booking == entry.get("proposal"):  # approved, but never booked: rejected now, nothing waits for it
        books.booking = None


def apply_interest(books: Books, entry: Entry) -> None:
    """Interest goes into its envelope; paid on a package's money, the package has that much more."""
    _note_cash_earmarks(books, entry)
    _package_moves(books, entry, 1)


def apply_charge(books: Books, entry: Entry) -> None:
    """A bank charge comes out of its envelope; out of a package's money, it counts as paid from it."""
    _package_moves(books, entry, 1)


def apply_fee(books: Books, entry: Entry) -> None:
    """The manager's fee comes out of its envelope; out of a package's money, it counts as paid from it."""
    _package_moves(books, entry, 1)


def _package_moves(books: Books, entry: Entry, sign: int) -> None:
    """What interest, a charge or a fee does to a package it was booked on (sign -1: its reversal)."""
    envelope = entry.get("envelope", "")
    if not envelope.startswith("package:"):
        return
    package = books.packages[envelope.removeprefix("package:")]
    moved = sum((p.amount for p in entry.postings if p.account == model.committed(package.name)), ZERO)
    if moved > 0:
        package.amount += sign * moved  # interest earned on it
    else:
        package.paid -= sign * moved  # spent from it


def apply_write_off(books: Books, entry: Entry) -> None:
    """What is left of a pledge is closed: its receivable released, in the fund's and in its own currency."""
    pledge = books.pledges[entry.get("pledge")]
    for posting in entry.postings:
        if posting.account.startswith(model.RECEIVABLE + ":"):
            earmark = _earmark_of_receivable(posting.account)
            pledge.closed[earmark] = pledge.closed.get(earmark, ZERO) - posting.amount
    pledge.original_closed = {e: pledge.original_outstanding(e) for e in pledge.original_split}
    pledge.original_closed = {e: a for e, a in pledge.original_closed.items() if a}
    pledge.closed_by, pledge.withdrawn = entry.id, bool(entry.get("withdrawn"))


def apply_amend(books: Books, entry: Entry) -> None:
    """A package grows from its sources, or gives back what it does not need to the envelopes it came from."""
    package = books.packages[entry.get("package")]
    change = ZERO
    by_source: dict[str, Decimal] = {}
    for posting in entry.postings:
        if posting.account == model.committed(package.name):
            change += posting.amount
        else:
            by_source[_source_of(posting.account)] = -posting.amount
    given = sum(package.sources.values(), ZERO)
    earned = -sum(by_source.values(), ZERO) - given  # given back beyond the sources: interest it earned
    if change < 0 and earned > 0:  # that part came from no source, so it takes nothing from one
        by_source["unallocated"] = by_source.get("unallocated", ZERO) + earned
    for source, amount in by_source.items():
        package.sources[source] = package.sources.get(source, ZERO) + amount
    package.sources = {source: amount for source, amount in package.sources.items() if amount}
    package.amount += change
    package.amendments.append(
        Amendment(entry.id, entry.date, change, by_source, entry.get("reason"), bool(entry.get("close")))
    )
    if entry.get("close"):
        package.closed_by = entry.id


def apply_close(books: Books, entry: Entry) -> None:
    books.closes[entry.id] = Close(
        entry.id,
        entry.get("period"),
        dt.date.fromisoformat(entry.get("start")),
        dt.date.fromisoformat(entry.get("end")),
        entry.date,
        entry.get("seal"),
    )


def apply_reopen(books: Books, entry: Entry) -> None:
    books.closes[entry.get("close")].reopened_by = entry.id


def apply_reverse(books: Books, entry: Entry) -> None:
    original = books.entry(entry.get("reverses"))
    books.reversed_by[original.id] = entry.id
    if original.kind == "pledge":
        books.pledges[original.id].reversed_by = entry.id
    elif original.kind == "package":
        books.packages[original.get("package")].reversed_by = entry.id
    elif original.kind == "pay":
        paid = sum((p.amount for p in original.postings if p.account == model.expense(original.get("package"))), ZERO)
        books.packages[original.get("package")].paid -= paid
        if original.get("contract"):
            _pay_contract(books, original, -1)
        if books.invoices.get(invoice_key(original), (None,))[0] == original.id:
            del books.invoices[invoice_key(original)]
    elif original.kind == "contract":
        books.contract(original.get("contract")).reversed_by = entry.id
    elif original.kind == "statement":
        books.statements[original.id].reversed_by = entry.id
    elif original.kind == "amend_contract":
        contract = books.contract(original.get("contract"))
        amendment = next(a for a in contract.amendments if a.id == original.id)
        contract.amount -= amendment.change
        contract.amendments.remove(amendment)
        if contract.closed_by == original.id:
            contract.closed_by = None
    elif original.kind == "deliver":
        delivery = next(d for d in books.deliveries if d.id == original.id)
        delivery.reversed_by = entry.id
        _count_delivered(books, delivery, -1)
    elif original.kind in ("interest", "charge", "fee"):
        _package_moves(books, original, -1)
    elif original.kind == "write_off":
        pledge = books.pledges[original.get("pledge")]
        pledge.closed, pledge.original_closed, pledge.closed_by, pledge.withdrawn = {}, {}, None, False
    elif original.kind == "amend":
        package = books.packages[original.get("package")]
        amendment = next(a for a in package.amendments if a.id == original.id)
        for source, amount in amendment.sources.items():
            package.sources[source] = package.sources.get(source, ZERO) - amount
        package.sources = {source: amount for source, amount in package.sources.items() if amount}
        package.amount -= amendment.change
        package.amendments.remove(amendment)
        if package.closed_by == original.id:
            package.closed_by = None
    if original.kind == "contribute":
        _count_given(books, original, -1)
    if original.kind == "contribute" and original.get("pledge"):
        relieved = {
            _earmark_of_receivable(p.account): -p.amount
            for p in original.postings
            if p.account.startswith(model.RECEIVABLE + ":")
        }
        _settle(books.pledges[original.get("pledge")], original, relieved, -1)


def apply_repair(books: Books, entry: Entry) -> None:
    """A repair moves no money; it only records that an unfinished write was cut."""


def _activate(member: Member, day: dt.date) -> None:
    member.status, member.joined, member.left = "active", day, None
    member.periods.append((day, None))


def _dealt(books: Books, entry: Entry) -> None:
    """Note the latest date a member pledged or gave (a leave cannot be dated before it)."""
    member = books.members[entry.get("member")]
    member.last_dealing = max(entry.date, member.last_dealing or entry.date)


def _note_rate(books: Books, entry: Entry) -> None:
    """Count which recorded rate a conversion used, or keep the rate it was given."""
    given = model.given_as(entry)
    if given is None:
        return
    known = books.rate_on(given.currency, entry.date)
    if known is not None and known[0] == given.rate:
        books.rate_uses[known[1]] = books.rate_uses.get(known[1], 0) + 1
    else:
        books.given_rates.append((entry.date, given.currency, given.rate, entry.id))


def _count_given(books: Books, entry: Entry, sign: int) -> None:
    """What a member gave, in the currency it gave it in, and into which earmarks (taken back by a reversal)."""
    member = books.members[entry.get("member")]
    for posting in entry.postings:
        if posting.account.startswith(model.EARMARKED + ":"):
            earmark = posting.account.rsplit(":", 1)[1]
            left = member.earmarked.get(earmark, ZERO) + sign * posting.amount
            if left:
                member.earmarked[earmark] = left
            else:
                member.earmarked.pop(earmark, None)
    given = model.given_as(entry)
    if given:
        currency, amount = given.currency, given.amount
    else:
        currency = books.currency
        amount = sum((p.amount for p in entry.postings if p.account.startswith("assets:fund:")), ZERO)
    member.given[currency] = member.given.get(currency, ZERO) + sign * amount


def _settle(pledge: Pledge, entry: Entry, relieved: dict[str | None, Decimal], sign: int) -> None:
    """Count a receipt against `pledge` (sign 1), or take it back (sign -1, its reversal)."""
    given = _given_for(model.given_as(entry), relieved) if pledge.foreign else relieved
    for earmark, amount in relieved.items():
        pledge.received[earmark] = pledge.received.get(earmark, ZERO) + sign * amount
    for earmark, amount in given.items():
        pledge.original_received[earmark] = pledge.original_received.get(earmark, ZERO) + sign * amount


def _note_cash_earmarks(books: Books, entry: Entry) -> None:
    for posting in entry.postings:
        if posting.account.startswith(model.EARMARKED + ":"):
            _note_earmark(books, posting.account.rsplit(":", 1)[1], entry)


def _note_earmark(books: Books, name: str | None, entry: Entry, purpose: str = "") -> None:
    if name is None:
        return
    if name not in books.earmarks:
        books.earmarks[name] = Earmark(name, purpose, entry.date)
    elif purpose and not books.earmarks[name].purpose:
        books.earmarks[name].purpose = purpose


def _given_for(given: model.Given, parts: dict[str | None, Decimal]) -> dict[str | None, Decimal]:
    """What was given in its own currency for each of `parts`' earmarks."""
    return {e: amount for e, amount in given.parts.items() if e in parts}


def receivable_parts(account: Account) -> tuple[str, str | None]:
    """('latvia', 'drones') for 'assets:receivable:latvia:drones'."""
    parts = account.split(":")[2:]
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _earmark_of_receivable(account: Account) -> str | None:
    return receivable_parts(account)[1]


def _source_of(account: Account) -> str:
    return "unallocated" if account == model.UNALLOCATED else account.rsplit(":", 1)[1]
