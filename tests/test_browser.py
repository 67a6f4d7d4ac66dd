"""The published site and every `--html` report, opened in headless Chromium (issue 17).

Each page must load with no console error and no network request (anything
but file:// is failed and recorded), its figures must be the report's JSON,
and the dashboard must fit a 1400 px and a 400 px wide window. Chromium is
the Debian package (/usr/bin/chromium), driven by playwright; in CI (env CI)
these tests fail when either is missing, elsewhere they skip and say what to
install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from ledger import html
from ledger.cli import REPORT_NAMES

from conftest import SAMPLE, Runner, copy_ledger, use_git_identity

# One worker runs them all, so that one Chromium and one published site serve every test (xdist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage"]
SCROLL_TOLERANCE = 1  # px: rounding of fractional widths


def _missing(what: str, install: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI: .ci/run must install it ({install})")
    pytest.skip(f"{what} is not installed: {install}")


def chromium_path() -> str | None:
    """The system's Chromium (never a browser playwright downloaded)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Chromium for the whole run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright", "pip install -e '.[test]'")
    path = chromium_path()
    if path is None:
        _missing("chromium", "apt-get install chromium")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visit:
    """A page opened in a fresh browser context, with what it logged and every request it made."""

    def __init__(self, browser, url: str, width: int = 1400) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.open(url)

    def open(self, url: str) -> None:
        """Go to `url` in the same tab, forgetting what the page before logged and requested."""
        self.requests: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []
        self.page.goto(url, wait_until="load")

    def _route(self, route) -> None:
        if route.request.url.startswith(("file://", "about:")):
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()

    def check_quiet(self) -> None:
        """No console error, and no request but for the page's own file."""
        assert self.errors == []
        assert self.refused == []
        assert all(url.startswith("file://") for url in self.requests), self.requests

    def cells(self) -> list[dict[str, str]]:
        """Every figure cell of the page: its text as shown and the exact figure it stands for."""
        return self.page.eval_on_selector_all(
            "td[data-value]", "cells => cells.map(c => ({text: c.innerText.trim(), value: c.dataset.value}))"
        )

    def row(self, label: str) -> list[str]:
        """The cells of the first table row whose first cell reads `label`, as shown."""
        found = self.page.locator("tr", has=self.page.locator(f"td:first-child:text-is({json.dumps(label)})"))
        return [text.strip() for text in found.first.locator("td").all_inner_texts()]


@pytest.fixture(scope="session")
def sample_ledger(tmp_path_factory, _cache_key_home) -> Runner:
    """The bundled sample ledger in a git repository of its own (the approvals report reads its commits)."""
    folder = tmp_path_factory.mktemp("browser") / "sample"
    copy_ledger(SAMPLE, folder, cache=False)
    with pytest.MonkeyPatch.context() as patch:
        use_git_identity(patch, folder.parent / "gitconfig")
        for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "The sample ledger"]):
            subprocess.run(["git", *command], cwd=folder, check=True)
    return Runner(folder)


@pytest.fixture(scope="session")
def site(sample_ledger) -> Path:
    """The sample ledger's published site."""
    target = sample_ledger.path.parent / "site"
    sample_ledger(f"publish {target}")
    return target


def _html_reports() -> list[tuple[str, ...]]:
    """Every report's arguments: statement for a member, the others alone."""
    return [("statement", "Latvia") if name == "statement" else (name,) for name in REPORT_NAMES]


@pytest.fixture(scope="session")
def html_reports(sample_ledger) -> dict[tuple[str, ...], Path]:
    """`report NAME --html FILE` for every report of the sample ledger."""
    folder = sample_ledger.path.parent / "reports"
    folder.mkdir()
    written = {}
    with pytest.MonkeyPatch.context() as patch:
        use_git_identity(patch, folder.parent / "gitconfig")
        for args in _html_reports():
            target = folder / f"{'-'.join(args)}.html"
            sample_ledger(["report", *args, "--html", str(target)])
            written[args] = target
    return written


def figures(data) -> set[str]:
    """Every string and number in a report's JSON: the figures a page may show."""
    if isinstance(data, dict):
        return set().union(*(figures(value) for value in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(figures(value) for value in data)) if data else set()
    return {str(data)} if data is not None else set()


def check_figures(visit: Visit, data: dict, *more: dict) -> None:
    """Each figure the page shows is one of its JSON's, written as the page writes money.

    A balance the books hold as a credit (what members gave) is shown with its sign turned, so that it
    reads as given: its figure is the same either way.
    """
    known = figures([data, *more])
    cells = visit.cells()
    if data.get("rows"):  # a table report: every row shown
        shown = visit.page.locator("section.table tbody tr").count()
        assert shown >= len(data["rows"]), f"{shown} rows shown of {len(data['rows'])}"
    for cell in cells:
        assert cell["value"] in known, cell
        if cell["text"].lstrip("(").startswith("€"):
            value = Decimal(cell["value"])
            assert cell["text"] in (html.accounting(value, "EUR"), html.accounting(-value, "EUR")), cell


class TestHarness:
    """The checks themselves catch what they look for."""

    def test_a_request_elsewhere_and_a_console_error_are_caught(self, browser, tmp_path):
        page = tmp_path / "leaky.html"
        page.write_text('<!DOCTYPE html><title>x</title><img src="https://example.org/pixel.png">'
                        '<link rel="stylesheet" href="https://fonts.example.org/font.css">')  # fmt: skip
        visit = Visit(browser, page.as_uri())
        try:
            assert sorted(visit.refused) == ["https://example.org/pixel.png", "https://fonts.example.org/font.css"]
            assert visit.errors  # the refused loads are logged as errors too
            with pytest.raises(AssertionError):
                visit.check_quiet()
        finally:
            visit.close()


class TestSite:
    """Every page of the published site."""

    def test_every_page_loads_quietly_with_its_json_s_figures(self, browser, site):
        pages = sorted(site.rglob("*.html"))
        assert len(pages) >= 20
        visit = Visit(browser, "about:blank")
        try:
            for path in pages:
                visit.open(path.as_uri())
                visit.check_quiet()
                assert visit.page.title().endswith("Drone Coalition central procurement fund"), path
                data = path.with_suffix(".json") if path.name != "index.html" else site / "summary.json"
                if data.exists():  # the page's report, and the further tables under it (an earmark's entries)
                    more = [json.loads(extra.read_text()) for extra in path.parent.glob(f"{path.stem}.*.json")]
                    check_figures(visit, json.loads(data.read_text()), *more)
        finally:
            visit.close()

    def test_dashboard_figures_are_the_summary_s(self, browser, site):
        summary = json.loads((site / "summary.json").read_text())
        visit = Visit(browser, (site / "index.html").as_uri())
        try:
            for key, label in (("contributions", "Contributions (given or pledged)"), ("received", "Received"),
                               ("outstanding", "Outstanding pledges"), ("cash", "Cash held")):  # fmt: skip
                assert visit.row(label)[-1] == html.accounting(Decimal(summary[key]), "EUR"), key
            assert visit.row("Received")[-1] == "€180,000,000.00"
        finally:
            visit.close()

    def test_each_member_s_contribution_as_the_json_says(self, browser, site):
        rows = json.loads((site / "contributors.json").read_text())["rows"]
        visit = Visit(browser, (site / "contributors.html").as_uri())
        try:
            for row in rows:
                shown = visit.row(row["member"])
                assert html.accounting(Decimal(row["received"]), "EUR") in shown, row["member"]
                assert html.accounting(Decimal(row["pledged"]), "EUR") in shown, row["member"]
        finally:
            visit.close()

    def test_links_lead_to_pages_that_load(self, browser, site):
        visit = Visit(browser, (site / "members" / "unattributed-members.html").as_uri())
        try:
            visit.page.get_by_role("link", name="recon-drones-2025-03").click()
            visit.page.wait_for_load_state()
            assert visit.page.url.endswith("/packages/recon-drones-2025-03.html")
            assert "Package recon-drones-2025-03" in visit.page.title()
            visit.check_quiet()
        finally:
            visit.close()


class TestDashboard:
    """The dashboard at a desktop's width and a phone's."""

    @pytest.mark.parametrize("width", [1400, 400])
    def test_fits_the_window(self, browser, site, tmp_path, width):
        visit = Visit(browser, (site / "index.html").as_uri(), width=width)
        try:
            shot = tmp_path / f"dashboard-{width}.png"
            visit.page.screenshot(path=str(shot), full_page=True)
            assert png_size(shot)[0] == width
            overflow = visit.page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width + SCROLL_TOLERANCE, f"the dashboard is {overflow} px wide in a {width} px window"
            assert visit.page.locator("table").first.is_visible()
            assert visit.page.locator("figure.chart svg").first.is_visible()
            box = visit.page.locator("figure.chart").first.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width + SCROLL_TOLERANCE
        finally:
            visit.close()


class TestHtmlReports:
    """Every `fundledger report NAME --html FILE` of the sample ledger."""

    @pytest.mark.parametrize("args", _html_reports(), ids="-".join)
    def test_loads_quietly_with_its_json_s_figures(self, browser, sample_ledger, html_reports, args):
        with pytest.MonkeyPatch.context() as patch:
            use_git_identity(patch, sample_ledger.path.parent / "gitconfig")
            data = sample_ledger.json(" ".join(["report", *(f'"{a}"' for a in args)]))
        visit = Visit(browser, html_reports[args].as_uri())
        try:
            visit.check_quiet()
            assert visit.page.locator("table").count() >= 1
            check_figures(visit, data)
        finally:
            visit.close()


class TestReadmePictures:
    """scripts/screenshots.py still rebuilds the README's pictures."""

    def test_the_script_draws_the_dashboard_and_a_chart(self, browser, tmp_path, capsys):
        """Run in this process with the tests' Chromium (a second one would take as long as the rest)."""
        script = Path(__file__).resolve().parent.parent / "scripts" / "screenshots.py"
        spec = importlib.util.spec_from_file_location("screenshots", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module.main(["--out", str(tmp_path)], browser=browser) == 0
        assert "contributions.svg" in capsys.readouterr().out
        assert png_size(tmp_path / "dashboard.png") == (1400, module.HEIGHT)
        assert (tmp_path / "contributions.svg").read_text().startswith("<?xml")


def png_size(path: Path) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])
