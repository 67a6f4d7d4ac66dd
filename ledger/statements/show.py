"""An import's plan shown: a table, JSON, and the spreadsheet-safe CSV of the rows left unmatched.

Only rendering: everything shown was decided by `ledger.importer.plan`.
Text from the statement reaches the terminal only through `inert`, and a
spreadsheet only with a leading quote when it could start a formula.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger import model, money
from ledger.errors import BadInput
from ledger.text import inert, spreadsheet_safe

STYLE = {"record": "green", "skip": "dim", "unmatched": "yellow", "refused": "red"}
UNMATCHED_COLUMNS = ("row", "date", "direction", "amount", "currency", "payer", "reference", "memo", "why")


def as_json(plan, *, dry_run: bool) -> dict[str, Any]:
    statement, rec = plan.statement, plan.reconciliation
    return {
        "dry_run": dry_run,
        "format": statement.format,
        "statement": {"id": statement.id or None, "account": statement.account or None},
        "reconciliation": None
        if rec is None
        else {
            "currency": rec.currency,
            "opening": _pair(rec.opening_day, rec.opening_bank, rec.opening_books),
            "closing": _pair(rec.closing_day, rec.closing_bank, rec.closing_books),
        },
        "problems": plan.problems,
        "notes": plan.notes,
        "kept": model.to_json(plan.kept) if plan.kept else None,
        "rows": [
            {
                "row": p.row,
                "status": p.status,
                "what": p.what or None,
                "reason": p.reason or None,
                "entry": model.to_json(p.entry) if p.entry else None,
            }
            for p in plan.rows
        ],
    }


def _pair(day, bank: Decimal | None, books: Decimal | None) -> dict | None:
    if bank is None:
        return None
    return {"day": day.isoformat(), "bank": str(bank), "books": str(books), "difference": str(bank - books)}


def amount_shown(p, currency: str) -> str:
    """A row's amount as the table shows it: what its entry moves, else what the statement says."""
    if p.entry is not None and p.entry.postings:
        return money.format_money(model.size(p.entry), currency)
    row = p.source
    if row is not None and row.amount:
        return inert(f"{'' if row.credit else '-'}{row.amount} {row.currency}".strip())
    return inert(p.values.get("amount", ""))


def reconciliation_lines(plan) -> list[str]:
    """The bank's balances beside the books' cash, one line each."""
    rec, lines = plan.reconciliation, []
    if rec is None:
        return lines
    for what, day, bank, books in (
        ("opening", rec.opening_day, rec.opening_bank, rec.opening_books),
        ("closing", rec.closing_day, rec.closing_bank, rec.closing_books),
    ):
        if bank is None:
            continue
        state = "reconciled" if bank == books else f"differs by {_signed(bank - books, rec.currency)}"
        lines.append(
            f"{what} balance after {day}: bank {_signed(bank, rec.currency)}, books {_signed(books, rec.currency)}: {state}"
        )
    if plan.kept is not None:
        lines.append(f"statement {plan.kept.get('statement')}'s balances kept as #{plan.kept.id} (`report reconcile`)")
    return lines


def _signed(amount: Decimal, currency: str) -> str:
    return ("-" if amount < 0 else "") + money.format_money(abs(amount), currency)


def write_unmatched(rows, path: Path) -> None:
    """The rows left unmatched or refused, as CSV a spreadsheet opens safely: amounts as they are, text inert."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(UNMATCHED_COLUMNS)
        for p in rows:
            row = p.source
            values = p.values
            out.writerow(
                [
                    str(p.row),
                    row.day.isoformat() if row and row.day else spreadsheet_safe(values.get("date", "")),
                    ("credit" if row.credit else "debit") if row and row.amount else "",
                    _plain_amount(row.amount if row else ""),
                    spreadsheet_safe(row.currency if row else ""),
                    spreadsheet_safe((row.payer if row else "") or values.get("member", "")),
                    spreadsheet_safe((row.reference if row else "") or values.get("reference", "")),
                    spreadsheet_safe(row.memo if row else ""),
                    spreadsheet_safe(p.reason),
                ]
            )


def check_writable(path: Path) -> None:
    """Refuse, in one line, a path the unmatched rows cannot be written to; leave no file behind."""
    existed = path.exists()
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as problem:
        raise BadInput(f"cannot write the unmatched rows to {path}: {problem.strerror}; nothing was recorded") from None
    if not existed:
        path.unlink()



def _plain_amount(text: str) -> str:
    """An amount is never altered; one that is not a plain unsigned decimal is not an amount, and is made safe."""
    return text if text.replace(".", "", 1).isdigit() else spreadsheet_safe(text)


def checks_json(checks) -> list[dict[str, Any]]:
    """`fundledger reconcile --json`: each statement beside the books."""
    return [
        {
            "file": c.name,
            "format": c.format,
            "id": c.id or None,
            "account": c.account or None,
            "currency": c.currency or None,
            "opening": _pair(c.opening_day, c.opening_bank, c.opening_books),
            "closing": _pair(c.closing_day, c.closing_bank, c.closing_books),
            "rows": c.rows,
            "recorded": c.recorded,
            "missing": c.missing,
            "reconciled": c.reconciled if c.opening_bank is not None or c.closing_bank is not None else None,
        }
        for c in checks
    ]


def checks_table(checks):
    """Each statement: the bank's balances beside the books' cash, and its rows the books hold."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, title="Statements beside the books")
    table.add_column("statement", overflow="fold")
    table.add_column("balance", overflow="fold")
    table.add_column("bank", justify="right", no_wrap=True)
    table.add_column("books", justify="right", no_wrap=True)
    table.add_column("state", overflow="fold")
    for c in checks:
        labels = [inert(c.name), inert(c.id)]
        lines = [
            (what, day, bank, books)
            for what, day, bank, books in (
                ("opening", c.opening_day, c.opening_bank, c.opening_books),
                ("closing", c.closing_day, c.closing_bank, c.closing_books),
            )
            if bank is not None
        ]
        for index, (what, day, bank, books) in enumerate(lines):
            same = bank == books
            state = (
                Text("reconciled", style="green")
                if same
                else Text(f"differs by {_signed(bank - books, c.currency)}", style="red")
            )
            label = labels[index] if index < len(labels) else ""
            table.add_row(label, f"{what} {day}", _signed(bank, c.currency), _signed(books, c.currency), state)
        held = Text(
            f"{c.recorded} of {c.recorded + c.missing} rows in the books", style="" if not c.missing else "yellow"
        )
        if not lines:
            held.append(", no balances stated", style="dim")
        table.add_row(labels[0] if not lines else (labels[1] if len(lines) == 1 else ""), "", "", "", held,
                      end_section=True)  # fmt: skip
    return table
