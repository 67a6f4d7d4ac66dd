"""ISO 20022 cash-management statements: camt.053 (statement), camt.052 (report), camt.054 (notification).

The three share one structure (an account, balances, entries with their
transaction details), so one reader takes them all. The XML is parsed by
defusedxml with document type declarations forbidden: no entity is
expanded, no external entity or DTD fetched, whatever the file says.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml import ElementTree as SafeTree

from ledger.errors import BadInput
from ledger.statements import CHARGE_CODES, INTEREST_CODES, Balance, Row, Statement, bounded

# The element holding the statements, per message, and the name of each statement in it.
_MESSAGES = {
    "BkToCstmrStmt": ("camt.053", "Stmt"),
    "BkToCstmrAcctRpt": ("camt.052", "Rpt"),
    "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn"),
}
# Balances that open a statement: PRCD holds at the end of its day, OPBD at its start.
_OPENING = ("PRCD", "OPBD")
_CLOSING = ("CLBD",)


def read(data: bytes, path: Path) -> Statement:
    """The statement in camt XML `data`; BadInput in one line for anything hostile or not camt."""
    try:
        root = SafeTree.fromstring(data, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise BadInput(
            f"{path}: XML with a document type declaration (DTD) is refused: it can expand entities"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise BadInput(f"{path}: XML that declares entities is refused") from None
    except defusedxml.ExternalReferenceForbidden:
        raise BadInput(f"{path}: XML that refers to an external entity is refused") from None
    except defusedxml.DefusedXmlException as problem:
        raise BadInput(f"{path}: refused XML: {type(problem).__name__}") from None
    except (ParseError, ValueError) as problem:
        raise BadInput(f"{path} is not well-formed XML: {problem}") from None
    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    message = next(iter(root), None)
    if root.tag != "Document" or message is None or message.tag not in _MESSAGES:
        raise BadInput(
            f"{path} is XML but not an ISO 20022 camt.052, camt.053 or camt.054 statement "
            f"(its root is {root.tag[:40]!r}{', namespace ' + repr(namespace[:80]) if namespace else ''})"
        )
    fmt, statement_tag = _MESSAGES[message.tag]
    statements = message.findall(statement_tag)
    if not statements:
        raise BadInput(f"{path}: the {fmt} message holds no {statement_tag}")
    accounts = {_account(s) for s in statements}
    if len(accounts) > 1:
        raise BadInput(f"{path} holds statements of {len(accounts)} accounts; import one account's at a time")
    rows: list[Row] = []
    for statement in statements:
        for entry in statement.findall("Ntry"):
            rows.extend(_rows(entry, len(rows) + 1, _text(statement, "Id", "statement id")))
    first, last = statements[0], statements[-1]
    return Statement(
        format=fmt,
        rows=rows,
        id=_text(first, "Id", "statement id"),
        account=accounts.pop(),
        currency=_text(first, "Acct/Ccy", "account currency"),
        opening=_balance(first, _OPENING),
        closing=_balance(last, _CLOSING),
    )


def _account(statement: Element) -> str:
    return _text(statement, "Acct/Id/IBAN", "IBAN") or _text(statement, "Acct/Id/Othr/Id", "account id")


def _balance(statement: Element, codes: tuple[str, ...]) -> Balance | None:
    """The first balance of one of `codes`, as the amount at the end of the day it holds after."""
    for code in codes:
        for balance in statement.findall("Bal"):
            if _text(balance, "Tp/CdOrPrtry/Cd", "balance type") != code:
                continue
            amount, currency = _amount(balance, "balance")
            if _text(balance, "CdtDbtInd", "balance sign") == "DBIT":
                amount = -amount
            day = _day(balance.find("Dt"), "balance date")
            if day is None:
                raise BadInput(f"the {code} balance has no date")
            if code == "OPBD":  # the balance at the start of its day is the one at the end of the day before
                day -= dt.timedelta(days=1)
            return Balance(day, amount, currency)
    return None


def _rows(entry: Element, number: int, ident: str) -> list[Row]:
    """The entry as one row, or one per transaction when a batch entry details each one's amount."""
    status = _text(entry, "Sts/Cd", "status") or _text(entry, "Sts", "status")
    credit = _text(entry, "CdtDbtInd", "credit/debit indicator")
    day = _day(entry.find("BookgDt"), "booking date") or _day(entry.find("ValDt"), "value date")
    details = entry.findall("NtryDtls/TxDtls")
    own = [d for d in details if d.find("AmtDtls/TxAmt/Amt") is not None or d.find("Amt") is not None]
    parts = own if len(details) > 1 and len(own) == len(details) else [None]
    rows = []
    for index, detail in enumerate(parts):
        try:
            rows.append(_row(entry, detail, number + index, status, credit, day, ident, split=len(parts) > 1))
        except BadInput as problem:
            rows.append(Row(number + index, problem=str(problem), shown={"entry": str(number + index)}))
    return rows


def _row(
    entry: Element, detail: Element | None, number: int, status: str, credit: str, day, ident: str, *, split: bool
) -> Row:
    if detail is None:
        found = entry.findall("NtryDtls/TxDtls")
        detail = found[0] if found else Element("TxDtls")
    where = detail if split else entry
    if split:
        holder = detail.find("AmtDtls/TxAmt") if detail.find("AmtDtls/TxAmt/Amt") is not None else detail
        amount, currency = _amount(holder, "transaction amount")
    else:
        amount, currency = _amount(where, "entry amount")
    if credit not in ("CRDT", "DBIT"):
        raise BadInput(f"credit/debit indicator {credit[:20]!r} is neither CRDT nor DBIT")
    incoming = credit == "CRDT"
    party = "Dbtr" if incoming else "Cdtr"
    payer = _text(detail, f"RltdPties/{party}/Nm", "name") or _text(detail, f"RltdPties/{party}/Pty/Nm", "name")
    end_to_end = _text(detail, "Refs/EndToEndId", "end-to-end id")
    end_to_end = "" if end_to_end == "NOTPROVIDED" else end_to_end
    own_ref = _text(detail, "Refs/AcctSvcrRef", "reference") if split else ""
    reference = (
        own_ref
        or _text(entry, "AcctSvcrRef", "reference")
        or end_to_end
        or _text(entry, "NtryRef", "entry reference")
        or _text(detail, "Refs/TxId", "transaction id")
        or (f"{ident}/{number}" if ident else "")  # the statement's id and the row's place, as for MT940
    )
    remittance = [bounded(u.text or "", "remittance text") for u in detail.findall("RmtInf/Ustrd")]
    structured = _text(detail, "RmtInf/Strd/CdtrRefInf/Ref", "creditor reference")
    memo = " ".join(part for part in [*remittance, structured] if part) or _text(entry, "AddtlNtryInf", "entry text")
    codes = {
        _text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd", "bank transaction code"),
        _text(detail, "BkTxCd/Domn/Fmly/SubFmlyCd", "bank transaction code"),
        _text(entry, "BkTxCd/Prtry/Cd", "bank transaction code")[:4],
    }
    code = "charge" if codes & CHARGE_CODES else "interest" if codes & INTEREST_CODES else ""
    shown = {
        "date": day.isoformat() if day else "",
        "amount": str(amount),
        "currency": currency,
        "payer": payer,
        "reference": reference,
        "end_to_end": end_to_end,
        "memo": memo,
    }
    skip = "" if status in ("BOOK", "") else f"status {status[:10]}: only booked entries are imported"
    return Row(
        number,
        day=day,
        credit=incoming,
        amount=str(amount),
        currency=currency,
        payer=payer,
        reference=reference,
        memo=" ".join(part for part in (memo, end_to_end if end_to_end not in memo else "") if part),
        code=code,
        skip=skip,
        problem="" if day else "the entry has no booking or value date",
        shown=shown,
    )


def _amount(element: Element, what: str) -> tuple[Decimal, str]:
    node = element.find("Amt")
    if node is None or not (node.text or "").strip():
        raise BadInput(f"the {what} has no Amt")
    text = bounded(node.text or "", what)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadInput(f"the {what} {text[:40]!r} is not a decimal number") from None
    if not amount.is_finite() or amount < 0 or "e" in text.lower():
        raise BadInput(f"the {what} {text[:40]!r} is not a plain positive decimal")
    return amount, bounded(node.get("Ccy", ""), "currency").upper()


def _day(holder: Element | None, what: str) -> dt.date | None:
    if holder is None:
        return None
    text = _text(holder, "Dt", what) or _text(holder, "DtTm", what)[:10]
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise BadInput(f"the {what} {text[:30]!r} is not a date") from None


def _text(element: Element, path: str, what: str) -> str:
    node = element.find(path)
    return bounded(node.text or "", what) if node is not None else ""
