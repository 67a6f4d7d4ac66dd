"""The books: what the journal's entries add up to, folded one entry at a time.

`Books.apply` is the only way state changes, and it is only ever called with
an entry that the rules have already accepted. Reports read books; they never
change them. `Books.as_of(date)` replays the entries dated on or before a day.

Books read from a journal do not hold its entries: what every report and
rule needs (balances, members, pledges, packages, a day-by-day history of
each asset account) is kept here, and the entries themselves stay on disk
behind an `Archive` until something asks for them (`entries`, `entry(id)`).
That keeps memory and the cache small however long the journal grows.
"""

from __future__ import annotations

import bisect
import datetime as dt
import pickle
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ledger import model
from ledger.model import Account, Entry

ZERO = Decimal(0)


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

    @property
    def foreign(self) -> bool:
        return self.rate is not None

    def outstanding(self, earmark: str | None) -> Decimal:
        if self.reversed_by is not None:
            return ZERO
        return self.split.get(earmark, ZERO) - self.received.get(earmark, ZERO)

    def original_outstanding(self, earmark: str | None) -> Decimal:
        if self.reversed_by is not None:
            return ZERO
        return self.original_split.get(earmark, ZERO) - self.original_received.get(earmark, ZERO)

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


@dataclass
class Package:
    name: str
    id: int
    date: dt.date
    memo: str
    amount: Decimal
    sources: dict[str, Decimal]  # "unallocated" or an earmark -> amount
    paid: Decimal = ZERO
    reversed_by: int | None = None

    @property
    def remaining(self) -> Decimal:
        return ZERO if self.reversed_by is not None else self.amount - self.paid

    @property
    def status(self) -> str:
        if self.reversed_by is not None:
            return "cancelled"
        return "paid" if self.remaining == 0 else "open"


@dataclass
class Earmark:
    name: str
    purpose: str
    since: dt.date


class Archive(Protocol):
    """Where the entries of books read from a journal are kept: on disk, read on demand."""

    def entry(self, entry_id: int) -> Entry | None: ...

    def entries(self, count: int) -> list[Entry]:
        """The first `count` entries, in order."""
        ...


class Books:
    """Balances, members, pledges, earmarks and packages after a run of entries."""

    def __init__(self, currency: str, name: str = "", manager: str = "") -> None:
        self.currency = currency
        self.name = name
        self.manager = manager
        self.count = 0
        self.seal = model.GENESIS
        self.last_id = 0
        self._entries: list[Entry] | None = []  # None: the first `_archived` entries are in the archive
        self._archive: Archive | None = None
        self._archived = 0
        self._recent: list[Entry] = []  # entries applied since the archive was attached
        self._by_id: dict[int, Entry] | None = None
        self.balances: dict[Account, Decimal] = defaultdict(Decimal)
        # Net change of every asset account on each day, to check no envelope is ever negative on any day.
        # Only a backdated entry needs it, so books from a cache keep it pickled until then (`history`).
        self._history: dict[Account, dict[dt.date, Decimal]] | None = defaultdict(dict)
        self._history_blob = b""
        self._history_new: list[tuple[Account, dt.date, Decimal]] = []  # changes not yet in the blob
        self.latest: dict[Account, dt.date] = {}  # the last day each asset account changed
        self.members: dict[str, Member] = {}
        # Books from a cache keep these pickled until something reads them (`_kept`): most commands
        # touch few of them, and unpickling thousands of pledges and packages is most of a warm start.
        self._pledges: dict[int, Pledge] | None = {}
        self._packages: dict[str, Package] | None = {}
        self._kept: dict[str, bytes] = {}
        self.earmarks: dict[str, Earmark] = {}
        self.reversed_by: dict[int, int] = {}
        # Exchange rates recorded with `rate`: currency -> [(date, rate, entry id)], in date order.
        self.rates: dict[str, list[tuple[dt.date, Decimal, int]]] = {}
        self.rate_uses: dict[int, int] = {}  # rate entry id -> entries converted at it
        # Rates typed with --rate: (date, currency, rate, entry id).
        self.given_rates: list[tuple[dt.date, str, Decimal, int]] = []

    # --- reading ---------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """Every entry, in order; books read from a journal read them from its archive the first time."""
        if self._entries is None:
            assert self._archive is not None
            self._entries = self._archive.entries(self._archived) + self._recent
            self._archive, self._recent = None, []
        return self._entries

    def hold_entries(self) -> Books:
        """Read every entry into memory now, so that the books no longer need their journal."""
        self.entries  # noqa: B018 (reading them is the point)
        return self

    def entry(self, entry_id: int) -> Entry | None:
        """The entry with `entry_id`, if these books hold it."""
        if self._entries is None:
            if entry_id <= self._archived:
                return self._archive.entry(entry_id) if entry_id > 0 else None
            number = entry_id - self._archived - 1  # the recent ones follow the archive's, id by id
            return self._recent[number] if number < len(self._recent) else None
        if self._by_id is None:  # `as_of` books hold some ids and not others
            self._by_id = {entry.id: entry for entry in self._entries}
        return self._by_id.get(entry_id)

    def archived(self, archive: Archive) -> None:
        """Let go of the entries so far: from now on `archive` holds them (it holds exactly these)."""
        self._entries, self._by_id, self._recent = None, None, []
        self._archive, self._archived = archive, self.count

    @property
    def history(self) -> dict[Account, dict[dt.date, Decimal]]:
        if self._history is None:
            self._history = defaultdict(dict, pickle.loads(self._history_blob))
            for account, day, amount in self._history_new:
                self._note_change(account, day, amount)
            self._history_blob, self._history_new = b"", []
        return self._history

    @property
    def pledges(self) -> dict[int, Pledge]:
        if self._pledges is None:
            self._pledges = pickle.loads(self._kept.pop("pledges"))
        return self._pledges

    @property
    def packages(self) -> dict[str, Package]:
        if self._packages is None:
            self._packages = pickle.loads(self._kept.pop("packages"))
        return self._packages

    def _note_change(self, account: Account, day: dt.date, amount: Decimal) -> None:
        if self._history is None:
            self._history_new.append((account, day, amount))
        else:
            days = self._history[account]
            days[day] = days.get(day, ZERO) + amount

    def __getstate__(self) -> dict:
        """What a cache keeps: everything but the entries and the archive, which are the journal's."""
        state = dict(self.__dict__)
        state.update(_entries=None, _archive=None, _by_id=None, _recent=[], _archived=self.count)
        state["balances"] = dict(self.balances)
        if self._history is not None or len(self._history_new) > 10_000:
            blob = pickle.dumps(dict(self.history), protocol=pickle.HIGHEST_PROTOCOL)
            state.update(_history=None, _history_blob=blob, _history_new=[])
        kept = dict(self._kept)
        for name in ("pledges", "packages"):
            loaded = self.__dict__["_" + name]
            if loaded is not None:
                kept[name] = pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)
            state["_" + name] = None
        state["_kept"] = kept
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.balances = defaultdict(Decimal, self.balances)

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

    def lowest_from(self, account: Account, day: dt.date) -> Decimal:
        """The lowest balance `account` has on `day` or on any later day."""
        if account not in self.latest:
            return ZERO
        if self.latest[account] <= day:  # nothing dated later: the lowest is today's balance
            return self.balances[account]
        changes = self.history[account]
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
        wanted = model.slug(name)
        for member in self.members.values():
            if member.slug == wanted:
                return member
        return None

    def active_members(self, day: dt.date) -> list[Member]:
        return [member for member in self.members.values() if member.is_active(day)]

    # --- changing --------------------------------------------------------

    def apply(self, entry: Entry) -> None:
        """Fold one accepted entry into the books."""
        (self._recent if self._entries is None else self._entries).append(entry)
        if self._by_id is not None:
            self._by_id[entry.id] = entry
        self.count += 1
        self.last_id, self.seal = entry.id, entry.hash
        for posting in entry.postings:
            self.balances[posting.account] += posting.amount
            if posting.account.startswith("assets:"):
                self._note_change(posting.account, entry.date, posting.amount)
                self.latest[posting.account] = max(entry.date, self.latest.get(posting.account, entry.date))
        if entry.kind in ("pledge", "contribute"):
            member = self.members[entry.get("member")]
            member.last_dealing = max(entry.date, member.last_dealing or entry.date)
        getattr(self, f"_apply_{entry.kind}")(entry)

    def as_of(self, day: dt.date) -> Books:
        """The books as they stood at the end of `day`: only entries dated on or before it."""
        return replay(self.currency, (e for e in self.entries if e.date <= day), self.name, self.manager)

    def _apply_join(self, entry: Entry) -> None:
        name = entry.get("member")
        member = self.members.get(name) or Member(name, model.slug(name))
        member.role = entry.get("role")
        self._activate(member, entry.date)
        self.members[name] = member

    def _apply_apply(self, entry: Entry) -> None:
        name = entry.get("member")
        member = self.members.get(name) or Member(name, model.slug(name))
        member.status, member.applied, member.approvals = "pending", entry.date, {}
        self.members[name] = member

    def _apply_approve(self, entry: Entry) -> None:
        member = self.members[entry.get("member")]
        if entry.get("decision"):
            member.decision = entry.get("decision")
        else:
            member.approvals[entry.get("by")] = entry.date
        if entry.get("decision") or self.approvals_missing(member, entry.date) == []:
            self._activate(member, entry.date)

    def _apply_leave(self, entry: Entry) -> None:
        member = self.members[entry.get("member")]
        start, _ = member.periods[-1]
        member.periods[-1] = (start, entry.date)
        member.status, member.left = "left", entry.date

    def _activate(self, member: Member, day: dt.date) -> None:
        member.status, member.joined, member.left = "active", day, None
        member.periods.append((day, None))

    def approvals_missing(self, applicant: Member, day: dt.date) -> list[str]:
        """The members active on `day` whose approval of `applicant` is not yet recorded."""
        return [
            member.name
            for member in self.active_members(day)
            if member.name != applicant.name and member.name not in applicant.approvals
        ]

    def _note_rate(self, entry: Entry) -> None:
        """Count which recorded rate a conversion used, or keep the rate it was given."""
        given = model.given_as(entry)
        if given is None:
            return
        known = self.rate_on(given.currency, entry.date)
        if known is not None and known[0] == given.rate:
            self.rate_uses[known[1]] = self.rate_uses.get(known[1], 0) + 1
        else:
            self.given_rates.append((entry.date, given.currency, given.rate, entry.id))

    def _count_given(self, entry: Entry, sign: int) -> None:
        """What a member gave, in the currency it gave it in (taken back by a reversal)."""
        member = self.members[entry.get("member")]
        given = model.given_as(entry)
        if given:
            currency, amount = given.currency, given.amount
        else:
            currency = self.currency
            amount = sum((p.amount for p in entry.postings if p.account.startswith("assets:fund:")), ZERO)
        member.given[currency] = member.given.get(currency, ZERO) + sign * amount

    def _apply_pledge(self, entry: Entry) -> None:
        self._note_rate(entry)
        split: dict[str | None, Decimal] = {}
        for posting in entry.postings:
            if posting.account.startswith(model.RECEIVABLE + ":"):
                split[_earmark_of_receivable(posting.account)] = posting.amount
                self._note_earmark(_earmark_of_receivable(posting.account), entry)
        given = model.given_as(entry)
        self.pledges[entry.id] = Pledge(
            id=entry.id,
            member=entry.get("member"),
            year=entry.get("year"),
            date=entry.date,
            amount=sum(split.values(), ZERO),
            split=split,
            currency=given.currency if given else self.currency,
            rate=given.rate if given else None,
            original_split=_given_for(given, split) if given else dict(split),
        )

    def _apply_contribute(self, entry: Entry) -> None:
        self._note_rate(entry)
        self._count_given(entry, 1)
        pledge = self.pledges.get(entry.get("pledge")) if entry.get("pledge") else None
        relieved: dict[str | None, Decimal] = {}
        for posting in entry.postings:
            if posting.account.startswith(model.EARMARKED + ":"):
                self._note_earmark(posting.account.rsplit(":", 1)[1], entry)
            if pledge and posting.account.startswith(model.RECEIVABLE + ":"):
                relieved[_earmark_of_receivable(posting.account)] = -posting.amount
        if pledge:
            self._settle(pledge, entry, relieved, 1)

    def _settle(self, pledge: Pledge, entry: Entry, relieved: dict[str | None, Decimal], sign: int) -> None:
        """Count a receipt against `pledge` (sign 1), or take it back (sign -1, its reversal)."""
        given = _given_for(model.given_as(entry), relieved) if pledge.foreign else relieved
        for earmark, amount in relieved.items():
            pledge.received[earmark] = pledge.received.get(earmark, ZERO) + sign * amount
        for earmark, amount in given.items():
            pledge.original_received[earmark] = pledge.original_received.get(earmark, ZERO) + sign * amount

    def _apply_rate(self, entry: Entry) -> None:
        known = self.rates.setdefault(entry.get("currency"), [])
        known.append((entry.date, Decimal(entry.get("rate")), entry.id))
        known.sort(key=lambda rate: (rate[0], rate[2]))

    def _apply_earmark(self, entry: Entry) -> None:
        self._note_earmark(entry.get("earmark"), entry, entry.get("purpose", ""))

    def _apply_package(self, entry: Entry) -> None:
        name = entry.get("package")
        sources = {}
        for posting in entry.postings:
            if posting.amount < 0:
                sources[_source_of(posting.account)] = -posting.amount
        amount = sum(sources.values(), ZERO)
        self.packages[name] = Package(name, entry.id, entry.date, entry.memo, amount, sources)

    def _apply_pay(self, entry: Entry) -> None:
        package = self.packages[entry.get("package")]
        package.paid += sum((p.amount for p in entry.postings if p.amount > 0), ZERO)

    def _apply_reverse(self, entry: Entry) -> None:
        original = self.entry(entry.get("reverses"))
        self.reversed_by[original.id] = entry.id
        if original.kind == "pledge":
            self.pledges[original.id].reversed_by = entry.id
        elif original.kind == "package":
            self.packages[original.get("package")].reversed_by = entry.id
        elif original.kind == "pay":
            self.packages[original.get("package")].paid -= sum(
                (p.amount for p in original.postings if p.amount > 0), ZERO
            )
        if original.kind == "contribute":
            self._count_given(original, -1)
        if original.kind == "contribute" and original.get("pledge"):
            relieved = {
                _earmark_of_receivable(p.account): -p.amount
                for p in original.postings
                if p.account.startswith(model.RECEIVABLE + ":")
            }
            self._settle(self.pledges[original.get("pledge")], original, relieved, -1)

    def _apply_repair(self, entry: Entry) -> None:
        """A repair moves no money; it only records that an unfinished write was cut."""

    def _note_earmark(self, name: str | None, entry: Entry, purpose: str = "") -> None:
        if name is None:
            return
        if name not in self.earmarks:
            self.earmarks[name] = Earmark(name, purpose, entry.date)
        elif purpose and not self.earmarks[name].purpose:
            self.earmarks[name].purpose = purpose


def replay(currency: str, entries: Iterable[Entry], name: str = "", manager: str = "") -> Books:
    """Books built from entries already known to be valid (no rule is re-checked)."""
    books = Books(currency, name, manager)
    for entry in entries:
        books.apply(entry)
    return books


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
