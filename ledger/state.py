"""The books' state at a close, kept beside the journal so that a first read can start there.

A close entry records its `state`: the SHA-256 of the books as they stood
just before it, written as canonical JSON in `states/<sha256>.json` (named by
its own digest, so two clones that close the same books write the same
file, and a file can never be mistaken for another), and its `state_layout`
(LAYOUT: how this code lays the books out). The writer adds both as it seals
a close. The close's rule holds the digest to the books whenever the close
is folded with its rules and its layout is this code's (recording it,
`verify`, a read from a cache, a sync), so the file says nothing the
journal's entries do not; a state of another layout is neither checked nor
used, so an upgrade never makes a close unsound.

A first read (no read cache) of a report that needs only the books
(`report summary`, `balance`) starts from the last close's state instead of
replaying every entry before it, and checks only the entries after it
(docs/PERFORMANCE.md). What the state leaves out: where every earlier entry
is (the store of entries, the index, the marks), whose money is where (the
envelopes' money by member, and each entry's flow of it) and what
ledger.toml says; the day-by-day history of the asset accounts is kept as
one sum up to the closed period's end, then day by day. Books begun from a
state know it (`Books.begun`, `Books.floor`, `Unindexed`, `Unfunded`) and
raise `Incomplete` when asked for any of that; the caller then reads the
whole journal.

The file comes from a clone, so it is read as hostile: only its digest
named by a close in the chain makes it taken, only the classes below are
built from it (each with all its fields), and anything else in it means the
whole journal is read. What a first read trusts (a state forged together
with its close) is docs/FORMAT.md's to say.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ledger import books as books_module
from ledger.books import Books, History, Incomplete

FOLDER = "states"
# Bumped when what a field of the books means changes; a change of the classes or their fields changes LAYOUT
# by itself (below).
VERSION = 1
PREFIX = "sha256:"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")  # a close's `state`: never a path elsewhere
# What a state never holds: where the entries are (the journal's), read again on demand; whose money is where
# (neither a summary, a balance nor a rule asks, and it is half of the books); what ledger.toml says (a fund
# renamed keeps its closes sound).
_LEFT_OUT = ("store", "index", "checkpoints", "begun", "funding", "name", "manager")
# The classes a state may build, and nothing else: a state file is a stranger's until its digest is checked.
_CLASSES = {
    cls.__name__: cls
    for cls in (
        Books, History, books_module.Member, books_module.Pledge, books_module.Package,
        books_module.Supplier, books_module.Contract, books_module.Delivery, books_module.BankStatement,
        books_module.Officer, books_module.Proposal, books_module.Amendment, books_module.Close, books_module.Earmark,
    )
}  # fmt: skip
_FACTORIES = {"Decimal": Decimal, "dict": dict, "list": list}


def _layout() -> str:
    """12 hex digits naming how this fundledger writes the books: VERSION, every class a state may hold and
    its fields. A close records it beside its state; another fundledger's states are neither checked nor used."""
    shapes = [f"version {VERSION}", f"left out: {' '.join(sorted(_LEFT_OUT))}"]
    samples = {Books: Books("EUR"), History: History()}
    for name, cls in sorted(_CLASSES.items()):
        fields = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else vars(samples[cls])
        shapes.append(f"{name}: {' '.join(sorted(fields))}")
    return hashlib.sha256("\n".join(shapes).encode()).hexdigest()[:12]


LAYOUT = _layout()


class Unreadable(ValueError):
    """A state file that is not one this fundledger writes."""


def encode(books: Books, floor: dt.date) -> bytes:
    """`books` as canonical JSON: the same books (in the same order) always give the same bytes.

    `floor`: the end of the period a close closes; the history keeps each asset account's changes up to it as
    one, dated that day (a backdated entry checked against these books must be dated after it).
    """
    state = {name: value for name, value in vars(books).items() if name not in _LEFT_OUT}
    state["history"] = _compacted(books.history, floor)
    state["floor"] = floor if books.floor is None else max(floor, books.floor)
    document = {"layout": LAYOUT, "books": _value(_Object(Books, state))}
    return json.dumps(document, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")


def digest(data: bytes) -> str:
    return PREFIX + hashlib.sha256(data).hexdigest()


def of(books: Books, floor: dt.date) -> str:
    """The digest a close of a period ending on `floor` records for `books`."""
    return digest(encode(books, floor))


def path(folder: Path, recorded: str) -> Path:
    """Where the state a close records as `recorded` is kept, in the ledger `folder`."""
    if not isinstance(recorded, str) or not DIGEST.fullmatch(recorded):
        raise Unreadable(f"{recorded!r} is not a state's digest")
    return folder / FOLDER / f"{recorded[len(PREFIX) :]}.json"


def decode(data: bytes, begun: int, name: str = "", manager: str = "") -> Books:
    """The books of the fund `name` (managed by `manager`) a state file holds, as before entry `begun` (its
    close): `Unreadable` for anything this fundledger would not have written."""
    try:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("layout") != LAYOUT:
            raise Unreadable("not a state of this fundledger's layout")
        books = _built(document["books"])
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, ArithmeticError) as problem:
        raise Unreadable(f"not a state fundledger wrote: {problem}") from None
    if not isinstance(books, Books) or set(vars(books)) != _HELD or not isinstance(books.history, History):
        raise Unreadable("not the books")
    books.index, books.checkpoints, books.funding, books.begun = Unindexed(), None, Unfunded(), begun
    books.name, books.manager = name, manager
    return books


# The attributes a state holds of the books: a file lacking one is not taken.
_HELD = set(vars(Books("EUR"))) - set(_LEFT_OUT)


def kept(folder: Path, books: Books) -> dict[str, list[int]]:
    """The closes of `books` that record a state, by how their file in the ledger `folder` stands (for `verify`):
    "ok", "missing" (a first read then reads every entry), "wrong" (not the bytes the close's digest names) or
    "other" (written by a fundledger of another layout: this one neither checks nor uses it)."""
    found: dict[str, list[int]] = {"ok": [], "missing": [], "wrong": [], "other": []}
    for close_id in books.closes:
        close = books.entry(close_id)
        recorded = close.get("state")
        if recorded is None:
            continue
        if close.get("state_layout") != LAYOUT:
            found["other"].append(close_id)
            continue
        data = read(folder, recorded)
        found["missing" if data is None else "ok" if digest(data) == recorded else "wrong"].append(close_id)
    return found


def read(folder: Path, recorded: str) -> bytes | None:
    """The bytes of the state file a close records as `recorded`, in the ledger `folder`: None if there is none
    to read (never through a symbolic link), whatever its bytes."""
    where = path(folder, recorded)
    if where.parent.is_symlink() or where.is_symlink():
        return None
    try:
        return where.read_bytes()
    except OSError:
        return None


class Unfunded:
    """Whose money is where, in books begun from a state: neither kept in the state nor followed (a summary, a
    balance and the rules never ask; following it is half of reading an entry): every question is `Incomplete`."""

    def move(self, _entry, _undone=None) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise Incomplete(f"whose money is where, in books begun from a state ({name})")


class Unindexed:
    """The index of books begun from a state: entries are noted nowhere, and every question is `Incomplete`."""

    noting = False

    def add(self, _note) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # pickle and copy look for these: the class has none
            raise AttributeError(name)
        raise Incomplete(f"the index of books begun from a state ({name})")


# --- writing ---------------------------------------------------------------


class _Object:
    def __init__(self, cls: type, fields: dict[str, Any]) -> None:
        self.cls, self.fields = cls, fields


def _compacted(history: History, floor: dt.date) -> _Object:
    days = {}
    for account, changes in history.days.items():
        first = sum((amount for when, amount in changes.items() if when <= floor), Decimal(0))
        later = {when: amount for when, amount in changes.items() if when > floor}
        days[account] = {floor: first, **later}
    return _Object(History, {"days": defaultdict(dict, days)})


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, dt.datetime):
        return {"s": value.isoformat()}
    if isinstance(value, dt.date):
        return {"t": value.isoformat()}
    if isinstance(value, tuple):
        return {"u": [_value(item) for item in value]}
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, defaultdict):
        factory = value.default_factory.__name__ if value.default_factory else ""
        return {"f": factory, "m": [[_value(key), _value(item)] for key, item in value.items()]}
    if isinstance(value, Mapping):
        return {"m": [[_value(key), _value(item)] for key, item in value.items()]}
    if isinstance(value, _Object):
        return {"c": value.cls.__name__, "v": {name: _value(item) for name, item in value.fields.items()}}
    if type(value).__name__ in _CLASSES and type(value) is _CLASSES[type(value).__name__]:
        return _value(_Object(type(value), vars(value)))
    raise TypeError(f"a state cannot hold a {type(value).__name__}")


# --- reading ---------------------------------------------------------------


def _built(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, list):
        return [_built(item) for item in value]
    if not isinstance(value, dict) or len(value) not in (1, 2):
        raise Unreadable("an unknown value")
    if "d" in value:
        return Decimal(_text(value["d"]))
    if "t" in value:
        return dt.date.fromisoformat(_text(value["t"]))
    if "s" in value:
        return dt.datetime.fromisoformat(_text(value["s"]))
    if "u" in value:
        return tuple(_built(item) for item in _list(value["u"]))
    if "m" in value:
        pairs = [(_key(key), _built(item)) for key, item in (_pair(pair) for pair in _list(value["m"]))]
        if "f" not in value:
            return dict(pairs)
        factory = _FACTORIES.get(value["f"]) if value["f"] else None
        if value["f"] and factory is None:
            raise Unreadable("an unknown kind of map")
        return defaultdict(factory, pairs)
    if "c" in value and "v" in value:
        cls = _CLASSES.get(value["c"])
        if cls is None or not isinstance(value["v"], dict):
            raise Unreadable("an unknown kind of object")
        if dataclasses.is_dataclass(cls) and set(value["v"]) != {f.name for f in dataclasses.fields(cls)}:
            raise Unreadable(f"a {value['c']} without its fields")
        made = cls.__new__(cls)
        made.__dict__.update({_text(name): _built(item) for name, item in value["v"].items()})
        return made
    raise Unreadable("an unknown value")


def _key(value: Any) -> Any:
    key = _built(value)
    hash(key)  # a TypeError for a key no map can have
    return key


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise Unreadable("a text expected")
    return value


def _list(value: Any) -> list:
    if not isinstance(value, list):
        raise Unreadable("a list expected")
    return value


def _pair(value: Any) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise Unreadable("a pair expected")
    return value[0], value[1]
