"""Importing contributions from CSV: all rows or none, nothing recorded twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import importer, journal
from ledger.errors import BadInput

from conftest import snapshot

EXAMPLES = Path(__file__).resolve().parent.parent / "ledgers" / "examples"
MAP = EXAMPLES / "bank-statement.map.toml"
STATEMENT = EXAMPLES / "bank-statement.csv"


@pytest.fixture
def members(run):
    run('member join "United Kingdom" --date 2024-02-01')
    run("member join Latvia --date 2024-02-01")
    return run


def test_example_dry_run_then_import_then_again(members, tmp_path):
    before = snapshot(members.path)
    plan = json.loads(members(f"import {STATEMENT} --map {MAP} --dry-run --json").stdout)
    assert [r["status"] for r in plan["rows"]] == ["record", "record"]
    assert snapshot(members.path) == before
    assert "2 to record, 0 already recorded, 0 refused" in members(f"import {STATEMENT} --map {MAP} --dry-run").stdout

    result = members(f"import {STATEMENT} --map {MAP}")
    assert result.stdout.strip() == "Recorded 2 entries (#3-#4); skipped 0 already recorded."
    books = journal.load(journal.open_ledger(members.path))
    latvia, uk = books.entries[-2:]
    assert (latvia.get("member"), str(latvia.postings[0].amount), latvia.source) == (
        "Latvia",
        "1500000.00",
        "LV-2025-0042",
    )
    assert (uk.get("member"), str(uk.postings[0].amount), str(uk.date)) == (
        "United Kingdom",
        "2250000.50",
        "2025-02-10",
    )
    assert uk.memo == "Central fund top-up"

    again = members(f"import {STATEMENT} --map {MAP}")
    assert again.stdout.strip() == "Recorded 0 entries; skipped 2 already recorded."
    assert journal.load(journal.open_ledger(members.path)).last_id == 4


def test_a_refused_row_stops_the_whole_import(members, tmp_path):
    statement = tmp_path / "s.csv"
    statement.write_text(
        STATEMENT.read_text() + "11/02/2025;KINGDOM OF BELGIUM;1,00;EUR;BE-1;not a member\n"
        "12/02/2025;HM TREASURY;5,001;EUR;GB-9;three places\n"
    )
    before = snapshot(members.path)
    result = members(f"import {statement} --map {MAP}", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "refused: 2 row(s) refused, first row 4: KINGDOM OF BELGIUM is not a member of this fund; "
        "record `member join` first; nothing was recorded"
    )
    assert "refused" in result.stdout and "three places" not in result.stderr
    assert snapshot(members.path) == before


def test_duplicates_inside_one_file_are_skipped(members, tmp_path):
    statement = tmp_path / "s.csv"
    lines = STATEMENT.read_text().splitlines()
    statement.write_text("\n".join([*lines, lines[1]]) + "\n")
    plan = json.loads(members(f"import {statement} --map {MAP} --dry-run --json").stdout)
    assert [r["status"] for r in plan["rows"]] == ["record", "record", "skip"]
    assert plan["rows"][2]["reason"] == "already recorded as #3 (same reference, amount, day and direction)"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ('kind = "pay"\n', "kind must be one of contribute, pledge"),
        ('[columns]\ndate = "D"\n', "[columns] needs amount (or debit and credit), member (or [extract] member)"),
        ('[columns]\ndate="a"\nmember="b"\namount="c"\nreference="d"\nfoo="e"\n', "unknown column key(s) foo"),
        (
            '[columns]\ndate="a"\nmember="b"\namount="c"\nreference="d"\n[formats]\ndecimal=","\nthousands=","\n',
            "decimal is '.' or ','",
        ),
        ("not toml = = =", "is not valid TOML"),
    ],
)
def test_bad_mappings(tmp_path, mapping, message):
    path = tmp_path / "m.toml"
    path.write_text(mapping)
    with pytest.raises(BadInput, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        importer.load_mapping(path)


def test_missing_column_and_bad_values(members, tmp_path):
    statement = tmp_path / "s.csv"
    statement.write_text("Value date;Who;Amount\n")
    result = members(f"import {statement} --map {MAP}", ok=False)
    assert result.exit_code == 1 and "has no column 'Ordering party'" in result.stderr
    statement.write_text(
        STATEMENT.read_text().splitlines()[0] + "\n2025-02-03;HM TREASURY;1,00;EUR;X;bad date\n"
        "03/02/2025;HM TREASURY;1.5;EUR;Y;dot\n03/02/2025;HM TREASURY;1,00;GBP;Z;pounds\n"
    )
    result = members(f"import {statement} --map {MAP} --dry-run --json", ok=False)
    assert result.exit_code == 1
    reasons = [r["reason"] for r in json.loads(result.stdout)["rows"]]
    assert "does not match the mapping's format '%d/%m/%Y'" in reasons[0]
    assert reasons[1] == "amount '1.5' does not group thousands by '.' in threes"
    assert reasons[2].startswith("no GBP rate on or before 2025-02-03")


def test_a_long_file_imports_every_row_in_one_batch(members, tmp_path):
    # (the progress bar is drawn only on a terminal, so the test needs no more rows than make the file long)
    header = STATEMENT.read_text().splitlines()[0]
    rows = [f"03/02/2025;HM TREASURY;1,00;EUR;GB-{i:05d};row {i}" for i in range(400)]
    statement = tmp_path / "long.csv"
    statement.write_text("\n".join([header, *rows]) + "\n")
    result = members(f"import {statement} --map {MAP}")
    assert result.stdout.strip() == "Recorded 400 entries (#3-#402); skipped 0 already recorded."
    assert journal.load(journal.open_ledger(members.path)).balance("assets:fund:unallocated") == 400


def test_money_in_and_money_out_under_one_reference_are_two_movements(tmp_path):
    """Found by review: a receipt and a payment back, same day, same reference and amount: both recorded."""
    from ledger import importer
    from ledger.statements import Row

    first = Row(number=2, day=__import__("datetime").date(2025, 3, 14), amount="10.00", reference="R9", credit=True)
    back = Row(number=3, day=first.day, amount="10.00", reference="R9", credit=False)
    assert importer._row_key(first, "EUR") != importer._row_key(back, "EUR")


class TestPlannedOnce:
    """The plan made before the lock is the one recorded, unless something was recorded in between."""

    def _counting(self, monkeypatch, then=None):
        calls = []
        original = importer.plan

        def plan(books, *args, **kwargs):
            calls.append(books.count)
            made = original(books, *args, **kwargs)
            if then is not None and len(calls) == 1:
                then()
            return made

        monkeypatch.setattr(importer, "plan", plan)
        return calls

    def test_nothing_recorded_in_between_plans_once(self, members, monkeypatch):
        calls = self._counting(monkeypatch)
        assert members(f"import {STATEMENT} --map {MAP}").stdout.strip().startswith("Recorded 2 entries (#3-#4)")
        assert calls == [2]

    def test_an_entry_recorded_in_between_is_planned_again(self, members, monkeypatch):
        def another_writer():  # another officer records a receipt while this import checks its rows
            members('contribute Latvia 1k --date 2025-01-05 --memo "recorded meanwhile"')

        calls = self._counting(monkeypatch, then=another_writer)
        assert members(f"import {STATEMENT} --map {MAP}").stdout.strip().startswith("Recorded 2 entries (#4-#5)")
        assert calls == [2, 3]
        books = journal.load(journal.open_ledger(members.path))
        assert books.entries[2].memo == "recorded meanwhile"
        assert [e.source for e in books.entries[3:]] == ["LV-2025-0042", "GB-2025-0107"]
