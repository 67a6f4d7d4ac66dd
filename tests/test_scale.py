"""A fund of many members, earmarks, contracts or suppliers is read and shown without slowing down with its size."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import fund, model, render, reports, writer
from ledger.books import Books

from test_index import _books, operations

DAY = dt.date(2024, 2, 1)


def _with_earmarks(count: int) -> Books:
    """Books with `count` earmarks of growing size (envelope-001 the smallest)."""
    books = Books("EUR", "Many envelopes")
    writer.seal(books, [fund.join(books, "Latvia", "member", fund.Note(DAY))])
    writer.seal(books, [fund.contribute(books, "Latvia", "10M", fund.Note(DAY))])
    for number in range(1, count + 1):
        writer.seal(books, [fund.earmark(books, f"envelope-{number:03d}", f"{number}k", fund.Note(DAY))])
    return books


class TestDashboard:
    """The dashboard lists the largest earmarks and says how many more there are; the data keeps them all."""

    def test_many_earmarks_are_cut_to_the_largest(self):
        books = _with_earmarks(render.DASHBOARD_ROWS + 5)
        summary = reports.summary_report(books)
        text = render.summary_view(summary, 100).plain
        shown = [line.split()[0] for line in text.splitlines() if line.startswith("envelope-")]
        assert shown == [f"envelope-{n:03d}" for n in range(6, render.DASHBOARD_ROWS + 6)]
        assert "… 5 more earmarks" in " ".join(text.split())
        assert len(render.summary_json(summary)["earmarks"]) == render.DASHBOARD_ROWS + 5

    def test_a_few_earmarks_are_all_shown_with_no_note(self):
        summary = reports.summary_report(_with_earmarks(3))
        text = render.summary_view(summary, 100).plain
        assert sum(line.startswith("envelope-") for line in text.splitlines()) == 3
        assert "more earmarks" not in text


class TestLookups:
    """What is found by name is found through a dict, and finds what a scan finds."""

    @settings(max_examples=40, deadline=None)
    @given(st.lists(operations, min_size=5, max_size=40))
    def test_subtotals_in_one_pass_are_each_subtotal(self, ops):
        books = _books(ops)
        totals = books.subtotals()
        prefixes = {account[:end] for account in books.balances for end in range(1, len(account) + 1)}
        for prefix in prefixes:
            assert totals.get(prefix, 0) == books.subtotal(prefix)

    @settings(max_examples=40, deadline=None)
    @given(st.lists(operations, min_size=5, max_size=40))
    def test_contracts_and_suppliers_by_any_spelling(self, ops):
        books = _books(ops)
        for contract in books.contracts.values():
            assert books.contract(contract.ref.upper()) is contract
        for supplier in books.suppliers.values():
            assert books.supplier("  " + supplier.name.lower().replace(" ", "   ")) is supplier
        assert books.contract("no-such-contract") is None and books.supplier("Nobody AS") is None

    def test_members_by_slug(self):
        books = Books("EUR")
        names = [f"Member {a}{b}" for a in "abcdefghijklmnopq" for b in "abcdefghijklmnopq"]
        for name in names:
            writer.seal(books, [fund.join(books, name, "member", fund.Note(DAY))])
        assert books.member("member  ab".replace("  ", " ")).name == "Member ab"
        assert books.member(model.slug("Member qq")).name == "Member qq"
        assert len(books.members) == len(names) == len(books.slugs)
