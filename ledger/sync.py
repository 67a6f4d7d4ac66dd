"""Several recorders, one fund: publish this clone's entries on top of the shared branch, losing nothing.

The shared branch (a remote's) holds the published journal: one linear
sequence of entries that never changes. Entries this clone recorded and has
not published are tentative. `sync` fetches; when the remote has entries
this clone lacks, it keeps its unpublished entries aside (in
`.cache/replaying.toml`, so a crash loses nothing), moves the branch to the
remote's, and records each of them again on top: a new id and chain, every
rule checked against the combined books, the original `recorded_at`, source
and memo kept, and the original recorder as the commit's author. An entry
the combined books refuse (both clones spent the last of an earmark) is not
recorded: it goes to `.cache/kept.toml` with the reason, from where
`fundledger kept --record` records it once the books allow. Then it pushes;
a push that loses a race starts again from the fetch.

`replay` is shared with the git merge driver (`fundledger merge-driver`),
which does the same inside a `git pull`.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from ledger import git, journal, model, rules
from ledger.books import Books
from ledger.errors import BadInput, LedgerError, Refused
from ledger.model import Entry

KEPT_FILE = "kept.toml"
REPLAYING_FILE = "replaying.toml"
ATTEMPTS = 8


@dataclass
class Kept:
    """An entry that could not be recorded on top of the other recorders' entries, and why."""

    entry: Entry
    reason: str
    kept_at: str = ""
    author: str = ""


@dataclass
class Outcome:
    fetched: int = 0  # entries the remote had that this clone lacked
    replayed: list[tuple[int, int]] = field(default_factory=list)  # (old id, new id)
    kept: list[Kept] = field(default_factory=list)
    pushed: int = 0
    attempts: int = 0


def sync(ledger: journal.Ledger, remote: str = "origin", branch: str = "main", *, push: bool = True) -> Outcome:
    """Fetch, replay this clone's unpublished entries on the remote's, push; retried when a push loses a race."""
    path = ledger.path
    if not git.inside_work_tree(path):
        raise BadInput(f"{path} is not in a git repository; sync shares a ledger through git")
    folder = git.prefix(path) + journal.JOURNAL_DIR
    if git.uncommitted(path, [journal.JOURNAL_DIR, journal.SETTINGS_FILE]):
        raise BadInput("the journal has changes that are not committed; commit them (or `git stash`) before sync")
    outcome = Outcome()
    _resume(ledger, outcome)
    for attempt in range(1, ATTEMPTS + 1):
        outcome.attempts = attempt
        theirs = git.fetch(path, remote, branch)
        mine = journal.load(ledger).hold_entries().entries
        if theirs is None:  # a new shared branch: publish everything
            published: list[Entry] = []
        else:
            published = _books_of(ledger, git.files_at(path, theirs, folder), "the remote's").entries
        common = _common(mine, published)
        behind = theirs is not None and not git.is_ancestor(path, theirs, "HEAD")
        if common < len(published) or behind:  # the remote has what this clone lacks: ours go on top of it
            unpublished = mine[common:]
            if git.changed_outside(path, f"{theirs}..HEAD", folder):
                raise BadInput(
                    f"this clone has commits not on {remote}/{branch} that change more than the journal; "
                    "merge those by hand first (sync only moves entries)"
                )
            authors = git.authors(path, f"{theirs}..HEAD", journal.JOURNAL_DIR) if unpublished else {}
            _write(
                ledger, REPLAYING_FILE, [Kept(e, "being replayed", author=authors.get(e.hash, "")) for e in unpublished]
            )
            git.reset_hard(path, theirs)
            outcome.fetched += len(published) - common
            recorded, refused = replay(ledger, unpublished, authors)
            outcome.replayed += recorded
            outcome.kept += refused
            _keep(ledger, refused)
            (ledger.cache_dir / REPLAYING_FILE).unlink(missing_ok=True)
        if not push:
            return outcome
        ahead = journal.load(ledger).count - len(published)
        if ahead <= 0 or git.push(path, remote, branch):
            outcome.pushed = max(ahead, 0)
            return outcome
    raise LedgerError(f"the remote kept moving: gave up after {ATTEMPTS} attempts; run `fundledger sync` again")


def replay(
    ledger: journal.Ledger, entries: Sequence[Entry], authors: dict[str, str], *, commit: bool = True
) -> tuple[list[tuple[int, int]], list[Kept]]:
    """Record `entries` again on top of the journal as it is: new ids and chain, every rule checked.

    References among them (a receipt against a pledge also being replayed,
    a reversal) follow the new ids; an entry whose reference was not
    recorded is kept, not guessed at.
    """
    from ledger import render

    moved: dict[int, int] = {}
    first = entries[0].id if entries else 0
    recorded, refused = [], []
    for old in entries:
        try:
            again = _again(old, moved, first)

            def then(entry: Entry, written: Path, who: str = authors.get(old.hash, "")) -> None:
                if commit:
                    message = render.commit_message(entry, ledger.settings.currency)
                    git.commit_paths(ledger.path, [written], message, author=who or None)

            new = journal.record(ledger, lambda books, e=again: e, then=then)
        except (Refused, BadInput) as problem:
            refused.append(Kept(old, str(problem), _now(), authors.get(old.hash, "")))
            continue
        moved[old.id] = new.id
        recorded.append((old.id, new.id))
    return recorded, refused


def _again(old: Entry, moved: dict[int, int], first: int) -> Entry:
    """`old` to be recorded anew: no id or chain yet, its references to replayed entries moved to their new ids."""
    return dataclasses.replace(old, id=0, prev="", hash="", data=_moved_references(old, moved, first))


def _moved_references(entry: Entry, moved: dict[int, int], first: int) -> dict:
    data = dict(entry.data)
    for key in ("pledge", "reverses"):
        target = data.get(key)
        if isinstance(target, int) and target >= first:
            if target not in moved:
                raise Refused(f"it refers to #{target}, an entry of this clone that could not be recorded")
            data[key] = moved[target]
    return data


def _common(mine: Sequence[Entry], theirs: Sequence[Entry]) -> int:
    """How many entries the two journals share from the first (same hash, so the same chain)."""
    count = 0
    for a, b in zip(mine, theirs, strict=False):
        if a.hash != b.hash:
            break
        count += 1
    return count


def _books_of(ledger: journal.Ledger, files: dict[str, bytes], whose: str) -> Books:
    """The books of journal files read from elsewhere (name -> bytes: git, a merge), checked as a load checks them."""
    books = Books(ledger.settings.currency, ledger.settings.name, ledger.settings.manager)
    names = sorted(name for name in files if journal.is_journal_name(Path(name).name))
    for index, name in enumerate(names):
        path = ledger.journal_dir / Path(name).name
        for located in journal.blocks(ledger, path, files[name], newest=index == len(names) - 1):
            try:
                rules.check(books, located.entry, hashed=True)
            except Refused as problem:
                raise LedgerError(f"{whose} journal is not sound at #{located.entry.id}: {problem}") from None
            books.apply(located.entry)
    return books


# --- the kept file ----------------------------------------------------------


def kept(ledger: journal.Ledger) -> list[Kept]:
    """The entries kept because they could not be recorded, oldest first."""
    return _read(ledger, KEPT_FILE)


def record_kept(ledger: journal.Ledger, *, commit: bool = True) -> tuple[list[tuple[int, int]], list[Kept]]:
    """Try the kept entries again, in order; those recorded leave the file, the rest stay with today's reason."""
    waiting = kept(ledger)
    recorded, refused = replay(ledger, [k.entry for k in waiting], {k.entry.hash: k.author for k in waiting},
                               commit=commit)  # fmt: skip
    _write(ledger, KEPT_FILE, refused)
    return recorded, refused


def _resume(ledger: journal.Ledger, outcome: Outcome) -> None:
    """Entries a sync that died half-way had set aside: recorded now (or kept), so none is lost."""
    waiting = _read(ledger, REPLAYING_FILE)
    if not waiting:
        return
    books = journal.load(ledger)
    present = {e.hash for e in books.entries}
    # Entries still in the journal (the sync died before the reset) need nothing; the others are replayed.
    missing = [k for k in waiting if not _recorded(k.entry, books.entries, present)]
    recorded, refused = replay(ledger, [k.entry for k in missing], {k.entry.hash: k.author for k in missing})
    outcome.replayed += recorded
    outcome.kept += refused
    _keep(ledger, refused)
    (ledger.cache_dir / REPLAYING_FILE).unlink(missing_ok=True)


def _recorded(entry: Entry, entries: Sequence[Entry], hashes: set[str]) -> bool:
    if entry.hash in hashes:
        return True
    same = (entry.kind, entry.recorded_at, entry.date, entry.memo, entry.source, entry.postings)
    return any((e.kind, e.recorded_at, e.date, e.memo, e.source, e.postings) == same for e in entries)


def _keep(ledger: journal.Ledger, more: Sequence[Kept]) -> None:
    if more:
        _write(ledger, KEPT_FILE, [*kept(ledger), *more])


def _write(ledger: journal.Ledger, name: str, items: Sequence[Kept]) -> None:
    """Write a list of kept entries (through tomli-w only) with one rename, so it is whole or as it was."""
    ledger.cache_dir.mkdir(exist_ok=True)
    target = ledger.cache_dir / name
    if not items:
        target.unlink(missing_ok=True)
        return
    records = [
        {"reason": k.reason, "kept_at": k.kept_at or _now(), "author": k.author, "entry": model.to_record(k.entry)}
        for k in items
    ]
    temporary = target.with_suffix(".tmp")
    temporary.write_text(tomli_w.dumps({"kept": records}), encoding="utf-8")
    temporary.replace(target)


def _read(ledger: journal.Ledger, name: str) -> list[Kept]:
    try:
        text = (ledger.cache_dir / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    try:
        raw = tomllib.loads(text)["kept"]
        return [Kept(model.from_record(r["entry"]), r["reason"], r["kept_at"], r.get("author", "")) for r in raw]
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as problem:
        raise LedgerError(f"{ledger.cache_dir / name} cannot be read ({problem}); nothing was changed") from None


def _now() -> str:
    return model.format_timestamp(model.now())


# --- the git merge driver ---------------------------------------------------

ATTRIBUTES = "journal/*.toml merge=fundledger\n"


def setup(ledger: journal.Ledger, command: str) -> list[Path]:
    """Register the merge driver for this clone, ask `git pull` to rebase, and write `.gitattributes`.

    Returns the files to commit (the attributes travel with the repository;
    the driver itself is each clone's git config, so each clone runs this).
    """
    path = ledger.path
    git.set_config(path, "merge.fundledger.name", "fundledger: replay journal entries instead of conflict markers")
    git.set_config(path, "merge.fundledger.driver", f"{command} merge-driver %O %A %B %P")
    git.set_config(path, "pull.rebase", "true")  # keeps the shared history one line of appends, as audit wants
    attributes = path / ".gitattributes"
    text = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
    if ATTRIBUTES.strip() not in text.splitlines():
        attributes.write_text(text + ("" if text.endswith("\n") or not text else "\n") + ATTRIBUTES, encoding="utf-8")
        return [attributes]
    return []


def merge_file(ledger: journal.Ledger, name: str, base: bytes, ours: bytes, theirs: bytes, *, rebasing: bool) -> bytes:
    """The merged bytes of journal file `name`: the published side, then the other side's new entries replayed.

    In a rebase (`git pull` with pull.rebase) "ours" is the remote's side and
    "theirs" the local commit being replayed; in a merge it is the other way
    round. Raises LedgerError with the report when an entry cannot be replayed.
    """
    published, local = (ours, theirs) if rebasing else (theirs, ours)
    path = ledger.journal_dir / name
    parsed = {key: [b.entry for b in journal.blocks(ledger, path, data, newest=True)] if data.strip() else []
              for key, data in (("base", base), ("published", published), ("local", local))}  # fmt: skip
    start = len(parsed["base"])
    for side in ("published", "local"):
        if [e.hash for e in parsed[side][:start]] != [e.hash for e in parsed["base"]]:
            raise LedgerError(f"{name}: the {side} side changed entries it had; only appended entries can be merged")
    mine = parsed["local"][start:]
    if not mine:
        return published
    later = [n for n in ledger.journal_names() if n > name]
    if later:
        raise LedgerError(f"{name}: newer journal files exist ({', '.join(later)}); run `fundledger sync` instead")
    earlier = {other: (ledger.journal_dir / other).read_bytes() for other in ledger.journal_names() if other < name}
    books = _books_of(ledger, {**earlier, name: published}, "the merged")
    out = bytearray(published)
    moved: dict[int, int] = {}
    refused: list[Kept] = []
    for old in mine:
        try:
            new = _again(old, moved, mine[0].id).sealed(books.last_id + 1, books.seal)
            rules.check(books, new)
        except (Refused, BadInput) as problem:
            refused.append(Kept(old, str(problem), _now()))
            continue
        books.apply(new)
        moved[old.id] = new.id
        if out.strip():
            out += (b"" if out.endswith(b"\n") else b"\n") + b"\n"
        out += journal.entry_bytes(new)
    if refused:
        _keep(ledger, refused)
        lines = "; ".join(f"#{k.entry.id} {k.entry.kind} {model.subject(k.entry)}: {k.reason}" for k in refused)
        raise LedgerError(f"cannot replay {len(refused)} entr{'y' if len(refused) == 1 else 'ies'} ({lines}); "
                          f"kept in {ledger.cache_dir / KEPT_FILE}; run `git rebase --abort` or `git merge --abort`")  # fmt: skip
    return bytes(out)
