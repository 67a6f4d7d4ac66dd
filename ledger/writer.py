"""The one writer: every entry reaches the journal through `record`.

`record` takes the write lock, reads the books as they stand, asks the plan
for the entries to record, seals each after the one before and folds it into
the books (every rule checked), appends them all with one write and an
fsync, and makes the git commit when the ledger is kept in git. Recording
commands, import, repair, `kept --record` and sync's replay call it; the git
merge driver seals and checks through `seal`, then lays the file out with
`journal.joined`. A commit git refuses leaves the entries recorded, and
says so in the `Recorded` it returns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger import fold, git, journal, model, money, state
from ledger.books import Books
from ledger.model import Entry
from ledger.text import inert

# A record writes the read cache anew only when it had this many new entries to read: rewriting it on
# every record would cost more on a large ledger than reading a few entries again.
SAVE_AFTER = 64

Plan = Callable[[Books], Entry | Sequence[Entry]]


@dataclass(frozen=True)
class Recorded:
    entries: list[Entry]
    file: Path | None = None  # the journal file they were appended to (None on a dry run or for nothing)
    commit: str | None = None  # the git commit that holds them
    not_committed: str | None = None  # why git did not commit them (they are recorded all the same)

    @property
    def entry(self) -> Entry:
        return self.entries[-1]


def record(
    ledger: journal.Ledger,
    plan: Plan,
    *,
    dry_run: bool = False,
    commit: bool = True,
    author: str | None = None,
    batch: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Recorded:
    """Record what `plan(books)` returns (one entry or several, all or none) on top of the journal.

    `commit`: make a git commit, if the ledger is in git and its settings
    allow; `author` ("Name <email>") for an entry recorded on someone's
    behalf (sync keeps the recorder); `batch` names several entries in the
    commit's subject ("import from statement.csv").
    """
    with journal.lock(ledger) if not dry_run else _unlocked():
        if not dry_run:
            journal.finish_interrupted(ledger)  # an append a kill left short goes before anything is read
        books = journal.load(ledger, progress=progress, save_after=SAVE_AFTER)
        planned = plan(books)
        states: dict[str, bytes] = {}
        entries = seal(books, [planned] if isinstance(planned, Entry) else list(planned), states)
        if dry_run or not entries:
            return Recorded(entries)
        committing = commit and ledger.settings.commit and git.inside_work_tree(ledger.path)
        behind = _left_uncommitted(ledger) if committing else []
        kept = [journal.write_state(ledger, recorded, data) for recorded, data in states.items()]  # before the close
        if committing:
            kept += _states_left_uncommitted(ledger, books, kept)
        written = journal.append(ledger, entries)
        if not committing:
            return Recorded(entries, written)
        try:
            while behind:  # each on its own, as if git had allowed it then
                part, contents, earlier = behind[0]
                git.commit_contents(ledger.path, part, contents, commit_message([earlier], ledger.settings.currency))
                behind.pop(0)
            sha = git.commit_paths(ledger.path, [written, *kept], commit_message(entries, ledger.settings.currency, batch),
                                   author=author)  # fmt: skip
        except git.GitError as problem:
            waiting = [*(earlier for _, _, earlier in behind), *entries]  # those git has not committed yet
            span = f"entry #{waiting[0].id} is" if len(waiting) == 1 else f"entries #{waiting[0].id}-#{waiting[-1].id} are"
            why = (f"{span} recorded but not committed ({problem}); the next record git allows commits each on its "
                   "own, and `fundledger audit` lists them until then")  # fmt: skip
            return Recorded(entries, written, not_committed=why)
        return Recorded(entries, written, commit=sha)


def _left_uncommitted(ledger: journal.Ledger) -> list[tuple[Path, bytes, Entry]]:
    """Entries appended but never committed, oldest first: (their part, the part's bytes up to their end, entry).

    A commit git refused (a pre-commit hook), a kill between a write and
    its commit, or `--no-commit` leave entries in the journal, checked and
    chained, but not in git. The next record commits each of them on its
    own before its own entries, so every entry has its own commit and
    `Entry-Id` trailer. Parts are looked at from the newest back to one HEAD
    holds; each is taken only if what HEAD holds of it (nothing, for a part
    HEAD does not have) is where it begins: anything else is left for `audit`.
    """
    found: list[tuple[Path, bytes, Entry]] = []
    for name in reversed(ledger.journal_names()):
        part = ledger.journal_dir / name
        held = git.committed_size(ledger.path, part)
        if held == part.stat().st_size:
            break
        committed = git.committed_bytes(ledger.path, part) or b"" if held else b""
        data = part.read_bytes()
        if not data.startswith(committed):
            break
        _, spans = journal.split_blocks(data, len(committed))
        found[:0] = [(part, data[:end], journal.parse_entry(data[start:end])) for start, end in spans]
        if held is not None:
            break
    return found


def _states_left_uncommitted(ledger: journal.Ledger, books: Books, kept: list[Path]) -> list[Path]:
    """The state files of recorded closes that git does not have yet: a commit git refused, a `git pull` whose
    merge driver recorded a close again (it can write the file, not commit it). The next record commits each,
    if it holds the bytes its close names; a state file changed or removed is `verify`'s to name, never committed."""
    folder = ledger.path / state.FOLDER
    if not folder.is_dir() or folder.is_symlink():
        return []
    try:
        waiting = {Path(name).name for name in git.new_files(ledger.path, [state.FOLDER])} - {p.name for p in kept}
    except git.GitError:  # git's index is locked: the commit says so, after the entries are recorded
        return []
    found = []
    for close_id in books.closes if waiting else ():
        recorded = books.entry(close_id).get("state")
        if recorded is None or not state.DIGEST.fullmatch(recorded):  # an old close a first read did not check
            continue
        name = state.path(ledger.path, recorded).name
        data = state.read(ledger.path, recorded) if name in waiting else None
        if data is not None and state.digest(data) == recorded:
            found.append(folder / name)
    return found


def seal(books: Books, entries: Sequence[Entry], states: dict[str, bytes] | None = None) -> list[Entry]:
    """Each entry sealed after the one before (id, prev, hash) and folded into `books`, every rule checked.

    A close records the state of the books it is sealed after (`ledger.state`), made here whatever it held:
    the state is derived, like its id and chain, so a close proposed, or recorded again by sync on other
    entries, states the books it follows. `states`: where to keep each state file, by its digest.
    """
    sealed = []
    for entry in entries:
        if entry.kind == "close":
            entry = _stated(books, entry, states)
        placed = entry.sealed(books.last_id + 1, books.seal)
        _readable(placed)
        fold.fold(books, placed, hashed=True)  # sealed just now: its hash is its content's
        sealed.append(placed)
    return sealed


def _stated(books: Books, close: Entry, states: dict[str, bytes] | None) -> Entry:
    """`close` with the state of `books` (its rule refuses a close whose period's end is not a day)."""
    try:
        end = dt.date.fromisoformat(close.get("end"))
    except (TypeError, ValueError):
        return close
    data = state.encode(books, end)
    recorded = state.digest(data)
    if states is not None:
        states[recorded] = data
    return dataclasses.replace(close, data={**close.data, "state": recorded, "state_layout": state.LAYOUT})


def _readable(entry: Entry) -> None:
    """Refuse an entry the journal's reader would not take back (a number beyond 64 bits, say): never write one."""
    from ledger import kinds
    from ledger.errors import Refused

    try:
        again = kinds.from_record(model.to_record(entry))
    except ValueError as problem:
        raise Refused(f"this entry could not be read back from the journal: {problem}") from None
    if again != entry:
        raise Refused("this entry would not read back from the journal as it was written")


def commit_message(entries: Sequence[Entry], currency: str, batch: str = "") -> str:
    """`fundledger: #42 contribute Latvia €30,000,000.00`, then trailers a program can read.

    The subject is made inert and kept to one line, so no memo or reason can
    forge a trailer. Several entries are one commit: `batch` names them.
    """
    last = entries[-1]
    if len(entries) == 1 and not batch:
        amount = money.format_money(model.size(last), currency) if last.postings else ""
        subject = " ".join(part for part in (f"#{last.id}", last.kind, inert(model.subject(last)), amount) if part)
        kind = last.kind
    else:
        verb, _, rest = (batch or "record").partition(" ")  # "import from statement.csv"
        subject = f"{verb} {len(entries)} entries {inert(rest)} (#{entries[0].id}-#{last.id})"
        kind = verb
    subject = " ".join(subject.split())
    if len(subject) > 100:
        subject = subject[:99] + "…"
    return f"fundledger: {subject}\n\nEntry-Id: {last.id}\nEntry-Hash: {last.hash}\nEntry-Kind: {kind}\n"


class _unlocked:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc) -> None:
        return None
