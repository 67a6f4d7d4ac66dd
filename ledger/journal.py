"""The ledger on disk: `ledger.toml`, the append-only journal files, the write lock.

`load` is one pipeline: read the settings, read every entry in order, fold
each into the books so far (`fold.fold`: chain, ids, every rule), return the
books. This module alone knows how journal files are laid out (`[[entry]]`
blocks, a blank line between them, `split_blocks`, `entry_bytes`, `joined`);
`ledger.writer` appends through `append` under `lock`. Nothing here rewrites
a byte already written; the exceptions are `append` cutting back its own
write when it fails, and `cut_unfinished_tail`, which removes an unfinished
write at the very end of the newest journal file (see docs/FORMAT.md).
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import fcntl
import gc
import hashlib
import itertools
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import tomli_w

from ledger import cache, checkpoints, fastparse, fold, git, kinds, model, money, state
from ledger.books import Books, Held, Incomplete, made_of
from ledger.errors import BadInput, CorruptJournal, LedgerError, NotALedger, Refused, TornWrite
from ledger.model import Entry

SETTINGS_FILE = "ledger.toml"
JOURNAL_DIR = "journal"
CACHE_DIR = ".cache"
FORMAT_VERSION = 1
ENV_VAR = "FUNDLEDGER_DIR"

_HEADER = re.compile(rb"^\[\[entry\]\]\r?\n", re.MULTILINE)
_HEADER_TEXT = re.compile(rb"\[\[entry\]\]\r?\n")  # the same, wherever it is on its line
_ID_LINE = re.compile(rb"^id = ([0-9]{1,18})\r?$", re.MULTILINE)
_PREV_LINE = re.compile(rb'^prev = "([0-9a-f]{64})"\r?$', re.MULTILINE)
# Between two entries of a file: one blank line (an entry ends with its own newline).
SEPARATOR = b"\n"
_JOURNAL_NAME = re.compile(r"[0-9]{4}-[0-9]{4}\.toml")
# A journal file takes new entries until it holds this many bytes; then the next part starts. Keeping
# files small keeps every git commit's new blob small, so a history of many commits stays cheap to
# store and to audit (each commit's diff is at most this big, not the size of a year's journal).
PART_BYTES = 128 * 1024
_GITIGNORE = "# Derived files: safe to delete, never committed.\n.cache/\n*.lock\n"


@dataclass(frozen=True)
class Settings:
    name: str
    currency: str
    manager: str = ""
    commit: bool = True
    bank_accounts: tuple[str, ...] = ()  # the IBANs of the fund's bank accounts, as written; () for any


@dataclass(frozen=True)
class Ledger:
    path: Path
    settings: Settings

    @property
    def journal_dir(self) -> Path:
        return self.path / JOURNAL_DIR

    @property
    def cache_dir(self) -> Path:
        """`.cache/`, where the lock and the read cache go: a folder of the ledger's own, never a link.

        A link (committed to the repository by someone else, say) would send
        what fundledger writes, and reads back, to wherever it points.
        """
        folder = self.path / CACHE_DIR
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise LedgerError(
                f"{folder} is a link or not a folder: fundledger writes only inside the ledger; "
                "remove it (it holds nothing that cannot be rebuilt) and run the command again"
            )
        return folder

    def journal_files(self) -> list[Path]:
        """The journal files, oldest first; only the last one ever grows. Links are refused, never followed."""
        return [self.journal_dir / name for name in self.journal_names()]

    def journal_names(self) -> list[str]:
        """The journal files' names, oldest first (cheaper than paths when there are thousands)."""
        if self.journal_dir.is_symlink() or not self.journal_dir.is_dir():
            raise CorruptJournal(
                f"{self.journal_dir} is missing or a link: this ledger has no journal folder of its own"
            )
        names = []
        with os.scandir(self.journal_dir) as found:  # one pass, no stat per file: thousands of parts stay cheap
            for item in found:
                if _JOURNAL_NAME.fullmatch(item.name):
                    if item.is_symlink() or not item.is_file(follow_symlinks=False):
                        raise CorruptJournal(
                            f"{item.path} is a link or not a file: journal files are plain files in the ledger"
                        )
                    names.append(item.name)
        return sorted(names)


# --- finding, creating and opening ---------------------------------------


def find(explicit: str | None = None, cwd: Path | None = None) -> Path:
    """The ledger folder: `--ledger`, else $FUNDLEDGER_DIR, else the nearest folder upward with ledger.toml."""
    chosen = explicit or os.environ.get(ENV_VAR)
    if chosen:
        path = Path(chosen)
        if path.is_symlink():
            raise NotALedger(f"{chosen} is a symbolic link: give the ledger's real folder")
        if not (path / SETTINGS_FILE).is_file():
            raise NotALedger(f"{chosen} is not a ledger: it has no {SETTINGS_FILE} (create one with `fundledger init`)")
        return path
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise NotALedger(
        f"no ledger here: no {SETTINGS_FILE} in {start} or above it "
        f"(use --ledger PATH, set {ENV_VAR}, or create one with `fundledger init`)"
    )


def init(path: Path, name: str, currency: str, manager: str = "") -> Ledger:
    """Create a ledger folder with its settings, an empty journal folder and a .gitignore."""
    money.check_currency(currency)
    if not name.strip():
        raise BadInput("a ledger needs a name (--name)")
    if manager:
        model.check_member_name(manager)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BadInput(f"{path} already exists and is not an empty folder")
    settings = Settings(name=name, currency=currency, manager=manager)
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / JOURNAL_DIR).mkdir()
        text = tomli_w.dumps(
            {
                "format": FORMAT_VERSION,
                "name": name,
                "currency": currency,
                "manager": manager,
                "settings": {"commit": settings.commit},
            }
        )
        (path / SETTINGS_FILE).write_text(text, encoding="utf-8")
        (path / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
    except OSError as problem:
        raise LedgerError(f"cannot create ledger at {path}: {problem.strerror}") from None
    return Ledger(path, settings)


def open_ledger(path: Path) -> Ledger:
    """Read `ledger.toml`; a missing or malformed one is a clear error."""
    settings_path = path / SETTINGS_FILE
    if settings_path.is_symlink():
        raise NotALedger(f"{settings_path} is a symbolic link: a ledger's settings are a plain file")
    try:
        raw = tomllib.loads(settings_path.read_text(encoding="utf-8"), parse_float=Decimal)
    except FileNotFoundError:
        raise NotALedger(f"{path} is not a ledger: it has no {SETTINGS_FILE}") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise NotALedger(f"cannot read {settings_path}: {getattr(problem, 'strerror', None) or problem}") from None
    except tomllib.TOMLDecodeError as problem:
        raise CorruptJournal(f"{settings_path} is not valid TOML: {problem}") from None
    except (ArithmeticError, ValueError, RecursionError):
        raise CorruptJournal(f"{settings_path} is not readable TOML (a number or nesting beyond reason)") from None
    try:
        settings = _settings(raw)
    except (KeyError, TypeError, ValueError, BadInput) as problem:
        raise CorruptJournal(f"{settings_path} is not a fundledger settings file: {problem}") from None
    return Ledger(path, settings)


def _settings(raw: dict) -> Settings:
    if raw.get("format") != FORMAT_VERSION:
        raise ValueError(f"format {raw.get('format')!r} is not {FORMAT_VERSION}")
    name, currency, manager = raw["name"], raw["currency"], raw.get("manager", "")
    commit = raw.get("settings", {}).get("commit", True)
    if not all(isinstance(v, str) for v in (name, currency, manager)) or not isinstance(commit, bool):
        raise TypeError("name, currency and manager are text; settings.commit is true or false")
    banks = raw.get("bank_accounts", [])
    if not isinstance(banks, list) or not all(isinstance(v, str) and 0 < len(v) <= 64 for v in banks):
        raise TypeError("bank_accounts is a list of IBANs, such as [\"LV80BANK0000435195001\"]")
    return Settings(name=name, currency=money.check_currency(currency), manager=manager, commit=commit,
                    bank_accounts=tuple(banks))  # fmt: skip


# --- reading -------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    """An entry and where its bytes are."""

    entry: Entry
    path: Path
    offset: int
    length: int


def read_entries(ledger: Ledger) -> Iterator[Located]:
    """Every entry in journal order, each parsed with tomllib from its own bytes.

    An entry that cannot be read is `CorruptJournal`, except an unfinished
    one at the very end of the newest file, which is `TornWrite`.
    """
    files = ledger.journal_files()
    for index, path in enumerate(files):
        yield from _blocks(ledger, path, _read_bytes(path), 0, newest=index == len(files) - 1)


def is_journal_name(name: str) -> bool:
    return _JOURNAL_NAME.fullmatch(name) is not None


def blocks(ledger: Ledger, path: Path, data: bytes, *, newest: bool) -> Iterator[Located]:
    """The entries in a journal file's bytes (read from anywhere: a git object, a merge), each checked as on load."""
    return _blocks(ledger, path, data, 0, newest=newest, fast=True)


def split_blocks(data: bytes, begin: int = 0) -> tuple[bytes, list[tuple[int, int]]]:
    """A journal file's bytes from `begin` cut into entry blocks: (text before the first, [(start, end)]).

    Each block runs from its `[[entry]]` header line to the next header (or
    the end); the text before the first header must be blank.
    """
    # A header is `[[entry]]` at the start of a line: found as text, then its line's start checked (what
    # `_HEADER`'s `^` does), six times quicker than the anchored pattern, which is tried at every byte.
    found = (match.start() for match in _HEADER_TEXT.finditer(data, begin))
    starts = [at for at in found if at == 0 or data[at - 1] == 10]
    ends = [*starts[1:], len(data)] if starts else []
    return data[begin : starts[0] if starts else len(data)], list(zip(starts, ends, strict=True))


def blank(text: bytes) -> bool:
    """Nothing but blank lines and TOML comments (which a whole-file TOML reader skips too)."""
    return all(not line.strip() or line.lstrip().startswith(b"#") for line in text.splitlines())


def entry_id_of(chunk: bytes) -> int | None:
    """The id a block that cannot be read says it has, if a line says so (to name it in a message)."""
    match = _ID_LINE.search(chunk)
    return int(match[1]) if match else None


def _blocks(
    ledger: Ledger, path: Path, data: bytes, begin: int, *, newest: bool, fast: bool = False, vouched: int = 0
) -> Iterator[Located]:
    """The entries in `data` (a journal file's bytes) from byte `begin`, which is where an entry ends.

    `vouched`: the first bytes of `data` whose entries' hashes are known checked (`JournalArchive._vouching`).
    """
    before, spans = split_blocks(data, begin)
    if not blank(before):
        raise CorruptJournal(f"{_rel(ledger, path)} has text before its first [[entry]] (byte {begin})")
    for number, (start, end) in enumerate(spans):
        last = newest and number == len(spans) - 1
        try:
            entry = parse_entry(data[start:end], fast=fast, hashed=end <= vouched)
        except kinds.UnknownKind as unknown:
            raise CorruptJournal(f"{_rel(ledger, path)} at byte {start}: {unknown}") from None
        except HashMismatch as changed:
            if not (last and changed.incomplete):
                raise CorruptJournal(
                    f"{_rel(ledger, path)} at byte {start}: {changed}: it is whole, so it was changed after it was "
                    "written (damage, not an unfinished write); restore the file from git "
                    f"(`git checkout -- {_rel(ledger, path)}`) or find out who changed it"
                ) from None
            raise _torn(ledger, path, start, end, changed) from None
        except ValueError as problem:
            whole = _whole_entry_in(data[start:end]) if last else None
            if whole is not None:
                raise CorruptJournal(
                    f"{_rel(ledger, path)} at byte {start + whole}: text that is no entry follows entry "
                    f"#{entry_id_of(data[start:end])}, which is whole (damage, not an unfinished write of fundledger's)"
                ) from None
            if last:
                raise _torn(ledger, path, start, end, problem) from None
            raise CorruptJournal(f"{_rel(ledger, path)} at byte {start}: {problem}") from None
        yield Located(entry, path, start, end - start)


def _whole_entry_in(chunk: bytes) -> int | None:
    """Where a whole, hash-matching entry at the start of `chunk` ends, when other text follows it.

    An unfinished write is a prefix of an entry; a whole entry followed by
    something else is not, and must never be offered for cutting.
    """
    if len(chunk) > 1 << 20:
        return None
    ends = [index + 1 for index, byte in enumerate(chunk) if byte == 0x0A][:-1]
    for end in reversed(ends):
        try:
            parse_entry(chunk[:end])
        except ValueError:
            continue
        return end
    return None


def _torn(ledger: Ledger, path: Path, start: int, end: int, problem: ValueError) -> TornWrite:
    return TornWrite(
        f"{_rel(ledger, path)} ends with an unfinished entry at byte {start} ({end - start} bytes: {problem}); "
        "`fundledger repair` shows it, `fundledger repair --yes` removes it",
        str(path),
        start,
    )


def parse_entry(chunk: bytes, *, fast: bool = False, hashed: bool = False) -> Entry:
    """One `[[entry]]` block's bytes as an entry whose hash matches its content; ValueError says what is wrong.

    `fast` reads the block with `ledger.fastparse` when it is of the shape
    fundledger writes (tomllib otherwise); the result is the same. `hashed`:
    these bytes are known to be ones whose hash was checked before (a file
    whose digest matches the one kept when it was read), so it is not
    worked out again.

    Whatever the bytes, ValueError is the only exception: the callers turn it
    into one `corrupt:` line naming the file and the entry's byte.
    """
    try:
        text = chunk.decode("utf-8")
        table = (fast and fastparse.parse(text)) or tomllib.loads(text, parse_float=Decimal)
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except tomllib.TOMLDecodeError as problem:
        raise ValueError(f"not valid TOML ({problem})") from None
    except (ArithmeticError, ValueError):
        # TOML that tomllib matched but Python cannot hold, which tomllib does not wrap: an exponent Decimal
        # refuses (InvalidOperation, issue 13 item 8) or an integer of more digits than int() takes.
        raise ValueError("not readable TOML (a number with too many digits or too large an exponent)") from None
    except RecursionError:
        raise ValueError("not readable TOML (arrays or tables nested too deeply)") from None
    try:
        if set(table) != {"entry"} or not isinstance(table["entry"], list) or len(table["entry"]) != 1:
            raise ValueError("an entry block holds exactly one [[entry]] table")
        entry = kinds.from_record(table["entry"][0])
        matches = hashed or entry.hash == model.entry_hash(entry)
    except ArithmeticError:  # an amount of more digits than Decimal's precision, when the hash writes it out again
        raise ValueError("an amount with too many digits to read") from None
    except (LookupError, TypeError, AttributeError, RecursionError) as problem:
        # A value of a type its field cannot have that the checks did not foresee (a list as the kind cannot
        # be looked up). Not `Exception`: a mistake in our own code must still show as one, not as a corrupt journal.
        raise ValueError(f"not an entry of the shape fundledger writes ({type(problem).__name__}: {problem})") from None
    if not matches:
        raise HashMismatch(entry)
    return entry


class HashMismatch(ValueError):
    """A block that reads as an entry, but whose content is not what its hash pins."""

    def __init__(self, entry: Entry) -> None:
        super().__init__(f"entry #{entry.id} does not match its hash")
        self.entry = entry

    @property
    def incomplete(self) -> bool:
        """Whether the entry lacks what a write cut short would lose: postings at the end of its block.

        tomli-w writes an entry's postings as the block's last tables, after
        its hash, so a write cut short can leave a block that reads but
        balances no more. An entry that is whole (balanced, every field
        there) with a wrong hash was changed after it was written.
        """
        kind = kinds.get(self.entry.kind)
        postings = self.entry.postings
        return kind is not None and kind.moves_money and (not postings or sum(p.amount for p in postings) != 0)


def load(
    ledger: Ledger,
    *,
    use_cache: bool | None = None,
    fast: bool = True,
    progress: Callable[[int, int], None] | None = None,
    save_after: int = 1,
    trust_closes: bool = True,
    partial: bool = False,
) -> Books:
    """Read the journal and check every entry against the books before it; return the books.

    With the cache (see `ledger.cache`), only what was appended since the
    last load is read and checked. `progress(done, total)` hears about the
    bytes read when there are many. The books hold no entries: they read
    them from the journal when asked (`Books.entries`, `Books.entry`).
    `fast=False` reads every block with tomllib (`verify` does). The cache
    is written anew when at least `save_after` new entries were read (or it
    was missing or stale); a record, whose time counts, waits for several.

    A first read (no cache) checks the rules only of the entries from the
    journal file holding the last close on: every entry before a close was
    checked, against all before it, when the close was recorded. Their hashes
    and chain are still checked, which shows they hang together, not who wrote
    them: a hand edit that computes every hash again is found by `verify`
    (which passes `trust_closes=False` and checks every rule of every entry)
    and by `audit` (git's history), not by a first read.

    `partial`: the caller needs only the books themselves (balances, members,
    pledges, packages...), and catches `Incomplete` if it asks for more. A
    first read may then start from the last close's state (`ledger.state`)
    and read only the entries after it; such books are kept in the cache too,
    and a load that is not `partial` never takes them.
    """
    with few_collections():
        return _loaded(ledger, use_cache, fast, progress, save_after, trust_closes, partial)


FEW_COLLECTIONS = 70_000  # objects made between two runs of the cycle collector (Python 3.11's default: 700)


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Python's cycle collector run a hundred times less often (on Python 3.11; 35 times on 3.13, whose
    default is 2,000) while the journal is read (and, from the command line, while a whole command runs).

    A read makes millions of objects that live (the books) or die by their
    count of references (each entry once folded), and the collector walked
    every live one again and again: a tenth of a first read from a close's
    state at a million entries, more as the books grow; a month's register
    of 10,000 rows spent 50 ms in 246 collections. Cycles are still
    collected, less often; the helper process (forked) collects as seldom.
    Already raised (a command that reads the journal), or turned off, the
    threshold is left as it is: raised once, never multiplied again.
    """
    before = gc.get_threshold()
    if before[0] == 0 or before[0] >= FEW_COLLECTIONS:
        yield
        return
    gc.set_threshold(FEW_COLLECTIONS, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _loaded(ledger, use_cache, fast, progress, save_after, trust_closes, partial) -> Books:
    use_cache = cache.enabled() if use_cache is None else use_cache
    settings = ledger.settings
    key = (settings.name, settings.currency, settings.manager)
    snapshot = cache.read(ledger.cache_dir, key) if use_cache else None
    if snapshot is not None and (partial or snapshot.books.begun == 1):
        whole = snapshot.books.begun == 1
        try:
            return _load(ledger, snapshot, use_cache, fast, progress, save_after)
        except (_Stale, Incomplete):
            pass
        except Exception:
            if whole:  # books begun from a state are never the judge (below): the full read says what is wrong
                raise
    if partial and trust_closes:
        # Books begun from a state are a shortcut, never the judge: an entry after the close that needs what
        # came before it (Incomplete), and anything wrong on the way (a state or a journal damaged or forged, an
        # unfinished write), and the journal is read from its first entry, whose reading says what is wrong.
        with contextlib.suppress(Exception):
            begun = _from_state(ledger, key)
            if begun is not None:
                return _load(ledger, begun, use_cache, fast, progress, 1)

    def first_read(trusting: bool) -> Books:
        books = Books(settings.currency, settings.name, settings.manager)
        return _load(ledger, cache.Snapshot(key, [], [], books), use_cache, fast, progress, 1, trusting)

    try:
        return first_read(trust_closes)
    except _Stale:  # a file seemed to hold a close and did not: check every entry's rules
        return first_read(False)


class _Stale(Exception):
    """The kept snapshot does not match the journal: read it from the start instead."""


def _from_state(ledger: Ledger, key: tuple) -> cache.Snapshot | None:
    """Books to start a first read from: the state of the last close, if it records one and its file is sound.

    The files before the close's are not read at all: the cache notes only their size and time (a later change
    to one makes the cache stale, and everything is read). None: read from the first entry.
    """
    names = ledger.journal_names()
    for number in range(len(names) - 1, -1, -1):
        path = ledger.journal_dir / names[number]
        data = _read_bytes(path)
        if _CLOSE_LINE in data:
            break
    else:
        return None
    closes = [found.entry for found in _blocks(ledger, path, data, 0, newest=False, fast=True) if found.entry.kind == "close"]
    close = closes[-1] if closes else None
    if close is None or close.get("state") is None or close.get("state_layout") != state.LAYOUT:
        return None
    try:
        kept = state.read(ledger.path, close.get("state"))
        if kept is None or state.digest(kept) != close.get("state"):
            return None
        books = state.decode(kept, close.id, key[0], key[2])
    except state.Unreadable:
        return None
    if (books.count, books.last_id, books.seal, books.currency) != (close.id - 1, close.id - 1, close.prev, key[1]):
        return None
    unread = []
    for name in names[:number]:
        stat = os.stat(ledger.journal_dir / name)
        unread.append(cache.FileState(name, stat.st_size, stat.st_mtime_ns, _UNREAD, _UNREAD))
    if unread:  # the last is the one whose end a later load looks at again: noted as read
        last = ledger.journal_dir / unread[-1].name
        unread[-1] = cache.state(last.name, _read_bytes(last), unread[-1].mtime_ns)
    return cache.Snapshot(key, unread, [], books)


_UNREAD = bytes(32)  # the digest noted of a file not read: a file touched since cannot match it


def _load(
    ledger: Ledger, snapshot: cache.Snapshot, keep: bool, fast: bool, progress, save_after: int, trusting: bool = False
) -> Books:
    books, parts = snapshot.books, list(snapshot.parts)
    first = books.count
    begun = books.begun if first == books.begun - 1 else 0  # from a close's state: its entry, and those after it
    read_before = {kept.name: kept for kept in snapshot.files}
    # Sees the parts grow as the new entries are read, and what is read of each file (whose hashes were checked).
    archive = JournalArchive(ledger, parts, read_before, kept=keep)
    books.store = Archived(archive, books.count, books.seal)
    if keep and books.count == 0:  # read from the first entry for the cache: keep books at marks on the way
        books.checkpoints = checkpoints.Checkpoints()
    marks = books.checkpoints if keep else None
    names, changed = _to_read(ledger, snapshot.files)
    total = sum(len(data) - begin for _, data, begin, _ in changed)
    done = 0
    vouched = _last_close_file(changed) if trusting and first == 0 else 0  # files a later close vouches for
    closed = vouched == 0
    linked = None  # the hash of the last entry read before a state's close, in the close's file
    # Closed however the loop ends: a refusal, or books begun from a state that need more, stop the helper
    # process at once (a full read may follow with its own).
    with contextlib.closing(_parsed(ledger, changed, names, fast, total, SHARE_FROM_A_STATE if begun else 0)) as parsed:
        for number, ((path, data, begin, stamp), found) in enumerate(zip(changed, parsed, strict=True)):
            # A file read whole that will grow no more (not the newest): its entries are kept for reading back.
            whole: list[Entry] | None = [] if keep and begin == 0 and path.name != names[-1] else None
            for located in found:
                entry = located.entry
                if whole is not None:
                    whole.append(entry)
                if entry.id < begun or (entry.id == begun and linked is not None):
                    # Before the state's close, in its file: only where it is is kept, once it is seen to be chained
                    # to the one before it and the close to the last of them, so that the digest noted of this file
                    # vouches for every entry in it (`JournalArchive.entry`), as for the files read whole.
                    if linked is not None and entry.prev != linked:
                        raise CorruptJournal(
                            f"{_rel(ledger, path)}: entry #{entry.id} (byte {located.offset}) does not continue the "
                            "chain: its prev is not the hash of the entry before it"
                        )
                    linked = entry.hash
                    if entry.id < begun:
                        parts = _placed(parts, path.name, entry.id)
                        continue
                closed = closed or (number >= vouched and entry.kind == "close")
                if marks is not None:
                    marks.note(books, entry)
                try:
                    # parse_entry checked the hash; the close a state is of was checked with the books it holds
                    fold.fold(books, entry, hashed=True, chained=number < vouched or entry.id == begun)
                except Refused as problem:
                    raise CorruptJournal(
                        f"{_rel(ledger, path)}: entry #{entry.id} (byte {located.offset}) breaks a rule: {problem}"
                    ) from None
                parts = _placed(parts, path.name, entry.id)
                if progress is not None and entry.id % 256 == 0:
                    progress(done + located.offset + located.length - begin, total)
            done += len(data) - begin
            read_before[path.name] = cache.state(path.name, data, stamp)
            if whole:
                cache.keep_entries(ledger.cache_dir, read_before[path.name].digest, whole)
            # What this file held is now the archive's: memory stays flat.
            books.store = Archived(archive, books.count, books.seal)
    books.store = Archived(archive, books.count, books.seal)
    if not closed:  # the close a file seemed to hold was not there: these books were not checked enough
        raise _Stale
    touched = any(begin == len(data) for _, data, begin, _ in changed)  # rewritten, nothing new: note the time
    if keep and (not snapshot.files or touched or books.count - first >= save_after):
        files = [read_before[name] for name in names]
        cache.write(ledger.cache_dir, cache.Snapshot(snapshot.settings, files, parts, books))
    return books


def _placed(parts: list[cache.Part], name: str, entry_id: int) -> list[cache.Part]:
    """`parts`, with entry `entry_id` read from the file `name` (after those read before it)."""
    if parts and parts[-1].name == name:
        parts[-1] = cache.Part(name, parts[-1].first, parts[-1].count + 1)
    else:
        parts.append(cache.Part(name, entry_id, 1))
    return parts


# How a close's kind is written (journal.entry_bytes, through tomli-w): a line of its own, after the entry's
# header, so always after a newline (a string's newline is written as an escape).
_CLOSE_LINE = b'\nkind = "close"\n'


def _last_close_file(changed: list) -> int:
    """The place among `changed` of the last file holding a close (0 when none does): the entries of the files
    before it were checked when that close was recorded. Only a guess from the bytes; `_load` makes sure."""
    for number in range(len(changed) - 1, 0, -1):
        _, data, begin, _ = changed[number]
        if data.find(_CLOSE_LINE, max(begin - 1, 0)) >= 0:
            return number
    return 0


def books_from_files(ledger: Ledger, files: dict[str, bytes], whose: str) -> Books:
    """The books of journal files read from elsewhere (name -> bytes: a remote's, a merge's), folded as a load folds.

    A file or entry that breaks the format or a rule is a LedgerError naming `whose` journal it is.
    """
    settings = ledger.settings
    books = Books(settings.currency, settings.name, settings.manager)
    names = sorted(name for name in files if is_journal_name(Path(name).name))
    for index, name in enumerate(names):
        path = ledger.journal_dir / Path(name).name
        try:
            for located in blocks(ledger, path, files[name], newest=index == len(names) - 1):
                fold.fold(books, located.entry, hashed=True)
        except (Refused, CorruptJournal) as problem:
            raise LedgerError(f"{whose} journal is not sound: {problem}") from None
    return books


# A first read of more than this many bytes has a second process parse the journal files while this one
# checks the rules: the machines we run on have two cores. Folding an entry (rules, books, envelopes, index)
# costs this process about twice what parsing it costs the helper, and taking a parsed entry back costs far
# less than parsing it, so the helper parses every file but the first (which this one reads while the helper
# starts). Two files in three here, one in three there had this process parse a third of the entries too.
PARALLEL_BYTES = 8 * 1024 * 1024
# Reading on from a close's state, the fold costs less than parsing (no money followed by member, no index):
# this process parses one file in this many too. Measured on the last year of the 1,000,000-entry ledger.
SHARE_FROM_A_STATE = 4


def _parsed(
    ledger: Ledger, changed: list, names: list[str], fast: bool, total: int, every: int = 0
) -> Iterator[Iterator[Located]]:
    """Each changed file's new entries, in order: parsed here, or (for a large read) in a helper process.

    With a helper, this process parses the first file and (with `every`) one in `every` of the others: a fold
    that costs less than parsing (books begun from a close's state follow no money) would wait for the helper.
    """
    jobs = [(ledger, path, data, begin, path.name == names[-1], fast) for path, data, begin, _ in changed]
    helper = None
    # `verify` parses with tomllib (fast=False), slower than the fold: the helper gains it even more.
    if total >= PARALLEL_BYTES and (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError, ValueError):
            import multiprocessing  # only for a large read: 7 ms of every command's start otherwise

            helper = multiprocessing.get_context("fork").Pool(1)
    if helper is None:
        for ledger_, path, data, begin, newest, _ in jobs:
            yield _blocks(ledger_, path, data, begin, newest=newest, fast=fast)
        return
    own = {0, *(range(every, len(jobs), every) if every else ())}
    with helper:
        theirs = helper.imap(_parse_elsewhere, [job for i, job in enumerate(jobs) if i not in own], chunksize=1)
        for index, (ledger_, path, data, begin, newest, _) in enumerate(jobs):
            if index in own:
                yield _blocks(ledger_, path, data, begin, newest=newest, fast=fast)
            else:
                yield _unpacked(next(theirs))


def _parse_elsewhere(job) -> list[Located] | tuple:
    """In the helper process: one file's new entries, or what was wrong with it (raised again in order)."""
    ledger, path, data, begin, newest, fast = job
    try:
        return list(_blocks(ledger, path, data, begin, newest=newest, fast=fast))
    except TornWrite as torn:
        return ("torn", str(torn), torn.path, torn.offset)
    except CorruptJournal as problem:
        return ("corrupt", str(problem))


def _unpacked(result) -> Iterator[Located]:
    if isinstance(result, tuple):
        if result[0] == "torn":
            raise TornWrite(result[1], result[2], result[3])
        raise CorruptJournal(result[1])
    yield from result


def _to_read(ledger: Ledger, kept: list[cache.FileState]) -> tuple[list[str], list[tuple[Path, bytes, int, int]]]:
    """The journal files' names, and what is new since `kept`: (path, bytes, first new byte, mtime)."""
    names = ledger.journal_names()
    if names[: len(kept)] != [seen.name for seen in kept]:
        raise _Stale  # a file kept is gone, or one sorts among them
    changed = []
    try:  # each file looked up in the folder: half the time of a path each
        folder = os.open(ledger.journal_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as problem:
        raise CorruptJournal(f"cannot read {ledger.journal_dir}: {problem.strerror}") from None
    try:
        stats = []
        for name in names:
            try:
                stats.append(os.stat(name, dir_fd=folder))
            except OSError as problem:
                raise CorruptJournal(f"cannot read {ledger.journal_dir / name}: {problem.strerror}") from None
    finally:
        os.close(folder)
    for number, (name, stat) in enumerate(zip(names, stats, strict=True)):
        seen = kept[number] if number < len(kept) else None
        newest_read = number == len(kept) - 1
        if seen is not None and (stat.st_size, stat.st_mtime_ns) == (seen.size, seen.mtime_ns):
            if newest_read and not cache.tail_matches(ledger.journal_dir / name, seen):
                raise _Stale
            continue
        path = ledger.journal_dir / name
        data = _read_bytes(path)
        if seen is not None:
            # Touched (a checkout rewrites files): the same bytes, and only the newest one read may have more.
            if len(data) < seen.size or (len(data) > seen.size and not newest_read):
                raise _Stale
            if hashlib.sha256(data[: seen.size]).digest() != seen.digest:
                raise _Stale
        changed.append((path, data, seen.size if seen else 0, stat.st_mtime_ns))
    return names, changed


KEPT_SHARE = 8  # a file's kept entries are taken when at least 1 in this many of its entries are to be read


def _many(wanted: list[int], part: cache.Part) -> bool:
    """Whether `wanted` (ids of `part`'s file) are enough of its entries to take them kept (`KEPT_SHARE`)."""
    return len(wanted) * KEPT_SHARE >= part.count


def _remembered(memo: dict, key: Any, state: cache.FileState | None, find: Callable[[], Any]) -> Any:
    """What `find` finds of a file, remembered in `memo` (the last 16 files) for the state it was found with:
    found again once a load has noted another state of the file."""
    looked = memo.get(key)
    if looked is None or looked[0] is not state:
        found = find()
        if len(memo) >= 16:
            del memo[next(iter(memo))]
        looked = memo[key] = (state, found)
    return looked[1]


class JournalArchive:
    """The entries of books read from the journal, read from it again on demand.

    Each file is read whole and cut into its entries' blocks (0.2 ms for
    128 KiB), and the last few files read are kept: the entries beside one
    are usually read next. A file's entries kept beside the cache as they
    were read are taken instead, about eight times quicker than parsing them.
    """

    def __init__(self, ledger: Ledger, parts: list[cache.Part], files: dict | None = None, *, kept: bool = False) -> None:
        """`kept`: whether a file's kept entries may be taken (only when the books were read with the cache)."""
        self.ledger, self.parts, self.kept = ledger, parts, kept
        # What was read of each file when its entries' hashes and chain were checked (`cache.FileState`, by
        # name): a file whose first `size` bytes still have that digest holds those entries, unchanged.
        self.files: dict[str, cache.FileState] = {} if files is None else files
        # The files last looked in: their bytes, their blocks, and (once checked) the state they were checked
        # against with how many of their first bytes match its digest.
        self._files: dict[str, list] = {}
        # The files last looked in for entries kept as they were read (`cache.keep_entries`): the state they
        # were looked for with, and the entries (None when there are none to take).
        self._kept: dict[str, tuple[cache.FileState | None, list[Entry] | None]] = {}
        # The same for the rows made of a file's entries (`rows`): the state they were made or looked for with.
        self._rows: dict[tuple[str, str], tuple[cache.FileState | None, list | None]] = {}
        self._recent: dict[int, Entry] = {}  # the entries last read
        self._many: set[str] | None = set()  # the files many of whose entries are about to be read (None: all)
        self._firsts: list[int] = []  # each part's first id, for looking one up

    def entry(self, entry_id: int) -> Entry | None:
        """Entry `entry_id` as the books were read from it; None for an id no part holds.

        Read back only from bytes of its file that still have the digest noted
        when every entry in them was hash- and chain-checked (`cache.FileState`):
        the file's bytes are checked once (0.1 ms for 128 KiB), and the entries
        within them are neither hashed nor chain-checked again. A file changed
        since, whatever its size and time, is refused: none of its entries can
        be vouched for (an entry's own hash, and the next entry's `prev`, can
        both be forged). A file read whole when the books were read had its
        entries kept as they were (`cache.keep_entries`): they are taken, not
        parsed again, once the file's bytes are checked the same way.
        """
        if entry_id in self._recent:
            return self._recent[entry_id]
        part = self._part(entry_id)
        if part is None:
            return None
        kept = self._kept_entries(part) if self._many is None or part.name in self._many else None
        if kept is not None and entry_id - part.first < len(kept):
            return self._same(kept[entry_id - part.first], entry_id)
        found = self._located(entry_id)
        if found is None:
            return None
        block, name, end = found
        # What must be as it was checked: the entry's bytes, not the newlines after its last line (the blank line
        # after an entry is written with the next one, which may have come after the bytes were checked).
        end = end - len(block) + len(block.rstrip(b"\n"))
        kept, looked = self.files.get(name), self._files[name]
        if looked[2] is None or looked[2][0] is not kept:  # not checked yet, or against what was noted before a read
            looked[2] = (kept, self._vouching(name, looked[0]))
        if end > looked[2][1]:
            raise CorruptJournal(
                f"entry #{entry_id} in {self.ledger.journal_dir} is not the entry the books were read from: its file "
                "changed since (another command, or an edit behind fundledger's back); run the command again, and "
                "`fundledger verify` if it persists"
            )
        try:
            entry = self._same(parse_entry(block, fast=True, hashed=True), entry_id)
        except ValueError:
            raise self._changed() from None
        if len(self._recent) >= 4:
            self._recent.pop(next(iter(self._recent)))
        self._recent[entry_id] = entry
        return entry

    def expect(self, ids: Iterable[int] | None) -> None:
        """Entries about to be read, in any order (None: every one, as a whole register reads them).

        Taking a file's kept entries costs about what parsing an eighth of
        them does (`KEPT_SHARE`): a file of which that many are expected is taken
        from its kept entries, one of which fewer are (a member's entries,
        spread over a quarter's files) is parsed entry by entry.
        """
        if ids is None:
            self._many = None
            return
        self._many = {part.name for part, here in self._by_file(sorted(ids)) if _many(here, part)}

    def read(self, ids: Iterable[int]) -> dict[int, Entry]:
        """The entries `ids`, by id in id order, read file by file (`expect`); an id no part holds has none.

        What `entry` gives for each, without looking up its file again for
        every entry: a file's kept entries are sliced once for all it holds.
        """
        wanted = sorted(ids)
        self.expect(wanted)
        found: dict[int, Entry] = {}
        for part, here in self._by_file(wanted):
            kept = self._kept_entries(part) if self._many is None or part.name in self._many else None
            if kept is not None and len(kept) >= part.count:
                same, first = self._same, part.first
                found.update((entry_id, same(kept[entry_id - first], entry_id)) for entry_id in here)
            else:
                found.update((entry_id, self.entry(entry_id)) for entry_id in here)
        return found

    def _by_file(self, wanted: list[int]) -> Iterator[tuple[cache.Part, list[int]]]:
        """The ids `wanted` (in order) file by file: each part and its ids; an id no part holds is left out."""
        at = 0
        while at < len(wanted):
            part = self._part(wanted[at])
            if part is None:
                at += 1
                continue
            stop = bisect.bisect_left(wanted, part.first + part.count, at)
            yield part, wanted[at:stop]
            at = stop

    def rows(self, ids: Iterable[int], make: Callable[[list[Entry]], list], kind: str) -> dict[int, Any]:
        """What `make` makes of the entries `ids` (a row an entry, in their order), by id in id order; `kind`
        names what it makes (`cache.REGISTER_ROWS`), and so which kept rows are its.

        For a file of which many entries are wanted (`KEPT_SHARE`), the rows
        of all its entries are kept beside them (`cache.keep_entries`, as
        rows) for the bytes they were read from, and taken again once those
        bytes are checked, as kept entries are: no entry is read. So `make`
        must make of an entry only what no later entry changes (a register's
        rows, their links to reversals left out), and what it makes is kept
        only with the code that made it (the cache's signature covers it).
        """
        found: dict[int, Any] = {}
        rest: list[int] = []  # the few wanted of other files: read and made together
        for part, here in self._by_file(sorted(ids)):
            made = self._made(part, make, kind) if _many(here, part) else None
            if made is not None:
                first = part.first
                found.update((entry_id, made[entry_id - first]) for entry_id in here)
            else:
                rest += here
        if not rest:
            return found
        found.update(made_of(self.read(rest), make))
        return dict(sorted(found.items()))  # the files' rows and these, in id order again

    def _made(self, part: cache.Part, make: Callable[[list[Entry]], list], kind: str) -> list | None:
        """The rows `make` made of all of `part`'s entries, kept for the bytes the books were read from (made and
        kept now if they were not), if its file still begins with exactly those bytes; None for the newest file
        (which may grow), or with the cache off."""
        if not self.kept or part is self.parts[-1]:
            return None
        kept = self.files.get(part.name)

        def find() -> list | None:
            if kept is None or kept.digest == _UNREAD:
                return None
            made = cache.kept_entries(self.ledger.cache_dir, kept.digest, kind)
            if made is None:
                entries = self._kept_entries(part)  # its bytes checked, or None
                if entries is None:
                    return None
                made = make(entries)
                cache.keep_entries(self.ledger.cache_dir, kept.digest, made, kind)
            elif self._vouching(part.name, _read_bytes(self.ledger.journal_dir / part.name)) != kept.size:
                return None  # changed since: none taken, the journal is read, and says how (`entry`)
            return made if len(made) == part.count else None

        return _remembered(self._rows, (kind, part.name), kept, find)

    def _part(self, entry_id: int) -> cache.Part | None:
        """The part (file) that holds entry `entry_id`; None for an id no part holds."""
        if len(self._firsts) != len(self.parts):  # parts are only ever added (a load reads on), never replaced
            self._firsts = [part.first for part in self.parts]
        index = bisect.bisect_right(self._firsts, entry_id) - 1
        if index < 0 or entry_id >= self.parts[index].first + self.parts[index].count:
            return None
        return self.parts[index]

    def _kept_entries(self, part: cache.Part) -> list[Entry] | None:
        """The entries of `part`'s file as they were read (`cache.keep_entries`), if they were kept for the bytes
        the books were read from and the file still begins with exactly those bytes (checked once)."""
        if not self.kept:  # the cache off (a command, `verify`): nothing read from it
            return None
        kept = self.files.get(part.name)

        def find() -> list[Entry] | None:
            if kept is None or kept.digest == _UNREAD:
                return None
            stored = cache.kept_entries(self.ledger.cache_dir, kept.digest)
            if stored is None and part is self.parts[-1]:
                return None
            path = self.ledger.journal_dir / part.name
            data = _read_bytes(path)
            if self._vouching(part.name, data) != kept.size:
                return None  # changed since: none taken, the journal is read, and says how (`entry`)
            return stored if stored is not None else self._keeping(path, data[: kept.size], kept)

        return _remembered(self._kept, part.name, kept, find)

    def _keeping(self, path: Path, data: bytes, kept: cache.FileState) -> list[Entry]:
        """The entries of a file's bytes as they were read (`kept`), kept from now on: a file that was the newest
        when it was read (a part at a time, as each command appended to it) was never read whole, so never kept
        (`_load`)."""
        blocks = _blocks(self.ledger, path, data, 0, newest=False, fast=True, vouched=kept.size)
        entries = [found.entry for found in blocks]
        cache.keep_entries(self.ledger.cache_dir, kept.digest, entries)
        return entries

    def _located(self, entry_id: int) -> tuple[bytes, str, int] | None:
        """Entry `entry_id`'s block, the name of its file and where the block ends; None for an id no part holds."""
        part = self._part(entry_id)
        if part is None:
            return None
        kept, cached = self.files.get(part.name), self._files.get(part.name)
        if cached is not None and kept is not None and kept.size > len(cached[0]):  # read further since: again
            del self._files[part.name]
        if part.name not in self._files:  # read whole (128 KiB): the entries beside it are usually read next
            if len(self._files) >= 4:
                del self._files[next(iter(self._files))]
            data = _read_bytes(self.ledger.journal_dir / part.name)
            self._files[part.name] = [data, split_blocks(data)[1], None]
        data, blocks_, _ = self._files[part.name]
        number = entry_id - part.first
        if number >= len(blocks_):
            raise self._changed()
        start, end = blocks_[number]
        return data[start:end], part.name, end

    def _vouching(self, name: str, data: bytes) -> int:
        """How many of `data`'s first bytes are those read, hashes and chain checked, when the books were read."""
        kept = self.files.get(name)
        if kept is None or kept.digest == _UNREAD:
            return 0
        if kept.size > len(data):
            # Shorter than when read: only an unfinished write's start cut back (`cut_unfinished_tail`), which can
            # be the newline an append begins with. If that is all, the bytes read were these and that newline.
            missing = kept.size - len(data)
            sound = missing <= 2 and hashlib.sha256(data + b"\n" * missing).digest() == kept.digest
            return len(data) if sound else 0
        return kept.size if hashlib.sha256(memoryview(data)[: kept.size]).digest() == kept.digest else 0

    def entries(self, count: int) -> list[Entry]:
        return list(self.stream(count))

    def stream(self, count: int) -> Iterator[Entry]:
        """The first `count` entries in id order, read file by file as they are asked for (one file in memory).

        Each continues the chain of the one before; that the last is the
        books' seal is the caller's to check, once all are read.
        """
        read, previous = 0, model.GENESIS
        for part in self.parts:
            if read >= count:
                break
            take = min(part.count, count - read)
            kept = self._kept_entries(part)
            if kept is not None and len(kept) >= take:
                entries: Iterable[Entry] = kept[:take]
            else:
                path = self.ledger.journal_dir / part.name
                data = _read_bytes(path)  # every entry of it read: its bytes checked once against its digest
                vouched = self._vouching(part.name, data)
                blocks = _blocks(self.ledger, path, data, 0, newest=False, fast=True, vouched=vouched)
                entries = (located.entry for located in itertools.islice(blocks, take))
            for entry in entries:
                read += 1
                previous = self._same(entry, read, previous).hash
                yield entry
        if read != count:
            raise self._changed()

    def hashes(self, count: int) -> Iterator[tuple[int, str]]:
        """(id, hash) of the first `count` entries but the last, each hash as the entry after it states it.

        Read from the `prev` lines, no entry parsed: the chain was checked when
        the books were read (the last entry's hash is the books' seal). A file
        in which a text holds a line like a `prev` is read entry by entry.
        """
        read = 0
        for part in self.parts:
            take = min(part.count, count - read)
            if take <= 0:
                break
            path = self.ledger.journal_dir / part.name
            data = _read_bytes(path)
            prevs = [found.decode("ascii") for found in _PREV_LINE.findall(data)]
            if len(prevs) != len(split_blocks(data)[1]):
                prevs = [located.entry.prev for located in _blocks(self.ledger, path, data, 0, newest=False, fast=True)]
            for prev in prevs[:take]:
                if read:
                    yield read, prev
                read += 1
        if read != count:
            raise self._changed()

    def _same(self, entry: Entry, entry_id: int, prev: str | None = None) -> Entry:
        if entry.id != entry_id or (prev is not None and entry.prev != prev):
            raise self._changed()
        return entry

    def _changed(self) -> CorruptJournal:
        return CorruptJournal(
            f"the journal in {self.ledger.journal_dir} changed while it was being read; "
            "run the command again, and `fundledger verify` if it persists"
        )


class Archived:
    """The entry store of books read from a journal: the first `count` entries in its files, later ones in memory.

    Books from the cache were not read from these bytes this time, so an
    entry read back must come from bytes that still have the digest noted
    when they were checked (`JournalArchive.entry`), and entries streamed
    must each continue the chain, the last one's hash the seal. A file
    edited behind the cache's back (its hashes recomputed, its time put
    back) is caught here instead of being built upon.
    """

    def __init__(self, archive: JournalArchive, count: int, seal: str) -> None:
        self.archive, self.count, self.seal = archive, count, seal
        self._recent: list[Entry] = []
        self._all: list[Entry] | None = None

    def entries(self) -> list[Entry]:
        if self._all is None:
            head = self.archive.entries(self.count)
            if (head[-1].hash if head else model.GENESIS) != self.seal:
                raise self.archive._changed()
            self._all = head + self._recent
        return self._all

    def stream(self) -> Iterator[Entry]:
        """Every entry in order, read from the journal as it is iterated and not kept: memory stays flat."""
        if self._all is not None:
            yield from self._all
            return
        last = model.GENESIS
        for entry in self.archive.stream(self.count):
            last = entry.hash
            yield entry
        if last != self.seal:
            raise self.archive._changed()
        yield from list(self._recent)

    def hashes(self) -> Iterator[tuple[int, str]]:
        """(id, hash) of every entry, in order, without parsing the entries (see `JournalArchive.hashes`)."""
        if self._all is not None:
            yield from ((entry.id, entry.hash) for entry in self._all)
            return
        yield from self.archive.hashes(self.count)
        if self.count:
            yield self.count, self.seal
        yield from ((entry.id, entry.hash) for entry in list(self._recent))

    def expect(self, ids: Iterable[int] | None) -> None:
        """Entries about to be read (see `JournalArchive.expect`)."""
        self.archive.expect(ids)

    def read(self, ids: Iterable[int]) -> dict[int, Entry]:
        """The entries `ids` these books hold, by id in id order (`JournalArchive.read`)."""
        archived, recent = self._sorted(ids)
        found = self._all_of(archived, self.archive.read(archived))
        found.update(recent)
        return found

    def rows(self, ids: Iterable[int], make: Callable[[list[Entry]], list], kind: str) -> dict[int, Any]:
        """What `make` makes of the entries `ids` these books hold, by id in id order (`JournalArchive.rows`)."""
        archived, recent = self._sorted(ids)
        found = self._all_of(archived, self.archive.rows(archived, make, kind))
        found.update(made_of(recent, make))
        return found

    def _sorted(self, ids: Iterable[int]) -> tuple[list[int], dict[int, Entry]]:
        """Of `ids`, in id order: those of the archive's files, and the entries appended since, by id."""
        wanted = sorted(set(ids))
        cut = bisect.bisect_right(wanted, self.count)
        recent = {i: self._recent[i - self.count - 1] for i in wanted[cut:] if i - self.count <= len(self._recent)}
        return [i for i in wanted[:cut] if i > 0], recent

    def _all_of(self, archived: list[int], found: dict[int, Any]) -> dict[int, Any]:
        """`found`, refused unless it holds every one of the `archived` ids (an entry gone from its file)."""
        if len(found) != len(archived):
            raise self.archive._changed()
        return found

    def get(self, entry_id: int) -> Entry | None:
        if entry_id <= self.count:
            if entry_id <= 0:
                return None
            entry = self.archive.entry(entry_id)
            if entry is None:
                raise self.archive._changed()
            return entry
        number = entry_id - self.count - 1  # the recent ones follow the archive's, id by id
        return self._recent[number] if number < len(self._recent) else None

    def append(self, entry: Entry) -> None:
        self._recent.append(entry)
        if self._all is not None:
            self._all.append(entry)

    def copied(self) -> Archived:
        """The same entries, in a store of its own (entries appended to it are its own)."""
        twin = Archived(self.archive, self.count, self.seal)
        twin._recent = list(self._recent)
        return twin


def hold(books: Books) -> Books:
    """Read every entry of `books` into memory now, so that they no longer need their journal."""
    held = Held()
    for entry in books.entries:
        held.append(entry)
    books.store = held
    return books


# --- writing: the layout of a journal file, appending, the lock ------------


def entry_bytes(entry: Entry) -> bytes:
    """The bytes an entry adds to a journal file: one [[entry]] table, written by tomli-w."""
    return tomli_w.dumps({"entry": [model.to_record(entry)]}).encode("utf-8")


def joined(data: bytes, entries: list[Entry]) -> bytes:
    """A journal file's bytes with `entries` appended, laid out as `append` writes them."""
    out = bytearray(data)
    for entry in entries:
        if out.strip():
            out += (b"" if out.endswith(b"\n") else b"\n") + SEPARATOR
        out += entry_bytes(entry)
    return bytes(out)


def next_file(files: list[tuple[str, int]], year: int, size: int) -> str:
    """The journal file (name) that entries of `size` bytes recorded in `year` go to.

    `files` are the existing (name, bytes) pairs, oldest first. The newest
    file takes them while it stays within PART_BYTES and is of the same year;
    otherwise a new part starts, and a new part never sorts before an
    existing file (a clock set back keeps writing the newest year's parts).
    A batch larger than PART_BYTES goes whole into a new part.
    """
    if not files:
        return f"{year:04d}-0001.toml"
    name, used = files[-1]
    newest_year, part = int(name[:4]), int(name[5:9])
    if year <= newest_year and (used == 0 or used + size <= PART_BYTES):
        return name
    if year > newest_year:
        return f"{year:04d}-0001.toml"
    return f"{newest_year:04d}-{part + 1:04d}.toml"


INTENT_FILE = "append.intent"  # under .cache/: where a write began and how long it is, until it is whole


def append(ledger: Ledger, entries: list[Entry]) -> Path:
    """Append sealed, checked `entries` to the newest journal file (or a new part) with one write and an fsync.

    All or none, whatever stops it:
    - a new part is written whole under `.cache/` and renamed into the
      journal, so it appears complete or not at all;
    - an append to the newest file first notes where it begins and how long
      it is (`.cache/append.intent`); a write that fails is cut back at once
      to exactly where it began, and one a kill left short is cut back by
      the next writer or `repair` (`finish_interrupted`), before anything
      else is read or written.
    Called by `ledger.writer` under `lock`.
    """
    names = ledger.journal_names()[-1:]  # only the newest file takes entries
    data = SEPARATOR.join(entry_bytes(entry) for entry in entries)
    newest = [(name, (ledger.journal_dir / name).stat().st_size) for name in names]
    size = len(data) + 1 + len(SEPARATOR)
    target = ledger.journal_dir / next_file(newest, entries[0].recorded_at.year, size)
    if target.name not in names or not newest[-1][1]:
        _write_new_part(ledger, target, data)
        return target
    try:
        fd = os.open(target, os.O_RDWR | os.O_APPEND)
    except OSError as problem:
        raise LedgerError(f"cannot write {_rel(ledger, target)}: {problem.strerror}; nothing was recorded") from None
    try:
        before = os.fstat(fd).st_size
        data = (b"" if os.pread(fd, 1, before - 1) == b"\n" else b"\n") + SEPARATOR + data
        intent = ledger.cache_dir / INTENT_FILE
        try:
            _write_synced(intent, f"{target.name} {before} {len(data)}\n".encode())
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "short write: the disk may be full")
            os.fsync(fd)
        except OSError as problem:
            # Our own unfinished write at the very end of the file: remove exactly it.
            os.ftruncate(fd, before)
            os.fsync(fd)
            intent.unlink(missing_ok=True)
            raise LedgerError(
                f"cannot write {_rel(ledger, target)}: {problem.strerror}; nothing was recorded"
            ) from None
        intent.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return target


def finish_interrupted(ledger: Ledger) -> int:
    """Cut back an append a kill left short (as `.cache/append.intent` says), under `lock`; the bytes cut.

    Only the bytes after where that append began go, and only while the file
    is still longer than that and shorter than the whole append: a file that
    holds all of it (the writer died after its write) or more (someone wrote
    since) is left as it is. The intent is then removed.
    """
    intent = ledger.cache_dir / INTENT_FILE
    try:
        name, begin, length = intent.read_text(encoding="ascii").split()
        begin_at, whole = int(begin), int(begin) + int(length)
    except FileNotFoundError:
        return 0
    except (OSError, ValueError, UnicodeDecodeError):
        intent.unlink(missing_ok=True)  # not one we wrote whole: nothing to go by
        return 0
    path = ledger.journal_dir / name
    cut = 0
    if is_journal_name(name) and path.is_file() and not path.is_symlink():
        size = path.stat().st_size
        if begin_at < size < whole:
            with open(path, "r+b") as handle:
                handle.truncate(begin_at)
                handle.flush()
                os.fsync(handle.fileno())
            cut = size - begin_at
    intent.unlink(missing_ok=True)
    return cut


def _write_new_part(ledger: Ledger, target: Path, data: bytes) -> None:
    """A new file (a journal part, a close's state), written whole beside it and renamed in: there complete, or
    not at all."""
    staged = ledger.cache_dir / f"new-{target.name}"
    try:
        ledger.cache_dir.mkdir(exist_ok=True)
        _write_synced(staged, data)
        os.replace(staged, target)
    except OSError as problem:
        staged.unlink(missing_ok=True)
        raise LedgerError(f"cannot write {_rel(ledger, target)}: {problem.strerror}; nothing was recorded") from None
    _fsync_dir(target.parent)


def write_state(ledger: Ledger, recorded: str, data: bytes) -> Path:
    """Keep a close's state file (see `ledger.state`), whole or not at all, before the close that names it."""
    target = state.path(ledger.path, recorded)
    if target.parent.is_symlink() or target.is_symlink():
        raise LedgerError(f"{state.FOLDER}/ is a symbolic link: fundledger never writes through one; nothing was recorded")
    with contextlib.suppress(OSError):
        if target.is_file() and target.read_bytes() == data:
            return target
    try:
        target.parent.mkdir(exist_ok=True)
    except OSError as problem:
        raise LedgerError(f"cannot write {_rel(ledger, target)}: {problem.strerror}; nothing was recorded") from None
    _write_new_part(ledger, target, data)
    return target


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        if os.write(fd, data) != len(data):
            raise OSError(errno.ENOSPC, "short write: the disk may be full")
        os.fsync(fd)
    finally:
        os.close(fd)


def unfinished_tail(torn: TornWrite) -> bytes:
    """The bytes an unfinished write left at the end of the newest journal file."""
    with open(torn.path, "rb") as handle:
        handle.seek(torn.offset)
        return handle.read()


def cut_unfinished_tail(ledger: Ledger, torn: TornWrite) -> bytes:
    """Remove the unfinished write that `torn` names, and nothing else; return the bytes cut.

    The one operation allowed to shorten a journal file. Under the write
    lock it re-reads the journal: only if the same unfinished tail is still
    there (an [[entry]] header in the newest file, not a whole entry) are the
    bytes from that header to the end cut, and never bytes a git commit
    holds: those were written whole, and are damage to restore, not cut.
    """
    committed = git.committed_size(ledger.path, Path(torn.path))
    if committed is not None and committed > torn.offset:
        raise LedgerError(
            f"the entry at byte {torn.offset} of {_rel(ledger, Path(torn.path))} is in a git commit, so it is no "
            f"unfinished write but damage; nothing cut: restore it with `git checkout -- {_rel(ledger, Path(torn.path))}`"
        )
    with lock(ledger):
        try:
            for _ in read_entries(ledger):
                pass
        except TornWrite as again:
            if (again.path, again.offset) != (torn.path, torn.offset):
                raise LedgerError("the journal changed since it was read; run `fundledger repair` again") from None
        else:
            raise LedgerError("the journal no longer ends with an unfinished entry; nothing cut")
        path = Path(torn.path)
        with open(path, "r+b") as handle:
            handle.seek(torn.offset)
            removed = handle.read()
            if not _HEADER.match(removed):
                raise LedgerError(
                    f"byte {torn.offset} of {_rel(ledger, path)} is not the start of an entry; nothing cut"
                )
            handle.truncate(torn.offset)
            handle.flush()
            os.fsync(handle.fileno())
        return removed


_held: dict[str, list] = {}  # ledger folder -> [lock file descriptor, depth]: the locks this process holds


@contextlib.contextmanager
def lock(ledger: Ledger) -> Iterator[None]:
    """The exclusive lock every writer of this ledger holds while it reads and appends.

    Re-entrant within a process: sync holds it from its fetch to its push,
    and the writer it calls takes it again.
    """
    key = str(ledger.path.resolve())
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    try:
        ledger.cache_dir.mkdir(exist_ok=True)
        fd = os.open(ledger.cache_dir / "write.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as problem:
        raise LedgerError(f"cannot write to {ledger.path}: {problem.strerror}; nothing was recorded") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _held[key] = [fd, 1]
        yield
    finally:
        _held.pop(key, None)
        os.close(fd)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as problem:
        raise CorruptJournal(f"cannot read {path}: {problem.strerror}") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rel(ledger: Ledger, path: Path) -> str:
    try:
        return str(path.relative_to(ledger.path))
    except ValueError:
        return str(path)
