"""The journal on disk: append-only, readable by any TOML reader, chained, and honest about damage."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import journal, kinds, model
from ledger.errors import CorruptJournal, TornWrite

from conftest import COALITION, snapshot


def _journal_file(path):
    (only,) = (path / "journal").iterdir()
    return only


class TestAppendOnly:
    def test_each_record_only_appends(self, run):

        previous = b""
        for command in COALITION:
            run(command)
            now = _journal_file(run.path).read_bytes()
            assert now.startswith(previous)
            assert len(now) > len(previous)
            previous = now

    def test_settings_never_change_after_init(self, coalition):
        before = (coalition.path / "ledger.toml").read_bytes()
        coalition("contribute Latvia 1M --date 2025-05-01")
        assert (coalition.path / "ledger.toml").read_bytes() == before

    def test_whole_file_is_valid_toml_with_string_amounts(self, coalition):
        data = tomllib.loads(_journal_file(coalition.path).read_text())
        entries = data["entry"]
        assert [e["id"] for e in entries] == list(range(1, 11))
        amounts = [p["amount"] for e in entries for p in e["postings"]]
        assert amounts and all(isinstance(a, str) for a in amounts)


class TestChain:
    def test_chain_can_be_rechecked_in_a_few_lines(self, coalition):
        """What docs/FORMAT.md tells a reader to do, done independently of ledger.model."""
        entries = tomllib.loads(_journal_file(coalition.path).read_text())["entry"]
        prev = "0" * 64
        for record in entries:
            body = {k: v for k, v in record.items() if k != "hash"}
            body["date"] = record["date"].isoformat()
            body["recorded_at"] = record["recorded_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
            canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert record["prev"] == prev
            assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == record["hash"]
            prev = record["hash"]

    def test_seal_is_the_newest_hash(self, coalition):
        books = journal.load(journal.open_ledger(coalition.path))
        assert books.seal == books.entries[-1].hash
        assert coalition.json("balance")["seal"] == books.seal

    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            ('amount = "20000000.00"', 'amount = "21000000.00"', "does not match its hash"),
            ("id = 3\n", "id = 33\n", "does not match its hash"),
            ('kind = "pay"', 'kind = "payment"', "of kind 'payment', which this version of fundledger does not know"),
            ('amount = "5000000.00"', "amount = 5000000.00", "not a decimal string"),
        ],
    )
    def test_edits_are_caught(self, coalition, old, new, message):
        path = _journal_file(coalition.path)
        path.write_text(path.read_text().replace(old, new, 1))
        with pytest.raises(CorruptJournal, match=message):
            journal.load(journal.open_ledger(coalition.path))

    def test_swapped_entries_break_the_sequence(self, coalition):
        path = _journal_file(coalition.path)
        chunks = path.read_text().split("[[entry]]\n")
        chunks[2], chunks[3] = chunks[3], chunks[2]
        path.write_text("[[entry]]\n".join(chunks))
        with pytest.raises(CorruptJournal, match="entry #3 is out of sequence: the next id is 2"):
            journal.load(journal.open_ledger(coalition.path))


class TestTornWrite:
    def test_unfinished_tail_is_named_with_file_and_offset(self, coalition):
        path = _journal_file(coalition.path)
        size = path.stat().st_size
        with open(path, "ab") as handle:
            handle.write(b"\n[[entry]]\nid = 11\ndate = 2025-")
        with pytest.raises(TornWrite) as caught:
            journal.load(journal.open_ledger(coalition.path))
        assert caught.value.offset == size + 1
        assert f"journal/{path.name} ends with an unfinished entry at byte {size + 1}" in str(caught.value)

    def test_cut_removes_exactly_the_tail(self, coalition):
        path = _journal_file(coalition.path)
        good = path.read_bytes()
        with open(path, "ab") as handle:
            handle.write(b'\n[[entry]]\nid = 11\nmemo = "half')
        ledger = journal.open_ledger(coalition.path)
        with pytest.raises(TornWrite) as caught:
            journal.load(ledger)
        removed = journal.cut_unfinished_tail(ledger, caught.value)
        assert removed == b'[[entry]]\nid = 11\nmemo = "half'
        assert path.read_bytes() == good + b"\n"
        assert journal.load(ledger).last_id == 10

    def test_damage_before_the_end_is_not_a_torn_write(self, coalition):
        path = _journal_file(coalition.path)
        text = path.read_text()
        path.write_text(text.replace('kind = "earmark"', 'kind = "earmark', 1))
        with pytest.raises(CorruptJournal) as caught:
            journal.load(journal.open_ledger(coalition.path))
        assert not isinstance(caught.value, TornWrite)


class TestHostileText:
    FORGERIES = (
        'x"\n[[entry]]\nid = 99\nkind = "pay"',
        '"""\nmemo = "forged"',
        "[bold red]PAID[/] [link=https://evil.example]click[/link]",
        "\x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07\r\bover",
        "\u202eevil\u200b\u2066",
        "tab\there\x00nul\x7fdel",
    )

    @pytest.mark.parametrize("memo", FORGERIES)
    def test_memo_is_stored_exactly_and_shown_inert(self, coalition, memo):
        args = ["contribute", "Latvia", "1k", "--date", "2025-05-01", "--memo", memo, "--source", memo]
        printed = json.loads(coalition([*args, "--json"]).stdout)
        assert printed["memo"] == memo and printed["source"] == memo
        books = journal.load(journal.open_ledger(coalition.path))
        assert books.last_id == 11
        assert books.entries[-1].memo == memo
        assert books.entries[-1].source == memo
        shown = coalition(["contribute", "Latvia", "1k", "--date", "2025-05-01", "--memo", memo]).stdout
        assert "\x1b[2J" not in shown and "\x1b]8" not in shown and "\u202e" not in shown and "\r" not in shown

    def test_very_long_memo(self, coalition):
        memo = "m" * 1_000_000
        entry = json.loads(
            coalition(["contribute", "Latvia", "1k", "--date", "2025-05-01", "--memo", memo, "--json"]).stdout
        )
        assert entry["memo"] == memo
        assert journal.load(journal.open_ledger(coalition.path)).entries[-1].memo == memo


class TestShape:
    def test_from_record_refuses_floats_and_unknown_fields(self):
        record = model.to_record(
            model.Entry(
                1,
                __import__("datetime").date(2025, 1, 1),
                model.now(),
                "earmark",
                (model.Posting("a", Decimal("1.00"), "EUR"),),
                data={"earmark": "x"},
            )
        )
        assert kinds.from_record(record).data["earmark"] == "x"
        with pytest.raises(ValueError, match="unknown field"):
            kinds.from_record({**record, "extra": 1})
        with pytest.raises(ValueError, match="not a decimal string"):
            kinds.from_record({**record, "postings": [{"account": "a", "amount": Decimal("1.00"), "currency": "EUR"}]})
        with pytest.raises(ValueError, match="field 'id' must be int"):
            kinds.from_record({**record, "id": True})

    def test_files_unchanged_when_a_load_fails(self, coalition):
        path = _journal_file(coalition.path)
        path.write_text(path.read_text().replace('kind = "pay"', 'kind = "payment"', 1))
        before = snapshot(coalition.path)
        assert coalition("contribute Latvia 1k", ok=False).exit_code == 1
        assert snapshot(coalition.path) == before


class TestParts:
    """Journal files are split into parts so that no commit's blob grows without bound."""

    def test_next_file(self):
        cap = journal.PART_BYTES
        assert journal.next_file([], 2025, 100) == "2025-0001.toml"
        assert journal.next_file([("2025-0001.toml", 100)], 2025, 100) == "2025-0001.toml"
        assert journal.next_file([("2025-0001.toml", cap - 50)], 2025, 100) == "2025-0002.toml"
        assert journal.next_file([("2025-0001.toml", 10)], 2026, 100) == "2026-0001.toml"
        assert journal.next_file([("2026-0003.toml", 10)], 2025, 100) == "2026-0003.toml"  # clock set back
        assert journal.next_file([("2025-0001.toml", 0)], 2025, cap * 2) == "2025-0001.toml"  # one big entry fits alone

    def test_a_full_part_starts_the_next_and_loading_reads_across_parts(self, run, monkeypatch):
        monkeypatch.setattr(journal, "PART_BYTES", 2000)
        for command in COALITION:
            run(command)
        files = sorted(p.name for p in (run.path / "journal").iterdir())
        assert len(files) >= 3 and files[0].endswith("-0001.toml")
        assert all((run.path / "journal" / name).stat().st_size <= 2000 or name == files[-1] for name in files[:-1])
        books = journal.load(journal.open_ledger(run.path))
        assert [e.id for e in books.entries] == list(range(1, 11))


class TestReadingBack:
    """Books read from a journal give their entries back from it, streamed, never all held."""

    def test_entries_streamed_and_hashes_read_from_the_chain(self, coalition):
        coalition("contribute Latvia 1k --date 2025-05-01")
        ledger = journal.open_ledger(coalition.path)
        held = journal.hold(journal.load(ledger)).entries
        books = journal.load(ledger)
        assert list(books.iter_entries()) == held
        assert list(books.hashes()) == [(entry.id, entry.hash) for entry in held]
        assert books.store._all is None

    def test_a_file_changed_behind_the_books_back_is_caught_while_streaming(self, coalition):
        ledger = journal.open_ledger(coalition.path)
        books = journal.load(ledger)
        path = _journal_file(coalition.path)
        blocks = path.read_bytes().split(b"[[entry]]\n")
        path.write_bytes(b"[[entry]]\n".join(blocks[:-1]))  # the last entry gone
        with pytest.raises(CorruptJournal, match="changed while it was being read"):
            list(books.iter_entries())


def test_postings_read_again_are_shared_and_still_checked():
    """Entries moving the same sum between the same accounts share one posting (`model._POSTINGS`); a posting
    that does not read is never kept, so reading it again is refused again."""
    first = model.from_record(_record("1.00"), {})
    second = model.from_record(_record("1.00"), {})
    assert first.postings[0] is second.postings[0] and first.postings[0].amount == Decimal("1.00")
    for _ in range(2):
        with pytest.raises(ValueError, match="exactly 2 places"):
            model.from_record(_record("1.0"), {})
    assert ("assets:fund:unallocated", "1.0", "EUR") not in model._POSTINGS


def _record(amount: str) -> dict:
    stamp = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    postings = [{"account": "assets:fund:unallocated", "amount": amount, "currency": "EUR"},
                {"account": "income:interest", "amount": f"-{amount}", "currency": "EUR"}]  # fmt: skip
    return {"id": 1, "date": stamp.date(), "recorded_at": stamp, "kind": "interest", "memo": "", "source": "",
            "postings": postings, "prev": model.GENESIS, "hash": ""}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"[[entry]]", b"[[entry]]\n", b"[[entry]]\r\n", b"\n", b"\r", b"x", b"[", b"]"]), max_size=30),
    st.integers(0, 40),
)
def test_blocks_are_cut_where_a_line_starts_with_a_header(pieces, begin):
    """`split_blocks` finds its headers as text and checks where their lines start: the same cuts as the anchored
    pattern `_HEADER`, from any byte on."""
    data = b"".join(pieces)
    begin = min(begin, len(data))
    anchored = [match.start() for match in journal._HEADER.finditer(data, begin)]
    assert [start for start, _ in journal.split_blocks(data, begin)[1]] == anchored


def test_times_are_written_out_by_their_instant_whatever_was_written_before():
    """UTC times are kept once written out (`model._STAMPS`); a local time never is: the same wall time an hour
    apart at a change of clocks (`fold`) compares equal in Python, and must not share a text."""
    zoneinfo = pytest.importorskip("zoneinfo", reason="the time-zone rules of the standard library")
    try:
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time-zone database on this machine")
    first, second = (dt.datetime(2023, 10, 29, 2, 30, tzinfo=berlin, fold=fold) for fold in (0, 1))
    assert first == second  # Python's own equality, which a kept text must not trust
    assert [model.format_timestamp(first), model.format_timestamp(second)] == ["2023-10-29T00:30:00Z", "2023-10-29T01:30:00Z"]
    utc = dt.datetime(2025, 3, 1, 9, 0, 5, tzinfo=dt.UTC)
    assert model.format_timestamp(utc) == model.format_timestamp(utc) == "2025-03-01T09:00:05Z"
    assert model._STAMPS[utc] == "2025-03-01T09:00:05Z" and first not in model._STAMPS
