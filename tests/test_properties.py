"""Random sequences of valid and invalid operations never break the books' identities."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger import fold, fund, journal, model, writer
from ledger.books import ZERO
from ledger.errors import LedgerError

from conftest import snapshot

MEMBERS = ["United Kingdom", "Latvia", "Norway", "Belgium"]
EARMARKS = ["drones", "training", "industrial-cooperation"]
PACKAGES = ["p1", "p2", "p3"]
good_amounts = st.sampled_from(["1", "0.01", "2.5k", "1M", "3M", "7,000,000", "333.33", "1,234,567.89"])
amounts = st.one_of(
    good_amounts, good_amounts, good_amounts, st.sampled_from(["0", "-1", "1.001", "1e3", "NaN", "50M"])
)
members = st.sampled_from(["United Kingdom", "Latvia", "United Kingdom", "Latvia", "Norway", "Belgium"])
pledge_ids = st.one_of(st.none(), st.just(3), st.integers(1, 40))
days = st.integers(min_value=0, max_value=400).map(lambda n: dt.date(2024, 2, 1) + dt.timedelta(days=n))
earmark_or_free = st.sampled_from([*EARMARKS, "unallocated"])

operations = st.one_of(
    st.tuples(st.just("join"), st.sampled_from(MEMBERS), days),
    st.tuples(st.just("apply"), st.sampled_from(MEMBERS), days),
    st.tuples(st.just("approve"), st.sampled_from(MEMBERS), st.sampled_from(MEMBERS), days),
    st.tuples(
        st.just("pledge"), members, amounts, st.lists(st.tuples(st.sampled_from(EARMARKS), amounts), max_size=2), days
    ),
    st.tuples(st.just("contribute"), members, amounts, pledge_ids, days),
    st.tuples(st.just("contribute"), members, amounts, pledge_ids, days),
    st.tuples(st.just("earmark"), st.sampled_from(EARMARKS), amounts, earmark_or_free, days),
    st.tuples(st.just("package"), st.sampled_from(PACKAGES), amounts, earmark_or_free, days),
    st.tuples(st.just("pay"), st.sampled_from(PACKAGES), amounts, days),
    st.tuples(st.just("reverse"), st.integers(1, 30), days),
)


# Every run starts from two members and some cash, so most random operations have something to act on.
PRELUDE = [
    ("join", "United Kingdom", dt.date(2024, 2, 1)),
    ("join", "Latvia", dt.date(2024, 2, 1)),
    ("pledge", "Latvia", "30M", [("drones", "20M"), ("industrial-cooperation", "10M")], dt.date(2024, 3, 1)),
    ("contribute", "United Kingdom", "10M", None, dt.date(2024, 3, 1)),
]


def _build(op):
    kind = op[0]
    note = fund.Note(op[-1], memo=f"random {kind}")
    if kind == "join":
        return lambda b: fund.join(b, op[1], "member", note)
    if kind == "apply":
        return lambda b: fund.apply(b, op[1], note)
    if kind == "approve":
        return lambda b: fund.approve(b, op[1], note, by=op[2])
    if kind == "pledge":
        splits = [f"{e}={a}" for e, a in op[3]]
        return lambda b: fund.pledge(b, op[1], op[2], 2025, splits, note)
    if kind == "contribute":
        return lambda b: fund.contribute(b, op[1], op[2], note, pledge_id=op[3])
    if kind == "earmark":
        return lambda b: fund.earmark(b, op[1], op[2], note, source=op[3])
    if kind == "package":
        return lambda b: fund.package(b, op[1], op[2], [op[3]], note)
    if kind == "pay":
        return lambda b: fund.pay(b, op[1], op[2], note)
    return lambda b: fund.reverse(b, op[1], "random reversal", note)


def _check_identities(books):
    for entry in books.entries:
        assert sum((p.amount for p in entry.postings), ZERO) == 0, f"entry #{entry.id} does not balance"
    for account, amount in books.balances.items():
        if account.startswith("assets:"):
            assert amount >= 0, f"{account} is {amount}"
    # No envelope is negative on any day, not only today.
    for day in sorted({e.date for e in books.entries}):
        past = fold.as_of(books, day)
        assert all(v >= 0 for a, v in past.balances.items() if a.startswith("assets:")), f"negative on {day}"
    unallocated = books.balance(model.UNALLOCATED)
    earmarked = books.subtotal(model.EARMARKED)
    committed = books.subtotal(model.COMMITTED)
    cash = books.subtotal("assets:fund")
    contributions = -books.subtotal("income:contributions")
    outstanding = books.subtotal(model.RECEIVABLE)
    paid = books.subtotal("expenses:packages")
    received = contributions - outstanding
    assert cash == unallocated + earmarked + committed == received - paid
    assert outstanding == sum((p.total_outstanding for p in books.pledges.values()), ZERO)
    for package in books.packages.values():
        assert package.remaining == books.balance(model.committed(package.name))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=5, max_size=40))
def test_random_operations_keep_the_books_sound(ops):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fund"
        ledger = journal.init(path, "Property fund", "EUR")
        recorded = 0
        for op in PRELUDE + ops:
            before = snapshot(path)
            try:
                writer.record(ledger, _build(op))
                recorded += 1
            except LedgerError:
                assert snapshot(path) == before, f"{op} was refused but changed the files"
        books = journal.load(ledger)  # reloading re-checks every rule and the chain
        assert books.last_id == recorded
        event(f"recorded {min(recorded // 5 * 5, 25)}+ entries")
        _check_identities(books)


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(st.lists(operations, min_size=5, max_size=25))
def test_reloading_gives_the_writers_balances(ops):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fund"
        ledger = journal.init(path, "Property fund", "EUR")
        from ledger.books import Books

        mine = Books("EUR")
        for op in PRELUDE + ops:
            try:
                entry = writer.record(ledger, _build(op)).entry
            except LedgerError:
                continue
            fold.fold(mine, entry)
        assert dict(journal.load(ledger).balances) == dict(mine.balances)
        assert all(isinstance(v, Decimal) for v in mine.balances.values())
