"""The read cache: the books as of the last byte read of each journal file, kept under `.cache/`.

The journal is append-only, so what was read once never needs reading
again. After every load the books (without their entries, which stay in
the journal) are kept in `.cache/books`, with, for each journal file, how
many bytes were read, its modification time and the SHA-256 of those
bytes. The next load takes the kept books only if every file still
matches: a file whose size and time are unchanged is taken as read (and
the newest one's last bytes are hashed again); a file that changed must
still begin with exactly the bytes read, and only what follows them is
read and checked. Anything else (a file shorter, edited, missing, a file
added before the newest, other settings, another version of the books'
code) and the cache is not used: the journal is read from the start and
the cache written anew. It is derived and safe to delete at any time.

Beside it, each journal file read whole (all but the newest) has its
entries kept as they were read, so that reading one back is not parsing it
again (`keep_entries`); they are taken only for a file whose bytes still
have the SHA-256 they were read from.

The file is a pickle, which must never be loaded from a stranger: it is
signed with HMAC-SHA256 under a key that only this user holds
(`~/.cache/fundledger/cache-key`, mode 0600), and a file whose signature
does not match is ignored. A ledger folder copied from elsewhere with its
`.cache/` is therefore read from its journal, never from the copy's cache.

`FUNDLEDGER_CACHE=off` turns the cache off (nothing read or written).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import hashlib
import hmac
import itertools
import json
import math
import os
import pickle
import secrets
import stat
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from ledger import checkpoints, index
from ledger.books import Books, History
from ledger.funding import Funding

CACHE_FILE = "books"
ENV_VAR = "FUNDLEDGER_CACHE"
_MAGIC = b"fundledger-cache-1\n"
_TAIL_BYTES = 4096
# Books cached by other code are never taken: the signature covers every module of the package but those
# that only show what the books hold (`UNSIGNED`), so a changed rule or apply (not only a changed class)
# means the journal is read again, and a changed table or page does not.
# Read when this module is imported, not when a cache is signed: a process still running older code (the
# package upgraded under it) then signs with that code's fingerprint, and newer code never takes its books.
UNSIGNED = frozenset({"__main__.py", "cli.py", "render.py", "html.py", "charts.py"})
SIGNED = sorted(path for path in Path(__file__).parent.glob("*.py") if path.name not in UNSIGNED)
_CODE = hashlib.sha256(b"".join(path.read_bytes() for path in SIGNED)).digest()
_HISTORY_PENDING = 10_000  # changes a lazy history keeps as a list before it is worth unpickling


class FileState(NamedTuple):  # tuples: thousands of them unpickle fast
    """How much of a journal file was read, and how to tell it is still the same."""

    name: str
    size: int
    mtime_ns: int
    digest: bytes  # SHA-256 of the `size` bytes read
    tail: bytes  # SHA-256 of the last (up to) 4 KiB of them


class Part(NamedTuple):
    """A journal file's entries: ids `first` to `first + count - 1`."""

    name: str
    first: int
    count: int


@dataclass
class Snapshot:
    settings: tuple
    files: list[FileState]
    parts: list[Part]
    books: Books

    def __getstate__(self) -> dict:
        """Thousands of files are kept as a few columns: far quicker to pickle and unpickle than tuples."""
        files, parts = self.files, self.parts
        return {
            "settings": self.settings,
            "books": _frozen(self.books),
            "files": (
                [f.name for f in files], [f.size for f in files], [f.mtime_ns for f in files],
                b"".join(f.digest for f in files), b"".join(f.tail for f in files),
            ),
            "parts": ([p.name for p in parts], [p.first for p in parts], [p.count for p in parts]),
        }  # fmt: skip

    def __setstate__(self, state: dict) -> None:
        names, sizes, times, digests, tails = state["files"]
        self.settings, self.books = state["settings"], _thawed(state["books"])
        self.files = [
            FileState(name, size, when, digests[32 * i : 32 * i + 32], tails[32 * i : 32 * i + 32])
            for i, (name, size, when) in enumerate(zip(names, sizes, times, strict=True))
        ]
        self.parts = list(map(Part, *state["parts"]))


# --- the books, kept so that a warm start unpickles only what it reads ---------


def _frozen(books: Books, keep: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """What a cache keeps of `books`: everything but its entries (the journal's), its largest parts as blobs.

    Pledges, packages and the day-by-day history are pickled on their own,
    so a later start unpickles them only if something reads them; parts a
    start never read are kept as the blobs they were. `keep` is what becomes
    of each large blob (by default: a file of its own beside the cache).
    """
    keep = keep or _side

    def sided(pair: tuple) -> tuple:
        return (keep(pair[0]), *pair[1:])

    state = dict(books.__dict__)
    state["store"] = None
    state["balances"] = dict(books.balances)
    value = state["pledges"]
    state["pledges"] = keep(value.blob() if isinstance(value, PledgeMap) else grouped(value))
    value = state["packages"]
    state["packages"] = keep(value.blob() if isinstance(value, LazyMap) else _pickled(dict(value)))
    history = books.history
    state["history"] = sided(history.frozen() if isinstance(history, LazyHistory) else (_pickled(dict(history.days)), []))
    if books.index.noting:  # books begun from a close's state keep none (ledger.state): nothing to keep
        parts, pending = books.index.frozen() if isinstance(books.index, LazyIndex) else (books.index.parts(), [])
        state["index"] = ({name: keep(blob) for name, blob in parts.items()}, pending)
    # Every entry's flow of money by member is kept for a reversal to undo: most of the books' bytes, and
    # read only by a reversal, so it waits pickled too, and takes new flows without being read.
    if isinstance(books.funding, Funding):  # books begun from a close's state follow no money (ledger.state)
        funds = copy.copy(books.funding)
        flows = funds.flows
        funds.flows = sided(flows.frozen() if isinstance(flows, LazyMap) else (_pickled(dict(flows)), {}))
        # Whose money is in each envelope, and what it bought: read by who-funded-what and a statement, not by a
        # summary, which at a million entries spent a fifth of its time unpickling them.
        for name in ("shares", "spent"):
            owners = getattr(funds, name)
            setattr(funds, name, sided(owners.frozen() if isinstance(owners, LazyMap) else (_pickled(owners), {})))
        state["funding"] = funds
    # The books kept at marks (ledger.checkpoints): each is read only by a report as of a day, so each waits in
    # a side file of its own, whatever its size.
    if books.checkpoints is not None:
        state["checkpoints"] = books.checkpoints.frozen(_side_always if keep is _side else keep)
    return state


def copied(books: Books) -> Books:
    """A copy of `books` to try entries on (an import's plan), made as a cache keeps and reads them back.

    No entry is read or replayed: a copy of a hundred thousand entries' books
    takes a fraction of a second, and its largest parts stay pickled until used.
    """
    marks, books.checkpoints = books.checkpoints, None  # entries tried on the copy are folded without marks
    try:
        state = _frozen(books, keep=lambda blob: blob)
    finally:
        books.checkpoints = marks
    twin = _thawed(pickle.loads(_pickled(state)))
    twin.store = books.store.copied()
    twin.checkpoints = None  # as of a day, the copy replays
    return twin


def _thawed(state: dict[str, Any]) -> Books:
    books = Books.__new__(Books)
    books.__dict__.update(state)
    books.balances = defaultdict(Decimal, state["balances"])
    books.pledges, books.packages = PledgeMap(_bound(state["pledges"])), LazyMap(_bound(state["packages"]))
    blob, pending = state["history"]
    books.history = LazyHistory(_bound(blob), pending)
    if isinstance(state["index"], tuple):  # else the index of books begun from a state, which keeps none
        parts, pending = state["index"]
        books.index = LazyIndex({name: _bound(blob) for name, blob in parts.items()}, pending)
    if isinstance(state["funding"], Funding):
        books.funding = copy.copy(state["funding"])
        for name in ("flows", "shares", "spent"):
            blob, pending = getattr(books.funding, name)
            setattr(books.funding, name, LazyMap(_bound(blob), pending))
    if state.get("checkpoints") is not None:
        books.checkpoints = checkpoints.Checkpoints.thawed(state["checkpoints"], _bound)
    return books


class LazyMap(MutableMapping):
    """A mapping kept pickled until first read (thousands of pledges unpickled are most of a warm start).

    What is set before it is read waits beside the blob (`pending`), so that
    a map only ever added to (each entry's flow of money) is never unpickled
    by a start that only adds to it.
    """

    def __init__(self, blob: bytes, pending: dict | None = None) -> None:
        self._blob: bytes | None = blob
        self._pending: dict = dict(pending or {})
        self._data: dict | None = None

    def _loaded(self) -> dict:
        if self._data is None:
            self._data, self._blob = pickle.loads(_bytes(self._blob)), None
            self._data.update(self._pending)
            self._pending = {}
        return self._data

    def blob(self) -> bytes:
        return self._blob if self._data is None and not self._pending else _pickled(self._loaded())

    def frozen(self) -> tuple[bytes, dict]:
        """The blob as it was read, and what was set since (the whole map pickled again once it was read)."""
        if self._data is None and len(self._pending) < _HISTORY_PENDING:
            return self._blob, self._pending
        return _pickled(self._loaded()), {}

    def __getitem__(self, key):
        if key in self._pending:
            return self._pending[key]
        return self._loaded()[key]

    def get(self, key, default=None):
        if key in self._pending:
            return self._pending[key]
        return self._loaded().get(key, default)

    def __setitem__(self, key, value) -> None:
        if self._data is None:
            self._pending[key] = value
        else:
            self._data[key] = value

    def __delitem__(self, key) -> None:
        del self._loaded()[key]

    def __contains__(self, key) -> bool:
        return key in self._pending or key in self._loaded()

    def __iter__(self) -> Iterator:
        return iter(self._loaded())

    def values(self):  # the dict's own views: the mixin's would look up every key through __getitem__
        return self._loaded().values()

    def items(self):
        return self._loaded().items()

    def keys(self):
        return self._loaded().keys()

    def __len__(self) -> int:
        return len(self._loaded())


class PledgeMap(LazyMap):
    """The pledges, kept pickled member by member (`grouped`): a member's statement unpickles its own pledges
    (`of`), a summary all of them (a fiftieth of the time, with fifty members).

    Read whole, it is the map it stood for: every pledge, in the order of
    their ids, those already read by member the same objects.
    """

    def __init__(self, blob: bytes, pending: dict | None = None) -> None:
        super().__init__(blob, pending)
        self._groups: dict[str, bytes] | None = None  # member -> its pledges pickled, once the blob is read
        self._read: dict[str, dict] = {}  # the members whose pledges were read by `of`

    def _members(self) -> dict[str, bytes]:
        if self._groups is None:
            self._groups = pickle.loads(_bytes(self._blob))
        return self._groups

    def _loaded(self) -> dict:
        if self._data is None:
            data = {}
            for member, blob in self._members().items():
                data.update(self._read.get(member) or pickle.loads(blob))
            data.update(self._pending)
            self._data = dict(sorted(data.items()))
            self._blob, self._groups, self._read, self._pending = None, None, {}, {}
        return self._data

    def of(self, member: str) -> list:
        """The pledges of `member` (by name), only its own unpickled while the rest are not read."""
        if self._data is not None:
            return [pledge for pledge in self._data.values() if pledge.member == member]
        if member not in self._read:
            blob = self._members().get(member)
            self._read[member] = pickle.loads(blob) if blob is not None else {}
        found = dict(self._read[member])
        found.update((key, pledge) for key, pledge in self._pending.items() if pledge.member == member)
        return [pledge for _, pledge in sorted(found.items())]

    def blob(self) -> bytes:
        untouched = self._data is None and not self._pending and not self._read
        return self._blob if untouched else grouped(self._loaded())

    def frozen(self) -> tuple[bytes, dict]:
        return self.blob(), {}


def grouped(pledges: Mapping) -> bytes:
    """Pledges pickled member by member, as `PledgeMap` reads them."""
    members: dict[str, dict] = defaultdict(dict)
    for key, pledge in pledges.items():
        members[pledge.member][key] = pledge
    return _pickled({member: _pickled(own) for member, own in members.items()})


class LazyHistory(History):
    """The day-by-day history kept pickled, with the changes since, until a backdated entry needs it."""

    def __init__(self, blob: bytes, pending: list) -> None:  # no super().__init__: `days` is loaded on demand
        self._blob, self._pending = blob, list(pending)
        self._days: dict | None = None

    @property
    def days(self) -> dict:
        if self._days is None:
            days = defaultdict(dict, pickle.loads(_bytes(self._blob)))
            self._days, self._blob = days, b""
            for change in self._pending:
                History.note(self, *change)
            self._pending = []
        return self._days

    def note(self, account, day, amount) -> None:
        if self._days is None and len(self._pending) < _HISTORY_PENDING:
            self._pending.append((account, day, amount))
        else:
            History.note(self, account, day, amount)

    def frozen(self) -> tuple[bytes, list]:
        if self._days is None:
            return self._blob, self._pending
        return _pickled(dict(self._days)), []


class LazyIndex:
    """The entries' index (`ledger.index`) kept as its parts, with the notes of entries folded since, until read.

    A warm start that only prints the summary never reads it; a start that
    folds new entries only notes them; a query reads the index's core and
    then only the tables it asks for (`Index.from_parts`), each part a blob
    of its own (a file beside the cache when large).
    """

    noting = True

    def __init__(self, parts: dict[str, Any], pending: list[index.Note]) -> None:
        self._parts, self._pending = parts, list(pending)
        self._index: index.Index | None = None

    def loaded(self) -> index.Index:
        if self._index is None:
            self._index = index.Index.from_parts(self._parts, _bytes)
            self._parts = {}
            for seen in self._pending:
                self._index.add(seen)
            self._pending = []
        return self._index

    def add(self, seen: index.Note) -> None:
        if self._index is None and len(self._pending) < _HISTORY_PENDING:
            self._pending.append(seen)
        else:
            self.loaded().add(seen)

    def frozen(self) -> tuple[dict[str, Any], list[index.Note]]:
        if self._index is None:
            return self._parts, self._pending
        return self._index.parts(), []

    def __getattr__(self, name: str) -> Any:  # every question goes to the index itself, read on first use
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.loaded(), name)


# --- large blobs, kept in files of their own --------------------------------
#
# The money flows of every entry (for a reversal to undo) and the index are most of the books' bytes but
# are read by few commands. Kept inside the signed cache, every start would read, check and copy them;
# kept beside it, in a file named by their SHA-256 (which the signed cache holds), a start reads them only
# when it uses them, checks them against that digest, and a cache written again without changing them
# does not write them again.

SIDE_BYTES = 1 << 20  # a blob of at least this many bytes goes to a file of its own
_SIDE_PREFIX = "blob-"
_writing: dict[bytes, bytes | None] = {}  # while a snapshot is pickled: the side blobs it refers to
_reading: list[Path] = []  # while a snapshot is unpickled: the folder its side blobs are in


def _side(blob: Any) -> Any:
    """A large blob as a reference to a side file (written with the cache); a small one as it is."""
    if isinstance(blob, tuple):  # a reference read from the cache and never loaded: kept as it is
        _writing.setdefault(blob[1], None)
        return ("side", blob[1])
    if len(blob) < SIDE_BYTES:
        return blob
    digest = hashlib.sha256(blob).digest()
    _writing[digest] = blob
    return ("side", digest)


def _side_always(blob: Any) -> Any:
    """A blob of any size as a reference to a side file (a mark's books: read by few commands)."""
    if isinstance(blob, tuple):
        return _side(blob)
    digest = hashlib.sha256(blob).digest()
    _writing[digest] = blob
    return ("side", digest)


def _bound(blob: Any) -> Any:
    """A reference read from a cache, with the folder its file is in (set while the cache is read)."""
    if isinstance(blob, tuple) and len(blob) == 2 and blob[0] == "side":
        return ("side", blob[1], _reading[-1])
    return blob


def blob_bytes(blob: Any) -> bytes:
    """A kept blob's bytes (a side file's checked against its digest): for parts kept by other modules."""
    return _bytes(blob)


def _bytes(blob: Any) -> bytes:
    """A blob's bytes: read from its side file and checked against its digest when it is a reference."""
    if not isinstance(blob, tuple):
        return blob
    _, digest, folder = blob
    try:
        data = _plain_file_bytes(folder / (_SIDE_PREFIX + digest.hex()))
    except OSError as problem:
        data, reason = b"", problem.strerror
    else:
        reason = "it is not what the cache recorded"
    if hashlib.sha256(data).digest() != digest:
        from ledger.errors import LedgerError

        raise LedgerError(
            f"the read cache in {folder} is damaged ({_SIDE_PREFIX}{digest.hex()[:12]}: {reason}); "
            "delete that folder (it is rebuilt from the journal) and run the command again"
        )
    return data


def _plain_file_bytes(path: Path) -> bytes:
    """A side file's bytes, read only if it is a plain file: a link or a pipe put in its place is not followed or
    waited on (OSError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "it is not a plain file")
        return handle.read()


def _pickled(value: Any) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def enabled() -> bool:
    return os.environ.get(ENV_VAR, "").lower() not in ("off", "0", "no", "false")


def state(name: str, data: bytes, mtime_ns: int) -> FileState:
    return FileState(name, len(data), mtime_ns, hashlib.sha256(data).digest(), _tail_digest(data))


def _tail_digest(data: bytes) -> bytes:
    return hashlib.sha256(data[-_TAIL_BYTES:]).digest()


def tail_matches(path: Path, kept: FileState) -> bool:
    """Whether the last bytes read of `path` are still the ones kept (read: at most 4 KiB)."""
    with open(path, "rb") as handle:
        handle.seek(max(0, kept.size - _TAIL_BYTES))
        return _tail_digest(handle.read(min(kept.size, _TAIL_BYTES))) == kept.tail


def read(folder: Path, settings: tuple) -> Snapshot | None:
    """The kept snapshot, if there is one signed by this user, for these settings and this code."""
    key = _key()
    if key is None:
        return None
    try:
        blob = _plain_file_bytes(folder / CACHE_FILE)  # never a file elsewhere (a link), even a signed one, nor a pipe
    except OSError:
        return None
    payload = _verified(blob, key, _MAGIC)
    if payload is None:
        return None
    _reading.append(folder)
    try:
        snapshot = pickle.loads(payload)
    except Exception:  # signed by us but unreadable (another Python?): not trusted, rebuilt
        return None
    finally:
        _reading.pop()
    if not isinstance(snapshot, Snapshot) or snapshot.settings != settings:
        return None
    return snapshot


def write(folder: Path, snapshot: Snapshot) -> None:
    """Keep `snapshot`, replacing the kept one in one rename; a cache that cannot be written is skipped."""
    key = _key()
    if key is None:
        return
    _writing.clear()
    try:
        payload = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        sides = dict(_writing)
    finally:
        _writing.clear()
    try:
        folder.mkdir(exist_ok=True)
        for digest, blob in sides.items():  # first the side files, then the cache that names them
            path = folder / (_SIDE_PREFIX + digest.hex())
            if blob is None and not path.exists():
                return  # a part never read, whose file is gone: no cache that names it
            if blob is not None and not path.exists():
                _replace(folder, path, blob)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".books-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_signed(key, _MAGIC, payload))
            os.replace(name, folder / CACHE_FILE)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        kept = {_SIDE_PREFIX + digest.hex() for digest in sides}
        kept |= {kind + state.digest.hex() for state in snapshot.files for kind in _KEPT_MAGIC}
        _sweep(folder, kept)
    except OSError:
        return


# --- a journal file's entries, kept as they were read ----------------------------
#
# Reading an entry back from its journal file (a register's row, a statement's line) means parsing its TOML
# and building it: about 40 µs. A file's entries are therefore kept, once read whole, pickled beside the
# cache (about 40% of the file's size; about 5 µs an entry to unpickle), in a file named by the SHA-256 of the
# journal bytes they were read from and signed like the cache with this user's key, that digest and the
# code. The journal stays the judge: they are taken only for a file whose bytes still have that digest
# (`journal.JournalArchive`), and a file that is not signed, or not for that digest, is passed over.
#
# A register's rows of a file's entries (`reports.register_report`: each entry's JSON and the words a table
# shows, what no later entry changes) are kept the same way, as their own kind: a register of a month at a
# million entries reads ten thousand of them, about 4 µs each, where reading the entries and making their rows
# took 11.

ENTRIES_PREFIX = "entries-"
REGISTER_ROWS = "register-rows-"
# What may be kept of a journal file, by the prefix of its files' names: each kind signed as itself.
_KEPT_MAGIC = {ENTRIES_PREFIX: b"fundledger-entries-1\n", REGISTER_ROWS: b"fundledger-register-rows-1\n"}
_ENTRIES_MAGIC = _KEPT_MAGIC[ENTRIES_PREFIX]


def keep_entries(folder: Path, digest: bytes, entries: list, kind: str = ENTRIES_PREFIX) -> None:
    """Keep the entries read from journal bytes whose SHA-256 is `digest` (all of them, in order), or with
    `kind` REGISTER_ROWS their rows; skipped if they cannot be kept (no key, no room, a read-only folder)."""
    key = _key()
    if key is None or not entries:
        return
    payload = _pickled(entries)
    with contextlib.suppress(OSError):
        folder.mkdir(exist_ok=True)
        _replace(folder, folder / (kind + digest.hex()), _signed(key, _KEPT_MAGIC[kind], payload, digest))


def kept_entries(folder: Path, digest: bytes, kind: str = ENTRIES_PREFIX) -> list | None:
    """The entries (or with `kind` REGISTER_ROWS, the register's rows) kept for journal bytes of SHA-256 `digest`, if this
    user's code kept them for those bytes."""
    key = _key()
    if key is None:
        return None
    try:
        blob = _plain_file_bytes(folder / (kind + digest.hex()))
    except OSError:
        return None
    payload = _verified(blob, key, _KEPT_MAGIC[kind], digest)
    if payload is None:
        return None
    try:
        entries = pickle.loads(payload)
    except Exception:  # signed by us but unreadable (another Python?): passed over, the journal is parsed
        return None
    return entries if isinstance(entries, list) else None


def _replace(folder: Path, path: Path, data: bytes) -> None:
    """Write `path` whole, in one rename."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".books-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


_UNNAMED = "unnamed"  # the sweep's record: side files no cache names, and since when (seconds since the epoch)
_GRACE = 600  # how long a side file is kept once no cache names it: a command still running may yet read it


def _sweep(folder: Path, kept: set[str]) -> None:
    """Remove what writers killed half-way left behind (a minute old: no live writer is still on it), and side
    files that no cache has named for ten minutes.

    Ten minutes from when a sweep first found a file unnamed, not from when
    it was written: a command that read the cache an hour after its side
    files were written may still be running when another command writes
    the cache anew (each load that reads new entries writes what changed anew).
    A record lost or damaged only starts the ten minutes again.
    """
    now = time.time()
    try:
        noted = json.loads((folder / _UNNAMED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        noted = {}
    noted = noted if isinstance(noted, dict) else {}
    unnamed = {}
    found = [folder.glob(pattern) for pattern in (".books-*", _SIDE_PREFIX + "*", *(kind + "*" for kind in _KEPT_MAGIC))]
    for leftover in itertools.chain(*found):
        if leftover.name in kept:
            continue
        with contextlib.suppress(OSError):
            written = leftover.stat().st_mtime
            if leftover.name.startswith("."):
                if written < now - 60:
                    leftover.unlink()
                continue
            since = noted.get(leftover.name)
            since = min(since, now) if type(since) in (int, float) and math.isfinite(since) else now
            if max(since, written) < now - _GRACE:
                leftover.unlink()
            else:
                unnamed[leftover.name] = since
    with contextlib.suppress(OSError):
        if unnamed or noted:
            _replace(folder, folder / _UNNAMED, json.dumps(unnamed).encode("utf-8"))


def _signed(key: bytes, kind: bytes, payload: bytes, bound: bytes = b"") -> bytes:
    """A signed file's bytes: its kind (magic line), its signature over `bound` (what else it is for, unwritten)
    and `payload`, then the payload."""
    return kind + _sign(key, kind, bound + payload) + payload


def _verified(blob: bytes, key: bytes, kind: bytes, bound: bytes = b"") -> bytes | None:
    """The payload of a file `_signed` as `kind` for `bound` under `key`; None for any other bytes."""
    head = len(kind)
    signature, payload = blob[head : head + 32], blob[head + 32 :]
    if not blob.startswith(kind) or not hmac.compare_digest(signature, _sign(key, kind, bound + payload)):
        return None
    return payload


def _sign(key: bytes, kind: bytes, payload: bytes) -> bytes:
    """The signature of a file of `kind` (its magic line, which no other kind's begins with) and `payload`: a
    file signed as one kind (a journal file's kept entries) never passes as another (the books)."""
    return hmac.new(key, kind + _CODE + payload, hashlib.sha256).digest()


def _key() -> bytes | None:
    """This user's cache key, made on first use; None if there is nowhere to keep one (no cache then)."""
    home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(home) / "fundledger" / "cache-key"
    try:
        key = path.read_bytes()
        if len(key) == 32:
            return key
        return None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it just now
        return _key()
    except OSError:
        return None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
