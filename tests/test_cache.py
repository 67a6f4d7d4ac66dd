"""The read cache gives exactly what reading the whole journal gives, and is never trusted when it should not be."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import pickle
import random
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import cache, fold, fund, journal, model, reports, writer
from ledger.errors import CorruptJournal, LedgerError, TornWrite

from conftest import built_once, copy_ledger, new_ledger
from test_properties import PRELUDE, _build, operations


def every_report(books) -> list:
    """Every figure any report prints, as plain data (register: every entry)."""
    made = [getattr(reports, f"{name}_report")(books) for name in ("summary", "balance", "contributors")]
    made += [getattr(reports, f"{name}_report")(books) for name in ("pledges", "earmarks", "packages", "members")]
    made.append(reports.register_report(books, reports.RegisterFilter()))
    return made


def outcome(books, op) -> str:
    """What the rules say to an operation on these books: 'ok', or the refusal."""
    try:
        entry = _build(op)(books).sealed(books.last_id + 1, books.seal)
        fold.check(books, entry)
    except LedgerError as problem:
        return str(problem)
    return "ok"


def fresh(ledger):
    return journal.load(ledger, use_cache=False)


@pytest.fixture
def small_parts(monkeypatch):
    """Journal files of about 2 KiB, so that a few dozen entries spread over many files."""
    monkeypatch.setattr(journal, "PART_BYTES", 2048)


def _record_forty(path: Path) -> None:
    """40 entries in journal files of about 2 KiB (as `small_parts` makes them)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(journal, "PART_BYTES", 2048)
        ledger = journal.open_ledger(new_ledger(path))
        for op in PRELUDE:
            writer.record(ledger, _build(op))
        for number in range(36):
            note = fund.Note(dt.date(2024, 4, 1) + dt.timedelta(days=number), memo=f'receipt "{number}" – ünïcode')
            writer.record(ledger, lambda b, n=note: fund.contribute(b, "Latvia", "1k", n))


@pytest.fixture(scope="session")
def grown_built(tmp_path_factory, _cache_key_home):
    with built_once(tmp_path_factory, "grown", _record_forty) as folder:
        yield folder


@pytest.fixture
def grown(empty, small_parts, grown_built):
    """A ledger of 40 entries over several journal files, read once (so cached).

    The entries are recorded once per test run; each test copies the folder without .cache/ and reads it
    here, so the cache every test starts from is one its own load wrote.
    """
    shutil.rmtree(empty)
    ledger = journal.open_ledger(copy_ledger(grown_built, empty, cache=False))
    assert not (ledger.cache_dir / cache.CACHE_FILE).exists()
    journal.load(ledger)
    assert (ledger.cache_dir / cache.CACHE_FILE).exists()
    assert len(ledger.journal_files()) > 3
    return ledger


def count_parsed(monkeypatch) -> list[int]:
    """Count the entries parsed from here on: the cache's whole point is to parse only new ones."""
    calls = [0]
    real = journal.parse_entry

    def counting(chunk, **options):
        calls[0] += 1
        return real(chunk, **options)

    monkeypatch.setattr(journal, "parse_entry", counting)
    return calls


class TestSameFigures:
    @pytest.mark.slow
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=5, max_size=40), st.randoms(use_true_random=False))
    def test_with_without_and_after_deleting_the_cache(self, ops, rng):
        with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
            patch.setattr(journal, "PART_BYTES", 1500)
            ledger = journal.init(Path(folder) / "fund", "Property fund", "EUR")
            for op in PRELUDE + ops:
                assert outcome(journal.load(ledger), op) == outcome(fresh(ledger), op)
                try:
                    writer.record(ledger, _build(op))
                except LedgerError:
                    continue
                if rng.random() < 0.3:
                    assert every_report(journal.load(ledger)) == every_report(fresh(ledger))
                if rng.random() < 0.1:
                    (ledger.cache_dir / cache.CACHE_FILE).unlink(missing_ok=True)
            warm = journal.load(ledger)
            assert every_report(warm) == every_report(fresh(ledger))
            assert warm.entries == fresh(ledger).entries
            assert [warm.entry(i) for i in range(warm.count + 2)] == [None, *fresh(ledger).entries, None]

    def test_entries_looked_up_one_by_one_are_the_journals(self, grown):
        books = journal.load(grown)
        wanted = journal.hold(fresh(grown)).entries
        assert [books.entry(i) for i in (1, 5, 17, 39, 40)] == [wanted[i - 1] for i in (1, 5, 17, 39, 40)]
        assert books.entry(41) is None and books.entry(0) is None


class TestOnlyTheNewIsRead:
    def test_a_warm_load_parses_nothing(self, grown, monkeypatch):
        parsed = count_parsed(monkeypatch)
        books = journal.load(grown)
        assert (parsed[0], books.count) == (0, 40)

    def test_appended_entries_are_all_that_is_parsed(self, grown, monkeypatch):
        for number in range(3):
            note = fund.Note(dt.date(2024, 6, 1), memo=f"late {number}")
            writer.record(grown, lambda b, n=note: fund.contribute(b, "Latvia", "2k", n))
        parsed = count_parsed(monkeypatch)
        books = journal.load(grown)
        # Records leave the cache as it was (fewer than SAVE_AFTER new entries), so the three are read now, once.
        assert (parsed[0], books.count) == (3, 43)
        assert every_report(books) == every_report(fresh(grown))
        parsed[0] = 0
        journal.load(grown)
        assert parsed[0] == 0  # and that load kept them

    def test_a_record_rewrites_the_cache_once_enough_is_new(self, grown, monkeypatch):
        monkeypatch.setattr(writer, "SAVE_AFTER", 2)
        for number in range(3):
            note = fund.Note(dt.date(2024, 6, 1), memo=f"late {number}")
            writer.record(grown, lambda b, n=note: fund.contribute(b, "Latvia", "2k", n))
        parsed = count_parsed(monkeypatch)
        assert journal.load(grown).count == 43
        assert parsed[0] == 1  # the third record's load read two new entries and kept them

    def test_a_deleted_cache_is_rebuilt(self, grown, monkeypatch):
        (grown.cache_dir / cache.CACHE_FILE).unlink()
        parsed = count_parsed(monkeypatch)
        journal.load(grown)
        journal.load(grown)
        assert parsed[0] == 40


class TestNeverTrustedWhenStale:
    def edit_first_file(self, ledger, old: bytes, new: bytes):
        path = ledger.journal_files()[0]
        data = path.read_bytes()
        assert len(old) == len(new) and old in data
        stat = path.stat()
        path.write_bytes(data.replace(old, new, 1))
        return path, stat

    def test_an_edit_in_an_old_file_is_found(self, grown):
        self.edit_first_file(grown, b"2024-03-01", b"2024-03-02")
        with pytest.raises(CorruptJournal, match="does not match its hash"):
            journal.load(grown)

    def test_an_edit_that_keeps_size_and_time_is_left_to_verify(self, grown):
        """Documented limit: a same-size edit with the time forged back is found by `verify`, not by a load."""
        path, stat = self.edit_first_file(grown, b"2024-03-01", b"2024-03-02")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert journal.load(grown).count == 40
        with pytest.raises(CorruptJournal, match="does not match its hash"):
            fresh(grown)

    def test_an_edit_in_the_newest_files_last_bytes_is_found_even_with_time_forged(self, grown):
        path = grown.journal_files()[-1]
        data, stat = path.read_bytes(), path.stat()
        at = data.rindex(b"1000.00")
        path.write_bytes(data[:at] + b"9000.00" + data[at + 7 :])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        with pytest.raises(CorruptJournal):
            journal.load(grown)

    def test_a_shortened_file_is_read_again(self, grown):
        path = grown.journal_files()[-1]
        data = path.read_bytes()
        path.write_bytes(data[: data.rindex(b"[[entry]]")].rstrip() + b"\n")
        assert journal.load(grown).count == 39 == fresh(grown).count

    def test_a_file_added_among_the_old_ones_is_read_again(self, grown):
        files = grown.journal_files()
        files[-1].rename(files[-1].with_name("2000-0001.toml"))
        with pytest.raises(CorruptJournal):
            journal.load(grown)

    def test_a_torn_write_after_the_cached_bytes_is_still_found(self, grown):
        with open(grown.journal_files()[-1], "ab") as handle:
            handle.write(b'\n[[entry]]\nid = 41\nkind = "contr')
        with pytest.raises(TornWrite):
            journal.load(grown)

    def test_new_settings_are_read_not_the_cached_name(self, grown):
        settings = grown.path / journal.SETTINGS_FILE
        settings.write_text(settings.read_text().replace('name = "Test fund"', 'name = "Renamed fund"'))
        renamed = journal.open_ledger(grown.path)
        assert renamed.settings.name != grown.settings.name
        assert journal.load(renamed).name == renamed.settings.name

    def test_a_cache_signed_by_another_key_is_never_unpickled(self, grown, tmp_path, monkeypatch):
        marker = tmp_path / "pwned"

        class Payload:
            def __reduce__(self):
                return (Path.touch, (marker,))

        blob = cache._MAGIC + b"\0" * 32 + pickle.dumps(Payload())
        (grown.cache_dir / cache.CACHE_FILE).write_bytes(blob)
        assert journal.load(grown).count == 40
        assert not marker.exists()

    def test_a_copied_folder_does_not_use_its_copied_cache(self, grown, tmp_path, monkeypatch):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-user"))
        parsed = count_parsed(monkeypatch)
        assert journal.load(grown).count == 40
        assert parsed[0] == 40

    def test_the_cache_can_be_turned_off(self, grown, monkeypatch):
        (grown.cache_dir / cache.CACHE_FILE).unlink()
        monkeypatch.setenv(cache.ENV_VAR, "off")
        journal.load(grown)
        assert not (grown.cache_dir / cache.CACHE_FILE).exists()


def test_random_appends_from_elsewhere_match_a_full_read(grown, monkeypatch):
    """Entries appended by a writer that does not touch this cache (as a `git pull` is) are picked up."""
    rng = random.Random(7)
    for _ in range(6):
        with monkeypatch.context() as elsewhere:
            elsewhere.setenv(cache.ENV_VAR, "off")
            for _ in range(rng.randrange(0, 8)):
                note = fund.Note(dt.date(2024, 7, 1), memo="from elsewhere")
                writer.record(grown, lambda b, n=note: fund.contribute(b, "Latvia", "1k", n))
        assert every_report(journal.load(grown)) == every_report(fresh(grown))


def test_a_backdated_entry_is_checked_against_every_day_the_cache_has_not_seen(empty, monkeypatch):
    """Envelope history from the cache plus entries read after it: the day the envelope dips is still seen."""
    ledger = journal.open_ledger(empty)

    def record(build, day):
        writer.record(ledger, lambda b: build(b, fund.Note(dt.date.fromisoformat(day))))

    record(lambda b, n: fund.join(b, "Latvia", "member", n), "2024-01-01")
    record(lambda b, n: fund.contribute(b, "Latvia", "10M", n), "2024-03-01")
    journal.load(ledger)  # cached: unallocated holds 10M from March
    with monkeypatch.context() as elsewhere:
        elsewhere.setenv(cache.ENV_VAR, "off")
        record(lambda b, n: fund.earmark(b, "drones", "8M", n), "2024-05-01")  # 2M left from May
        record(lambda b, n: fund.contribute(b, "Latvia", "10M", n), "2024-06-01")  # 12M from June
    books = journal.load(ledger)
    backdated = fund.earmark(books, "training", "5M", fund.Note(dt.date(2024, 4, 1))).sealed(
        books.last_id + 1, books.seal
    )
    with pytest.raises(LedgerError, match=re.escape("unallocated cash is €2,000,000.00 from 2024-04-01 on")):
        fold.check(books, backdated)  # 12M today, but May would go to -3M (2M left of 10M after 8M)


def test_what_a_killed_cache_writer_left_is_swept(grown):
    stale, fresh_one = grown.cache_dir / ".books-killed", grown.cache_dir / ".books-writing"
    for leftover in (stale, fresh_one):
        leftover.write_bytes(b"half a cache")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    (grown.cache_dir / cache.CACHE_FILE).unlink()
    journal.load(grown)
    assert not stale.exists() and fresh_one.exists()  # a minute old at least, so no live writer's


def test_an_old_file_touched_but_unchanged_is_not_read_again(grown, monkeypatch):
    """A checkout rewrites files with the same bytes: their hash still matches, so nothing is parsed again."""
    first = grown.journal_files()[0]
    first.write_bytes(first.read_bytes())
    os.utime(first, ns=(1, 1))
    parsed = count_parsed(monkeypatch)
    assert journal.load(grown).count == 40
    assert parsed[0] == 0


class TestTwoProcessFirstRead:
    """A large first read parses part of the journal in a helper process: the same books, the same errors."""

    @pytest.fixture
    def helper(self, monkeypatch):
        monkeypatch.setattr(journal, "PARALLEL_BYTES", 1)

    def load_both(self, ledger, monkeypatch):
        with monkeypatch.context() as alone:
            alone.setattr(journal, "PARALLEL_BYTES", 10**12)
            one = journal.load(ledger, use_cache=False)
        return one, journal.load(ledger, use_cache=False)

    def test_the_same_books(self, grown, helper, monkeypatch):
        handed_back = []
        real = journal._unpacked
        monkeypatch.setattr(journal, "_unpacked", lambda result: handed_back.append(1) or real(result))
        one, two = self.load_both(grown, monkeypatch)
        assert every_report(two) == every_report(one) and two.entries == one.entries
        assert len(handed_back) >= len(grown.journal_files()) // 2  # the helper did parse

    def test_the_same_errors_in_the_same_order(self, grown, helper, monkeypatch):
        files = grown.journal_files()
        second = files[1]  # parsed by the helper (two files in three)
        data = second.read_bytes()
        second.write_bytes(data.replace(b'kind = "contribute"', b'kind = "contrib"', 1))
        with pytest.raises(CorruptJournal) as alone, monkeypatch.context() as m:
            m.setattr(journal, "PARALLEL_BYTES", 10**12)
            journal.load(grown, use_cache=False)
        with pytest.raises(CorruptJournal) as helped:
            journal.load(grown, use_cache=False)
        assert str(helped.value) == str(alone.value) and "which this version of fundledger does not know" in str(helped.value)

    def test_a_torn_tail_is_still_a_torn_tail(self, grown, helper):
        newest = grown.journal_files()[-1]
        with open(newest, "ab") as handle:
            handle.write(b'\n[[entry]]\nid = 41\nkind = "contr')
        with pytest.raises(TornWrite) as torn:
            journal.load(grown, use_cache=False)
        assert torn.value.path == str(newest)


class TestSideFiles:
    """Large parts of the books are kept in files of their own, read only when used and checked when read."""

    @pytest.fixture
    def sided(self, grown, monkeypatch):
        monkeypatch.setattr(cache, "SIDE_BYTES", 16)  # every part of these small books goes to a side file
        (grown.cache_dir / cache.CACHE_FILE).unlink()
        journal.load(grown)
        return grown

    def test_books_read_through_side_files_give_the_same_reports(self, sided):
        assert list(sided.cache_dir.glob("blob-*"))
        assert every_report(journal.load(sided)) == every_report(fresh(sided))

    def test_a_side_file_changed_is_refused_not_unpickled(self, sided):
        for side in sided.cache_dir.glob("blob-*"):
            side.write_bytes(pickle.dumps({}))
        with pytest.raises(LedgerError, match=r"read cache .* is damaged"):
            every_report(journal.load(sided))

    def test_a_reversal_reads_the_flows_it_undoes_from_the_cache(self, sided):
        books = journal.load(sided)
        received = books.last_id
        writer.record(sided, lambda b: fund.reverse(b, received, "twice", fund.Note(dt.date(2024, 6, 1))))
        assert every_report(journal.load(sided)) == every_report(fresh(sided))


class TestCopied:
    """The books copied as a cache keeps them: the same figures, and entries folded into the copy stay its own."""

    def test_a_copy_takes_entries_the_original_never_sees(self, grown):
        books = journal.load(grown)
        before = every_report(books)
        twin = cache.copied(books)
        assert every_report(twin) == before
        writer.seal(twin, [fund.contribute(twin, "Latvia", "5k", fund.Note(dt.date(2024, 6, 1)))])
        assert twin.count == books.count + 1 and twin.balances != books.balances
        assert every_report(books) == before == every_report(journal.load(grown))
        assert twin.index.named("kind", "contribute")[-1] == twin.last_id != books.last_id


def test_every_module_that_builds_the_books_signs_the_cache_and_the_unsigned_only_show_them():
    """A cache is taken only by the code that wrote it, but a changed table or page need not read the journal again.

    Reading and folding the journal (and writing the cache) imports only
    signed modules; the unsigned ones are the click layer and the renderers.
    """
    import subprocess
    import sys

    probe = (
        "import sys, ledger.journal, ledger.cache, ledger.fund, ledger.reports, ledger.writer, ledger.sync;"
        "print(' '.join(sorted(name for name in sys.modules if name.startswith('ledger.'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    signed = {path.stem for path in cache.SIGNED}
    assert "journal" in signed and "rules" in signed
    unsigned = {name.removesuffix(".py") for name in cache.UNSIGNED}
    assert [name for name in loaded if name.removeprefix("ledger.") not in signed] == []
    assert not unsigned & signed
    assert {"render", "cli", "html", "charts"} <= unsigned


class TestReadBack:
    """An entry read back from the journal (a register's row) is checked: by its hash, or by its file's digest."""

    def hashing(self, monkeypatch) -> list[int]:
        from ledger import model

        hashed = []
        real = model.entry_hash

        def counted(entry):
            hashed.append(entry.id)
            return real(entry)

        monkeypatch.setattr(model, "entry_hash", counted)
        return hashed

    def test_entries_of_a_file_as_it_was_read_are_not_hashed_again(self, grown, monkeypatch):
        whole = list(fresh(grown).entries)
        books = journal.load(grown)
        hashed = self.hashing(monkeypatch)
        assert [books.entry(i) for i in range(1, books.count + 1)] == whole
        assert hashed == []

    def test_each_file_read_back_from_is_checked_once(self, grown, monkeypatch):
        books = journal.load(grown)
        archive = books.store.archive
        digests = []
        real = archive._vouching
        monkeypatch.setattr(archive, "_vouching", lambda *a: digests.append(a[0]) or real(*a))
        firsts = [part.first for part in archive.parts]
        for entry_id in firsts:  # one entry a file: its file's bytes checked against their digest
            books.entry(entry_id)
        assert digests == [part.name for part in archive.parts]
        books.entry(firsts[-1] + 1)  # another entry of the file last read: not checked again
        assert len(digests) == len(archive.parts)

    def test_entries_streamed_from_files_as_they_were_read_are_not_hashed_again(self, grown, monkeypatch):
        whole = list(fresh(grown).entries)
        books = journal.load(grown)
        hashed = self.hashing(monkeypatch)
        assert list(books.iter_entries()) == whole  # an export, a whole register: every entry streamed
        assert hashed == []

    def test_an_entry_forged_with_size_and_time_kept_is_refused_when_streamed(self, grown, monkeypatch):
        path = grown.journal_files()[1]
        data, stat = path.read_bytes(), path.stat()
        _, spans = journal.split_blocks(data)
        start, end = spans[-1]
        block = data[start:end]
        day = re.search(rb"date = (\d{4}-\d\d-\d\d)", block)[1]
        forged = block.replace(day, day[:-1] + (b"1" if day[-1:] != b"1" else b"2"), 1)
        path.write_bytes(data[:start] + forged + data[end:])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        books = journal.load(grown)
        with pytest.raises(CorruptJournal):
            list(books.iter_entries())

    def test_an_entry_forged_with_size_and_time_kept_is_still_refused_when_read_back(self, grown, monkeypatch):
        path = grown.journal_files()[0]
        data, stat = path.read_bytes(), path.stat()
        _, spans = journal.split_blocks(data)
        assert len(spans) > 2
        start, end = spans[-1]  # the file's last entry: read after others of its file, once it could be vouched for
        block = data[start:end]
        day = re.search(rb"date = (\d{4}-\d\d-\d\d)", block)[1]
        forged = block.replace(day, day[:-1] + (b"1" if day[-1:] != b"1" else b"2"), 1)
        path.write_bytes(data[:start] + forged + data[end:])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        books = journal.load(grown)  # size and time as cached: the load takes the cache (a documented limit)
        hashed = self.hashing(monkeypatch)
        with pytest.raises(CorruptJournal, match="not the entry the books were read from: its file changed since"):
            books.entry(1)  # untouched itself, but in a file that is not the one whose entries were checked
        assert hashed == []

    def test_an_entry_forged_with_its_hash_worked_out_again_is_refused_when_read_back(self, grown):
        """Its own hash agrees with it; its file no longer has the digest noted when it was read, so nothing in it
        is vouched for."""
        path = grown.journal_files()[0]
        data, stat = path.read_bytes(), path.stat()
        _, spans = journal.split_blocks(data)
        start, end = spans[-2]  # not the file's last: the entry after it is in the same file
        entry = journal.parse_entry(data[start:end])
        day = entry.date.replace(day=1 if entry.date.day != 1 else 2)
        forged = dataclasses.replace(entry, date=day, hash="")
        forged = journal.entry_bytes(dataclasses.replace(forged, hash=model.entry_hash(forged)))
        forged += data[start + len(forged) : end]  # the blank line between entries
        assert len(forged) == end - start and forged != data[start:end]
        path.write_bytes(data[:start] + forged + data[end:])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        books = journal.load(grown)
        with pytest.raises(CorruptJournal, match="not the entry the books were read from"):
            for entry_id in range(1, books.count + 1):
                books.entry(entry_id)

    def test_a_file_read_further_is_vouched_for_by_what_was_noted_after(self, grown):
        """While a load reads new entries of a file, an entry of it may be read back (a rule looks at an older
        one), checked against the digest noted before; entries read back after that are checked against the
        digest noted once the new ones were read, not refused as changed, and bytes kept from before are read
        again."""
        truth = fresh(grown)
        books = journal.load(grown)
        archive = books.store.archive
        part = archive.parts[-1]
        noted, data = archive.files[part.name], (grown.journal_dir / part.name).read_bytes()
        first_end = journal.split_blocks(data)[1][0][1] - 1  # the first entry's own bytes (a blank line follows)
        archive.files[part.name] = cache.state(part.name, data[:first_end], noted.mtime_ns)  # the file as noted before
        assert books.entry(part.first) == truth.entry(part.first)
        archive.files[part.name] = noted  # as the load notes it once it has read the rest
        assert books.entry(part.first + 1) == truth.entry(part.first + 1)
        archive._files[part.name] = [data[:first_end], journal.split_blocks(data[:first_end])[1], None]  # read before
        archive._recent.clear()
        assert books.entry(part.first) == truth.entry(part.first)

    def test_what_may_follow_the_bytes_checked_is_newlines_and_only_newlines(self, grown):
        """The bytes checked may have ended without the newline an entry ends with (a file written by hand), or
        with the newline an append begins with that was later cut back as an unfinished write: the entries
        within them are still as checked. Any other byte in their place is not."""
        truth = fresh(grown)
        books = journal.load(grown)
        archive = books.store.archive
        part = archive.parts[-1]
        noted, data = archive.files[part.name], (grown.journal_dir / part.name).read_bytes()
        last = part.first + part.count - 1
        for checked, sound in ((data[:-1], True), (data + b"\n", True), (data + b"x", False), (data[:-2], False)):
            archive.files[part.name] = cache.state(part.name, checked, noted.mtime_ns)
            archive._recent.clear()
            if sound:
                assert books.entry(last) == truth.entry(last)
            else:
                with pytest.raises(CorruptJournal, match="not the entry the books were read from"):
                    books.entry(last)

    def test_an_entry_forged_with_the_next_entry_relinked_is_refused_read_alone(self, grown):
        """Entry #1 forged with its hash worked out again, and entry #2's `prev` line made that hash: each check of
        one entry against the next would pass. Its file's bytes are not those checked, so it is refused."""
        path = grown.journal_files()[0]
        data, stat = path.read_bytes(), path.stat()
        start, end = journal.split_blocks(data)[1][0]
        entry = journal.parse_entry(data[start:end])
        forged = dataclasses.replace(entry, date=entry.date.replace(day=1 if entry.date.day != 1 else 2), hash="")
        forged = dataclasses.replace(forged, hash=model.entry_hash(forged))
        raw = journal.entry_bytes(forged)
        changed = (data[:start] + raw + data[start + len(raw) :]).replace(entry.hash.encode(), forged.hash.encode())
        assert len(changed) == len(data) and changed != data
        path.write_bytes(changed)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        books = journal.load(grown)  # size and time as cached: the load takes the cache (a documented limit)
        with pytest.raises(CorruptJournal, match="not the entry the books were read from"):
            books.entry(1)


def damaged(first: Path, second: Path, damage: str, others: dict[str, bytes]) -> None:
    """Damage a signed side file: `swapped` (another's bytes, signed by us), `flipped` (a byte of its pickle), or
    replaced by one of `others`."""
    if damage == "swapped":
        first.write_bytes(second.read_bytes())
    elif damage == "flipped":
        data = bytearray(first.read_bytes())
        data[-5] ^= 1
        first.write_bytes(bytes(data))
    else:
        first.write_bytes(others[damage])


class TestKeptEntries:
    """A journal file read whole is kept as its entries (`cache.keep_entries`), read back without parsing, and
    only for bytes that still have the digest they were read from."""

    def kept(self, ledger) -> list[Path]:
        return sorted(ledger.cache_dir.glob(cache.ENTRIES_PREFIX + "*"))

    def test_every_file_but_the_newest_is_kept_and_read_back_unparsed(self, grown, monkeypatch):
        whole = list(fresh(grown).entries)
        files = grown.journal_files()
        digests = {cache.ENTRIES_PREFIX + journal.hashlib.sha256(f.read_bytes()).hexdigest() for f in files[:-1]}
        assert {path.name for path in self.kept(grown)} == digests
        newest = len(journal.split_blocks(files[-1].read_bytes())[1])
        books = journal.load(grown)
        parsed = count_parsed(monkeypatch)
        books.expect(range(1, books.count + 1))  # a register says which entries it is about to read
        assert [books.entry(i) for i in range(1, books.count + 1)] == whole
        assert parsed[0] == newest  # only the newest file's, which may yet grow
        parsed[0] = 0
        assert list(journal.load(grown).iter_entries()) == whole  # streamed (an export) the same way
        assert parsed[0] == newest

    def test_a_file_that_stops_being_the_newest_is_kept_too(self, grown, monkeypatch):
        """Found by a review: a file read a part at a time (the newest, as each command loads and appends) was
        never read whole, so it was never kept; files begun since the last full read had no kept entries."""
        for number in range(30):  # each record loads the books (the cache), then appends: files begun and ended
            note = fund.Note(dt.date(2024, 6, 1) + dt.timedelta(days=number), memo=f"receipt {number}")
            writer.record(grown, lambda b, n=note: fund.contribute(b, "Latvia", "1k", n))
            journal.load(grown)
        files = grown.journal_files()
        assert len(files) > 10
        expected = {cache.ENTRIES_PREFIX + journal.hashlib.sha256(f.read_bytes()).hexdigest() for f in files[:-1]}
        assert not expected <= {path.name for path in self.kept(grown)}  # the files begun since: not read whole
        whole = list(fresh(grown).entries)
        books = journal.load(grown)
        books.expect(None)
        assert list(books.iter_entries()) == whole  # each file read whole once more, and kept
        assert expected <= {path.name for path in self.kept(grown)}
        books = journal.load(grown)
        parsed = count_parsed(monkeypatch)
        books.expect(None)
        assert list(books.iter_entries()) == whole
        assert parsed[0] == len(journal.split_blocks(files[-1].read_bytes())[1])  # only the newest file's

    def test_books_as_of_a_day_say_what_they_will_read_too(self, grown, monkeypatch):
        said = []
        archive_expect = journal.JournalArchive.expect
        monkeypatch.setattr(journal.JournalArchive, "expect", lambda self, ids: said.append(ids) or archive_expect(self, ids))
        books = journal.load(grown)
        from ledger import checkpoints

        older = checkpoints.Prefix(books.store, 20)  # the store of books as of a mark
        older.expect([1, 2, 3])
        assert said == [[1, 2, 3]]

    def test_an_entry_taken_back_from_a_pickle_is_the_entry_as_read(self, grown):
        """Kept entries come back without `Entry.__init__` (`model._unpickled`): the same fields, of the same
        types, its data still read-only and the entry still frozen."""
        from types import MappingProxyType

        for entry in fresh(grown).entries:
            back = pickle.loads(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
            assert back == entry and type(back) is model.Entry
            assert [type(v) for v in vars(back).values()] == [type(v) for v in vars(entry).values()]
            assert model.to_json(back) == model.to_json(entry) and model.entry_hash(back) == entry.hash
            assert isinstance(back.data, MappingProxyType)
            with pytest.raises(dataclasses.FrozenInstanceError):
                back.memo = "changed"

    def test_entries_read_together_are_those_read_one_by_one_in_every_store(self, grown, monkeypatch):
        from ledger import checkpoints

        whole = {entry.id: entry for entry in fresh(grown).entries}
        books = journal.load(grown)
        count = books.count
        store = journal.Archived(books.store.archive, count - 1, whole[count - 1].hash)
        store.append(whole[count])  # the last entry as one appended since the books were read
        parts = books.store.archive.parts
        wanted = [1, parts[1].first, *range(parts[2].first, parts[2].first + parts[2].count), count - 1, count]
        asked = [count, *reversed(wanted), 0, count + 5, wanted[3]]  # any order, twice, ids none holds
        found = books.read(asked)
        assert list(found) == sorted(set(wanted)) and found == {i: whole[i] for i in sorted(set(wanted))}
        assert store.read(asked) == found
        assert journal.hold(journal.load(grown)).read(asked) == found  # entries held in memory
        older = checkpoints.Prefix(books.store, 20)  # books as of a mark hold its first 20 only
        assert older.read(asked) == {i: whole[i] for i in sorted(set(wanted)) if i <= 20}
        # What is made of them (`rows`), the same in every store, kept or not.
        def make(entries):
            return [(entry.id, entry.kind, entry.hash) for entry in entries]

        monkeypatch.setitem(cache._KEPT_MAGIC, "test-rows-", b"fundledger-test-rows\n")
        made = {i: (i, whole[i].kind, whole[i].hash) for i in sorted(set(wanted))}
        for _ in range(2):  # made and kept, then taken kept
            assert list(books.rows(asked, make, "test-rows-").items()) == list(made.items())
        assert list(grown.cache_dir.glob("test-rows-*"))
        assert store.rows(asked, make, "test-rows-") == made
        assert journal.hold(journal.load(grown)).rows(asked, make, "test-rows-") == made
        assert older.rows(asked, make, "test-rows-") == {i: row for i, row in made.items() if i <= 20}
        path = grown.journal_files()[1]
        stat = path.stat()
        path.write_bytes(path.read_bytes().replace(b"memo = ", b"memo =\t", 1))  # changed behind the cache's back
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its size and time as they were: the cache is taken
        with pytest.raises(CorruptJournal, match="not the entry the books were read from"):
            journal.load(grown).read(wanted)

    def test_a_few_entries_of_a_file_are_parsed_many_are_taken_kept(self, grown, monkeypatch):
        monkeypatch.setattr(journal, "KEPT_SHARE", 2)  # files of a few entries: "many" is half of them
        books = journal.load(grown)
        parts = books.store.archive.parts
        assert all(part.count >= 3 for part in parts[:-1])
        kept = []
        real = cache.kept_entries
        monkeypatch.setattr(cache, "kept_entries", lambda *a: kept.append(a[1]) or real(*a))
        books.entry(parts[0].first)  # nothing said: parsed, as a lone entry is cheaper parsed
        assert kept == []
        books.expect([parts[1].first])  # one entry of a file of several: parsed too
        books.entry(parts[1].first)
        assert kept == []
        books.expect(range(parts[2].first, parts[2].first + parts[2].count))  # the whole file: taken kept
        books.entry(parts[2].first)
        assert len(kept) == 1
        books.expect(None)  # everything (a whole register)
        books.entry(parts[0].first + 1)
        assert len(kept) == 2

    @pytest.mark.parametrize("damage", ["swapped", "flipped", "truncated", "not signed"])
    def test_kept_entries_not_signed_for_their_bytes_are_passed_over(self, grown, monkeypatch, damage):
        whole = list(fresh(grown).entries)
        first, second = self.kept(grown)[:2]
        others = {"truncated": first.read_bytes()[:-1], "not signed": pickle.dumps([])}
        damaged(first, second, damage, others)
        books = journal.load(grown)
        parsed = count_parsed(monkeypatch)
        books.expect(None)
        assert [books.entry(i) for i in range(1, books.count + 1)] == whole
        assert parsed[0] > len(journal.split_blocks(grown.journal_files()[-1].read_bytes())[1])  # one file parsed

    def test_kept_entries_of_a_file_forged_since_are_not_taken(self, grown):
        path = grown.journal_files()[0]
        assert (grown.cache_dir / (cache.ENTRIES_PREFIX + journal.hashlib.sha256(path.read_bytes()).hexdigest())).exists()
        data, stat = path.read_bytes(), path.stat()
        _, spans = journal.split_blocks(data)
        start, end = spans[1]
        forged = data[start:end].replace(b"date = 2024-", b"date = 2023-", 1)
        assert forged != data[start:end]
        path.write_bytes(data[:start] + forged + data[end:])
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        books = journal.load(grown)  # size and time as cached: the load takes the cache (a documented limit)
        books.expect(None)
        with pytest.raises(CorruptJournal, match="its file changed since"):
            books.entry(1)
        with pytest.raises(CorruptJournal):
            list(journal.load(grown).iter_entries())

    def test_kept_entries_rewrapped_as_the_books_are_never_unpickled(self, grown, monkeypatch):
        """A kept file's signature is over its kind too: re-wrapped as `.cache/books` (whose payload would begin
        with a digest the journal's author can steer into a pickle opcode), it is refused unread."""
        blob = self.kept(grown)[0].read_bytes()
        head = len(cache._ENTRIES_MAGIC)
        digest = bytes.fromhex(self.kept(grown)[0].name.removeprefix(cache.ENTRIES_PREFIX))
        books = grown.cache_dir / cache.CACHE_FILE
        books.write_bytes(cache._MAGIC + blob[head : head + 32] + digest + blob[head + 32 :])
        monkeypatch.setattr(cache.pickle, "loads", lambda *_: pytest.fail("unpickled a file signed as another kind"))
        assert cache.read(grown.cache_dir, ("Test fund", "EUR", "UK")) is None

    def test_nothing_is_read_from_kept_entries_without_the_cache(self, grown, monkeypatch):
        assert self.kept(grown)
        monkeypatch.setattr(cache, "kept_entries", lambda *_: pytest.fail("kept entries read with the cache off"))
        books = journal.load(grown, use_cache=False)  # as `verify` reads: every byte parsed
        books.expect(None)
        assert [books.entry(i).id for i in range(1, books.count + 1)] == list(range(1, 41))
        assert len(list(books.iter_entries())) == 40
        monkeypatch.setenv(cache.ENV_VAR, "off")
        assert len(list(journal.load(grown).iter_entries())) == 40

    def test_nothing_is_kept_without_the_cache(self, empty, small_parts, grown_built, monkeypatch):
        shutil.rmtree(empty)
        ledger = journal.open_ledger(copy_ledger(grown_built, empty, cache=False))
        monkeypatch.setenv(cache.ENV_VAR, "off")
        assert journal.load(ledger).count == 40
        assert self.kept(ledger) == []

    def test_kept_entries_no_cache_names_are_swept(self, grown, monkeypatch):
        named = self.kept(grown)
        assert named
        stale = grown.cache_dir / (cache.ENTRIES_PREFIX + "0" * 64)
        stale.write_bytes(b"entries of bytes no journal file has")
        (grown.cache_dir / cache.CACHE_FILE).unlink()
        journal.load(grown)
        later = time.time() + 601
        monkeypatch.setattr(cache.time, "time", lambda: later)
        (grown.cache_dir / cache.CACHE_FILE).unlink()
        journal.load(grown)
        assert not stale.exists()
        assert all(path.exists() for path in named)


class TestKeptRows:
    """A register by dates takes its rows kept beside the journal (`Books.rows`), made once from a file's entries,
    only for bytes that still have their digest; the links to reversals are the books' own, never kept."""

    SPEC = reports.RegisterFilter(start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))

    def kept(self, ledger) -> list[Path]:
        return sorted(ledger.cache_dir.glob(cache.REGISTER_ROWS + "*"))

    def register(self, ledger, spec=None, *, cached=True):
        books = journal.load(ledger, use_cache=cached)
        return reports.register_report(books, spec or self.SPEC).rows

    def made_from_entries(self, ledger, spec=None):
        """The rows as a filtered register makes them: from the entries read (`_rows`), nothing kept."""
        books = fresh(ledger)
        spec = spec or self.SPEC
        ids = reports.registered_ids(books, spec, reports._within(spec, books))
        read = books.read(ids)
        return tuple(reports._rows(books, spec, ids, reports.ZERO, read, reports._read_all(books, ids, read)))

    def test_rows_are_made_once_then_taken_kept_without_reading_an_entry(self, grown, monkeypatch):
        truth = self.made_from_entries(grown)
        assert self.register(grown) == truth  # made now, and kept for every file but the newest
        files = grown.journal_files()
        digests = {cache.REGISTER_ROWS + journal.hashlib.sha256(f.read_bytes()).hexdigest() for f in files[:-1]}
        assert {path.name for path in self.kept(grown)} == digests
        parsed = count_parsed(monkeypatch)
        monkeypatch.setattr(cache, "keep_entries", lambda *_: pytest.fail("kept again"))
        taken = []
        real = cache.kept_entries
        monkeypatch.setattr(cache, "kept_entries", lambda *a: taken.append((a[2:], real(*a) is not None)) or real(*a))
        assert self.register(grown) == truth
        assert parsed[0] == len(journal.split_blocks(files[-1].read_bytes())[1])  # only the newest file's
        assert ((cache.REGISTER_ROWS,), True) in taken and ((), True) not in taken  # rows taken, no entries

    def test_an_entry_reversed_after_its_rows_were_kept_says_so(self, grown):
        self.register(grown)
        note = fund.Note(dt.date(2024, 12, 1), memo="undo")
        writer.record(grown, lambda b: fund.reverse(b, 3, "entered twice", note))
        rows = self.register(grown)
        assert {row["id"]: row["link"] for row in rows}[3].startswith("reversed by #")
        assert rows == self.made_from_entries(grown)
        # As the books stood before that reversal (a register for a period that ends before it): no link.
        before = reports.register_report(journal.load(grown), reports.RegisterFilter(), period=reports.Period(
            dt.date(2024, 1, 1), dt.date(2024, 11, 30))).rows  # fmt: skip
        assert {row["id"]: (row["link"], row["reversed_by"]) for row in before}[3] == ("", None)

    def test_a_register_on_books_as_of_a_day_keeps_no_rows_made_with_what_they_lack(self, empty, monkeypatch):
        """Found by a review: a register on books as of a day (a mark's) made the rows of a whole journal file
        with those books, which lack the file's later entries: a reversal of one of them was made as an entry
        of its own, kept, and shown so by every later register."""
        from ledger import checkpoints

        monkeypatch.setattr(checkpoints, "GAP", 1)  # a mark at each month the journal opens: books as of a day
        ledger = journal.open_ledger(empty)  # are a mark's, and their store the books' own (`Prefix`)
        for op in PRELUDE:
            writer.record(ledger, _build(op))
        for day in (10, 20):
            writer.record(ledger, lambda b, d=day: fund.contribute(b, "Latvia", "1k", fund.Note(dt.date(2024, 3, d))))
        second = journal.load(ledger).count
        writer.record(ledger, lambda b: fund.reverse(b, second, "twice", fund.Note(dt.date(2024, 3, 20))))
        monkeypatch.setattr(journal, "PART_BYTES", 1)  # what follows in a file of its own: the first one is kept
        writer.record(ledger, lambda b: fund.contribute(b, "Latvia", "1k", fund.Note(dt.date(2024, 3, 25))))
        assert len(ledger.journal_files()) == 2
        shutil.rmtree(ledger.cache_dir)  # read once more, whole, with the marks
        older = checkpoints.as_of(journal.load(ledger), dt.date(2024, 3, 15))  # without the reversed entry
        assert isinstance(older.store, checkpoints.Prefix)
        march = reports.RegisterFilter(start=dt.date(2024, 2, 1), end=dt.date(2024, 3, 15))  # the mark's and after
        shown = [row["id"] for row in reports.register_report(older, march).rows]
        assert second - 1 in shown and second not in shown
        spec = reports.RegisterFilter(start=dt.date(2024, 2, 1), end=dt.date(2024, 3, 31))
        for _ in range(2):  # rows made now, then taken kept
            rows = reports.register_report(journal.load(ledger), spec).rows
            assert rows == self.made_from_entries(ledger, spec)
            assert {row["id"]: row["link"] for row in rows}[second + 1] == f"reverses #{second}"

    def test_rows_are_never_made_for_a_reversal_without_what_it_undoes(self, grown):
        books = fresh(grown)
        reversal = dataclasses.replace(books.entry(5), kind="reverse", data={"reverses": 10**6, "reason": "x"})
        with pytest.raises(LookupError):
            reports._register_rows(books, [reversal])

    @pytest.mark.parametrize("damage", ["swapped", "flipped", "as entries", "not signed"])
    def test_rows_not_signed_for_their_bytes_are_passed_over(self, grown, damage):
        truth = self.made_from_entries(grown)
        self.register(grown)
        first, second = self.kept(grown)[:2]
        entries = grown.cache_dir / first.name.replace(cache.REGISTER_ROWS, cache.ENTRIES_PREFIX)
        # "as entries": the same file's kept entries, signed as entries, under the rows' name
        others = {"as entries": entries.read_bytes(), "not signed": pickle.dumps([{"id": 1, "what": "forged"}] * 50)}
        damaged(first, second, damage, others)
        assert self.register(grown) == truth

    def test_rows_of_a_file_changed_behind_the_cache_are_not_taken(self, grown):
        self.register(grown)
        path = grown.journal_files()[1]
        stat = path.stat()
        path.write_bytes(path.read_bytes().replace(b"memo = ", b"memo =\t", 1))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its size and time as they were: the cache is taken
        with pytest.raises(CorruptJournal, match="not the entry the books were read from"):
            self.register(grown)

    def test_no_rows_are_kept_or_taken_without_the_cache(self, grown, monkeypatch):
        monkeypatch.setattr(cache, "kept_entries", lambda *_: pytest.fail("read with the cache off"))
        assert self.register(grown, cached=False) == self.made_from_entries(grown)
        assert self.kept(grown) == []

    def test_rows_no_cache_names_are_swept(self, grown, monkeypatch):
        self.register(grown)
        stale = grown.cache_dir / (cache.REGISTER_ROWS + "0" * 64)
        stale.write_bytes(b"old")
        os.utime(stale, (time.time() - 4000, time.time() - 4000))
        cache._sweep(grown.cache_dir, {p.name for p in grown.cache_dir.iterdir()} - {stale.name})
        monkeypatch.setattr(time, "time", lambda: stale.stat().st_mtime + 10_000)
        cache._sweep(grown.cache_dir, {p.name for p in grown.cache_dir.iterdir()} - {stale.name})
        assert not stale.exists() and self.kept(grown)


class TestSideFilesDamagedOrSwept:
    """The parts a cache keeps in files of their own: damaged, replaced or swept while a command runs."""

    @pytest.fixture
    def sided(self, grown, monkeypatch):
        monkeypatch.setattr(cache, "SIDE_BYTES", 1)  # every blob a side file, as at a million entries
        shutil.rmtree(grown.cache_dir)
        journal.load(grown)
        return grown

    def side_file(self, ledger, blob) -> Path:
        assert blob[0] == "side"
        return ledger.cache_dir / ("blob-" + blob[1].hex())

    def test_a_damaged_index_part_says_so_each_time_it_is_asked_for(self, sided):
        books = journal.load(sided)
        parts = books.index._parts
        for name in ("ids.source", "monthly"):
            self.side_file(sided, parts[name]).write_bytes(b"damaged")
        for _ in range(2):  # an import asks again for each row: the same clear error, never a KeyError
            with pytest.raises(LedgerError, match=r"read cache .* is damaged"):
                books.index.ids["source"]
            with pytest.raises(LedgerError, match=r"read cache .* is damaged"):
                getattr(books.index, "monthly")  # noqa: B009 (an attribute read is the question)

    def test_a_damaged_side_file_of_the_books_says_so_each_time_and_is_never_taken_as_empty(self, sided):
        books = journal.load(sided)
        self.side_file(sided, books.funding.shares._blob).write_bytes(pickle.dumps({}))
        for _ in range(2):
            with pytest.raises(LedgerError, match=r"read cache .* is damaged"):
                books.funding.of(model.UNALLOCATED)

    def test_a_pipe_or_a_link_in_place_of_a_side_file_is_refused_not_waited_on(self, sided, tmp_path):
        books = journal.load(sided)
        path = self.side_file(sided, books.index._parts["ids.source"])
        path.unlink()
        os.mkfifo(path)  # reading a pipe would wait for a writer for ever
        with pytest.raises(LedgerError, match="not a plain file"):
            books.index.ids["source"]
        path.unlink()
        (tmp_path / "elsewhere").write_bytes(b"x")
        path.symlink_to(tmp_path / "elsewhere")
        books = journal.load(sided)
        with pytest.raises(LedgerError, match=r"read cache .* is damaged"):
            books.index.ids["source"]

    def test_a_side_file_is_kept_ten_minutes_after_no_cache_names_it_however_old(self, sided, monkeypatch):
        running = journal.load(sided)  # a command that has read the cache, not yet whose money is where
        shares = self.side_file(sided, running.funding.shares._blob)
        hour_ago = time.time() - 3600
        for side in sided.cache_dir.glob("blob-*"):
            os.utime(side, (hour_ago, hour_ago))
        note = fund.Note(dt.date(2024, 6, 1), memo="one more")
        writer.record(sided, lambda b: fund.contribute(b, "Latvia", "1k", note))
        assert journal.load(sided).count == running.count + 1  # the cache written anew: other shares
        assert shares.exists()
        before = fold.rebuild(running.currency, fresh(sided).entries[: running.count])
        assert running.funding.of(model.UNALLOCATED) == before.funding.of(model.UNALLOCATED)  # the command reads on
        later = time.time() + 601
        monkeypatch.setattr(cache.time, "time", lambda: later)
        writer.record(sided, lambda b: fund.contribute(b, "Latvia", "1k", note))
        journal.load(sided)
        assert not shares.exists()  # ten minutes after it was first found unnamed: swept


def test_a_pipe_in_place_of_the_cache_is_passed_over_not_waited_on(grown):
    books_file = grown.cache_dir / cache.CACHE_FILE
    books_file.unlink()
    os.mkfifo(books_file)
    assert journal.load(grown).count == 40  # read from the journal, the pipe never opened for reading


@pytest.mark.parametrize("record", ['{"blob-x": NaN}', '{"blob-x": true}', "[1, 2]", "not json", '{"blob-x": 1e400}'])
def test_a_damaged_sweep_record_only_starts_the_ten_minutes_again(grown, monkeypatch, record):
    folder = grown.cache_dir
    (folder / "unnamed").write_text(record.replace("blob-x", "blob-" + "0" * 64))
    stale = folder / ("blob-" + "0" * 64)
    stale.write_bytes(b"no cache names me")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    cache._sweep(folder, set())
    assert stale.exists()  # first found unnamed now, whatever the record said
    later = time.time() + 601
    monkeypatch.setattr(cache.time, "time", lambda: later)
    cache._sweep(folder, set())
    assert not stale.exists()
