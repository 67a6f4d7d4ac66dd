"""Bank statements as banks send them (camt.053/052/054 XML, SWIFT MT940, CSV), read into one shape.

Every reader turns a file from outside, hostile until checked, into a
`Statement`: its account, its opening and closing balances when it states
them, and one `Row` per booked transaction with the money as exact text.
What a row becomes in the books is `ledger.importer`'s business; nothing
here knows the books. The format is recognised from the content (`sniff`),
never from the file's name.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ledger.errors import BadInput

# A statement larger than this is refused before it is read: no bank sends a quarter of a gigabyte.
MAX_BYTES = 256 * 1024 * 1024
# An XML tree takes several times its file's size in memory: a camt file larger than this is refused.
MAX_XML_BYTES = 64 * 1024 * 1024
# A line of a CSV or MT940 file longer than this is refused: a real one is a few hundred bytes.
MAX_LINE = 64 * 1024
# A text field (a name, a reference, remittance text) longer than this is refused.
MAX_FIELD = 4096

FORMATS = ("csv", "camt", "mt940")

# Bank transaction codes that say what a row is, whatever its text: camt's sub-family codes and
# MT940's transaction type identification codes (field 61).
CHARGE_CODES = frozenset({"CHRG", "COMM", "FEES", "NCHG", "NCOM", "FCHG"})
INTEREST_CODES = frozenset({"INTR", "NINT", "FINT"})


@dataclass(frozen=True)
class Balance:
    """A balance the bank states: its amount (negative when overdrawn) and the day after whose end it holds."""

    day: dt.date
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Row:
    """One transaction of a statement, as read; `problem` says why it cannot be read, `skip` why it is left out."""

    number: int  # the line (CSV: the row, header = 1; MT940: field 61's line) or the entry's place (camt)
    day: dt.date | None = None
    credit: bool = True  # money in; False: money out
    amount: str = ""  # unsigned, a dot for decimals, as the bank wrote it
    currency: str = ""
    payer: str = ""  # the other party: who paid, or who was paid
    reference: str = ""
    memo: str = ""
    code: str = ""  # "charge", "interest" or "" from the bank's transaction code
    pledge: str = ""  # CSV only: a pledge id column
    year: str = ""  # CSV pledge imports only
    skip: str = ""
    problem: str = ""
    shown: dict[str, str] = field(default_factory=dict)  # the row's own text, for the table and the unmatched CSV


@dataclass(frozen=True)
class Statement:
    format: str  # "csv", "camt.053", "camt.052", "camt.054", "mt940"
    rows: list[Row]
    id: str = ""
    account: str = ""  # the account's IBAN (or other identifier) as the statement names it
    currency: str = ""
    opening: Balance | None = None
    closing: Balance | None = None


def read_bytes(path: Path) -> bytes:
    """The file's bytes, refused in one line when it cannot be read or is too large to be a statement.

    `-` is standard input (read up to one byte past the limit, so that a larger stream is refused too).
    """
    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise BadInput(f"standard input holds more than {MAX_BYTES:,} bytes; a larger statement is refused")
        return data
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BadInput(f"{path} is {size:,} bytes; a statement larger than {MAX_BYTES:,} bytes is refused")
        return path.read_bytes()
    except OSError as problem:
        raise BadInput(f"cannot read {path}: {problem.strerror}") from None


_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def sniff(data: bytes) -> str:
    """'camt', 'mt940' or 'csv', from the first bytes of the file (after any byte-order mark)."""
    head = data[:4096]
    if head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
        head = head.decode("utf-16", "replace").encode("utf-8")
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        return "camt"
    if head.startswith(b"{1:") or re.match(rb":20:", head) or re.match(rb"\{4:\s*:20:", head):
        return "mt940"
    return "csv"


def check_lines(data: bytes, path: Path) -> None:
    """Refuse a file with a line longer than MAX_LINE bytes, naming the line."""
    start, number = 0, 1
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        if end - start > MAX_LINE:
            raise BadInput(
                f"{path}: line {number} is {end - start:,} bytes long; lines longer than {MAX_LINE:,} are refused"
            )
        start, number = end + 1, number + 1


def decode(data: bytes, encoding: str, path: Path) -> str:
    """The text of the file in `encoding`, with any byte-order mark removed whatever the encoding."""
    if data.startswith(b"\xef\xbb\xbf") and encoding.replace("_", "-").lower() not in ("utf-16", "utf-32"):
        data = data[3:]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as problem:
        where = _line_of(data, problem.start)
        raise BadInput(
            f"{path} is not valid {encoding}: byte {data[problem.start : problem.start + 1]!r} on line {where}; "
            'give the file\'s encoding in the mapping (encoding = "cp1252")'
        ) from None
    return text.removeprefix("\ufeff")


def bounded(text: str, what: str) -> str:
    """A text field from a statement, stripped; refused when it is absurdly long."""
    text = text.strip()
    if len(text) > MAX_FIELD:
        raise BadInput(f"{what} is {len(text):,} characters long; fields longer than {MAX_FIELD:,} are refused")
    return text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
