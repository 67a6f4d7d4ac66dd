#!/usr/bin/env python3
"""Rebuild the README's pictures from the bundled sample ledger: the published dashboard and one chart.

    python scripts/screenshots.py            # writes docs/images/dashboard.png and docs/images/contributions.svg

The dashboard is `fundledger publish`'s index.html, photographed by the system's headless Chromium
(apt-get install chromium; playwright drives it, `pip install -e '.[test]'`) 1400 px wide. The chart is the
summary's first chart, the SVG `fundledger report summary --svg FILE` writes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger import charts, journal, publish, reports  # noqa: E402

SAMPLE = ROOT / "ledgers" / "drone-coalition"
WIDTH, HEIGHT = 1400, 1225  # the top of the dashboard: the figures, the charts and the earmarks


def main(argv: list[str] | None = None, browser=None) -> int:
    """`browser`: a playwright Chromium already running (the tests'), else one is started and closed here."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="where the pictures go")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    books = journal.load(journal.open_ledger(SAMPLE), use_cache=False)
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        publish.publish(site, books)
        if browser is None:
            with_chromium(lambda started: photograph(started, site / "index.html", args.out / "dashboard.png"))
        else:
            photograph(browser, site / "index.html", args.out / "dashboard.png")
    summary = reports.summary_report(books, publish.default_day(books))
    first = charts.for_report(summary, books)[0]
    (args.out / "contributions.svg").write_text(first.svg, encoding="utf-8")
    print(f"Wrote {args.out / 'dashboard.png'} and {args.out / 'contributions.svg'} ({first.title}).")
    return 0


def with_chromium(use) -> None:
    """Start the system's headless Chromium (never a browser playwright downloaded), `use` it, close it."""
    from playwright.sync_api import sync_playwright

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        sys.exit("chromium is not installed: apt-get install chromium")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        try:
            use(browser)
        finally:
            browser.close()


def photograph(browser, page: Path, target: Path) -> None:
    """A PNG of the top of `page`, WIDTH px wide (no request leaves the machine)."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
        tab = context.new_page()
        tab.goto(page.as_uri(), wait_until="load")
        tab.screenshot(path=str(target))
    finally:
        context.close()


if __name__ == "__main__":
    sys.exit(main())
