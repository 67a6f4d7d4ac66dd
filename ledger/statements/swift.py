"""SWIFT MT940 customer statements, read by the `mt-940` package rather than by a parser of our own.

Field 61 is a transaction (date, debit or credit, amount, type code,
references), field 86 its details; German-style structured details
(`?20`…`?33`) give the other party's name, its IBAN, the end-to-end
reference (`EREF+`) and the purpose (`SVWZ+`). Several statements in one file
(one `:20:` each) are read in order: the first's opening balance, the last's
closing balance.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import mt940
from mt940 import processors
from mt940.options import Options

from ledger.errors import BadInput
from ledger.statements import CHARGE_CODES, INTEREST_CODES, Balance, Row, Statement, bounded

_START = re.compile(r"^:20:", re.MULTILINE)


def read(text: str, path: Path) -> Statement:
    """The statement(s) in MT940 `text`; BadInput in one line when the file is not MT940 the parser can read."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    starts = [match.start() for match in _START.finditer(text)] or [0]
    chunks = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    rows: list[Row] = []
    opening = closing = None
    ident = account = currency = ""
    for chunk in chunks:
        parsed = _parse(chunk, path)
        data = parsed.data
        if account and data.get("account_identification", "") != account:
            raise BadInput(f"{path} holds statements of more than one account; import one account's at a time")
        account = bounded(str(data.get("account_identification", "")), "account")
        ident = ident or bounded(str(data.get("transaction_reference", "")), "statement reference")
        opening = opening or _balance(data.get("final_opening_balance"))
        closing = _balance(data.get("final_closing_balance")) or closing
        for transaction in parsed:
            rows.append(_row(transaction.data, len(rows) + 1, ident))
        currency = currency or (opening.currency if opening else "")
    return Statement("mt940", rows, id=ident, account=account.split("/")[-1], currency=currency,
                     opening=opening, closing=closing)  # fmt: skip


def _parse(chunk: str, path: Path):
    transactions = mt940.models.Transactions(
        processors={"post_transaction_details": [processors.transaction_details_post_processor]},
        options=Options(applicant_iban=True),  # German details: ?31 is the other party's IBAN, ?32-?33 its name
    )
    try:
        transactions.parse(chunk)
    except Exception as problem:  # a third-party parser on hostile input: any failure is the file's
        reason = " ".join(str(problem).split())[:120]
        raise BadInput(
            f"{path} is not an MT940 statement the parser can read ({type(problem).__name__}: {reason})"
        ) from None
    if "transaction_reference" not in transactions.data:
        raise BadInput(f"{path} is not an MT940 statement: it has no :20: field")
    return transactions


def _balance(balance) -> Balance | None:
    if balance is None:
        return None
    amount = balance.amount
    return Balance(_date(balance.date), amount.amount, str(amount.currency))


def _row(data: dict, number: int, ident: str) -> Row:
    try:
        status = str(data.get("status", ""))
        credit = status in ("C", "RD")  # RD: the reversal of a debit is money in
        amount = abs(data["amount"].amount)
        customer = bounded(str(data.get("customer_reference") or ""), "customer reference")
        bank = bounded(str(data.get("bank_reference") or ""), "bank reference")
        end_to_end = bounded(str(data.get("end_to_end_reference") or ""), "end-to-end reference")
        end_to_end = "" if end_to_end.upper() in ("NOTPROVIDED", "NONREF") else end_to_end
        customer = "" if customer.upper() == "NONREF" else customer
        reference = customer or end_to_end or bank or f"{ident}/{number}"
        details = bounded(" ".join(str(data.get("transaction_details") or "").split()), "transaction details")
        purpose = bounded(str(data.get("purpose") or ""), "purpose")
        payer = bounded(str(data.get("applicant_name") or ""), "name")
        code = str(data.get("id") or "").upper()
        kind = "charge" if code in CHARGE_CODES else "interest" if code in INTEREST_CODES else ""
        day = _date(data.get("date"))
    except (KeyError, AttributeError, TypeError, ValueError) as problem:
        return Row(number, problem=f"field 61 cannot be read ({type(problem).__name__})", shown={"entry": str(number)})
    except BadInput as problem:
        return Row(number, problem=str(problem), shown={"entry": str(number)})
    memo = purpose or details
    shown = {
        "date": day.isoformat(),
        "amount": str(amount),
        "currency": str(data.get("currency") or ""),
        "payer": payer,
        "reference": reference,
        "memo": memo,
    }
    return Row(number, day=day, credit=credit, amount=str(amount), currency=shown["currency"], payer=payer,
               reference=reference, memo=memo, code=kind, shown=shown)  # fmt: skip


def _date(value) -> dt.date:
    return dt.date(value.year, value.month, value.day)
