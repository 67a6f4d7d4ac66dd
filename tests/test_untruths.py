"""The smaller untruths of issue 14 (item 5), each pinned by a test."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from ledger import render, reports
from ledger.text import spreadsheet_safe

from conftest import COALITION, SAMPLE, Runner, recorded


@pytest.fixture(scope="module")
def fund(tmp_path_factory) -> Runner:
    """The worked example, a pound pledge split by earmark, a member that left, and a memo that is a formula."""
    run = recorded(tmp_path_factory.mktemp("untruths") / "fund", COALITION, name="Test fund")
    run("rate GBP 1.1905 --date 2025-04-01")
    run('pledge "United Kingdom" £15M --year 2025 --split drones=£15M --date 2025-04-03')  # 12
    run("member join Norway --date 2025-04-12")
    run("member leave Norway --date 2025-05-01")
    run(["package", "evil", "1k", "--envelope", "unallocated", "--date", "2025-05-02", "--memo", "=HYPERLINK(1)"])
    run("earmark spare 1k --date 2025-05-03")
    return run


class TestSummary:
    def test_json_earmarks_have_pledged_outstanding(self):
        earmarks = {e["earmark"]: e for e in Runner(SAMPLE).json("report summary")["earmarks"]}
        assert earmarks["drones"]["pledged_outstanding"] == "20000000.00"

    def test_an_earmark_with_nothing_allocated_has_no_bar(self):
        empty = reports.EarmarkBar("x", *[Decimal(0)] * 5)
        all_available = reports.EarmarkBar("y", Decimal(5), Decimal(0), Decimal(0), Decimal(5), Decimal(0))
        assert "░" not in render._bar(empty, 10).plain
        assert render._bar(all_available, 10).plain == "░" * 10

    def test_the_aggregate_member_is_shown_beside_the_count(self):
        sample = Runner(SAMPLE)
        assert sample.json("report summary")["member_groups"] == ["Unattributed members"]
        text = " ".join(sample("report summary", env={"COLUMNS": "80"}).stdout.split())
        assert "3 active members named, and Unattributed members standing for states the sources do not name" in text

    def test_csv_has_the_earmarks_and_packages_amounts(self, fund):
        lines = dict(csv.reader(io.StringIO(fund("report summary --csv").stdout)))
        assert lines["earmark:drones:pledged_outstanding"] == "17857500.00"  # £15M x 1.1905
        assert lines["package:recon-drones-2025-03:remaining"] == "20000000.00"


class TestMembers:
    def test_left_and_awaiting(self, fund):
        rows = {r["member"]: r for r in fund.json("report members")["rows"]}
        assert rows["Norway"]["left"] == "2025-05-01" and rows["Norway"]["status"] == "left"
        assert rows["Belgium"]["awaiting"] == ["United Kingdom", "Latvia"]
        text = fund("report members --wide").stdout
        assert "Left" in text and "2025-05-01" in text and "Awaiting approval from" in text


class TestPledges:
    def test_a_pound_pledge_split_is_in_pounds(self, fund):
        row = next(r for r in fund.json("report pledges")["rows"] if r["pledge"] == 12)
        assert row["split"] == ["drones 15000000.00 GBP"]
        assert row["amount"] == "17857500.00"
        assert "drones £15,000,000.00" in fund("report pledges --wide").stdout


class TestCsv:
    def test_register_csv_has_the_signed_amount(self, fund):
        rows = list(csv.DictReader(io.StringIO(fund("report register --kind pay --csv").stdout)))
        assert [(r["id"], r["amount"], r["reverses"], r["reversed_by"]) for r in rows] == [
            ("9", "5000000.00", "", "10"),
            ("10", "-5000000.00", "9", ""),  # a negative amount is a number, left as it is
        ]

    def test_a_formula_is_shown_as_text(self, fund):
        rows = {r["package"]: r for r in csv.DictReader(io.StringIO(fund("report packages --csv").stdout))}
        assert rows["evil"]["memo"] == "'=HYPERLINK(1)"
        assert fund.json("report packages")["rows"][-1]["memo"] == "=HYPERLINK(1)"  # JSON keeps it as it is

    @pytest.mark.parametrize("text", ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"])
    def test_every_formula_start(self, text):
        assert spreadsheet_safe(text) == "'" + text
        assert spreadsheet_safe("Latvia") == "Latvia"


def test_an_account_typed_with_escapes_is_shown_inert(fund):
    """No account has that name, so it is refused (issue 23), and the refusal shows the name inert."""
    result = fund(["report", "register", "--account", "assets\x1b[2J"], env={"COLUMNS": "100"}, ok=False)
    assert result.exit_code == 1 and "\x1b" not in result.output
    assert result.stderr == "refused: there is no account 'assets\\x1b[2J'; did you mean 'assets'?\n"
