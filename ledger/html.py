"""HTML reports that are documents: one self-contained page per report, from Jinja2 templates.

A page is built from the report's plain data, the very dicts that `--json`
prints (`render.report_json`, `summary_json`, `statement_json`), so that
every figure on the page equals the JSON. Python here only decides what the
tables hold and how each figure reads; the markup is in
`ledger/templates/`, rendered with autoescaping on, so no text typed into a
memo can become markup. A page makes no network request: no fonts, scripts
or stylesheets from elsewhere, and the charts are inline SVG.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger import money
from ledger.reports import Report, Statement, Summary
from ledger.text import inert

# Accounts whose balance is a credit in the normal course: shown with the sign turned, so that what a
# member gave (income:contributions) reads as given, never as a red debt.
CREDIT_ROOTS = ("income", "liabilities", "equity")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip

MOST_SOURCES = 200  # a page lists at most this many sources (a note says how many more there are)


@dataclass(frozen=True)
class Cell:
    """One table cell as the template draws it: its text, and how to align it and keep it whole."""

    text: str = ""
    number: bool = False  # right-aligned, tabular figures, never wrapped
    value: str | None = None  # the exact figure of the JSON (data-value), for a reader or test to compare
    nowrap: bool = False  # identifiers, dates and amounts are never broken
    negative: bool = False
    indent: int = 0  # an account's depth in the tree
    strong: bool = False

    @property
    def css(self) -> str:
        """The cell's classes for the stylesheet: num, id (never wrapped), neg, strong, depth-N."""
        flags = (("num", self.number), ("id", self.nowrap), ("neg", self.negative), ("strong", self.strong))
        names = [name for name, on in flags if on] + ([f"depth-{self.indent}"] if self.indent else [])
        return " ".join(names)


@dataclass(frozen=True)
class Table:
    """One `<table>`: a caption, the column heads, the rows, and total rows in `<tfoot>`."""

    caption: str
    heads: tuple[tuple[str, bool], ...]  # (title, is a number column)
    rows: tuple[tuple[Cell, ...], ...]
    foot: tuple[tuple[Cell, ...], ...] = ()
    note: str = ""
    empty: str = "Nothing to show."
    name: str = ""


@dataclass(frozen=True)
class Page:
    """Everything a page shows, ready for the template."""

    title: str
    ledger: str
    report: str
    when: str  # "as of 31 March 2025", or the period written out
    seal: str
    verify: str  # the command that checks the seal
    entries: int
    currency: str
    manager: str = ""
    facts: tuple[str, ...] = ()  # lines of prose under the header (members, notes)
    tables: tuple[Table, ...] = ()
    charts: tuple[Any, ...] = ()  # charts.Chart
    sources: tuple[tuple[str, str | None, tuple[int, ...]], ...] = ()  # (text, link, entry ids citing it)
    more_sources: int = 0
    lead: int = 0  # how many tables come before the charts (the summary's figures, a statement's position)


def report_page(
    report: Report | Summary | Statement,
    books=None,
    *,
    charts: bool = True,
    template: str = "report.html.j2",
    **context,
) -> str:
    """The whole HTML document (a `str`) for a report object as the report functions return it.

    `report` is a `reports.Report`, `Summary` or `Statement` (what
    `reports.summary_report`, `statement_report`, `balance_report`, ... and
    `by_period_report` return). `books` are the books the report was made
    from (after `fold.as_of`, if any): they give the date of the last entry
    (a page never says "today"), the sources the entries cite, and the data
    of the charts drawn over time; without them the page has no sources and
    only the charts the report's own rows can draw. `charts=False` leaves
    the charts out (faster, for a page that only needs the tables).

    `template` names another template that `{% extends "report.html.j2" %}`
    (its blocks: `head`, `nav` at the top of the body, `after` at the end
    of main), found by `environment()`; `context` is passed to it as it is.
    """
    page = build_page(report, books, charts=charts)
    return environment().get_template(template).render(page=page, **context)


def report_pdf(report: Report | Summary | Statement, books=None) -> bytes:
    """The report's page as a PDF document (A4, page numbers), rendered by WeasyPrint from `report_page`.

    WeasyPrint may fetch nothing: the page holds everything it shows, and
    any URL it might try is refused, so a PDF is made with no network.
    """
    import weasyprint

    def refuse(url: str, *args, **kwargs):
        raise ValueError(f"a report's PDF fetches nothing ({url})")

    return weasyprint.HTML(string=report_page(report, books), url_fetcher=refuse).write_pdf()


def build_page(report: Report | Summary | Statement, books=None, *, charts: bool = True) -> Page:
    """The `Page` of a report: its header, tables, charts and sources, from its plain (JSON) data."""
    from ledger import render

    if isinstance(report, Summary):
        data = render.summary_json(report)
        title, tables, facts = "Summary", _summary_tables(data), _summary_facts(data)
    elif isinstance(report, Statement):
        data = render.statement_json(report)
        title, tables, facts = f"Statement of {report.member}", _statement_tables(data), (f"Status: {data['status']}",)
    else:
        data = render.report_json(report)
        title, tables, facts = _title(report), (_report_table(report, data),), ()
    drawn: tuple[Any, ...] = ()
    if charts:
        from ledger import charts as charting

        drawn = tuple(charting.for_report(report, books))
    sources, more = _sources(report, data, books)
    return Page(
        title=title,
        ledger=data["ledger"],
        report=data["report"],
        when=_when(data, books),
        seal=data["seal"],
        verify=_verify_command(data),
        entries=data["entries"],
        currency=data["currency"],
        manager=data.get("manager") or (books.manager if books is not None else "") or "",
        facts=facts,
        tables=tables,
        charts=drawn,
        sources=sources,
        more_sources=more,
        lead=1 if isinstance(report, (Summary, Statement)) else 0,
    )


def written_date(day: dt.date) -> str:
    """A day as people write it in a document: '31 March 2025'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def accounting(value: Decimal, currency: str) -> str:
    """An amount in the accounting convention: a negative one in parentheses, '(€5,000,000.00)'."""
    shown = money.format_money(abs(value), currency)
    return f"({shown})" if value < 0 else shown


# --- the header -----------------------------------------------------------


def _when(data: dict[str, Any], books) -> str:
    """The period or the as-of day written out; without --as-of, the day of the last entry (never 'today')."""
    start, end = data.get("from"), data.get("to")
    if start or end:
        first = written_date(dt.date.fromisoformat(start)) if start else "the first entry"
        last = written_date(dt.date.fromisoformat(end)) if end else _last_day(books)
        return f"from {first} to {last}"
    if data.get("as_of"):
        return f"as of {written_date(dt.date.fromisoformat(data['as_of']))}"
    return f"as of {_last_day(books)}"


def _last_day(books) -> str:
    """The date of the last entry, written out ('the last entry' when there are no books or none)."""
    if books is None or not books.entries:
        return "the last entry"
    return written_date(max(entry.date for entry in books.entries))


def _verify_command(data: dict[str, Any]) -> str:
    """The command that proves the seal: with --as-of for a report that ends on a day."""
    end = data.get("as_of") or data.get("to")
    return f"fundledger verify {f'--as-of {end} ' if end else ''}--seal {data['seal'][:12]}"


# --- a report's one table ---------------------------------------------------


def _report_table(report: Report, data: dict[str, Any]) -> Table:
    """Every column the report has (a narrow terminal's optional ones too), and totals in the foot."""
    c = data["currency"]
    columns = list(report.columns)
    keys = {column.key for column in columns}
    if report.report != "register":  # the register's JSON holds whole entries: its columns are what it shows
        extra: dict[str, Any] = {}  # each key the JSON has and the table does not, with a value of it
        for row in data["rows"]:
            for key, value in row.items():
                if key not in keys and key != "currency" and extra.get(key) in (None, "", [], {}):
                    extra[key] = value
        # A column of the JSON's that holds nothing in any row (no package was ever amended) would only widen
        # the page: it is left out, and so is nothing but emptiness.
        columns += [_column(key, sample, c) for key, sample in extra.items() if sample not in (None, "", [], {})]
    flip = _credit_register(report)
    rows = []
    if data.get("opening") is not None and report.report == "register":
        opening = data["opening"]
        cells = [Cell()] * len(columns)
        at = {column.key: i for i, column in enumerate(columns)}
        cells[at["date"]] = Cell(opening["date"], nowrap=True)
        cells[at["kind"]] = Cell("opening balance", strong=True)
        if "running_balance" in at:
            cells[at["running_balance"]] = _money(opening["running_balance"], c, flip)
        rows.append(tuple(cells))
    for plain, raw in zip(data["rows"], report.rows, strict=True):
        full = {**{k: raw[k] for k in report.hidden if k in raw}, **plain}
        turn = flip or (report.report == "balance" and full["account"].split(":")[0] in CREDIT_ROOTS)
        rows.append(tuple(_cell(full.get(column.key), column, c, turn) for column in columns))
    foot = ()
    totals = data.get("totals") or {}
    if any(column.key in totals for column in columns[1:]):
        cells = (_cell(totals[col.key], col, c) if col.key in totals else Cell() for col in columns[1:])
        foot = ((Cell("Total", strong=True), *cells),)
    counted = [
        f"{key.replace('_', ' ')}: {value}" for key, value in totals.items() if key not in {k.key for k in columns}
    ]
    note = "; ".join(counted).capitalize() + "." if counted else ""
    if report.report == "balance":
        note += (
            "Income, liabilities and equity are credit balances, shown here as positive amounts: a member's "
            "contribution reads as given. The total is of debits less credits, so it is nil."
        )
    elif flip:
        note += "A credit account: amounts it received are shown as positive."
    heads = tuple((column.title, column.kind == "money" or column.kind in ("int", "share", "amounts"))
                  for column in columns)  # fmt: skip
    return Table(caption=_title(report), heads=heads, rows=tuple(rows), foot=foot, note=note, name=report.report)


def _title(report: Report) -> str:
    """The report's title without its period's short label ('2025-07-01 to today'): the header writes the
    period out, from its first day to its last."""
    if report.period is None:
        return report.title
    return report.title.removesuffix(f", {report.period.label()}")


def _column(key: str, sample: Any, currency: str):
    """A column for a key the JSON has and the terminal's table does not (a package's first commitment)."""
    from ledger.reports import Column

    money_like = (
        isinstance(sample, str)
        and _AMOUNT.fullmatch(sample)
        and len(sample.rpartition(".")[2]) == (money.places(currency))
    )
    title = _EXTRA_TITLES.get(key) or key.replace("_", " ").capitalize()
    return Column(key, title, "money" if money_like else "extra")


_EXTRA_TITLES = {"original": "First committed"}  # a package's: what it committed before any amendment


def _records(value: list, currency: str) -> str:
    """Records nested in a row (a package's amendments) as words: '#12 2025-05-01 change €1,000,000.00 ...'."""
    parts = []
    for item in value:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        words = []
        for key, field in item.items():
            if field in (None, "", False):
                continue
            if key == "entry":
                words.append(f"#{field}")
            elif isinstance(field, str) and _AMOUNT.fullmatch(field):
                words.append(f"{key} {accounting(Decimal(field), currency)}")
            elif field is True:
                words.append(key)
            else:
                words.append(str(field))
        parts.append(" ".join(words))
    return "; ".join(parts)


_AMOUNT = re.compile(r"-?[0-9]+\.[0-9]+")


def _credit_register(report: Report) -> bool:
    """A register of one credit account (income:contributions:latvia): its changes read as given."""
    prefix = "Register of "
    return (
        report.report == "register"
        and report.title.startswith(prefix)
        and (report.title[len(prefix) :].split(":")[0] in CREDIT_ROOTS)
    )


def _cell(value: Any, column, currency: str, turn: bool = False) -> Cell:
    """A cell of a report's table, from the plain (JSON) value of its column."""
    kind = column.kind
    if value is None:
        return Cell("", number=kind in ("money", "int", "share"))
    if kind == "money":
        return _money(value, currency, turn)
    if kind == "int":
        return Cell(str(value), number=True, value=str(value), nowrap=True)
    if kind == "share":
        return Cell(f"{value}%", number=True, value=str(value), nowrap=True)
    if kind == "date":
        return Cell(str(value), nowrap=True)
    if kind == "account":
        depth = value.count(":")
        return Cell(value.rsplit(":", 1)[-1], indent=depth, strong=depth == 0, nowrap=True)
    if kind == "split":  # "drones 15000000.00 GBP"
        return Cell(", ".join(_split_part(part, currency) for part in value))
    if kind == "amounts":
        return Cell(", ".join(money.format_money(Decimal(a), c) for c, a in value.items()), number=True, nowrap=True)
    if kind == "original":
        c = value["currency"]
        figures = {k: money.format_money(Decimal(value[k]), c) for k in ("amount", "received", "outstanding")}
        return Cell(f"{figures['amount']} at {value['rate']}: {figures['received']} received, "
                    f"{figures['outstanding']} outstanding")  # fmt: skip
    if isinstance(value, list):
        if any(isinstance(item, dict) for item in value):
            return Cell(_records(value, currency))
        return Cell(", ".join(str(item) for item in value))
    if isinstance(value, dict):
        return Cell(", ".join(f"{k} {v}" for k, v in value.items()))
    text = str(value)
    whole = kind in ("text", "extra") and column.key in _IDENTIFIERS
    return Cell(text, nowrap=whole)


# Columns whose values are names or identifiers, never broken inside (a package, an earmark, an account).
_IDENTIFIERS = frozenset({"package", "earmark", "member", "supplier", "contract", "status", "period", "seal_shown",
                          "pledge", "kind", "currency", "bucket", "since", "origin", "role", "entry", "close"})  # fmt: skip


def _split_part(part: str, currency: str) -> str:
    """'drones 15000000.00 GBP' as 'drones £15,000,000.00'."""
    pieces = part.split(" ")
    if len(pieces) >= 2:
        c = pieces[2] if len(pieces) > 2 else currency
        try:
            return f"{pieces[0]} {money.format_money(Decimal(pieces[1]), c)}"
        except (ArithmeticError, ValueError, KeyError):
            return part
    return part


def _money(value: str | None, currency: str, turn: bool = False) -> Cell:
    """An amount cell: the JSON's exact figure in data-value, shown with its currency, negatives in parentheses.

    `turn` shows a credit balance the other way round (what a member gave reads as given).
    """
    if value is None:
        return Cell("", number=True)
    amount = Decimal(value)
    shown = -amount if turn else amount
    return Cell(accounting(shown, currency), number=True, value=value, nowrap=True, negative=shown < 0)


# --- the summary ------------------------------------------------------------

_SUMMARY_ROWS = (
    ("contributions", "Contributions (given or pledged)"),
    ("exchange_differences", "exchange gains (losses)"),
    ("received", "Received"),
    ("outstanding", "Outstanding pledges"),
    ("overdue", "of it fallen due and not received"),
    ("cash", "Cash held"),
    ("unallocated", "unallocated"),
    ("earmarked", "earmarked"),
    ("committed", "committed to packages"),
    ("paid", "Paid out to suppliers"),
    ("interest", "Bank interest received"),
    ("bank_charges", "Bank charges"),
    ("management_fee", "Manager's fee"),
    ("written_off", "Pledges written off"),
)
_SUMMARY_INNER = frozenset({"exchange_differences", "overdue", "unallocated", "earmarked", "committed"})
_WHEN_ANY = frozenset({"exchange_differences", "overdue", "interest", "bank_charges", "management_fee",
                       "written_off"})  # fmt: skip


def _summary_tables(data: dict[str, Any]) -> tuple[Table, ...]:
    """The headline figures (for a period: opening, change, closing), the earmarks and the open packages."""
    c = data["currency"]
    opening, movements = data.get("opening"), data.get("movements")
    rows = []
    for key, label in _SUMMARY_ROWS:
        shown = Decimal(data[key]) or (opening and key in opening and Decimal(opening[key]))
        if key in _WHEN_ANY and not shown:
            continue
        name = Cell(label, indent=1 if key in _SUMMARY_INNER else 0, strong=key not in _SUMMARY_INNER)
        if opening is None:
            rows.append((name, _money(data[key], c)))
        else:
            rows.append((name, _money(opening.get(key), c), _money(movements.get(key), c), _money(data[key], c)))
    heads = (
        (("Figure", False), ("Amount", True))
        if opening is None
        else (("Figure", False), ("Opening", True), ("Change", True), ("Closing", True))
    )
    tables = [Table("The fund's money", heads, tuple(rows), name="figures")]
    earmark_heads = (("Earmark", False), ("Allocated", True), ("Committed", True), ("Paid", True),
                     ("Available", True), ("Pledged, not received", True))  # fmt: skip
    earmark_rows = tuple(
        (Cell(e["earmark"], nowrap=True), *(_money(e[k], c) for k in ("allocated", "committed", "paid", "available",
                                                                       "pledged_outstanding")))
        for e in data["earmarks"]
    )  # fmt: skip
    tables.append(Table("Earmarks", earmark_heads, earmark_rows, empty="No earmarks.", name="earmarks"))
    tables.append(_open_packages(data["open_packages"], c))
    return tuple(tables)


# The summary's open packages: (key, title, kind), as the packages report shows them.
_PACKAGE_COLUMNS = (("package", "Package", "id"), ("memo", "Memo", "text"), ("date", "Date", "id"),
                    ("earmarks", "From", "list"), ("original", "First committed", "money"),
                    ("amount", "Committed", "money"), ("contracted", "Contracted", "money"), ("paid", "Paid", "money"),
                    ("remaining", "Remaining", "money"), ("delivered", "Delivered", "list"),
                    ("amendments", "Amendments", "records"), ("status", "Status", "id"))  # fmt: skip


def _open_packages(rows: list[dict[str, Any]], currency: str) -> Table:
    """The open packages with every figure the JSON has; a column that would only repeat another (the first
    commitment of packages never amended) or hold nothing (no amendments) is left out."""

    def shown(key: str) -> bool:
        if key == "original":
            return any(row.get("original") != row.get("amount") for row in rows)
        if key == "amendments":
            return any(row.get("amendments") for row in rows)
        return any(key in row for row in rows) or key in ("package", "amount", "paid", "remaining")

    columns = [column for column in _PACKAGE_COLUMNS if shown(column[0])]
    body = []
    for row in rows:
        cells = []
        for key, _, kind in columns:
            value = row.get(key)
            if kind == "money":
                cells.append(_money(value, currency))
            elif kind == "list":
                cells.append(Cell(", ".join(value or ())))
            elif kind == "records":
                cells.append(Cell(_records(value or [], currency)))
            else:
                cells.append(Cell(value or "", nowrap=kind == "id"))
        body.append(tuple(cells))
    heads = tuple((title, kind == "money") for _, title, kind in columns)
    return Table("Open packages", heads, tuple(body), empty="No open package.", name="packages")


def _summary_facts(data: dict[str, Any]) -> tuple[str, ...]:
    """The members line, as the terminal's summary has it: active (and who stands for unnamed states), pending."""
    active, groups = data["members_active"], data["member_groups"]
    members = f"{active} active member{'s' if active != 1 else ''}"
    if groups:
        members += f" named, and {', '.join(groups)} standing for states the sources do not name"
    return (members + f"; {data['members_pending']} pending.",)


# --- a member's statement ---------------------------------------------------

_POSITION = (("pledged", "Pledged"), ("received", "Received"), ("outstanding", "Outstanding"),
             ("overdue", "of it fallen due and not received"))  # fmt: skip


def _statement_tables(data: dict[str, Any]) -> tuple[Table, ...]:
    c = data["currency"]
    position = [
        (Cell(label, indent=1 if key == "overdue" else 0, strong=key != "overdue"),
         _money(data["opening"].get(key), c), _money(data["closing"].get(key), c))
        for key, label in _POSITION
        if key in data["closing"] or key in data["opening"]
    ]  # fmt: skip
    if Decimal(data["exchange_differences"]):
        position.append((Cell("Exchange gains (losses)", strong=True), Cell(number=True),
                         _money(data["exchange_differences"], c)))  # fmt: skip
    tables = [Table("Position", (("", False), ("Opening", True), ("Closing", True)), tuple(position),
                    name="position")]  # fmt: skip
    line_heads = (("#", True), ("Date", False), ("Kind", False), ("What", False), ("Given", True), ("Rate", True),
                  (f"In {c}", True), ("Exchange gain (loss)", True), ("Reversal", False))  # fmt: skip
    line_rows = tuple(
        (Cell(str(line["id"]), number=True, value=str(line["id"]), nowrap=True), Cell(line["date"], nowrap=True),
         Cell(line["kind"], nowrap=True), Cell(line["what"]),
         _given(line), Cell(line["rate"] or "", number=True, nowrap=True), _money(line["amount"], c),
         _money(line.get("exchange_difference"), c), _reversal(line))
        for line in data["lines"]
    )  # fmt: skip
    tables.append(Table("Pledges and receipts", line_heads, line_rows, empty="None in the period.", name="lines"))
    earmarked = tuple((Cell(e, nowrap=True), _money(a, c)) for e, a in data["earmarked"].items())
    tables.append(Table("What its receipts put in each earmark", (("Earmark", False), ("Amount", True)), earmarked,
                        empty="Nothing earmarked.", name="earmarked"))  # fmt: skip
    funded_heads = (("Earmark", False), ("Package", False), ("Date", False), ("From the earmark", True),
                    ("Paid", True), ("Status", False))  # fmt: skip
    funded = tuple(
        (Cell(r["earmark"], nowrap=True), Cell(r["package"], nowrap=True), Cell(r["date"], nowrap=True),
         _money(r["amount"], c), _money(r["paid"], c), Cell(r["status"], nowrap=True))
        for r in data["funded"]
    )  # fmt: skip
    tables.append(Table("Packages drawn from those earmarks (other members' money in them too)", funded_heads,
                        funded, empty="No package yet.", name="funded"))  # fmt: skip
    bought_heads = (("Package or envelope", False), ("Its money", True), ("Paid", True), ("Not yet paid", True),
                    ("Status", False))  # fmt: skip
    bought = tuple(
        (Cell(r["package"], nowrap=True), _money(r["amount"], c), _money(r["paid"], c),
         _money(r.get("not_yet_paid"), c), Cell(r["status"], nowrap=True))
        for r in data["bought"]
    )  # fmt: skip
    tables.append(Table("What its own money bought (traced)", bought_heads, bought, empty="Nothing yet.",
                        name="bought"))  # fmt: skip
    return tuple(tables)


def _reversal(line: dict[str, Any]) -> Cell:
    """'reverses #5' or 'reversed by #9' (both ids are in the JSON's `reverses` and `reversed_by`)."""
    if line.get("reverses"):
        return Cell(f"reverses #{line['reverses']}")
    if line.get("reversed_by"):
        return Cell(f"reversed by #{line['reversed_by']}")
    return Cell()


def _given(line: dict[str, Any]) -> Cell:
    if line.get("given") is None:
        return Cell(number=True)
    return Cell(accounting(Decimal(line["given"]), line["given_currency"]), number=True, value=line["given"],
                nowrap=True, negative=Decimal(line["given"]) < 0)  # fmt: skip


# --- sources ----------------------------------------------------------------


def _sources(report, data: dict[str, Any], books) -> tuple[tuple[tuple[str, str | None, tuple[int, ...]], ...], int]:
    """The sources the entries behind the report cite, each with the ids of the entries citing it."""
    if books is None:
        return (), 0
    cited: dict[str, list[int]] = {}
    for entry in _behind(report, data, books):
        if entry.source:
            cited.setdefault(entry.source, []).append(entry.id)
    listed = [(text, _link(text), tuple(ids)) for text, ids in list(cited.items())[:MOST_SOURCES]]
    return tuple(listed), max(0, len(cited) - MOST_SOURCES)


def _behind(report, data: dict[str, Any], books):
    """The entries a report is made from: a register's rows, a statement's member's, else all in its span."""
    start = dt.date.fromisoformat(data["from"]) if data.get("from") else None
    end = data.get("as_of") or data.get("to")
    end = dt.date.fromisoformat(end) if end else None
    if isinstance(report, Report) and report.report == "register":
        ids = {row["id"] for row in data["rows"]}
        return (entry for entry in books.entries if entry.id in ids)
    member = report.member if isinstance(report, Statement) else None
    lines = {line["id"] for line in data.get("lines", ())}
    return (
        entry
        for entry in books.entries
        if (start is None or entry.date >= start)
        and (end is None or entry.date <= end)
        and (member is None or entry.id in lines or entry.data.get("member") == member)
    )


def _link(source: str) -> str | None:
    """A cited source that is a web address is linked (and only then): http(s) and nothing else."""
    text = source.strip()
    if text.startswith(("https://", "http://")) and " " not in text:
        return text
    return None


# --- templates ------------------------------------------------------------


def _visible(value: Any) -> Any:
    """Every text a template writes, with control, bidirectional and zero-width characters shown as escapes
    (`text.inert`, as on the terminal), so a memo can neither hide words nor reverse them on the page. Markup
    the code made safe on purpose (a chart's SVG) is left as it is."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return inert(value)
    return value


_ENVIRONMENT = None


def environment():
    """The Jinja2 environment of every page: the templates of ledger/templates/, every value escaped by
    default (whatever a template's file name) after `_visible`, and a name the template does not get an error,
    not a blank."""
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        import jinja2

        _ENVIRONMENT = jinja2.Environment(
            loader=jinja2.PackageLoader("ledger", "templates"),
            autoescape=True,
            finalize=_visible,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    return _ENVIRONMENT
