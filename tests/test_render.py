"""Renderings of a small ledger against golden files (rewrite them with `pytest --update-golden`)."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from ledger import journal, render, reports
from ledger.text import inert

from conftest import copy_ledger

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def books(run, frozen_clock, coalition_frozen_built):
    """The worked example recorded at the frozen time (once per test run; each test gets a copy)."""
    shutil.rmtree(run.path)
    copy_ledger(coalition_frozen_built, run.path)
    return journal.load(journal.open_ledger(run.path))


def _text(renderable, width: int) -> str:
    out = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, legacy_windows=False)
    out.print(renderable, crop=False)  # as render.emit prints it
    return out.file.getvalue()


# The worked example's seal at the frozen time; only test_the_worked_examples_seal compares it.
SEAL = "8b6bd41b6bf96ee5643468f3d3bf66f4ee49d99e6a57e8e1cdb6d7b9e01556d8"


def without_seal(text: str, seal: str) -> str:
    """The output with the books' seal taken out, so golden files are about the rendering, not the hash.

    The whole hash (JSON, CSV) becomes <seal>; the part a table shows after "seal " (12 digits, or fewer where
    the line is cut) becomes as many dots, so columns and boxes keep their width. Any other hash, or the
    prefix of any other hash after "seal ", is left as it is, and so fails the comparison.
    """
    text = text.replace(seal, "<seal>")
    return re.sub(r"(seal\s+)([0-9a-f]+)", lambda m: m[1] + "·" * len(m[2]) if seal.startswith(m[2]) else m[0], text)


def _check(request, books, name: str, actual: str) -> None:
    actual = without_seal(actual, books.seal)
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no golden file {name}: run pytest --update-golden and review it"
    assert actual == path.read_text(encoding="utf-8")


REPORTS = ["balance", "contributors", "pledges", "earmarks", "packages", "members", "register"]


def _report(books, name):
    if name == "register":
        return reports.register_report(books, reports.RegisterFilter())
    return getattr(reports, f"{name}_report")(books)


class TestGolden:
    @pytest.mark.parametrize("name", REPORTS)
    @pytest.mark.parametrize("width", [80, 60])
    def test_table(self, request, books, name, width):
        _check(request, books, f"{name}-{width}.txt", _text(render.report_table(_report(books, name), width), width))

    @pytest.mark.parametrize("name", REPORTS)
    def test_json_and_csv(self, request, books, name):
        report = _report(books, name)
        _check(request, books, f"{name}.json", render.emit(report, "json"))
        _check(request, books, f"{name}.csv", render.emit(report, "csv"))

    @pytest.mark.parametrize("width", [100, 80, 60])
    def test_summary(self, request, books, width):
        view = render.summary_view(reports.summary_report(books), width)
        _check(request, books, f"summary-{width}.txt", _text(view, width))

    def test_summary_json(self, request, books):
        _check(request, books, "summary.json", render.emit(reports.summary_report(books), "json"))

    def test_the_worked_examples_seal(self, books):
        """The one place the seal is pinned: the worked example at the frozen time always hashes the same."""
        assert books.seal == SEAL
        assert f"seal {SEAL[:12]}" in _text(render.summary_view(reports.summary_report(books), 100), 100)
        assert json.loads(render.emit(reports.summary_report(books), "json"))["seal"] == SEAL

    def test_golden_files_hold_no_seal(self):
        for path in GOLDEN.iterdir():
            text = path.read_text(encoding="utf-8")
            assert SEAL not in text and f"seal {SEAL[:5]}" not in text, path.name

    def test_only_the_seal_is_taken_out(self):
        seal = "ab" * 32
        other = "cd" * 32
        assert without_seal(f"seal {seal[:12]} │ seal {seal[:5]}", seal) == f"seal {'·' * 12} │ seal {'·' * 5}"
        assert without_seal(f'"seal": "{seal}", "hash": "{other}"', seal) == f'"seal": "<seal>", "hash": "{other}"'
        assert without_seal(f"seal {other[:12]}", seal) == f"seal {other[:12]}"


class TestGoldenPeriods:
    """A quarter of the worked example: opening, change and closing, and the register's opening line."""

    Q1 = reports.parse_period("2025Q1")

    def test_summary(self, request, books):
        summary = reports.summary_report(books, period=self.Q1)
        _check(request, books, "summary-2025Q1-80.txt", _text(render.summary_view(summary, 80), 80))
        _check(request, books, "summary-2025Q1.json", render.emit(summary, "json"))

    @pytest.mark.parametrize("name", ["balance", "contributors", "earmarks", "packages"])
    def test_reports(self, request, books, name):
        report = getattr(reports, f"{name}_report")(books, period=self.Q1)
        _check(request, books, f"{name}-2025Q1-100.txt", _text(render.report_table(report, 100), 100))
        _check(request, books, f"{name}-2025Q1.json", render.emit(report, "json"))

    def test_register(self, request, books):
        spec = reports.RegisterFilter(account="assets:fund:earmarked")
        report = reports.register_report(books, spec, period=reports.parse_period("2025-02-05..2025-04-30"))
        _check(request, books, "register-earmarked-80.txt", _text(render.report_table(report, 80), 80))

    def test_by_quarter(self, request, books):
        report = reports.by_period_report(books, "contributors", "quarterly", reports.parse_period("2025"))
        _check(request, books, "contributors-quarterly-100.txt", _text(render.report_table(report, 100), 100))
        _check(request, books, "contributors-quarterly.csv", render.emit(report, "csv"))


class TestRendering:
    def test_summary_json_has_the_documented_keys_and_string_amounts(self, books):
        data = json.loads(render.emit(reports.summary_report(books), "json"))
        keys = {
            "ledger",
            "currency",
            "as_of",
            "entries",
            "seal",
            "contributions",
            "received",
            "outstanding",
            "unallocated",
            "earmarked",
            "committed",
            "paid",
            "cash",
            "members_active",
            "members_pending",
        }
        assert keys <= set(data)
        assert data["received"] == "35000000.00"
        assert isinstance(data["members_active"], int)

    @pytest.mark.parametrize(
        ("name", "keys"),
        [
            ("contributors", {"member", "status", "pledged", "received", "outstanding"}),
            ("earmarks", {"earmark", "purpose", "allocated", "committed", "paid", "available", "pledged_outstanding"}),
            ("packages", {"package", "memo", "date", "earmarks", "amount", "paid", "remaining", "status"}),
            ("members", {"member", "status", "role", "joined", "applied"}),
            ("balance", {"account", "currency", "balance"}),
        ],
    )
    def test_report_json_rows_have_the_documented_keys(self, books, name, keys):
        data = json.loads(render.emit(_report(books, name), "json"))
        assert {"report", "currency", "as_of", "seal", "rows"} <= set(data)
        assert data["rows"] and all(keys <= set(row) for row in data["rows"])

    def test_register_json_rows_are_entries(self, books, run):
        data = json.loads(render.emit(_report(books, "register"), "json"))
        printed = json.loads(run("contribute Latvia 1k --date 2025-05-01 --json").stdout)
        assert set(data["rows"][0]) <= set(printed) | {"member", "role", "amount", "reverses", "reversed_by"}
        package = next(row for row in data["rows"] if row["id"] == 8)
        assert package["postings"][0] == {
            "account": "assets:fund:committed:recon-drones-2025-03",
            "amount": "20000000.00",
            "currency": "EUR",
        }

    def test_html_and_svg_files(self, coalition, tmp_path):
        coalition(f"report summary --html {tmp_path / 's.html'}")
        coalition(f"report contributors --svg {tmp_path / 'c.svg'}")
        assert "€35,000,000.00" in (tmp_path / "s.html").read_text()
        svg = (tmp_path / "c.svg").read_text()
        assert svg.startswith("<?xml") and "<svg" in svg and "<!DOCTYPE" not in svg

    def test_one_format_at_a_time(self, coalition):
        for two in ("--json --csv", "--csv --json", "--json --html x.html", "--html x.html --pdf y.pdf"):
            result = coalition(f"report {two}", ok=False)
            assert result.exit_code == 2 and "choose one of" in result.stderr and result.stdout == "", two

    def test_no_color_means_no_escape_codes(self, coalition):
        out = coalition("report contributors", env={"NO_COLOR": "1", "TERM": "xterm-256color"}).stdout
        assert "\x1b[" not in out

    def test_markup_in_names_and_memos_is_shown_not_interpreted(self, coalition):
        memo = "[bold red]PAID[/] \x1b[31m\u202e"
        coalition(["package", "evil", "1k", "--envelope", "unallocated", "--date", "2025-05-01", "--memo", memo])
        out = coalition("report packages", env={"COLUMNS": "200"}).stdout
        assert "[bold red]PAID[/]" in out
        assert "\x1b[31m" not in out and "\\e[31m" in out and "\\u202e" in out

    def test_inert(self):
        assert inert("a\x1b[2Jb\r\u200b") == "a\\e[2Jb\\r\\u200b"
        assert inert("Türkiye — ok") == "Türkiye — ok"


class TestLongTables:
    """A balance of hundreds of accounts is laid out line by line: every row, whole, in a linear time."""

    @pytest.fixture
    def many(self):
        import datetime as dt

        from ledger import fold, fund
        from ledger.books import Books

        books = Books("EUR")
        day = fund.Note(dt.date(2025, 1, 1))
        steps = [lambda b: fund.join(b, "Latvia", "member", day), lambda b: fund.contribute(b, "Latvia", "1bn", day)]
        steps += [lambda b, n=n: fund.package(b, f"p{n:03d}", f"{n + 1}k", ["unallocated"], day) for n in range(520)]
        for build in steps:
            fold.fold(books, build(books).sealed(books.last_id + 1, books.seal))
        return books

    def rows(self, text: str) -> list[tuple[str, str]]:
        return [(line.split()[0], line.split()[-1]) for line in text.splitlines() if "€" in line and line.split()]

    def test_every_row_whole(self, many):
        report = reports.balance_report(many)
        rows = self.rows(_text(render.report_table(report, 100), 100))
        assert len(rows) == len(report.rows) + 1  # and the total
        assert ("p519", "€520,000.00") in rows

    def test_too_narrow_for_a_line_a_row_is_a_block(self, many):
        text = _text(render.report_table(reports.balance_report(many), 20), 20)
        assert "€520,000.00" in text.split()


def test_register_csv_never_has_a_postings_column(tmp_path):
    """A register of entries that move no money (joins only) has the same kind of columns as any other."""
    from conftest import recorded

    run = recorded(tmp_path / "f", ["member join Latvia --date 2024-01-01", "member join Estonia --date 2024-01-02"])
    header = run("report register --csv").stdout.splitlines()[0].split(",")
    assert "postings" not in header
    assert header[:4] == ["id", "date", "recorded_at", "kind"] and "amount" in header
    assert run.json("report register")["rows"][0]["postings"] == []  # JSON keeps the nested list


def _styled(renderable, width: int) -> str:
    out = Console(file=io.StringIO(), width=width, color_system="standard", force_terminal=True, legacy_windows=False)
    out.print(renderable, crop=False)
    return out.file.getvalue()


@pytest.mark.parametrize("width", [100, 40])
def test_a_table_on_a_terminal_keeps_its_styles_and_its_characters(books, width):
    """Tables are drawn as joined pieces (render._Line): on a terminal each piece keeps its style."""
    table = render.report_table(_report(books, "balance"), width)
    styled = _styled(table, width)
    assert "\x1b[1massets\x1b[0m" in styled  # a top account, bold
    assert re.search(r"\x1b\[31m-€[0-9,.]+\x1b\[0m", styled)  # a negative amount, red
    assert re.sub(r"\x1b\[[0-9;]*m", "", styled) == _text(table, width)
    statement = render.statement_view(reports.statement_report(books, "Latvia"), width)
    styled = _styled(statement, width)
    assert "\x1b[1mPledged\x1b[0m" in styled and "\x1b[1mPledges and receipts\x1b[0m" in styled
    assert re.sub(r"\x1b\[[0-9;]*m", "", styled) == _text(statement, width)


@pytest.mark.parametrize(
    "text", ["€1,234.56", "-£0.01", "a—b…", "█▓░", "日本", "e\u0301", "€ 日本", "", "plain", "a\tb", "\x1b[1m", "a\x00"]
)
def test_a_cell_is_as_wide_as_rich_measures_it(text):
    from rich.cells import cell_len
    from rich.text import Text

    assert render._Cell(text).cell_len == Text(text).cell_len == cell_len(Text(text).plain)
