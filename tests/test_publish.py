"""`fundledger publish DIR` (issue 17): a static transparency site, the same bytes for the same books.

These tests need no browser: they read the files. tests/test_browser.py
opens the same site in Chromium.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from ledger import charts, journal, model, publish

from conftest import SAMPLE, Runner, copy_ledger, every_file, recorded

PROCUREMENT = SAMPLE.parent / "examples" / "procurement"

HOSTILE = ["../../etc", "<script>alert(1)</script>", '=HYPERLINK("http://evil","x")', "Україна", "a/b\\c", "-Evil"]


# One worker publishes the shared sites once for every test here (xdist loadgroup).
pytestmark = pytest.mark.xdist_group("publish")


@pytest.fixture
def sample(tmp_path: Path) -> Runner:
    """The bundled sample ledger, copied (reading a ledger may write its cache)."""
    return Runner(copy_ledger(SAMPLE, tmp_path / "sample", cache=False))


@pytest.fixture
def procurement(tmp_path: Path) -> Runner:
    """The fictional procurement year: packages funded by members, contracts, payments, deliveries."""
    return Runner(copy_ledger(PROCUREMENT, tmp_path / "procurement", cache=False))


@pytest.fixture
def no_charts(monkeypatch) -> None:
    """Pages without charts, for tests of files and folders: drawing them takes most of a publish's time."""
    monkeypatch.setattr(charts, "for_report", lambda *_args, **_kwargs: [])


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory, _cache_key_home) -> tuple[Runner, Path, dict]:
    """The sample ledger's site, published once for the tests that only read it: (ledger, site, --json)."""
    folder = tmp_path_factory.mktemp("sample-site")
    run = Runner(copy_ledger(SAMPLE, folder / "sample", cache=False))
    done = run.json(f"publish {folder / 'site'}")
    return run, folder / "site", done


@pytest.fixture(scope="session")
def procurement_site(tmp_path_factory, _cache_key_home) -> tuple[Runner, Path]:
    """The procurement year's site, published once for the tests that only read it."""
    folder = tmp_path_factory.mktemp("procurement-site")
    run = Runner(copy_ledger(PROCUREMENT, folder / "procurement", cache=False))
    run(f"publish {folder / 'site'}")
    return run, folder / "site"


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory, _cache_key_home) -> Path:
    """The site of members with names that try to leave the folder, inject markup or run as a formula.

    Today's rules refuse most of these names when they are recorded; a journal written by hand or by an
    earlier version may still hold them, so the test lets them in and checks that publish stays safe.
    """
    folder = tmp_path_factory.mktemp("hostile") / "out"
    commands = [f"member join --date 2025-01-01 -- {json.dumps(name, ensure_ascii=False)}" for name in HOSTILE]
    commands += [
        f"contribute {json.dumps(HOSTILE[1])} 5M --date 2025-02-01 --memo '<img src=x onerror=alert(1)>'",
        f"contribute {json.dumps(HOSTILE[2])} 1M --date 2025-02-02 --memo '=1+1'",
        "package kit 4M --envelope unallocated --date 2025-03-01 --memo '</table><script>alert(2)</script>'",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "check_member_name", lambda name: name)
        run = recorded(folder.parent / "hostile", commands)
        run(f"publish {folder / 'site'}")
    return folder / "site"


def links(html: str) -> list[str]:
    """Every href and src of a page."""
    return re.findall(r'(?:href|src)="([^"]*)"', html)


class TestLayout:
    """The pages the site holds, and the data beside each."""

    def test_every_page_and_its_data(self, sample_site):
        _, site, _ = sample_site
        files = set(every_file(site))
        pages = {
            "index.html", "verify.html", "contributors.html", "members.html", "pledges.html", "earmarks.html",
            "packages.html", "funding.html", "register.html", "rates.html", "members/latvia.html",
            "members/united-kingdom.html", "members/belgium.html", "earmarks/drones.html",
            "earmarks/industrial-cooperation.html", "packages/recon-drones-2025-03.html",
        }  # fmt: skip
        assert pages <= files
        for page in pages - {"verify.html"}:
            stem = "summary" if page == "index.html" else page.removesuffix(".html")
            assert {f"{stem}.csv", f"{stem}.json"} <= files, page
            assert f'href="{Path(stem).name}.csv"' in (site / page).read_text(), f"{page} does not link its CSV"

    def test_the_data_is_what_report_prints(self, sample_site):
        sample, site, done = sample_site
        day = done["as_of"]
        assert (site / "summary.json").read_text() == sample(f"report summary --as-of {day} --json").stdout
        assert (site / "register.csv").read_text() == sample(f"report register --as-of {day} --csv").stdout
        assert (site / "members/latvia.json").read_text() == sample(
            f"report statement Latvia --as-of {day} --json"
        ).stdout
        assert (site / "rates.json").read_text() == sample(f"report rates --as-of {day} --json").stdout

    def test_earmark_and_package_pages_hold_their_figures_and_more(self, procurement_site):
        procurement, site = procurement_site
        day = json.loads((site / "summary.json").read_text())["as_of"]
        drones = json.loads((site / "earmarks/drones.json").read_text())
        assert drones["rows"] == [
            r for r in procurement.json(f"report earmarks --as-of {day}")["rows"] if r["earmark"] == "drones"
        ]
        entries = procurement(f"report register --earmark drones --as-of {day} --json").stdout
        assert (site / "earmarks/drones.entries.json").read_text() == entries
        funders = procurement(f"report funding --package fpv-drones --as-of {day} --csv").stdout
        assert (site / "packages/fpv-drones.funders.csv").read_text() == funders
        page = (site / "packages/fpv-drones.html").read_text()
        assert "<caption>Who funded it</caption>" in page and 'href="fpv-drones.funders.csv"' in page

    def test_the_dashboard_has_the_summary_s_charts(self, sample_site):
        _, site, _ = sample_site
        page = (site / "index.html").read_text()
        assert page.count('<figure class="chart"') >= 3 and page.count("<svg") >= 3

    def test_as_of_by_default_the_last_entry_s_day(self, sample_site):
        """Not today: a site of unchanged books must not change overnight."""
        sample, site, done = sample_site
        last = max(row["date"] for row in sample.json("report register")["rows"])
        assert done["as_of"] == last
        assert json.loads((site / "summary.json").read_text())["as_of"] == last

    def test_as_of_leaves_later_entries_out(self, sample, tmp_path, no_charts):
        sample(f"publish {tmp_path / 'site'} --as-of 2024-12-31")
        summary = json.loads((tmp_path / "site/summary.json").read_text())
        assert (summary["as_of"], summary["received"], summary["entries"]) == ("2024-12-31", "0.00", 3)
        assert "as of 31 December 2024" in (tmp_path / "site/index.html").read_text()
        assert not (tmp_path / "site/packages/recon-drones-2025-03.html").exists()

    def test_json_says_what_was_written(self, sample_site):
        sample, site, done = sample_site
        assert set(done) == {"path", "as_of", "seal", "pages", "files", "written", "removed"}
        assert done["files"] == sorted(every_file(site))
        assert done["written"] == done["files"]
        assert done["removed"] == []
        assert done["pages"] == sum(1 for name in done["files"] if name.endswith(".html"))
        assert done["seal"] == sample.json("verify")["seal"]

    def test_an_empty_ledger_publishes_its_empty_tables(self, run, tmp_path):
        done = run.json(f"publish {tmp_path / 'site'}")
        assert done["pages"] == 12  # the dashboard, the ten tables and verify: no member, earmark or package yet
        assert json.loads((tmp_path / "site/register.json").read_text())["rows"] == []
        assert "Nothing to show." in (tmp_path / "site/register.html").read_text()

    def test_message_names_the_folder(self, sample, tmp_path, no_charts):
        result = sample(f"publish {tmp_path / 'site'}")
        assert result.stdout.startswith(f"Wrote {tmp_path / 'site'}: 21 pages as of 2025-04-30, seal ")
        assert result.stderr == ""


class TestProgress:
    """`publish` reports its progress page by page (the CLI draws it as a bar on a terminal)."""

    def test_one_tick_per_page(self, sample, tmp_path, no_charts):
        heard: list[int] = []

        @contextlib.contextmanager
        def progress(total: int):
            heard.append(total)
            yield lambda: heard.append(-1)

        books = journal.load(journal.open_ledger(sample.path))
        done = publish.publish(tmp_path / "site", books, progress=progress)
        pages = sum(1 for name in done.files if name.endswith(".html"))
        assert heard == [pages] + [-1] * pages


class TestDeterminism:
    """The same books give the same files, byte for byte, charts and all."""

    def test_two_folders_are_identical(self, procurement, procurement_site, tmp_path):
        procurement(f"publish {tmp_path / 'two'}")
        assert every_file(tmp_path / "two") == every_file(procurement_site[1])

    def test_publishing_again_writes_nothing(self, procurement, procurement_site, tmp_path):
        site = shutil.copytree(procurement_site[1], tmp_path / "site")
        before = every_file(site)
        again = procurement.json(f"publish {site}")
        assert again["written"] == [] and again["removed"] == []
        assert every_file(site) == before

    def test_a_new_entry_changes_the_site(self, sample, sample_site, tmp_path, no_charts):
        site = tmp_path / "site"
        sample(f"publish {site}")
        before = every_file(site)
        sample("contribute Norway 1M --date 2025-04-30")
        again = sample.json(f"publish {site}")
        assert "members/norway.json" in again["written"] and "summary.json" in again["written"]
        assert "members/latvia.csv" not in again["written"]
        assert every_file(site) != before


class TestFolder:
    """A folder that is not an earlier publish's is never written into."""

    def test_refuses_someone_s_folder(self, sample, tmp_path):
        folder = tmp_path / "mine"
        folder.mkdir()
        (folder / "thesis.txt").write_text("years of work")
        result = sample(f"publish {folder}", ok=False)
        assert result.exit_code == 1
        assert (
            result.stderr
            == f"error: {folder} is not empty and holds no earlier publish: give publish a new or empty folder\n"
        )
        assert every_file(folder) == {"thesis.txt": b"years of work"}

    def test_refuses_a_file(self, sample, tmp_path):
        target = tmp_path / "notes.txt"
        target.write_text("x")
        result = sample(f"publish {target}", ok=False)
        assert result.exit_code == 1
        assert result.stderr == f"error: {target} is a file, not a folder: give publish a new or empty folder\n"

    def test_refuses_a_broken_marker(self, sample, tmp_path):
        folder = tmp_path / "site"
        folder.mkdir()
        (folder / publish.MARKER).write_text("{not json")
        (folder / "index.html").write_text("someone's page")
        assert sample(f"publish {folder}", ok=False).exit_code == 1
        assert (folder / "index.html").read_text() == "someone's page"

    def test_an_empty_folder_is_fine(self, sample, tmp_path, no_charts):
        (tmp_path / "site").mkdir()
        sample(f"publish {tmp_path / 'site'}")
        assert (tmp_path / "site/index.html").is_file()

    def test_removes_only_its_own_stale_files(self, sample, sample_site, tmp_path, no_charts):
        site = tmp_path / "site"
        sample(f"publish {site}")
        (site / "README.txt").write_text("kept: the user's own")
        marker = json.loads((site / publish.MARKER).read_text())
        (site / "members/gone.html").write_text("from an earlier publish")
        marker["files"].append("members/gone.html")
        (site / publish.MARKER).write_text(json.dumps(marker))
        done = sample.json(f"publish {site}")
        assert done["removed"] == ["members/gone.html"]
        assert not (site / "members/gone.html").exists()
        assert (site / "README.txt").read_text() == "kept: the user's own"

    def test_a_tampered_marker_cannot_remove_files_elsewhere(self, sample, tmp_path, no_charts):
        site = tmp_path / "site"
        sample(f"publish {site}")
        victim = tmp_path / "victim.txt"
        victim.write_text("precious")
        marker = json.loads((site / publish.MARKER).read_text())
        marker["files"] += ["../victim.txt", str(victim), "members/../../victim.txt"]
        (site / publish.MARKER).write_text(json.dumps(marker))
        done = sample.json(f"publish {site}")
        assert done["removed"] == []
        assert victim.read_text() == "precious"

    def test_a_link_out_of_the_folder_is_refused(self, sample, tmp_path, no_charts):
        site = tmp_path / "site"
        sample(f"publish {site}")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        shutil.rmtree(site / "members")
        (site / "members").symlink_to(elsewhere)
        result = sample(f"publish {site}", ok=False)
        assert result.exit_code == 1
        assert "outside" in result.stderr and result.stderr.count("\n") == 1
        assert list(elsewhere.iterdir()) == []

    def test_a_repository_with_a_password_is_refused(self, sample, tmp_path):
        result = sample(
            f"publish {tmp_path / 'site'} --repository https://officer:s3cret@git.example/fund.git", ok=False
        )
        assert result.exit_code == 1
        assert "password" in result.stderr and "s3cret" not in result.stderr
        assert not (tmp_path / "site").exists()


class TestLinks:
    """Pages link to each other with relative links only, and every link leads to a file of the site."""

    def test_every_link_is_relative_and_found(self, procurement_site):
        site = procurement_site[1]
        for page in site.rglob("*.html"):
            for target in links(page.read_text()):
                if target.startswith(("http://", "https://", "#")):  # a cited source (never loaded), or in the page
                    continue
                assert not target.startswith(("/", "file:", "//")) and ":" not in target, (page, target)
                assert (page.parent / target).resolve().is_file(), (page, target)

    def test_no_page_loads_anything(self, procurement_site):
        """No script, stylesheet, image or font from a file or from elsewhere: everything is inline."""
        for page in procurement_site[1].rglob("*.html"):
            text = page.read_text()
            assert "<script" not in text and "<link" not in text and "<img" not in text and "@import" not in text
            assert all(target.startswith("#") for target in re.findall(r"url\(([^)]*)\)", text)), page

    def test_member_links_to_the_packages_its_money_funded(self, procurement_site):
        procurement, site = procurement_site
        funded = {row["package"] for row in procurement.json("report funding --member Northland")["rows"]
                  if row["status"] != "unspent"}  # fmt: skip
        assert funded == {"fpv-drones", "operator-training"}
        page = (site / "members/northland.html").read_text()
        for package in funded:
            assert f'href="../packages/{package}.html"' in page

    def test_package_links_to_its_funders_and_earmarks(self, procurement_site):
        procurement, site = procurement_site
        funders = {row["member"] for row in procurement.json("report funding --package fpv-drones")["rows"]}
        assert len(funders) >= 2
        page = (site / "packages/fpv-drones.html").read_text()
        for member in funders:
            assert f'href="../members/{publish.file_stem(member)}.html"' in page
        assert 'href="../earmarks/drones.html"' in page

    def test_earmark_links_to_its_packages(self, procurement_site):
        page = (procurement_site[1] / "earmarks/drones.html").read_text()
        assert 'href="../packages/fpv-drones.html"' in page
        assert 'href="../packages/operator-training.html"' not in page

    def test_lists_link_to_each_page(self, procurement_site):
        site = procurement_site[1]
        assert 'href="members/eastmark.html"' in (site / "contributors.html").read_text()
        assert 'href="packages/fpv-drones.html"' in (site / "packages.html").read_text()
        assert 'href="earmarks/training.html"' in (site / "earmarks.html").read_text()
        assert 'href="members/westria.html"' in (site / "index.html").read_text()


class TestVerifyPage:
    """verify.html says how to check the site's seal from a clone, with the seal filled in."""

    def test_seal_and_command(self, sample, tmp_path, no_charts):
        site = tmp_path / "site"
        done = sample.json(f"publish {site} --repository https://git.example/fund.git")
        page = (site / "verify.html").read_text()
        assert done["seal"] in page
        command = f"fundledger verify --as-of {done['as_of']} --seal {done['seal'][:12]}"
        assert command in page
        assert "git clone https://git.example/fund.git" in page
        assert sample(command.removeprefix("fundledger ")).exit_code == 0

    def test_without_a_repository_it_says_so(self, sample_site):
        assert "--repository URL" in (sample_site[1] / "verify.html").read_text()


class TestHostileNames:
    """Names cannot leave the folder, become markup, or run in a spreadsheet."""

    def test_file_names_are_safe_slugs(self, hostile_site):
        assert sorted(p.name for p in hostile_site.parent.iterdir()) == ["site"]
        for name in every_file(hostile_site):
            assert re.fullmatch(
                r"[a-z0-9-]+(/[a-z0-9-]+(\.entries|\.funders)?)?\.(html|csv|json)|\.fundledger-site\.json", name
            ), name

    def test_every_member_has_a_page_of_its_own(self, hostile_site):
        statements = {json.loads(p.read_text())["member"] for p in (hostile_site / "members").glob("*.json")}
        assert statements >= set(HOSTILE)

    def test_no_markup_is_injected(self, hostile_site):
        for page in hostile_site.rglob("*.html"):
            text = page.read_text()
            assert "<script" not in text and "<img" not in text and "</table><" not in text, page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (hostile_site / "members.html").read_text()

    def test_csv_cells_are_spreadsheet_safe(self, hostile_site):
        for path in hostile_site.rglob("*.csv"):
            for row in csv.reader(io.StringIO(path.read_text())):
                for cell in row:
                    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cell):
                        continue  # an amount: a number, never a formula
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (path, cell)
        assert "'=HYPERLINK" in (hostile_site / "members.csv").read_text()
        assert "'-Evil" in (hostile_site / "members.csv").read_text()


class TestFileStem:
    """`file_stem`: a name's page, whatever the name."""

    @pytest.mark.parametrize(
        ("name", "stem"),
        [("United Kingdom", "united-kingdom"), ("../../etc", "etc"), ("<script>", "script"), ("Türkiye", "turkiye")],
    )
    def test_plain(self, name, stem):
        assert publish.file_stem(name) == stem

    def test_no_letters_and_long_names_get_a_hash(self):
        assert re.fullmatch(r"n-[0-9a-f]{10}", publish.file_stem("!!!"))
        long = publish.file_stem("Republic of " + "very " * 40 + "long")
        assert len(long) <= 60 and re.fullmatch(r"[a-z0-9-]+-[0-9a-f]{10}", long)

    def test_two_names_with_one_slug_get_two_pages(self):
        stems = publish._stems(["Latvia", "latvia!"])
        assert len(set(stems.values())) == 2
