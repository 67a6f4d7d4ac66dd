"""Rendering: turn entries and reports into rich tables, JSON or CSV. Nothing here adds anything up.

User text reaches the terminal only through `rich.text.Text` (never the
markup parser) after `text.inert` has made control characters visible.
rich is imported lazily so that `fundledger --help` starts fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

from ledger import model, money
from ledger.model import Entry
from ledger.reports import Report
from ledger.text import inert

FORMATS = ("table", "json", "csv")


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
    for key, value in entry.data.items():
        shown = (
            ", ".join(f"{k} {money.format_money(Decimal(v), currency)}" for k, v in value.items())
            if isinstance(value, dict)
            else (f"#{value}" if key in ("pledge", "reverses") else str(value))
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


def report_json(report: Report) -> dict[str, Any]:
    return {
        "report": report.report,
        "ledger": report.ledger,
        "currency": report.currency,
        "as_of": report.as_of.isoformat() if report.as_of else None,
        "entries": report.entries,
        "seal": report.seal,
        "rows": [{key: _plain(value, report.currency) for key, value in row.items()} for row in report.rows],
        **({"totals": {k: _plain(v, report.currency) for k, v in report.totals.items()}} if report.totals else {}),
    }


def report_csv(report: Report) -> str:
    """One header line of column keys, then one line per row; amounts as plain decimals."""
    out = io.StringIO()
    keys = list(report.rows[0]) if report.rows else [c.key for c in report.columns]
    writer = csv.DictWriter(out, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({k: _cell(_plain(v, report.currency)) for k, v in row.items()})
    return out.getvalue()


def report_table(report: Report):
    """A rich table: amounts right-aligned with separators and symbol, negatives marked, tree indented."""
    from rich.table import Table
    from rich.text import Text

    caption = _caption(report)
    table = Table(title=f"{report.title} — {report.ledger}", caption=caption, caption_justify="right")
    for column in report.columns:
        right = column.kind in ("money", "int", "share")
        table.add_column(column.title, justify="right" if right else "left", overflow="fold")
    for row in report.rows:
        table.add_row(*(_show_cell(row, c, report.currency) for c in report.columns))
    if report.totals:
        table.add_section()
        cells = [
            _money_text(report.totals[c.key], report.currency) if c.key in report.totals else Text("")
            for c in report.columns
        ]
        cells[0] = Text("total", style="bold")
        table.add_row(*cells)
    return table


def _caption(report: Report) -> str:
    as_of = report.as_of.isoformat() if report.as_of else "today"
    return f"as of {as_of} · {report.entries} entries · seal {report.seal[:12]}"


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
    return Text(inert("" if value is None else str(value)))


def _money_text(value: Decimal | None, currency: str):
    from rich.text import Text

    if value is None:
        return Text("")
    return Text(money.format_money(value, currency), style="red" if value < 0 else "")


def _plain(value: Any, currency: str) -> Any:
    if isinstance(value, Decimal):
        return money.to_text(value, currency)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _cell(value: Any) -> Any:
    return "; ".join(value) if isinstance(value, list) else value


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON data")
