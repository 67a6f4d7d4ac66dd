"""A member's statement (issue 14, item 3), on the year of test_periods, figures worked out by hand."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from test_periods import YEAR

from ledger import journal, reports
from ledger.errors import Refused

from conftest import Runner, recorded

D = Decimal
M = D(1_000_000)


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Runner:
    return recorded(tmp_path_factory.mktemp("statement") / "fund", YEAR)


@pytest.fixture(scope="module")
def books(year):
    return journal.load(journal.open_ledger(year.path))


def test_every_members_statement_has_the_figures_of_the_contributors_report(books):
    """A statement works its one member's figures out alone (`_member_figures(books, only)`): the same as every
    member's, worked out together, for each member, for a period and for everything."""
    for period in (reports.parse_period("2025"), reports.parse_period("2025Q2"), None):
        rows = {row["member"]: row for row in reports.contributors_report(books, period=period).rows}
        for member in books.members.values():
            s = reports.statement_report(books, member.name, period=period)
            if member.name not in rows:  # nothing in the period: the report leaves it out
                assert s.closing["pledged"] == s.opening["pledged"] and s.closing["received"] == s.opening["received"]
                continue
            row = rows[member.name]
            assert s.closing["outstanding"] == row["outstanding"]
            assert s.closing["pledged"] - s.opening["pledged"] == row["pledged"]
            assert s.closing["received"] - s.opening["received"] == row["received"]


class TestFigures:
    def test_a_pledge_made_before_and_received_in_the_period(self, books):
        s = reports.statement_report(books, "latvia", period=reports.parse_period("2025"))
        assert s.member == "Latvia"
        assert s.opening == {"pledged": 6 * M, "received": 0, "outstanding": 6 * M, "overdue": 0}
        assert s.closing == {"pledged": 6 * M, "received": 6 * M, "outstanding": 0, "overdue": 0}
        assert [(line["id"], line["kind"], line["amount"]) for line in s.lines] == [(7, "contribute", 6 * M)]
        # Its receipt went to drones; drones funded kit with 4M, of which 1.5M was paid by the end of 2025.
        assert s.earmarked == {"drones": 6 * M}
        assert s.funded == (
            {"earmark": "drones", "package": "kit", "date": s.funded[0]["date"], "amount": 4 * M,
             "paid": D("1500000.00"), "status": "open"},
        )  # fmt: skip

    def test_a_receipt_in_pounds_keeps_the_amount_given_and_the_rate(self, books):
        s = reports.statement_report(books, "United Kingdom", period=reports.parse_period("2025Q1"))
        (line,) = s.lines
        assert (line["currency"], line["given"], line["rate"], line["amount"]) == (
            "GBP", D("1000000.00"), "1.2000", D("1200000.00"))  # fmt: skip
        assert s.closing["received"] == D("1200000.00") and s.exchange_differences == 0

    def test_a_reversal_in_the_period_of_a_receipt_before_it(self, books):
        s = reports.statement_report(books, "Belgium", period=reports.parse_period("2025"))
        assert s.opening["received"] == 10 * M and s.closing["received"] == 0
        assert [(line["id"], line["given"], line["amount"], line["reverses"]) for line in s.lines] == [
            (9, -10 * M, -10 * M, 5)
        ]
        assert s.earmarked == {} and s.funded == ()

    def test_an_unknown_member_gets_a_suggestion(self, books):
        with pytest.raises(Refused, match="there is no member 'Latvai'; did you mean 'Latvia'"):
            reports.statement_report(books, "Latvai")


def test_a_receipt_at_another_rate_than_its_pledge_shows_its_exchange_gain(run):
    # Pledge £1M at 1.2000 = €1,200,000.00; received at 1.2500 = €1,250,000.00 cash: a gain of €50,000.00.
    run('member join "United Kingdom" --date 2024-02-01')
    run("rate GBP 1.2000 --date 2025-01-01")
    run('pledge "United Kingdom" £1M --year 2025 --date 2025-01-02')  # 3
    run("rate GBP 1.2500 --date 2025-02-01")
    run('contribute "United Kingdom" £1M --pledge 3 --date 2025-02-02')  # 5
    data = run.json("report statement 'United Kingdom' --period 2025")
    assert [
        (line["id"], line["given"], line["rate"], line["amount"], line["exchange_difference"]) for line in data["lines"]
    ] == [
        (3, "1000000.00", "1.2000", "1200000.00", "0.00"),
        (5, "1000000.00", "1.2500", "1250000.00", "50000.00"),
    ]
    assert data["exchange_differences"] == "50000.00"
    assert data["closing"] == {"pledged": "1200000.00", "received": "1250000.00", "outstanding": "0.00", "overdue": "0.00"}
    text = run("report statement 'United Kingdom' --period 2025", env={"COLUMNS": "120"}).stdout
    assert "€50,000.00" in text and "Exchange gain" in text


class TestFormats:
    def test_json(self, year):
        data = year.json("report statement Latvia --period 2025")
        assert (data["report"], data["member"], data["from"], data["to"]) == (
            "statement",
            "Latvia",
            "2025-01-01",
            "2025-12-31",
        )
        assert data["opening"] == {"pledged": "6000000.00", "received": "0.00", "outstanding": "6000000.00", "overdue": "0.00"}
        assert data["lines"][0]["given"] == "6000000.00" and data["lines"][0]["given_currency"] == "EUR"
        assert data["funded"][0]["paid"] == "1500000.00" and data["seal"]

    def test_csv_sections(self, year):
        rows = list(csv.DictReader(io.StringIO(year("report statement 'United Kingdom' --csv").stdout)))
        assert [r["section"] for r in rows] == ["opening"] * 4 + ["line", "exchange"] + ["closing"] * 4 + ["bought"]
        line = rows[4]
        assert (line["given_currency"], line["given"], line["rate"], line["amount"]) == (
            "GBP",
            "1000000.00",
            "1.2000",
            "1200000.00",
        )

    def test_table_and_html(self, year, tmp_path):
        text = year("report statement Belgium --period 2025", env={"COLUMNS": "100"}).stdout
        assert "reverses #5" in text and "-€10,000,000.00" in text and "seal" in text
        year(f"report statement Latvia --html {tmp_path / 'lv.html'}")
        assert "€6,000,000.00" in (tmp_path / "lv.html").read_text()

    @pytest.mark.parametrize(
        ("command", "says", "code"),
        [
            ("report statement", "report statement needs a MEMBER", 2),
            ("report summary Latvia", "report summary takes no MEMBER", 2),
            ("report statement Latvia --year 2025", "only pledges takes it", 2),
            ("report statement Latvai", "refused: there is no member 'Latvai'; did you mean 'Latvia'?", 1),
        ],
    )
    def test_refused(self, year, command, says, code):
        result = year(command, ok=False)
        assert result.exit_code == code and says in result.stderr
