"""Reports: pure functions from the books to plain data. Nothing here prints or formats.

Every tabular report is a `Report`: its columns (with the kind of value in
each, so a renderer knows how to show it) and its rows (dicts keyed by the
columns' snake_case names, amounts as `Decimal`). The summary dashboard has
a shape of its own, `Summary`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger import checkpoints, fold, model, money
from ledger.books import ZERO, Books, cash_on, supplier_key
from ledger.cache import REGISTER_ROWS
from ledger.errors import BadInput, Refused
from ledger.index import ABSENT
from ledger.model import Entry
from ledger.text import did_you_mean


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text, money, date, int, share, account, list
    optional: bool = False  # a narrow terminal may leave it out of the table (never out of JSON or CSV)
    prose: bool = False  # words (memo, purpose): a table may shorten them with an ellipsis; figures and names never


@dataclass(frozen=True)
class Report:
    report: str
    title: str
    ledger: str
    currency: str
    as_of: dt.date | None
    seal: str
    entries: int
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    totals: dict[str, Any] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # row keys for the table only, left out of JSON and CSV
    period: Period | None = None  # the period whose flows the report shows (None: the books as they stand)
    opening: dict[str, Any] | None = None  # the register's opening-balance line, before its rows
    spans: tuple[Period, ...] = ()  # with --yearly/--quarterly/--monthly: the period of each column


def _report(
    books: Books, name: str, title: str, columns, rows, as_of, totals=None, hidden=(), period=None, opening=None
) -> Report:
    return Report(
        report=name,
        title=title if period is None else f"{title}, {period.label()}",
        ledger=books.name,
        currency=books.currency,
        as_of=as_of,
        seal=books.seal,
        entries=books.count,
        columns=tuple(columns),
        rows=rows if isinstance(rows, Rows) else tuple(rows),
        totals=totals or {},
        hidden=tuple(hidden),
        period=period,
        opening=opening,
    )


# --- periods ---------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days a report's flows cover, both ends included; an open end runs from the first or to the last entry."""

    start: dt.date | None = None
    end: dt.date | None = None

    def holds(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def label(self) -> str:
        start, end = self.start, self.end
        if start and start == end:
            return start.isoformat()
        if start and end:
            if start.month == 1 and start.day == 1 and (end.month, end.day) == (12, 31) and start.year == end.year:
                return str(start.year)
            if start.day == 1 and end == _month_end(end) and start.year == end.year:
                if end.month - start.month == 2 and start.month % 3 == 1:
                    return f"{start.year}Q{start.month // 3 + 1}"
                if start.month == end.month:
                    return f"{start.year}-{start.month:02d}"
        return f"{start.isoformat() if start else 'the beginning'} to {end.isoformat() if end else 'today'}"


def parse_period(text: str) -> Period:
    """`2025`, `2025Q2`, `2025-04`, `2025-01-01..2025-06-30` (either end may be left open); ValueError if not."""
    text = text.strip()
    try:
        if ".." in text:
            first, last = text.split("..", 1)
            start = _day(first) if first else None
            end = _day(last) if last else None
            if start is None and end is None:
                raise ValueError
            if start and end and end < start:
                raise ValueError(f"period {text!r} ends before it starts")
            return Period(start, end)
        if len(text) == 4 and text.isdigit():
            year = int(text)
            return Period(dt.date(year, 1, 1), dt.date(year, 12, 31))
        if len(text) == 6 and text[:4].isdigit() and text[4] in "Qq" and text[5] in "1234":
            year, quarter = int(text[:4]), int(text[5])
            start = dt.date(year, 3 * quarter - 2, 1)
            return Period(start, _month_end(dt.date(year, 3 * quarter, 1)))
        if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
            start = dt.date(int(text[:4]), int(text[5:]), 1)
            return Period(start, _month_end(start))
        if len(text) == 10:
            day = _day(text)
            return Period(day, day)
    except ValueError as problem:
        if str(problem).startswith("period "):
            raise
    raise ValueError(f"period {text!r} is not one: write 2025, 2025Q2, 2025-04, 2025-04-30 or 2025-01-01..2025-06-30")


def _day(text: str) -> dt.date:
    if len(text) != 10:
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def closing_books(books: Books, period: Period | None) -> Books:
    """The books at the end of the period (the books as they stand when it runs to the last entry)."""
    if period is None or period.end is None:
        return books
    return _as_of(books, period.end)


def opening_books(books: Books, period: Period) -> Books:
    """The books at the end of the day before the period starts (no entries for a period from the beginning)."""
    if period.start is None:
        return fold.rebuild(books.currency, (), books.name, books.manager)
    return _as_of(books, period.start - dt.timedelta(days=1))


# While a report of one column per period is built, one column's closing books are kept for the next
# column's opening (the few latest, so that memory stays flat). None outside `by_period_report`.
_DAYS: OrderedDict[tuple[int, dt.date], Books] | None = None
_KEPT = 3


def _as_of(books: Books, day: dt.date) -> Books:
    """The books at the end of `day`: from the nearest mark the read cache kept (`ledger.checkpoints`), else replayed."""
    if _DAYS is None:
        return checkpoints.as_of(books, day)
    key = (id(books), day)
    if key in _DAYS:
        _DAYS.move_to_end(key)
    else:
        _DAYS[key] = checkpoints.as_of(books, day)
        while len(_DAYS) > _KEPT:
            _DAYS.popitem(last=False)
    return _DAYS[key]


# A member with this role stands for several states the sources do not name: listed, not counted.
AGGREGATE_ROLE = "aggregate"


@dataclass(frozen=True)
class EarmarkBar:
    earmark: str
    allocated: Decimal
    committed: Decimal
    paid: Decimal
    available: Decimal
    pledged_outstanding: Decimal


# The dashboard's headline figures, in the order it shows them.
HEADLINES = (
    "contributions",
    "exchange_differences",
    "received",
    "outstanding",
    "cash",
    "unallocated",
    "earmarked",
    "committed",
    "paid",
    "interest",
    "bank_charges",
    "management_fee",
    "written_off",
)


@dataclass(frozen=True)
class Summary:
    """The fund's dashboard: headline figures, earmark bars, open packages, member counts.

    For a period, `opening` and `movements` hold the headline figures at the
    start of the period and what changed during it; the figures themselves
    are those at its end (opening + movements).
    """

    ledger: str
    manager: str
    currency: str
    as_of: dt.date | None
    entries: int
    seal: str
    contributions: Decimal
    exchange_differences: Decimal  # gains (+) or losses (-) on receipts against pledges in other currencies
    received: Decimal
    outstanding: Decimal
    unallocated: Decimal
    earmarked: Decimal
    committed: Decimal
    paid: Decimal
    cash: Decimal
    members_active: int
    members_pending: int
    earmarks: tuple[EarmarkBar, ...]
    open_packages: tuple[dict[str, Any], ...]
    interest: Decimal = ZERO  # bank interest received
    bank_charges: Decimal = ZERO
    management_fee: Decimal = ZERO
    written_off: Decimal = ZERO  # what was left of pledges the fund wrote off
    overdue: Decimal = ZERO  # fallen due by the summary's day and not received (the fund's currency)
    groups: tuple[str, ...] = ()  # active members that stand for several unnamed states (listed, not counted)
    period: Period | None = None
    opening: dict[str, Decimal] | None = None
    movements: dict[str, Decimal] | None = None


def _headlines(books: Books) -> dict[str, Decimal]:
    subtotals = books.subtotals()  # one pass over the accounts, however many earmarks and packages

    def subtotal(prefix: str) -> Decimal:
        return subtotals.get(prefix, ZERO)

    contributions = -subtotal(model.CONTRIBUTIONS)
    exchange = -subtotal(model.EXCHANGE)
    outstanding = subtotal(model.RECEIVABLE)
    written_off = subtotal(model.WRITE_OFFS)  # pledged, never to be received: not cash
    return {
        "contributions": contributions,
        "exchange_differences": exchange,
        "received": contributions + exchange - outstanding - written_off,
        "outstanding": outstanding,
        "cash": subtotal("assets:fund"),
        "unallocated": books.balance(model.UNALLOCATED),
        "earmarked": subtotal(model.EARMARKED),
        "committed": subtotal(model.COMMITTED),
        "paid": subtotal(model.PACKAGE_EXPENSES),
        "interest": -subtotal(model.INTEREST),
        "bank_charges": subtotal(model.BANK_CHARGES),
        "management_fee": subtotal(model.MANAGEMENT_FEE),
        "written_off": subtotal(model.WRITE_OFFS),
    }


def summary_report(books: Books, as_of: dt.date | None = None, period: Period | None = None) -> Summary:
    full, books = books, closing_books(books, period)
    if period is not None:
        as_of = period.end
    figures = _headlines(books)
    opening = movements = None
    if period is not None:
        opening = _headlines(opening_books(full, period))
        movements = {key: figures[key] - opening[key] for key in HEADLINES}
    day = as_of or dt.date.max
    counted = [m for m in books.members.values() if m.role != AGGREGATE_ROLE]
    groups = tuple(m.name for m in books.members.values() if m.role == AGGREGATE_ROLE and m.is_active(day))
    bars = tuple(
        EarmarkBar(
            row["earmark"],
            row["allocated"],
            row["committed"],
            row["paid"],
            row["available"],
            row["pledged_outstanding"],
        )
        for row in earmarks_report(books, as_of).rows
    )
    return Summary(
        ledger=books.name,
        manager=books.manager,
        currency=books.currency,
        as_of=as_of,
        entries=books.count,
        seal=books.seal,
        **figures,
        members_active=sum(1 for m in counted if m.is_active(day)),
        members_pending=sum(1 for m in counted if m.status == "pending"),
        earmarks=bars,
        open_packages=tuple(row for row in packages_report(books, as_of).rows if row["status"] == "open"),
        overdue=overdue_value(books, as_of or dt.date.today()),
        groups=groups,
        period=period,
        opening=opening,
        movements=movements,
    )


def _balances(books: Books) -> dict[str, Decimal]:
    """Every account and every parent of one, each with the total of everything below it."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, amount in books.balances.items():
        parts = account.split(":")
        for depth in range(1, len(parts) + 1):
            totals[":".join(parts[:depth])] += amount
    return totals


def balance_report(books: Books, as_of: dt.date | None = None, period: Period | None = None) -> Report:
    """The account tree with balances; a parent shows the total of everything below it.

    For a period: each account's opening balance, its change during the
    period and its closing balance (opening + change).
    """
    full, books = books, closing_books(books, period)
    closing = _balances(books)
    columns: tuple[Column, ...] = (Column("account", "Account", "account"), Column("balance", "Balance", "money"))
    total = sum(books.balances.values(), ZERO)
    if period is None:
        rows = [
            {"account": account, "currency": books.currency, "balance": amount}
            for account, amount in sorted(closing.items(), key=lambda pair: _tree_key(pair[0]))
        ]
        return _report(books, "balance", "Balances", columns, rows, as_of, {"balance": total})
    before = opening_books(full, period)
    opening = _balances(before)
    rows = [
        {
            "account": account,
            "currency": books.currency,
            "opening": opening.get(account, ZERO),
            "change": closing.get(account, ZERO) - opening.get(account, ZERO),
            "balance": closing.get(account, ZERO),
        }
        for account in sorted(set(opening) | set(closing), key=_tree_key)
    ]
    columns = (
        Column("account", "Account", "account"),
        Column("opening", "Opening", "money"),
        Column("change", "Change", "money"),
        Column("balance", "Closing", "money"),
    )
    start = sum(before.balances.values(), ZERO)
    totals = {"opening": start, "change": total - start, "balance": total}
    return _report(books, "balance", "Balances", columns, rows, period.end, totals, period=period)


def overdue_value(books: Books, day: dt.date, member: str | None = None) -> Decimal:
    """What had fallen due by `day` and was not received, in the fund's currency (a pledge in another currency
    at its value when made), for one member or all."""
    total = ZERO
    for pledge in books.pledges.values() if member is None else books.pledges_of(member):
        owed, _ = pledge.overdue(day)
        if owed:
            total += money.convert(owed, pledge.rate, books.currency) if pledge.foreign else owed
    return total


def _member_figures(books: Books, only: str | None = None) -> dict[str, dict[str, Decimal]]:
    """Per member (or only the member named `only`): pledged (pledges not reversed), received (cash),
    outstanding, exchange gains (less losses)."""
    subtotals = books.subtotals() if only is None else None  # one pass over the accounts for every member

    def subtotal(account: str) -> Decimal:  # one member's few: cheaper found one by one than every account's
        return subtotals.get(account, ZERO) if subtotals is not None else books.subtotal(account)

    pledges: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for pledge in books.pledges.values() if only is None else books.pledges_of(only):
        if not pledge.reversed_by:
            pledges[pledge.member] += pledge.amount
    figures = {}
    members = books.members.values() if only is None else [books.members[only]] if only in books.members else []
    for member in members:
        exchange = -subtotal(model.exchange(member.slug))
        given = -subtotal(model.contributions(member.slug)) + exchange - subtotal(model.write_offs(member.slug))
        outstanding = subtotal(model.receivable(member.slug))
        figures[member.name] = {
            "pledged": pledges[member.name],
            "received": given - outstanding,
            "outstanding": outstanding,
            "exchange_differences": exchange,
        }
    return figures


def contributors_report(
    books: Books, as_of: dt.date | None = None, *, original: bool = False, period: Period | None = None
) -> Report:
    """Per member: pledged, received, outstanding, and its share of all that was received.

    Received is the cash, in the fund's currency: what was given or pledged,
    plus exchange gains (less losses) on receipts in other currencies, less
    what is outstanding. With `original`, also what each member gave in the
    currencies it gave it in. For a period: what was pledged and received
    during it (a reversal counts against the period it is dated in), and what
    was outstanding at its start and at its end.
    """
    full, books = books, closing_books(books, period)
    closing = _member_figures(books)
    before = opening_books(full, period) if period is not None else None
    opening = _member_figures(before) if before is not None else {}
    rows = []
    for member in books.members.values():
        now = closing[member.name]
        then = opening.get(member.name, dict.fromkeys(now, ZERO))
        row: dict[str, Any] = {"member": member.name, "status": member.status}
        if period is not None:
            row["outstanding_opening"] = then["outstanding"]
        row["pledged"] = now["pledged"] - then["pledged"]
        row["received"] = now["received"] - then["received"]
        if period is not None:
            row["exchange_differences"] = now["exchange_differences"] - then["exchange_differences"]
        row["outstanding"] = now["outstanding"]
        if original:
            earlier = before.members[member.name].given if before is not None and member.name in before.members else {}
            given = {currency: amount - earlier.get(currency, ZERO) for currency, amount in member.given.items()}
            row["given_as"] = {currency: amount for currency, amount in sorted(given.items()) if amount}
        if period is not None and not any(
            row[k] for k in ("outstanding_opening", "pledged", "received", "outstanding")
        ):
            continue  # nothing owed, pledged or given in the period
        rows.append(row)
    total = sum((row["received"] for row in rows), ZERO)
    for row in rows:
        row["share"] = _percent(row["received"], total)
    rows.sort(key=lambda row: (-row["received"], -row["pledged"], row["member"]))
    exchange = period is not None and any(row["exchange_differences"] for row in rows)
    columns = (
        Column("member", "Member"),
        Column("status", "Status", optional=True),
        *([Column("outstanding_opening", "Outstanding at start", "money")] if period is not None else []),
        Column("pledged", "Pledged", "money"),
        Column("received", "Received", "money"),
        *([Column("exchange_differences", "Exchange gains", "money")] if exchange else []),
        Column("outstanding", "Outstanding" if period is None else "Outstanding at end", "money"),
        Column("share", "Share", "share"),
        *([Column("given_as", "Given as", "amounts")] if original else []),
    )
    keys = ("pledged", "received", "outstanding")
    if period is not None:
        keys = ("outstanding_opening", "pledged", "received", "exchange_differences", "outstanding")
    totals = {key: sum((row[key] for row in rows), ZERO) for key in keys}
    return _report(books, "contributors", "Contributors", columns, rows, as_of if period is None else period.end,
                   totals, period=period)  # fmt: skip


def pledges_report(books: Books, as_of: dt.date | None = None, year: int | None = None) -> Report:
    """Each pledge with its split, what has been received against it and what is outstanding."""
    rows = []
    for pledge in books.pledges.values():
        if year is not None and pledge.year != year:
            continue
        status = "reversed" if pledge.reversed_by else ("fulfilled" if pledge.total_outstanding == 0 else "open")
        if pledge.closed_by is not None and not pledge.reversed_by:
            status = "withdrawn" if pledge.withdrawn else "written off"
        # In the currency it was pledged in: a pound pledge's split is pounds, as `show` prints it.
        parts = pledge.original_split if pledge.foreign else pledge.split
        split = [(e or "not earmarked", a, pledge.currency or books.currency) for e, a in parts.items()]
        rows.append(
            {
                "pledge": pledge.id,
                "member": pledge.member,
                "year": pledge.year,
                "date": pledge.date,
                "split": split,
                "amount": pledge.amount,
                "received": pledge.total_received,
                "outstanding": pledge.total_outstanding,
                "closed": sum(pledge.closed.values(), ZERO),  # written off or withdrawn, in the fund's currency
                "status": status,
                "original": _original_pledge(pledge),
            }
        )
    if not any(row["closed"] for row in rows):  # no pledge closed: no column, and nothing said of it
        for row in rows:
            del row["closed"]
    columns = (
        Column("pledge", "#", "int"),
        Column("member", "Member"),
        Column("year", "Year", "int", optional=True),
        Column("date", "Date", "date", optional=True),
        Column("amount", "Pledged", "money"),
        Column("received", "Received", "money"),
        Column("outstanding", "Outstanding", "money"),
        *([Column("closed", "Closed", "money")] if any("closed" in row for row in rows) else []),
        Column("status", "Status", optional=True),
        Column("split", "Split", "split", optional=True),
        *([Column("original", "In its currency", "original")] if any(row["original"] for row in rows) else []),
    )
    summed = ("amount", "received", "outstanding", *(("closed",) if any("closed" in row for row in rows) else ()))
    totals = {key: sum((row[key] for row in rows), ZERO) for key in summed}
    title = f"Pledges for {year}" if year is not None else "Pledges"
    return _report(books, "pledges", title, columns, rows, as_of, totals)


def _original_pledge(pledge) -> dict[str, str] | None:
    """A pledge in another currency, followed in it: amounts as text with that currency's places."""
    if not pledge.foreign:
        return None
    c = pledge.currency
    return {
        "currency": c,
        "rate": str(pledge.rate),
        "amount": money.to_text(pledge.original_amount, c),
        "received": money.to_text(pledge.total_original_received, c),
        "outstanding": money.to_text(pledge.total_original_outstanding, c),
    }


def rates_report(books: Books, as_of: dt.date | None = None) -> Report:
    """The exchange rates recorded with `rate` (and how many entries were converted at each), and those typed with --rate."""
    rows = []
    for currency, known in sorted(books.rates.items()):
        for day, rate, entry_id in known:
            source = books.entry(entry_id).source if books.entry(entry_id) else ""
            rows.append(
                {"date": day, "currency": currency, "rate": str(rate), "entry": entry_id, "origin": "recorded",
                 "used_by": books.rate_uses.get(entry_id, 0), "source": source}
            )  # fmt: skip
    for day, currency, rate, entry_id in books.given_rates:
        rows.append(
            {"date": day, "currency": currency, "rate": str(rate), "entry": entry_id, "origin": "given with --rate",
             "used_by": 1, "source": ""}
        )  # fmt: skip
    rows.sort(key=lambda row: (row["currency"], row["date"], row["entry"]))
    columns = (
        Column("date", "Date", "date"),
        Column("currency", "Currency"),
        Column("rate", "Rate", "int"),
        Column("entry", "#", "int"),
        Column("origin", "Origin"),
        Column("used_by", "Used by", "int"),
        Column("source", "Source", optional=True, prose=True),
    )
    return _report(books, "rates", f"Exchange rates (in {books.currency})", columns, rows, as_of)


def _earmark_figures(books: Books) -> dict[str, dict[str, Any]]:
    committed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for package in books.packages.values():
        if package.reversed_by is not None:
            continue
        shares = money.allocate(package.paid, package.sources, books.currency) if package.paid else {}
        for source, amount in package.sources.items():
            paid[source] += shares.get(source, ZERO)
            committed[source] += amount - shares.get(source, ZERO)
    pledged = defaultdict(lambda: ZERO)
    for pledge in books.pledges.values():
        for earmark in pledge.split:
            if earmark is not None:
                pledged[earmark] += pledge.outstanding(earmark)
    figures = {}
    for name, earmark in sorted(books.earmarks.items()):
        available = books.balance(model.earmarked(name))
        figures[name] = {
            "earmark": name,
            "purpose": earmark.purpose,
            "allocated": available + committed[name] + paid[name],
            "committed": committed[name],
            "paid": paid[name],
            "available": available,
            "pledged_outstanding": pledged[name],
        }
    return figures


def earmarks_report(books: Books, as_of: dt.date | None = None, period: Period | None = None) -> Report:
    """Per earmark: allocated = committed + paid + available, and what is pledged but not yet received.

    A payment on a package drawn from several sources counts against each
    source pro rata to what it gave the package (exact to the cent). For a
    period: available at its start, what was allocated, committed and paid
    during it, and available at its end (start + allocated - committed - paid).
    """
    full, books = books, closing_books(books, period)
    closing = _earmark_figures(books)
    if period is None:
        rows = list(closing.values())
        columns = (
            Column("earmark", "Earmark"),
            Column("purpose", "Purpose", optional=True, prose=True),
            Column("allocated", "Allocated", "money"),
            Column("committed", "Committed", "money"),
            Column("paid", "Paid", "money"),
            Column("available", "Available", "money"),
            Column("pledged_outstanding", "Pledged, not received", "money"),
        )
        keys = ("allocated", "committed", "paid", "available", "pledged_outstanding")
        totals = {key: sum((row[key] for row in rows), ZERO) for key in keys}
        return _report(books, "earmarks", "Earmarks", columns, rows, as_of, totals)
    opening = _earmark_figures(opening_books(full, period))
    rows = []
    for name, now in closing.items():
        then = opening.get(name, {})
        row = {
            "earmark": name,
            "purpose": now["purpose"],
            "opening": then.get("available", ZERO),
            **{key: now[key] - then.get(key, ZERO) for key in ("allocated", "committed", "paid")},
            "available": now["available"],
            "pledged_outstanding": now["pledged_outstanding"],
        }
        if any(row[key] for key in ("opening", "allocated", "committed", "paid", "available", "pledged_outstanding")):
            rows.append(row)
    columns = (
        Column("earmark", "Earmark"),
        Column("purpose", "Purpose", optional=True, prose=True),
        Column("opening", "Available at start", "money"),
        Column("allocated", "Allocated", "money"),
        Column("committed", "Committed", "money"),
        Column("paid", "Paid", "money"),
        Column("available", "Available at end", "money"),
        Column("pledged_outstanding", "Pledged, not received", "money"),
    )
    keys = ("opening", "allocated", "committed", "paid", "available", "pledged_outstanding")
    totals = {key: sum((row[key] for row in rows), ZERO) for key in keys}
    return _report(books, "earmarks", "Earmarks", columns, rows, period.end, totals, period=period)


def _package_row(p, books: Books) -> dict[str, Any]:
    """A package's row, with the stages a tracker counts apart: committed (amount), contracted, paid, delivered."""
    contracts = [c for c in books.contracts.values() if c.package == p.name and c.reversed_by is None]
    delivered: dict[str, int] = {}
    for d in books.deliveries:
        if d.package == p.name and d.reversed_by is None:
            delivered[d.item] = delivered.get(d.item, 0) + d.quantity
    return {
        "package": p.name,
        "memo": p.memo,
        "date": p.date,
        "earmarks": list(p.sources),
        "original": p.original,
        "amount": p.amount,
        "contracted": sum((c.amount for c in contracts), ZERO),
        "paid": p.paid,
        "remaining": p.remaining,
        "delivered": [f"{quantity} {item}" for item, quantity in sorted(delivered.items())],
        "amendments": [
            {"entry": a.id, "date": a.date.isoformat(), "change": money.to_text(a.change, books.currency),
             "reason": a.reason, "close": a.close}
            for a in p.amendments
        ],
        "status": p.status,
    }


def packages_report(books: Books, as_of: dt.date | None = None, period: Period | None = None) -> Report:
    """Per package: its date, sources, amount, paid, remaining, and status (open, paid, cancelled).

    For a period: what remained to pay at its start, what was committed
    (a cancellation counts against it) and paid during it, and what remains
    at its end (start + committed - paid); packages with nothing open and
    nothing done in the period are left out.
    """
    full, books = books, closing_books(books, period)
    packages = sorted(books.packages.values(), key=lambda p: (p.date, p.id))
    columns: tuple[Column, ...] = (
        Column("package", "Package"),
        Column("memo", "Memo", optional=True, prose=True),
        Column("date", "Date", "date", optional=True),
        Column("earmarks", "From", "list", optional=True),
        Column("amount", "Amount", "money"),
        Column("paid", "Paid", "money"),
        Column("remaining", "Remaining", "money"),
        Column("status", "Status"),
    )
    if any(p.amendments for p in packages):
        columns = (*columns[:4], Column("original", "First", "money", optional=True), *columns[4:])
    if books.contracts or books.deliveries:
        columns = (*columns[:-3], Column("contracted", "Contracted", "money", optional=True), *columns[-3:],
                   Column("delivered", "Delivered", "list", optional=True))  # fmt: skip
    if period is None:
        rows = [_package_row(p, books) for p in packages]
        live = [row for row in rows if row["status"] != "cancelled"]
        totals = {key: sum((row[key] for row in live), ZERO) for key in ("amount", "paid", "remaining")}
        return _report(books, "packages", "Packages", columns, rows, as_of, totals)
    before = opening_books(full, period).packages
    rows = []
    for p in packages:
        then = before.get(p.name)
        opening = then.remaining if then else ZERO
        row = {
            **_package_row(p, books),
            "opening": opening,
            "amount": _committed(p) - (_committed(then) if then else ZERO),
            "paid": p.paid - (then.paid if then else ZERO),
        }
        if any(row[key] for key in ("opening", "amount", "paid", "remaining")):
            rows.append(row)
    columns = (
        *columns[:4],
        Column("opening", "Remaining at start", "money"),
        Column("amount", "Committed", "money"),
        Column("paid", "Paid", "money"),
        Column("remaining", "Remaining at end", "money"),
        Column("status", "Status"),
    )
    totals = {key: sum((row[key] for row in rows), ZERO) for key in ("opening", "amount", "paid", "remaining")}
    return _report(books, "packages", "Packages", columns, rows, period.end, totals, period=period)


def _committed(package) -> Decimal:
    """What a package holds committed, paid or not: nothing once it is cancelled."""
    return ZERO if package.reversed_by is not None else package.amount


def members_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Who is a member, since when and in what role; applicants with the approvals recorded so far."""
    order = {"active": 0, "pending": 1, "left": 2}
    rows = []
    for member in sorted(books.members.values(), key=lambda m: (order[m.status], m.joined or m.applied, m.name)):
        missing = books.approvals_missing(member, as_of or dt.date.max) if member.status == "pending" else []
        rows.append(
            {
                "member": member.name,
                "status": member.status,
                "role": member.role,
                "joined": member.joined,
                "applied": member.applied,
                "left": member.left,
                "approvals": sorted(member.approvals),
                "awaiting": missing if member.status == "pending" else [],
                "decision": member.decision,
            }
        )
    columns = (  # a narrow table drops optional columns from the right: left, applied, role, then awaiting
        Column("member", "Member"),
        Column("status", "Status"),
        Column("joined", "Since", "date"),
        Column("approvals", "Approved by", "list"),
        Column("awaiting", "Awaiting approval from", "list", optional=True),
        Column("role", "Role", optional=True),
        Column("applied", "Applied", "date", optional=True),
        Column("left", "Left", "date", optional=True),
    )
    return _report(books, "members", "Members", columns, rows, as_of)


@dataclass(frozen=True)
class RegisterFilter:
    """Which entries a register lists. Dates select by each entry's own date; the rest select an entry
    together with its reversal (or the entry a reversal undoes), so that every filtered total is the books'."""

    account: str | None = None
    member: str | None = None
    earmark: str | None = None
    package: str | None = None
    kind: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    supplier: str | None = None

    def matches(self, entry: Entry, books: Books) -> bool:
        """Whether the entry itself answers every filter but the dates (see `selected` for reversals)."""
        accounts = [p.account for p in entry.postings]
        if self.account and not any(_under(a, self.account) for a in accounts):
            return False
        if self.member:
            found = books.member(self.member)
            names = {entry.get("member"), entry.get("by")}
            if found is None or found.name not in names:
                return False
        if self.earmark and not (
            entry.get("earmark") == self.earmark
            or self.earmark in (entry.get("split") or {})
            or any(
                a.split(":")[-1] == self.earmark and a.startswith(("assets:fund:earmarked", "assets:receivable"))
                for a in accounts
            )
        ):
            return False
        if self.package and entry.get("package") != self.package:
            return False
        if self.supplier:  # register_report has checked that it names a supplier
            contract = books.contract(entry.get("contract")) if entry.get("contract") else None
            named = entry.get("supplier") or (contract.supplier if contract else None)
            if not named or supplier_key(named) != supplier_key(self.supplier):
                return False
        return not (self.kind and entry.kind != self.kind)

    def within(self, entry: Entry) -> bool:
        return not (self.start and entry.date < self.start) and not (self.end and entry.date > self.end)


# Accounts a fund has from its first entry on, whether or not anything was posted to them yet.
_CHART = (model.UNALLOCATED, model.EARMARKED, model.COMMITTED, model.RECEIVABLE, model.CONTRIBUTIONS,
          model.PACKAGE_EXPENSES, model.EXCHANGE, model.INTEREST, model.BANK_CHARGES, model.MANAGEMENT_FEE,
          model.WRITE_OFFS)  # fmt: skip


def check_names(
    books: Books,
    *,
    member: str | None = None,
    earmark: str | None = None,
    package: str | None = None,
    supplier: str | None = None,
    account: str | None = None,
) -> None:
    """Refuse a report filter naming a member, earmark, package, supplier or account the books do not hold.

    A misspelt filter would otherwise print "nothing to show", which reads
    as an answer; the refusal names the closest known name instead.
    """
    if member and books.member(member) is None:
        _refuse_unknown("member", member, [m.name for m in books.members.values()])
    if earmark and earmark not in books.earmarks:
        _refuse_unknown("earmark", earmark, books.earmarks)
    if package and package not in books.packages:
        _refuse_unknown("package", package, books.packages)
    if supplier and books.supplier(supplier) is None:
        _refuse_unknown("supplier", supplier, [s.name for s in books.suppliers.values()])
    if account:
        known = {*books.balances, *_CHART, *(f"{model.EARMARKED}:{name}" for name in books.earmarks)}
        known |= {f"{root}:{name}" for name in books.packages for root in (model.COMMITTED, model.PACKAGE_EXPENSES)}
        known |= {f"{root}:{m.slug}" for m in books.members.values() for root in (model.CONTRIBUTIONS, model.RECEIVABLE)}
        parents = {":".join(name.split(":")[:depth]) for name in known for depth in range(1, name.count(":") + 2)}
        if account.rstrip(":") not in parents:
            _refuse_unknown("account", account, parents)


def _refuse_unknown(what: str, name: str, known) -> None:
    listing = "balance" if what == "account" else f"{what}s"  # the report that lists the names
    near = did_you_mean(name, known, cutoff=0.6)
    raise Refused(f"there is no {what} {name!r}{near or f'; `fundledger report {listing}` lists them'}")


def selected(books: Books, spec: RegisterFilter) -> set[int]:
    """The ids of the entries the filter selects, whatever their date: those that match it, and their partners.

    A reversal is selected with the entry it undoes and the other way round,
    so that a register of Belgium's receipts shows the receipt and its
    reversal, and adds up to what the books hold.
    """
    ids = {entry.id for entry in books.entries if spec.matches(entry, books)}
    partners = set()
    for entry in books.entries:
        undone = entry.get("reverses") if entry.kind == "reverse" else None
        if undone in ids or (entry.id in ids and undone is not None):
            partners.add(entry.id)
            partners.add(undone)
    return ids | partners


def register_report(
    books: Books, spec: RegisterFilter, as_of: dt.date | None = None, period: Period | None = None
) -> Report:
    """The entries, oldest first (by date, then id), each with its amount, a reversal's signed the other way.

    With --account, each row has the change to that account (and those below
    it) and the running balance; a register that starts after the first entry
    opens with the balance the earlier entries left, so the running balance
    is the account's true balance.

    The entries are found through the books' indexes (`ledger.index`) and only
    those shown are read: the same rows as a scan of every entry
    (`scanned_ids`). The whole register, unfiltered, is a `Rows` that reads
    its entries one at a time as it is iterated, so that it streams.
    """
    if spec.supplier and books.supplier(spec.supplier) is None:
        near = did_you_mean(spec.supplier, (s.name for s in books.suppliers.values()), cutoff=0.6)
        raise BadInput(f"there is no supplier {spec.supplier!r}{near}")
    if period is not None:
        spec = dataclasses.replace(spec, start=period.start, end=period.end)
        as_of = period.end
        books = closing_view(books, period.end) if period.end else books
    index = books.index
    until = period.end if period is not None else None
    everything = not _filtered(spec) and spec.start is None and spec.end is None
    running = ZERO
    opening = None
    if spec.account and spec.start:
        running = _opening(books, spec, until)
        opening = {"date": spec.start, "running_balance": running}
    if everything:
        rows: Any = Rows(books, index.in_order(index.between(None, None)), spec.account, running)
    elif _filtered(spec):
        read: dict[int, Entry] = {}  # the entries read to match the filter, shown without reading them again
        ids = registered_ids(books, spec, _within(spec, books), until, read)
        undone = _read_all(books, ids, read)
        rows = tuple(_rows(books, spec, ids, running, read, undone))
    else:  # by dates alone (a month's register): the ids from the index, their rows as kept (`Books.rows`)
        ids = registered_ids(books, spec, _within(spec, books), until)
        made = books.rows(ids, functools.partial(_register_rows, books), REGISTER_ROWS)
        rows = tuple(_linked(books, made[entry_id]) for entry_id in ids)
        undone = books.read(row["reverses"] for row in rows if row["reverses"] is not None)
    columns = [
        Column("id", "#", "int"),
        Column("date", "Date", "date"),
        Column("kind", "Kind"),
        Column("what", "What", "words"),
    ]
    if spec.account:
        columns += [Column("change", "Change", "money"), Column("running_balance", "Balance", "money")]
    else:
        columns.append(Column("amount", "Amount", "money"))
    # The amount given in another currency is a figure (never dropped); a narrow table drops the reversal
    # links first (the Kind and the sign still mark a reversal), then the memo.
    if (index.given if everything else any(row["given"] for row in rows)):
        columns.append(Column("given", "Given as"))
    columns.append(Column("words", "Memo", optional=True, prose=True))
    if (bool(index.reversals) if everything else any(row["link"] for row in rows)):
        columns.append(Column("link", "Reversal", optional=True))
    title = f"Register of {spec.account}" if spec.account else "Register"
    hidden = ("what", "given", "link", "words")
    # A total only where adding up means something: rows that all move money of one kind (a reversal
    # counted as the kind it undoes), such as a member's receipts or a package's payments.
    if everything:
        moved = {kind: amount for kind, amount in index.moving.items()}
        totals = {"amount": next(iter(moved.values()))} if len(moved) == 1 and not spec.account else {}
    else:
        moving = [row for row in rows if row["amount"] is not None]
        kinds = {undone[row["reverses"]].kind if row["reverses"] else row["kind"] for row in moving}
        totals = {"amount": sum((row["amount"] for row in moving), ZERO)} if len(kinds) == 1 and not spec.account else {}
    return _report(
        books, "register", title, columns, rows, as_of, totals, hidden=hidden, period=period, opening=opening
    )


class Rows:
    """The rows of a whole register, read from the journal one entry at a time each time they are iterated.

    Its length is known before any entry is read; its rows never all sit in
    memory, so `report register | head` stops after a few entries.
    """

    def __init__(self, books: Books, ids: list[int], account: str | None, opening: Decimal) -> None:
        self.books, self.ids, self.account, self.opening = books, ids, account, opening

    def __iter__(self) -> Iterator[dict[str, Any]]:
        spec = RegisterFilter(account=self.account)
        self.books.expect(None)  # every entry, file by file
        return _rows(self.books, spec, self.ids, self.opening)

    def __len__(self) -> int:
        return len(self.ids)

    def __bool__(self) -> bool:
        return bool(self.ids)

    def widest(self) -> dict[str, Any]:
        """The widest value its id, kind, amount and link columns can hold, known before any row is read."""
        index, last = self.books.index, max(self.ids, default=0)
        return {"id": last, "kind": max(index.ids["kind"], key=len, default=""), "amount": -index.largest,
                "link": f"reversed by #{last}"}  # fmt: skip

    def tables(self) -> list[str]:
        """The keys whose values are lists of tables (the postings), which a CSV leaves out."""
        return ["postings"]

    def fields(self) -> list[str]:
        """Every key any row has, in the order the rows first have them (a CSV's header), known before any is read.

        A row is its entry's JSON (`model.to_json`: the common fields, the
        kind's own in order, postings, chain) and the register's fields; the
        index knows which entry, by date, first has each of the kinds' fields.
        """
        if not self.ids:
            return []
        index = self.books.index
        first = (index.dates[self.ids[0] - 1], self.ids[0])
        fields = index.field_order()
        own = [f for f in fields if index.fields[f][:2] == first]
        later = [f for f in fields if index.fields[f][:2] != first]
        common = ["id", "date", "recorded_at", "kind", "memo", "source"]
        register = ["postings", "prev", "hash", "what", "words", "given", "link", "amount", "reverses", "reversed_by"]
        return list(dict.fromkeys([*common, *own, *register, *later]))

    def __eq__(self, other: object) -> bool:
        """The same rows (read again), as another `Rows` or a tuple of them."""
        return isinstance(other, Rows | tuple | list) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


def _rows(
    books: Books,
    spec: RegisterFilter,
    ids: Iterable[int],
    running: Decimal,
    read: dict[int, Entry] | None = None,
    undone: Mapping[int, Entry] | None = None,
) -> Iterator[dict[str, Any]]:
    """A register's rows for the entries `ids` (in the order given), with running balances from `running`.

    `read`: entries already read, by id (each is taken from it, not read again); `undone`: the entries
    their reversals undo, read already (`_read_all`).
    """
    read = {} if read is None else read
    for entry_id in ids:
        entry = read.pop(entry_id, None) or books.entry(entry_id)
        row = model.to_json(entry)
        row.update(_register_fields(books, entry, undone))
        if spec.account:
            change = _change(entry, spec.account)
            running += change
            row["change"], row["running_balance"] = change, running
        yield row


def closing_view(books: Books, end: dt.date) -> Books:
    """The books as a register as of `end` sees them: its entry count, seal and reversals, found by the index.

    Not the books at `end` (balances, pledges and packages are today's): only
    what a register reads, without replaying every entry up to `end`.
    """
    count, last = books.index.count_to(end)
    view = copy.copy(books)
    view.count, view.last_id = count, last
    view.seal = books.entry(last).hash if last else model.GENESIS
    bound = end.toordinal()
    dates = books.index.dates
    view.reversed_by = {k: v for k, v in books.reversed_by.items() if dates[v - 1] <= bound}
    return view


def _filtered(spec: RegisterFilter) -> bool:
    """Whether the filter selects by anything but dates."""
    return any((spec.account, spec.member, spec.earmark, spec.package, spec.kind, spec.supplier))


class _Window:
    """The days a register shows, as ordinals (`low` to `high`, both held): whether an entry id is dated within
    them is found by the index, nothing read."""

    def __init__(self, dates: Sequence[int], low: int, high: int) -> None:
        self.dates, self.low, self.high = dates, low, high

    def __call__(self, entry_id: int) -> bool:
        return self.low <= self.dates[entry_id - 1] <= self.high


def _within(spec: RegisterFilter, books: Books) -> _Window:
    """The filter's dates as a window on the books' entry ids."""
    low = spec.start.toordinal() if spec.start else ABSENT + 1  # an id the books lack is in no window
    return _Window(books.index.dates, low, spec.end.toordinal() if spec.end else dt.date.max.toordinal())


def registered_ids(
    books: Books,
    spec: RegisterFilter,
    window: _Window,
    until: dt.date | None = None,
    read: dict[int, Entry] | None = None,
) -> list[int]:
    """The ids a register with `spec` lists among those in `window`, in register order, read through the index.

    What `scanned_ids` finds by reading every entry, found by reading only the
    entries an index names: those matching the filter, with their reversals
    and the entries they reverse (`selected`), that `window` holds. With
    `until` (a closing view), entries dated after it do not exist. The
    entries read that `window` holds are put in `read`, by id.
    """
    index = books.index
    known = _known(books, until)
    if not _filtered(spec):
        ids = index.between(spec.start, spec.end) if spec.start or spec.end else range(1, books.count + 1)
        return index.in_order(i for i in ids if known(i) and window(i))
    # Each id's date looked up in place, not through `known` and `window` (a member's tens of thousands).
    dates, low, high = index.dates, window.low, window.high
    bound = until.toordinal() if until else dt.date.max.toordinal()
    candidates = {i for i in _candidates(books, spec) if ABSENT != dates[i - 1] <= bound}
    undoes: dict[int, int] = {}  # each reversal the books hold -> the entry it undoes
    partnered = set()  # the entries undone by a reversal in the window
    for undone, reversals in index.reversals.items():
        for reversal in reversals:
            if ABSENT != dates[reversal - 1] <= bound:
                undoes[reversal] = undone
                if low <= dates[reversal - 1] <= high:
                    partnered.add(undone)
    to_read = {
        i for i in candidates
        if low <= dates[i - 1] <= high or i in partnered or (i in undoes and low <= dates[undoes[i] - 1] <= high)
    }  # fmt: skip
    read = {} if read is None else read
    matched = set()
    for entry_id, entry in books.read(to_read).items():  # in id order: a journal file's entries read together
        if spec.matches(entry, books):
            matched.add(entry_id)
            if window(entry_id):
                read[entry_id] = entry
    ids = set(matched)
    for entry_id in matched:
        ids.update(r for r in index.reversals.get(entry_id, ()) if known(r))
        if entry_id in undoes:
            ids.add(undoes[entry_id])
    return index.in_order(i for i in ids if window(i))


def _known(books: Books, until: dt.date | None) -> Callable[[int], bool]:
    """Whether an entry id is among the books' (books as of a day skip ids; a closing view ends at `until`)."""
    dates = books.index.dates
    bound = until.toordinal() if until else None
    return lambda entry_id: dates[entry_id - 1] != ABSENT and (bound is None or dates[entry_id - 1] <= bound)


def _candidates(books: Books, spec: RegisterFilter) -> set[int]:
    """Every entry that may match `spec` (and perhaps a few that do not): the indexes of its filters, intersected."""
    index = books.index
    found: list[set[int]] = []
    if spec.account:
        found.append({i for a in index.accounts_under(spec.account) for i in index.named("account", a)})
    if spec.member:
        member = books.member(spec.member)
        found.append(set(index.named("member", member.slug)) if member else set())
    if spec.earmark:
        found.append(set(index.named("earmark", spec.earmark)))
    if spec.package:
        found.append(set(index.named("package", spec.package)))
    if spec.kind:
        found.append(set(index.named("kind", spec.kind)))
    if spec.supplier:
        key = supplier_key(spec.supplier)
        by_contract = (c for c in books.contracts.values() if supplier_key(c.supplier) == key)
        found.append(set(index.named("supplier", key)).union(*(index.named("contract", model.slug(c.ref)) for c in by_contract)))
    return set.intersection(*found)


def _opening(books: Books, spec: RegisterFilter, until: dt.date | None) -> Decimal:
    """The balance of `spec.account` that the register's earlier entries left (those its filter selects)."""
    before = dataclasses.replace(spec, start=None, end=spec.start - dt.timedelta(days=1))
    if _filtered(dataclasses.replace(spec, account=None)):
        window = _within(before, books)
        ids = registered_ids(books, spec, window, until)
        return sum((_change(entry, spec.account) for entry in books.read(ids).values()), ZERO)
    total, partial = books.index.change_before(books.index.accounts_under(spec.account), spec.start)
    return total + sum((_change(entry, spec.account) for entry in books.read(partial).values()), ZERO)


def scanned_ids(books: Books, spec: RegisterFilter) -> list[int]:
    """The ids a register lists, found by reading every entry (what the indexes must agree with)."""
    ids = selected(books, spec)
    return [e.id for e in sorted(books.entries, key=lambda e: (e.date, e.id)) if e.id in ids and spec.within(e)]


def _register_rows(books: Books, entries: list[Entry]) -> list[dict[str, Any]]:
    """The entries' register rows as no later entry changes them, so that they can be kept (`Books.rows`): each
    entry's JSON and `_register_fields`, without the reversal that may undo it (`_linked` adds that)."""
    undone = _undone(books, entries)
    missing = {entry.get("reverses") for entry in entries if entry.kind == "reverse"} - set(undone)
    if missing:  # a reversal's row made without what it undoes would be kept wrong, and shown ever after
        raise LookupError(f"these books do not hold entries #{min(missing)} and others their reversals undo")
    rows = []
    for entry in entries:
        row = model.to_json(entry)
        row.update(_register_fields(books, entry, undone))
        row["reversed_by"] = None
        if row["reverses"] is None:
            row["link"] = ""
        rows.append(row)
    return rows


def _linked(books: Books, kept: dict[str, Any]) -> dict[str, Any]:
    """A row of `_register_rows` (a copy), with the reversal that undoes its entry in these books, if any."""
    row = dict(kept)
    reversal = row["reversed_by"] = books.reversed_by.get(row["id"])
    if row["reverses"] is None and reversal is not None:
        row["link"] = f"reversed by #{reversal}"
    return row


def _read_all(books: Books, ids: Iterable[int], read: dict[int, Entry]) -> dict[int, Entry]:
    """Read into `read` the entries `ids` it does not hold yet, in id order (not a register's: a journal file's
    entries one after another); return the entries their reversals undo, by id, read the same way."""
    read.update(books.read(i for i in ids if i not in read))
    return _undone(books, read.values())


def _undone(books: Books, entries: Iterable[Entry]) -> dict[int, Entry]:
    """The entries the reversals among `entries` undo, by id, read together."""
    return books.read(entry.get("reverses") for entry in entries if entry.kind == "reverse")


def _register_fields(books: Books, entry: Entry, read: Mapping[int, Entry] | None = None) -> dict[str, Any]:
    """What a register row adds to the entry: words for the table, the signed amount, the reversal links.

    `read`: entries already read, by id (the one a reversal undoes is taken from it when it is there).
    """
    undone = None
    if entry.kind == "reverse":
        undone = (read or {}).get(entry.get("reverses")) or books.entry(entry.get("reverses"))
    reversal = books.reversed_by.get(entry.id)
    given = model.given_as(entry)  # the rounding in plain sight: the amount given and its rate
    if undone is not None:
        amount = -model.size(undone) if undone.postings else None  # the other way, by what the entry moved
        what = f"#{undone.id} {undone.kind} {model.subject(undone)} of {undone.date.isoformat()}"
        link = f"reverses #{undone.id}"
        given = model.given_as(undone)
    else:
        amount = model.size(entry) if entry.postings else None
        what = model.subject(entry)
        link = f"reversed by #{reversal}" if reversal is not None else ""
    words = entry.memo if undone is None else " · ".join(part for part in (entry.get("reason"), entry.memo) if part)
    return {
        "what": what,
        "words": words,  # the memo, after a reversal's reason
        "given": f"{'-' if undone is not None else ''}{given}" if given else "",
        "link": link,
        "amount": amount,
        "reverses": entry.get("reverses") if entry.kind == "reverse" else None,
        "reversed_by": reversal,
    }


def _change(entry: Entry, account: str) -> Decimal:
    return sum((p.amount for p in entry.postings if _under(p.account, account)), ZERO)


def _under(account: str, prefix: str) -> bool:
    return account == prefix or account.startswith(prefix + ":")


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """A share in per cent, rounded once, half-even, to two places (shares are shown, never summed)."""
    if whole <= 0:  # nothing received (or, in a period, more taken back than received): no shares to show
        return None
    with money.rounding():
        return (part * 100 / whole).quantize(Decimal("0.01"))


_ROOTS = ("assets", "liabilities", "equity", "income", "expenses")


def _tree_key(account: str) -> tuple:
    parts = account.split(":")
    root = _ROOTS.index(parts[0]) if parts[0] in _ROOTS else len(_ROOTS)
    return (root, parts)


# --- one column per period ---------------------------------------------------

# For each report that takes --yearly/--quarterly/--monthly: its row key and the flow its columns show.
_BY_PERIOD = {
    "balance": ("account", "change", "Changes"),
    "contributors": ("member", "received", "Received"),
    "earmarks": ("earmark", "allocated", "Allocated"),
    "packages": ("package", "paid", "Paid"),
}


def spans(period: Period, every: str) -> list[Period]:
    """The years, quarters or months that `period` (both ends known) falls in, cut to its own first and last day."""
    months = {"yearly": 12, "quarterly": 3, "monthly": 1}[every]
    found = []
    day = period.start
    while day <= period.end:
        first = dt.date(day.year, (day.month - 1) // months * months + 1, 1)
        last_month = first.month + months - 1
        last = _month_end(dt.date(first.year, last_month, 1))
        found.append(Period(max(first, period.start), min(last, period.end)))
        day = last + dt.timedelta(days=1)
    return found


def by_period_report(books: Books, name: str, every: str, period: Period | None = None) -> Report:
    """One column per year, quarter or month of `period` (else of the books' first to last entry): for
    `balance` each account's change, for `contributors` what each member's gave, for `earmarks` what was
    allocated to each, for `packages` what was paid on each; the last column is the whole period's.
    """
    key, figure, what = _BY_PERIOD[name]
    build = {
        "balance": balance_report,
        "contributors": lambda b, a, p: contributors_report(b, a, period=p),
        "earmarks": earmarks_report,
        "packages": packages_report,
    }[name]
    dates = [entry.date for entry in books.entries]
    start = period.start if period and period.start else min(dates, default=dt.date.today())
    end = period.end if period and period.end else max(dates, default=dt.date.today())
    whole = Period(start, end)
    global _DAYS
    _DAYS = OrderedDict()
    try:
        overall = build(books, None, whole)
        parts = [(span, build(books, None, span)) for span in spans(whole, every)]
    finally:
        _DAYS = None
    labels = [_span_label(span, every) for span, _ in parts]
    rows = []
    for row in overall.rows:
        out: dict[str, Any] = {key: row[key]}
        for label, (_, report) in zip(labels, parts, strict=True):
            found = next((r for r in report.rows if r[key] == row[key]), None)
            out[label] = found[figure] if found else ZERO
        out["total"] = row[figure]
        rows.append(out)
    columns = (
        overall.columns[0],
        *(Column(label, label, "money") for label in labels),
        Column("total", "Total", "money"),
    )
    totals = {}
    if name != "balance":  # a balance's changes always add up to nothing
        totals = {c.key: sum((r[c.key] for r in rows), ZERO) for c in columns[1:]}
    title = f"{what} by {_EVERY_WORD[every]}"
    report = _report(books, name, title, columns, rows, end, totals, period=whole)
    return dataclasses.replace(report, entries=overall.entries, seal=overall.seal, spans=tuple(s for s, _ in parts))


_EVERY_WORD = {"yearly": "year", "quarterly": "quarter", "monthly": "month"}


def _span_label(span: Period, every: str) -> str:
    """The column's name: 2025, 2025Q2 or 2025-04 (a part-period is named after the whole it is part of)."""
    if every == "yearly":
        return str(span.start.year)
    if every == "quarterly":
        return f"{span.start.year}Q{(span.start.month - 1) // 3 + 1}"
    return f"{span.start.year}-{span.start.month:02d}"


# --- a member's statement ----------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """What a member state's ministry files: its position at the start and end of a period, each pledge and
    receipt in between (in the currency given and in the fund's, with the rate), exchange differences, and
    the packages that the earmarks its money went to funded, with what was paid on each."""

    ledger: str
    currency: str
    member: str
    status: str
    as_of: dt.date | None
    period: Period | None
    entries: int
    seal: str
    opening: dict[str, Decimal]  # pledged, received, outstanding (all zero for a statement from the beginning)
    closing: dict[str, Decimal]
    exchange_differences: Decimal  # during the period
    lines: tuple[dict[str, Any], ...]  # id, date, kind, what, currency, given, rate, amount (fund's), ...
    earmarked: dict[str, Decimal]  # earmark -> what the member's receipts put in it (as they stand at the end)
    funded: tuple[dict[str, Any], ...]  # earmark, package, date, amount (from that earmark), paid (its share), status
    # By the tracing rule (docs/FORMAT.md): each package its own money went to, paid or not, and what of its
    # money is not yet spent, per envelope (`funding_report` rows for the member).
    bought: tuple[dict[str, Any], ...] = ()


def statement_report(
    books: Books, member: str, as_of: dt.date | None = None, period: Period | None = None
) -> Statement:
    """MEMBER's statement for `period` (or for everything up to `as_of`).

    Where the money went is stated by earmark, the rule the fund keeps: the
    packages drawn from each earmark the member's receipts went to, with
    each package's amount from that earmark and the part of its payments
    that falls on the earmark (pro rata, exact to the cent). Other members'
    money in the same earmark funded the same packages.
    """
    check_names(books, member=member)
    found = books.member(member)
    closing_at = closing_books(books, period)
    span = period or Period(None, as_of)
    if found.name not in closing_at.members:  # as `--as-of` a day before it is refused: no statement to make
        raise Refused(f"{found.name} is not in the books by {span.end}: its first entry is dated after that")
    keys = ("pledged", "received", "outstanding")
    zero = dict.fromkeys((*keys, "exchange_differences"), ZERO)
    closing = dict(_member_figures(closing_at, found.name).get(found.name, zero))
    # The opening books from the whole books, not from the closing ones: the same entries (the period starts
    # before it ends), and found from a mark instead of replayed.
    opening = dict(_member_figures(opening_books(books, span), found.name).get(found.name, zero) if span.start else zero)
    closing["overdue"] = overdue_value(closing_at, span.end or dt.date.today(), found.name)
    opening["overdue"] = (
        overdue_value(closing_at, span.start - dt.timedelta(days=1), found.name) if span.start else ZERO
    )
    # The member's entries of the period and their reversals, found through the index: only they are read.
    spec = RegisterFilter(member=found.name, start=span.start)
    read: dict[int, Entry] = {}
    ids = registered_ids(closing_at, spec, _within(spec, closing_at), read=read)
    undone_by_id = _read_all(closing_at, ids, read)
    lines = []
    for entry in (read[entry_id] for entry_id in ids):
        if not entry.postings:
            continue
        fields = _register_fields(closing_at, entry, undone_by_id)
        undone = undone_by_id[entry.get("reverses")] if entry.kind == "reverse" else None
        given = model.given_as(undone or entry)
        sign = -1 if undone is not None else 1
        lines.append(
            {
                "id": entry.id,
                "date": entry.date,
                "kind": entry.kind,
                "what": fields["what"],
                "currency": given.currency if given else closing_at.currency,
                "given": sign * given.amount if given else fields["amount"],
                "rate": str(given.rate) if given else None,
                "amount": fields["amount"],
                # a receipt against a pledge in another currency: its gain (+) or loss (-) on the pledge's value
                "exchange_difference": -sum(
                    (p.amount for p in entry.postings if _under(p.account, model.EXCHANGE)), ZERO
                ),
                "reverses": fields["reverses"],
                "reversed_by": fields["reversed_by"],
            }
        )
    earmarked = closing_at.members[found.name].earmarked  # what its receipts not reversed put in each earmark
    funded = []
    for package in sorted(closing_at.packages.values(), key=lambda p: (p.date, p.id)):
        drawn = [e for e in package.sources if e in earmarked]
        if not drawn or package.reversed_by is not None:
            continue
        shares = money.allocate(package.paid, package.sources, closing_at.currency) if package.paid else {}
        for earmark in drawn:
            funded.append(
                {
                    "earmark": earmark,
                    "package": package.name,
                    "date": package.date,
                    "amount": package.sources[earmark],
                    "paid": shares.get(earmark, ZERO),
                    "status": package.status,
                }
            )
    return Statement(
        ledger=closing_at.name,
        currency=closing_at.currency,
        member=found.name,
        status=found.status,
        as_of=span.end,
        period=period,
        entries=closing_at.count,
        seal=closing_at.seal,
        opening={k: opening[k] for k in (*keys, "overdue")},
        closing={k: closing[k] for k in (*keys, "overdue")},
        exchange_differences=closing["exchange_differences"] - opening["exchange_differences"],
        lines=tuple(lines),
        earmarked=dict(sorted(earmarked.items())),
        funded=tuple(funded),
        bought=funding_report(closing_at, span.end, member=found.name).rows,
    )


# --- what the money bought (issue 16) and a real year's closes and due dates (issue 15) ----------


def funding_report(
    books: Books,
    as_of: dt.date | None = None,
    *,
    member: str | None = None,
    package: str | None = None,
    period: Period | None = None,
) -> Report:
    """Who funded each package, and how much: what each member's money committed to it (paid or not yet).

    By the tracing rule of docs/FORMAT.md. With `member`, each package that
    member's money went to, and what of its money is not yet spent, per
    envelope (`package` then names the envelope, `status` is `unspent`).
    For a period: `amount` and `paid` are what changed during it,
    `not_yet_paid` what is held at its end; rows with none of them are left out.
    """
    check_names(books, member=member, package=package)
    return _funding_report(books, as_of, member=member, package=package, period=period)


def _funding_report(
    books: Books,
    as_of: dt.date | None = None,
    *,
    member: str | None = None,
    package: str | None = None,
    period: Period | None = None,
) -> Report:
    """`funding_report` once its names are checked (a period's opening books may not hold them yet)."""
    if period is not None:
        closing = closing_books(books, period)
        end = _funding_report(closing, member=member, package=package)
        start = _funding_report(opening_books(books, period), member=member, package=package)
        before = {(r["package"], r["member"]): r for r in start.rows}
        after = {(r["package"], r["member"]) for r in end.rows}
        gone = [  # held at the start, nothing at the end (an envelope spent out, a package cancelled)
            {**r, "amount": ZERO, "paid": ZERO, "not_yet_paid": ZERO} for key, r in before.items() if key not in after
        ]
        rows = []
        for row in [*end.rows, *gone]:
            then = before.get((row["package"], row["member"]), {})
            row = {**row, "amount": row["amount"] - then.get("amount", ZERO), "paid": row["paid"] - then.get("paid", ZERO)}
            if any(row[key] for key in ("amount", "paid", "not_yet_paid")):
                rows.append(row)
        totals = {key: sum((row[key] for row in rows), ZERO) for key in ("amount", "paid", "not_yet_paid")}
        return _report(closing, "funding", "Who funded what", end.columns, rows, period.end, totals, period=period)
    names = {m.slug: m.name for m in books.members.values()}
    wanted = books.member(member).slug if member and books.member(member) else (model.slug(member) if member else None)
    funding = books.funding
    # Each package's committed accounts (its own and any below it), found in one pass over the accounts.
    envelopes: dict[str, list[str]] = defaultdict(list)
    for account in books.balances:
        if account.startswith(model.COMMITTED + ":"):
            envelopes[account[len(model.COMMITTED) + 1 :].partition(":")[0]].append(account)
    rows = []
    for name, p in sorted(books.packages.items(), key=lambda item: (item[1].date, item[1].id)):
        if package and name != package:
            continue
        if wanted:  # one member's amounts, looked up alone (a member's money is in thousands of packages)
            shares = [funding.owned(account, wanted) for account in envelopes.get(name, ())]
            paid = funding.spent_by(name, wanted)
            funded = {wanted: (paid, sum(shares, ZERO))} if paid or any(shares) else {}
        else:
            held: dict[str, Decimal] = {}
            for account in envelopes.get(name, ()):
                for owner, amount in funding.of(account).items():
                    held[owner] = held.get(owner, ZERO) + amount
            spent = {o: a for o, a in funding.spent.get(name, {}).items() if a}
            funded = {owner: (spent.get(owner, ZERO), held.get(owner, ZERO)) for owner in sorted(set(held) | set(spent))}
        for owner, (paid, unpaid) in funded.items():
            rows.append({"package": name, "member": names.get(owner, owner), "amount": paid + unpaid,
                         "paid": paid, "not_yet_paid": unpaid, "status": p.status})  # fmt: skip
    if wanted and not package:
        for account in sorted(books.balances):
            if account == model.UNALLOCATED or account.startswith(model.EARMARKED + ":"):
                share = funding.owned(account, wanted)
                if share:
                    envelope = "unallocated" if account == model.UNALLOCATED else account.rsplit(":", 1)[1]
                    rows.append({"package": envelope, "member": names.get(wanted, wanted), "amount": share,
                                 "paid": ZERO, "not_yet_paid": share, "status": "unspent"})  # fmt: skip
    columns = (
        Column("package", "Package"),
        Column("member", "Member"),
        Column("amount", "Funded", "money"),
        Column("paid", "Paid", "money"),
        Column("not_yet_paid", "Not yet paid", "money", optional=True),
        Column("status", "Status", optional=True),
    )
    totals = {key: sum((row[key] for row in rows), ZERO) for key in ("amount", "paid", "not_yet_paid")}
    return _report(books, "funding", "Who funded what", columns, rows, as_of, totals)


def suppliers_report(books: Books, as_of: dt.date | None = None, period: Period | None = None) -> Report:
    """Per supplier: its country, its contracts, what they are for, what was paid to it, what is left.

    For a period: what was left to pay at its start, what was contracted
    (amendments and cancellations count against it) and paid during it, and
    what is left at its end; suppliers with nothing open and nothing done in
    the period are left out.
    """
    full, books = books, closing_books(books, period)

    def totals_of(of: Books) -> dict[str, tuple[Decimal, Decimal]]:
        held: dict[str, tuple[Decimal, Decimal]] = {}
        for c in of.contracts.values():
            if c.reversed_by is None:
                contracted, paid = held.get(c.supplier, (ZERO, ZERO))
                held[c.supplier] = (contracted + c.amount, paid + c.paid)
        return held

    now = totals_of(books)
    then = totals_of(opening_books(full, period)) if period is not None else {}
    rows = []
    for supplier in sorted(books.suppliers.values(), key=lambda s: s.name.casefold()):
        contracts = [c for c in books.contracts.values() if c.supplier == supplier.name and c.reversed_by is None]
        contracted, paid = now.get(supplier.name, (ZERO, ZERO))
        before_contracted, before_paid = then.get(supplier.name, (ZERO, ZERO))
        row = {"supplier": supplier.name, "country": supplier.country, "number": supplier.number,
               "contracts": [c.ref for c in contracts], "opening": before_contracted - before_paid,
               "contracted": contracted - before_contracted, "paid": paid - before_paid,
               "remaining": contracted - paid}  # fmt: skip
        if period is None or any(row[key] for key in ("opening", "contracted", "paid", "remaining")):
            rows.append(row)
    columns: tuple[Column, ...] = (
        Column("supplier", "Supplier"),
        Column("country", "Country", optional=True),
        Column("number", "Registration", optional=True),
        Column("contracts", "Contracts", "list", optional=True),
        Column("contracted", "Contracted", "money"),
        Column("paid", "Paid", "money"),
        Column("remaining", "Remaining", "money"),
    )
    if period is None:
        for row in rows:
            del row["opening"]
        totals = {key: sum((row[key] for row in rows), ZERO) for key in ("contracted", "paid", "remaining")}
        return _report(books, "suppliers", "Suppliers", columns, rows, as_of, totals)
    columns = (*columns[:4], Column("opening", "Left at start", "money"), columns[4], columns[5],
               Column("remaining", "Left at end", "money"))  # fmt: skip
    totals = {key: sum((row[key] for row in rows), ZERO) for key in ("opening", "contracted", "paid", "remaining")}
    return _report(books, "suppliers", "Suppliers", columns, rows, period.end, totals, period=period)


def deliveries_report(books: Books, as_of: dt.date | None = None, period: Period | None = None) -> Report:
    """What was delivered: by package, item, recipient and date (reversed deliveries left out; during
    `period`, if given)."""
    rows = [
        {
            "date": d.date, "package": d.package, "item": d.item, "quantity": d.quantity,
            "contract": d.contract or None, "recipient": d.recipient or None, "value": d.value, "entry": d.id,
        }
        for d in sorted(books.deliveries, key=lambda d: (d.date, d.id))
        if d.reversed_by is None and (period is None or period.holds(d.date))
    ]
    columns = (
        Column("date", "Date", "date"),
        Column("package", "Package"),
        Column("item", "Item"),
        Column("quantity", "Quantity", "int"),
        Column("contract", "Contract", optional=True),
        Column("recipient", "To", optional=True),
        Column("value", "Value", "money", optional=True),
    )
    if period is not None:
        return _report(books, "deliveries", "Deliveries", columns, rows, period.end, period=period)
    return _report(books, "deliveries", "Deliveries", columns, rows, as_of)


def closes_report(books: Books, as_of: dt.date | None = None) -> Report:
    """The closed periods: when, by which entry, the seal of their end, and whether reopened."""
    rows = [
        {
            "period": c.period, "start": c.start, "end": c.end, "closed": c.date, "close": c.id, "seal": c.seal,
            "seal_shown": c.seal[:12], "reopened_by": c.reopened_by,
        }
        for c in sorted(books.closes.values(), key=lambda c: (c.start, c.id))
    ]
    columns = (
        Column("period", "Period"),
        Column("start", "From", "date", optional=True),
        Column("end", "To", "date"),
        Column("closed", "Closed on", "date"),
        Column("close", "Entry", "int"),
        Column("seal_shown", "Seal of its end"),  # the whole seal is in the JSON and CSV
        Column("reopened_by", "Reopened by", "int", optional=True),
    )
    return _report(books, "closes", "Closed periods", columns, rows, as_of, hidden=("seal_shown",))


def reconcile_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Each bank statement an import recorded: the balances the bank stated beside the books' cash on the same days.

    A statement whose import was reversed (`reverse --batch`) is listed as
    withdrawn. The books' figure is `books.cash_on`: every `assets:fund:`
    envelope at the end of the day, reversed entries and their reversals
    left out.
    """
    rows = []
    for kept in sorted(books.statements.values(), key=lambda s: (s.closing or s.opening, s.id)):
        for which, balance in (("opening", kept.opening), ("closing", kept.closing)):
            if balance is None:
                continue
            day, bank = balance
            ours = cash_on(books, day)
            state = "reconciled" if bank == ours else "differs"
            rows.append(
                {"statement": kept.statement, "account": kept.account, "entry": kept.id, "balance": which,
                 "date": day, "bank": bank, "books": ours, "difference": bank - ours,
                 "state": f"withdrawn by #{kept.reversed_by}" if kept.reversed_by else state}
            )  # fmt: skip
    standing = [r for r in rows if not r["state"].startswith("withdrawn")]
    totals = {
        "statements": len({r["entry"] for r in standing}),
        "differing": len({r["entry"] for r in standing if r["state"] == "differs"}),
    }
    columns = (
        Column("statement", "Statement"),
        Column("account", "Account", optional=True),
        Column("entry", "#", "int"),
        Column("balance", "Balance"),
        Column("date", "After", "date"),
        Column("bank", "Bank", "money"),
        Column("books", "Books", "money"),
        Column("difference", "Difference", "money"),
        Column("state", "State"),
    )
    return _report(books, "reconcile", "Bank statements beside the books", columns, rows, as_of, totals=totals)


def overdue_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Pledges with money fallen due and not received by the day (today by default), with its age."""
    day = as_of or dt.date.today()
    rows = []
    for pledge in sorted(books.pledges.values(), key=lambda p: (p.date, p.id)):
        owed, since = pledge.overdue(day)
        if owed <= 0:
            continue
        age = (day - since).days
        bucket = "0-30" if age <= 30 else "31-90" if age <= 90 else "over 90"
        rows.append({"pledge": pledge.id, "member": pledge.member, "overdue": {pledge.currency: owed},
                     "since": since, "days": age, "bucket": bucket})  # fmt: skip
    columns = (
        Column("pledge", "Pledge", "int"),
        Column("member", "Member"),
        Column("overdue", "Overdue", "amounts"),
        Column("since", "Due since", "date"),
        Column("days", "Days", "int"),
        Column("bucket", "Age", optional=True),
    )
    return _report(books, "overdue", "Overdue pledges", columns, rows, as_of)


def proposals_report(books: Books, as_of: dt.date | None = None, *, everything: bool = False) -> Report:
    """Proposals (open ones unless `everything`): what each would record, how many approvals it has and needs."""
    rows = []
    for proposal in sorted(books.proposals.values(), key=lambda p: p.id):
        if proposal.status != "open" and not everything:
            continue
        proposed = proposal.proposed
        moves = sum((Decimal(p["amount"]) for p in proposed.get("postings", []) if Decimal(p["amount"]) > 0), ZERO)
        subject = " ".join(str(proposed.get(k)) for k in ("member", "package", "contract", "earmark") if proposed.get(k))
        rows.append({"proposal": proposal.id, "date": proposal.date, "kind": proposed["kind"], "subject": subject,
                     "amount": moves if moves else None, "approvals": len(proposal.approvals),
                     "needed": proposal.needed, "status": proposal.status, "booked_as": proposal.booked_as,
                     "proposed": proposed})  # fmt: skip
    columns = (
        Column("proposal", "Proposal", "int"),
        Column("date", "Date", "date", optional=True),
        Column("kind", "Kind"),
        Column("subject", "Of", optional=True),
        Column("amount", "Amount", "money"),
        Column("approvals", "Approved", "int"),
        Column("needed", "Needs", "int"),
        Column("status", "Status"),
    )
    return _report(books, "proposals", "Proposals", columns, rows, as_of)


def approvals_report(
    books: Books, approvals: list[dict], as_of: dt.date | None = None, period: Period | None = None
) -> Report:
    """Who proposed and who approved what, as the audit proved it from the commits' signatures (the proposals
    made on or before `as_of`, or during `period`)."""
    rows = [
        {"proposal": a["proposal"], "date": dt.date.fromisoformat(a["date"]), "kind": a["kind"],
         "proposer": a["proposer"], "approvers": [name or "(not an officer's signature)" for name in a["approvers"]],
         "status": a["status"], "booked_as": a["booked_as"]}
        for a in approvals
        if (as_of is None or dt.date.fromisoformat(a["date"]) <= as_of)
        and (period is None or period.holds(dt.date.fromisoformat(a["date"])))
    ]
    columns = (
        Column("proposal", "Proposal", "int"),
        Column("date", "Date", "date", optional=True),
        Column("kind", "Kind"),
        Column("proposer", "Proposed by"),
        Column("approvers", "Approved by", "list"),
        Column("status", "Status"),
        Column("booked_as", "Booked as", "int", optional=True),
    )
    return _report(books, "approvals", "Approvals", columns, rows, as_of if period is None else period.end,
                   period=period)  # fmt: skip
