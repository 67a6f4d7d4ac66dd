"""Reports: pure functions from the books to plain data. Nothing here prints or formats.

Every tabular report is a `Report`: its columns (with the kind of value in
each, so a renderer knows how to show it) and its rows (dicts keyed by the
columns' snake_case names, amounts as `Decimal`). The summary dashboard has
a shape of its own, `Summary`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger import model
from ledger.books import ZERO, Books


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text, money, date, int, share, account, list


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


def _report(books: Books, name: str, title: str, columns, rows, as_of, totals=None) -> Report:
    return Report(
        report=name,
        title=title,
        ledger=books.name,
        currency=books.currency,
        as_of=as_of,
        seal=books.seal,
        entries=len(books.entries),
        columns=tuple(columns),
        rows=tuple(rows),
        totals=totals or {},
    )


def balance_report(books: Books, as_of: dt.date | None = None) -> Report:
    """The account tree with balances; a parent shows the total of everything below it."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, amount in books.balances.items():
        parts = account.split(":")
        for depth in range(1, len(parts) + 1):
            totals[":".join(parts[:depth])] += amount
    rows = [
        {"account": account, "currency": books.currency, "balance": amount}
        for account, amount in sorted(totals.items(), key=lambda pair: _tree_key(pair[0]))
    ]
    columns = (Column("account", "Account", "account"), Column("balance", "Balance", "money"))
    total = sum((amount for account, amount in books.balances.items()), ZERO)
    return _report(books, "balance", "Balances", columns, rows, as_of, {"balance": total})


_ROOTS = ("assets", "liabilities", "equity", "income", "expenses")


def _tree_key(account: str) -> tuple:
    parts = account.split(":")
    root = _ROOTS.index(parts[0]) if parts[0] in _ROOTS else len(_ROOTS)
    return (root, parts)


__all__ = ["Column", "Report", "balance_report", "model"]
