"""HTML reports (issue 17): one self-contained document per report, read with html.parser, no browser.

Each page is checked for what a ministry and a browser need (lang, title,
charset, a captioned table with a head per table), for figures equal to the
report's JSON, for user text that stays text, and for no request to anywhere.
The output options (issue 23): --html/--svg/--pdf FILE or -o FILE, one format.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ledger import html

from conftest import Runner, new_ledger

EXAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "examples" / "procurement"
SAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "drone-coalition"

# Every report, as its --html page is asked for (approvals needs a git history: tested in test_four_eyes' ledger).
REPORTS = [
    "summary",
    "summary --period 2025Q2",
    "summary --as-of 2025-03-31",
    "balance",
    "balance --period 2025",
    "balance --yearly",
    "contributors",
    "contributors --original",
    "contributors --quarterly",
    "contributors --period 2025Q1",
    "pledges",
    "pledges --overdue --as-of 2025-10-15",
    "earmarks",
    "earmarks --period 2025Q2",
    "earmarks --monthly --period 2025Q1",
    "packages",
    "packages --period 2025",
    "members",
    "register",
    "register --account assets:fund:unallocated --from 2025-07-01",
    "register --account income:contributions:northland",
    "rates",
    "statement Northland",
    "statement Eastmark --period 2025",
    "funding",
    "funding --member Northland",
    "suppliers",
    "deliveries",
    "closes",
    "reconcile",
]


class Page(HTMLParser):
    """What a test needs from a page: its language, title, tables, figures, text and every address it names."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.charset = False
        self.title = ""
        self.tables: list[dict] = []
        self.values: list[str] = []  # every data-value
        self.text: list[str] = []
        self.addresses: list[tuple[str, str, str]] = []  # (tag, attribute, value) for src/href
        self.tags: list[str] = []
        self._in: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag not in ("meta", "br", "img", "link", "input", "path", "rect", "use", "stop", "line", "polyline"):
            self._in.append(tag)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "meta" and "charset" in attrs:
            self.charset = attrs["charset"].lower() == "utf-8"
        if tag == "table":
            self.tables.append({"caption": "", "thead": False, "rows": 0})
        if tag == "thead" and self.tables:
            self.tables[-1]["thead"] = True
        if tag == "tr" and self.tables:
            self.tables[-1]["rows"] += 1
        if "data-value" in attrs:
            self.values.append(attrs["data-value"])
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            if name in attrs:
                self.addresses.append((tag, name, attrs[name]))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_endtag(self, tag):
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass

    def handle_data(self, data):
        if "title" in self._in and "svg" not in self._in:
            self.title += data
        if "caption" in self._in and self.tables:
            self.tables[-1]["caption"] += data
        if "style" not in self._in:
            self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def _grouped(value: str) -> str:
    """An amount as a page writes it, without its currency and sign: '30,000,000.00'."""
    return f"{Decimal(value).copy_abs():,}"


_MONEY = re.compile(r"-?[0-9]+\.[0-9]{2}")


def _figures(data, *, skip=("postings", "seal", "prev", "hash", "rate", "periods")) -> list[str]:
    """Every amount of a report's JSON (rows, totals, headlines, a statement's lines), nested records too."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key not in skip:
                found += _figures(value)
    elif isinstance(data, list):
        for item in data:
            found += _figures(item)
    elif isinstance(data, str) and _MONEY.fullmatch(data):
        found.append(data)
    return found


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Runner:
    """The fictional procurement year, copied once for this module (reports only read it)."""
    folder = tmp_path_factory.mktemp("html") / "procurement"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".cache"))
    return Runner(folder)


def _page(run: Runner, command: str, tmp_path: Path) -> tuple[str, Page]:
    out = tmp_path / "page.html"
    result = run(f"report {command} --html {out}")
    assert result.stderr == f"Wrote {out}.\n"
    text = out.read_text(encoding="utf-8")
    return text, Page(text)


@pytest.fixture(scope="module")
def example_page(example, tmp_path_factory) -> Callable[[str], tuple[str, Page]]:
    """Each report's page of the example, written once for the module (the pages only read the books)."""
    written: dict[str, tuple[str, Page]] = {}

    def page(command: str) -> tuple[str, Page]:
        if command not in written:
            written[command] = _page(example, command, tmp_path_factory.mktemp("page"))
        return written[command]

    return page


class TestEveryReport:
    """Every report's page is a document: lang, title, charset, captioned tables, the JSON's figures, no request."""

    @pytest.mark.parametrize("command", REPORTS)
    def test_structure_and_figures(self, example, example_page, command):
        text, page = example_page(command)
        data = json.loads(example(f"report {command} --json").stdout)
        assert text.startswith("<!DOCTYPE html>\n")
        for rule in ("size: A4", "counter(page)", "thead { display: table-header-group; }", "tabular-nums"):
            assert rule in text, rule  # a print stylesheet, and figures in columns
        assert page.lang == "en" and page.charset
        assert data["ledger"] in page.title and page.title.strip()
        assert page.tables, "a page with no table"
        for table in page.tables:
            assert table["caption"].strip() and table["thead"], table
        words = page.words
        if data["report"] == "register":  # its rows are whole entries: the figures are the amounts it lists
            keys = (
                ("amount", "change", "running_balance") if "account" not in command else ("change", "running_balance")
            )
            data = {**data, "rows": [{k: row.get(k) for k in keys} for row in data["rows"]]}
        for figure in _figures(data):
            assert _grouped(figure) in words, f"{figure} of the JSON is not on the page"
        values = set(page.values)
        for row in data.get("rows", []):
            for key in ("amount", "received", "outstanding", "paid", "balance", "available", "remaining"):
                if isinstance(row.get(key), str):
                    assert row[key] in values, f"{key} {row[key]} is not a data-value of the page"
        assert not re.search(r"\btoday\b", words, re.IGNORECASE)
        assert "fundledger verify " in words and data["seal"][:12] in words

    @pytest.mark.parametrize("command", REPORTS)
    def test_no_request_to_anywhere(self, example_page, command):
        text, page = example_page(command)
        assert not {"script", "link", "iframe", "img", "object", "embed"} & set(page.tags)
        assert "@import" not in text and "url(http" not in text and "@font-face" not in text
        for tag, name, address in page.addresses:
            if address.startswith("#"):  # a chart's reference to its own parts
                continue
            assert tag == "a" and name == "href", (tag, name, address)  # only links to cited sources
        assert "javascript:" not in text.lower()


class TestHeader:
    """The header names the fund, the report, the day or the period written out, and how to check the seal."""

    def test_as_of_the_last_entry_when_no_day_is_given(self, example, tmp_path):
        _, page = _page(example, "summary", tmp_path)
        assert "as of 31 December 2025" in page.words  # the example's last entry, not the day the test runs

    def test_as_of_a_day(self, example, tmp_path):
        _, page = _page(example, "pledges --as-of 2025-03-31", tmp_path)
        assert "as of 31 March 2025" in page.words
        assert "fundledger verify --as-of 2025-03-31 --seal" in page.words

    def test_a_period(self, example, tmp_path):
        _, page = _page(example, "earmarks --period 2025Q2", tmp_path)
        assert "from 1 April 2025 to 30 June 2025" in page.words

    def test_sources_cited_by_the_entries(self, tmp_path):
        run = Runner(tmp_path / "sample")
        shutil.copytree(SAMPLE, run.path, ignore=shutil.ignore_patterns(".cache"))
        _, page = _page(run, "summary", tmp_path)
        assert "Sources" in page.words and "The Gaze, 'Belgium and Turkey Seek to Join Drone Coalition" in page.words


class TestSigns:
    """What a member gave reads as given: positive, never a red negative; negatives in parentheses."""

    def test_balance_shows_contributions_as_given(self, example, tmp_path):
        text, _ = _page(example, "balance", tmp_path)
        data = json.loads(example("report balance --json").stdout)
        row = next(r for r in data["rows"] if r["account"] == "income:contributions")
        assert row["balance"].startswith("-")
        cell = re.search(rf'<td class="([^"]*)" data-value="{re.escape(row["balance"])}">([^<]*)</td>', text)
        assert cell and "neg" not in cell.group(1) and "(" not in cell.group(2)
        assert cell.group(2) == f"€{_grouped(row['balance'])}"

    def test_accounting_convention(self):
        assert html.accounting(Decimal("-5000000.00"), "EUR") == "(€5,000,000.00)"
        assert html.accounting(Decimal("5000000.00"), "EUR") == "€5,000,000.00"

    def test_pledges_keep_every_column(self, example, tmp_path):
        text, _ = _page(example, "pledges", tmp_path)
        heads = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', text)
        for title in ("Date", "Split", "Status", "Pledged", "Received", "Outstanding"):
            assert title in heads
        assert 'class="id"' in text  # identifiers and amounts are never broken inside


class TestUserText:
    """Text typed into the books stays text: markup, scripts and rich markup are escaped, links only http(s)."""

    @pytest.fixture
    def hostile(self, tmp_path) -> Runner:
        from ledger import journal

        folder = tmp_path / "fund"
        journal.init(folder, "<b>Fund</b> & [bold red]co[/]", "EUR", "United Kingdom")
        run = Runner(folder)
        run("member join Latvia --date 2024-02-01 --source javascript:alert(1)")
        run('pledge Latvia 1M --year 2025 --date 2025-01-10 --source "https://example.org/lv?a=1&b=<2>"')
        run('contribute Latvia 1M --pledge 2 --date 2025-02-01 --memo "<script>alert(1)</script>"')
        run(["contribute", "Latvia", "1k", "--date", "2025-02-01", "--memo", "paid \u202e01 tnuocca\x1b[2J"])
        run('earmark drones 500k --date 2025-02-02 --purpose "<img src=x onerror=alert(1)> [link=http://evil]x[/link]"')
        return run

    @pytest.mark.parametrize("command", ["summary", "register", "earmarks", "statement Latvia", "pledges"])
    def test_escaped(self, hostile, command, tmp_path):
        text, page = _page(hostile, command, tmp_path)
        assert not {"script", "img", "b"} & set(page.tags)
        assert "<b>Fund</b> & [bold red]co[/]" in page.title
        assert "&lt;b&gt;Fund&lt;/b&gt; &amp; [bold red]co[/]" in text
        for tag, name, address in page.addresses:
            if not address.startswith("#"):
                assert (tag, name) == ("a", "href") and address == "https://example.org/lv?a=1&b=<2>"
        if command == "register":
            assert "<script>alert(1)</script>" in page.words
            assert "paid \\u202e01 tnuocca\\e[2J" in page.words  # shown, as on the terminal, never obeyed
            assert "\u202e" not in text and "\x1b" not in text
        if command == "earmarks":
            assert "<img src=x onerror=alert(1)> [link=http://evil]x[/link]" in page.words


class TestOutputOptions:
    """One way to write a file: --html/--svg/--pdf FILE, or -o FILE with the format from the option or extension."""

    def test_html_file_or_output(self, example, tmp_path):
        example(f"report earmarks --html {tmp_path / 'a.html'}")
        example(f"report earmarks --html -o {tmp_path / 'b.html'}")
        example(f"report earmarks -o {tmp_path / 'c.html'}")
        a, b, c = ((tmp_path / n).read_text() for n in ("a.html", "b.html", "c.html"))
        assert a == b == c and a.startswith("<!DOCTYPE html>")

    def test_extension_names_the_format(self, example, tmp_path):
        example(f"report contributors -o {tmp_path / 'c.json'}")
        example(f"report contributors -o {tmp_path / 'c.csv'}")
        assert json.loads((tmp_path / "c.json").read_text()) == json.loads(example("report contributors --json").stdout)
        assert (tmp_path / "c.csv").read_text() == example("report contributors --csv").stdout

    def test_an_option_beats_the_extension(self, example, tmp_path):
        example(f"report contributors --json -o {tmp_path / 'c.txt'}")
        assert json.loads((tmp_path / "c.txt").read_text())["report"] == "contributors"

    def test_dash_is_standard_output(self, example):
        assert example("report members --html -o -").stdout.startswith("<!DOCTYPE html>")

    @pytest.mark.parametrize(
        ("options", "says"),
        [
            ("-o out.txt", "cannot tell the format of 'out.txt' from its extension"),
            ("--json --csv", "choose one of --json and --csv"),
            ("--html a.html --svg b.svg --csv", "choose one of --csv, --html and --svg"),
            ("--html a.html -o b.html", "--html a.html and -o b.html: give the file once"),
            ("--html", "--html writes a file"),
            ("--pdf --wide -o x.pdf", "--wide is for tables"),
        ],
    )
    def test_usage_errors(self, example, options, says, tmp_path):
        result = example(f"report earmarks {options}", ok=False)
        assert result.exit_code == 2 and says in result.stderr, result.stderr
        assert not list(tmp_path.iterdir())

    def test_svg_of_a_report_without_a_chart(self, example, tmp_path):
        result = example(f"report members --svg {tmp_path / 'm.svg'}", ok=False)
        assert result.exit_code == 2
        assert "report members has no chart: --svg draws the main chart of summary, statement, contributors" in result.stderr
        assert not (tmp_path / "m.svg").exists()

    def test_a_file_that_cannot_be_written(self, example, tmp_path):
        result = example(f"report earmarks -o {tmp_path / 'no' / 'such' / 'e.html'}", ok=False)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: cannot write ") and result.stderr.count("\n") == 1

    def test_export_writes_the_same_way(self, example, tmp_path):
        example(f"export -o {tmp_path / 'books.csv'}")
        assert (tmp_path / "books.csv").read_text() == example("export --format csv").stdout
        result = example(f"export -o {tmp_path / 'books.txt'}", ok=False)
        assert result.exit_code == 2 and "choose a format" in result.stderr


def test_the_page_is_built_from_the_json(example):
    """html.report_page takes a report object and the books; the figures it writes are the JSON's."""
    from ledger import journal, render, reports

    books = journal.load(journal.open_ledger(example.path))
    report = reports.earmarks_report(books)
    page = Page(html.report_page(report, books))
    assert {row["allocated"] for row in render.report_json(report)["rows"]} <= set(page.values)


def test_an_empty_ledger(tmp_path):
    run = Runner(new_ledger(tmp_path / "fund"))
    _, page = _page(run, "summary", tmp_path)
    assert "as of the last entry" in page.words and page.tables


def test_a_page_that_extends_the_report_page(example):
    """Another page (a published site's) extends report.html.j2 through its blocks and keeps the escaping."""
    from ledger import journal, reports

    books = journal.load(journal.open_ledger(example.path))
    template = html.environment().from_string(
        '{% extends "report.html.j2" %}{% block nav %}<nav><a href="index.html">{{ home }}</a></nav>{% endblock %}'
    )
    text = template.render(page=html.build_page(reports.members_report(books), books, charts=False), home="<Home>")
    assert '<nav><a href="index.html">&lt;Home&gt;</a></nav>' in text and "<table>" in text
