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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger import fold, git, journal, model, money
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
        entries = seal(books, [planned] if isinstance(planned, Entry) else list(planned))
        if dry_run or not entries:
            return Recorded(entries)
        newest = ledger.journal_names()[-1:]
        written = journal.append(ledger, entries)
        if not (commit and ledger.settings.commit and git.inside_work_tree(ledger.path)):
            return Recorded(entries, written)
        message = commit_message(entries, ledger.settings.currency, batch)
        files = [written]
        if newest and newest[0] != written.name:  # a new part: the ones before may hold entries never committed
            files = [*_left_uncommitted(ledger, written), written]
        try:
            sha = git.commit_paths(ledger.path, files, message, author=author)
        except git.GitError as problem:
            span = f"#{entries[0].id}" if len(entries) == 1 else f"#{entries[0].id}-#{entries[-1].id}"
            why = f"entry {span} is recorded but not committed ({problem}); `fundledger audit` lists it"
            return Recorded(entries, written, not_committed=why)
        return Recorded(entries, written, commit=sha)


def _left_uncommitted(ledger: journal.Ledger, written: Path) -> list[Path]:
    """The parts before `written` (a new part) that hold entries appended but never committed, oldest first.

    A record killed between its write and its commit leaves its entries in
    the newest part, checked and chained, but not in git. A later record to
    the same part commits them with its own; one that starts a new part
    would commit that part alone, and the history would skip their ids. So
    the parts before are committed too, back to one that HEAD holds as it
    is, each only if it is what HEAD holds (or nothing, for a part HEAD does
    not have) with entries appended: anything else is left for `audit`.
    """
    found: list[Path] = []
    for name in reversed([n for n in ledger.journal_names() if n < written.name]):
        part = ledger.journal_dir / name
        committed = git.committed_bytes(ledger.path, part) or b""
        data = part.read_bytes()
        if len(data) == len(committed) or not data.startswith(committed):
            break
        found.insert(0, part)
    return found


def seal(books: Books, entries: Sequence[Entry]) -> list[Entry]:
    """Each entry sealed after the one before (id, prev, hash) and folded into `books`, every rule checked."""
    sealed = []
    for entry in entries:
        placed = entry.sealed(books.last_id + 1, books.seal)
        _readable(placed)
        fold.fold(books, placed)
        sealed.append(placed)
    return sealed


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
