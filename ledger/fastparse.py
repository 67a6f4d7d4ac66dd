"""A fast reader for the one shape of TOML that fundledger writes: an `[[entry]]` block from tomli-w.

`parse(text)` returns exactly what `tomllib.loads(text)` returns for a
block it understands (tests/test_fastparse.py proves it on generated and
mangled blocks), and None for anything else, which is then read by
tomllib. It understands only: an `[[entry]]` header on the first line;
`key = value` lines with bare keys, one space either side of `=` and no
comment; values that are basic strings (with TOML's escapes), integers,
dates, UTC date-times to the second, `[]`, or an array of inline tables
one a line (`[`, then `    { key = value, ... },` lines, then `]`);
`[entry.NAME]` tables and `[[entry.postings]]` array tables; empty lines. Anything it is not sure of
(a comment, a CR, a repeated key, a literal string, an odd escape) is None.

It is about ten times faster than tomllib on journal entries, which is
what makes a first read of a large journal bearable. `fundledger verify`
never uses it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_CHAR = r'[^"\\\x00-\x08\x0a-\x1f\x7f]'
_ESCAPE = r'\\(?:["\\btnfr]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})'
_PAIR = re.compile(
    r"([A-Za-z0-9_-]+) = (?:"
    rf'"((?:{_CHAR}|{_ESCAPE})*)"'  # 2: a basic string
    r"|(-?(?:0|[1-9][0-9]{0,17}))"  # 3: an integer
    r"|([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2}):([0-9]{2})\+00:00)?"  # 4-9: date, date-time
    r"|(\[\])"  # 10: an empty array
    r"|(\[)$)"  # 11: the start of an array of inline tables, one a line
)
_ESCAPES = re.compile(_ESCAPE)
_SIMPLE = {'"': '"', "\\": "\\", "b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r"}
_TABLE = re.compile(r"\[entry\.([A-Za-z0-9_-]+)\]")
_UTC = dt.timezone(dt.timedelta(0))


class _NotSure(Exception):
    pass


# Lines read before, and what they hold: (key, value) for a `key = value` line, ("", table) for a line of an
# inline table. A journal says the same things again and again (the kind, the member, the date, the source,
# each posting's account, amount and currency), and a line found here is not matched again: about a third of
# the time of reading an entry. Only values no one can change are kept (strings, integers, dates, and the
# tables of strings, which are copied as they are handed out); never the lines that are new in every entry.
_SEEN: dict[str, tuple[str, Any]] = {}
_KEEP = 20_000  # lines kept, at most: forgotten all at once when full (about 15 MB at the most)
_UNIQUE = frozenset({"id", "memo", "prev", "hash"})


def _seen(line: str, found: tuple[str, Any]) -> tuple[str, Any]:
    if len(_SEEN) >= _KEEP:
        _SEEN.clear()
    _SEEN[line] = found
    return found


def parse(text: str) -> dict[str, Any] | None:
    """The block as tomllib would read it, or None if it is not of the shape this reader knows."""
    lines = text.split("\n")
    if lines[0] != "[[entry]]":
        return None
    record: dict[str, Any] = {}
    table = record
    postings: list | None = None
    array: list | None = None  # the array of inline tables being read, one a line
    try:
        for line in lines[1:]:
            if array is not None:
                if line == "]":
                    array = None
                elif line.startswith("    {") and line.endswith(","):
                    seen = _SEEN.get(line)
                    if seen is None or seen[0]:  # never a `key = value` line: those start with their key
                        inline = _inline(line[4:-1])
                        if any(type(value) is list for value in inline.values()):  # not kept: a list can be changed
                            array.append(inline)
                            continue
                        seen = _seen(line, ("", inline))
                    array.append(dict(seen[1]))  # a table of its own: the caller may change it
                else:
                    return None
                continue
            if not line:
                continue
            if line[0] == "[":
                if line == "[[entry.postings]]":
                    if postings is None:
                        if "postings" in record:
                            return None
                        postings = record["postings"] = []
                    table = {}
                    postings.append(table)
                    continue
                named = _TABLE.fullmatch(line)
                if named is None or named[1] in record:
                    return None
                table = record[named[1]] = {}
                continue
            seen = _SEEN.get(line)
            if seen is not None and seen[0]:  # a line read before (a kind, a date, an account): its key and value
                if seen[0] in table:
                    return None
                table[seen[0]] = seen[1]
                continue
            pair = _PAIR.fullmatch(line)
            if pair is None or pair[1] in table:
                return None
            if pair[11] is not None:
                array = table[pair[1]] = []
                continue
            plain = pair[2]
            value = plain if plain is not None and "\\" not in plain else _value(pair)  # most strings: as they are
            table[pair[1]] = value
            if pair[10] is None and pair[1] not in _UNIQUE:  # an empty array is not kept: a list can be changed
                _seen(line, (pair[1], value))
    except _NotSure:
        return None
    if array is not None:
        return None
    return {"entry": [record]}


def _inline(text: str) -> dict[str, Any]:
    """`{ key = value, key = value }` (or `{}`), as tomli-w writes an inline table."""
    if text == "{}":
        return {}
    if not text.startswith("{ "):
        raise _NotSure
    table: dict[str, Any] = {}
    at = 2
    while True:
        pair = _PAIR.match(text, at)
        if pair is None or pair[1] in table or pair[11] is not None:
            raise _NotSure
        plain = pair[2]
        table[pair[1]] = plain if plain is not None and "\\" not in plain else _value(pair)
        at = pair.end()
        if text.startswith(", ", at):
            at += 2
        elif text[at:] == " }":
            return table
        else:
            raise _NotSure


def _value(pair: re.Match) -> Any:
    if pair[2] is not None:
        text = pair[2]
        return _ESCAPES.sub(_unescape, text) if "\\" in text else text
    if pair[3] is not None:
        return int(pair[3])
    if pair[4] is not None:
        try:
            if pair[7] is None:
                return dt.date(int(pair[4]), int(pair[5]), int(pair[6]))
            numbers = (int(pair[n]) for n in range(4, 10))
            return dt.datetime(*numbers, tzinfo=_UTC)
        except ValueError:
            raise _NotSure from None
    return []


def _unescape(escape: re.Match) -> str:
    body = escape[0][1:]
    if body in _SIMPLE:
        return _SIMPLE[body]
    point = int(body[1:], 16)
    if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
        raise _NotSure
    return chr(point)
