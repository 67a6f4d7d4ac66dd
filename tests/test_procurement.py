"""What the money bought (issue 16), on the fictional procurement example: contracts, milestone payments,
deliveries, an amended contract, who funded what, and what is overdue."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from ledger import journal, model

from conftest import Runner, snapshot

EXAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "examples" / "procurement"
D = Decimal


@pytest.fixture
def example(tmp_path) -> Runner:
    shutil.copytree(EXAMPLE, tmp_path / "procurement", ignore=shutil.ignore_patterns(".cache"))
    return Runner(tmp_path / "procurement")


def test_the_example_is_sound_and_every_envelope_is_owned_to_the_cent(example):
    assert example("verify").exit_code == 0
    books = journal.load(journal.open_ledger(example.path))
    for account, balance in books.balances.items():
        if account.startswith("assets:fund:"):
            assert sum(books.funding.of(account).values(), D(0)) == balance, account


def test_suppliers_list_their_contracts_and_payments(example):
    rows = {row["supplier"]: row for row in example.json("report suppliers")["rows"]}
    # Fjord: 15M contracted, 5M + 5M paid, and 20M NOK at 0.0850 = 1.7M, half of it paid (850k at the contract's
    # rate); Baltic Optics: 4M + 1M amended, 5M paid; Alpine: 5M, 2.5M paid.
    assert {name: (row["contracted"], row["paid"], row["remaining"]) for name, row in rows.items()} == {
        "Alpine Training GmbH": ("5000000.00", "2500000.00", "2500000.00"),
        "Baltic Optics SIA": ("5000000.00", "5000000.00", "0.00"),
        "Fjord Drone Works AS": ("16700000.00", "10850000.00", "5850000.00"),
    }
    assert rows["Fjord Drone Works AS"]["country"] == "NO" and rows["Baltic Optics SIA"]["contracts"] == ["BO-77"]


def test_deliveries_by_package_item_and_recipient(example):
    rows = example.json("report deliveries")["rows"]
    assert [(r["date"], r["item"], r["quantity"], r["recipient"]) for r in rows] == [
        ("2025-05-02", "FPV drone", 1000, "Recipient unit A"),
        ("2025-07-01", "FPV drone", 1200, "Recipient unit B"),
        ("2025-08-20", "thermal camera", 400, "Recipient unit A"),
    ]


def test_a_package_is_funded_by_whose_money_went_into_it(example):
    """By hand. drones holds Northland's 20M and the 4M topped up from unallocated's 13.7M (Eastmark 5M,
    Westria 8.7M): 4M x 5/13.7 = 1,459,854.0146 and 4M x 8.7/13.7 = 2,540,145.9854, rounded down with the
    cent left to the larger remainder (Westria's): 1,459,854.01 and 2,540,145.99. fpv-drones takes 22M of
    drones' 24M: 18,333,333.333, 1,338,199.509 and 2,328,467.157, rounded down (.33, .50, .15) with the two
    cents left to the largest remainders, Eastmark's (.0092) then Westria's (.0075)."""
    rows = example.json("report funding --package fpv-drones")["rows"]
    assert {r["member"]: r["amount"] for r in rows} == {
        "Northland": "18333333.33", "Eastmark": "1338199.51", "Westria": "2328467.16",
    }  # fmt: skip
    # 5M + 5M to Fjord, 5M to Baltic Optics, and 10M NOK at 0.0880 to Fjord
    assert sum(D(r["paid"]) for r in rows) == D("15880000.00")


def test_a_members_money_is_in_packages_or_unspent_or_went_on_fees(example):
    """Eastmark gave 5M and earned a share of the interest: every cent of it is in a package (paid or not),
    in an envelope not yet spent, or went on the charge and the fee."""
    books = journal.load(journal.open_ledger(example.path))
    rows = example.json("report funding --member Eastmark")["rows"]
    assert rows and all(r["member"] == "Eastmark" for r in rows)
    interest = books.funding.flow(27)[model.UNALLOCATED]["eastmark"]  # entry #27 is the interest
    on_fees = books.funding.spent[""]["eastmark"]
    assert sum(D(r["amount"]) for r in rows) + on_fees == D("5000000.00") + interest
    assert D(0) < interest < D("18250.40") and D(0) < on_fees < D("120035.00")


def test_overdue_instalments_with_their_age(example):
    rows = example.json("report pledges --overdue --as-of 2025-10-15")["rows"]
    # Eastmark's second instalment of 5M fell due on 2025-09-30 and was not paid: 15 days overdue.
    assert rows == [{"pledge": 6, "member": "Eastmark", "overdue": {"EUR": "5000000.00"}, "since": "2025-09-30",
                     "days": 15, "bucket": "0-30"}]  # fmt: skip
    assert example.json("report pledges --overdue --as-of 2025-09-30")["rows"] == []


def test_a_closed_quarter_is_listed_and_refuses_backdating(example):
    rows = example.json("report closes")["rows"]
    assert [(r["period"], r["end"], r["reopened_by"]) for r in rows] == [("2025Q2", "2025-06-30", None)]
    before = snapshot(example.path)
    refused = example("deliver fpv-drones --item 'FPV drone' --quantity 1 --contract FDW-2025-01 --date 2025-06-30",
                      ok=False)  # fmt: skip
    assert refused.exit_code == 1 and "is in 2025Q2, closed by" in refused.stderr
    assert snapshot(example.path) == before


def test_a_contract_amended_and_closed_gives_back_to_its_package(example):
    example('amend fpv-drones --close --contract FDW-2025-01 --reason "Last batch cancelled" --date 2025-10-01')
    books = journal.load(journal.open_ledger(example.path))
    contract = books.contract("FDW-2025-01")
    assert (contract.status, contract.amount, contract.paid) == ("closed", D("10000000.00"), D("10000000.00"))
    # Not under contract before: 22M - 15M (Fjord) - 4M (Baltic Optics) - 1M (its amendment) - 1.7M (the kroner
    # batteries) - 30k (their exchange loss) = 270k; then the 5M Fjord was not paid comes back: 5.27M.
    assert books.balance(model.committed("fpv-drones")) == D("5270000.00")
    assert books.balance(model.contracted("fpv-drones", "FDW-2025-01")) == 0


def test_pay_refuses_a_misspelt_supplier_with_a_suggestion(example):
    refused = example('pay fpv-drones 1 --supplier "Fjord Drone Work AS" --date 2025-10-02', ok=False)
    assert refused.stderr.strip() == (
        "refused: 'Fjord Drone Work AS' is not a supplier of this fund; did you mean 'Fjord Drone Works AS'?"
    )


@pytest.mark.parametrize(
    "command",
    ["pay fpv-drones 1 --contract FDW-2025-1", "deliver fpv-drones --item x --quantity 1 --contract FDW-2025-1",
     "amend fpv-drones +1 --contract FDW-2025-1 --reason r"],
)  # fmt: skip
def test_a_misspelt_contract_is_told_the_closest(example, command):
    refused = example(f"{command} --date 2025-10-02", ok=False)
    assert (refused.exit_code, refused.stderr.strip()) == (
        1, "refused: there is no contract 'FDW-2025-1'; did you mean 'FDW-2025-01'?")  # fmt: skip


def test_the_summary_and_the_statement_show_what_is_overdue(example):
    """Eastmark's second 5M fell due on 2025-09-30 and never came: overdue on the 15th of October, not before."""
    assert example.json("report summary --as-of 2025-10-15")["overdue"] == "5000000.00"
    assert example.json("report summary --as-of 2025-09-30")["overdue"] == "0.00"
    assert "€5,000,000.00 fell due and was not received" in example(
        "report summary --as-of 2025-10-15", env={"COLUMNS": "100"}
    ).stdout
    statement = example.json("report statement Eastmark --period 2025-07-01..2025-10-15")
    assert (statement["opening"]["overdue"], statement["closing"]["overdue"]) == ("0.00", "5000000.00")


class TestFoundByReview:
    """What an independent review of the change found, each fixed and pinned here."""

    def test_a_number_the_journal_could_not_read_back_is_never_written(self, example):
        before = snapshot(example.path)
        refused = example("deliver fpv-drones --item x --quantity 99999999999999999999999 --date 2025-10-01",
                          ok=False)  # fmt: skip
        assert refused.exit_code == 1 and "could not be read back from the journal" in refused.stderr
        assert snapshot(example.path) == before
        assert example("report").exit_code == 0

    def test_propose_takes_only_commands_that_record(self, example):
        for command in ("propose sync", "propose report", "propose export --format json"):
            result = example(command, ok=False)
            assert result.exit_code == 2 and "is not a command that records an entry" in result.stderr, command

    def test_a_payment_on_a_closed_contract_or_package_is_not_reversed_into_it(self, example):
        example('amend operator-training --close --contract ATG-9 --reason "Course cancelled" --date 2025-10-01')
        example('amend operator-training --close --reason "Done" --date 2025-10-02')
        refused = example("reverse 26 --reason x --date 2025-10-03", ok=False)  # #26: ATG's payment
        assert refused.stderr.strip() == (
            "refused: package operator-training was closed by #36; reverse the close first, so that the money "
            "comes back to a package that can pay or give it back"
        )

    def test_a_contract_with_deliveries_is_not_cancelled(self, example):
        refused = example("reverse 17 --reason x --date 2025-10-03", ok=False)  # #17: Baltic Optics' contract
        assert refused.stderr.strip() == (
            "refused: contract BO-77 has deliveries recorded against it; reverse those first"
        )

    def test_an_increase_from_an_earmark_that_does_not_exist(self, example):
        refused = example('amend fpv-drones +1 --envelope dronez --reason x --date 2025-10-03', ok=False)
        assert refused.stderr.strip() == "refused: there is no earmark 'dronez'; did you mean 'drones'?"


def test_the_statement_says_what_the_members_own_money_bought(example):
    """The donor statement's section by the tracing rule: Eastmark's share of fpv-drones is the 1,338,199.51
    computed by hand above, and its rows are `report funding --member Eastmark`'s."""
    statement = example.json("report statement Eastmark")
    funding = example.json("report funding --member Eastmark")["rows"]
    assert [(r["package"], r["amount"], r["paid"]) for r in statement["bought"]] == [
        (r["package"], r["amount"], r["paid"]) for r in funding
    ]
    assert statement["bought"][0]["package"] == "fpv-drones" and statement["bought"][0]["amount"] == "1338199.51"
    assert "What its own money bought (traced)" in example("report statement Eastmark", env={"COLUMNS": "100"}).stdout


def test_deliveries_in_a_period(example):
    rows = example.json("report deliveries --period 2025Q3")["rows"]
    assert [(r["date"], r["quantity"]) for r in rows] == [("2025-07-01", 1200), ("2025-08-20", 400)]
    refused = example("report closes --period 2025Q3", ok=False)
    assert refused.exit_code == 2 and "does not take --period" in refused.stderr


def test_funding_in_a_period_adds_up_to_the_year(example):
    """Q3's only payment is Baltic Optics' 5M; fpv-drones was funded in Q1 (nothing added since); and the four
    quarters' payments, member by member, are the year's."""
    q3 = example.json("report funding --period 2025Q3 --package fpv-drones")
    assert {r["amount"] for r in q3["rows"]} == {"0.00"} and q3["totals"]["paid"] == "5000000.00"
    year = {r["member"]: D(r["paid"]) for r in example.json("report funding --period 2025 --package fpv-drones")["rows"]}
    quarters: dict[str, D] = {}
    for quarter in ("2025Q1", "2025Q2", "2025Q3", "2025Q4"):
        for r in example.json(f"report funding --period {quarter} --package fpv-drones")["rows"]:
            quarters[r["member"]] = quarters.get(r["member"], D(0)) + D(r["paid"])
    assert quarters == year and sum(year.values()) == D("15880000.00")
    q1 = {r["member"]: r["amount"] for r in example.json("report funding --period 2025Q1 --package fpv-drones")["rows"]}
    assert q1 == {"Northland": "18333333.33", "Eastmark": "1338199.51", "Westria": "2328467.16"}


def test_suppliers_in_a_period(example):
    """Q3 2025: Baltic Optics' contract grew by 1M (amended 2025-07-10) and was paid 5M (2025-08-01); Fjord signed
    20M NOK at 0.0850 (2025-09-01), paid in October, after the period; Alpine did nothing, 2.5M still open."""
    report = example.json("report suppliers --period 2025Q3")
    rows = {r["supplier"]: (r["opening"], r["contracted"], r["paid"], r["remaining"]) for r in report["rows"]}
    assert rows == {
        "Alpine Training GmbH": ("2500000.00", "0.00", "0.00", "2500000.00"),
        "Baltic Optics SIA": ("4000000.00", "1000000.00", "5000000.00", "0.00"),
        "Fjord Drone Works AS": ("5000000.00", "1700000.00", "0.00", "6700000.00"),
    }
    assert (report["from"], report["to"]) == ("2025-07-01", "2025-09-30")


def test_the_kroner_batteries_cost_a_loss_taken_from_the_package(example):
    """10M NOK paid at 0.0880 cost 880,000.00 and relieved half the contract's 1,700,000.00: a 30,000.00 loss, so
    fpv-drones (22M) has paid 5M + 5M + 5M + 880k, and holds 22M - 15.88M = 6.12M."""
    package = next(r for r in example.json("report packages")["rows"] if r["package"] == "fpv-drones")
    assert (package["paid"], package["remaining"]) == ("15880000.00", "6120000.00")


def test_a_contract_before_its_supplier_was_named_is_refused(example):
    example("supplier add 'Late Supplier Oy' --country FI --date 2025-11-01")
    refused = example("contract operator-training 'Late Supplier Oy' 1000 --ref L-1 --date 2025-10-01", ok=False)
    assert refused.stderr.strip() == (
        "refused: supplier Late Supplier Oy was named on 2025-11-01, after 2025-10-01: name it on or before the day"
    )


def test_an_exchange_loss_the_package_cannot_cover_is_refused(run):
    """A package of exactly the contract's €27,000.00 has nothing outside the contract to take a €500.00 loss from."""
    for command in ["member join Latvia --date 2025-01-01", "contribute Latvia 100k --date 2025-01-02",
                    "rate SEK 0.0900 --date 2025-01-01", "package p 27k --envelope unallocated --date 2025-01-03",
                    "supplier add 'Nordic AB' --country SE --date 2025-01-03",
                    "contract p 'Nordic AB' '300k SEK' --ref N-1 --date 2025-01-04",
                    "rate SEK 0.0950 --date 2025-02-01"]:  # fmt: skip
        run(command)
    before = snapshot(run.path)
    refused = run("pay p '100k SEK' --contract N-1 --date 2025-02-02", ok=False)
    assert refused.stderr.strip() == (
        "refused: package p has €0.00 not under contract; exchange loss of €500.00 exceeds it"
    )
    assert snapshot(run.path) == before


def test_a_contract_in_kronor_paid_at_two_rates(run):
    """By hand. 300,000 SEK at 0.0900 is €27,000.00 under contract. 100,000 SEK paid at 0.0950 costs €9,500.00
    and relieves the contract of a third of its value, €9,000.00: a €500.00 loss, taken from the package's money
    not under contract (23,000 -> 22,500). The last 200,000 SEK at 0.0850 cost €17,000.00 and relieve all that is
    left, €18,000.00: a €1,000.00 gain, given back to it (22,500 -> 23,500)."""
    for command in ["member join Latvia --date 2025-01-01", "contribute Latvia 100k --date 2025-01-02",
                    "rate SEK 0.0900 --date 2025-01-01", "package p 50k --envelope unallocated --date 2025-01-03",
                    "supplier add 'Nordic AB' --country SE --date 2025-01-03",
                    "contract p 'Nordic AB' '300k SEK' --ref N-1 --date 2025-01-04",
                    "rate SEK 0.0950 --date 2025-02-01", "pay p '100k SEK' --contract N-1 --date 2025-02-02"]:  # fmt: skip
        run(command)
    balances = {r["account"]: r["balance"] for r in run.json("balance")["rows"]}
    assert balances["assets:fund:committed:p:n-1"] == "18000.00" and balances["assets:fund:committed:p"] == "40500.00"
    assert balances["expenses:packages:p"] == "9500.00"
    before = snapshot(run.path)
    in_euros = run("pay p 1000 --contract N-1 --date 2025-02-03", ok=False)
    assert in_euros.stderr.strip() == "error: contract N-1 is in SEK: write the amount in it, such as 200,000.00 SEK"
    too_much = run("pay p '200,001 SEK' --contract N-1 --date 2025-02-03", ok=False)
    assert too_much.stderr.strip() == (
        "refused: contract N-1 has 200,000.00 SEK left to pay; payment of 200,001.00 SEK exceeds it"
    )
    assert snapshot(run.path) == before
    run("rate SEK 0.0850 --date 2025-03-01")
    run("pay p '200k SEK' --contract N-1 --date 2025-03-02")
    balances = {r["account"]: r["balance"] for r in run.json("balance")["rows"]}
    assert balances["assets:fund:committed:p:n-1"] == "0.00" and balances["assets:fund:committed:p"] == "23500.00"
    assert balances["expenses:packages:p"] == "26500.00"
    supplier = run.json("report suppliers")["rows"][0]
    assert (supplier["contracted"], supplier["paid"], supplier["remaining"]) == ("27000.00", "27000.00", "0.00")


def test_the_register_of_a_supplier(example):
    """Fjord Drone Works AS: its naming, its two contracts, the three payments and two deliveries against them."""
    rows = example.json("report register --supplier 'fjord drone works as'")["rows"]
    assert [(r["id"], r["kind"]) for r in rows] == [
        (13, "supplier"), (16, "contract"), (19, "pay"), (20, "deliver"), (21, "pay"), (22, "deliver"),
        (32, "contract"), (34, "pay"),
    ]  # fmt: skip
    refused = example("report register --supplier 'Fjord Drone Work'", ok=False)
    assert refused.stderr.strip() == "refused: there is no supplier 'Fjord Drone Work'; did you mean 'Fjord Drone Works AS'?"
    assert example("report suppliers --supplier x", ok=False).exit_code == 2


def test_funding_in_a_period_shows_an_envelope_spent_out(example):
    """Eastmark's money left unspent in `drones` at the start of a period in which the earmark is emptied into a
    package shows as a fall (negative `amount`), not as nothing: the period's rows add up to the change."""
    start = {r["package"]: D(r["amount"]) for r in example.json("report funding --member Eastmark --as-of 2025-12-31")["rows"]}
    held = example.json("report earmarks")["rows"]
    drones = next(r for r in held if r["earmark"] == "drones")
    example(f"package spare-parts {drones['available']} --envelope drones --date 2026-01-05")
    rows = {r["package"]: D(r["amount"]) for r in example.json("report funding --member Eastmark --period 2026")["rows"]}
    assert rows["drones"] == -start["drones"] and rows["spare-parts"] == start["drones"]
