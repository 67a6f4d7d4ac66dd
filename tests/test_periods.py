"""Reports for a period: opening, flows during it, closing; figures computed by hand first.

The year below crosses its boundaries on purpose: a pledge on the last day
of 2024, a receipt against it on the first day of 2025, a 2024 receipt
reversed in 2025, a receipt in pounds on the last day of a quarter, and
payments on the last day of 2025 and the first of 2026.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import fold, journal, reports
from ledger.books import ZERO, Books
from ledger.errors import LedgerError

from conftest import Runner, recorded
from test_properties import PRELUDE, _build, operations

D = Decimal
M = D(1_000_000)

YEAR = [
    "member join Latvia --date 2024-02-01",  # 1
    'member join "United Kingdom" --date 2024-02-01',  # 2
    "member join Belgium --date 2024-02-01",  # 3
    "rate GBP 1.2000 --date 2024-12-01",  # 4
    "contribute Belgium 10M --date 2024-12-20",  # 5: reversed in 2025 (#9)
    "pledge Latvia 6M --year 2025 --split drones=6M --date 2024-12-31",  # 6: the last day of 2024
    "contribute Latvia 6M --pledge 6 --date 2025-01-01",  # 7: the first day of 2025
    'contribute "United Kingdom" £1M --date 2025-03-31',  # 8: £1,000,000.00 x 1.2000 = €1,200,000.00, Q1's last day
    'reverse 5 --reason "returned by the bank" --date 2025-02-15',  # 9: a 2024 receipt undone in 2025
    "package kit 4M --envelope drones --date 2025-06-30",  # 10
    "pay kit 1.5M --date 2025-12-31",  # 11: the last day of 2025
    "pay kit 1M --date 2026-01-01",  # 12: the first day of 2026
]


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Runner:
    return recorded(tmp_path_factory.mktemp("year") / "fund", YEAR)


@pytest.fixture(scope="module")
def books(year) -> Books:
    return journal.load(journal.open_ledger(year.path))


def period(text: str) -> reports.Period:
    return reports.parse_period(text)


class TestParsing:
    """Every way of naming a period gives its first and last day."""

    @pytest.mark.parametrize(
        ("text", "start", "end", "label"),
        [
            ("2025", "2025-01-01", "2025-12-31", "2025"),
            ("2025Q2", "2025-04-01", "2025-06-30", "2025Q2"),
            ("2025q4", "2025-10-01", "2025-12-31", "2025Q4"),
            ("2024-02", "2024-02-01", "2024-02-29", "2024-02"),
            ("2025-12", "2025-12-01", "2025-12-31", "2025-12"),
            ("2025-01-01..2025-06-30", "2025-01-01", "2025-06-30", "2025H1"),
            ("2025-03-05..", "2025-03-05", None, "2025-03-05 to today"),
            ("..2025-03-05", None, "2025-03-05", "the beginning to 2025-03-05"),
        ],
    )
    def test_periods(self, text, start, end, label):
        p = period(text)
        assert (p.start and p.start.isoformat(), p.end and p.end.isoformat()) == (start, end)
        if label != "2025H1":
            assert p.label() == label

    @pytest.mark.parametrize("text", ["2025Q5", "25", "2025-13", "2025-06-30..2025-01-01", "..", "last year"])
    def test_refused(self, text):
        with pytest.raises(ValueError, match="period"):
            period(text)


class TestYear:
    """The figures of the year above, worked out by hand."""

    def test_summary_opening_movements_closing(self, books):
        s = reports.summary_report(books, period=period("2025"))
        # Opening (end of 2024): Belgium's 10M received and Latvia's 6M pledged, nothing spent.
        assert s.opening["contributions"] == 16 * M and s.opening["received"] == 10 * M
        assert s.opening["outstanding"] == 6 * M and s.opening["unallocated"] == 10 * M
        # Closing (end of 2025): Latvia 6M + £1M at 1.2 = 7.2M received; 4M committed to kit, 1.5M of it paid.
        assert (s.contributions, s.received, s.outstanding) == (D("7200000.00"), D("7200000.00"), 0)
        assert (s.unallocated, s.earmarked, s.committed, s.paid) == (D("1200000"), 2 * M, D("2500000"), D("1500000"))
        assert s.cash == D("5700000.00") == s.unallocated + s.earmarked + s.committed
        # Movements: closing - opening, the reversal of 2024's receipt counted in 2025.
        assert s.movements["received"] == D("-2800000.00")
        assert s.movements["contributions"] == D("-8800000.00")
        assert s.movements["paid"] == D("1500000.00")
        assert all(s.opening[k] + s.movements[k] == getattr(s, k) for k in reports.HEADLINES)
        assert s.as_of == dt.date(2025, 12, 31) and s.entries == 11  # the 2026 payment is not in it

    def test_contributors(self, books):
        rows = {r["member"]: r for r in reports.contributors_report(books, period=period("2025")).rows}
        latvia = rows["Latvia"]
        assert (latvia["outstanding_opening"], latvia["pledged"], latvia["received"], latvia["outstanding"]) == (
            6 * M, 0, 6 * M, 0)  # fmt: skip
        assert rows["United Kingdom"]["received"] == D("1200000.00")
        assert rows["Belgium"]["received"] == -10 * M  # the reversal is dated in 2025
        assert all(r["share"] is None for r in rows.values())  # less was received than taken back: no shares
        in_2024 = {r["member"]: r for r in reports.contributors_report(books, period=period("2024")).rows}
        assert in_2024["Latvia"]["pledged"] == 6 * M and in_2024["Latvia"]["received"] == 0  # 1 Jan is 2025's
        assert in_2024["Belgium"]["received"] == 10 * M and in_2024["Belgium"]["share"] == D("100.00")

    def test_original_currencies_in_a_period(self, books):
        q1 = {r["member"]: r for r in reports.contributors_report(books, original=True, period=period("2025Q1")).rows}
        assert q1["United Kingdom"]["given_as"] == {"GBP": D("1000000.00")}
        assert q1["Belgium"]["given_as"] == {"EUR": -10 * M}  # the 2024 receipt, taken back in Q1
        assert q1["Latvia"]["given_as"] == {"EUR": 6 * M}

    def test_a_receipt_in_pounds_on_the_last_day_of_a_quarter(self, books):
        q1 = {r["member"]: r for r in reports.contributors_report(books, period=period("2025Q1")).rows}
        assert q1["United Kingdom"]["received"] == D("1200000.00")
        q2 = {r["member"]: r for r in reports.contributors_report(books, period=period("2025Q2")).rows}
        assert "United Kingdom" not in q2  # nothing owed, pledged or given in Q2

    def test_earmarks(self, books):
        (drones,) = reports.earmarks_report(books, period=period("2025")).rows
        assert (drones["opening"], drones["allocated"], drones["committed"], drones["paid"], drones["available"]) == (
            0, 6 * M, D("2500000"), D("1500000"), 2 * M)  # fmt: skip

    def test_packages(self, books):
        (kit,) = reports.packages_report(books, period=period("2025")).rows
        assert (kit["opening"], kit["amount"], kit["paid"], kit["remaining"]) == (0, 4 * M, D("1500000"), D("2500000"))
        (kit,) = reports.packages_report(books, period=period("2026")).rows
        assert (kit["opening"], kit["amount"], kit["paid"], kit["remaining"]) == (D("2500000"), 0, M, D("1500000"))

    def test_balance(self, books):
        rows = {r["account"]: r for r in reports.balance_report(books, period=period("2025Q1")).rows}
        cash = rows["assets:fund:unallocated"]
        assert (cash["opening"], cash["change"], cash["balance"]) == (10 * M, D("-8800000.00"), D("1200000.00"))
        assert rows["income:contributions:belgium"]["change"] == 10 * M  # the reversal takes back the credit

    def test_register_opens_with_the_true_balance(self, books):
        spec = reports.RegisterFilter(account="assets:fund:unallocated")
        report = reports.register_report(books, spec, period=period("2025"))
        assert report.opening["running_balance"] == 10 * M
        assert [(r["id"], r["change"], r["running_balance"]) for r in report.rows] == [
            (9, -10 * M, 0),
            (8, D("1200000.00"), D("1200000.00")),
        ]

    def test_the_register_json_carries_the_period(self, year):
        data = year.json("report register --account assets:fund:unallocated --period 2025")
        assert (data["from"], data["to"], data["opening"]["running_balance"]) == (
            "2025-01-01",
            "2025-12-31",
            "10000000.00",
        )
        summary = year.json("report summary --from 2025-01-01 --to 2025-12-31")
        assert summary["from"] == "2025-01-01" and summary["movements"]["received"] == "-2800000.00"
        assert summary["opening"]["outstanding"] == "6000000.00" and summary["paid"] == "1500000.00"


class TestColumns:
    """--yearly, --quarterly, --monthly: a column per period, the last one the whole period's."""

    def test_contributors_by_quarter(self, books):
        report = reports.by_period_report(books, "contributors", "quarterly", period("2025"))
        assert [c.key for c in report.columns] == ["member", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "total"]
        rows = {r["member"]: r for r in report.rows}
        assert rows["Belgium"]["2025Q1"] == -10 * M and rows["Belgium"]["total"] == -10 * M
        assert rows["United Kingdom"]["2025Q1"] == D("1200000.00") and rows["United Kingdom"]["2025Q2"] == 0
        assert report.totals["total"] == D("-2800000.00")

    def test_packages_paid_by_year(self, books):
        report = reports.by_period_report(books, "packages", "yearly")  # the first entry's day to the last's
        (kit,) = report.rows
        assert (kit["2024"], kit["2025"], kit["2026"], kit["total"]) == (0, D("1500000"), M, D("2500000"))
        assert report.spans[0].start == dt.date(2024, 2, 1) and report.spans[-1].end == dt.date(2026, 1, 1)

    def test_json_names_each_column_s_days(self, year):
        data = year.json("balance --monthly --period 2025Q1")
        assert [p["column"] for p in data["periods"]] == ["2025-01", "2025-02", "2025-03"]
        assert data["periods"][1] == {"column": "2025-02", "from": "2025-02-01", "to": "2025-02-28"}
        row = next(r for r in data["rows"] if r["account"] == "assets:fund:unallocated")
        assert (row["2025-01"], row["2025-02"], row["2025-03"], row["total"]) == (
            "0.00", "-10000000.00", "1200000.00", "-8800000.00")  # fmt: skip

    def test_only_where_it_has_a_meaning(self, year):
        result = year("report members --monthly", ok=False)
        assert result.exit_code == 2 and "only balance, contributors, earmarks and packages take it" in result.stderr


class TestReversalsFollow:
    """A filter that selects an entry selects its reversal, signed the other way (issue 14, item 1)."""

    def test_a_member_filter_shows_the_reversal(self, books):
        rows = reports.register_report(books, reports.RegisterFilter(member="Belgium", kind="contribute")).rows
        assert [(r["id"], r["amount"], r["reverses"], r["reversed_by"]) for r in rows] == [
            (5, 10 * M, None, 9),
            (9, -10 * M, 5, None),
        ]
        received = {r["member"]: r["received"] for r in reports.contributors_report(books).rows}
        assert sum(r["amount"] for r in rows) == received["Belgium"] == 0

    def test_a_register_of_one_kind_has_the_books_total(self, books, year):
        pay = reports.register_report(books, reports.RegisterFilter(package="kit", kind="pay"))
        assert pay.totals == {"amount": D("2500000.00")}  # = the packages report's paid
        belgium = year.json("report register --member Belgium --kind contribute")
        assert belgium["totals"] == {"amount": "0.00"}  # 10M received, 10M reversed
        assert not reports.register_report(books, reports.RegisterFilter(member="Latvia")).totals  # pledge + receipt

    def test_a_period_counts_the_reversal_where_it_is_dated(self, books):
        rows = reports.register_report(books, reports.RegisterFilter(member="Belgium"), period=period("2025")).rows
        assert [(r["id"], r["amount"]) for r in rows] == [(9, -10 * M)]

    def test_kind_reverse_shows_what_each_reverses(self, books):
        rows = reports.register_report(books, reports.RegisterFilter(kind="reverse")).rows
        assert [r["id"] for r in rows] == [5, 9]

    def test_csv_has_the_signed_amount(self, year):
        lines = year("report register --member Belgium --csv").stdout.splitlines()
        header = lines[0].split(",")
        amounts = [line.split(",")[header.index("amount")] for line in lines[1:]]
        assert amounts == ["", "10000000.00", "-10000000.00"]  # the join moves no money


class TestOptions:
    """An option a report does not take is refused (exit 2), never ignored."""

    @pytest.mark.parametrize(
        ("command", "says"),
        [
            ("report packages --member Latvia", "report packages does not take --member: only register and funding take it"),
            ("report contributors --year 2025", "only pledges takes it; for one year of a report, use --period YEAR"),
            ("report members --period 2025", "report members does not take --period: only summary, balance,"),
            ("report pledges --from 2025-01-01", "report pledges does not take --from"),
            ("report summary --original", "report summary does not take --original: only contributors takes it"),
            ("report summary --period 2025 --from 2025-01-01", "give either --period or --from/--to"),
            ("report summary --period 2025 --as-of 2025-06-30", "with a period, end it with --to"),
            ("report summary --period 2025Q5", "period '2025Q5' is not one"),
            ("report summary --from 2025-06-01 --to 2025-01-01", "is before --from"),
            ("report contributors --json --wide", "--wide is for tables"),
        ],
    )
    def test_refused(self, year, command, says):
        result = year(command, ok=False)
        assert result.exit_code == 2, result.output
        assert says in " ".join(result.stderr.split())

    def test_balance_command_takes_a_period(self, year):
        data = year.json("balance --period 2025Q1")
        row = next(r for r in data["rows"] if r["account"] == "assets:fund:unallocated")
        assert (row["opening"], row["change"], row["balance"]) == ("10000000.00", "-8800000.00", "1200000.00")


# --- properties over random ledgers ------------------------------------------

days = st.integers(min_value=0, max_value=400).map(lambda n: dt.date(2024, 2, 1) + dt.timedelta(days=n))


def _random_books(ops) -> Books:
    """Books built in memory from random operations, those the rules refuse left out."""
    books = Books("EUR", "Random fund")
    for op in PRELUDE + ops:
        try:
            entry = _build(op)(books).sealed(books.last_id + 1, books.seal)
            fold.fold(books, entry)
        except LedgerError:
            continue
    return books


def _sum(rows, key="amount"):
    return sum((r[key] for r in rows if r[key] is not None), ZERO)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=5, max_size=30), days, days)
def test_filtered_registers_add_up_to_the_reports(ops, first, second):
    books = _random_books(ops)
    contributors = {r["member"]: r for r in reports.contributors_report(books).rows}
    for member, row in contributors.items():
        for kind, key in (("contribute", "received"), ("pledge", "pledged")):
            rows = reports.register_report(books, reports.RegisterFilter(member=member, kind=kind)).rows
            assert _sum(rows) == row[key], (member, kind)
    for row in reports.packages_report(books).rows:
        rows = reports.register_report(books, reports.RegisterFilter(package=row["package"], kind="pay")).rows
        assert _sum(rows) == row["paid"], row["package"]
    for row in reports.earmarks_report(books).rows:
        spec = reports.RegisterFilter(account=f"assets:fund:earmarked:{row['earmark']}")
        assert _sum(reports.register_report(books, spec).rows, "change") == row["available"], row["earmark"]
    span = reports.Period(min(first, second), max(first, second))
    closing = fold.as_of(books, span.end)
    for account in list(books.balances):
        report = reports.register_report(books, reports.RegisterFilter(account=account), period=span)
        opening = report.opening["running_balance"]
        assert opening + _sum(report.rows, "change") == closing.subtotal(account), account
        if report.rows:
            assert report.rows[-1]["running_balance"] == closing.subtotal(account)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, min_size=5, max_size=30), days, days, days)
def test_opening_plus_movements_is_closing_and_periods_add_up(ops, first, middle, last):
    books = _random_books(ops)
    start, split, end = sorted([first, middle, last])
    whole = reports.Period(start, end)
    rows = reports.balance_report(books, period=whole).rows
    closing = reports.balance_report(fold.as_of(books, end)).rows
    assert {r["account"]: r["balance"] for r in rows if r["balance"]} == {
        r["account"]: r["balance"] for r in closing if r["balance"]
    }
    for row in rows:
        assert row["opening"] + row["change"] == row["balance"], row["account"]
    # Two periods back to back move what the whole moves.
    parts = [reports.Period(start, split), reports.Period(split + dt.timedelta(days=1), end)]
    if parts[1].start <= end:
        changes = [{r["account"]: r["change"] for r in reports.balance_report(books, period=p).rows} for p in parts]
        for row in rows:
            assert sum((c.get(row["account"], ZERO) for c in changes), ZERO) == row["change"], row["account"]
        summaries = [reports.summary_report(books, period=p) for p in (whole, *parts)]
        for key in reports.HEADLINES:
            assert summaries[1].movements[key] + summaries[2].movements[key] == summaries[0].movements[key], key


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(operations, min_size=5, max_size=25), st.sampled_from(["balance", "contributors", "earmarks", "packages"])
)
def test_monthly_columns_add_up_to_the_year(ops, name):
    books = _random_books(ops)
    year = reports.Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    monthly = reports.by_period_report(books, name, "monthly", year)
    yearly = reports.by_period_report(books, name, "yearly", year)
    key = monthly.columns[0].key
    assert len(monthly.columns) == 14  # the key, twelve months, the total
    by_year = {r[key]: r["2024"] for r in yearly.rows}
    for row in monthly.rows:
        months = [row[c.key] for c in monthly.columns[1:-1]]
        assert sum(months, ZERO) == row["total"] == by_year[row[key]], row[key]
