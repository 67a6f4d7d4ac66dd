"""The transparency site: `fundledger publish DIR` writes the fund's reports as static pages with their data.

`plan` says which pages the site holds (pure: reports only), `build` turns
them into the bytes of every file (pure and deterministic: the same books
give the same bytes), and `publish` writes them into a folder that is empty
or was written by an earlier publish, never anyone else's. Every link is
relative, so the site works from `file://` and on any static host; no page
runs a script or loads anything from elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import checkpoints, model, render, reports
from ledger.books import Books
from ledger.errors import BadInput

# The file an earlier publish leaves in its folder: what it wrote, so that a later one may replace exactly that.
MARKER = ".fundledger-site.json"
SITE_FORMAT = 1

# The site-wide tables, in the order the navigation lists them: (file stem, report name, navigation label).
TABLES = (
    ("contributors", "contributors", "Contributors"),
    ("members", "members", "Members"),
    ("pledges", "pledges", "Pledges"),
    ("earmarks", "earmarks", "Earmarks"),
    ("packages", "packages", "Packages"),
    ("funding", "funding", "Who funded what"),
    ("suppliers", "suppliers", "Suppliers"),
    ("deliveries", "deliveries", "Deliveries"),
    ("register", "register", "Register"),
    ("rates", "rates", "Exchange rates"),
)
_REPORTS: dict[str, Callable[[Books, dt.date], reports.Report]] = {
    "contributors": reports.contributors_report,
    "members": reports.members_report,
    "pledges": reports.pledges_report,
    "earmarks": reports.earmarks_report,
    "packages": reports.packages_report,
    "funding": reports.funding_report,
    "suppliers": reports.suppliers_report,
    "deliveries": reports.deliveries_report,
    "register": lambda books, day: reports.register_report(books, reports.RegisterFilter(), day),
    "rates": reports.rates_report,
}


@dataclass(frozen=True)
class Link:
    """A link from one page to another: its words and the target's path from the site's root."""

    label: str
    target: str


@dataclass(frozen=True)
class Related:
    """A list of links under a heading: the packages a member's money funded, a package's funders."""

    heading: str
    links: tuple[Link, ...]


@dataclass(frozen=True)
class Page:
    """One page of the site: where it goes, what it shows, and what it links to.

    `report` is a report object (`Report`, `Summary`, `Statement`) for a
    report page, None for the verify page. Its tables are downloadable as
    `<stem>.csv` and `<stem>.json` beside it. `more` are further tables
    shown below it, each a (part, report) whose data is `<stem>.<part>.csv`
    and `.json` (a '.' no slug holds, so no other page's files are named so).
    """

    path: str  # from the site's root, with '/' (members/latvia.html)
    title: str
    report: Any
    related: tuple[Related, ...] = ()
    more: tuple[tuple[str, reports.Report], ...] = ()

    @property
    def data(self) -> tuple[tuple[str, Any], ...]:
        """Each report of the page with the stem of its data files (none for a page without a report)."""
        if self.report is None:
            return ()
        stem = "summary" if self.path == "index.html" else self.path.removesuffix(".html")
        return ((stem, self.report), *((f"{stem}.{part}", report) for part, report in self.more))

    @property
    def downloads(self) -> tuple[str, ...]:
        """The data files beside the page: a CSV and a JSON per report."""
        return tuple(f"{stem}.{ext}" for stem, _ in self.data for ext in ("csv", "json"))


@dataclass(frozen=True)
class Site:
    """What every page of one publish shares: the fund, the day, the seal, and how to get the books."""

    ledger: str
    currency: str
    as_of: dt.date
    seal: str
    entries: int
    repository: str | None
    pages: tuple[Page, ...]


@dataclass(frozen=True)
class Published:
    """What `publish` did: every file of the site, those it wrote anew, and the stale ones it removed."""

    root: Path
    as_of: dt.date
    seal: str
    files: tuple[str, ...]
    written: tuple[str, ...]
    removed: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "path": str(self.root),
            "as_of": self.as_of.isoformat(),
            "seal": self.seal,
            "pages": sum(1 for name in self.files if name.endswith(".html")),
            "files": list(self.files),
            "written": list(self.written),
            "removed": list(self.removed),
        }


# --- what the site holds ----------------------------------------------------


def default_day(books: Books) -> dt.date:
    """The day a site shows when none is given: that of the latest entry, so unchanged books give the same site.

    (Today would change every page every day, though nothing was recorded.)
    An empty ledger has no entries; its site is as of today.
    """
    return max((entry.date for entry in books.entries), default=dt.date.today())


def plan(books: Books, as_of: dt.date, repository: str | None = None) -> Site:
    """Every page of the site, from books that hold only the entries dated on or before `as_of`."""
    member_page = {
        name: f"members/{stem}.html" for name, stem in _stems(m.name for m in books.members.values()).items()
    }
    earmark_page = {name: f"earmarks/{stem}.html" for name, stem in _stems(books.earmarks).items()}
    package_page = {name: f"packages/{stem}.html" for name, stem in _stems(books.packages).items()}
    funding = reports.funding_report(books, as_of).rows
    packages = sorted(books.packages.values(), key=lambda p: (p.date, p.id))
    pages = [Page("index.html", "Dashboard", reports.summary_report(books, as_of),
                  (Related("Each member's statement", _links(member_page, member_page)),))]  # fmt: skip
    lists = {
        "members": Related("Each member's statement", _links(member_page, member_page)),
        "contributors": Related("Each member's statement", _links(member_page, member_page)),
        "earmarks": Related("Each earmark's page", _links(earmark_page, earmark_page)),
        "packages": Related("Each package's page", _links(package_page, package_page)),
        "funding": Related("Each package's page", _links(package_page, package_page)),
    }
    pages += [
        Page(f"{stem}.html", label, _REPORTS[name](books, as_of), (lists[stem],) if stem in lists else ())
        for stem, name, label in TABLES
    ]
    for name, path in member_page.items():
        statement = reports.statement_report(books, name, as_of)
        funded = [row["package"] for row in funding if row["member"] == name]
        related = (
            Related("Packages its money funded", _links(funded, package_page)),
            Related("Earmarks its money went to", _links(statement.earmarked, earmark_page)),
        )
        pages.append(Page(path, f"Statement of {name}", statement, related))
    earmarks = reports.earmarks_report(books, as_of)
    for name, path in earmark_page.items():
        register = reports.register_report(books, reports.RegisterFilter(earmark=name), as_of)
        drawn = [p.name for p in packages if name in p.sources]
        related = (Related("Packages drawn from it", _links(drawn, package_page)),)
        figures = _one(earmarks, "earmark", name, f"Earmark {name}")
        more = (("entries", _titled(register, "Its entries")),)
        pages.append(Page(path, f"Earmark {name}", figures, related, more))
    every_package = reports.packages_report(books, as_of)
    for name, path in package_page.items():
        funders = reports.funding_report(books, as_of, package=name)
        related = (
            Related("Funded by", _links((row["member"] for row in funders.rows), member_page)),
            Related(
                "Drawn from", _links((s for s in books.packages[name].sources if s != "unallocated"), earmark_page)
            ),
        )
        figures = _one(every_package, "package", name, f"Package {name}")
        more = (("funders", _titled(funders, "Who funded it")),)
        pages.append(Page(path, f"Package {name}", figures, related, more))
    pages.append(Page("verify.html", "Verify these figures", None))
    return Site(books.name, books.currency, as_of, books.seal, books.count, repository, tuple(pages))


def _one(report: reports.Report, key: str, name: str, title: str) -> reports.Report:
    """The report's row of one earmark or package alone, under `title` (no totals: one row is its own)."""
    rows = tuple(row for row in report.rows if row[key] == name)
    return dataclasses.replace(report, title=title, rows=rows, totals={})


def _titled(report: reports.Report, title: str) -> reports.Report:
    """The report under the title its page gives it."""
    return dataclasses.replace(report, title=title)


def _links(names: Iterable[str], pages: dict[str, str]) -> tuple[Link, ...]:
    """A link to the page of each name that has one, once each, in the order given."""
    return tuple(Link(name, pages[name]) for name in dict.fromkeys(names) if name in pages)


_SAFE = re.compile(r"[^a-z0-9-]+")
_LONGEST = 60  # characters of a file name's stem, well under any file system's limit


def file_stem(name: str) -> str:
    """A file name for a member's, earmark's or package's page: lower-case letters, digits and '-' only.

    Nothing a name holds can reach the file system or the markup: no '/',
    no '.', no '<'. A name with no letter or digit, or a very long one,
    becomes (or ends in) a short hash of the name, so that it still names
    one page.
    """
    stem = _SAFE.sub("-", model.slug(name).lower()).strip("-")
    if stem and len(stem) <= _LONGEST:
        return stem
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return f"{stem[: _LONGEST - 11].rstrip('-')}-{digest}" if stem else f"n-{digest}"


def _stems(names: Iterable[str]) -> dict[str, str]:
    """Each name's file stem, sorted by name; two names with one stem are told apart by a hash."""
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names), key=lambda n: (model.slug(n), n)):
        stem = file_stem(name)
        if stem in taken:
            stem = f"{stem[: _LONGEST - 11]}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:10]}"
        taken.add(stem)
        stems[name] = stem
    return stems


# --- the files --------------------------------------------------------------


def build(site: Site, books: Books, *, tick: Callable[[], None] = lambda: None) -> dict[str, bytes]:
    """Every file of the site, by path from its root: each page, its CSV and JSON, and the marker.

    Deterministic: nothing here reads a clock or the file system.
    """
    files: dict[str, bytes] = {}
    for page in site.pages:
        files[page.path] = document(page, site, books).encode("utf-8")
        for stem, report in page.data:
            files[f"{stem}.csv"] = render.emit(report, "csv").encode("utf-8")
            files[f"{stem}.json"] = render.emit(report, "json").encode("utf-8")
        tick()
    files[MARKER] = _marker(site, files).encode("utf-8")
    return dict(sorted(files.items()))


def document(page: Page, site: Site, books: Books) -> str:
    """The HTML of one page: a report as `--html` draws it, with the site's navigation and links, or the verify page."""
    from ledger import html

    nav = [
        {"label": label, "href": _relative(page.path, path), "current": path == page.path}
        for path, label in _NAVIGATION
    ]
    if page.report is None:
        verify = html.environment().get_template("site/verify.html.j2")
        return verify.render(
            site=site, nav=nav, repository=site.repository, when=f"as of {html.written_date(site.as_of)}"
        )
    return html.report_page(
        page.report,
        books,
        template="site/page.html.j2",
        nav=nav,
        verify_href=_relative(page.path, "verify.html"),
        more=[table for _, report in page.more for table in html.build_page(report, books, charts=False).tables],
        related=[
            {"heading": group.heading, "links": [_href(page, link) for link in group.links]} for group in page.related
        ],
        downloads=[
            {
                "label": f"{Path(path).name} ({'spreadsheet' if path.endswith('.csv') else 'data'})",
                "href": _relative(page.path, path),
            }
            for path in page.downloads
        ],
    )


# The navigation every page shows: the dashboard, the site-wide tables, and how to verify.
_NAVIGATION = (
    ("index.html", "Dashboard"),
    *((f"{stem}.html", label) for stem, _, label in TABLES),
    ("verify.html", "Verify"),
)


def _href(page: Page, link: Link) -> dict[str, str]:
    """A link as the template draws it, relative to the page it is on."""
    return {"label": link.label, "href": _relative(page.path, link.target)}


def _relative(here: str, target: str) -> str:
    """The link from page `here` to `target`, both paths from the site's root: '../packages/kit.html'."""
    return posixpath.relpath(target, posixpath.dirname(here) or ".")


def _marker(site: Site, files: dict[str, bytes]) -> str:
    """The marker's text: what the site is of and the files it holds (no time, so it too stays the same)."""
    data = {
        "fundledger_site": SITE_FORMAT,
        "ledger": site.ledger,
        "as_of": site.as_of.isoformat(),
        "seal": site.seal,
        "files": sorted([*files, MARKER]),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def publish(
    root: Path,
    books: Books,
    as_of: dt.date | None = None,
    *,
    repository: str | None = None,
    progress: Callable[[int], Any] | None = None,
) -> Published:
    """Write the site for `books` as of `as_of` (default: `default_day`) into `root`.

    `root` must be missing, empty, or a folder an earlier publish wrote
    (it holds the marker). Files that earlier publish wrote and this one
    does not are removed; nothing else in the folder is touched. A file
    whose bytes are unchanged is left as it is.
    """
    earlier = previous_files(root)
    last = default_day(books)
    day = as_of or last
    if day < last:  # (refolding books that hold nothing later than `day` would give the same books, slowly)
        books = checkpoints.as_of(books, day)  # from the read cache's nearest mark, not replayed
    site = plan(books, day, repository)
    count = len(site.pages)
    if progress is None:
        files = build(site, books)
    else:
        with progress(count) as tick:
            files = build(site, books, tick=tick)
    targets = {name: _inside(root, name) for name in files}  # every path checked before anything is written
    written = []
    for name, data in files.items():
        target = targets[name]
        if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
            continue
        _write(target, data)
        written.append(name)
    removed = []
    for name in sorted(earlier - set(files)):
        target = root / name
        if _leads_out(root, target) or not target.is_file() or target.is_symlink():
            continue  # a marker that names something elsewhere is not obeyed
        target.unlink()
        removed.append(name)
    for folder in sorted({str(Path(name).parent) for name in removed} - {"."}, key=len, reverse=True):
        with contextlib.suppress(OSError):
            (root / folder).rmdir()  # only an emptied folder goes
    return Published(root, day, site.seal, tuple(files), tuple(written), tuple(removed))


def previous_files(root: Path) -> set[str]:
    """The files an earlier publish wrote into `root` (none for a missing or empty folder).

    Refuses (BadInput) a file, or a folder that holds anything but an earlier
    publish's output, so that nobody's own folder is written over.
    """
    if not root.exists():
        return set()
    if not root.is_dir():
        raise BadInput(f"{root} is a file, not a folder: give publish a new or empty folder")
    if not any(root.iterdir()):
        return set()
    marker = root / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        if data.get("fundledger_site") != SITE_FORMAT or not isinstance(data.get("files"), list):
            raise ValueError("not a site marker")
    except (OSError, ValueError, AttributeError):
        raise BadInput(
            f"{root} is not empty and holds no earlier publish: give publish a new or empty folder"
        ) from None
    return {name for name in data["files"] if isinstance(name, str) and _is_relative(name)}


def _is_relative(name: str) -> bool:
    """A path from the site's root that stays inside it: no absolute path, no '..', no empty part."""
    parts = name.split("/")
    return (
        bool(name)
        and not name.startswith("/")
        and all(part not in ("", ".", "..") for part in parts)
        and "\\" not in name
    )


def _inside(root: Path, name: str) -> Path:
    """`root / name`, refused if it would lead out of `root` (through '..' or a symbolic link)."""
    target = root / name
    if not _is_relative(name) or _leads_out(root, target):
        raise BadInput(f"{name} would be written outside {root}; publish into a folder of its own")
    return target


def _leads_out(root: Path, target: Path) -> bool:
    """Whether the folder `target` goes into is outside `root`, once symbolic links are followed."""
    return not target.parent.resolve().is_relative_to(root.resolve())


def _write(target: Path, data: bytes) -> None:
    """Write a file whole: into a temporary file beside it, then renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)


def check_repository(url: str) -> None:
    """Refuse a clone address the verify page should not print: one with a password, or one on several lines."""
    if any(char in url for char in "\r\n\t") or not url.strip():
        raise BadInput("--repository is one line: the address `git clone` takes")
    if re.match(r"[a-z][a-z0-9+.-]*://[^/@]*:[^/@]*@", url, re.IGNORECASE):
        raise BadInput("--repository holds a password: give the address without it, as the public clones it")
