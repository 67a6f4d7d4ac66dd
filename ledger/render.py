"""Rendering: turn entries and reports into rich tables, JSON or CSV. Nothing here adds anything up.

User text reaches the terminal only through `rich.text.Text` (never the
markup parser) after `text.inert` has made control characters visible.
rich is imported lazily so that `fundledger --help` starts fast.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO

from ledger import kinds, model, money
from ledger.model import Entry
from ledger.reports import Report, Rows, Statement, Summary
from ledger.text import inert, spreadsheet_safe


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


def entry_panel(entry: Entry, currency: str, *, dry_run: bool = False, width: int | None = None):
    """A small panel: the entry's id, kind, date, its fields and its postings (no amount ever cut).

    Below 60 columns the panel's frame is left out, so that its title and
    the postings' amounts keep the room.
    """
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
            else (f"#{value}" if key in kinds.refs_of(entry) else str(value))
        )
        facts.add_row(key, Text(inert(shown)))
    for key in ("memo", "source"):
        if getattr(entry, key):
            facts.add_row(key, Text(inert(getattr(entry, key))))
    width = width or console().width
    framed = width >= 60
    parts: list[Any] = [facts]
    if entry.postings:
        cols = [_Col("account"), _Col("debit", True), _Col("credit", True)]
        rows = []
        for p in entry.postings:
            amount = _money_text(abs(p.amount), p.currency)
            rows.append([Text(p.account), amount if p.amount > 0 else Text(""), amount if p.amount < 0 else Text("")])
        parts.append(Text(""))
        parts.append(_Lines(_table_lines("", cols, [], rows, [], width - 4 if framed else width, False, "")))
    title = f"#{entry.id} {entry.kind}" + (" (dry run: not recorded)" if dry_run else "")
    footer = None if dry_run else f"hash {entry.hash[:12]}"
    if not framed:
        return Group(Text(title, style="bold"), *parts, *([Text(footer, style="dim")] if footer else []))
    return Panel(Group(*parts), title=title, title_align="left", subtitle=footer, subtitle_align="right", expand=False)


# --- reports -------------------------------------------------------------


def emit(report: Report | Summary | Statement, fmt: str, *, pager: bool = False, wide: bool = False) -> str | None:
    """Render a report: `table` prints it to the terminal (None); `json` and `csv` return the text to print.

    A whole register's table (`streamed`) is written as its entries are read.
    """
    as_json, as_csv, as_view = _shapes(report)
    if fmt == "table" and streamed(report) and not pager:
        stream(report, fmt, sys.stdout, wide=wide)
        return None
    if fmt == "json":
        return dumps(as_json(report)) + "\n"
    if fmt == "csv":
        return as_csv(report)
    shown = as_view(report, console().width, wide=wide)
    out = console()
    if pager:
        with out.pager(styles=True):
            out.print(shown, crop=False)
    elif isinstance(shown, _Lines) and out.color_system is None:  # no styles to write: the lines as they are
        _write_lines(shown.lines, out.file)
    else:
        out.print(shown, crop=False)
    return None


class NoChart(ValueError):
    """`--svg` on a report that draws no chart (a usage error: the user asked for what does not exist)."""


def document(report: Report | Summary | Statement, fmt: str, books=None) -> str | bytes:
    """A report as a document in one format: `json`, `csv`, `html` (a page), `svg` (its main chart) or `pdf` (bytes).

    `books` are the books the report was made from: the page's sources, its
    date when there is no --as-of, and the charts drawn over time need them.
    """
    if fmt in ("json", "csv"):
        return emit(report, fmt)
    from ledger import html

    if fmt == "html":
        return html.report_page(report, books)
    if fmt == "pdf":
        return html.report_pdf(report, books)
    if fmt == "svg":
        from ledger import charts

        drawn = charts.for_report(report, books)
        if not drawn:
            name = getattr(report, "report", "summary" if isinstance(report, Summary) else "statement")
            raise NoChart(
                f"report {name} has no chart{' with these options' if name in charts.CHARTED else ''}: --svg draws "
                f"the main chart of {', '.join(charts.CHARTED)} (as they stand, not over a period); "
                "--html shows every table"
            )
        return drawn[0].svg
    raise ValueError(f"no such format: {fmt}")


def _shapes(report):
    """The JSON, CSV and table renderers of a report's shape."""
    shapes = {
        Summary: (summary_json, summary_csv, summary_view),
        Statement: (statement_json, statement_csv, statement_view),
    }
    return shapes.get(type(report), (report_json, report_csv, report_table))


def report_json(report: Report) -> dict[str, Any]:
    """`report`, `currency`, `as_of`, `from`, `to`, `seal` and `rows` keyed by the report's snake_case columns."""
    kinds = {column.key: column.kind for column in report.columns}
    data = {
        "report": report.report,
        "ledger": report.ledger,
        "currency": report.currency,
        **_stamp(report),
    }
    if report.spans:  # one column per period: the key of each column, and its first and last day
        data["periods"] = [
            {"column": column.key, "from": _date(span.start), "to": _date(span.end)}
            for column, span in zip(report.columns[1:], report.spans, strict=False)
        ]
    if report.opening is not None:
        data["opening"] = {k: _plain(v, report.currency, kinds.get(k)) for k, v in report.opening.items()}
    data["rows"] = [
        {k: _plain(v, report.currency, kinds.get(k)) for k, v in row.items() if k not in report.hidden}
        for row in report.rows
    ]
    if report.totals:
        data["totals"] = {k: _plain(v, report.currency) for k, v in report.totals.items()}
    return data


def report_csv(report: Report) -> str:
    """A header of the row keys, then one line per row; amounts as plain decimals, lists joined by '; '.

    Safe to open in a spreadsheet: a text cell that would start with =, +,
    -, @, a tab or a carriage return (and so be run as a formula) is given a
    leading apostrophe. Amounts are never altered: -5.00 is a number, and a
    spreadsheet reads it as one.
    """
    kinds = {column.key: column.kind for column in report.columns}
    nested = {k for row in report.rows for k, v in row.items() if _is_table_list(v) or k in _TABLE_FIELDS}
    keys: dict[str, None] = {}
    for row in report.rows or [{c.key: None for c in report.columns}]:
        keys.update((k, None) for k in row if k not in report.hidden and k not in nested)
    out = io.StringIO()
    writer = csv_writer(out, fieldnames=list(keys))
    writer.writeheader()
    for row in report.rows:
        writer.writerow({k: _csv_cell(v, report.currency, kinds.get(k)) for k, v in row.items() if k in keys})
    return out.getvalue()


# Entry fields that hold a table (a list of records): never a CSV column, even on a ledger whose entries all have
# an empty one (a register of joins only), so that the columns do not depend on what the rows happen to hold.
_TABLE_FIELDS = frozenset({"postings"})


def _csv_cell(value: Any, currency: str, kind: str | None) -> Any:
    """A CSV cell: an amount as its plain decimal, anything else as text that cannot run as a formula."""
    if isinstance(value, Decimal) or (kind == "money" and value is None):
        return _plain(value, currency, kind)
    plain = _cell(_plain(value, currency, kind))
    return spreadsheet_safe(plain) if isinstance(plain, str) else plain


def csv_writer(out: TextIO, fieldnames: list[str] | None = None):
    """A CSV writer for the reports: rows end in a bare newline, and a cell holding a CR or LF is quoted.

    Python's csv module quotes a cell only for the characters of its own
    line terminator: with "\n" alone, a memo holding a bare carriage return
    was written unquoted, and a spreadsheet split the row there (and read
    the rest, "=1", as a formula). So the writer ends its rows in "\r\n",
    which quotes both, and `_LineFeeds` turns each row's terminator into
    "\n", the reports' line ending since the first version. With
    `fieldnames`, a DictWriter that ignores keys it does not list.
    """
    target = _LineFeeds(out)
    if fieldnames is None:
        return csv.writer(target, lineterminator="\r\n")
    return csv.DictWriter(target, fieldnames=fieldnames, lineterminator="\r\n", extrasaction="ignore")


class _LineFeeds:
    """Writes to `out` what a csv writer gives it, a row at a time, with the row's closing CRLF as LF."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(text[:-2] + "\n" if text.endswith("\r\n") else text)


# --- a whole register, written as it is read -----------------------------------

STREAM_ROWS = 200  # a table of more rows is laid out from its first this many, then written row by row
CHUNK_ROWS = 200  # rows drawn before they are written (one write per chunk, not per line)


def streamed(report: Report | Summary | Statement) -> bool:
    """Whether the report's rows are read as they are written (the whole register): `stream` writes it."""
    return isinstance(report, Report) and isinstance(report.rows, Rows)


def stream(report: Report, fmt: str, out: TextIO, *, wide: bool = False) -> None:
    """Write a report whose rows are read as they are written (`reports.Rows`): memory stays flat, `| head` stops it.

    JSON and CSV are exactly what `report_json` and `report_csv` give. A
    table of more than STREAM_ROWS rows takes its columns' widths from its
    first rows (and the widest id and amount it can have); a later cell wider
    than that is written whole all the same, pushing the rest of its line.
    """
    if fmt == "json":
        _stream_json(report, out)
    elif fmt == "csv":
        _stream_csv(report, out)
    else:
        _stream_table(report, out, wide)
    out.flush()


def _stream_json(report: Report, out: TextIO) -> None:
    kinds = {column.key: column.kind for column in report.columns}
    head = report_json(dataclasses.replace(report, rows=(), totals={}))
    del head["rows"]
    text = dumps(head)
    out.write(text[: text.rfind("\n}")] + ',\n  "rows": [')
    first = True
    for row in report.rows:
        shown = {k: _plain(v, report.currency, kinds.get(k)) for k, v in row.items() if k not in report.hidden}
        out.write(("" if first else ",") + "\n    " + dumps(shown).replace("\n", "\n    "))
        first = False
    out.write("]" if first else "\n  ]")
    if report.totals:
        totals = {k: _plain(v, report.currency) for k, v in report.totals.items()}
        out.write(',\n  "totals": ' + dumps(totals).replace("\n", "\n  "))
    out.write("\n}\n")


def _stream_csv(report: Report, out: TextIO) -> None:
    kinds = {column.key: column.kind for column in report.columns}
    nested = report.rows.tables()
    keys = [k for k in report.rows.fields() if k not in report.hidden and k not in nested]
    writer = csv_writer(out, fieldnames=keys or [c.key for c in report.columns if c.key not in report.hidden])
    writer.writeheader()
    for row in report.rows:
        writer.writerow({k: _csv_cell(v, report.currency, kinds.get(k)) for k, v in row.items() if k in keys})


def _stream_table(report: Report, out: TextIO, wide: bool) -> None:
    """The register's table: laid out from its first rows, then each row drawn and written as it is read."""
    import itertools

    from rich.text import Text

    rows = iter(report.rows)
    first = list(itertools.islice(rows, STREAM_ROWS))
    if len(first) < STREAM_ROWS:  # short after all: laid out whole, as any table
        whole = dataclasses.replace(report, rows=tuple(first))
        _write_lines(report_table(whole, console().width, wide=wide).lines, out)
        return
    width = console().width
    cols = [_Col(c.title, c.kind in ("money", "int", "share", "amounts"), _fit(c), c.optional) for c in report.columns]
    cells = [[_show_cell(row, c, report.currency) for c in report.columns] for row in first]
    widest = report.rows.widest()
    bound = [_show_cell({c.key: widest.get(c.key)}, c, report.currency) for c in report.columns]
    laid = _grid(cols, [*cells, bound], width, wide)
    if laid is None:  # too narrow for a table at all: one block per row, as a short table has
        whole = dataclasses.replace(report, rows=tuple([*first, *rows]))
        _write_lines(report_table(whole, width, wide=wide).lines, out)
        return
    widths, hidden = laid
    keep = [i for i, w in enumerate(widths) if w is not None]
    full = sum(widths[i] for i in keep) + SEP * (len(keep) - 1)
    title = inert(f"{report.title} — {report.ledger}")
    lines = [Text(line.center(min(full, width)).rstrip(), style="bold") for line in _wrap(title, width)]
    titles = [_wrap(cols[i].title, widths[i]) for i in keep]
    height = max((len(h) for h in titles), default=0)
    for n in range(height):
        heads = [([""] * (height - len(words)) + words)[n] for words in titles]
        lines.append(_join([Text(h.rjust(widths[i]) if cols[i].right else h.ljust(widths[i]), style="bold")
                            for i, h in zip(keep, heads, strict=True)]))  # fmt: skip
    lines.append(Text("─" * full))
    _write_lines(lines, out)
    shortened = False
    for chunk in itertools.chain([first], _chunks(rows, CHUNK_ROWS)):
        drawn = []
        for row in chunk:
            cells_ = [_show_cell(row, c, report.currency) for c in report.columns]
            row_lines, cut = _draw_row(cols, cells_, widths, keep, wide)
            shortened |= cut
            drawn += row_lines
        _write_lines(drawn, out)
    tail = []
    if report.totals:
        total = [_money_text(report.totals[c.key], report.currency) if c.key in report.totals else Text("")
                 for c in report.columns]  # fmt: skip
        total[1 if report.columns[0].kind == "int" else 0] = Text("total", style="bold")
        tail += [Text("─" * full), *_draw_row(cols, total, widths, keep, wide)[0]]
    caption = _caption(report.as_of, report.entries, report.seal)
    tail += [Text(line.rjust(min(full, width)), style="dim") for line in _wrap(caption, width)]
    tail += _notes([cols[i].title for i in hidden], shortened, width)
    _write_lines(tail, out)


def _chunks(rows, size: int):
    import itertools

    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _write_lines(lines: list, out: TextIO) -> None:
    """Lines to the output: as plain text to a pipe or file, through rich (for its styles) to a terminal."""
    if out.isatty():
        console().print(_Lines(lines), crop=False)
    else:
        out.write("".join(line.plain + "\n" for line in lines))


# --- tables that never cut a figure ---------------------------------------
#
# Tables are laid out here, line by line, rather than by rich's Table, so that
# what may give way to a narrow terminal is stated: amounts, dates, names and
# identifiers are always whole and on one line; memos and purposes are cut
# short with an ellipsis (whole in JSON, CSV and with --wide); optional
# columns (words, dates, links, never an amount) are dropped from the right,
# with a note saying which; and when even that is too wide, each row becomes
# a block of its own, one figure a line.

SEP = 2  # spaces between two columns
SHORTEST = 20  # the narrowest a column of words (memo, purpose) is made before optional columns are dropped


@dataclass(frozen=True)
class _Col:
    title: str
    right: bool = False
    fit: str = "whole"  # whole: never cut; short: may end in an ellipsis; wrap: words may wrap; bar: drawn to fit
    optional: bool = False


class _Lines:
    """Lines laid out by this module, printed exactly as they are: rich neither wraps nor crops them."""

    def __init__(self, lines: list) -> None:
        self.lines = lines

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        for line in self.lines:
            yield from _segments(line, console)
            yield Segment.line()

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        widest = max((line.cell_len for line in self.lines), default=0)
        return Measurement(widest, widest)

    @property
    def plain(self) -> str:
        return "\n".join(line.plain for line in self.lines)


def report_table(report: Report, width: int | None = None, *, wide: bool = False):
    """The report as a table that fits `width` (or, with `wide`, as wide as its widest cells)."""
    from rich.text import Text

    width = width or console().width
    cols = [_Col(c.title, c.kind in ("money", "int", "share", "amounts"), _fit(c), c.optional) for c in report.columns]
    body = [[_show_cell(row, c, report.currency) for c in report.columns] for row in report.rows]
    label_at = 1 if report.columns[0].kind == "int" and len(report.columns) > 1 else 0
    before = []
    if report.opening is not None:
        opening = [_show_cell(report.opening, c, report.currency) for c in report.columns]
        keys = [c.key for c in report.columns]
        opening[keys.index("what") if "what" in keys else label_at] = Text("opening balance", style="bold")
        before.append(opening)
    after = []
    if report.totals and report.rows:
        total = [
            _money_text(report.totals[c.key], report.currency) if c.key in report.totals else Text("")
            for c in report.columns
        ]
        total[label_at] = Text("total", style="bold")
        after.append(total)
    title = inert(f"{report.title} — {report.ledger}")  # a register's title names the --account typed
    caption = _caption(report.as_of, report.entries, report.seal)
    empty = None if report.rows else "nothing to show"
    return _Lines(_table_lines(title, cols, before, body, after, width, wide, caption, empty))


def _fit(column) -> str:
    if column.prose:
        return "short"
    if column.kind == "words":  # names among words (a register's What): it wraps between words, never inside one
        return "wrap"
    if column.kind == "original":  # figures in words: it may wrap between them
        return "wrap"
    return "list" if column.kind in ("list", "split") else "whole"


def _table_lines(title, cols, before, body, after, width, wide, caption, empty=None, *, header=True) -> list:
    """A titled table: header, rule, rows, rule, totals, caption, notes; or one block per row if it cannot fit."""
    from rich.text import Text

    laid = _grid(cols, [*before, *body, *after], width, wide)
    if laid is None:
        return _blocks(title, cols, before, body, after, width, wide, caption)
    widths, hidden = laid
    keep = [i for i, w in enumerate(widths) if w is not None]
    full = sum(widths[i] for i in keep) + SEP * (len(keep) - 1)
    lines = (
        [Text(line.center(min(full, width)).rstrip(), style="bold") for line in _wrap(title, width)] if title else []
    )
    shortened = False
    titles = [_wrap(cols[i].title, widths[i]) for i in keep]
    height = max((len(h) for h in titles), default=0) if header else 0
    for n in range(height):
        cells = []
        for i, words in zip(keep, titles, strict=True):
            line = ([""] * (height - len(words)) + words)[n]
            cells.append(Text(line.rjust(widths[i]) if cols[i].right else line.ljust(widths[i]), style="bold"))
        lines.append(_join(cells))
    rule = Text("─" * full)
    if header:
        lines.append(rule)
    for section, rows in enumerate((before, body, after)):
        if section == 2 and rows:
            lines.append(rule)
        for row in rows:
            drawn, cut = _draw_row(cols, row, widths, keep, wide)
            shortened |= cut
            lines += drawn
    if empty:
        lines.append(Text(empty, style="dim"))
    if caption:
        lines += [Text(line.rjust(min(full, width)), style="dim") for line in _wrap(caption, width)]
    lines += _notes([cols[i].title for i in hidden], shortened, width)
    return lines


def _grid(cols: list[_Col], rows: list[list], width: int, wide: bool):
    """Column widths (None for a column left out) and the columns left out; None when the table cannot fit."""
    natural, least, wanted = [], [], []
    usual = {}  # a column of words: the room all but its longest one in twenty need (see `wrapping`)
    for index, col in enumerate(cols):
        lengths = [_len(row[index]) for row in rows]
        longest = max(lengths, default=0)
        head = max((len(word) for word in col.title.split()), default=0)
        if col.fit in ("wrap", "list") and lengths:  # the rows' room; a title may wrap between its words
            lengths.sort()
            usual[index] = max(lengths[len(lengths) - 1 - len(lengths) // 20], head)
        if col.fit == "bar":
            natural.append(24), least.append(4), wanted.append(24)
            continue
        natural.append(max(longest, head))
        wanted.append(max(longest, len(col.title)))
        if col.fit == "short":
            least.append(max(head, min(longest, SHORTEST)))
        elif col.fit in ("wrap", "list"):
            pieces = max((len(w) for row in rows for w in _words(row[index]).split()), default=0)
            least.append(max(head, pieces, min(longest, SHORTEST)))
        else:
            least.append(max(longest, head))
    if wide:
        return wanted, []
    keep = list(range(len(cols)))
    optional = [i for i, col in enumerate(cols) if col.optional]
    hidden = []

    def used() -> int:
        return sum(least[i] for i in keep) + SEP * (len(keep) - 1)

    def wrapping() -> int:  # what the columns of names that stay lack to stand on one line, but on a few rows
        return sum(max(usual[i] - least[i], 0) for i in keep if i in usual and not cols[i].optional)

    # Optional columns are dropped from the right while the table is too wide, and then while names would
    # wrap for want of their room: a row two lines tall halves what a screen shows, for a column that says
    # little (a register's reversal links, on one row in a hundred). Not for a few long names (one in twenty
    # rows or fewer): those rows wrap, and the table keeps its columns. Nor for an optional column of names
    # (the members' approvers): it would give way itself, and take the others with it.
    while optional and used() + wrapping() > width:
        dropped = optional.pop()
        keep.remove(dropped)
        hidden.insert(0, dropped)
    if used() > width:
        return None
    # A column of words left out comes back, shorter, into what room is left once the columns whose words
    # wrap have all of theirs.
    for index in list(hidden):
        room = width - used() - SEP - wrapping()
        if cols[index].fit == "short" and room >= 10:
            least[index] = min(least[index], room)
            keep = sorted([*keep, index])
            hidden.remove(index)
    widths: list[int | None] = [None] * len(cols)
    for i in keep:
        widths[i] = least[i]
    spare = width - used()
    # Whole columns first get room for their titles on one line; then names that wrap get room to stand on
    # one line, first the room most rows need in each such column (kept for them when optional columns
    # were dropped: a long name in one must not take it from the next), then all their room (a row two
    # lines tall halves what a screen shows); then the columns of words share what is left, a character
    # at a time to the narrowest, so that no memo is starved by a long neighbour.
    usual_room = [max(usual[i], len(cols[i].title)) if i in usual else 0 for i in range(len(cols))]  # title whole
    for fits, aim in ((("whole",), wanted), (("wrap", "list"), usual_room), (("wrap", "list"), wanted)):
        for i in keep:
            if cols[i].fit in fits and spare > 0:
                grow = max(min(spare, aim[i] - widths[i]), 0)
                widths[i] += grow
                spare -= grow
    while spare > 0:
        growing = [i for i in keep if cols[i].fit != "whole" and widths[i] < wanted[i]]
        if not growing:
            break
        narrowest = min(growing, key=lambda i: widths[i])
        widths[narrowest] += 1
        spare -= 1
    return widths, hidden


def _draw_row(cols, row, widths, keep, wide) -> tuple[list, bool]:
    """A row as one line (or, with words that wrap, several); whether a cell was cut short."""
    pieces: list = []
    cut = False
    owed = -SEP  # spaces owed before the next cell: SEP between two, and what a left-aligned cell leaves
    for i in keep:
        cell, w, col = row[i], widths[i], cols[i]
        if callable(cell):
            cell = cell(w)
        fit = col.fit
        if fit == "wrap" or fit == "list":
            plain = cell.plain
            if cell.cell_len > w or not plain.isascii() or " ".join(plain.split()) != plain:
                return _drawn_tall(cols, row, widths, keep, wide)  # words that wrap (or may: not as they are)
        elif fit == "short" and cell.cell_len > w and not wide:
            cell = cell.copy()
            cell.truncate(w, overflow="ellipsis")
            cut = True
        spare = w - cell.cell_len
        owed += SEP + (spare if col.right and spare > 0 else 0)
        if owed > 0:
            pieces.append(" " * owed)
        pieces.append(cell)
        owed = 0 if col.right or spare < 0 else spare
    return [_Line(pieces)], cut


def _drawn_tall(cols, row, widths, keep, wide) -> tuple[list, bool]:
    """A row whose words are wrapped to their columns: as many lines as its tallest cell."""
    cells, cut = [], False
    for i in keep:
        cell, w = row[i], widths[i]
        if callable(cell):
            cell = cell(w)
        if cols[i].fit in ("wrap", "list"):
            lines = _wrap(cell.plain, w) if cols[i].fit == "wrap" else _wrap_items(cell.plain, w)
            cells.append([_Cell(line, cell.style) for line in lines] or [_Cell("")])
            continue
        if cell.cell_len > w and cols[i].fit == "short" and not wide:
            cell = cell.copy()
            cell.truncate(w, overflow="ellipsis")
            cut = True
        cells.append([cell])
    height = max(len(c) for c in cells)
    lines = []
    for n in range(height):
        parts = []
        for i, column in zip(keep, cells, strict=True):
            cell = column[n] if n < len(column) else _Cell("")
            parts.append(_pad(cell, widths[i], cols[i].right))
        lines.append(_join(parts))
    return lines, cut


def _blocks(title, cols, before, body, after, width, wide, caption) -> list:
    """One block per row: its first cell, then a line per other column (label and value), nothing cut."""
    from rich.text import Text

    lines = [Text(line, style="bold") for line in _wrap(title, width)] if title else []
    figures = [i for i in range(1, len(cols)) if cols[i].right]
    value_width = max((_len(row[i]) for row in [*before, *body, *after] for i in figures), default=0)
    label = min(max((len(c.title) for c in cols[1:]), default=0), max(width - SEP - value_width, 8))
    room = max(width - label - SEP, 8)
    value_width = min(room, value_width)
    shortened = False
    for kind, rows in (("before", before), ("body", body), ("after", after)):
        for row in rows:
            head = row[0] if kind == "body" else next((c for c in row if _len(c) and not callable(c)), Text(""))
            if kind == "body" and cols[0].right and head.plain.isdigit():  # an entry's or a pledge's id
                head = Text(f"#{head.plain}")
            lines += [Text(""), Text.assemble(_text(head), style="bold")]
            for col, cell in zip(cols[1:], row[1:], strict=True):
                if cell is head or (not callable(cell) and not _len(cell)):
                    continue
                if callable(cell):
                    cell = cell(min(24, room))
                if len(col.title) <= label and cell.cell_len <= room:
                    shown = cell.copy()
                    lines.append(
                        _join([_pad(Text(col.title, style="dim"), label, False), _pad(shown, value_width, col.right)])
                    )
                    continue
                lines.append(Text(col.title, style="dim"))
                if col.fit == "list":
                    lines += [Text("  " + line, style=cell.style) for line in _wrap_items(cell.plain, width - 2)]
                elif col.fit == "wrap" or (col.fit == "short" and wide):
                    lines += [Text("  " + line, style=cell.style) for line in _wrap(cell.plain, width - 2)]
                elif col.fit == "short" and cell.cell_len > width - 2:
                    cut = cell.copy()
                    cut.truncate(width - 2, overflow="ellipsis")
                    lines.append(Text.assemble("  ", _text(cut)))
                    shortened = True
                else:
                    lines.append(Text.assemble("  ", _text(cell)))  # whole, even if the terminal must wrap it
    if caption:
        lines += [Text("")] + [Text(line, style="dim") for line in _wrap(caption, width)]
    lines += _notes([], shortened, width)
    if not title and lines and not lines[0].plain:  # a part of a page: the page has put its own blank line
        lines = lines[1:]
    return lines


def _notes(hidden: list[str], shortened: bool, width: int) -> list:
    from rich.text import Text

    notes = []
    if hidden:
        notes.append(f"{', '.join(title.lower() for title in hidden)} hidden to fit; --wide or --json for all")
    if shortened:
        notes.append("… marks words cut short to fit; --wide or --json for them whole")
    return [Text(line, style="dim") for note in notes for line in _wrap(note, width)]


def _wrap(text: str, width: int) -> list[str]:
    """Words into lines of at most `width` (a word longer than that keeps a line of its own, whole)."""
    indent = len(text) - len(text.lstrip(" "))
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and indent + len(line) + 1 + len(word) > width:
            lines.append(" " * indent + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line or not lines:
        lines.append(" " * indent + line)
    return lines


def _wrap_items(text: str, width: int) -> list[str]:
    """A list shown as "a, b, c" broken into lines between its items only, never inside one."""
    lines: list[str] = []
    for item in _pieces(text, "list"):
        if lines and len(lines[-1]) + 1 + len(item) <= width:
            lines[-1] += " " + item
        elif len(item) > width:  # an item wider than the column: between its words ("drones" and its amount)
            lines += _wrap(item, width)
        else:
            lines.append(item)
    return lines or [""]


def _pieces(text: str, fit: str) -> list[str]:
    """What a line may break between: words, or a list's items (each keeps its comma)."""
    if fit != "list":
        return text.split()
    items = text.split(", ")
    return [item + "," for item in items[:-1]] + items[-1:]


def _len(cell) -> int:
    return 0 if callable(cell) else cell.cell_len


def _words(cell) -> str:
    return "" if callable(cell) else cell.plain


def _pad(cell, width: int, right: bool) -> list:
    """A cell made `width` wide, as a line's pieces (see `_Line`)."""
    gap = (" " * (width - cell.cell_len),) if cell.cell_len < width else ()
    return [*gap, cell] if right else [cell, *gap]


def _join(cells: list) -> _Line:
    """Cells (or padded cells) side by side, SEP apart, with no space at the end."""
    pieces: list = []
    for cell in cells:
        if pieces:
            pieces.append(" " * SEP)
        if isinstance(cell, list):
            pieces += cell
        else:
            pieces.append(cell)
    return _Line(pieces)


class _Line:
    """One line of a table, as pieces: plain strings (spaces) and rich Texts (cells), joined only when printed.

    What `Text.assemble` and `Text.join` would make of the same pieces, at a
    fraction of their cost per cell: a table of thousands of rows is drawn
    by joining strings. Trailing spaces are dropped, as `Text.rstrip` would.
    """

    __slots__ = ("pieces", "plain")

    def __init__(self, pieces: list) -> None:
        while pieces and not _piece_text(pieces[-1]).rstrip():
            pieces.pop()
        if pieces and _piece_text(pieces[-1])[-1:].isspace():
            last = pieces[-1]
            if isinstance(last, str):
                last = last.rstrip()
            else:
                last = last.copy()
                last.rstrip()
            pieces[-1] = last
        self.pieces = pieces
        self.plain = "".join([piece if piece.__class__ is str else piece.plain for piece in pieces])

    @property
    def cell_len(self) -> int:
        return _cells(self.plain)

    def render(self, console, end: str = ""):
        from rich.segment import Segment

        for piece in self.pieces:
            if isinstance(piece, str):
                yield Segment(piece)
            else:
                yield from _segments(piece, console)
        if end:
            yield Segment(end)


def _segments(shown, console):
    """A line or a piece of one as rich segments, in its styles.

    A rich Text's own style is put under its spans' here: `Text.render`
    leaves it to its caller (a title made bold, a caption dim).
    """
    from rich.segment import Segment
    from rich.text import Text

    if isinstance(shown, Text) and shown.style:
        return Segment.apply_style(shown.render(console, end=""), console.get_style(shown.style))
    return shown.render(console, end="")


def _piece_text(piece) -> str:
    return piece if isinstance(piece, str) else piece.plain


class _Cell:
    """A table cell of one style: what a rich Text of one style does for `_table_lines`, at a fraction of its cost.

    A register of ten thousand rows makes seventy thousand cells; a rich
    Text strips control codes and measures itself anew each time it is
    asked. Text shown here is already inert (`ledger.text`); control codes
    are still stripped, as rich does, should any reach a cell.
    """

    __slots__ = ("cell_len", "plain", "style")

    def __init__(self, plain: str, style: str = "") -> None:
        printable = plain.isprintable()
        if not printable:
            from rich.control import strip_control_codes

            plain = strip_control_codes(plain)
        self.plain, self.style = plain, style
        # As wide as it is long: ASCII, the characters `_WIDE` leaves out, and any printable one before U+0300 (Latin
        # letters with their accents: "reçu"; the combining marks, of no width, begin at U+0300).
        self.cell_len = len(plain) if printable and _narrow(plain) else _cells(plain)  # a tab, an escape: as rich

    def copy(self) -> _Cell:
        return _Cell(self.plain, self.style)

    def truncate(self, width: int, *, overflow: str = "ellipsis") -> None:
        """Cut to `width` cells, the last an ellipsis (as `Text.truncate` does)."""
        from rich.cells import set_cell_size

        if self.cell_len > width:
            tail = "…" if overflow == "ellipsis" else ""
            keep = width - len(tail)
            if keep >= 0 and self.cell_len == len(self.plain) and _narrow(self.plain):  # a character a cell: sliced
                self.plain, self.cell_len = self.plain[:keep] + tail, width
                return
            self.plain = set_cell_size(self.plain, keep) + tail
            self.cell_len = _cells(self.plain)

    def rstrip(self) -> None:
        self.plain = self.plain.rstrip()
        self.cell_len = _cells(self.plain)

    def render(self, console, end: str = ""):
        from rich.segment import Segment

        yield Segment(self.plain, console.get_style(self.style) if self.style else None)
        if end:
            yield Segment(end)

    def text(self):
        """The cell as a rich Text (for what rich lays out itself)."""
        from rich.text import Text

        return Text(self.plain, style=self.style)


# Characters a table shows often that take one cell each (currency symbols, a dash, an ellipsis, bars): text of
# these, of ASCII and of any printable character before U+0300 is as wide as it is long, without measuring it
# character by character. A character outside them is found by a pattern (ten times quicker than str.translate).
_WIDE = re.compile(r"[^\x00-\u02ff" + re.escape("€£¥₴·—–…█▓░─") + "]")


def _narrow(text: str) -> bool:
    """Whether printable `text` is as wide as it is long, a cell a character (see `_WIDE`)."""
    return text.isascii() or _WIDE.search(text) is None


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _text(cell):
    """A cell as rich Text, whichever it is."""
    return cell.text() if isinstance(cell, _Cell) else cell


# --- the summary dashboard -----------------------------------------------

_HEADLINES = (
    ("contributions", "Contributions (given or pledged)"),
    ("exchange_differences", "  exchange gains (losses)"),
    ("received", "Received"),
    ("outstanding", "Outstanding pledges"),
    ("cash", "Cash held"),
    ("unallocated", "  unallocated"),
    ("earmarked", "  earmarked"),
    ("committed", "  committed to packages"),
    ("paid", "Paid out"),
    ("interest", "Bank interest received"),
    ("bank_charges", "Bank charges"),
    ("management_fee", "Manager's fee"),
    ("written_off", "Pledges written off"),
)
# Shown only when they are not zero (or were not at a period's start): most funds have none of them.
_WHEN_ANY = ("exchange_differences", "interest", "bank_charges", "management_fee", "written_off")


def _stamp(shown: Report | Summary | Statement) -> dict[str, Any]:
    """What every report's JSON says of the books behind it, in this order: the day or the period, how many
    entries, and the seal (docs/REPORTS.md)."""
    return {
        "as_of": _date(shown.as_of),
        "from": _date(shown.period.start) if shown.period else None,
        "to": _date(shown.period.end) if shown.period else None,
        "entries": shown.entries,
        "seal": shown.seal,
    }


def summary_json(summary: Summary) -> dict[str, Any]:
    c = summary.currency
    data: dict[str, Any] = {
        "report": "summary",
        "ledger": summary.ledger,
        "manager": summary.manager,
        "currency": c,
        **_stamp(summary),
    }
    data.update({key: money.to_text(getattr(summary, key), c) for key, _ in _HEADLINES})
    data["overdue"] = money.to_text(summary.overdue, c)
    if summary.period is not None:
        data["opening"] = {key: money.to_text(summary.opening[key], c) for key, _ in _HEADLINES}
        data["movements"] = {key: money.to_text(summary.movements[key], c) for key, _ in _HEADLINES}
    data["members_active"] = summary.members_active
    data["members_pending"] = summary.members_pending
    data["member_groups"] = list(summary.groups)
    data["earmarks"] = [
        {
            "earmark": bar.earmark,
            "allocated": money.to_text(bar.allocated, c),
            "committed": money.to_text(bar.committed, c),
            "paid": money.to_text(bar.paid, c),
            "available": money.to_text(bar.available, c),
            "pledged_outstanding": money.to_text(bar.pledged_outstanding, c),
        }
        for bar in summary.earmarks
    ]
    data["open_packages"] = [{k: _plain(v, c) for k, v in row.items()} for row in summary.open_packages]
    return data


def summary_csv(summary: Summary) -> str:
    """The figures as `figure,value` lines: the headlines, then each earmark's and open package's amounts."""
    c = summary.currency
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["figure", "value"])
    for key, value in summary_json(summary).items():
        if key in ("earmarks", "open_packages", "member_groups"):
            continue
        if isinstance(value, dict):  # a period's opening and movements
            for inner, amount in value.items():
                writer.writerow([f"{key}:{inner}", amount])
            continue
        writer.writerow([key, value if key in {k for k, _ in _HEADLINES} else spreadsheet_safe(value)])
    writer.writerow(["member_groups", spreadsheet_safe("; ".join(summary.groups))])
    for bar in summary.earmarks:
        for key in ("allocated", "committed", "paid", "available", "pledged_outstanding"):
            writer.writerow([spreadsheet_safe(f"earmark:{bar.earmark}:{key}"), money.to_text(getattr(bar, key), c)])
    for row in summary.open_packages:
        for key in ("amount", "paid", "remaining"):
            writer.writerow([spreadsheet_safe(f"package:{row['package']}:{key}"), money.to_text(row[key], c)])
    return out.getvalue()


def summary_view(summary: Summary, width: int = 100, *, wide: bool = False):
    """Headline figures (for a period: opening, change, closing), earmark bars, open packages, a footer."""
    from rich.text import Text

    c = summary.currency
    lines = [Text(line, style="bold") for line in _wrap(inert(summary.ledger), width)]
    if summary.period is not None:
        lines += [Text(line) for line in _wrap(_period_line(summary.period), width)]
    lines.append(Text(""))
    shown = [
        (key, label)
        for key, label in _HEADLINES
        if key not in _WHEN_ANY or getattr(summary, key) or (summary.opening and summary.opening[key])
    ]
    if summary.period is None:
        cols = [_Col("", fit="wrap"), _Col("", right=True)]
        rows = [[_label(label), _money_text(getattr(summary, key), c)] for key, label in shown]
        lines += _table_lines("", cols, [], rows, [], width, wide, "", header=False)
    else:
        cols = [_Col("", fit="wrap"), _Col("Opening", True), _Col("Change", True), _Col("Closing", True)]
        rows = [
            [_label(label), _money_text(summary.opening[key], c), _money_text(summary.movements[key], c),
             _money_text(getattr(summary, key), c)]
            for key, label in shown
        ]  # fmt: skip
        lines += _table_lines("", cols, [], rows, [], width, wide, "")
    if summary.overdue:
        overdue = f"of the outstanding pledges, {money.format_money(summary.overdue, c)} fell due and was not received"
        lines += [Text(line, style="red") for line in _wrap(overdue, width)]
    members = f"{summary.members_active} active member{'s' if summary.members_active != 1 else ''}"
    if summary.groups:
        members += (
            f" named, and {', '.join(inert(g) for g in summary.groups)} standing for states the sources do not name"
        )
    members += f"; {summary.members_pending} pending"
    if summary.manager:
        members += f" · managed by {inert(summary.manager)}"
    lines += [Text("")] + [Text(line) for line in _wrap(members, width)]
    if summary.earmarks:
        bars, more = _largest(summary.earmarks, lambda bar: bar.allocated)
        cols = [_Col("Earmark"), _Col("", fit="bar", optional=True), _Col("Allocated", True),
                _Col("Pledged, not received", True)]  # fmt: skip
        rows = [
            [Text(inert(bar.earmark)), lambda w, bar=bar: _bar(bar, w), _money_text(bar.allocated, c),
             _money_text(bar.pledged_outstanding, c) if bar.pledged_outstanding else Text("")]
            for bar in bars
        ]  # fmt: skip
        lines += [Text("")] + [Text(line) for line in _wrap("Earmarks: paid █  committed ▓  available ░", width)]
        lines += _table_lines("", cols, [], rows, [], width, wide, "")
        lines += _more(more, "earmarks", "largest", "report earmarks", width)
    if summary.open_packages:
        packages, more = _largest(summary.open_packages, lambda row: row["remaining"])
        cols = [_Col("Package"), _Col("Date", optional=True), _Col("Amount", True), _Col("Remaining", True)]
        rows = [
            [Text(inert(row["package"])), Text(row["date"].isoformat()), _money_text(row["amount"], c),
             _money_text(row["remaining"], c)]
            for row in packages
        ]  # fmt: skip
        lines += [Text(""), Text("Open packages", style="bold")]
        lines += _table_lines("", cols, [], rows, [], width, wide, "")
        lines += _more(more, "open packages", "most left to pay", "report packages", width)
    lines += [Text("")] + [
        Text(line, style="dim") for line in _wrap(_caption(summary.as_of, summary.entries, summary.seal), width)
    ]
    return _Lines(lines)


DASHBOARD_ROWS = 12  # the earmarks and open packages a dashboard lists; the rest are counted


def _largest(items: tuple, size) -> tuple[list, int]:
    """The DASHBOARD_ROWS items of largest `size`, in their own order, and how many are left out."""
    if len(items) <= DASHBOARD_ROWS:
        return list(items), 0
    chosen = set(sorted(range(len(items)), key=lambda i: (-size(items[i]), i))[:DASHBOARD_ROWS])
    return [item for i, item in enumerate(items) if i in chosen], len(items) - DASHBOARD_ROWS


def _more(left_out: int, what: str, which: str, report: str, width: int) -> list:
    """The line under a dashboard list that was cut short: how many more, and where they all are."""
    from rich.text import Text

    if not left_out:
        return []
    note = f"… {left_out:,} more {what} (these are the {DASHBOARD_ROWS} with the {which}; `fundledger {report}` lists all)"
    return [Text(line, style="dim") for line in _wrap(note, width)]


# --- a member's statement -------------------------------------------------

_POSITION = (("pledged", "Pledged"), ("received", "Received"), ("outstanding", "Outstanding"), ("overdue", "  of it overdue"))


def statement_json(statement: Statement) -> dict[str, Any]:
    """The statement as docs/REPORTS.md documents it: amounts as strings, an entry given in another
    currency with that currency, the amount given and the rate."""
    c = statement.currency
    return {
        "report": "statement",
        "ledger": statement.ledger,
        "currency": c,
        "member": statement.member,
        "status": statement.status,
        **_stamp(statement),
        "opening": {k: money.to_text(v, c) for k, v in statement.opening.items()},
        "lines": [
            {
                **{k: _plain(v, c) for k, v in line.items() if k not in ("given", "currency", "rate")},
                "given_currency": line["currency"],
                "given": _plain(line["given"], line["currency"]),
                "rate": line["rate"],
            }
            for line in statement.lines
        ],
        "exchange_differences": money.to_text(statement.exchange_differences, c),
        "closing": {k: money.to_text(v, c) for k, v in statement.closing.items()},
        "earmarked": {k: money.to_text(v, c) for k, v in statement.earmarked.items()},
        "funded": [{k: _plain(v, c) for k, v in row.items()} for row in statement.funded],
        "bought": [{k: _plain(v, c) for k, v in row.items() if k != "member"} for row in statement.bought],
    }


def statement_csv(statement: Statement) -> str:
    """One table: `section` says what a line is (opening, line, exchange, closing, earmarked, funded)."""
    c = statement.currency
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        ["section", "date", "entry", "kind", "what", "given_currency", "given", "rate", "amount", "paid", "exchange"]
    )
    for key, _ in _POSITION:
        writer.writerow(["opening", "", "", "", key, c, "", "", money.to_text(statement.opening[key], c), ""])
    for line in statement.lines:
        given = money.to_text(line["given"], line["currency"]) if line["given"] is not None else ""
        writer.writerow(["line", line["date"].isoformat(), line["id"], line["kind"], spreadsheet_safe(line["what"]),
                         line["currency"], given, line["rate"] or "", money.to_text(line["amount"], c), "",
                         money.to_text(line["exchange_difference"], c)])  # fmt: skip
    writer.writerow(["exchange", "", "", "", "exchange_differences", c, "", "", money.to_text(statement.exchange_differences, c), ""])  # fmt: skip
    for key, _ in _POSITION:
        writer.writerow(["closing", "", "", "", key, c, "", "", money.to_text(statement.closing[key], c), ""])
    for earmark, amount in statement.earmarked.items():
        writer.writerow(["earmarked", "", "", "", spreadsheet_safe(earmark), c, "", "", money.to_text(amount, c), ""])
    for row in statement.funded:
        writer.writerow(["funded", row["date"].isoformat(), "", row["status"], spreadsheet_safe(f"{row['earmark']} > {row['package']}"),
                         c, "", "", money.to_text(row["amount"], c), money.to_text(row["paid"], c)])  # fmt: skip
    for row in statement.bought:
        writer.writerow(["bought", "", "", row["status"], spreadsheet_safe(row["package"]), c, "", "",
                         money.to_text(row["amount"], c), money.to_text(row["paid"], c)])  # fmt: skip
    return out.getvalue()


def statement_view(statement: Statement, width: int = 100, *, wide: bool = False):
    """Position at the start, the period's pledges and receipts, exchange differences, position at the end,
    where the earmarked money went, and the seal."""
    from rich.text import Text

    c = statement.currency
    lines = [
        Text(line, style="bold")
        for line in _wrap(f"Statement of {inert(statement.member)} — {inert(statement.ledger)}", width)
    ]
    if statement.period is not None:
        lines += [Text(line) for line in _wrap(_period_line(statement.period), width)]
    lines.append(Text(""))
    cols = [_Col("", fit="wrap"), _Col("Opening", True), _Col("Closing", True)]
    rows = [[_label(label), _money_text(statement.opening[key], c), _money_text(statement.closing[key], c)]
            for key, label in _POSITION]  # fmt: skip
    if statement.exchange_differences:
        rows.append([_label("Exchange gains (losses)"), _Cell(""), _money_text(statement.exchange_differences, c)])
    lines += _table_lines("", cols, [], rows, [], width, wide, "")
    exchange = any(line["exchange_difference"] for line in statement.lines)
    cols = [_Col("#", True), _Col("Date"), _Col("Kind"), _Col("Given", True), _Col("Rate", True),
            _Col(f"In {c}", True), *([_Col("Exchange gain", True)] if exchange else []),
            _Col("What", fit="short", optional=True)]  # fmt: skip
    rows = [
        [_Cell(str(line["id"])), _Cell(line["date"].isoformat()),
         _Cell(f"reverses #{line['reverses']}" if line["reverses"] else line["kind"]),
         _money_text(line["given"], line["currency"]), _Cell(line["rate"] or ""),
         _money_text(line["amount"], c), *([_money_text(line["exchange_difference"], c)] if exchange else []),
         _Cell(inert(line["what"]))]
        for line in statement.lines
    ]  # fmt: skip
    lines += [Text(""), Text("Pledges and receipts", style="bold")]
    lines += _table_lines("", cols, [], rows, [], width, wide, "", "none in the period" if not rows else None)
    if statement.funded or statement.earmarked:
        gave = ", ".join(f"{inert(e)} {money.format_money(a, c)}" for e, a in statement.earmarked.items())
        lines += [Text(""), Text("Where its earmarked money went", style="bold")]
        lines += [Text(line) for line in _wrap(f"Its receipts went to: {gave}. Packages drawn from those earmarks "
                                               "(with other members' money in them too):", width)]  # fmt: skip
        cols = [_Col("Earmark"), _Col("Package"), _Col("Date", optional=True), _Col("From earmark", True),
                _Col("Paid", True), _Col("Status", optional=True)]  # fmt: skip
        rows = [
            [_Cell(inert(r["earmark"])), _Cell(inert(r["package"])), _Cell(r["date"].isoformat()),
             _money_text(r["amount"], c), _money_text(r["paid"], c), _Cell(r["status"])]
            for r in statement.funded
        ]  # fmt: skip
        lines += _table_lines("", cols, [], rows, [], width, wide, "", "no package yet" if not rows else None)
    if statement.bought:
        lines += [Text("")] + [Text(line, style="bold") for line in _wrap("What its own money bought (traced)", width)]
        cols = [_Col("Package or envelope"), _Col("Its money", True), _Col("Paid", True),
                _Col("Not yet paid", True, optional=True), _Col("Status", optional=True)]  # fmt: skip
        rows = [
            [_Cell(inert(r["package"])), _money_text(r["amount"], c), _money_text(r["paid"], c),
             _money_text(r["not_yet_paid"], c), _Cell(r["status"])]
            for r in statement.bought
        ]  # fmt: skip
        lines += _table_lines("", cols, [], rows, [], width, wide, "")
    lines += [Text("")] + [
        Text(line, style="dim") for line in _wrap(_caption(statement.as_of, statement.entries, statement.seal), width)
    ]
    return _Lines(lines)


def _label(label: str):
    return _Cell(label, "" if label.startswith(" ") else "bold")


def _period_line(period) -> str:
    start = period.start.isoformat() if period.start else "the first entry"
    end = period.end.isoformat() if period.end else "the last entry"
    return f"{period.label()}: from {start} to {end}"


def _bar(bar, width: int = 24):
    """A text bar of an earmark: paid, then committed, then available, in proportion to allocated.

    An earmark with nothing allocated has no bar at all (a row of dots), so
    it never looks like one whose money is all available.
    """
    from rich.text import Text

    if bar.allocated <= 0:
        return Text("·" * width, style="dim")
    with money.rounding():
        paid = round(bar.paid * width / bar.allocated)
        committed = round((bar.paid + bar.committed) * width / bar.allocated) - paid
    text = Text()
    text.append("█" * paid, style="green")
    text.append("▓" * committed, style="yellow")
    text.append("░" * (width - paid - committed), style="dim")
    return text


# --- helpers -------------------------------------------------------------


def _caption(as_of: dt.date | None, entries: int, seal: str) -> str:
    return f"as of {as_of.isoformat() if as_of else 'today'} · {entries} entries · seal {seal[:12]}"


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


_KINDS_DRAWN = frozenset({"money", "account", "share", "list", "split", "amounts", "original"})  # not as text


# Cells made before, by their text (or their amount and currency): a long table repeats its kinds, dates, names
# and sums. A cell is never changed once made (one cut short is a copy), so rows share them. Forgotten when full.
_SHOWN: dict[Any, _Cell] = {}


def _show_cell(row: dict[str, Any], column, currency: str):
    value = row.get(column.key)
    kind = column.kind
    if kind not in _KINDS_DRAWN:  # most cells of a long table: text as it is (made inert), a number, a date
        if value.__class__ is str:
            if column.prose:  # a memo: seldom the same twice, not worth keeping
                return _Cell(inert(value))
            cell = _SHOWN.get(value)
            return cell if cell is not None else _kept_cell(value, _Cell(inert(value)))
        if value.__class__ is int:  # an id
            return _Cell(str(value))
        if value is None:
            return _Cell("")
    if kind == "money":
        return _money_text(value, currency)
    if column.kind == "account":
        depth = value.count(":")
        return _Cell("  " * depth + value.rsplit(":", 1)[-1], style="bold" if depth == 0 else "")
    if column.kind == "share":
        return _Cell("" if value is None else f"{value:.1f}%")
    if column.kind == "list":
        return _Cell(inert(", ".join(value)))
    if column.kind == "split":  # (earmark, amount, currency): in the currency the money was pledged in
        return _Cell(", ".join(f"{inert(e)} {money.format_money(a, c)}" for e, a, c in value))
    if column.kind == "amounts":  # {currency: amount}
        return _Cell(", ".join(money.format_money(a, c) for c, a in value.items()))
    if column.kind == "original":  # a pledge followed in its own currency
        if not value:
            return _Cell("")
        c = value["currency"]
        figures = {k: money.format_money(Decimal(value[k]), c) for k in ("amount", "received", "outstanding")}
        return _Cell(
            f"{figures['amount']} at {value['rate']}: {figures['received']} received, "
            f"{figures['outstanding']} outstanding"
        )
    if isinstance(value, dt.date):
        return _Cell(value.isoformat())
    return _Cell(inert("" if value is None else str(value)))


def _kept_cell(key: Any, cell: _Cell) -> _Cell:
    if len(_SHOWN) >= 20_000:
        _SHOWN.clear()
    _SHOWN[key] = cell
    return cell


def _money_text(value: Decimal | None, currency: str):
    if value is None:
        return _Cell("")
    cell = _SHOWN.get((value, currency))
    if cell is None:
        cell = _kept_cell((value, currency), _Cell(money.format_money(value, currency), "red" if value < 0 else ""))
    return cell


def _plain(value: Any, currency: str, kind: str | None = "money") -> Any:
    """A value as JSON/CSV carries it: amounts with the currency's places, shares as decimal text."""
    if isinstance(value, Decimal):
        return str(value) if kind == "share" else money.to_text(value, currency)
    if kind == "amounts":
        return {c: money.to_text(a, c) for c, a in value.items()}
    if kind == "split":  # "earmark amount", with the currency's code when it is not the fund's
        return [f"{e} {money.to_text(a, c)}" + ("" if c == currency else f" {c}") for e, a, c in value]
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
def progress(total: int | Callable[[], int], label: str, *, at_least: int = 2000, after: float = 0.0):
    """A progress bar on stderr for long runs (more than `at_least` steps); yields a tick function.

    `total` may be a function, asked only when a bar could be drawn (counting costs something).

    `tick()` is one step done, `tick(n)` n of them (a caller that works in
    batches ticks once a batch: a bar redrawn a million times costs seconds).
    With `after`, the bar appears only once the run has taken that many
    seconds, so a quick one draws nothing. Only on a terminal: written to a
    file or a pipe, a bar is noise (rich leaves an empty line).
    """
    err = console(stderr=True)
    if not err.is_terminal:
        yield lambda steps=1: None
        return
    if callable(total):
        total = total()
    if total <= at_least:
        yield lambda steps=1: None
        return
    from rich.progress import Progress

    bar = Progress(console=err, transient=True)
    began, done = time.monotonic(), 0
    task = None

    def tick(steps: int = 1) -> None:
        nonlocal done, task
        done += steps
        if task is None and time.monotonic() - began >= after:
            bar.start()
            task = bar.add_task(label, total=total, completed=done)
        elif task is not None:
            bar.update(task, completed=done)

    if not after:
        tick(0)
    try:
        yield tick
    finally:
        if task is not None:
            bar.stop()


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


def import_table(plan, currency: str):
    """Each row of a statement: what it would record, or why it is skipped, unmatched or refused.

    Laid out like every report table: amounts, dates and references never cut,
    what does not fit dropped from the right or the table turned into blocks.
    """
    from rich.text import Text

    from ledger.statements import show

    style = show.STYLE
    counts = {s: sum(1 for p in plan.rows if p.status == s) for s in style}
    repeated = sum(1 for p in plan.rows if p.status == "skip" and p.reason.startswith("already"))
    parts = [f"{counts['record']} to record", f"{repeated} already recorded"]
    if counts["skip"] > repeated:
        parts.append(f"{counts['skip'] - repeated} left out")
    if counts["unmatched"]:
        parts.append(f"{counts['unmatched']} unmatched")
    parts.append(f"{counts['refused']} refused")
    cols = [_Col("row", True), _Col("status"), _Col("date"), _Col("what"), _Col("amount", True),
            _Col("reference", optional=True), _Col("why", fit="short")]  # fmt: skip
    rows = [
        [
            Text(str(p.row)),
            Text(p.status, style=style[p.status]),
            Text(p.source.day.isoformat() if p.source and p.source.day else inert(p.values.get("date", ""))),
            Text(inert(p.what or (p.source.payer if p.source else "") or p.values.get("member", ""))),
            Text(show.amount_shown(p, currency), justify="right"),
            Text(inert(p.values.get("reference", ""))),
            Text(inert(p.reason)),
        ]
        for p in plan.rows
    ]
    return _Lines(_table_lines(", ".join(parts), cols, [], rows, [], console().width, False, ""))

