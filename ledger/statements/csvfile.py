"""CSV statements and spreadsheets in any dialect, read through a mapping (docs/IMPORT.md).

The mapping says which column is what, how dates and numbers are written,
how money in is told from money out (a signed amount, a debit and a credit
column, or a D/C column), which rows to leave out (balance and turnover
rows) and which regular expressions pull the payer and the reference out of
a description.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from pathlib import Path

from ledger import money
from ledger.errors import BadInput
from ledger.statements import Row, Statement, bounded, check_lines, decode


def read(data: bytes, path: Path, mapping) -> Statement:
    """The rows of CSV `data` as `mapping` reads them; a missing mapped column is one clear error."""
    check_lines(data, path)
    text = decode(data, mapping.encoding, path)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        wanted = [*mapping.columns.values(), *mapping.skip]
        absent = [column for column in wanted if column not in header]
        if absent:
            columns = ", ".join(header)
            raise BadInput(f"{path} has no column {', '.join(map(repr, absent))} (its columns: {columns[:300]})")
        rows = [_row(raw, number, mapping) for number, raw in enumerate(reader, start=2)]  # row 1 is the header
    except csv.Error as problem:
        raise BadInput(f"cannot read {path} as {mapping.encoding} CSV: {problem}") from None
    return Statement("csv", rows)


def _row(raw: dict, number: int, mapping) -> Row:
    shown = {key: (raw.get(column) or "").strip() for key, column in mapping.columns.items()}
    for column, values in mapping.skip.items():
        value = (raw.get(column) or "").strip()
        if value in values:
            return Row(number, skip=f"left out: {column} is {value!r}", shown=shown)
    try:
        shown = {key: bounded(value, key) for key, value in shown.items()}
        for key, pattern in mapping.extract.items():
            if shown.get(key):
                continue
            found = pattern.search(shown.get("description", ""))
            shown[key] = bounded(found.group(key) if found else "", key)
        credit, amount, currency = _money(shown, mapping)
        day = _date(shown.get("date", ""), mapping.date_format)
    except BadInput as problem:
        return Row(number, problem=str(problem), shown=shown)
    return Row(
        number,
        day=day,
        credit=credit,
        amount=amount,
        currency=currency,
        payer=shown.get("member", ""),
        reference=shown.get("reference", ""),
        memo=shown.get("memo", "") or shown.get("description", ""),
        pledge=shown.get("pledge", ""),
        year=shown.get("year", ""),
        shown=shown,
    )


def _date(text: str, fmt: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        raise BadInput(f"date {text!r} does not match the mapping's format {fmt!r}") from None


def _money(values: dict[str, str], mapping) -> tuple[bool, str, str]:
    """(money in?, the amount unsigned with a dot for decimals, its currency) from the row's columns."""
    forced = None  # True: the credit column holds it; False: the debit column
    if "amount" in values:
        text = values["amount"]
    else:
        debit, credit = values.get("debit", ""), values.get("credit", "")
        if _nonzero(debit) and _nonzero(credit):
            raise BadInput(f"both the debit ({debit!r}) and the credit ({credit!r}) columns hold an amount")
        if not (_nonzero(debit) or _nonzero(credit)):
            raise BadInput("neither the debit nor the credit column holds an amount")
        forced = _nonzero(credit)
        text = credit if forced else debit
    written_in, number = money.split_currency(text)  # "£100", "1.000,00 GBP", "-€5"
    number = number.strip()
    negative = number.startswith(("-", "−")) or number.endswith("-")
    number = number.strip("-−+ ").strip()
    if not written_in:
        written_in, number = money.split_currency(number)
    currency = values.get("currency", "")
    if written_in and currency and written_in != currency.upper():
        raise BadInput(f"amount {text!r} is written in {written_in}, but the row's currency is {currency}")
    currency = (currency or written_in or "").upper()
    if forced is True and negative:
        raise BadInput(f"the credit column holds a negative amount ({text!r})")
    credit = not negative if forced is None else forced  # a debit column may write its amounts with a minus
    if "direction" in values:
        if negative:
            raise BadInput(f"amount {text!r} has a sign, but the direction column says which way it went")
        mark = values["direction"].strip().upper()
        if mark in mapping.credit_marks:
            credit = True
        elif mark in mapping.debit_marks:
            credit = False
        else:
            marks = ", ".join(sorted(mapping.credit_marks | mapping.debit_marks))
            raise BadInput(f"direction {values['direction']!r} is not one of {marks}")
    return credit, _amount(number, text, mapping), currency


def _nonzero(text: str) -> bool:
    return any(c in "123456789" for c in text)


def _amount(number: str, text: str, mapping) -> str:
    """'1.234,56' with decimal ',' and thousands '.' -> '1234.56'; thousands must group digits in threes."""
    thousands = mapping.thousands
    if thousands == " ":  # any Unicode space: a no-break space, a narrow no-break space, a thin space
        number = "".join(" " if unicodedata.category(c) == "Zs" else c for c in number)
    whole, point, fraction = number.partition(mapping.decimal)
    if thousands and thousands in whole:
        groups = whole.split(thousands)
        if not (groups[0] and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
            raise BadInput(f"amount {text!r} does not group thousands by {thousands!r} in threes")
        whole = "".join(groups)
    other = "." if mapping.decimal == "," else ","
    if other in whole + fraction:
        raise BadInput(
            f"amount {text!r} has a {other!r}, but the mapping says decimals are written with {mapping.decimal!r}"
        )
    if any(unicodedata.category(c) == "Zs" for c in whole + fraction):
        raise BadInput(f'amount {text!r} has a space in it; say thousands = " " in the mapping if it groups thousands')
    return whole + ("." + fraction if point else "")
