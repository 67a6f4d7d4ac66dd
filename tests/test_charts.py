"""Charts (issue 17): matplotlib's SVG, the same bytes for the same data, one bar per figure drawn."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from ledger import charts, journal, render, reports

EXAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "examples" / "procurement"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    folder = tmp_path_factory.mktemp("charts") / "procurement"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".cache"))
    return journal.load(journal.open_ledger(folder))


def _texts(svg: str) -> list[str]:
    """Every text of a chart (svg.fonttype 'none' keeps text as <text>), in document order."""
    return ["".join(t.itertext()) for t in ET.fromstring(svg.encode()).iter(f"{SVG}text")]


def _patches(svg: str) -> int:
    """How many patches (bars, backgrounds, spines, legend keys) matplotlib drew."""
    return len(re.findall(r'<g id="patch_[0-9]+"', svg))


@pytest.mark.slow  # every chart of the summary drawn by matplotlib two or three times over
class TestDeterministic:
    """The same data gives the same bytes: in one process, and in two with different hash seeds."""

    def test_twice_in_one_process(self, books):
        first = charts.for_report(reports.summary_report(books), books)
        charts._DRAWN.clear()  # drawn again, not given again
        second = charts.for_report(reports.summary_report(books), books)
        assert all(a is not b for a, b in zip(first, second, strict=True))
        assert [c.name for c in first] == ["contributions", "pledged-received", "earmarks", "cash", "packages"]
        assert [c.svg for c in first] == [c.svg for c in second]

    def test_in_two_processes(self, books, tmp_path):
        folder = tmp_path / "procurement"
        shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".cache"))
        out = []
        for seed in ("1", "2"):
            target = tmp_path / f"cash-{seed}.svg"
            command = [
                sys.executable,
                "-m",
                "ledger",
                "--ledger",
                str(folder),
                "report",
                "balance",
                "--svg",
                str(target),
            ]
            subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed})
            out.append(target.read_bytes())
        assert out[0] == out[1]
        assert b"<dc:date>" not in out[0] and b"Date" not in out[0]

    def test_from_plain_data_as_from_the_report(self, books):
        report = reports.earmarks_report(books)
        (from_report,) = charts.for_report(report)
        charts._DRAWN.clear()
        (from_data,) = charts.for_report(render.report_json(report))
        assert from_report.svg == from_data.svg


class TestDrawnOnce:
    """A chart drawn before from the same data is given again; other data is drawn anew."""

    def test_same_data_same_chart_other_data_another(self, books):
        rows = render.report_json(reports.earmarks_report(books))["rows"]
        first = charts.earmarks(rows, "EUR")
        assert charts.earmarks([dict(row) for row in rows], "EUR") is first
        changed = [dict(rows[0], available=str(Decimal(rows[0]["available"]) + 1)), *rows[1:]]
        assert charts.earmarks(changed, "EUR") is not first
        assert charts.earmarks(rows, "GBP").svg != first.svg

    def test_it_keeps_a_bounded_number_the_newest(self, books, monkeypatch):
        monkeypatch.setattr(charts, "_MOST_KEPT", 3)
        monkeypatch.setattr(charts, "_DRAWN", {})
        rows = render.report_json(reports.earmarks_report(books))["rows"][:1]
        drawn = [charts.earmarks(rows, currency) for currency in ("EUR", "GBP", "USD", "NOK")]
        assert len(charts._DRAWN) == 3
        assert charts.earmarks(rows, "NOK") is drawn[-1]
        assert charts.earmarks(rows, "EUR") is not drawn[0]  # the oldest went first


class TestGolden:
    """A golden count of what each chart draws, on the fictional procurement year."""

    def test_earmarks(self, books):
        (chart,) = charts.for_report(reports.earmarks_report(books))
        texts = _texts(chart.svg)
        assert texts[-5:] == ["training", "drones", "paid", "committed", "available"]  # names, then the legend
        # 2 backgrounds + 2 spines + 3 legend keys + one bar per figure: 2 earmarks x (paid, committed, available)
        assert _patches(chart.svg) == 2 + 2 + 3 + 2 * 3

    def test_contributions(self, books):
        (chart,) = charts.for_report(reports.contributors_report(books))
        assert chart.title == "Contributions by member"
        assert [t for t in _texts(chart.svg) if t in ("Westria", "Eastmark", "Northland")] == [
            "Westria",
            "Eastmark",
            "Northland",
        ]
        assert _patches(chart.svg) == 2 + 2 + 2 + 3 * 2  # 3 members x (received, outstanding)

    def test_packages(self, books):
        (chart,) = charts.for_report(reports.packages_report(books), books)
        texts = _texts(chart.svg)
        assert {"fpv-drones", "operator-training", "committed", "contracted", "paid"} <= set(texts)

    def test_statement(self, books):
        (chart,) = charts.for_report(reports.statement_report(books, "Northland"), books)
        assert chart.title == "What Northland's own money bought"
        assert {"fpv-drones", "operator-training", "drones", "training"} <= set(_texts(chart.svg))
        assert _patches(chart.svg) == 2 + 2 + 2 + 4 * 2  # 4 packages or envelopes x (paid, not yet paid)

    def test_no_chart(self, books):
        assert charts.for_report(reports.members_report(books), books) == []
        assert charts.for_report(reports.earmarks_report(books, period=reports.parse_period("2025Q2"))) == []
        assert charts.for_report(reports.by_period_report(books, "contributors", "quarterly")) == []


class TestInline:
    """A chart inside a page: no XML prolog, and ids that no other chart of the page shares."""

    def test_ids_prefixed(self, books):
        drawn = charts.for_report(reports.summary_report(books), books)
        ids = [i for chart in drawn for i in re.findall(r'\bid="([^"]+)"', chart.inline)]
        assert len(ids) == len(set(ids))
        for chart in drawn:
            assert chart.inline.startswith("<svg")
            for reference in re.findall(r"url\(#([^)]+)\)", chart.inline):
                assert f'id="{reference}"' in chart.inline


def test_the_series_ends_at_the_summary(books):
    """The lines over time end where the summary stands: received, given or pledged, and each envelope's cash."""
    summary = reports.summary_report(books)
    last = charts._series(books, None)[-1][1]
    assert (last["received"], last["contributions"]) == (summary.received, summary.contributions)
    assert last["envelope:unallocated"] == summary.unallocated
    assert last["envelope:committed to packages"] == summary.committed
    assert sum(v for k, v in last.items() if k.startswith("envelope:")) == summary.cash
