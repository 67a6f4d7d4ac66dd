"""The fast reader gives exactly what tomllib gives, or steps aside; it never gives something else."""

from __future__ import annotations

import datetime as dt
import tomllib
from decimal import Decimal

import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import fastparse, journal

from conftest import SAMPLE


def same(a, b) -> bool:
    """Equal and of the same types all the way down (1 == True and 1 == 1.0 do not count)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dt.datetime):
        return a == b and a.utcoffset() == b.utcoffset() and (a.tzinfo is None) == (b.tzinfo is None)
    return a == b


def tomllib_reads(text: str):
    """tomllib's value, or None where it refuses the text.

    It refuses some with errors it does not wrap in TOMLDecodeError: Decimal's
    InvalidOperation for `1000000e999999999999999994` (issue 13 item 8),
    ValueError for an integer of 5000 digits, RecursionError for arrays
    nested thousands deep. Those are refusals too, not a failing test.
    """
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except (tomllib.TOMLDecodeError, ArithmeticError, ValueError, RecursionError):
        return None


def agrees(text: str) -> bool:
    """The fast reader steps aside, or reads what tomllib reads; where tomllib fails, it steps aside."""
    fast, slow = fastparse.parse(text), tomllib_reads(text)
    return fast is None or (slow is not None and same(fast, slow))


keys = st.one_of(
    st.sampled_from(["id", "date", "memo", "hash", "postings", "split", "amount", "a-b_C9"]),
    st.text(min_size=0, max_size=6),
)
scalars = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from('"\\\t\n\r\b\f\x00\x01\x1f\x7f\x80\u2028é😀 #=[]{},'), max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=2))])),
    st.datetimes(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
tables = st.dictionaries(keys, scalars, max_size=4)
values = st.one_of(scalars, st.lists(tables, max_size=3), tables, st.lists(scalars, max_size=2))
records = st.dictionaries(keys, values, max_size=10)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_any_block_tomli_w_writes(record):
    assert agrees(tomli_w.dumps({"entry": [record]}))


SIGNIFICANT = [*'"\\ =[]{},#.\n\r\t\x00\x7fé0123456789-:+abcdefuUntrz', "\\u0041", '\\"', "\n\n", "]]", "[["]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.sampled_from(SIGNIFICANT)), max_size=4)
)
@example({"id": 1000000}, [(22, 0, "e999999999999999994")])  # `id = 1000000e999999999999999994`: issue 13 item 8
def test_mangled_blocks(record, edits):
    """Insert, delete or replace characters anywhere: the result is still tomllib's, or nothing."""
    text = tomli_w.dumps({"entry": [record]})
    for at, how, piece in edits:
        at = at % (len(text) + 1)
        if how == 0:
            text = text[:at] + piece + text[at:]
        elif how == 1:
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    assert agrees(text)


HOSTILE = [
    "[[entry]]\nid = 1\nid = 2\n",  # a repeated key
    '[[entry]]\npostings = []\n\n[[entry.postings]]\naccount = "x"\n',  # a static array appended to
    '[[entry]]\nmemo = "a" # comment\n',
    "[[entry]]\r\nid = 1\r\n",
    '[[entry]]\nmemo = "\\ud800"\n',  # a surrogate escape
    "[[entry]]\ndate = 2025-02-30\n",
    "[[entry]]\nmemo = 'literal'\n",
    '[[entry]]\nmemo = """multi\nline"""\n',
    "[[entry]]\nid = 01\n",
    "[[entry]]\nid = +1\n",
    '[[entry]]\nsplit = { a = "1" }\n\n[entry.split]\nb = "2"\n',
    '[[entry]]\npostings = [\n    { a = "1", a = "2" },\n]\n',
    '[[entry]]\npostings = [\n    { a = "1" },\n',  # an array never closed
    "[[entry]]\n[entry.x]\na = 1\n[entry.x]\nb = 2\n",
    '[[entry]]\nkind = "ok"\n[[entry]]\nkind = "second"\n',
    "[[entry]]\nrecorded_at = 2025-01-01 10:00:00+01:00\n",
    "[[entry]]\nrecorded_at = 2025-01-01T10:00:00Z\n",
    '[[entry]]\nmemo = "tab\there"\nnote = "bell\x07"\n',
    # Numbers Python cannot hold, which tomllib refuses with errors of other kinds (issue 13 item 8).
    "[[entry]]\nid = 1000000e999999999999999994\n",
    '[[entry]]\nmemo = "x"\nid = 1000000e999999999999999994\n',
    "[[entry]]\nid = " + "9" * 5000 + "\n",
    "[[entry]]\nid = 99999999999999999999\n",  # beyond 64 bits: tomllib reads it, the fast reader need not
    "[[entry]]\nid = -9223372036854775809\n",
    "[[entry]]\nid = 0x" + "f" * 4000 + "\n",
    "[[entry]]\npostings = [\n    { amount = 1e999999999999999999999 },\n]\n",
    "[[entry]]\nid = inf\nyear = nan\n",
    "[[entry]]\nmemo = " + "[" * 5000 + "]" * 5000 + "\n",  # RecursionError in tomllib
    "[[entry]]\nsplit = " + "{ a = " * 2000 + "1" + " }" * 2000 + "\n",
    '[[entry]]\nmemo = "nul\x00"\n',  # a raw NUL
    "[[entry]]\n\x00\n",
    '[[entry]]\nmemo = "\ud800"\n',  # a raw lone surrogate (a str can hold one; UTF-8 bytes cannot)
    "\ufeff[[entry]]\nid = 1\n",
    "[[entry]]\nrecorded_at = 2025-01-01 10:00:00-00:00\n",
    "[[entry]]\nrecorded_at = 0000-01-01 10:00:00+00:00\n",
    "[[entry]]\nrecorded_at = 2025-01-01 24:00:00+00:00\n",
    "[[entry]]\nid = 1\n[entry]\nid = 2\n",  # a bare [entry] table
]


def test_hostile_blocks():
    for text in HOSTILE:
        assert agrees(text), text


def test_every_real_entry_is_read_fast(coalition):
    """The shapes fundledger writes (inline postings and [[entry.postings]] tables alike) never need tomllib."""
    shapes = set()
    for folder in (SAMPLE, coalition.path):
        ledger = journal.open_ledger(folder)
        blocks = 0
        for path in ledger.journal_files():
            data = path.read_text(encoding="utf-8")
            for chunk in data.split("[[entry]]\n")[1:]:
                text = "[[entry]]\n" + chunk
                fast = fastparse.parse(text)
                assert fast is not None and same(fast, tomllib_reads(text))
                shapes.update(line for line in ("postings = [", "[[entry.postings]]", "[entry.split]") if line in text)
                blocks += 1
        assert blocks == len(journal.load(ledger, use_cache=False).entries)
    assert shapes == {"postings = [", "[[entry.postings]]", "[entry.split]"}


def test_lines_read_again_read_the_same():
    """A line met before is taken from memory (`fastparse._SEEN`): the hostile blocks and a repeated key are
    still refused, and what is handed out can be changed without changing what the next block reads."""
    block = tomli_w.dumps({"entry": [{
        "kind": "pay", "date": dt.date(2025, 3, 1), "recorded_at": dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC),
        "refs": [], "split": {"a": "1.00"}, "postings": [{"account": "assets:x", "amount": "1.00", "currency": "EUR"}],
    }]})  # fmt: skip
    fastparse._SEEN.clear()
    first = fastparse.parse(block)
    assert 'kind = "pay"' in fastparse._SEEN and len(fastparse._SEEN) >= 4  # kept for the next block
    first["entry"][0]["postings"][0]["amount"] = "changed"
    first["entry"][0]["refs"].append("changed")
    second = fastparse.parse(block)
    assert same(second, tomllib_reads(block))  # neither the posting nor the empty list came back changed
    assert second["entry"][0]["postings"][0] is not first["entry"][0]["postings"][0]
    inline = next(line for line in block.splitlines() if line.startswith("    {"))
    assert inline in fastparse._SEEN
    misplaced = [f"[[entry]]\n{inline}\n", f"[[entry]]\npostings = [\n{inline}\n]\n{inline}\n",
                 '[[entry]]\npostings = [\n    kind = "pay",\n]\n']  # fmt: skip
    for text in [*HOSTILE, *misplaced, '[[entry]]\nkind = "pay"\nkind = "pay"\n', '[[entry]]\nkind = "pay"\nkind = "x"\n']:
        assert agrees(text), text
        assert agrees(text), text  # the second time, its lines from memory
    assert fastparse.parse('[[entry]]\nkind = "pay"\nkind = "pay"\n') is None


def test_lines_kept_are_bounded(monkeypatch):
    monkeypatch.setattr(fastparse, "_KEEP", 10)
    fastparse._SEEN.clear()
    for number in range(25):
        assert fastparse.parse(f'[[entry]]\nsource = "s{number}"\n') == {"entry": [{"source": f"s{number}"}]}
        assert len(fastparse._SEEN) <= 10
    assert not any(line.startswith(("id =", "prev =", "hash =", "memo =")) for line in fastparse._SEEN)
