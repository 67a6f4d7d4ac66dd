"""The whole register is written row by row: the same JSON and CSV as when laid out whole, and `| head` stops it."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import journal, render, reports

from test_index import _books, operations

LEDGERS = Path(__file__).resolve().parent.parent / "ledgers"


@pytest.fixture(params=["drone-coalition", "examples/procurement"])
def example(request, tmp_path):
    """The books of a bundled ledger (every kind of entry between them), read from a copy of its journal."""
    folder = shutil.copytree(LEDGERS / request.param, tmp_path / "fund", ignore=shutil.ignore_patterns(".cache"))
    return journal.load(journal.open_ledger(folder))


def _whole(books) -> tuple[reports.Report, reports.Report]:
    """The whole register as it streams, and the same with its rows laid out in memory."""
    report = reports.register_report(books, reports.RegisterFilter())
    assert isinstance(report.rows, reports.Rows)
    return report, dataclasses.replace(report, rows=tuple(report.rows))


def _streamed(report: reports.Report, fmt: str) -> str:
    out = io.StringIO()
    render.stream(report, fmt, out)
    return out.getvalue()


class TestSameOutput:
    """Streamed JSON and CSV are byte for byte what the renderers give for the rows held in memory."""

    def test_json_of_the_examples(self, example):
        streamed, held = _whole(example)
        text = _streamed(streamed, "json")
        assert text == render.dumps(render.report_json(held)) + "\n"
        assert len(json.loads(text)["rows"]) == example.count

    def test_csv_of_the_examples(self, example):
        streamed, held = _whole(example)
        assert _streamed(streamed, "csv") == render.report_csv(held)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(operations, min_size=0, max_size=30))
    def test_json_and_csv_of_random_ledgers(self, ops):
        """Backdated entries and reversals change which entry's fields come first: the CSV header follows."""
        streamed, held = _whole(_books(ops))
        assert _streamed(streamed, "json") == render.dumps(render.report_json(held)) + "\n"
        assert _streamed(streamed, "csv") == render.report_csv(held)

    def test_a_long_table_lists_every_row_once_in_order(self, example, monkeypatch):
        monkeypatch.setattr(render, "STREAM_ROWS", 3)
        streamed, held = _whole(example)
        lines = _streamed(streamed, "table").splitlines()
        ids = [int(line.split()[0]) for line in lines if line.split()[:1] and line.split()[0].isdigit()]
        assert ids == [row["id"] for row in held.rows]
        assert lines[-1].strip().startswith(("as of", "memo", "…", "reversal"))
        assert any(f"{example.count} entries" in line for line in lines)
        header = next(line for line in lines if "Kind" in line)
        for line in lines:  # every row's kind starts where the header's does: widths known before the rows
            if line.split()[:1] and line.split()[0].isdigit():
                assert line[header.index("Kind") - 1] == " " and line[header.index("Kind")] != " "


class ClosedPipe(io.StringIO):
    """An output whose reader goes away after `lines` lines, as `head` does."""

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.left = lines

    def write(self, text: str) -> int:
        self.left -= text.count("\n")
        if self.left < 0:
            raise BrokenPipeError
        return super().write(text)


class TestStopsEarly:
    """A reader that stops after a few lines stops the reading of the journal too."""

    @pytest.mark.parametrize(("fmt", "lines"), [("table", 8), ("json", 20), ("csv", 5)])
    def test_head_reads_only_the_first_entries(self, fmt, lines, monkeypatch, tmp_path):
        monkeypatch.setattr(render, "STREAM_ROWS", 3)
        monkeypatch.setattr(render, "CHUNK_ROWS", 2)
        read: list[int] = []
        real = journal.parse_entry
        monkeypatch.setattr(journal, "parse_entry", lambda chunk, **kw: read.append(1) or real(chunk, **kw))
        folder = shutil.copytree(LEDGERS / "examples/procurement", tmp_path / "fund")
        books = journal.load(journal.open_ledger(folder))
        read.clear()
        report = reports.register_report(books, reports.RegisterFilter())
        with pytest.raises(BrokenPipeError):
            render.stream(report, fmt, ClosedPipe(lines))
        assert 0 < len(read) <= 12 < books.count
