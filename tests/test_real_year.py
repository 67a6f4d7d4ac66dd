"""A real year of a fund (issue 15): interest, charges, a fee, a written-off remainder in pounds, a package
increased then closed under budget, the duplicate-invoice guard, due dates, and a period closed for good.

Every figure below is computed by hand in the comments, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from ledger import fold, journal

from conftest import Runner, built_once, copy_ledger, new_ledger, snapshot
from test_export import _need, beancount_balances, hledger_balances

YEAR = [
    "member join Latvia --date 2025-01-01",  # 1
    'member join "United Kingdom" --date 2025-01-01',  # 2
    "rate GBP 1.1850 --date 2025-01-01",  # 3
    # 4: £10,000 at 1.1850 = €11,850.00 receivable
    'pledge "United Kingdom" £10,000 --year 2025 --date 2025-01-10 --due 2025-06-30',
    # 5: £9,975 at 1.1850 = €11,820.375, half to even €11,820.38; it relieves €11,850 × 9,975/10,000 = €11,820.38
    'contribute "United Kingdom" £9,975 --pledge 4 --date 2025-02-01',
    "contribute Latvia 100k --date 2025-02-01",  # 6
    "earmark drones 60k --date 2025-02-02",  # 7
    "package radios 50k --envelope drones=30k --envelope unallocated --date 2025-03-01",  # 8: drones 30k, unallocated 20k
    'interest 123.45 --date 2025-03-31 --memo "Q1 interest"',  # 9
    'charge 25 --envelope drones --date 2025-03-31 --memo "SWIFT fee"',  # 10
    'fee 1,500 --date 2025-06-30 --memo "Administration fee H1"',  # 11
    # 12: £25 left, worth €11,850.00 - €11,820.38 = €29.62 on the receivable
    'write-off 4 --reason "USD 25 bank charge on the way" --date 2025-07-01',
    'amend radios +10k --envelope drones --reason "Two more launchers" --date 2025-07-02',  # 13: drones 40k, unalloc. 20k
    'pay radios 45k --supplier ACME --invoice R-1 --date 2025-08-01',  # 14
    # 15: €15,000 not paid goes back 40:20, drones €10,000 and unallocated €5,000
    'amend radios --close --reason "Came in under budget" --date 2025-09-01',
]

# By hand. unallocated: 11,820.38 + 100,000 - 60,000 - 20,000 + 123.45 - 1,500 + 5,000 = 35,443.83;
# drones: 60,000 - 30,000 - 25 - 10,000 + 10,000 = 29,975.00; cash 65,418.83 = received 111,820.38
# + interest 123.45 - paid 45,000 - charge 25 - fee 1,500.
BALANCES = {
    "assets:fund:unallocated": "35443.83",
    "assets:fund:earmarked:drones": "29975.00",
    "income:contributions:latvia": "-100000.00",
    "income:contributions:united-kingdom": "-11850.00",
    "income:interest": "-123.45",
    "expenses:bank-charges": "25.00",
    "expenses:management-fee": "1500.00",
    "expenses:packages:radios": "45000.00",
    "expenses:write-offs:united-kingdom": "29.62",
}


def _record_year(folder) -> None:
    run = Runner(new_ledger(folder))
    for command in YEAR:
        run(command)


@pytest.fixture(scope="module")
def year_built(tmp_path_factory, _cache_key_home):
    """The year recorded once for the module; each test gets a copy (`year`)."""
    with built_once(tmp_path_factory, "year", _record_year) as folder:
        yield folder


@pytest.fixture
def year(run, year_built):
    shutil.rmtree(run.path)
    copy_ledger(year_built, run.path)
    return run


def _balances(run) -> dict[str, Decimal]:
    books = journal.load(journal.open_ledger(run.path))
    return {account: amount for account, amount in books.balances.items() if amount}


class TestTheYearByHand:
    def test_every_balance(self, year):
        assert _balances(year) == {account: Decimal(amount) for account, amount in BALANCES.items()}

    def test_the_pledge_shows_what_was_received_and_what_was_written_off(self, year):
        books = journal.load(journal.open_ledger(year.path))
        pledge = books.pledges[4]
        assert pledge.total_original_received == Decimal("9975.00")
        assert pledge.total_original_closed == Decimal("25.00")
        assert pledge.total_outstanding == 0 and pledge.total_original_outstanding == 0
        assert (pledge.closed_by, pledge.withdrawn) == (12, False)

    def test_the_package_keeps_its_original_amount_and_each_amendment(self, year):
        package = journal.load(journal.open_ledger(year.path)).packages["radios"]
        assert (package.original, package.amount, package.paid, package.status) == (
            Decimal("50000.00"), Decimal("45000.00"), Decimal("45000.00"), "closed",
        )  # fmt: skip
        assert [(a.id, a.change, a.sources) for a in package.amendments] == [
            (13, Decimal("10000.00"), {"drones": Decimal("10000.00")}),
            (15, Decimal("-15000.00"), {"drones": Decimal("-10000.00"), "unallocated": Decimal("-5000.00")}),
        ]

    def test_a_withdrawn_remainder_reduces_the_contribution_instead(self, run):
        for command in YEAR[:6]:
            run(command)
        run('write-off 4 --withdrawn --reason "Budget cut" --date 2025-07-01')
        balances = _balances(run)
        # The pledged €11,850.00 less the €29.62 withdrawn: €11,820.38, what was received.
        assert balances["income:contributions:united-kingdom"] == Decimal("-11820.38")
        assert "expenses:write-offs:united-kingdom" not in balances

    def test_a_decrease_gives_back_in_proportion_with_the_leftover_cent_stated(self, run):
        """€100.00 from drones 2:1 unallocated; giving back €0.01 goes to the larger remainder."""
        for command in ["member join Latvia --date 2025-01-01", "contribute Latvia 1000 --date 2025-01-02",
                        "earmark drones 500 --date 2025-01-02",
                        "package p 90 --envelope drones=60 --envelope unallocated=30 --date 2025-01-03"]:  # fmt: skip
            run(command)
        entry = run.json('amend p -0.01 --reason "a cent less" --date 2025-01-04')
        # 0.01 × 60/90 = 0.00667, × 30/90 = 0.00333: both round down to 0, the cent goes to drones (.00667).
        assert {p["account"]: p["amount"] for p in entry["postings"]} == {
            "assets:fund:committed:p": "-0.01",
            "assets:fund:earmarked:drones": "0.01",
        }

    def test_a_reversed_amendment_and_write_off_are_undone(self, year):
        year('reverse 15 --reason "Not closed after all" --date 2025-09-02')
        year('reverse 12 --reason "The charge was refunded" --date 2025-09-02')
        books = journal.load(journal.open_ledger(year.path))
        # 60k committed, 45k paid: the 15k given back is in it again, and it is open.
        assert (books.packages["radios"].status, books.packages["radios"].remaining) == ("open", Decimal("15000.00"))
        assert books.pledges[4].total_original_outstanding == Decimal("25.00") and books.pledges[4].closed_by is None

    def test_the_exports_carry_the_new_entries_to_the_cent(self, year):
        _need("hledger", "apt-get install hledger")
        from ledger import export

        books = journal.load(journal.open_ledger(year.path))
        wanted = {account: Decimal(amount) for account, amount in BALANCES.items()}
        assert hledger_balances(export.export(journal.hold(books), "hledger")) == wanted
        assert beancount_balances(export.export(books, "beancount")) == wanted


class TestChargesOnAPackage:
    def test_a_fee_from_a_package_counts_as_paid_from_it_and_interest_on_it_grows_it(self, year):
        year("package cameras 10k --envelope unallocated --date 2025-10-01")
        year("fee 100 --envelope package:cameras --date 2025-10-02")
        year("interest 7.50 --envelope package:cameras --date 2025-10-03")
        package = journal.load(journal.open_ledger(year.path)).packages["cameras"]
        # amount 10,000 + 7.50; paid 100; what the envelope holds: 10,007.50 - 100 = 9,907.50
        assert (package.amount, package.paid, package.remaining) == (
            Decimal("10007.50"), Decimal("100.00"), Decimal("9907.50"),
        )  # fmt: skip
        assert _balances(year)["assets:fund:committed:cameras"] == package.remaining

    def test_closing_a_package_that_earned_more_than_it_was_given_gives_the_interest_to_unallocated(self, year):
        """Found by the funding property test: the close divided €1.02 among sources that gave €1.01, and failed."""
        before = _balances(year)
        year("package tiny 0.01 --envelope unallocated --date 2025-10-01")
        year("amend tiny +1 --envelope drones --reason more --date 2025-10-02")
        year("interest 0.01 --envelope package:tiny --date 2025-10-03")
        year('amend tiny --close --reason "not needed" --date 2025-10-04')
        after = _balances(year)
        # each source gets back what it gave (drones €1.00, unallocated €0.01); the €0.01 of interest goes to unallocated
        assert after["assets:fund:earmarked:drones"] == before["assets:fund:earmarked:drones"]
        assert after["assets:fund:unallocated"] == before["assets:fund:unallocated"] + Decimal("0.01")
        assert journal.load(journal.open_ledger(year.path)).packages["tiny"].sources == {}


class TestDueDates:
    def test_overdue_in_instalments_earliest_first(self, run):
        run("member join Estonia --date 2025-01-01")
        run("pledge Estonia 10k --year 2025 --instalment 2025-03-31=4k --instalment 2025-06-30=6k --date 2025-01-05")
        run("contribute Estonia 5k --pledge 2 --date 2025-04-10")
        pledge = journal.load(journal.open_ledger(run.path)).pledges[2]
        # By 2025-05-01, 4k fell due and 5k came: nothing overdue.
        assert pledge.overdue(dt.date(2025, 5, 1)) == (Decimal(0), None)
        # By 2025-07-01, all 10k fell due and 5k came: 5k overdue since the second instalment (the first was met).
        assert pledge.overdue(dt.date(2025, 7, 1)) == (Decimal("5000.00"), dt.date(2025, 6, 30))

    def test_a_due_date_holds_all_of_it(self, year):
        pledge = journal.load(journal.open_ledger(year.path)).pledges[4]
        assert pledge.schedule() == {dt.date(2025, 6, 30): Decimal("10000.00")}
        assert pledge.overdue(dt.date(2025, 8, 1)) == (Decimal(0), None)  # closed by the write-off


class TestClosingAPeriod:
    def test_a_close_keeps_a_period_the_same_forever(self, year):
        before = year.json("report summary --as-of 2025-12-31")
        close = year.json("close 2025 --date 2026-01-05")
        assert close["seal"] == before["seal"] and close["balances"] == BALANCES
        refused = year("contribute Latvia 1k --date 2025-12-31", ok=False)
        assert refused.exit_code == 1 and refused.stderr.strip() == (
            "refused: 2025-12-31 is in 2025, closed by #16 on 2026-01-05: nothing may be dated in it; "
            "date the correction after 2025-12-31, in the open period"
        )
        year('contribute Latvia 1k --date 2026-01-06 --memo "Adjustment for 2025"')  # the correction, accepted
        after = year.json("report summary --as-of 2025-12-31")
        assert after == before
        verified = year(f"verify --as-of 2025-12-31 --seal {before['seal'][:12]}")
        assert "2025 is closed by #16, so it always will" in verified.stdout

    def test_verify_as_of_catches_a_report_that_moved(self, year):
        seal = year.json("report summary --as-of 2025-06-30")["seal"]
        year("contribute Latvia 1k --date 2025-06-30")  # not closed: backdating is allowed, and seen
        moved = year(f"verify --as-of 2025-06-30 --seal {seal[:12]}", ok=False)
        assert moved.exit_code == 1 and "recorded after it was printed (2025-06-30 is in no closed period)" in moved.stderr

    def test_a_reopening_says_why_and_opens_the_period_again(self, year):
        year("close 2025 --date 2026-01-05")
        year('reopen 16 --reason "Auditor adjustment AJE-3" --date 2026-01-06')
        year("contribute Latvia 1k --date 2025-12-31")
        books = journal.load(journal.open_ledger(year.path))
        assert books.closes[16].reopened_by == 17 and books.closed_on(dt.date(2025, 12, 31)) is None

    def test_a_report_of_a_closed_period_is_rebuilt_the_same(self, year):
        year("close 2025Q1 --date 2025-04-02")
        books = journal.load(journal.open_ledger(year.path))
        assert fold.as_of(books, dt.date(2025, 3, 31)).seal == books.closes[16].seal


# The refusal catalogue of a real year: the exact line, exit 1, and every file left byte for byte.
REFUSALS = [
    ("write-off 4 --reason again", "refused: pledge #4 was already closed by #12"),
    ("write-off 3 --reason x", "refused: #3 is not a pledge"),
    ('write-off 4 --reason ""', "refused: pledge #4 was already closed by #12"),
    ("amend radios -1 --reason x --date 2025-09-02", "refused: package radios is closed; it cannot be amended"),
    ("charge 40k --envelope drones --date 2025-09-02",
     "refused: earmark drones has €29,975.00 available; charge of €40,000.00 exceeds it"),
    ("fee 1 --envelope nothing", "refused: there is no earmark 'nothing'; name one this fund has, or unallocated"),
    ("interest 1 --envelope package:nothing", "refused: there is no package 'nothing'; record it with `package` first"),
    ("pay radios 1 --supplier ACME --invoice R-1 --date 2025-08-02",
     "refused: package radios was closed by #15; it has nothing left to pay"),
    ("close 2026 --date 2026-01-07", "refused: 2026 is not over until 2026-12-31; a close is dated after the period"),
    ("close 2025 --date 2025-12-31", "refused: 2025 is not over until 2025-12-31; a close is dated after the period"),
    ("pledge Latvia 10k --year 2026 --instalment 2026-03-31=4k --date 2026-01-07",
     "refused: the instalments add up to €4,000.00, the pledge is €10,000.00"),
    ("pledge Latvia 10k --year 2026 --due 2025-01-01 --date 2026-01-07",
     "refused: a pledge made on 2026-01-07 cannot fall due on 2025-01-01, before it"),
    ("reopen 3 --reason x", "refused: #3 is not a close"),
    ("reverse 3 --reason x", "refused: #3 is a rate entry, which moves no money: record a new one instead"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "message"), REFUSALS, ids=[c for c, _ in REFUSALS])
def test_refused_and_nothing_written(year, command, message):
    before = snapshot(year.path)
    result = year(command, ok=False)
    assert (result.exit_code, result.stderr.strip()) == (1, message)
    assert snapshot(year.path) == before


def test_after_a_close(year):
    """Refusals that need a close: overlapping, reversing it, backdating into it."""
    year("close 2025 --date 2026-01-05")
    before = snapshot(year.path)
    for command, message in [
        ("close 2025Q4 --date 2026-01-07", "refused: 2025 is already closed (#16), and overlaps 2025Q4"),
        ("reverse 16 --reason x --date 2026-01-07", "refused: #16 closes a period; record `reopen 16 --reason …` instead"),
        ("reverse 14 --reason x --date 2025-08-02", "refused: 2025-08-02 is in 2025, closed by #16 on 2026-01-05: "
         "nothing may be dated in it; date the correction after 2025-12-31, in the open period"),
    ]:  # fmt: skip
        result = year(command, ok=False)
        assert (result.exit_code, result.stderr.strip()) == (1, message)
    assert snapshot(year.path) == before


def test_the_same_invoice_twice(run):
    for command in ["member join Latvia --date 2025-01-01", "contribute Latvia 1000 --date 2025-01-02",
                    "package p 900 --envelope unallocated --date 2025-01-03",
                    "pay p 100 --supplier ACME --invoice BDTC-88 --date 2025-06-02"]:  # fmt: skip
        run(command)
    before = snapshot(run.path)
    twice = run("pay p 100 --supplier ACME --invoice BDTC-88 --date 2025-06-03", ok=False)
    assert twice.stderr.strip() == (
        "refused: invoice BDTC-88 from ACME was already paid by #4 on 2025-06-02; to pay it again, say why with --again"
    )
    assert snapshot(run.path) == before
    run('pay p 100 --supplier ACME --invoice BDTC-88 --again "Second delivery, same invoice number" --date 2025-06-03')
    run("reverse 4 --reason mistake --date 2025-06-04")
    run("pay p 100 --supplier ACME --invoice OTHER --date 2025-06-04")


def test_audit_lists_every_reopening(tmp_path, git_env):
    from click.testing import CliRunner

    from ledger.cli import main

    from conftest import Runner

    made = CliRunner().invoke(main, ["init", str(tmp_path / "fund"), "--name", "F", "--currency", "EUR"])
    assert made.exit_code == 0, made.output
    run = Runner(tmp_path / "fund")
    run("member join Latvia --date 2024-01-01")
    run("contribute Latvia 100 --date 2024-02-01")
    run("close 2024 --date 2025-01-02")
    run('reopen 3 --reason "Auditor adjustment AJE-3" --date 2025-01-03')
    data = run.json("audit")
    assert data["clean"] and data["reopenings"] == [{
        "period": "2024", "close": 3, "reopening": 4, "date": "2025-01-03", "reason": "Auditor adjustment AJE-3",
        "recorder": "Finance Officer <officer@fund.example>",
    }]  # fmt: skip
    assert "Closed periods reopened" in run("audit").stdout


def test_the_summary_of_the_year_by_hand(year):
    """Received is cash that came in (the €29.62 written off is not); cash = received - paid + interest - charges."""
    summary = year.json("report summary")
    assert {key: summary[key] for key in ("contributions", "received", "outstanding", "written_off", "interest",
                                          "bank_charges", "management_fee", "paid", "cash")} == {
        "contributions": "111850.00", "received": "111820.38", "outstanding": "0.00", "written_off": "29.62",
        "interest": "123.45", "bank_charges": "25.00", "management_fee": "1500.00", "paid": "45000.00",
        "cash": "65418.83",
    }  # fmt: skip
    rows = {r["member"]: r for r in year.json("report contributors")["rows"]}
    assert rows["United Kingdom"]["received"] == "11820.38" and rows["United Kingdom"]["outstanding"] == "0.00"
