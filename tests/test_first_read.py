"""A first read trusts what a close vouches for (issue 22): the rules of entries before the last close are not
checked again, their hashes and chain are; `verify` checks every rule of every entry.

The ledgers here are written by hand, entry by entry, one file each, so that an entry that breaks a rule (an
earmark of more cash than the fund holds) can sit before a close with a sound chain, as a hand-edited journal
would hold it.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from ledger import fold, fund, journal, render, reports
from ledger.books import Books
from ledger.errors import CorruptJournal

from conftest import Runner

EXAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "examples" / "procurement"


def note(day: str) -> fund.Note:
    return fund.Note(dt.date.fromisoformat(day), "", "test")


def handwritten(path, *, overdraw: bool, close: bool):
    """A ledger of one entry a file: a member gives 100, an earmark of 60 (of 1,000 with `overdraw`: no fund
    has that), then, with `close`, 2024 is closed; then an entry of 2025."""
    ledger = journal.init(path, "Test fund", "EUR", "United Kingdom")
    books = Books("EUR", ledger.settings.name, ledger.settings.manager)
    steps = [
        lambda b: fund.join(b, "Latvia", "member", note("2024-01-01")),
        lambda b: fund.contribute(b, "Latvia", "100", note("2024-02-01")),
        lambda b: fund.earmark(b, "drones", "1000" if overdraw else "60", note("2024-03-01")),
        lambda b: fund.join(b, "Estonia", "member", note("2024-04-01")),
    ]
    if close:
        steps.append(lambda b: fund.close(b, "2024", note("2025-01-02")))
    steps.append(lambda b: fund.join(b, "Finland", "member", note("2025-01-03")))
    for number, step in enumerate(steps, start=1):
        entry = step(books).sealed(books.last_id + 1, books.seal)
        fold.fold(books, entry, checked=True)  # by hand: no rule asked
        (ledger.journal_dir / f"2024-{number:04d}.toml").write_bytes(journal.entry_bytes(entry))
    return ledger


class TestVouched:
    def test_a_first_read_trusts_entries_before_a_close_and_verify_does_not(self, tmp_path):
        ledger = handwritten(tmp_path / "fund", overdraw=True, close=True)
        books = journal.load(ledger, use_cache=False)
        assert books.count == 6 and books.balance("assets:fund:earmarked:drones") == 1000
        with pytest.raises(CorruptJournal, match=r"entry #3 .*breaks a rule"):
            journal.load(ledger, use_cache=False, trust_closes=False)
        result = Runner(ledger.path)("verify", ok=False)
        assert result.exit_code != 0 and "#3" in result.output

    def test_without_a_close_every_rule_is_checked(self, tmp_path):
        ledger = handwritten(tmp_path / "fund", overdraw=True, close=False)
        with pytest.raises(CorruptJournal, match=r"entry #3 .*breaks a rule"):
            journal.load(ledger, use_cache=False)

    def test_a_file_that_only_seems_to_hold_a_close_is_read_in_full(self, tmp_path, monkeypatch):
        ledger = handwritten(tmp_path / "fund", overdraw=True, close=False)
        # The last file (a join) looks like a close to the scan of bytes; the entries it parses say otherwise.
        monkeypatch.setattr(journal, "_CLOSE_LINE", b'\nkind = "join"\n')
        with pytest.raises(CorruptJournal, match=r"entry #3 .*breaks a rule"):
            journal.load(ledger, use_cache=False)

    def test_the_chain_is_still_checked_before_a_close(self, tmp_path):
        ledger = handwritten(tmp_path / "fund", overdraw=False, close=True)
        second = ledger.journal_dir / "2024-0002.toml"
        second.write_bytes(second.read_bytes().replace(b'"100.00"', b'"900.00"'))  # its hash no longer holds
        with pytest.raises(CorruptJournal, match=r"2024-0002\.toml"):
            journal.load(ledger, use_cache=False)

    def test_the_entries_after_the_last_close_s_file_are_checked(self, tmp_path):
        ledger = handwritten(tmp_path / "fund", overdraw=False, close=True)
        books = journal.load(ledger, use_cache=False)
        late = fund.earmark(books, "spares", "1000", note("2025-02-01")).sealed(books.last_id + 1, books.seal)
        (ledger.journal_dir / "2024-0007.toml").write_bytes(journal.entry_bytes(late))
        with pytest.raises(CorruptJournal, match=r"entry #7 .*breaks a rule"):
            journal.load(ledger, use_cache=False)


def test_trusting_and_checking_reads_make_the_same_books(tmp_path):
    """The fictional year, which has a close, written again five entries a file: most come before the close."""
    folder = tmp_path / "procurement"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".cache"))
    ledger = journal.open_ledger(folder)
    entries = list(journal.load(ledger, use_cache=False, trust_closes=False).entries)
    for old in ledger.journal_files():
        old.unlink()
    for start in range(0, len(entries), 5):
        data = journal.SEPARATOR.join(journal.entry_bytes(e) for e in entries[start : start + 5])
        (ledger.journal_dir / f"2026-{start // 5 + 1:04d}.toml").write_bytes(data)
    assert len(ledger.journal_files()) > 4
    trusted = journal.load(ledger, use_cache=False)
    checked = journal.load(ledger, use_cache=False, trust_closes=False)
    assert trusted.closes and max(trusted.closes) > 10
    assert trusted.seal == checked.seal and trusted.count == checked.count == len(entries)
    assert dict(trusted.balances) == dict(checked.balances)
    assert render.summary_json(reports.summary_report(trusted)) == render.summary_json(reports.summary_report(checked))
    for report in (reports.funding_report, reports.packages_report, reports.earmarks_report):
        assert render.report_json(report(trusted)) == render.report_json(report(checked)), report.__name__


def test_a_read_runs_the_cycle_collector_less_often_and_restores_it_whatever_happens(coalition, monkeypatch):
    import gc

    ledger = journal.open_ledger(coalition.path)
    before = gc.get_threshold()
    seen = []
    real = fold.fold

    def folding(books, entry, **how):
        seen.append(gc.get_threshold())
        if entry.id == 3 and refuse:
            raise journal.Refused("refused for the test")
        return real(books, entry, **how)

    monkeypatch.setattr(fold, "fold", folding)
    refuse = False
    journal.load(ledger, use_cache=False)
    assert before[0] < journal.FEW_COLLECTIONS
    assert seen and all(threshold[0] == journal.FEW_COLLECTIONS for threshold in seen)
    assert gc.get_threshold() == before
    refuse = True
    with pytest.raises(CorruptJournal):
        journal.load(ledger, use_cache=False)
    assert gc.get_threshold() == before


def test_a_command_runs_the_collector_less_often_once_never_more_so_for_each_read(coalition, monkeypatch):
    """The command line raises the threshold for a whole command (a report's rows are as many objects as a read's
    entries); the reads within it find it raised and leave it so: never multiplied again (nor past any limit)."""
    import gc

    from conftest import Runner

    before = gc.get_threshold()
    seen = []
    real = fold.fold
    monkeypatch.setattr(fold, "fold", lambda *a, **k: (seen.append(gc.get_threshold()[0]), real(*a, **k)))
    drawn = []
    table = render.report_table
    monkeypatch.setattr(render, "report_table", lambda *a, **k: (drawn.append(gc.get_threshold()[0]), table(*a, **k))[1])
    monkeypatch.setenv("FUNDLEDGER_CACHE", "off")
    Runner(coalition.path)("report register")
    assert seen and set(seen) == {journal.FEW_COLLECTIONS}
    assert drawn == [journal.FEW_COLLECTIONS]  # the rows drawn after the read, as seldom
    assert gc.get_threshold() == before
    with journal.few_collections(), journal.few_collections():
        assert gc.get_threshold()[0] == journal.FEW_COLLECTIONS
    assert gc.get_threshold() == before


def test_a_read_leaves_automatic_collection_off_when_it_was_off(coalition):
    import gc

    ledger = journal.open_ledger(coalition.path)
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        seen = []
        real = journal.fold.fold
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(journal.fold, "fold", lambda *a, **k: (seen.append(gc.get_threshold()[0]), real(*a, **k)))
            journal.load(ledger, use_cache=False)
        assert seen and set(seen) == {0}
    finally:
        gc.set_threshold(*before)
