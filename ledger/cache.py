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

The file is a pickle, which must never be loaded from a stranger: it is
signed with HMAC-SHA256 under a key that only this user holds
(`~/.cache/fundledger/cache-key`, mode 0600), and a file whose signature
does not match is ignored. A ledger folder copied from elsewhere with its
`.cache/` is therefore read from its journal, never from the copy's cache.

`FUNDLEDGER_CACHE=off` turns the cache off (nothing read or written).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from ledger.books import Books, History

CACHE_FILE = "books"
ENV_VAR = "FUNDLEDGER_CACHE"
_MAGIC = b"fundledger-cache-1\n"
_TAIL_BYTES = 4096
# Books cached by other code are never taken: the signature covers every module of the package, so a
# changed rule or apply (not only a changed class) means the journal is read again.
# Read when this module is imported, not when a cache is signed: a process still running older code (the
# package upgraded under it) then signs with that code's fingerprint, and newer code never takes its books.
_CODE = hashlib.sha256(b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py")))).digest()
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


def _frozen(books: Books) -> dict[str, Any]:
    """What a cache keeps of `books`: everything but its entries (the journal's), its largest parts as blobs.

    Pledges, packages and the day-by-day history are pickled on their own,
    so a later start unpickles them only if something reads them; parts a
    start never read are kept as the blobs they were.
    """
    state = dict(books.__dict__)
    state["store"] = None
    state["balances"] = dict(books.balances)
    for name in ("pledges", "packages"):
        value = state[name]
        state[name] = value.blob() if isinstance(value, LazyMap) else _pickled(dict(value))
    history = books.history
    state["history"] = history.frozen() if isinstance(history, LazyHistory) else (_pickled(dict(history.days)), [])
    return state


def _thawed(state: dict[str, Any]) -> Books:
    books = Books.__new__(Books)
    books.__dict__.update(state)
    books.balances = defaultdict(Decimal, state["balances"])
    books.pledges, books.packages = LazyMap(state["pledges"]), LazyMap(state["packages"])
    books.history = LazyHistory(*state["history"])
    return books


class LazyMap(MutableMapping):
    """A mapping kept pickled until first read (thousands of pledges unpickled are most of a warm start)."""

    def __init__(self, blob: bytes) -> None:
        self._blob: bytes | None = blob
        self._data: dict | None = None

    def _loaded(self) -> dict:
        if self._data is None:
            self._data, self._blob = pickle.loads(self._blob), None
        return self._data

    def blob(self) -> bytes:
        return self._blob if self._data is None else _pickled(self._data)

    def __getitem__(self, key):
        return self._loaded()[key]

    def get(self, key, default=None):
        return self._loaded().get(key, default)

    def __setitem__(self, key, value) -> None:
        self._loaded()[key] = value

    def __delitem__(self, key) -> None:
        del self._loaded()[key]

    def __contains__(self, key) -> bool:
        return key in self._loaded()

    def __iter__(self) -> Iterator:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


class LazyHistory(History):
    """The day-by-day history kept pickled, with the changes since, until a backdated entry needs it."""

    def __init__(self, blob: bytes, pending: list) -> None:  # no super().__init__: `days` is loaded on demand
        self._blob, self._pending = blob, list(pending)
        self._days: dict | None = None

    @property
    def days(self) -> dict:
        if self._days is None:
            days = defaultdict(dict, pickle.loads(self._blob))
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
        if (folder / CACHE_FILE).is_symlink():  # never a file elsewhere, even a signed one
            return None
        blob = (folder / CACHE_FILE).read_bytes()
    except OSError:
        return None
    head = len(_MAGIC)
    signature, payload = blob[head : head + 32], blob[head + 32 :]
    if not blob.startswith(_MAGIC) or not hmac.compare_digest(signature, _sign(key, payload)):
        return None
    try:
        snapshot = pickle.loads(payload)
    except Exception:  # signed by us but unreadable (another Python?): not trusted, rebuilt
        return None
    if not isinstance(snapshot, Snapshot) or snapshot.settings != settings:
        return None
    return snapshot


def write(folder: Path, snapshot: Snapshot) -> None:
    """Keep `snapshot`, replacing the kept one in one rename; a cache that cannot be written is skipped."""
    key = _key()
    if key is None:
        return
    payload = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        folder.mkdir(exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".books-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_MAGIC + _sign(key, payload) + payload)
            os.replace(name, folder / CACHE_FILE)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        _sweep(folder)
    except OSError:
        return


def _sweep(folder: Path) -> None:
    """Remove what writers killed half-way left behind (a minute old: no live writer is still on it)."""
    old = time.time() - 60
    for leftover in folder.glob(".books-*"):
        with contextlib.suppress(OSError):
            if leftover.stat().st_mtime < old:
                leftover.unlink()


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _CODE + payload, hashlib.sha256).digest()


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
