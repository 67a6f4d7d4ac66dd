"""A close's state (ledger.state): a first read of today's summary or balance starts from the last close's state
and gives the figures a read of every entry gives, on random ledgers; anything doubtful reads every entry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger import fold, fund, journal, model, render, reports, state, writer
from ledger.books import Books, Held, Incomplete
from ledger.cli import main
from ledger.errors import CorruptJournal, LedgerError

from conftest import Runner
from test_properties import PRELUDE, _build, days
from test_properties import operations as money_operations

PERIODS = ["2024-03", "2024Q2", "2024-07", "2024Q3", "2024-10", "2024-11", "2024", "2025-01"]
closes = st.tuples(st.just("close"), st.sampled_from(PERIODS), days)
operations = st.one_of(money_operations, money_operations, closes, closes)
# Random days, or in the order of their days as a fund records them (most entries then come after a close).
histories = st.one_of(
    st.lists(operations, min_size=5, max_size=45),
    st.lists(operations, min_size=5, max_size=45).map(lambda ops: sorted(ops, key=lambda op: op[-1])),
)


def _step(op):
    if op[0] == "close":
        return lambda b: fund.close(b, op[1], fund.Note(op[-1], memo="random close"))
    return _build(op)


def write_ledger(folder: Path, ops, per_file: int = 7) -> tuple[journal.Ledger, Books]:
    """A ledger of the operations the rules take, `per_file` entries a journal file, each close's state kept."""
    books, states = Books("EUR", "State fund"), {}
    for op in PRELUDE + ops:
        try:
            writer.seal(books, [_step(op)(books)], states)
        except LedgerError:
            continue
    ledger = journal.init(folder, "State fund", "EUR")
    entries = books.entries
    for start in range(0, len(entries), per_file):
        part = ledger.journal_dir / f"2024-{start // per_file + 1:04d}.toml"
        part.write_bytes(journal.joined(b"", entries[start : start + per_file]))
    for recorded, data in states.items():
        journal.write_state(ledger, recorded, data)
    return ledger, books


def held(books: Books, floor: dt.date) -> dict:
    """What a state of `books` holds (not whose money is where, which books begun from a state do not follow)."""
    return json.loads(state.encode(books, floor))


def figures(books: Books) -> list[str]:
    """Today's summary and balance, as JSON."""
    return [render.summary_json(reports.summary_report(books)), render.report_json(reports.balance_report(books))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories, st.integers(1, 9))
def test_books_begun_from_a_state_are_the_books_of_every_entry(ops, per_file):
    with tempfile.TemporaryDirectory() as folder:
        ledger, _ = write_ledger(Path(folder) / "fund", ops, per_file)
        whole = journal.load(ledger, use_cache=False)
        begun = journal.load(ledger, use_cache=False, partial=True)
        assert (begun.count, begun.seal) == (whole.count, whole.seal)
        event(f"begun from a state: {begun.begun > 1}")
        if begun.begun == 1:  # no close, or an entry after it needed what came before: every entry was read
            assert figures(begun) == figures(whole)
            return
        # Everything the books hold, the history summed up to the state's floor as the state keeps it.
        assert held(begun, begun.floor) == held(whole, begun.floor)
        try:
            seen = figures(begun)
        except Incomplete:  # the command reads every entry then (tests below)
            event("a report needed more")
            return
        assert seen == figures(whole)


def test_a_state_file_round_trips_exactly():
    with tempfile.TemporaryDirectory() as folder:
        ledger, books = write_ledger(Path(folder) / "fund", [("close", "2024-03", dt.date(2024, 4, 2))])
        close = max(books.closes)
        recorded = books.entry(close).get("state")
        data = state.path(ledger.path, recorded).read_bytes()
        assert state.digest(data) == recorded
        again = state.decode(data, close)
        assert again.begun == close and again.count == close - 1
        assert state.encode(again, dt.date(2024, 3, 31)) == data
        assert b"funding" not in data
        with pytest.raises(Incomplete):  # whose money is where: neither kept nor followed
            again.funding.of("assets:fund:unallocated")


@pytest.fixture
def closed(tmp_path: Path) -> tuple[journal.Ledger, Books]:
    """The prelude (two members, a pledge, money), 2024-03 closed, then a contribution after it."""
    ops = [("close", "2024-03", dt.date(2024, 4, 2)), ("contribute", "Latvia", "5M", None, dt.date(2024, 4, 3))]
    return write_ledger(tmp_path / "fund", ops, per_file=2)


class TestFirstRead:
    def test_it_starts_from_the_last_close_and_reads_nothing_before_its_file(self, closed, monkeypatch):
        ledger, books = closed
        close = max(books.closes)
        read = []
        original = journal._read_bytes
        monkeypatch.setattr(journal, "_read_bytes", lambda path: read.append(path.name) or original(path))
        begun = journal.load(ledger, use_cache=False, partial=True)
        first_read = sorted(set(read))
        assert begun.begun == close and figures(begun) == figures(journal.load(ledger, use_cache=False))
        # The file before the close's (its end noted for the cache), the close's, and those after it.
        assert first_read[0] == f"2024-{(close - 1) // 2:04d}.toml"
        assert "2024-0001.toml" not in first_read

    def test_what_needs_an_earlier_entry_is_incomplete(self, closed):
        ledger, _ = closed
        begun = journal.load(ledger, use_cache=False, partial=True)
        for ask in (lambda: begun.entry(2), lambda: list(begun.iter_entries()), lambda: begun.index.named,
                    lambda: begun.lowest_from("assets:fund:unallocated", dt.date(2024, 3, 1)),
                    lambda: begun.balances_on(dt.date(2024, 4, 30))):  # fmt: skip
            with pytest.raises(Incomplete):
                ask()

    def test_a_load_that_is_not_partial_never_takes_such_books_from_the_cache(self, closed):
        ledger, _ = closed
        assert journal.load(ledger, use_cache=True, partial=True).begun > 1
        assert journal.load(ledger, use_cache=True, partial=True).begun > 1  # kept so in the cache
        whole = journal.load(ledger, use_cache=True)
        assert whole.begun == 1 and len(list(whole.iter_entries())) == whole.count

    def test_a_reversal_of_an_entry_before_the_close_reads_every_entry(self, tmp_path):
        ops = [("close", "2024-03", dt.date(2024, 4, 2)), ("reverse", 4, dt.date(2024, 4, 3))]
        ledger, books = write_ledger(tmp_path / "fund", ops, per_file=2)
        assert books.entries[-1].kind == "reverse"
        begun = journal.load(ledger, use_cache=False, partial=True)
        assert begun.begun == 1 and figures(begun) == figures(journal.load(ledger, use_cache=False))

    def test_entries_appended_to_books_begun_from_a_state_are_read_from_the_cache(self, closed):
        ledger, books = closed
        assert journal.load(ledger, use_cache=True, partial=True).begun > 1
        later = fund.earmark(books, "drones", "1M", fund.Note(dt.date(2024, 4, 5))).sealed(books.last_id + 1, books.seal)
        newest = ledger.journal_files()[-1]
        newest.write_bytes(journal.joined(newest.read_bytes(), [later]))  # as a `git pull` brings it
        begun = journal.load(ledger, use_cache=True, partial=True)
        assert begun.begun > 1 and begun.count == later.id
        assert figures(begun) == figures(journal.load(ledger, use_cache=False))

    def test_an_entry_dated_in_a_reopened_period_reads_every_entry(self, tmp_path):
        ops = [("close", "2024-03", dt.date(2024, 4, 2)), ("contribute", "Latvia", "5M", None, dt.date(2024, 4, 3))]
        ledger, books = write_ledger(tmp_path / "fund", ops, per_file=2)
        close = max(books.closes)
        for step in (lambda b: fund.reopen(b, close, "a receipt was missed", fund.Note(dt.date(2024, 4, 4))),
                     lambda b: fund.earmark(b, "drones", "1M", fund.Note(dt.date(2024, 3, 20)))):  # fmt: skip
            entry = writer.seal(books, [step(books)])[0]
            newest = ledger.journal_files()[-1]
            newest.write_bytes(journal.joined(newest.read_bytes(), [entry]))
        assert books.entries[-1].date < dt.date(2024, 3, 31)  # checked against the days the state sums up
        begun = journal.load(ledger, use_cache=False, partial=True)
        assert begun.begun == 1 and figures(begun) == figures(journal.load(ledger, use_cache=False))

    @pytest.mark.parametrize("spoil", ["changed", "garbage", "gone", "symlink"])
    def test_a_state_file_that_is_not_the_close_s_is_not_taken(self, closed, spoil, tmp_path):
        ledger, books = closed
        where = state.path(ledger.path, books.entry(max(books.closes)).get("state"))
        if spoil == "changed":  # one figure changed: its digest is no longer the close's
            data = where.read_bytes()
            where.write_bytes(data.replace(b'"d":"', b'"d":"9', 1))
            assert where.read_bytes() != data
        elif spoil == "garbage":
            where.write_bytes(b"\x00not json")
        elif spoil == "gone":
            where.unlink()
        else:
            (tmp_path / "elsewhere.json").write_bytes(where.read_bytes())
            where.unlink()
            where.symlink_to(tmp_path / "elsewhere.json")
        begun = journal.load(ledger, use_cache=False, partial=True)
        assert begun.begun == 1 and figures(begun) == figures(journal.load(ledger, use_cache=False))


@pytest.mark.parametrize(
    "data",
    [
        b"[]", b'{"version": 2, "books": {}}', b'{"version": 1, "books": {"c": "Popen", "v": {}}}',
        b'{"version": 1, "books": {"c": "Books", "v": {"balances": {"x": 1}}}}',
        b'{"version": 1, "books": {"m": [[[1], 2]]}}', b'{"version": 1, "books": {"d": "NaN-ish"}}',
        b'{"version": 1, "books": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"version": 1, "books": {"c": "Member", "v": {}}}',
    ],
)  # fmt: skip
def test_a_hostile_state_file_is_unreadable_never_built(data):
    with pytest.raises(state.Unreadable):
        state.decode(data, 5)


class TestRecorded:
    def test_a_close_keeps_its_state_in_the_same_commit(self, tmp_path, git_env):
        result = CliRunner().invoke(main, ["init", str(tmp_path / "fund"), "--name", "State fund", "--currency", "EUR"])
        assert result.exit_code == 0, result.output
        run = Runner(tmp_path / "fund")
        for line in ("member join Latvia --date 2024-01-02", "contribute Latvia 100 --date 2024-01-03",
                     "close 2024-01 --date 2024-02-01"):  # fmt: skip
            run(line)
        ledger = journal.open_ledger(tmp_path / "fund")
        books = journal.load(ledger)
        where = state.path(ledger.path, books.entry(max(books.closes)).get("state"))
        shown = subprocess.run(["git", "show", "--name-only", "--format=%s", "HEAD"], cwd=ledger.path, check=True,
                               capture_output=True, text=True).stdout  # fmt: skip
        assert "close" in shown and os.path.relpath(where, ledger.path) in shown
        assert Runner(ledger.path).json("verify")["states"] == {"ok": [books.count], "missing": [], "other": []}

    def test_verify_names_a_state_file_that_is_not_the_close_s(self, closed):
        ledger, books = closed
        run = Runner(ledger.path)
        where = state.path(ledger.path, books.entry(max(books.closes)).get("state"))
        where.write_bytes(where.read_bytes() + b" ")
        result = run("verify", ok=False)
        assert result.exit_code == 1 and f"close #{max(books.closes)}" in result.output
        where.unlink()
        assert f"the state file of close #{max(books.closes)} is missing" in run("verify").output

    def test_the_summary_from_a_state_is_the_summary_of_every_entry(self, closed):
        ledger, _ = closed
        run = Runner(ledger.path)
        for command in ("report --json", "balance --json", "report summary --csv"):
            begun = run(command).output
            assert (ledger.cache_dir / "books").exists()
            assert journal.load(ledger, partial=True).begun > 1
            assert run(command, env={"FUNDLEDGER_CACHE": "off"}).output == begun, command

    def test_a_report_that_needs_more_than_the_state_is_made_from_every_entry(self, closed, monkeypatch):
        ledger, _ = closed
        expected = Runner(ledger.path)("report --json").output
        shutil.rmtree(ledger.cache_dir)
        made = reports.summary_report
        asked = []

        def needing_the_first_entry(books, *args, **kwargs):
            asked.append(books.begun)
            books.entry(1)  # books begun from a state raise Incomplete here
            return made(books, *args, **kwargs)

        monkeypatch.setattr(reports, "summary_report", needing_the_first_entry)
        assert Runner(ledger.path)("report --json").output == expected
        assert asked[0] > 1 and asked[-1] == 1  # begun from the state, then made again from every entry


def test_a_state_at_any_entry_of_every_kind_then_the_rest_is_the_whole(tmp_path):
    """The state holds all the books: begun from it after any entry of a ledger of every kind (officers,
    proposals, contracts in other currencies, deliveries, statements...), the entries after it give the books
    that every entry gives, but for what comes from before it (a reversal of an earlier entry: `Incomplete`)."""
    from test_export import _every_kind

    whole = _every_kind(tmp_path / "every")
    entries = whole.entries
    taken = 0
    for cut in range(1, len(entries)):
        floor = entries[cut - 1].date
        data = state.encode(fold.rebuild("EUR", entries[:cut], whole.name, whole.manager), floor)
        begun = state.decode(data, cut + 1)
        begun.store = Held()
        try:
            for entry in entries[cut:]:
                fold.fold(begun, entry, checked=True)
        except Incomplete:
            continue
        taken += 1
        assert held(begun, floor) == held(whole, floor), f"begun after entry #{cut}"
    assert taken > len(entries) // 2


# --- what the attack on this found (a helper, in its own clone): each failed before its fix ---------------------


def appended_close(folder: Path, change) -> Runner:
    """2024-03 closed, a receipt, then a close of 2024-04 appended by hand (its id, chain and hash right) naming a
    state file `change` forged."""
    ops = [("close", "2024-03", dt.date(2024, 4, 2)), ("contribute", "Latvia", "5M", None, dt.date(2024, 4, 3))]
    ledger, _ = write_ledger(folder, ops, per_file=2)
    whole = journal.load(ledger, use_cache=False)
    close = fund.close(whole, "2024-04", fund.Note(dt.date(2024, 5, 2)))
    document = json.loads(state.encode(whole, dt.date(2024, 4, 30)))
    change(document["books"]["v"])
    data = json.dumps(document, separators=(",", ":")).encode()
    forged = dataclasses.replace(close, data={**close.data, "state": state.digest(data), "state_layout": state.LAYOUT})
    newest = ledger.journal_files()[-1]
    newest.write_bytes(journal.joined(newest.read_bytes(), [forged.sealed(whole.last_id + 1, whole.seal)]))
    journal.write_state(ledger, state.digest(data), data)
    return Runner(ledger.path)


class TestAttacked:
    def test_a_forged_state_that_is_not_books_is_one_line_never_a_traceback(self, tmp_path):
        run = appended_close(tmp_path / "fund", lambda books: books.pop("members"))
        for command in ("balance --json", "report", "report summary --csv"):
            result = run(command, ok=False, env={"FUNDLEDGER_CACHE": "off"})
            assert result.exit_code == 1 and "entry #7" in result.output and "state" in result.output, command

    def test_a_forged_state_is_refused_by_verify_and_by_any_read_from_a_cache(self, tmp_path):
        run = appended_close(tmp_path / "fund", lambda books: books["balances"]["m"][0][1].update(d="99"))
        assert run("verify", ok=False).exit_code == 1
        assert run("report members", ok=False).exit_code == 1  # not a summary: every entry read, every rule

    def test_a_states_link_is_never_written_through(self, tmp_path, git_env):
        assert CliRunner().invoke(main, ["init", str(tmp_path / "fund"), "--name", "F", "--currency", "EUR"]).exit_code == 0
        (tmp_path / "elsewhere").mkdir()
        run = Runner(tmp_path / "fund")
        run("member join Latvia --date 2024-01-02")
        run("contribute Latvia 100 --date 2024-01-03")
        (tmp_path / "fund" / "states").symlink_to(tmp_path / "elsewhere")  # as another clone's commit can make it
        before = journal.load(journal.open_ledger(tmp_path / "fund")).count
        result = run("close 2024-01 --date 2024-02-01", ok=False)
        assert result.exit_code == 1 and "symbolic link" in result.output
        assert list((tmp_path / "elsewhere").iterdir()) == []
        assert journal.load(journal.open_ledger(tmp_path / "fund")).count == before

    def test_an_unfinished_write_after_the_close_is_named_as_one(self, tmp_path):
        ops = [("close", "2024-03", dt.date(2024, 4, 2)), ("contribute", "Latvia", "5M", None, dt.date(2024, 4, 3))]
        ledger, _ = write_ledger(tmp_path / "fund", ops, per_file=20)
        newest = ledger.journal_files()[-1]
        data = newest.read_bytes()
        newest.write_bytes(data + data[data.rfind(b"[[entry]]") :][:120])
        run = Runner(ledger.path)
        for command in ("report members", "balance", "report"):
            assert "unfinished" in run(command, ok=False, env={"FUNDLEDGER_CACHE": "off"}).output, command

    def test_renaming_the_fund_keeps_its_closes_sound(self, closed):
        ledger, _ = closed
        settings = ledger.path / journal.SETTINGS_FILE
        settings.write_text(settings.read_text().replace('"State fund"', '"State fund, renamed"'))
        run = Runner(ledger.path)
        assert run.json("verify")["states"]["ok"]
        begun = journal.load(journal.open_ledger(ledger.path), use_cache=False, partial=True)
        assert begun.begun > 1 and begun.name == "State fund, renamed"

    def test_a_state_of_another_layout_is_neither_checked_nor_used(self, closed, monkeypatch):
        ledger, books = closed
        monkeypatch.setattr(state, "LAYOUT", "0123456789ab")  # a fundledger whose books hold another field
        assert Runner(ledger.path).json("verify")["states"] == {"ok": [], "missing": [], "other": [max(books.closes)]}
        assert journal.load(ledger, use_cache=False, partial=True).begun == 1


def test_a_state_git_refused_to_commit_is_committed_with_the_next_record(tmp_path, git_env):
    assert CliRunner().invoke(main, ["init", str(tmp_path / "fund"), "--name", "F", "--currency", "EUR"]).exit_code == 0
    run = Runner(tmp_path / "fund")
    run("member join Latvia --date 2024-01-02")
    hook = tmp_path / "fund" / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    assert "not committed" in run("close 2024-01 --date 2024-02-01").output
    hook.unlink()
    run("contribute Latvia 100 --date 2024-02-02")
    ledger = journal.open_ledger(tmp_path / "fund")
    books = journal.load(ledger)
    named = os.path.relpath(state.path(ledger.path, books.entry(2).get("state")), ledger.path)
    tracked = subprocess.run(["git", "ls-tree", "-r", "--name-only", "HEAD", "states"], cwd=ledger.path,
                             capture_output=True, text=True).stdout  # fmt: skip
    assert tracked.split() == [named]



# --- what a review of the whole change found ---------------------------------------------------------------


def git_ledger(folder: Path) -> Runner:
    """A ledger in git: Latvia joins and gives, and 2024-01 is closed."""
    assert CliRunner().invoke(main, ["init", str(folder), "--name", "F", "--currency", "EUR"]).exit_code == 0
    run = Runner(folder)
    for line in ("member join Latvia --date 2024-01-02", "contribute Latvia 100 --date 2024-01-03",
                 "close 2024-01 --date 2024-02-01"):  # fmt: skip
        run(line)
    return run


def head_holds(folder: Path, name: str) -> bytes | None:
    shown = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=folder, capture_output=True)
    return shown.stdout if shown.returncode == 0 else None


@pytest.mark.parametrize("spoil", ["changed", "removed"])
def test_a_state_file_spoiled_after_its_commit_is_never_committed(tmp_path, git_env, spoil):
    run = git_ledger(tmp_path / "fund")
    ledger = journal.open_ledger(tmp_path / "fund")
    where = state.path(ledger.path, journal.load(ledger).entry(3).get("state"))
    name = os.path.relpath(where, ledger.path)
    committed = head_holds(ledger.path, name)
    assert committed is not None
    if spoil == "changed":
        where.write_bytes(committed + b" ")
    else:
        where.unlink()
    run("contribute Latvia 5 --date 2024-02-02")
    assert head_holds(ledger.path, name) == committed  # `verify` names it; `git checkout -- states/` mends it
    assert run("verify", ok=False).exit_code == (1 if spoil == "changed" else 0)


def test_a_close_before_the_last_whose_state_is_no_digest_never_stops_a_record(tmp_path, git_env):
    assert CliRunner().invoke(main, ["init", str(tmp_path / "fund"), "--name", "F", "--currency", "EUR"]).exit_code == 0
    ledger = journal.open_ledger(tmp_path / "fund")
    books, states = Books("EUR", "F"), {}
    steps = [lambda b: fund.join(b, "Latvia", "member", fund.Note(dt.date(2024, 1, 2))),
             lambda b: fund.contribute(b, "Latvia", "100", fund.Note(dt.date(2024, 1, 3))),
             lambda b: fund.close(b, "2024-01", fund.Note(dt.date(2024, 2, 1))),
             lambda b: fund.close(b, "2024-02", fund.Note(dt.date(2024, 3, 1)))]  # fmt: skip
    for number, step in enumerate(steps, start=1):
        entry = writer.seal(books, [step(books)], states)[0] if number != 3 else None
        if number == 3:  # by hand, hashes right: a state that is no digest, in a file the last close vouches for
            made = step(books)
            entry = dataclasses.replace(made, data={**made.data, "state": "sha256:../../x", "state_layout": "0" * 12})
            entry = entry.sealed(books.last_id + 1, books.seal)
            fold.fold(books, entry, checked=True)
        (ledger.journal_dir / f"2026-{number:04d}.toml").write_bytes(journal.entry_bytes(entry))
    for recorded, data in states.items():
        journal.write_state(ledger, recorded, data)
    (ledger.path / "states" / "junk").write_text("not a state")
    subprocess.run(["git", "add", "journal"], cwd=ledger.path, check=True)
    subprocess.run(["git", "commit", "-qm", "by hand"], cwd=ledger.path, check=True)
    run = Runner(ledger.path)
    run("contribute Latvia 5 --date 2024-03-02")
    assert head_holds(ledger.path, os.path.relpath(state.path(ledger.path, books.entry(4).get("state")), ledger.path))
    assert run("verify", ok=False).exit_code == 1  # which checks every close's rule


def test_the_state_of_given_books_is_always_the_same_bytes(frozen_clock):
    """If this fails, what a state holds changed. When state.LAYOUT changed with it (a field added, removed or
    renamed), update the digest below. If not (an order, an exponent, what a field means), bump state.VERSION
    first: closes recorded before would otherwise no longer match their books and be refused."""
    books = Books("EUR", "Pinned fund")
    for op in [*PRELUDE, ("earmark", "drones", "1M", "unallocated", dt.date(2024, 3, 2)),
               ("package", "recon", "500k", "drones", dt.date(2024, 3, 3))]:  # fmt: skip
        writer.seal(books, [_step(op)(books)])
    assert (state.LAYOUT, state.of(books, dt.date(2024, 3, 31))) == (
        "f11af083c4b0", "sha256:14a77ae0836cb761bdbb9a1224ab7cd6b4c24bfefecfbddff9b0d531ef82a474",
    )


def test_an_entry_forged_before_the_close_in_its_file_is_refused_not_begun_after(tmp_path):
    """The entries before a state's close in the close's own file are not folded, but they are chained to each
    other and to the close, so that the digest the cache notes of that file vouches for all of them. One forged
    with its hash worked out again breaks the chain: the read falls back to every entry, which refuses it."""
    ops = [("close", "2024-03", dt.date(2024, 4, 2)), ("contribute", "Latvia", "5M", None, dt.date(2024, 4, 3))]
    ledger, books = write_ledger(tmp_path / "fund", ops, per_file=50)
    close = max(books.closes)
    path = ledger.journal_files()[0]
    data = path.read_bytes()
    start, end = journal.split_blocks(data)[1][close - 3]  # two entries before the close, in its file
    entry = journal.parse_entry(data[start:end])
    forged = dataclasses.replace(entry, memo="forged", hash="")
    forged = dataclasses.replace(forged, hash=model.entry_hash(forged))
    path.write_bytes(data[:start] + journal.entry_bytes(forged) + b"\n" + data[end:])
    assert journal.parse_entry(journal.entry_bytes(forged)).memo == "forged"  # a sound entry on its own
    for partial in (True, False):
        with pytest.raises(CorruptJournal, match=f"entry #{entry.id + 1} .* breaks a rule"):
            journal.load(ledger, use_cache=True, partial=partial)
