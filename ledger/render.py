"""Rendering: turn entries and reports into rich tables, JSON or CSV. Nothing here adds anything up.

User text reaches the terminal only through `rich.text.Text` (never the
markup parser) after `text.inert` has made control characters visible.
rich is imported lazily so that `fundledger --help` starts fast.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

from ledger import kinds, model, money
from ledger.model import Entry
from ledger.reports import Report, Summary
from ledger.text import inert


def console(stderr: bool = False):
    """A rich console; colour only on a terminal that supports it, and never with NO_COLOR set."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


# --- entries -------------------------------------------------------------


def entry_json(entry: Entry) -> dict[str, Any]:
    """An entry as JSON-ready data (the same shape the docs promise for every `--json`)."""
    return model.to_json(entry)


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)


def entry_panel(entry: Entry, currency: str, *, dry_run: bool = False):
    """A small panel: the entry's id, kind, date, its fields and its postings."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    facts.add_row("date", entry.date.isoformat())
    given = model.given_as(entry)
    given_in = given.currency if given else currency  # a split is in the currency the money was given in
    for key, value in entry.data.items():
        if given and key in ("original_currency", "rate"):
            continue
        if given and key == "original_amount":
            facts.add_row("given as", Text(str(given)))
            continue
        shown = (
            ", ".join(f"{k} {money.format_money(Decimal(v), given_in)}" for k, v in value.items())
            if isinstance(value, dict)
            else (f"#{value}" if key in kinds.REFS else str(value))
        )
        facts.add_row(key, Text(inert(shown)))
    for key in ("memo", "source"):
        if getattr(entry, key):
            facts.add_row(key, Text(inert(getattr(entry, key))))
    parts: list[Any] = [facts]
    if entry.postings:
        postings = Table(box=None, padding=(0, 1), show_header=True, header_style="dim")
        postings.add_column("account", overflow="fold")
        postings.add_column("debit", justify="right")
        postings.add_column("credit", justify="right")
        for p in entry.postings:
            amount = money.format_money(abs(p.amount), p.currency)
            postings.add_row(p.account, amount if p.amount > 0 else "", amount if p.amount < 0 else "")
        parts.append(Text(""))
        parts.append(postings)
    title = f"#{entry.id} {entry.kind}" + (" (dry run: not recorded)" if dry_run else "")
    footer = None if dry_run else f"hash {entry.hash[:12]}"
    return Panel(Group(*parts), title=title, title_align="left", subtitle=footer, subtitle_align="right", expand=False)


# --- reports -------------------------------------------------------------


def emit(report: Report | Summary, fmt: str, *, path: str | None = None, pager: bool = False) -> str | None:
    """Render a report in one format: `table` to the terminal, `json`/`csv` as text, `html`/`svg` to `path`.

    Returns the text to print for json and csv, None when it has printed or written.
    """
    if fmt == "json":
        data = summary_json(report) if isinstance(report, Summary) else report_json(report)
        return dumps(data) + "\n"
    if fmt == "csv":
        return summary_csv(report) if isinstance(report, Summary) else report_csv(report)
    width = console().width if fmt == "table" else 100
    shown = summary_view(report, width) if isinstance(report, Summary) else report_table(report, width)
    if fmt in ("html", "svg"):
        recorder = _recording_console()
        recorder.print(shown)
        exported = (
            recorder.export_html(inline_styles=True) if fmt == "html" else recorder.export_svg(title=_title(report))
        )
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(exported)
        return None
    out = console()
    if pager:
        with out.pager(styles=True):
            out.print(shown)
    else:
        out.print(shown)
    return None


def report_json(report: Report) -> dict[str, Any]:
    """`report`, `currency`, `as_of`, `seal` and `rows` keyed by the report's snake_case columns."""
    kinds = {column.key: column.kind for column in report.columns}
    data = {
        "report": report.report,
        "ledger": report.ledger,
        "currency": report.currency,
        "as_of": _date(report.as_of),
        "entries": report.entries,
        "seal": report.seal,
        "rows": [
            {k: _plain(v, report.currency, kinds.get(k)) for k, v in row.items() if k not in report.hidden}
            for row in report.rows
        ],
    }
    if report.totals:
        data["totals"] = {k: _plain(v, report.currency) for k, v in report.totals.items()}
    return data


def report_csv(report: Report) -> str:
    """A header of the row keys, then one line per row; amounts as plain decimals, lists joined by '; '."""
    kinds = {column.key: column.kind for column in report.columns}
    nested = {k for row in report.rows for k, v in row.items() if _is_table_list(v)}
    keys: dict[str, None] = {}
    for row in report.rows or [{c.key: None for c in report.columns}]:
        keys.update((k, None) for k in row if k not in report.hidden and k not in nested)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(keys), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({k: _cell(_plain(v, report.currency, kinds.get(k))) for k, v in row.items() if k in keys})
    return out.getvalue()


# Column kinds whose cells never wrap.
FIGURES = ("money", "int", "share", "date", "amounts")


def report_table(report: Report, width: int | None = None):
    """A rich table: amounts right-aligned with separators and symbol, negatives marked, tree indented.

    Figures never wrap. Where the terminal is too narrow for every column,
    optional ones (memos, purposes, splits) are left out, last first.
    """
    from rich import box
    from rich.table import Table
    from rich.text import Text

    cells = [[_show_cell(row, c, report.currency) for c in report.columns] for row in report.rows]
    columns = _fitting_columns(report, cells, width or console().width)
    if columns is None:
        return _stacked(report, cells)
    if len(report.rows) > LONG_TABLE:
        fast = _LongTable.fitting(report, cells, columns, width or console().width)
        if fast is not None:
            return fast

    table = Table(
        title=Text(f"{report.title} — {inert(report.ledger)}"),
        caption=_caption(report.as_of, report.entries, report.seal),
        caption_justify="right",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for index in columns:
        column = report.columns[index]
        right = column.kind in ("money", "int", "share", "amounts")
        figure = column.kind in FIGURES
        table.add_column(
            column.title, justify="right" if right else "left", overflow="fold", no_wrap=figure, min_width=6
        )
    for row in cells:
        table.add_row(*(row[i] for i in columns))
    if report.totals and report.rows:
        table.add_section()
        total = [
            _money_text(report.totals[c.key], report.currency) if c.key in report.totals else Text("")
            for c in report.columns
        ]
        total[0] = Text("total", style="bold")
        table.add_row(*(total[i] for i in columns))
    if not report.rows:
        table.add_row(Text("nothing to show", style="dim"), *[""] * (len(columns) - 1))
    return table


# Above this many rows a table whose cells all fit on one line is drawn line by line (_LongTable): rich's
# Table measures every cell for wrapping, which takes most of a second for the thousands of accounts of a
# large fund's balance.
LONG_TABLE = 500


class _LongTable:
    """A long table drawn as lines of segments: the same title, header, rows, totals and caption, no wrapping."""

    def __init__(self, title: str, header: list, rows: list, total: list | None, caption: str, widths, right):
        self.title, self.header, self.rows, self.total, self.caption = title, header, rows, total, caption
        self.widths, self.right = widths, right

    @classmethod
    def fitting(cls, report: Report, cells: list, columns: list[int], width: int):
        """The long table, or None when a cell would have to wrap (then rich's Table draws it)."""
        from rich.text import Text

        shown = [report.columns[i] for i in columns]
        header = [Text(c.title, style="bold") for c in shown]
        rows = [[row[i] for i in columns] for row in cells]
        total = None
        if report.totals:
            total = [_money_text(report.totals[c.key], report.currency) if c.key in report.totals else Text("")
                     for c in shown]  # fmt: skip
            total[0] = Text("total", style="bold")
        every = [header, *rows, *([total] if total else [])]
        widths = [max(line[i].cell_len for line in every) for i in range(len(shown))]
        if sum(widths) + 3 * (len(widths) - 1) > width or any("\n" in cell.plain for row in rows for cell in row):
            return None
        right = [c.kind in ("money", "int", "share", "amounts") for c in shown]
        title = f"{report.title} — {inert(report.ledger)}"
        return cls(title, header, rows, total, _caption(report.as_of, report.entries, report.seal), widths, right)

    def __rich_console__(self, console, options):
        from rich.segment import Segment
        from rich.style import Style

        full = sum(self.widths) + 3 * (len(self.widths) - 1)
        yield Segment(self.title.center(full).rstrip())
        yield Segment.line()

        def line(cells):
            for index, cell in enumerate(cells):
                pad = " " * (self.widths[index] - cell.cell_len)
                style = console.get_style(cell.style) if cell.style else None
                parts = [Segment(pad), Segment(cell.plain, style)] if self.right[index] else [
                    Segment(cell.plain, style), Segment(pad)]  # fmt: skip
                yield from parts
                if index < len(cells) - 1:
                    yield Segment("   ")
            yield Segment.line()

        yield from line(self.header)
        yield Segment("─" * full)
        yield Segment.line()
        for row in self.rows:
            yield from line(row)
        if self.total:
            yield Segment("─" * full)
            yield Segment.line()
            yield from line(self.total)
        yield Segment(self.caption.rjust(full), Style(dim=True))
        yield Segment.line()


def _fitting_columns(report: Report, cells: list, width: int) -> list[int] | None:
    """The columns to show in `width`, dropping optional ones from the right; None if even the rest won't fit.

    Words may wrap, so a text column needs at most 14 characters; a figure
    needs all of its own and never wraps.
    """
    needed = []
    for index, column in enumerate(report.columns):
        longest = max((row[index].cell_len for row in cells), default=0)
        widest = max(longest, min(len(column.title), 12))
        figure = column.kind in FIGURES
        needed.append((widest if figure else min(widest, 14)) + 2)
    keep = list(range(len(report.columns)))
    optional = [i for i, c in enumerate(report.columns) if c.optional]
    while optional and sum(needed[i] for i in keep) > width:
        keep.remove(optional.pop())
    return keep if sum(needed[i] for i in keep) <= width else None


def _stacked(report: Report, cells: list):
    """The report as one small block per row (label: value), for terminals too narrow for its table."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    blocks: list[Any] = [Text(f"{report.title} — {inert(report.ledger)}", style="bold")]
    for row in cells:
        block = Table.grid(padding=(0, 2))
        block.add_column(style="dim", no_wrap=True)
        block.add_column(overflow="fold")
        for column, cell in zip(report.columns[1:], row[1:], strict=True):
            block.add_row(column.title, cell)
        blocks += [Text(""), Text.assemble(row[0], style="bold"), block]
    if report.totals and report.rows:
        block = Table.grid(padding=(0, 2))
        block.add_column(style="dim", no_wrap=True)
        block.add_column()
        for column in report.columns:
            if column.key in report.totals:
                block.add_row(column.title, _money_text(report.totals[column.key], report.currency))
        blocks += [Text(""), Text("total", style="bold"), block]
    blocks += [Text(""), Text(_caption(report.as_of, report.entries, report.seal), style="dim")]
    return Group(*blocks)


# --- the summary dashboard -----------------------------------------------

_HEADLINES = (
    ("contributions", "Contributions (given or pledged)"),
    ("received", "Received"),
    ("outstanding", "Outstanding pledges"),
    ("cash", "Cash held"),
    ("unallocated", "  unallocated"),
    ("earmarked", "  earmarked"),
    ("committed", "  committed to packages"),
    ("paid", "Paid out"),
)


def summary_json(summary: Summary) -> dict[str, Any]:
    c = summary.currency
    data: dict[str, Any] = {
        "report": "summary",
        "ledger": summary.ledger,
        "manager": summary.manager,
        "currency": c,
        "as_of": _date(summary.as_of),
        "entries": summary.entries,
        "seal": summary.seal,
    }
    data.update({key: money.to_text(getattr(summary, key), c) for key, _ in _HEADLINES})
    data["exchange_differences"] = money.to_text(summary.exchange_differences, c)
    data["members_active"] = summary.members_active
    data["members_pending"] = summary.members_pending
    data["earmarks"] = [
        {
            "earmark": bar.earmark,
            "allocated": money.to_text(bar.allocated, c),
            "committed": money.to_text(bar.committed, c),
            "paid": money.to_text(bar.paid, c),
            "available": money.to_text(bar.available, c),
        }
        for bar in summary.earmarks
    ]
    data["open_packages"] = [{k: _plain(v, c) for k, v in row.items()} for row in summary.open_packages]
    return data


def summary_csv(summary: Summary) -> str:
    """The headline figures as `figure,value` lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["figure", "value"])
    for key, value in summary_json(summary).items():
        if not isinstance(value, list):
            writer.writerow([key, value])
    return out.getvalue()


def summary_view(summary: Summary, width: int = 100):
    """Headline figures, a bar per earmark (committed and paid out of allocated), open packages, a footer."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    c = summary.currency
    figures = Table.grid(padding=(0, 2))
    figures.add_column()
    figures.add_column(justify="right")
    for key, label in _HEADLINES:
        value = getattr(summary, key)
        figures.add_row(Text(label, style="" if label.startswith(" ") else "bold"), _money_text(value, c))
        if key == "contributions" and summary.exchange_differences:  # only for funds that take other currencies
            figures.add_row(Text("  exchange gains (losses)"), _money_text(summary.exchange_differences, c))
    members = Text(f"{summary.members_active} active members, {summary.members_pending} pending")
    if summary.manager:
        members.append(Text(f" · managed by {inert(summary.manager)}"))
    parts: list[Any] = [figures, Text(""), members]
    bar_width = 24 if width >= 100 else (12 if width >= 72 else 4)
    if summary.earmarks:
        bars = Table(
            title="Earmarks: paid █  committed ▓  available ░",
            title_justify="left",
            box=None,
            padding=(0, 1),
            show_header=False,
        )
        bars.add_column(overflow="fold", min_width=8)
        bars.add_column(no_wrap=True)
        bars.add_column(justify="right", no_wrap=True)
        bars.add_column(style="dim", no_wrap=True)
        for bar in summary.earmarks:
            pledged = f"+{money.format_money(bar.pledged_outstanding, c)} pledged" if bar.pledged_outstanding else ""
            bars.add_row(Text(inert(bar.earmark)), _bar(bar, bar_width), _money_text(bar.allocated, c), pledged)
        parts += [Text(""), bars]
    if summary.open_packages:
        packages = Table(title="Open packages", title_justify="left", box=None, padding=(0, 1))
        dated = width >= 72
        packages.add_column("package", overflow="fold", min_width=8)
        if dated:
            packages.add_column("date", no_wrap=True)
        packages.add_column("amount", justify="right", no_wrap=True)
        packages.add_column("remaining", justify="right", no_wrap=True)
        for row in summary.open_packages:
            cells = [Text(inert(row["package"])), row["date"].isoformat()][: 2 if dated else 1]
            packages.add_row(*cells, _money_text(row["amount"], c), _money_text(row["remaining"], c))
        parts += [Text(""), packages]
    # The footer is a line of its own, not the panel's subtitle, so a narrow panel never cuts the seal.
    parts += [Text(""), Text(_caption(summary.as_of, summary.entries, summary.seal), style="dim")]
    title = Text(inert(summary.ledger), style="bold")
    return Panel(Group(*parts), title=title, expand=False)


def _bar(bar, width: int = 24):
    """A text bar of an earmark: paid, then committed, then available, in proportion to allocated."""
    from rich.text import Text

    if bar.allocated <= 0:
        return Text("░" * width, style="dim")
    with money.rounding():
        paid = round(bar.paid * width / bar.allocated)
        committed = round((bar.paid + bar.committed) * width / bar.allocated) - paid
    text = Text()
    text.append("█" * paid, style="green")
    text.append("▓" * committed, style="yellow")
    text.append("░" * (width - paid - committed), style="dim")
    return text


# --- helpers -------------------------------------------------------------


def _title(report) -> str:
    return getattr(report, "title", "Summary")


def _recording_console():
    from rich.console import Console

    return Console(record=True, width=100, force_terminal=True, color_system="truecolor", file=io.StringIO())


def _caption(as_of: dt.date | None, entries: int, seal: str) -> str:
    return f"as of {as_of.isoformat() if as_of else 'today'} · {entries} entries · seal {seal[:12]}"


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _show_cell(row: dict[str, Any], column, currency: str):
    from rich.text import Text

    value = row.get(column.key)
    if column.kind == "money":
        return _money_text(value, currency)
    if column.kind == "account":
        depth = value.count(":")
        return Text("  " * depth + value.rsplit(":", 1)[-1], style="bold" if depth == 0 else "")
    if column.kind == "share":
        return Text("" if value is None else f"{value:.1f}%")
    if column.kind == "list":
        return Text(inert(", ".join(value)))
    if column.kind == "amounts":  # {currency: amount}
        return Text(", ".join(money.format_money(a, c) for c, a in value.items()), justify="right")
    if column.kind == "original":  # a pledge followed in its own currency
        if not value:
            return Text("")
        c = value["currency"]
        figures = {k: money.format_money(Decimal(value[k]), c) for k in ("amount", "outstanding")}
        return Text(f"{figures['amount']} at {value['rate']}, {figures['outstanding']} outstanding")
    if isinstance(value, dt.date):
        return Text(value.isoformat())
    return Text(inert("" if value is None else str(value)))


def _money_text(value: Decimal | None, currency: str):
    from rich.text import Text

    if value is None:
        return Text("")
    return Text(money.format_money(value, currency), style="red" if value < 0 else "", justify="right")


def _plain(value: Any, currency: str, kind: str | None = "money") -> Any:
    """A value as JSON/CSV carries it: amounts with the currency's places, shares as decimal text."""
    if isinstance(value, Decimal):
        return str(value) if kind == "share" else money.to_text(value, currency)
    if kind == "amounts":
        return {c: money.to_text(a, c) for c, a in value.items()}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")


# --- git and the audit ---------------------------------------------------


def sync_json(outcome) -> dict[str, Any]:
    """What a sync did, as docs/REPORTS.md documents it."""
    return {
        "fetched": outcome.fetched,
        "replayed": [{"was": old, "now": new} for old, new in outcome.replayed],
        "kept": [{"entry": model.to_json(k.entry), "reason": k.reason} for k in outcome.kept],
        "pushed": outcome.pushed,
        "attempts": outcome.attempts,
    }


def kept_json(items) -> list[dict[str, Any]]:
    return [{"entry": model.to_json(k.entry), "reason": k.reason, "kept_at": k.kept_at} for k in items]


def audit_json(result) -> dict[str, Any]:
    return {
        "clean": result.clean,
        "commits": result.commits,
        "entries": result.entries,
        "seal": result.seal,
        "findings": [
            {"entry": f.entry, "commit": f.commit, "author": f.author, "date": f.date, "message": f.message}
            for f in result.findings
        ],
        "recorders": [{"recorder": who, "entries": n} for who, n in result.recorders.most_common()],
        "signatures": None
        if result.signatures is None
        else [{"commit": sha, "author": who, "status": status} for sha, who, status in result.signatures],
        "reopenings": [
            {"period": period, "close": close, "reopening": entry, "date": day, "reason": reason, "recorder": who}
            for period, close, entry, day, reason, who in result.reopenings
        ],
        "approvals": result.approvals,
    }


def audit_view(result):
    """Findings first (or a clear all-clear), then who recorded how many entries, then signatures."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    if result.findings:
        findings = Table(title=f"{len(result.findings)} finding(s)", box=box.SIMPLE_HEAD, title_style="bold red")
        for title in ("entry", "commit", "author", "date", "finding"):
            findings.add_column(title, overflow="fold")
        for f in result.findings:
            findings.add_row(
                f"#{f.entry}" if f.entry else "",
                f.commit[:10] if f.commit else "working tree",
                Text(inert(f.author)),
                f.date[:10],
                Text(inert(f.message)),
            )
        parts.append(findings)
    else:
        parts.append(Text(f"clean: {result.commits} commits, {result.entries} entries, seal {result.seal[:12]}"))
    recorders = Table(title="Recorded by", box=box.SIMPLE_HEAD, title_justify="left")
    recorders.add_column("recorder", overflow="fold")
    recorders.add_column("entries", justify="right")
    for who, count in result.recorders.most_common():
        recorders.add_row(Text(inert(who)), str(count))
    parts.append(recorders)
    if result.approvals:
        approved = Table(title="Proposals and approvals (by signature)", box=box.SIMPLE_HEAD, title_justify="left")
        for title in ("proposal", "kind", "proposed by", "approved by", "status"):
            approved.add_column(title, overflow="fold")
        for item in result.approvals:
            by = ", ".join(name or "(not an officer's signature)" for name in item["approvers"]) or "-"
            status = f"booked as #{item['booked_as']}" if item["booked_as"] else item["status"]
            approved.add_row(f"#{item['proposal']}", item["kind"], Text(inert(item["proposer"] or "(unsigned)")),
                             Text(inert(by)), status)  # fmt: skip
        parts.append(approved)
    if result.reopenings:
        reopened = Table(title="Closed periods reopened", box=box.SIMPLE_HEAD, title_justify="left")
        for title in ("period", "closed by", "reopened by", "date", "reason", "recorder"):
            reopened.add_column(title, overflow="fold")
        for period, close, entry, day, reason, who in result.reopenings:
            reopened.add_row(period, f"#{close}", f"#{entry}", day, Text(inert(reason)), Text(inert(who)))
        parts.append(reopened)
    if result.signatures is not None:
        counts: dict[str, int] = {}
        for _, _, status in result.signatures:
            counts[status] = counts.get(status, 0) + 1
        parts.append(Text("signatures: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))))
    return Group(*parts)


def provenance(commit, reversed_by: int | None) -> dict[str, Any]:
    from ledger.audit import SIGNATURES

    data: dict[str, Any] = {"commit": None, "author": None, "date": None, "signature": None}
    if commit is not None:
        data.update(commit=commit.sha, author=commit.who, date=commit.date)
        data["signature"] = SIGNATURES.get(commit.signature) if commit.signature else None
    data["reversed_by"] = reversed_by
    return data


def provenance_view(data: dict[str, Any]):
    from rich.text import Text

    if data["commit"] is None:
        line = "not in any commit (recorded with --no-commit, outside git, or not yet committed)"
    else:
        line = f"added in commit {data['commit'][:12]} by {data['author']} on {data['date']}"
        if data["signature"]:
            line += f"; signature {data['signature']}"
    if data["reversed_by"]:
        line += f"; reversed by #{data['reversed_by']}"
    return Text(inert(line))


# --- import --------------------------------------------------------------


@contextlib.contextmanager
def progress(total: int, label: str, *, at_least: int = 2000):
    """A progress bar on stderr for long runs (more than `at_least` steps); yields a tick function."""
    if total <= at_least:
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(console=console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


class ReadProgress:
    """A progress bar on stderr for a long read of the journal; it appears only when there is much to read.

    Use as a context manager and pass it as `journal.load(progress=...)`,
    which calls it with (bytes done, bytes to read).
    """

    def __init__(self, label: str, *, at_least: int = 4 * 1024 * 1024) -> None:
        self.label, self.at_least = label, at_least
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < self.at_least:
                return
            from rich.progress import Progress

            self._bar = Progress(console=console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=total)
        self._bar.update(self._task, completed=done, total=total)

    def __enter__(self) -> ReadProgress:
        return self

    def __exit__(self, *_exc) -> None:
        if self._bar is not None:
            self._bar.stop()


def import_json(planned, *, dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "rows": [
            {
                "row": p.row,
                "status": p.status,
                "reason": p.reason or None,
                "entry": model.to_json(p.entry) if p.entry else None,
            }
            for p in planned
        ],
    }


def import_table(planned, currency: str):
    """Each row of the file: what it would record, or why it is skipped or refused."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    counts = {s: sum(1 for p in planned if p.status == s) for s in ("record", "skip", "refused")}
    table = Table(
        title=f"{counts['record']} to record, {counts['skip']} already recorded, {counts['refused']} refused",
        box=box.SIMPLE_HEAD,
    )
    for title, justify in (
        ("row", "right"),
        ("status", "left"),
        ("date", "left"),
        ("member", "left"),
        ("amount", "right"),
        ("reference", "left"),
        ("why", "left"),
    ):
        table.add_column(title, justify=justify, overflow="fold")
    style = {"record": "green", "skip": "dim", "refused": "red"}
    for p in planned:
        amount = _money_text(model.size(p.entry), currency) if p.entry else Text(inert(p.values.get("amount", "")))
        table.add_row(
            str(p.row),
            Text(p.status, style=style[p.status]),
            Text(inert(p.values.get("date", ""))),
            Text(inert(p.values.get("member", ""))),
            amount,
            Text(inert(p.values.get("reference", ""))),
            Text(inert(p.reason)),
        )
    return table
