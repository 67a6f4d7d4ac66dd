"""Charts of a report, drawn by matplotlib as SVG text: pure functions from report data to pictures.

Every function here takes the report's plain data (the dicts `--json`
prints) or the books, and returns SVG text; nothing is written anywhere.
The output is byte for byte the same for the same data (a fixed hash salt,
no date in the metadata, text kept as text), so golden tests are stable.

Amounts are turned into floats here, and only here, for drawing: a float
places a bar, it never becomes money again. Every figure a reader can
quote is in the report's tables, from the exact decimals.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger import model

# Colours that read apart in print and for the colour-blind (Okabe–Ito).
RECEIVED, OUTSTANDING, PAID, COMMITTED, AVAILABLE, CONTRACTED, DELIVERED = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#999999")  # fmt: skip
ENVELOPES = ("#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")

# The reports that draw a chart (--svg writes the first); a report over a period or by period draws none but
# the summary's and a statement's.
CHARTED = ("summary", "statement", "contributors", "pledges", "earmarks", "packages", "balance")

MOST_BARS = 25  # a chart of members or packages shows at most this many, the largest (a note says so)




@dataclass(frozen=True)
class Chart:
    """One chart: its `name` (a slug), its `title`, and `svg`, a whole SVG document (byte-deterministic)."""

    name: str
    title: str
    svg: str

    @property
    def inline(self) -> str:
        """The SVG to put inside an HTML page: no XML prolog, and its ids prefixed with the chart's name so
        that several charts on one page never share an id."""
        body = self.svg[self.svg.index("<svg") :]
        label = html.escape(self.title, quote=True)
        body = body.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
        prefix = f"{self.name}-"
        body = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', body)
        body = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", body)
        return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', body)


# The charts drawn in this process, by what they were drawn from: matplotlib takes about half a second a
# chart, and one run draws the same chart again and again (the site draws the summary's charts on the dashboard
# and on the summary page, a member's on its statement and on its page). Charts are pure, so a copy is exact.
_DRAWN: dict[str, Chart] = {}
_MOST_KEPT = 64


def _styled(draw):
    """Run a chart function in the house style, so that every artist it makes (legends too) takes it; a chart
    drawn before from the same data is given again, not drawn again."""
    import functools

    @functools.wraps(draw)
    def styled(*args, **kwargs):
        import matplotlib

        key = repr((draw.__name__, args, sorted(kwargs.items())))
        chart = _DRAWN.get(key)
        if chart is None:
            with matplotlib.rc_context(_STYLE):
                chart = draw(*args, **kwargs)
            if len(_DRAWN) >= _MOST_KEPT:
                del _DRAWN[next(iter(_DRAWN))]  # the oldest
            _DRAWN[key] = chart
        return chart

    return styled


def for_report(report_or_data: Any, books=None) -> list[Chart]:
    """The charts of a report, its main chart first (the one `--svg FILE` writes); [] when it has none.

    `report_or_data` is a report object (`reports.Report`, `Summary`,
    `Statement`) or its plain data (the dict `--json` prints). `books`,
    when given, are the books it was made from (after `--as-of`): the
    charts over time (pledged against received, cash by envelope) and
    the members' contributions on the summary need them.
    """
    data = _plain(report_or_data)
    name = data.get("report")
    if data.get("periods"):  # one column per period: its table is the picture
        return []
    end = _day(data.get("as_of") or data.get("to"))
    charts: list[Chart] = []
    c = data["currency"]
    if name == "summary":
        series = _series(books, end) if books is not None else []
        if books is not None and _any(members := _contributors(books, end), "received", "outstanding"):
            charts.append(contributions_by_member(members, c))
        if series:
            charts.append(pledged_against_received(series, c))
        if _any(data["earmarks"], "allocated", "paid", "committed", "available"):
            charts.append(earmarks(data["earmarks"], c))
        if series:
            charts.append(cash_by_envelope(series, c))
        if books is not None and _any(pipeline := _packages(books, end), "amount", "paid"):
            charts.append(package_pipeline(pipeline, c))
        return charts
    if name == "statement":  # what its own money bought holds at the end of a period too
        bought = data.get("bought") or []
        return [member_money(bought, data["member"], c)] if _any(bought, "paid", "not_yet_paid") else []
    if data.get("from"):  # a period's rows hold flows, not positions: the charts below would mislead
        return []
    rows = data.get("rows") or []
    if name == "contributors" and _any(rows, "received", "outstanding"):
        return [contributions_by_member(rows, c)]
    if name == "pledges" and books is not None and rows and "amount" in rows[0]:
        return [pledged_against_received(_series(books, end), c)]
    if name == "earmarks" and _any(rows, "allocated", "paid", "committed", "available"):
        return [earmarks(rows, c)]
    if name == "packages" and _any(rows, "amount", "paid"):
        delivered = _delivered_values(books, end) if books is not None else {}
        return [package_pipeline([{**row, "delivered_value": delivered.get(row["package"])} for row in rows], c)]
    if name == "balance" and books is not None and (series := _series(books, end)):
        return [cash_by_envelope(series, c)]
    return []


# --- the charts -------------------------------------------------------------


@_styled
def contributions_by_member(rows: list[dict[str, Any]], currency: str) -> Chart:
    """Each member's received and outstanding, stacked, largest first (contributors rows, plain data)."""
    rows = [r for r in rows if _f(r.get("received")) > 0 or _f(r.get("outstanding")) > 0]
    rows = sorted(rows, key=lambda r: (-(_f(r.get("received")) + _f(r.get("outstanding"))), r["member"]))
    shown, left = rows[:MOST_BARS], len(rows) - MOST_BARS
    fig = _two_part_bars(shown, "member", ("received", RECEIVED, "received"),
                         ("outstanding", OUTSTANDING, "pledged, not received"), currency)  # fmt: skip
    title = "Contributions by member" + (f" (the {MOST_BARS} largest; {left} more in the table)" if left > 0 else "")
    return _chart("contributions", title, fig)


@_styled
def pledged_against_received(series: list[tuple[dt.date, dict[str, Decimal]]], currency: str) -> Chart:
    """What members had given or pledged against what they had paid, day by day (a step line each)."""
    days = [day for day, _ in series]
    fig, ax = _figure(height=3.2)
    ax.step(days, [_f(v["contributions"]) for _, v in series], where="post", color=OUTSTANDING,
            label="given or pledged")  # fmt: skip
    ax.step(days, [_f(v["received"]) for _, v in series], where="post", color=RECEIVED, label="received")
    _money_axis(ax, currency, "y")
    _date_axis(ax)
    _legend(fig, ax)
    return _chart("pledged-received", "Pledged and received over time", fig)


@_styled
def earmarks(rows: list[dict[str, Any]], currency: str) -> Chart:
    """Each earmark's money: paid, committed and available, stacked to what was allocated."""
    names = [r["earmark"] for r in rows][::-1]
    paid = [max(_f(r["paid"]), 0.0) for r in rows][::-1]
    committed = [max(_f(r["committed"]), 0.0) for r in rows][::-1]
    available = [max(_f(r["available"]), 0.0) for r in rows][::-1]
    fig, ax = _figure(height=1.2 + 0.4 * max(len(names), 1))
    ax.barh(names, paid, color=PAID, label="paid")
    ax.barh(names, committed, left=paid, color=COMMITTED, label="committed")
    ax.barh(names, available, left=[p + c for p, c in zip(paid, committed, strict=True)], color=AVAILABLE,
            label="available")  # fmt: skip
    _money_axis(ax, currency, "x")
    _legend(fig, ax)
    return _chart("earmarks", "Earmarks: allocated, as paid, committed and available", fig)


@_styled
def cash_by_envelope(series: list[tuple[dt.date, dict[str, Decimal]]], currency: str) -> Chart:
    """The cash the manager held, by envelope (unallocated, each earmark, committed), stacked over time."""
    days = [day for day, _ in series]
    envelopes = sorted({k for _, v in series for k in v if k.startswith("envelope:")}, key=_envelope_order)
    fig, ax = _figure(height=3.2)
    if envelopes:
        layers = [[max(_f(v.get(k, Decimal(0))), 0.0) for _, v in series] for k in envelopes]
        ax.stackplot(days, *layers, labels=[k.split(":", 1)[1] for k in envelopes], step="post",
                     colors=[ENVELOPES[i % len(ENVELOPES)] for i in range(len(envelopes))])  # fmt: skip
        _legend(fig, ax)
    _money_axis(ax, currency, "y")
    _date_axis(ax)
    return _chart("cash", "Cash held, by envelope, over time", fig)


@_styled
def package_pipeline(rows: list[dict[str, Any]], currency: str) -> Chart:
    """Each package: committed, under contract, paid and delivered (by value), side by side."""
    rows = sorted(rows, key=lambda r: (-_f(r.get("amount")), r["package"]))[:MOST_BARS]
    names = [r["package"] for r in rows][::-1]
    stages = [("amount", "committed", COMMITTED), ("contracted", "contracted", CONTRACTED), ("paid", "paid", PAID),
              ("delivered_value", "delivered (value)", DELIVERED)]  # fmt: skip
    stages = [s for s in stages if any(r.get(s[0]) is not None for r in rows)]
    fig, ax = _figure(height=1.2 + 0.22 * max(len(names), 1) * max(len(stages), 1))
    height = 0.8 / max(len(stages), 1)
    for i, (key, label, colour) in enumerate(stages):
        offsets = [n + (len(stages) - 1 - i) * height - 0.4 + height / 2 for n in range(len(names))]
        ax.barh(offsets, [max(_f(r.get(key)), 0.0) for r in rows][::-1], height=height, color=colour, label=label)
    ax.set_yticks(range(len(names)), names)
    _money_axis(ax, currency, "x")
    _legend(fig, ax)
    return _chart("packages", "Packages: committed, contracted, paid and delivered", fig)


@_styled
def member_money(rows: list[dict[str, Any]], member: str, currency: str) -> Chart:
    """What a member's own money bought (a statement's `bought` rows): paid, and not yet paid, per package or
    envelope still holding it."""
    rows = sorted(rows, key=lambda r: (-_f(r.get("amount")), r["package"]))[:MOST_BARS]
    fig = _two_part_bars(rows, "package", ("paid", PAID, "paid to suppliers"),
                         ("not_yet_paid", AVAILABLE, "not yet paid (committed or unspent)"), currency)  # fmt: skip
    return _chart("bought", f"What {member}'s own money bought", fig)


def _two_part_bars(rows: list[dict[str, Any]], name: str, first: tuple[str, str, str], second: tuple[str, str, str],
                   currency: str):  # fmt: skip
    """One horizontal bar per row (the first row on top), `first` then `second` stacked: (key, colour, label)."""
    names = [r[name] for r in rows][::-1]
    parts = [[max(_f(r.get(key)), 0.0) for r in rows][::-1] for key, _, _ in (first, second)]
    fig, ax = _figure(height=1.2 + 0.32 * max(len(names), 1))
    ax.barh(names, parts[0], color=first[1], label=first[2])
    ax.barh(names, parts[1], left=parts[0], color=second[1], label=second[2])
    _money_axis(ax, currency, "x")
    _legend(fig, ax)
    return fig


# --- data for the charts ----------------------------------------------------


def _plain(report_or_data: Any) -> dict[str, Any]:
    """A report's plain data: a dict is taken as it is, a report object goes through its JSON renderer."""
    if isinstance(report_or_data, dict):
        return report_or_data
    from ledger import render
    from ledger.reports import Statement, Summary

    if isinstance(report_or_data, Summary):
        return render.summary_json(report_or_data)
    if isinstance(report_or_data, Statement):
        return render.statement_json(report_or_data)
    return render.report_json(report_or_data)


def _contributors(books, end: dt.date | None) -> list[dict[str, Any]]:
    from ledger import render, reports

    return render.report_json(reports.contributors_report(books, end))["rows"]


def _packages(books, end: dt.date | None) -> list[dict[str, Any]]:
    from ledger import render, reports

    rows = render.report_json(reports.packages_report(books, end))["rows"]
    delivered = _delivered_values(books, end)
    return [{**row, "delivered_value": delivered.get(row["package"])} for row in rows if row["status"] != "cancelled"]


def _delivered_values(books, end: dt.date | None) -> dict[str, str]:
    """The value delivered per package (deliveries that carry a value), as plain decimal text."""
    from ledger import render, reports

    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in render.report_json(reports.deliveries_report(books, end))["rows"]:
        if row.get("value") is not None:
            totals[row["package"]] += Decimal(row["value"])
    return {package: str(value) for package, value in totals.items()}


def _series(books, end: dt.date | None) -> list[tuple[dt.date, dict[str, Decimal]]]:
    """Day by day, at the end of each day with entries: given or pledged, received, and each envelope's cash.

    One pass over the entries by date: received is contributions less
    what is still owed and written off, plus exchange differences (the
    identity of docs/REPORTS.md), so that it matches the summary's figure.
    The series starts on the first day money moved (members joining a
    year earlier would leave most of a chart empty) and holds its last
    figures to `end`, or a little past the last day, so that the last step
    has a width of its own.
    """
    balances: dict[str, Decimal] = defaultdict(Decimal)
    out: list[tuple[dt.date, dict[str, Decimal]]] = []
    entries = sorted((e for e in books.entries if e.postings and (end is None or e.date <= end)),
                     key=lambda e: (e.date, e.id))  # fmt: skip
    for i, entry in enumerate(entries):
        for posting in entry.postings:
            balances[_bucket(posting.account)] += posting.amount
        if i + 1 < len(entries) and entries[i + 1].date == entry.date:
            continue
        contributions = -balances["contributions"]
        figures = {
            "contributions": contributions,
            "received": contributions - balances["receivable"] - balances["written_off"] - balances["exchange"],
        }
        figures.update({k: v for k, v in balances.items() if k.startswith("envelope:")})
        out.append((entry.date, figures))
    if out:
        first, last = out[0][0], out[-1][0]
        until = end if end is not None and end > last else last + dt.timedelta(days=max(1, (last - first).days // 20))
        out.append((until, out[-1][1]))
    return out


def _bucket(account: str) -> str:
    """Which line of the charts over time an account's postings add to."""
    if account.startswith(model.CONTRIBUTIONS):
        return "contributions"
    if account.startswith(model.RECEIVABLE):
        return "receivable"
    if account.startswith(model.WRITE_OFFS):
        return "written_off"
    if account.startswith(model.EXCHANGE):
        return "exchange"
    if account == model.UNALLOCATED or account.startswith(model.UNALLOCATED + ":"):
        return "envelope:unallocated"
    if account.startswith(model.EARMARKED + ":"):
        return "envelope:" + account[len(model.EARMARKED) + 1 :].split(":")[0]
    if account.startswith(model.COMMITTED + ":"):
        return "envelope:committed to packages"
    return "other"


def _envelope_order(key: str) -> tuple[int, str]:
    name = key.split(":", 1)[1]
    return (0 if name == "unallocated" else 2 if name == "committed to packages" else 1, name)


def _any(rows: list[dict[str, Any]], *keys: str) -> bool:
    """Whether any row has an amount above nothing under one of `keys`: else a chart would be empty axes."""
    return any(row.get(key) not in (None, "") and Decimal(row[key]) > 0 for row in rows for key in keys)


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _f(value: Any) -> float:
    """An amount as a float, for drawing only (see the module's docstring); None and '' as nothing."""
    if value in (None, ""):
        return 0.0
    return float(Decimal(value))


# --- matplotlib, set up once, deterministic ---------------------------------

_STYLE = {
    "svg.hashsalt": "fundledger",  # ids from a fixed salt: the same chart, the same bytes
    "svg.fonttype": "none",  # text stays text (searchable, and no glyph paths that vary with the font files)
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#5b6470",
    "axes.titlesize": 10,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "path.simplify": False,
}


def _figure(height: float):
    """A new figure and its axes, 7.5 inches wide, in the house style (matplotlib's Agg backend, no display)."""
    # A bare Figure on matplotlib's SVG canvas: no pyplot, no GUI backend, and nothing global switched for a
    # program that imports this module.
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, min(max(height, 2.2), 12.0)), layout="constrained")
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    ax.grid(axis="both", color="#e3e6ea", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _chart(name: str, title: str, fig) -> Chart:
    """The figure as a whole SVG document, byte-deterministic."""
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context(_STYLE):  # the salt and the font type are read when the file is written
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": "fundledger"})
    # The DOCTYPE names a DTD on w3.org that nothing needs (no reader fetches it; an SVG is valid without it).
    svg = re.sub(r"<!DOCTYPE[^>]*>\n", "", out.getvalue(), count=1)
    return Chart(name=name, title=title, svg=svg)


def _money_axis(ax, currency: str, which: str) -> None:
    """An axis of amounts in the fund's currency: 30M, 1.5bn (figures in the tables are exact)."""
    from matplotlib.ticker import FuncFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: _short(value)))
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(currency)
    if which == "x":
        ax.set_xlim(left=0)
    else:
        ax.set_ylim(bottom=0)


def _legend(fig, ax) -> None:
    """The legend above the plot, in a row, where it never covers a bar or a line."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside upper left", ncols=min(len(labels), 5), frameon=False)


def _date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _short(value: float) -> str:
    """A tick label: 0, 500k, 30M, 1.2bn."""
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.4g}{suffix}"
    return f"{value:.4g}"
