"""The indexes give a register exactly the rows a scan of every entry gives, on random ledgers and filters."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import fund, journal, model, reports, writer
from ledger.books import ZERO, Books
from ledger.errors import LedgerError, Refused

from test_properties import EARMARKS, MEMBERS, PACKAGES, PRELUDE, _build, days
from test_properties import operations as money_operations

SUPPLIERS = ["Baltic Drone Tech", "Fjord Drone Works AS"]
procurement = st.one_of(
    st.tuples(st.just("supplier"), st.sampled_from(SUPPLIERS), days),
    st.tuples(st.just("contract"), st.sampled_from(PACKAGES), st.sampled_from(SUPPLIERS),
              st.sampled_from(["c1", "c2", "c3"]), days),
    st.tuples(st.just("pay-contract"), st.sampled_from(PACKAGES), st.sampled_from(["c1", "c2", "c3"]), days),
    st.tuples(st.just("pay-supplier"), st.sampled_from(PACKAGES), st.sampled_from(SUPPLIERS), days),
)  # fmt: skip
operations = st.one_of(money_operations, money_operations, procurement)

ACCOUNTS = ["assets", "assets:fund", "assets:fund:earmarked", "assets:fund:earmarked:drones", "assets:receivable",
            "assets:fund:committed:p1", "assets:fund:unallocated", "expenses", "income"]  # fmt: skip
KINDS = ["pledge", "contribute", "earmark", "package", "pay", "reverse", "join", "contract"]


def _maybe(values):
    return st.one_of(st.none(), st.sampled_from(values))


periods = st.one_of(
    st.none(),
    st.tuples(st.one_of(st.none(), days), st.one_of(st.none(), days)).map(
        lambda ends: reports.Period(*sorted(ends, key=lambda d: d or dt.date.min)) if any(ends) else None
    ),
)
filters = st.builds(
    reports.RegisterFilter,
    account=_maybe(ACCOUNTS),
    member=_maybe([*MEMBERS, "latvia"]),
    earmark=_maybe(EARMARKS),
    package=_maybe(PACKAGES),
    kind=_maybe(KINDS),
    supplier=_maybe([*SUPPLIERS, "baltic  drone tech"]),
)


def _step(op):
    """A builder for one random operation (the procurement ones here, the rest as test_properties builds them)."""
    kind, note = op[0], fund.Note(op[-1], memo=f"random {op[0]}")
    if kind == "supplier":
        return lambda b: fund.supplier(b, op[1], "LV", note)
    if kind == "contract":
        return lambda b: fund.contract(b, op[1], op[2], "1M", op[3], note)
    if kind == "pay-contract":
        return lambda b: fund.pay(b, op[1], "100k", note, contract=op[2])
    if kind == "pay-supplier":
        return lambda b: fund.pay(b, op[1], "50k", note, supplier=op[2])
    return _build(op)


def _books(ops) -> Books:
    """Books of the operations that the rules take, in memory."""
    books = Books("EUR", "Index fund")
    for op in PRELUDE + ops:
        try:
            writer.seal(books, [_step(op)(books)])
        except LedgerError:
            continue
    return books


@contextlib.contextmanager
def read_in_two(entries: list, cut: int) -> Iterator[tuple[journal.Ledger, Books, Books]]:
    """A ledger of `entries` in a temporary folder, read with the cache twice: once with the first `cut` of them
    written (a first read), then with the rest appended (the cache, and the entries since)."""
    with tempfile.TemporaryDirectory() as folder:
        ledger = journal.init(Path(folder) / "fund", "Index fund", "EUR")
        target = ledger.journal_dir / "2024-0001.toml"
        target.write_bytes(journal.joined(b"", entries[:cut]))
        first = journal.load(ledger, use_cache=True)
        target.write_bytes(journal.joined(target.read_bytes(), entries[cut:]))
        yield ledger, first, journal.load(ledger, use_cache=True)


def _by_scan(books: Books, spec: reports.RegisterFilter, period: reports.Period | None) -> dict:
    """The register as it was computed before the indexes: the books replayed to the period's end, every entry read."""
    closing = reports.closing_books(books, period)
    if period is not None:
        spec = dataclasses.replace(spec, start=period.start, end=period.end)
    ids = reports.selected(closing, spec)
    running, opening = ZERO, None
    if spec.account and spec.start:
        running = sum(
            (reports._change(e, spec.account) for e in closing.entries if e.id in ids and e.date < spec.start), ZERO
        )
        opening = {"date": spec.start, "running_balance": running}
    rows = []
    for entry in sorted(closing.entries, key=lambda e: (e.date, e.id)):
        if entry.id not in ids or not spec.within(entry):
            continue
        row = {**model.to_json(entry), **reports._register_fields(closing, entry)}
        if spec.account:
            running += reports._change(entry, spec.account)
            row["change"], row["running_balance"] = reports._change(entry, spec.account), running
        rows.append(row)
    moving = [row for row in rows if row["amount"] is not None]
    kinds = {closing.entry(row["reverses"]).kind if row["reverses"] else row["kind"] for row in moving}
    totals = {"amount": sum((r["amount"] for r in moving), ZERO)} if len(kinds) == 1 and not spec.account else {}
    return {"rows": rows, "opening": opening, "totals": totals, "seal": closing.seal, "entries": closing.count}


def _indexed(books: Books, spec: reports.RegisterFilter, period: reports.Period | None) -> dict | None:
    try:
        report = reports.register_report(books, spec, period=period)
    except LedgerError:  # a supplier the books do not know: refused, as the scan would be
        return None
    return {"rows": list(report.rows), "opening": report.opening, "totals": report.totals, "seal": report.seal,
            "entries": report.entries}  # fmt: skip


def _assert_same(books: Books, spec: reports.RegisterFilter, period: reports.Period | None) -> None:
    indexed = _indexed(books, spec, period)
    if indexed is None:
        assert spec.supplier and books.supplier(spec.supplier) is None
        return
    assert indexed == _by_scan(books, spec, period)


class TestIndexedRegister:
    """A register read through the indexes equals one read by scanning every entry."""

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=5, max_size=45), st.lists(st.tuples(filters, periods), min_size=1, max_size=6))
    def test_in_memory(self, ops, asked):
        books = _books(ops)
        for spec, period in asked:
            _assert_same(books, spec, period)

    @pytest.mark.slow
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=5, max_size=40), st.integers(0, 40), st.lists(st.tuples(filters, periods), min_size=1, max_size=4))
    def test_read_from_the_journal_and_the_cache(self, ops, cut, asked):
        """Books read from the journal, then from the cache with entries appended since (notes not yet indexed)."""
        held = _books(ops)
        with read_in_two(held.entries, cut) as (_, first, books):
            assert first.count == min(cut, len(held.entries))
            assert books.count == len(held.entries)
            for spec, period in asked:
                assert _indexed(books, spec, period) == _indexed(held, spec, period)
                _assert_same(books, spec, period)

    def test_a_backdated_entry_is_listed_by_its_date(self):
        """A payment recorded after a reversed one but dated before it comes first, and alone in its month."""
        may, april = dt.date(2024, 5, 10), dt.date(2024, 4, 20)
        ops = [
            ("earmark", "drones", "3M", "unallocated", dt.date(2024, 3, 2)),
            ("package", "p1", "2M", "drones", dt.date(2024, 3, 3)),
            ("pay", "p1", "1M", may),
        ]
        books = _books(ops)
        paid = books.last_id
        writer.seal(books, [fund.reverse(books, paid, "twice", fund.Note(may + dt.timedelta(days=2)))])
        writer.seal(books, [fund.pay(books, "p1", "1k", fund.Note(april))])
        spec = reports.RegisterFilter(package="p1")
        assert [row["id"] for row in reports.register_report(books, spec).rows] == [paid - 1, paid + 2, paid, paid + 1]
        april_only = reports.Period(dt.date(2024, 4, 1), dt.date(2024, 4, 30))
        assert [row["id"] for row in reports.register_report(books, spec, period=april_only).rows] == [paid + 2]
        for period in (april_only, reports.Period(dt.date(2024, 5, 1), dt.date(2024, 5, 11)), None):
            _assert_same(books, spec, period)
            _assert_same(books, reports.RegisterFilter(account="assets:fund:committed:p1"), period)


def _balances_by_scan(books: Books, day: dt.date) -> tuple[dict, str]:
    """Every account's balance at the end of `day` and the last hash by then, from every entry (the oracle)."""
    balances: dict = {}
    seal = model.GENESIS
    for entry in books.entries:
        if entry.date <= day:
            seal = entry.hash
            for posting in entry.postings:
                balances[posting.account] = balances.get(posting.account, ZERO) + posting.amount
    return {account: amount for account, amount in sorted(balances.items()) if amount}, seal


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=5, max_size=45), st.lists(days, min_size=1, max_size=5))
def test_balances_on_a_day_from_the_index_are_a_scan_s(ops, asked):
    """What a close holds (balances_on) comes from monthly totals and one month's entries: as a scan gives it,
    backdated entries and reversals included, on any day (before the first entry and after the last too)."""
    books = _books(ops)
    for day in [*asked, dt.date(2000, 1, 1), dt.date(2100, 1, 1), *(e.date for e in books.entries[-3:])]:
        assert books.balances_on(day) == _balances_by_scan(books, day), day


def _statement_by_scan(books: Books, member: str, period: reports.Period | None) -> tuple[list[int], dict]:
    """The ids a statement lists and what the member's receipts put in each earmark, reading every entry (the oracle):
    every entry of the member's up to the period's end (with reversals), those from its start that move money."""
    closing = reports.closing_books(books, period)
    ids = reports.selected(closing, reports.RegisterFilter(member=member))
    start = period.start if period else None
    lines = [e.id for e in sorted(closing.entries, key=lambda e: (e.date, e.id))
             if e.id in ids and e.postings and (start is None or e.date >= start)]  # fmt: skip
    earmarked: dict = {}
    for entry in closing.entries:
        if entry.id in ids and entry.kind == "contribute" and entry.id not in closing.reversed_by:
            for p in entry.postings:
                if p.account.startswith(model.EARMARKED + ":"):
                    earmark = p.account.rsplit(":", 1)[1]
                    earmarked[earmark] = earmarked.get(earmark, ZERO) + p.amount
    return lines, dict(sorted(earmarked.items()))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=5, max_size=45), st.lists(st.tuples(st.sampled_from(MEMBERS), periods),
                                                               min_size=1, max_size=4))
@example(  # Latvia's receipt into its pledge's earmarks (entry 5), one more, then the first reversed
    [("contribute", "Latvia", "5M", 3, dt.date(2024, 4, 1)), ("contribute", "Latvia", "1M", 3, dt.date(2024, 4, 2)),
     ("reverse", 5, dt.date(2024, 5, 1))],
    [("Latvia", None), ("Latvia", reports.Period(dt.date(2024, 4, 2), None))],
)
def test_a_statement_reads_only_its_period_and_lists_what_a_scan_does(ops, asked):
    """A statement reads the member's entries of its period through the index, and takes what its receipts put in
    each earmark from the books: the same lines and figures as reading every entry, reversals included."""
    books = _books(ops)
    for member, period in asked:
        if books.member(member) is None:
            continue
        if reports.closing_books(books, period).member(member) is None:  # it joined after the period
            with pytest.raises(Refused, match="is not in the books by"):
                reports.statement_report(books, member, period=period)
            continue
        statement = reports.statement_report(books, member, period=period)
        assert ([line["id"] for line in statement.lines], statement.earmarked) == _statement_by_scan(books, member, period)
