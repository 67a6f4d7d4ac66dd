"""Books as of a day found from the nearest mark equal the books replayed from entry #1, on random ledgers."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import checkpoints, fold, fund, index, journal, writer
from ledger.books import Books
from ledger.errors import CorruptJournal

from conftest import Runner
from test_index import _books, operations, read_in_two
from test_properties import days

# Days around the random ledgers' dates (2024-02-01 and 400 days on): quarter and month ends, and the first
# day of a quarter (the first day the entries after a mark may be dated).
ENDS = [dt.date(2024, 1, 31), dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.date(2024, 4, 30), dt.date(2024, 6, 30),
        dt.date(2024, 7, 1), dt.date(2024, 9, 30), dt.date(2024, 10, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 1),
        dt.date(2025, 2, 28), dt.date(2025, 3, 31)]  # fmt: skip
asked_days = st.one_of(days, st.sampled_from(ENDS))
PERIODS = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2024-05", "2024", "2025"]


def _index(found: index.Index) -> dict:
    """Everything an index holds, its tables' keys in their order."""
    return {
        "ids": {name: [(key, list(ids)) for key, ids in found.ids[name].items()] for name in index.KEYS},
        "dates": list(found.dates),
        "reversals": list(found.reversals.items()),
        "monthly": {account: dict(months) for account, months in found.monthly.items()},
        "moving": dict(found.moving),
        "given": found.given,
        "largest": found.largest,
        "fields": dict(found.fields),
    }


def state(books: Books) -> dict:
    """Everything books hold that a report or a rule may read, lazily kept parts read."""
    held = {}
    for name, value in vars(books).items():
        if name in ("store", "checkpoints"):
            continue
        if name == "history":
            value = [(account, list(days.items())) for account, days in value.days.items()]
        elif name == "index":
            value = _index(value)
        elif name == "funding":
            value = (dict(value.shares), dict(value.spent), list(value.flows.items()))
        elif name in ("pledges", "packages", "balances"):
            value = dict(value.items())
        held[name] = value
    held["entries"] = [(entry.id, entry.hash) for entry in books.entries]
    return held


@contextlib.contextmanager
def every_month() -> Iterator[None]:
    """A mark at every month a ledger opens (not only after `checkpoints.GAP` entries): small ledgers get many."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkpoints, "GAP", 1)
        yield


def _marked(held: Books) -> Books:
    """`held`'s entries folded again as a load for the cache folds them, marks kept on the way."""
    books = Books(held.currency, held.name, held.manager)
    books.checkpoints = checkpoints.Checkpoints()
    for entry in held.entries:
        books.checkpoints.note(books, entry)
        fold.fold(books, entry, hashed=True)
    return books


class TestBooksOn:
    """`checkpoints.books_on` gives the books `fold.as_of` gives, for any day."""

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=5, max_size=60), st.lists(asked_days, min_size=1, max_size=5))
    def test_in_memory(self, ops, asked):
        held = _books(ops)
        with every_month():
            marked = _marked(held)
        sparse = _marked(held)  # the default gap: few marks or none, more entries folded from the nearest
        for day in asked:
            replayed = state(fold.as_of(held, day))
            for books in (marked, sparse):
                found = checkpoints.books_on(books, day)
                assert found is not None
                assert state(found) == replayed

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=5, max_size=50), st.integers(0, 50), st.lists(asked_days, min_size=1, max_size=4))
    def test_read_from_the_journal_and_the_cache(self, ops, cut, asked):
        """Marks kept by a first read, then by a read of the cache and the entries appended since."""
        held = _books(ops)
        with every_month(), read_in_two(held.entries, cut) as (ledger, _, _):
            books = journal.load(ledger, use_cache=True)  # from the cache alone: marks read from side files
            assert books.count == len(held.entries)
            for day in asked:
                found = checkpoints.books_on(books, day)
                assert found is not None
                assert state(found) == state(fold.as_of(held, day))

    def test_backdated_entries_across_a_month(self):
        """Entries recorded after a later month opened, dated in an earlier one, are folded into that month."""
        ops = [
            ("earmark", "drones", "3M", "unallocated", dt.date(2024, 3, 2)),
            ("package", "p1", "2M", "drones", dt.date(2024, 4, 3)),
            ("pay", "p1", "1M", dt.date(2024, 7, 10)),
            ("contribute", "Latvia", "1M", None, dt.date(2024, 3, 30)),  # late: July had opened
            ("pay", "p1", "10k", dt.date(2024, 5, 1)),  # late
            ("pay", "p1", "5k", dt.date(2024, 10, 1)),  # opens October on its first day
            ("pay", "p1", "6k", dt.date(2024, 10, 5)),
            ("pay", "p1", "7k", dt.date(2024, 10, 3)),  # backdated, but within the month it is in: not late
        ]
        held = _books(ops)
        with every_month():
            marked = _marked(held)
        kept = marked.checkpoints
        assert [mark.count for mark in kept.marks] == [2, 5, 6, 9]  # before each entry that opens a month
        assert list(kept.late_ids) == [8, 9]
        assert checkpoints.books_on(marked, dt.date(2024, 10, 4)).last_id == 12
        assert _marked(held).checkpoints.marks == []  # fewer than GAP entries
        paid = 7
        writer.seal(held, [fund.reverse(held, paid, "twice", fund.Note(dt.date(2024, 7, 11)))])
        with every_month():
            marked = _marked(held)
        for day in (*ENDS, dt.date(2024, 5, 1), dt.date(2024, 7, 10), dt.date(2024, 7, 11), dt.date(2024, 10, 4)):
            assert state(checkpoints.books_on(marked, day)) == state(fold.as_of(held, day))

    def test_books_changed_behind_the_marks_are_replayed(self):
        """Books with an entry folded without `note` have marks that no longer describe them: no answer."""
        held = _books([("earmark", "drones", "3M", "unallocated", dt.date(2024, 5, 2))])
        with every_month():
            marked = _marked(held)
        writer.seal(marked, [fund.earmark(marked, "training", "1M", fund.Note(dt.date(2024, 5, 3)))])
        assert checkpoints.books_on(marked, dt.date(2024, 3, 31)) is None
        assert checkpoints.books_on(Books("EUR"), dt.date(2024, 3, 31)) is None


REPORTS = [
    "summary --period {p}",
    "statement Latvia --period {p}",
    "statement 'United Kingdom' --period {p}",
    "balance --period {p}",
    "contributors --period {p}",
    "earmarks --period {p}",
    "packages --period {p}",
    "funding --period {p}",
    "register --member Latvia --period {p}",
]
AS_OF = ["summary", "statement Latvia", "balance", "register", "register --member Latvia", "funding"]


class TestPeriodReports:
    """Period reports (and reports --as-of a day) print the same JSON from the cache's marks as from a replay with
    the cache off."""

    @pytest.mark.slow
    @settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(operations, min_size=5, max_size=50),
        st.lists(st.sampled_from(PERIODS), min_size=1, max_size=3),
        st.lists(asked_days, min_size=1, max_size=2),
    )
    def test_same_json_with_and_without_the_cache(self, ops, periods, asked):
        held = _books(ops)
        with tempfile.TemporaryDirectory() as folder:
            ledger = journal.init(Path(folder) / "fund", "Index fund", "EUR")
            (ledger.journal_dir / "2024-0001.toml").write_bytes(journal.joined(b"", held.entries))
            run = Runner(ledger.path)
            with every_month():
                run("balance")  # the first read, which writes the cache and its marks
            assert journal.load(ledger, use_cache=True).checkpoints is not None
            lines = [f"report {command.format(p=period)} --json" for period in periods for command in REPORTS]
            lines += [f"report {command} --as-of {day} --json" for day in asked for command in AS_OF]
            for line in lines:
                cached = _answer(run(line, ok=False))
                replayed = _answer(run(line, ok=False, env={"FUNDLEDGER_CACHE": "off"}))
                assert cached == replayed, line
            for day in asked:  # an export as of a day: the mark's entries streamed from the journal, then the rest
                for fmt in ("hledger", "json"):
                    line = f"export --format {fmt} --as-of {day}"
                    cached = run(line, ok=False)
                    assert (cached.exit_code, cached.output) == _raw(run(line, ok=False, env=REPLAY)), line


REPLAY = {"FUNDLEDGER_CACHE": "off"}


def _raw(result) -> tuple[int, str]:
    return result.exit_code, result.output


def _answer(result) -> tuple[int, object]:
    """A report's JSON, or its refusal (a member not yet joined on the day asked) as it was printed."""
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else result.output


def test_a_mark_s_entries_streamed_end_on_the_entry_the_books_hold_there():
    """An export as of a day streams a mark's entries from the journal, cut before the store's own last check:
    the last one is checked against the entry the store holds at the mark, and a difference is refused."""
    books = _books([])
    entries = books.entries
    prefix = checkpoints.Prefix(books.store, 3)
    assert [e.id for e in prefix.stream()] == [1, 2, 3]
    changed = checkpoints.Prefix(books.store, 3)
    changed.base = type("Moved", (), {"stream": books.store.stream, "get": lambda self, n: entries[n]})()
    with pytest.raises(CorruptJournal, match="changed while it was being read"):
        list(changed.stream())


def test_a_marks_owners_stay_text_until_read_and_then_are_the_amounts_they_stood_for():
    from decimal import Decimal

    owned = {"assets:earmarked:drones": {"latvia": Decimal("1.10"), "norway": Decimal("-0.05")}, "x": {}}
    lazy = checkpoints._Unflattened(checkpoints._flat(owned))
    assert lazy._data is None  # nothing turned into amounts yet
    assert dict(lazy.items()) == owned and lazy._data is not None
    assert lazy["assets:earmarked:new"] == {} and "assets:earmarked:new" in lazy  # made, as the defaultdict does
    assert lazy.get("absent") is None and len(lazy) == 3


@given(st.dictionaries(st.sampled_from(["a", "b:c", "d"]), st.dictionaries(st.sampled_from(["latvia", "norway", "(fund)"]),
       st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9, max_value=10**9))))  # fmt: skip
def test_one_owners_amount_read_alone_is_what_the_whole_mapping_holds(owned):
    from ledger import funding

    for load_first in (False, True):
        lazy = checkpoints._Unflattened(checkpoints._flat(owned))
        if load_first:
            lazy.items()
        for key in ("a", "b:c", "d", "absent"):
            for owner in ("latvia", "norway", "(fund)", "nobody"):
                expected = owned.get(key, {}).get(owner)
                assert lazy.one(key, owner) == expected
                assert funding._one(lazy, key, owner) == (expected or 0) == funding._one(owned, key, owner)
        assert (lazy._data is None) is not load_first  # read alone: nothing else made into amounts


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=25))
def test_a_members_pledges_are_read_alone_and_are_those_of_the_whole_map(ops):
    """Pledges are kept member by member (`cache.PledgeMap`): a statement reads its member's only; the whole map
    read after is the map kept, in id order, the pledges read first the same objects."""
    from ledger import cache

    books = _books(ops)
    whole = dict(books.pledges)
    members = sorted({p.member for p in whole.values()} | {"Nobody"})
    kept = cache.PledgeMap(cache.grouped(whole))
    first = {member: kept.of(member) for member in members}
    assert kept._data is None  # nothing but those members' read
    for member in members:
        assert first[member] == [p for p in whole.values() if p.member == member] == books.pledges_of(member)
    extra = dataclasses.replace(next(iter(whole.values())), id=10**6) if whole else None
    if extra is not None:
        kept[extra.id] = extra  # a pledge folded since the map was kept
        assert kept.of(extra.member)[-1] is extra
    assert list(kept.items()) == list({**whole, **({extra.id: extra} if extra else {})}.items())
    assert all(any(p is q for q in kept.values()) for pledges in first.values() for p in pledges)
    assert cache.PledgeMap(kept.blob()).of(members[0]) == kept.of(members[0])


def test_a_marks_pledges_and_packages_stay_pickled_until_read():
    """The books of a period's first day are asked for their members' figures: the thousands of pledges and
    packages a mark holds at a million entries are unpickled only when something reads them."""
    books = _books([])
    assert books.pledges  # the prelude pledges
    mark = checkpoints.Mark(books.count, books.index.dates[-1], 0, checkpoints._kept(books))
    thawed = checkpoints._thawed(books, mark)
    assert thawed.pledges._data is None and thawed.packages._data is None
    assert thawed.members == books.members and dict(thawed.balances) == dict(books.balances)
    assert thawed.pledges._data is None  # members and balances read without them
    assert dict(thawed.pledges.items()) == dict(books.pledges) and dict(thawed.packages.items()) == dict(books.packages)
