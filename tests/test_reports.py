"""Reports compute the right figures, on the worked example and on the sample ledger of the real fund."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from ledger import fold, journal, reports

from conftest import SAMPLE, Runner

D = Decimal


def _books(path):
    return journal.load(journal.open_ledger(path))


class TestWorkedExample:
    """Figures after the issue's session (the payment of #9 reversed by #10)."""

    def test_summary_identities(self, coalition):
        s = reports.summary_report(_books(coalition.path))
        assert s.contributions == D("35000000.00")
        assert s.received == D("35000000.00")
        assert s.outstanding == 0
        assert (s.unallocated, s.earmarked, s.committed) == (D(3_000_000), D(12_000_000), D(20_000_000))
        assert s.cash == s.unallocated + s.earmarked + s.committed == s.received - s.paid
        assert (s.members_active, s.members_pending) == (2, 1)
        assert [p["package"] for p in s.open_packages] == ["recon-drones-2025-03"]

    def test_contributors(self, coalition):
        rows = {r["member"]: r for r in reports.contributors_report(_books(coalition.path)).rows}
        assert rows["Latvia"]["pledged"] == D(30_000_000) and rows["Latvia"]["received"] == D(30_000_000)
        assert rows["United Kingdom"]["received"] == D(5_000_000)
        assert rows["Latvia"]["share"] == D("85.71") and rows["United Kingdom"]["share"] == D("14.29")
        assert rows["Belgium"]["status"] == "pending"

    def test_earmarks_after_a_payment_from_two_sources(self, coalition):
        coalition("package fpv 3M --envelope training=1M --envelope unallocated=2M --date 2025-05-01")
        coalition("pay fpv 1M --date 2025-05-02")
        rows = {r["earmark"]: r for r in reports.earmarks_report(_books(coalition.path)).rows}
        training = rows["training"]
        assert training["purpose"] == "Operator training"
        # The payment of 1M is shared 1:2 between the sources; training's third is 333,333.33 (cents exact).
        assert training["paid"] == D("333333.33")
        assert training["committed"] == D("666666.67")
        assert training["available"] == D(1_000_000)
        assert training["allocated"] == training["paid"] + training["committed"] + training["available"]
        assert rows["drones"]["committed"] == D(20_000_000)

    def test_packages_status(self, coalition):
        coalition("package small 1M --envelope unallocated --date 2025-05-01")
        coalition("pay small 1M --date 2025-05-02")
        coalition("package gone 1M --envelope unallocated --date 2025-05-01")
        coalition("reverse 13 --reason 'cancelled' --date 2025-05-03")
        rows = {r["package"]: r for r in reports.packages_report(_books(coalition.path)).rows}
        assert rows["small"]["status"] == "paid" and rows["small"]["remaining"] == 0
        assert rows["gone"]["status"] == "cancelled"
        assert rows["recon-drones-2025-03"]["status"] == "open"
        assert rows["recon-drones-2025-03"]["remaining"] == D(20_000_000)

    def test_pledges_by_year(self, coalition):
        coalition("pledge Latvia 1M --year 2026 --date 2025-05-01")
        books = _books(coalition.path)
        assert [r["pledge"] for r in reports.pledges_report(books, year=2026).rows] == [11]
        rows = reports.pledges_report(books).rows
        assert [(r["pledge"], r["status"], r["outstanding"]) for r in rows] == [
            (4, "fulfilled", 0),
            (11, "open", D(1_000_000)),
        ]

    def test_members_with_approvals(self, coalition):
        coalition("member approve Belgium --by Latvia --date 2025-04-20")
        rows = {r["member"]: r for r in reports.members_report(_books(coalition.path)).rows}
        assert rows["Belgium"]["status"] == "pending"
        assert rows["Belgium"]["approvals"] == ["Latvia"]
        assert rows["Belgium"]["awaiting"] == ["United Kingdom"]
        assert rows["Latvia"]["joined"] == dt.date(2024, 2, 1) and rows["Latvia"]["role"] == "co-lead"

    def test_register_running_balance(self, coalition):
        spec = reports.RegisterFilter(account="assets:fund:committed:recon-drones-2025-03")
        rows = reports.register_report(_books(coalition.path), spec).rows
        assert [(r["id"], r["change"], r["running_balance"]) for r in rows] == [
            (8, D(20_000_000), D(20_000_000)),
            (9, D(-5_000_000), D(15_000_000)),
            (10, D(5_000_000), D(20_000_000)),
        ]

    @pytest.mark.parametrize(
        ("spec", "ids"),
        [
            (reports.RegisterFilter(member="latvia"), [2, 4, 5]),
            (reports.RegisterFilter(earmark="drones"), [4, 5, 8]),
            (reports.RegisterFilter(package="recon-drones-2025-03"), [8, 9, 10]),  # the payment and its reversal
            (reports.RegisterFilter(kind="contribute"), [5, 6]),
            (reports.RegisterFilter(start=dt.date(2025, 3, 1), end=dt.date(2025, 4, 1)), [8, 9]),
        ],
    )
    def test_register_filters(self, coalition, spec, ids):
        assert [r["id"] for r in reports.register_report(_books(coalition.path), spec).rows] == ids

    def test_as_of_shows_the_books_at_the_end_of_a_day(self, coalition):
        before = fold.as_of(_books(coalition.path), dt.date(2025, 2, 10))
        s = reports.summary_report(before, dt.date(2025, 2, 10))
        assert s.entries == 5 and s.received == D(35_000_000) and s.earmarked == D(30_000_000)
        assert s.committed == 0
        json_out = coalition.json("report summary --as-of 2025-02-10")
        assert json_out["as_of"] == "2025-02-10" and json_out["committed"] == "0.00"


class TestSampleLedger:
    """ledgers/drone-coalition shows what the April 2025 report states, and nothing it does not."""

    @pytest.fixture(scope="class")
    @classmethod
    def books(cls):
        return _books(SAMPLE)

    def test_summary(self, books):
        s = reports.summary_report(books)
        assert s.received == D(180_000_000)
        assert s.outstanding == D(30_000_000)
        assert s.committed == D(20_000_000)
        assert s.paid == 0
        assert s.cash == D(180_000_000)
        assert (s.members_active, s.members_pending) == (3, 2)

    def test_contributors(self, books):
        rows = {r["member"]: r for r in reports.contributors_report(books).rows}
        assert rows["Latvia"]["pledged"] == D(30_000_000)
        assert rows["Latvia"]["outstanding"] == D(30_000_000)
        assert rows["Unattributed members"]["received"] == D(180_000_000)
        assert rows["Belgium"]["status"] == rows["Turkey"]["status"] == "pending"

    def test_earmarks(self, books):
        rows = {r["earmark"]: r for r in reports.earmarks_report(books).rows}
        assert rows["drones"]["pledged_outstanding"] == D(20_000_000)
        assert rows["industrial-cooperation"]["pledged_outstanding"] == D(10_000_000)

    def test_packages(self, books):
        (row,) = reports.packages_report(books).rows
        assert row["package"] == "recon-drones-2025-03"
        assert row["amount"] == D(20_000_000) and row["status"] == "open"
        assert row["date"].strftime("%Y-%m") == "2025-03"

    def test_members(self, books):
        rows = {r["member"]: r for r in reports.members_report(books).rows}
        assert rows["United Kingdom"]["role"] == rows["Latvia"]["role"] == "co-lead"
        assert rows["Norway"]["joined"] == dt.date(2025, 4, 12)
        assert books.manager == "United Kingdom"

    def test_every_entry_cites_the_source(self, books):
        assert all("The Gaze" in entry.source for entry in books.entries)

    def test_build_script_rebuilds_the_same_books(self, tmp_path, books):
        env = {**os.environ, "FUNDLEDGER": f"{sys.executable} -m ledger"}
        script = SAMPLE.parent / "build-drone-coalition.sh"
        subprocess.run(["bash", str(script), str(tmp_path / "rebuilt")], check=True, env=env, capture_output=True)
        rebuilt = Runner(tmp_path / "rebuilt")
        shipped = Runner(SAMPLE)
        for name in ("summary", "contributors", "earmarks", "packages", "members", "pledges"):
            a, b = rebuilt.json(f"report {name}"), shipped.json(f"report {name}")
            for key in ("seal", "ledger"):
                a.pop(key), b.pop(key)
            assert a == b, name


def test_every_report_the_cli_offers_exists():
    from ledger.cli import REPORT_NAMES

    assert all(callable(getattr(reports, f"{name}_report", None)) for name in REPORT_NAMES)
