"""Books kept at a few places in the journal, so that the books as of a day start from the nearest, not from entry #1.

The books as of a day D are the fold, in journal order, of the entries
dated on or before D (`fold.as_of`). While the journal is folded for the
read cache, the books are kept (pickled) when an entry opens a month later
than any entry before it, if at least `GAP` entries came since the last
such *mark*. Every entry before a mark is dated no later than the mark's
`bound` (the latest date before it), so for any D on or after that bound
the mark's books are the start of the fold as of D; what is left to fold is
the entries after the mark dated on or before D:

- entries dated in a month earlier than the latest month seen before them
  (*late*: backdated across a month's end) are listed as they are folded,
  so they are found without reading anything;
- every other entry after the mark is dated in the month it opened or
  later, so when D is before that month (the end of a month, quarter or
  year, as a period report asks) none of them counts; only for a D inside
  the months up to the next mark are those entries' dates read, from the
  index, and the ones on or before D folded.

So a period report folds only the few backdated entries instead of every
entry up to its days. The books built this way are the replay's exactly:
the same entries folded in the same order from the same books. Their large
parts that are only ever added to, entry by entry, are not kept at each
mark but read from today's books as far as the mark: the entries (the
journal's), the index (each table cut at the mark) and each entry's flow of
money. Two parts are rebuilt from the entries only if something asks for
them, as no report does: the day-by-day history and the index's totals.

The marks are the read cache's business (`ledger.cache` keeps each in a
side file of its own); books without them (no cache, or books changed other
than through `note`) are replayed as before, to the same answer.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import itertools
import pickle
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from decimal import Decimal
from typing import Any, NamedTuple

from ledger import fold, index
from ledger.books import Books, History, made_of
from ledger.errors import CorruptJournal
from ledger.model import Entry

# A mark is kept when a month opens only if this many entries were folded since the last one, so that a
# small ledger does not keep its books every few entries; folding 64 entries from a mark takes a few
# hundredths of a second. (At 256, a 10,000-entry ledger kept books every third month, and a quarter's
# report folded a hundred entries, a reversal among them: 0.5 s instead of 0.1 s.)
GAP = 64


def month_start(ordinal: int) -> int:
    """The first day (ordinal) of the month that the day `ordinal` is in."""
    return dt.date.fromordinal(ordinal).replace(day=1).toordinal()


def _next_month(first: int) -> int:
    """The first day (ordinal) of the month after the one starting on `first`."""
    day = dt.date.fromordinal(first)
    following = dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)
    return following.toordinal()


class Mark(NamedTuple):
    """The books after the first `count` entries, all dated on or before `bound`; entry `count + 1` opens `opens`."""

    count: int
    bound: int  # the latest date (ordinal) of the entries before it
    opens: int  # the first day of the month the entry after it is dated in
    blob: Any  # the books, pickled and compressed (bytes, or the cache's reference to a side file)


class Checkpoints:
    """The marks of one run of entries, and its late entries; fed by `note` before each entry is folded."""

    def __init__(self) -> None:
        self.marks: list[Mark] = []
        self.late_ids = array("I")  # entries dated in a month before the latest seen before them ...
        self.late_days = array("i")  # ... and their dates
        self.peak = 0  # the latest date (ordinal) of the entries seen
        self.peak_month = 0  # the first day of the latest month seen ...
        self.following = 0  # ... and of the one after it
        self.first = 0  # the first day of the month of entry #1
        self.seen = 0  # how many entries were noted: books with more were changed behind the marks' back

    def note(self, books: Books, entry: Entry) -> None:
        """Before `entry` is folded into `books` (which hold exactly the entries noted so far)."""
        day = entry.date.toordinal()
        if not self.peak_month <= day < self.following:  # most entries: dated in the latest month seen
            if self.seen == 0:
                self.first = self.peak_month = month_start(day)
                self.following = _next_month(self.peak_month)
            elif day >= self.following:
                month = month_start(day)
                if books.count - (self.marks[-1].count if self.marks else 0) >= GAP:
                    self.marks.append(Mark(books.count, self.peak, month, _kept(books)))
                self.peak_month, self.following = month, _next_month(month)
            else:
                self.late_ids.append(entry.id)
                self.late_days.append(day)
        if day > self.peak:
            self.peak = day
        self.seen += 1

    # --- kept in the cache ------------------------------------------------

    def frozen(self, keep: Callable[[Any], Any]) -> tuple:
        """Plain data to pickle, each mark's books passed through `keep` (the cache puts them in side files)."""
        marks = [(m.count, m.bound, m.opens, keep(m.blob)) for m in self.marks]
        return (marks, self.late_ids.tobytes(), self.late_days.tobytes(), self.peak, self.peak_month, self.first,
                self.seen)  # fmt: skip

    @classmethod
    def thawed(cls, state: tuple, bound: Callable[[Any], Any]) -> Checkpoints:
        marks, late_ids, late_days, peak, peak_month, first, seen = state
        kept = cls()
        kept.marks = [Mark(count, low, opens, bound(blob)) for count, low, opens, blob in marks]
        kept.late_ids.frombytes(late_ids)
        kept.late_days.frombytes(late_days)
        kept.peak, kept.peak_month, kept.first, kept.seen = peak, peak_month, first, seen
        kept.following = _next_month(peak_month) if seen else 0
        return kept


def as_of(books: Books, day: dt.date) -> Books:
    """The books as they stood at the end of `day` (`fold.as_of`): from the nearest mark if they have marks."""
    found = books_on(books, day)
    return fold.as_of(books, day) if found is None else found


def books_on(books: Books, day: dt.date) -> Books | None:
    """The books as they stood at the end of `day`, from the nearest mark; None when `books` have no usable marks."""
    kept: Checkpoints | None = getattr(books, "checkpoints", None)
    if kept is None or kept.seen != books.count:
        return None
    end = day.toordinal()
    if kept.peak <= end:  # every entry is dated on or before the day: the books are those of the day
        return books
    found = bisect.bisect_right([m.bound for m in kept.marks], end)  # marks whose bound is on or before the day
    if found:
        count, opens = kept.marks[found - 1].count, kept.marks[found - 1].opens
    else:  # before the first mark: no books yet, and entry #1 opens the first month
        count, opens = 0, kept.first
    following = kept.marks[found].count if found < len(kept.marks) else books.count
    ids: list[int] = []
    if opens <= end:  # the day is in the months that the entries after the mark fill: read their dates
        dates = books.index.dates
        ids = [n for n in range(count + 1, following + 1) if dates[n - 1] <= end]
        count = following
    late = bisect.bisect_right(kept.late_ids, count)
    ids += [n for n, when in zip(kept.late_ids[late:], kept.late_days[late:], strict=True) if when <= end]
    start = _thawed(books, kept.marks[found - 1]) if found else Books(books.currency, books.name, books.manager)
    for entry_id in ids:
        fold.fold(start, books.entry(entry_id), checked=True)
    return start


def _kept(books: Books) -> bytes:
    """`books` pickled as a mark keeps them: without the parts read from today's books (see the module's docstring)."""
    state = dict(books.__dict__)
    state["store"] = state["history"] = state["index"] = state["checkpoints"] = None
    funds = copy.copy(books.funding)
    funds.flows = None
    # Whose money is in each envelope, and what each spent: most of a mark's figures, pickled four times
    # quicker as one string of amounts per envelope than as thousands of Decimals.
    funds.shares, funds.spent = _flat(funds.shares), _flat(funds.spent)
    state["funding"] = funds
    # Pickled apart, as the cache keeps them, and read only if asked for: the books of a period's first day are
    # asked for their members' figures, not for the thousands of pledges and packages (a third of a mark's thaw).
    from ledger import cache

    state["pledges"] = cache.grouped(state["pledges"])  # member by member: a statement reads its member's
    state["packages"] = pickle.dumps(dict(state["packages"].items()), protocol=pickle.HIGHEST_PROTOCOL)
    # Compressed: the figures' digits repeat, a mark takes a sixth of the room for a hundredth of a second.
    return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)


def _thawed(books: Books, mark: Mark) -> Books:
    """The mark's books, their large parts read from `books` (today's) as far as the mark."""
    from ledger import cache

    start = Books.__new__(Books)
    start.__dict__.update(pickle.loads(zlib.decompress(cache.blob_bytes(mark.blob))))
    start.pledges, start.packages = cache.PledgeMap(start.pledges), cache.LazyMap(start.packages)
    start.store = Prefix(books.store, mark.count)
    start.history = Replayed(start)
    start.index = PrefixIndex(books.index, mark.count, start)
    funds = start.funding
    funds.shares, funds.spent = _Unflattened(funds.shares), _Unflattened(funds.spent)
    funds.flows = PrefixMap(books.funding.flows, mark.count)
    return start


def _flat(owned: dict[str, dict[str, Decimal]]) -> list[tuple[str, list[str], str]]:
    return [(key, list(owners), " ".join(map(str, owners.values()))) for key, owners in owned.items()]


class _Unflattened(MutableMapping):
    """A mark's owners by envelope (`_flat`), made amounts again only when first read.

    The books of a period's first day are asked for their members' figures,
    not whose money is in each envelope: a hundred thousand amounts a mark at
    a million entries, left as text. Read, it is the defaultdict it stood for.
    """

    def __init__(self, flat: list[tuple[str, list[str], str]]) -> None:
        self._flat: list | None = flat
        self._data: defaultdict[str, dict[str, Decimal]] | None = None
        self._where: dict[str, int] | None = None  # each key's place in `_flat`, once `one` is asked

    def _loaded(self) -> defaultdict[str, dict[str, Decimal]]:
        if self._data is None:
            self._data, self._flat, self._where = _unflat(self._flat), None, None
        return self._data

    def one(self, key: str, owner: str) -> Decimal | None:
        """`self.get(key, {}).get(owner)`, without making every amount of every envelope (a statement asks for
        its member's share of each of thousands of packages): only that one is read."""
        if self._data is not None:
            return self._data.get(key, {}).get(owner)
        if self._where is None:
            self._where = {flat[0]: number for number, flat in enumerate(self._flat)}
        number = self._where.get(key)
        if number is None:
            return None
        _, owners, amounts = self._flat[number]
        if owner not in owners:
            return None
        return Decimal(amounts.split()[owners.index(owner)])

    def __getitem__(self, key: str) -> dict[str, Decimal]:
        return self._loaded()[key]  # a missing envelope is made, as the defaultdict does

    def get(self, key: str, default: Any = None) -> Any:
        return self._loaded().get(key, default)

    def __setitem__(self, key: str, value: dict[str, Decimal]) -> None:
        self._loaded()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())

    def items(self):
        return self._loaded().items()


def _unflat(flat: list[tuple[str, list[str], str]]) -> defaultdict[str, dict[str, Decimal]]:
    return defaultdict(dict, {key: dict(zip(owners, map(Decimal, amounts.split()), strict=True))
                              for key, owners, amounts in flat})  # fmt: skip


# --- the large parts, read from today's books as far as a mark --------------


class Prefix:
    """An entry store of the first `count` entries of another, and entries appended since (`books.EntryStore`)."""

    def __init__(self, base: Any, count: int) -> None:
        self.base, self.count = base, count
        self._recent: dict[int, Entry] = {}

    def entries(self) -> list[Entry]:
        return self.base.entries()[: self.count] + list(self._recent.values())

    def stream(self) -> Iterator[Entry]:
        """The entries in order, the mark's read from the journal as they are iterated (an export as of a day).

        The base's stream is cut at the mark, before its own last check (that the last entry is the books'); the
        mark's last entry is checked instead against the one the base holds there (itself read only from bytes
        still as they were checked), so a journal changed behind the cache's back is refused as a whole stream is.
        """
        last = None
        for last in itertools.islice(self.base.stream(), self.count):
            yield last
        if self.count and (last is None or last.hash != self.base.get(self.count).hash):
            raise CorruptJournal("the journal changed while it was being read; run the command again, and "
                                 "`fundledger verify` if it persists")  # fmt: skip
        yield from list(self._recent.values())

    def hashes(self) -> Iterator[tuple[int, str]]:
        yield from itertools.islice(self.base.hashes(), self.count)
        yield from ((entry.id, entry.hash) for entry in list(self._recent.values()))

    def get(self, entry_id: int) -> Entry | None:
        if entry_id is not None and 0 < entry_id <= self.count:
            return self.base.get(entry_id)
        return self._recent.get(entry_id)

    def expect(self, ids: Iterable[int] | None) -> None:
        self.base.expect(ids)

    def read(self, ids: Iterable[int]) -> dict[int, Entry]:
        wanted = sorted(ids)
        found = self.base.read(i for i in wanted if 0 < i <= self.count)
        found.update((i, self._recent[i]) for i in wanted if i > self.count and i in self._recent)
        return found

    def rows(self, ids: Iterable[int], make: Callable[[list[Entry]], list], kind: str) -> dict[int, Any]:
        """Made of the entries read, never taken from (nor kept as) the base's rows: `make` is bound to these
        books, which lack the base's later entries, so what it made of a whole file would be wrong (found by a
        review: a reversal made as an entry of its own, kept, and shown by every later register)."""
        return made_of(self.read(ids), make)

    def append(self, entry: Entry) -> None:
        self._recent[entry.id] = entry

    def copied(self) -> Prefix:
        twin = Prefix(self.base, self.count)
        twin._recent = dict(self._recent)
        return twin


class PrefixMap(MutableMapping):
    """The entries up to `count` of a map keyed by entry id (each entry's flow of money), and keys set since."""

    def __init__(self, base: MutableMapping, count: int) -> None:
        self.base, self.count = base, count
        self._recent: dict = {}

    def __getitem__(self, key):
        if key in self._recent:
            return self._recent[key]
        if key <= self.count:
            return self.base[key]
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key, value) -> None:
        self._recent[key] = value

    def __delitem__(self, key) -> None:
        raise TypeError("the flows of a mark's entries are not removed")

    def __contains__(self, key) -> bool:
        return key in self._recent or (key <= self.count and key in self.base)

    def __iter__(self) -> Iterator:
        yield from (key for key in self.base if key <= self.count)
        yield from self._recent

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Replayed(History):
    """The day-by-day history, rebuilt from the books' entries when first read (no report reads it)."""

    def __init__(self, books: Books) -> None:  # no super().__init__: `days` is built on demand
        self._books = books
        self._days: dict | None = None

    @property
    def days(self) -> dict:
        if self._days is None:
            rebuilt = History()
            for entry in self._books.entries:
                for posting in entry.postings:
                    if posting.account.startswith("assets:"):
                        rebuilt.note(posting.account, entry.date, posting.amount)
            self._days = rebuilt.days
        return self._days

    def note(self, account, day, amount) -> None:
        if self._days is not None:  # until then the entry, already in the books' store, is in what `days` reads
            History.note(self, account, day, amount)


class PrefixIndex(index.Index):
    """The index of a mark's books: today's, each table cut at the mark, with the entries folded since.

    The ids, dates and reversals are cut from today's index (ids are in id
    order, and the mark's entries are all of the first `count`); the totals
    (monthly changes, amounts moved, fields) are not kept at each mark, so
    asking for one rebuilds the whole index from the books' entries.
    """

    def __init__(self, base: Any, count: int, books: Books) -> None:  # no super().__init__: parts are cut on demand
        self._base, self._count, self._books = base, count, books
        self._notes: list[index.Note] = []
        self._dates: array | None = None
        self._reversals: dict[int, list[int]] | None = None
        self._tables: dict[str, dict] = {}
        self._whole: index.Index | None = None

    # what `Index.add` and the questions read, cut from today's index on first use
    @property
    def dates(self) -> array:
        if self._whole is not None:
            return self._whole.dates
        if self._dates is None:
            self._dates = self._base.dates[: self._count]
            for seen in self._notes:
                _add_date(self._dates, seen)
        return self._dates

    @property
    def reversals(self) -> dict[int, list[int]]:
        if self._whole is not None:
            return self._whole.reversals
        if self._reversals is None:
            cut = {}
            for undone, ids in self._base.reversals.items():
                kept = [r for r in ids if r <= self._count]
                if kept:
                    cut[undone] = kept
            for seen in self._notes:
                if seen.reverses is not None:
                    cut.setdefault(seen.reverses, []).append(seen.id)
            self._reversals = cut
        return self._reversals

    @property
    def ids(self) -> Tables:
        return self._whole.ids if self._whole is not None else Tables(self)

    def table(self, name: str) -> dict:
        found = self._tables.get(name)
        if found is None:
            found = {}
            for key, ids in self._base.ids[name].items():
                if ids[0] <= self._count:
                    found[key] = ids[: bisect.bisect_right(ids, self._count)]
            for seen in self._notes:
                _add_keys(found, name, seen)
            self._tables[name] = found
        return found

    def add(self, seen: index.Note) -> None:
        if self._whole is not None:
            self._whole.add(seen)
            return
        if seen.id <= max(self._count, self._notes[-1].id if self._notes else 0):
            raise ValueError(f"entry #{seen.id} indexed after #{self._count}")
        self._notes.append(seen)
        if self._dates is not None:
            _add_date(self._dates, seen)
        if self._reversals is not None and seen.reverses is not None:
            self._reversals.setdefault(seen.reverses, []).append(seen.id)
        for name, table in self._tables.items():
            _add_keys(table, name, seen)

    def whole(self) -> index.Index:
        """The index rebuilt from every entry of the books (read from the journal): what the totals need."""
        if self._whole is None:
            rebuilt = index.Index()
            store = self._books.store
            for entry in self._books.entries:
                undone = store.get(entry.get("reverses")) if entry.kind == "reverse" else None
                rebuilt.add(index.note(entry, undone))
            self._whole = rebuilt
        return self._whole

    monthly = property(lambda self: self.whole().monthly)
    moving = property(lambda self: self.whole().moving)
    given = property(lambda self: self.whole().given)
    largest = property(lambda self: self.whole().largest)
    fields = property(lambda self: self.whole().fields)


class Tables(MutableMapping):
    """A prefix index's tables by name, each cut from today's when first asked for."""

    def __init__(self, owner: PrefixIndex) -> None:
        self._owner = owner

    def __getitem__(self, name: str) -> dict:
        if name not in index.KEYS:
            raise KeyError(name)
        return self._owner.table(name)

    def __setitem__(self, name, value) -> None:
        raise TypeError("a prefix index's tables are cut, not set")

    def __delitem__(self, name) -> None:
        raise TypeError("a prefix index's tables are cut, not removed")

    def __iter__(self) -> Iterator[str]:
        return iter(index.KEYS)

    def __len__(self) -> int:
        return len(index.KEYS)


def _add_date(dates: array, seen: index.Note) -> None:
    if seen.id > len(dates) + 1:  # as `Index.add`: ids these books do not hold have no date
        dates.extend(array("i", [index.ABSENT]) * (seen.id - 1 - len(dates)))
    dates.append(seen.day)


def _add_keys(table: dict, name: str, seen: index.Note) -> None:
    for named, key in seen.keys:
        if named == name:
            found = table.get(key)
            if found is None:
                found = table[key] = array("I")
            found.append(seen.id)
