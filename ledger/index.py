"""Where each entry is: entry ids by member, earmark, package, contract, supplier, account, kind, month and source.

Fed in one place, as the fold posts an entry (`Books.post`), and kept in the
read cache with the books, so that a filtered register, a statement or a
period report reads only the entries an index names instead of the whole
journal. An index only ever *narrows*: it names every entry a filter could
select (and perhaps a few more), and the report still checks each entry it
reads with the filter itself, so a register read through it lists exactly
what a scan of every entry lists (tests/test_index.py checks this on random
ledgers).

Besides the ids, it keeps what lets a report skip entries it does not show:
each entry's date (the ids of a month are not all of that month's order), the
net change of every account per month (a register's opening balance), and
what the whole register needs before its first row (which kinds move money,
whether any entry was given in another currency, the order in which the
entries' fields first appear).
"""

from __future__ import annotations

import datetime as dt
import pickle
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from ledger import model
from ledger.model import Entry

ZERO = Decimal(0)
KEYS = ("member", "earmark", "package", "contract", "supplier", "account", "kind", "month", "source")
_TAGGED = (model.EARMARKED + ":", model.RECEIVABLE + ":")  # accounts whose last part names an earmark
ABSENT = 0  # the date of an id the books do not hold (no day has ordinal 0)


def month_of(day: dt.date) -> int:
    """A month as one number (year * 12 + month - 1), so that months sort and subtract."""
    return day.year * 12 + day.month - 1


def supplier_key(name: str) -> str:
    """What two spellings of one supplier's name have in common: case and spacing ignored."""
    return " ".join(name.split()).casefold()


class Note(NamedTuple):
    """What the index learns from one entry (a tuple: thousands are kept, pickled, until the index is read)."""

    id: int
    day: int  # the date's ordinal
    month: int  # month_of the date
    keys: tuple[tuple[str, Any], ...]  # (index, key) pairs, accounts included
    changes: tuple[tuple[str, Decimal], ...]  # (account, amount) for each posting
    moving: str | None  # the kind whose money it moves (a reversal: the kind it undoes), None if it moves none
    amount: Decimal  # its register amount: what it moved (a reversal's negative)
    given: bool  # given in another currency (or undoing an entry that was)
    reverses: int | None
    fields: tuple[str, ...]  # the names of its own fields, in order


def note(entry: Entry, undone: Entry | None) -> Note:
    """What `entry` tells the index; `undone` is the entry a reversal undoes."""
    data = entry.data
    get = data.get
    day = entry.date
    month = day.year * 12 + day.month - 1  # month_of, inline: this runs for every entry read
    keys: list[tuple[str, Any]] = [("kind", entry.kind), ("month", month), ("source", entry.source)]
    append = keys.append
    for field in ("member", "by"):
        value = get(field)
        if isinstance(value, str):
            append(("member", _slug(value)))
    value = get("earmark")
    if isinstance(value, str):
        append(("earmark", value))
    split = get("split")
    if isinstance(split, Mapping):
        keys += [("earmark", name) for name in split]
    value = get("package")
    if isinstance(value, str):
        append(("package", value))
    value = get("contract")
    if isinstance(value, str):
        append(("contract", model.slug(value)))
    value = get("supplier")
    if isinstance(value, str):
        append(("supplier", supplier_key(value)))
    changes = []
    for posting in entry.postings:
        account = posting.account
        append(("account", account))
        if account.startswith(_TAGGED):
            append(("earmark", account.rsplit(":", 1)[1]))
        changes.append((account, posting.amount))
    source = undone if undone is not None else entry
    moving = source.kind if source.postings else None
    amount = (-model.size(undone) if undone is not None else model.size(entry)) if moving else ZERO
    return Note(
        entry.id, day.toordinal(), month, tuple(dict.fromkeys(keys)), tuple(changes), moving, amount,
        bool(source.get("original_currency")), undone.id if undone is not None else None, tuple(data),
    )  # fmt: skip


_SLUGS: dict[str, str] = {}  # member names seen -> their slugs (a name recurs in thousands of entries)


def _slug(name: str) -> str:
    found = _SLUGS.get(name)
    if found is None:
        found = _SLUGS[name] = model.slug(name)
    return found


class Index:
    """The indexes of a run of entries, added to as each is folded (see the module's docstring)."""

    noting = True  # whether the books note each entry folded here (not those begun from a close's state)

    def __init__(self) -> None:
        self.ids: dict[str, dict[Any, array]] = {name: {} for name in KEYS}
        self.dates = array("i")  # the date (ordinal) of entry id n at position n - 1
        self.reversals: dict[int, list[int]] = {}  # entry id -> the ids of the reversals that undo it
        self.monthly: dict[str, dict[int, Decimal]] = {}  # account -> month -> net change
        self.moving: dict[str, Decimal] = {}  # kind whose money moved -> the register amounts of its rows
        self.given = 0  # entries given in another currency, with reversals of them
        self.largest = ZERO  # the largest amount a register row has, either way
        self.fields: dict[str, tuple[int, int, int]] = {}  # field -> (date, id, place) of its first entry by date

    def add(self, seen: Note) -> None:
        """Index one more entry (entries come in id order; books as of a day skip the ids of later days)."""
        if seen.id <= len(self.dates):
            raise ValueError(f"entry #{seen.id} indexed after #{len(self.dates)}")
        if seen.id > len(self.dates) + 1:  # ids these books do not hold: no date
            self.dates.extend(array("i", [ABSENT]) * (seen.id - 1 - len(self.dates)))
        self.dates.append(seen.day)
        ids, entry_id = self.ids, seen.id
        for name, key in seen.keys:
            table = ids[name]
            found = table.get(key)
            if found is None:
                found = table[key] = array("I")
            found.append(entry_id)
        month, monthly = seen.month, self.monthly
        for account, amount in seen.changes:
            months = monthly.get(account)
            if months is None:
                months = monthly[account] = {}
            months[month] = months.get(month, ZERO) + amount
        if seen.moving is not None:
            self.moving[seen.moving] = self.moving.get(seen.moving, ZERO) + seen.amount
        self.given += seen.given
        self.largest = max(self.largest, abs(seen.amount))
        if seen.reverses is not None:
            self.reversals.setdefault(seen.reverses, []).append(seen.id)
        for place, field in enumerate(seen.fields):
            first = self.fields.get(field)
            if first is None or (seen.day, seen.id) < first[:2]:
                self.fields[field] = (seen.day, seen.id, place)

    # --- asking -----------------------------------------------------------

    def date(self, entry_id: int) -> dt.date:
        return dt.date.fromordinal(self.dates[entry_id - 1])

    def named(self, name: str, key: Any) -> array:
        """The ids of the entries indexed under `name` `key`, in id order."""
        return self.ids[name].get(key, array("I"))

    def accounts_under(self, prefix: str) -> list[str]:
        """The accounts any entry posted to that are `prefix` or below it."""
        return [a for a in self.ids["account"] if a == prefix or a.startswith(prefix + ":")]

    def between(self, start: dt.date | None, end: dt.date | None) -> Iterator[int]:
        """The ids of the entries dated from `start` to `end` (either open), month by month, in id order per month."""
        months = sorted(self.ids["month"])
        low = month_of(start) if start else None
        high = month_of(end) if end else None
        first, last = (start.toordinal() if start else None), (end.toordinal() if end else None)
        dates = self.dates
        for month in months:
            if (low is not None and month < low) or (high is not None and month > high):
                continue
            edge = month in (low, high)
            for entry_id in self.ids["month"][month]:
                if edge:
                    day = dates[entry_id - 1]
                    if (first is not None and day < first) or (last is not None and day > last):
                        continue
                yield entry_id

    def in_order(self, ids: Iterable[int]) -> list[int]:
        """`ids` sorted as a register lists them: by date, then id."""
        dates = self.dates
        return sorted(ids, key=lambda entry_id: (dates[entry_id - 1], entry_id))

    def change_before(self, accounts: Iterable[str], day: dt.date) -> tuple[Decimal, list[int]]:
        """The net change of `accounts` over whole months before `day`'s, and the ids of `day`'s month before it.

        A register's opening balance is the first plus what those entries
        change: only a month's entries are read, never the whole journal.
        """
        month = month_of(day)
        total = ZERO
        wanted = set()
        for account in accounts:
            for when, amount in self.monthly.get(account, {}).items():
                if when < month:
                    total += amount
            wanted.update(self.named("account", account))
        bound = day.toordinal()
        partial = [i for i in self.named("month", month) if i in wanted and self.dates[i - 1] < bound]
        return total, partial

    def count_to(self, end: dt.date) -> tuple[int, int]:
        """How many entries are dated on or before `end`, and the highest id among them (0 if none)."""
        bound = end.toordinal()
        count, last = 0, 0
        high = month_of(end)
        for month, ids in self.ids["month"].items():
            if month < high:
                count += len(ids)
                last = max(last, ids[-1])
            elif month == high:
                for entry_id in ids:
                    if self.dates[entry_id - 1] <= bound:
                        count += 1
                        last = max(last, entry_id)
        return count, last

    def field_order(self) -> list[str]:
        """Every field any entry has, in the order a register by date first meets them."""
        return sorted(self.fields, key=lambda field: self.fields[field])

    # --- kept in the cache ------------------------------------------------

    def parts(self) -> dict[str, bytes | Any]:
        """The index as blobs to be kept apart (`from_parts`): its core, the monthly changes, and each key's table.

        A register of one package then reads the package table and the
        core, not the thousands of accounts' tables or their months. A part
        never read since the index was kept is given back as it came.
        """
        core = {name: getattr(self, name) for name in _CORE}
        core["dates"] = self.dates.tobytes()
        found = {"core": _pickled(core)}
        found["monthly"] = self.__dict__["_monthly"] if "_monthly" in self.__dict__ else _pickled(self.monthly)
        found.update(("ids." + name, blob) for name, blob in getattr(self.ids, "blobs", {}).items())
        for name, keyed in self.ids.items():
            found["ids." + name] = _pickled({k: v.tobytes() for k, v in keyed.items()})
        return found

    @classmethod
    def from_parts(cls, parts: Mapping[str, Any], read: Callable[[Any], bytes] | None = None) -> Index:
        """The index `parts` kept; `read` gives a part's bytes (a part kept in a file of its own is read on use)."""
        read = read or _same
        found = cls.__new__(cls)
        core = pickle.loads(read(parts["core"]))
        found.dates = array("i")
        found.dates.frombytes(core.pop("dates"))
        found.__dict__.update(core)
        found._read = read
        found._monthly = parts["monthly"]
        found.ids = _ByKey({name[4:]: blob for name, blob in parts.items() if name.startswith("ids.")}, read)
        return found

    def __getstate__(self) -> dict:
        read = self.__dict__.get("_read", _same)
        return {name: read(blob) for name, blob in self.parts().items()}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(Index.from_parts(state).__dict__)

    def __getattr__(self, name: str) -> Any:  # only for what is not there: the monthly changes, until first read
        if name == "monthly" and "_monthly" in self.__dict__:
            self.monthly = pickle.loads(self._read(self.__dict__["_monthly"]))
            del self.__dict__["_monthly"]
            return self.monthly
        raise AttributeError(name)


_CORE = ("dates", "reversals", "moving", "given", "largest", "fields")  # what every question of the index reads


def _same(blob: Any) -> Any:
    return blob


def _pickled(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


class _ByKey(dict):
    """The index's ids by key name (member, package, ...), each name's table unpickled when first asked for."""

    def __init__(self, blobs: dict[str, Any], read: Callable[[Any], bytes]) -> None:
        super().__init__()
        self.blobs, self.read = dict(blobs), read

    def __missing__(self, name: str) -> dict[Any, array]:
        # Read, then forgotten: a part that cannot be read (a damaged side file) says so again when asked again.
        table = self[name] = {k: _ids(v) for k, v in pickle.loads(self.read(self.blobs[name])).items()}
        del self.blobs[name]
        return table


def _ids(blob: bytes) -> array:
    found = array("I")
    found.frombytes(blob)
    return found
