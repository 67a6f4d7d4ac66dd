"""Every CSV fundledger writes opens in a spreadsheet as text (issue 17): no cell starts a formula.

One ledger whose every free text (the fund's name, memos, sources, a
purpose, a supplier, a contract, an item, a recipient, a reason) is a
formula, then every CSV output read back cell by cell: each report's
--csv, the statement, the summary, `export --format csv`, and an import's
unmatched rows. A cell may start with '-' only when it is a number.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from ledger import journal
from ledger.text import FORMULA_STARTS, spreadsheet_safe

from conftest import Runner
from test_import_statements import BANK_MAP, CAMT, SETUP

HOSTILE = Path(__file__).resolve().parent.parent / "ledgers" / "examples" / "hostile"
EVIL = '=HYPERLINK("http://evil","x")'
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")

# Every text a user types, each a formula a spreadsheet would run.
RECORDS = [
    ["member", "join", "United Kingdom", "--date", "2024-02-01", "--memo", EVIL],
    ["member", "join", "Latvia", "--date", "2024-02-01", "--source", "+1"],
    ["pledge", "Latvia", "30M", "--year", "2025", "--split", "drones=20M", "--split", "training=10M",
     "--date", "2025-01-15", "--source", "-1+2", "--memo", "@SUM(A1)", "--due", "2025-03-01"],
    ["contribute", "Latvia", "20M", "--pledge", "3", "--date", "2025-02-01", "--memo", "\t=1"],
    ["contribute", "United Kingdom", "5M", "--date", "2025-02-10", "--memo", "\r=1", "--source", "=1+1"],
    ["earmark", "envelope", "1M", "--date", "2025-02-11", "--purpose", '=cmd|" /C calc"!A0'],
    ["supplier", "add", "=Evil AB", "--country", "NO", "--date", "2025-03-01", "--memo", "+memo"],
    ["package", "recon", "5M", "--from", "drones", "--date", "2025-03-20", "--memo", "+SUM(1)"],
    ["contract", "recon", "=Evil AB", "2M", "--ref", "=REF1", "--item", "@item", "--quantity", "10",
     "--date", "2025-03-21", "--memo", "-memo"],
    ["pay", "recon", "1M", "--contract", "=REF1", "--invoice", "=INV", "--date", "2025-04-01", "--memo", "-2"],
    ["deliver", "recon", "--item", "@item", "--quantity", "5", "--contract", "=REF1", "--to", "=Recipient",
     "--date", "2025-04-02", "--memo", "@deliver"],
    ["rate", "GBP", "1.2", "--date", "2025-02-10", "--source", "@rate"],
    ["contribute", "United Kingdom", "£1M", "--date", "2025-02-10", "--memo", "=gbp"],
    ["reverse", "13", "--reason", "=reason", "--date", "2025-04-03"],
    ["close", "2024", "--date", "2025-04-04", "--memo", "=close"],
]  # fmt: skip

# Every report's CSV (approvals needs a git history of signed commits: it has no free text of its own).
REPORTS = [
    "summary", "summary --period 2025", "balance", "balance --quarterly", "contributors", "contributors --original",
    "contributors --period 2025", "pledges", "pledges --overdue --as-of 2025-06-30", "earmarks", "earmarks --period 2025",
    "packages", "packages --period 2025", "members", "register", "register --account assets:fund --from 2025-02-01",
    "rates", "statement Latvia", "statement Latvia --period 2025", "funding", "funding --member Latvia", "suppliers",
    "suppliers --period 2025", "deliveries", "closes",
]  # fmt: skip


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Runner:
    folder = tmp_path_factory.mktemp("csv") / "fund"
    journal.init(folder, EVIL, "EUR", "United Kingdom")
    run = Runner(folder)
    for command in RECORDS:
        run(command)
    return run


def _unsafe_cells(text: str) -> list[str]:
    """The cells of a CSV that a spreadsheet would run: starting with = + - @ tab or CR, and not a number."""
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""))
        for cell in row
        if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)
    ]


def test_the_guard():
    for text in (EVIL, "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"):
        assert spreadsheet_safe(text) == "'" + text
    assert spreadsheet_safe("Latvia") == "Latvia" and spreadsheet_safe(None) is None


@pytest.mark.parametrize("command", REPORTS)
def test_every_report(hostile, command):
    text = hostile(f"report {command} --csv").stdout
    assert len(text.splitlines()) > 1
    assert _unsafe_cells(text) == []


def test_the_hostile_text_is_there(hostile):
    """The ledger really holds the formulas (so the tests above are not vacuous), quoted in the CSV."""
    register = hostile("report register --csv").stdout
    for text in (EVIL, "+1", "-1+2", "@SUM(A1)", "=1+1", "=reason", "+SUM(1)"):
        assert "'" + text in register.replace('""', '"'), text
    assert "'=Evil AB" in hostile("report suppliers --csv").stdout
    assert "'@item" in hostile("report deliveries --csv").stdout


def test_export(hostile):
    text = hostile("export --format csv").stdout
    assert "'" + EVIL.replace('"', '""') in text
    assert _unsafe_cells(text) == []


def test_report_to_a_file(hostile, tmp_path):
    hostile(f"report register -o {tmp_path / 'register.csv'}")
    assert _unsafe_cells((tmp_path / "register.csv").read_text(encoding="utf-8")) == []


def test_import_unmatched_rows(tmp_path):
    run = Runner(tmp_path / "fund")
    journal.init(run.path, "Fund", "EUR", "United Kingdom")
    run("member join Latvia --date 2024-02-01")
    run("contribute Latvia 1000 --date 2024-03-01")
    left = tmp_path / "left.csv"
    run(
        f"import {HOSTILE / 'formula-text.csv'} --map {HOSTILE / 'hostile.map.toml'} --record-matched --unmatched {left}"
    )
    text = left.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text
    assert _unsafe_cells(text) == []


def test_reconcile(tmp_path):
    """A bank statement whose id is a formula: the reconcile report's CSV keeps it text."""
    run = Runner(tmp_path / "fund")
    journal.init(run.path, "Example fund", "EUR", "United Kingdom")
    for command in SETUP:
        run(command)
    statement = tmp_path / "statement.xml"
    statement.write_text(CAMT.read_text(encoding="utf-8").replace("<Id>STMT-2025-03</Id>", "<Id>=STMT</Id>"),
                         encoding="utf-8")  # fmt: skip
    run(f"import {statement} --map {BANK_MAP}")
    text = run("report reconcile --csv").stdout
    assert "'=STMT" in text
    assert _unsafe_cells(text) == []
