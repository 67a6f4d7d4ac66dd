"""Export: hledger and beancount accept our files and agree with our balances to the cent."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import export, journal, writer
from ledger.books import Books
from ledger.errors import LedgerError

from conftest import SAMPLE
from test_properties import PRELUDE, _build, operations


def _need(tool: str, install: str) -> None:
    """Skip where the tool is missing, saying what to install; in CI the tool must be there."""
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI: .ci/run must install it ({install})")
        pytest.skip(f"{tool} is not installed: {install}")


def _ours(books: Books) -> dict[str, Decimal]:
    return {account: amount for account, amount in books.balances.items() if amount != 0}


def hledger_balances(text: str) -> dict[str, Decimal]:
    with tempfile.NamedTemporaryFile("w", suffix=".journal", delete=False) as handle:
        handle.write(text)
    try:
        subprocess.run(["hledger", "-f", handle.name, "check", "--strict"], check=True, capture_output=True, text=True)
        out = subprocess.run(
            ["hledger", "-f", handle.name, "bal", "--flat", "--no-total", "-O", "csv"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        os.unlink(handle.name)
    balances = {}
    for row in list(csv.reader(io.StringIO(out)))[1:]:
        number, _, currency = row[1].partition(" ")
        assert currency in ("EUR", ""), row
        if Decimal(number) != 0:
            balances[row[0]] = Decimal(number)
    return balances


def beancount_balances(text: str) -> dict[str, Decimal]:
    from beancount import loader
    from beancount.core import realization

    entries, errors, _ = loader.load_string(text)
    assert not errors, [str(e.message) for e in errors]
    opened = {e.account: e.meta["fundledger_account"] for e in entries if type(e).__name__ == "Open"}
    balances = {}
    for real in realization.iter_children(realization.realize(entries)):
        if real.account in opened:
            amount = real.balance.get_currency_units("EUR").number
            if amount != 0:
                balances[opened[real.account]] = amount
    return balances


def _random_books(ops) -> Books:
    with tempfile.TemporaryDirectory() as folder:
        ledger = journal.init(Path(folder) / "fund", "Random fund", "EUR")
        for op in PRELUDE + ops:
            with contextlib.suppress(LedgerError):
                writer.record(ledger, _build(op))
        return journal.hold(journal.load(ledger))  # the folder goes when this block ends


class TestHledger:
    def test_sample_ledger_round_trip(self):
        _need("hledger", "apt-get install hledger")
        books = journal.load(journal.open_ledger(SAMPLE))
        assert hledger_balances(export.as_hledger(books)) == _ours(books)

    def test_worked_example_and_hostile_memos(self, coalition):
        _need("hledger", "apt-get install hledger")
        coalition(
            [
                "contribute",
                "Latvia",
                "1k",
                "--date",
                "2025-05-01",
                "--memo",
                "x\n2025-01-01 * forged\n  a  1 EUR; [[b]]",
            ]
        )
        books = journal.load(journal.open_ledger(coalition.path))
        assert hledger_balances(export.as_hledger(books)) == _ours(books)

    @pytest.mark.slow
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=5, max_size=30))
    def test_random_ledgers_round_trip(self, ops):
        _need("hledger", "apt-get install hledger")
        books = _random_books(ops)
        assert hledger_balances(export.as_hledger(books)) == _ours(books)


class TestBeancount:
    def test_sample_ledger_round_trip(self):
        pytest.importorskip("beancount", reason="beancount is not installed: pip install -e '.[test]'")
        books = journal.load(journal.open_ledger(SAMPLE))
        assert beancount_balances(export.as_beancount(books)) == _ours(books)

    def test_worked_example_and_hostile_memos(self, coalition):
        pytest.importorskip("beancount", reason="beancount is not installed: pip install -e '.[test]'")
        memo = 'say "hi" \\ \n2025-01-01 * "forged"\n  Assets:X 1 EUR'
        coalition(["contribute", "Latvia", "1k", "--date", "2025-05-01", "--memo", memo, "--source", memo])
        books = journal.load(journal.open_ledger(coalition.path))
        assert beancount_balances(export.as_beancount(books)) == _ours(books)

    @pytest.mark.slow
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=5, max_size=30))
    def test_random_ledgers_round_trip(self, ops):
        pytest.importorskip("beancount", reason="beancount is not installed: pip install -e '.[test]'")
        books = _random_books(ops)
        assert beancount_balances(export.as_beancount(books)) == _ours(books)

    def test_account_names(self):
        assert export.beancount_account("assets:fund:earmarked:industrial-cooperation") == (
            "Assets:Fund:Earmarked:Industrial-cooperation"
        )
        assert export.beancount_account("expenses:packages:2025-recon") == "Expenses:Packages:2025-recon"


class TestCsvAndJson:
    def test_csv_one_row_per_posting(self, coalition):
        books = journal.load(journal.open_ledger(coalition.path))
        rows = list(csv.DictReader(io.StringIO(export.as_csv(books))))
        assert len(rows) == sum(len(e.postings) for e in books.entries)
        assert tuple(rows[0]) == export.CSV_COLUMNS
        assert sum(Decimal(r["amount"]) for r in rows) == 0
        assert {r["id"] for r in rows if r["kind"] == "pay"} == {"9"}

    def test_json_is_the_entries_as_printed(self, coalition):
        books = journal.load(journal.open_ledger(coalition.path))
        data = json.loads(export.as_json(books))
        assert [e["id"] for e in data] == list(range(1, 11))
        printed = coalition.json("contribute Latvia 1k --date 2025-05-01 --dry-run")
        assert set(data[4]) <= set(printed) | {"pledge"}

    def test_cli_writes_file_and_as_of(self, coalition, tmp_path):
        out = tmp_path / "x.csv"
        result = coalition(f"export --format csv --as-of 2025-02-10 -o {out}")
        assert "Wrote 5 entries" in result.stderr
        ids = {row["id"] for row in csv.DictReader(out.open())}
        assert ids == {"4", "5", "6"}


def test_the_cli_offers_every_export_format():
    from ledger.cli import EXPORT_FORMATS

    assert EXPORT_FORMATS == export.FORMATS
