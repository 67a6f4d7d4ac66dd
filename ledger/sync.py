"""Several recorders, one fund: publish this clone's entries on top of the shared branch, losing nothing.

The shared branch (a remote's) holds the published journal: one linear
sequence of entries that never changes. Entries this clone recorded and has
not published are tentative. `sync` holds the write lock from start to end
(no entry recorded meanwhile can be lost under a reset), fetches, checks
that the remote still starts with everything this clone saw published
(a remote whose history was rewritten is refused), and, when the remote has
entries this clone lacks, sets its unpublished entries aside (in this
clone's state folder under `.git/`, so a crash loses nothing), moves the
branch to the remote's and records each of them again on top through the
one writer: a new id and chain, every rule checked against the combined
books, the original `recorded_at`, source and memo kept, and the original
recorder as the commit's author. References among them (a receipt against
a pledge also set aside) are followed by the hash of the entry they named,
so they reach its new id, even across a crash and resume. An entry the
combined books refuse (both clones spent the last of an earmark), and every
entry that names one, is kept aside with the reason; `fundledger kept
--record` records them once the books allow. Then it pushes; a push that
loses a race starts again from the fetch.

The git merge driver (`fundledger merge-driver`) does the same inside a
`git pull`, for one journal file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from ledger import git, journal, kinds, model, state, writer
from ledger.errors import BadInput, LedgerError, Refused
from ledger.model import Entry

KEPT_FILE = "kept.toml"
SETTING_ASIDE_FILE = "setting-aside.toml"  # entries set aside by a sync that is under way
DONE_LOG = "setting-aside.done"  # one line per entry recorded again: old hash, new id
PUBLISHED_FILE = "published.toml"  # what this clone last saw published: how many entries, and the seal
_OLD_FILES = {KEPT_FILE: "kept.toml", SETTING_ASIDE_FILE: "replaying.toml"}  # where versions before 0.2 kept them
ATTEMPTS = 8


@dataclass
class Kept:
    """An entry of this clone's, set aside to be recorded again on top of the others' (and why, if it was not)."""

    entry: Entry  # as this clone first recorded it: its old id and references
    reason: str = ""
    kept_at: str = ""
    author: str = ""
    # What its references name: for a field naming an entry of this clone's, that entry's hash while it waits
    # to be recorded again, and its new id once it is.
    refs: dict[str, str | int] = field(default_factory=dict)


@dataclass
class Outcome:
    fetched: int = 0  # entries the remote had that this clone lacked
    replayed: list[tuple[int, int]] = field(default_factory=list)  # (old id, new id)
    kept: list[Kept] = field(default_factory=list)
    pushed: int = 0
    attempts: int = 0


def sync(ledger: journal.Ledger, remote: str = "origin", branch: str = "main", *, push: bool = True) -> Outcome:
    """Fetch, record this clone's unpublished entries again on the remote's, push; retried when a push loses a race."""
    path = ledger.path
    if not git.inside_work_tree(path):
        raise BadInput(f"{path} is not in a git repository; sync shares a ledger through git")
    folder = git.prefix(path) + journal.JOURNAL_DIR
    outcome = Outcome()
    with journal.lock(ledger):
        _resume(ledger, outcome)
        if git.uncommitted(path, [journal.JOURNAL_DIR, journal.SETTINGS_FILE]):
            raise BadInput("the journal has changes that are not committed; commit them (or `git stash`) before sync")
        seen = _seen(ledger, remote, branch, folder)
        for attempt in range(1, ATTEMPTS + 1):
            outcome.attempts = attempt
            theirs = git.fetch(path, remote, branch)
            mine = journal.hold(journal.load(ledger)).entries
            published: list[Entry] = []
            if theirs is not None:
                files = git.files_at(path, theirs, folder)
                published = journal.books_from_files(ledger, files, "the remote's").entries
                _check_not_rewritten(seen, published, mine, remote, branch)
                seen = _saw(ledger, published)
            common = _common(mine, published)
            behind = theirs is not None and not git.is_ancestor(path, theirs, "HEAD")
            if common < len(published) or behind:  # the remote has what this clone lacks: ours go on top of it
                unpublished = mine[common:]
                # A close's state file (ledger.state) goes with it: recorded again on theirs, it is written again.
                if git.changed_outside(path, f"{theirs}..HEAD", folder, git.prefix(path) + state.FOLDER):
                    raise BadInput(
                        f"this clone has commits not on {remote}/{branch} that change more than the journal; "
                        "merge those by hand first (sync only moves entries)"
                    )
                authors = git.authors(path, f"{theirs}..HEAD", journal.JOURNAL_DIR) if unpublished else {}
                waiting = set_aside(unpublished, authors)
                _write(ledger, SETTING_ASIDE_FILE, waiting, base=len(published))
                _done_log(ledger).unlink(missing_ok=True)
                git.reset_hard(path, theirs)
                outcome.fetched += len(published) - common
                _finish(ledger, waiting, {}, outcome)
            if not push:
                return outcome
            books = journal.load(ledger)
            ahead = books.count - len(published)
            if ahead <= 0 or git.push(path, remote, branch):
                outcome.pushed = max(ahead, 0)
                if ahead > 0:
                    _store_seen(ledger, books.count, books.seal)
                return outcome
    raise LedgerError(f"the remote kept moving: gave up after {ATTEMPTS} attempts; run `fundledger sync` again")


def set_aside(entries: Sequence[Entry], authors: dict[str, str]) -> list[Kept]:
    """Entries to record again, each with the hashes of the entries among them that it depends on.

    An entry depends on one it names by id (a receipt's pledge) and on one
    that brought into being a thing it names (a payment's package, made in
    this clone): if that one is kept aside, so is this.
    """
    by_id = {entry.id: entry for entry in entries}
    made: dict[tuple[str, str], str] = {}  # (field, name) -> hash of the entry that made it
    waiting = []
    for entry in entries:
        kind = kinds.get(entry.kind)
        refs: dict[str, str | int] = {
            name: by_id[entry.get(name)].hash for name in kinds.refs_of(entry) if entry.get(name) in by_id
        }
        for name in kind.uses if kind else ():
            if (name, entry.get(name)) in made:
                refs[f"{AFTER}{name}"] = made[(name, entry.get(name))]
        if kind and kind.creates:
            made[(kind.creates, entry.get(kind.creates))] = entry.hash
        waiting.append(Kept(entry, "set aside by sync", author=authors.get(entry.hash, ""), refs=refs))
    return waiting


AFTER = "after:"  # a dependency that names no id: only the order, and that the other one is recorded


def record_again(
    ledger: journal.Ledger, waiting: Sequence[Kept], moved: dict[str, int], *, commit: bool = True, log: bool = False
) -> tuple[list[tuple[int, int]], list[Kept]]:
    """Record each waiting entry again on top of the journal, through the one writer, in order.

    `moved` maps the hash of an entry already recorded again to its new id
    (it grows here); an entry naming one of this clone's entries that is not
    in it is kept aside, not guessed at. With `log`, each entry recorded
    again is noted in the done log, so a sync that dies resumes where it was.
    """
    recorded, refused = [], []
    for item in waiting:
        if item.entry.hash in moved:  # recorded before a crash, and resumed
            continue
        try:
            again = _again(item, moved)
            done = writer.record(ledger, lambda books, e=again: e, commit=commit, author=item.author or None)
        except (Refused, BadInput) as problem:
            refused.append(_kept(item, str(problem), moved))
            continue
        moved[item.entry.hash] = done.entry.id
        if log:
            with open(_done_log(ledger), "a", encoding="utf-8") as handle:
                handle.write(f"{item.entry.hash} {done.entry.id}\n")
                handle.flush()
                os.fsync(handle.fileno())
        recorded.append((item.entry.id, done.entry.id))
    return recorded, refused


def _again(item: Kept, moved: dict[str, int]) -> Entry:
    """The entry to record anew: no id or chain yet, what it names of this clone's moved to the new ids."""
    data = dict(item.entry.data)
    for name, target in item.refs.items():
        field_name = name.removeprefix(AFTER)
        if isinstance(target, str) and target not in moved:
            raise Refused(
                f"it refers to {_named(item.entry, name)}, made by an entry of this clone's that could not be recorded"
                if name.startswith(AFTER)
                else f"it refers to #{data[name]}, an entry of this clone's that could not be recorded"
            )
        if not name.startswith(AFTER):
            data[field_name] = target if isinstance(target, int) else moved[target]
    return dataclasses.replace(item.entry, id=0, prev="", hash="", data=data)


def _named(entry: Entry, name: str) -> str:
    field_name = name.removeprefix(AFTER)
    return f"{field_name} {entry.get(field_name)}"


def _kept(item: Kept, reason: str, moved: dict[str, int]) -> Kept:
    """`item` kept with `reason`, the references it makes that have new ids by now resolved to them."""
    refs = {name: moved.get(target, target) if isinstance(target, str) else target for name, target in item.refs.items()}
    return dataclasses.replace(item, reason=reason, kept_at=_now(), refs=refs)


def _finish(ledger: journal.Ledger, waiting: list[Kept], moved: dict[str, int], outcome: Outcome) -> None:
    recorded, refused = record_again(ledger, waiting, moved, log=True)
    outcome.replayed += recorded
    outcome.kept += refused
    _keep(ledger, refused)
    _write(ledger, SETTING_ASIDE_FILE, [])
    _done_log(ledger).unlink(missing_ok=True)


def _common(mine: Sequence[Entry], theirs: Sequence[Entry]) -> int:
    """How many entries the two journals share from the first (same hash, so the same chain)."""
    count = 0
    for a, b in zip(mine, theirs, strict=False):
        if a.hash != b.hash:
            break
        count += 1
    return count


def _resume(ledger: journal.Ledger, outcome: Outcome) -> None:
    """Entries a sync that died half-way had set aside: recorded now (or kept), so none is lost.

    If they are all still in the journal, the sync died before it moved the
    branch, and nothing is needed. Otherwise each one the done log names is
    recorded already, and the newest entry of the journal, if it is the one
    that was being recorded when the sync died, counts as done too, unless
    it is one of the remote's (its id is within what the branch was moved to:
    a published twin of the same event, recorded in the same second, is not
    this clone's).
    """
    waiting = _read(ledger, SETTING_ASIDE_FILE)
    if not waiting:
        return
    books = journal.load(ledger)
    present = {e.hash for e in books.entries}
    if all(item.entry.hash in present for item in waiting):
        _write(ledger, SETTING_ASIDE_FILE, [])
        _done_log(ledger).unlink(missing_ok=True)
        return
    moved = _read_done(ledger)
    claimed = set(moved.values())
    pending = [item for item in waiting if item.entry.hash not in moved]
    newest = books.entry(books.last_id)
    base = (_read_table(ledger, SETTING_ASIDE_FILE) or {}).get("base", 0)
    ours = newest is not None and newest.id > base and newest.id not in claimed
    if pending and ours and _same_event(newest, pending[0].entry):
        moved[pending[0].entry.hash] = newest.id  # recorded, but the sync died before it could note so
        if git.inside_work_tree(ledger.path) and git.uncommitted(ledger.path, [journal.JOURNAL_DIR]):
            files = [ledger.journal_dir / name for name in ledger.journal_names()[-1:]]
            message = writer.commit_message([newest], ledger.settings.currency)
            git.commit_paths(ledger.path, files, message, author=pending[0].author or None)
    _finish(ledger, waiting, moved, outcome)


def _same_event(recorded: Entry, original: Entry) -> bool:
    """Whether `recorded` is `original` recorded again (its id, chain and references aside)."""
    fields = ("kind", "date", "recorded_at", "memo", "source", "postings")
    same = all(getattr(recorded, name) == getattr(original, name) for name in fields)
    refs = kinds.refs_of(original)
    return same and {k: v for k, v in recorded.data.items() if k not in refs} == {
        k: v for k, v in original.data.items() if k not in refs
    }


# --- what this clone saw published --------------------------------------------


def _seen(ledger: journal.Ledger, remote: str, branch: str, folder: str) -> tuple[int, str]:
    """(entries, seal) this clone last saw published: noted at each sync; at first, what it last fetched."""
    noted = _read_table(ledger, PUBLISHED_FILE)
    if noted is not None:
        try:
            return int(noted["entries"]), str(noted["seal"])
        except (KeyError, TypeError, ValueError):
            raise LedgerError(f"{_state(ledger) / PUBLISHED_FILE} cannot be read; nothing was changed") from None
    try:
        before = git.resolve(ledger.path, f"refs/remotes/{remote}/{branch}")
    except git.GitError:
        return 0, model.GENESIS
    books = journal.books_from_files(ledger, git.files_at(ledger.path, before, folder), "the remote's")
    if books.count:  # noted now: the fetch that follows moves the ref this was read from, even if it is refused
        _store_seen(ledger, books.count, books.seal)
    return books.count, books.seal


def _check_not_rewritten(
    seen: tuple[int, str], published: Sequence[Entry], mine: Sequence[Entry], remote: str, branch: str
) -> None:
    count, seal = seen
    if count == 0 or (len(published) >= count and published[count - 1].hash == seal):
        return
    first = next(
        (i + 1 for i, (a, b) in enumerate(zip(mine, published, strict=False)) if i < count and a.hash != b.hash),
        min(len(published), count) + 1,
    )
    raise LedgerError(
        f"{remote}/{branch} no longer holds what it published: entry #{first} differs from (or is missing against) "
        f"what this clone saw published up to #{count} (seal {seal[:12]}); its history was rewritten, so nothing "
        "was synced: ask who changed it, and compare with `fundledger verify --seal`"
    )


def _saw(ledger: journal.Ledger, published: Sequence[Entry]) -> tuple[int, str]:
    seen = (len(published), published[-1].hash if published else model.GENESIS)
    _store_seen(ledger, *seen)
    return seen


def _store_seen(ledger: journal.Ledger, count: int, seal: str) -> None:
    _write_table(ledger, PUBLISHED_FILE, {"entries": count, "seal": seal})


# --- the kept entries, in this clone's state folder ----------------------------


def kept(ledger: journal.Ledger) -> list[Kept]:
    """The entries kept because they could not be recorded, oldest first."""
    return _read(ledger, KEPT_FILE)


def kept_path(ledger: journal.Ledger) -> Path:
    return _state(ledger) / KEPT_FILE


def record_kept(ledger: journal.Ledger, *, commit: bool = True) -> tuple[list[tuple[int, int]], list[Kept]]:
    """Try the kept entries again, in order; those recorded leave the file, the rest stay with today's reason."""
    with journal.lock(ledger):
        waiting = kept(ledger)
        recorded, refused = record_again(ledger, waiting, {}, commit=commit)
        _write(ledger, KEPT_FILE, refused)
    return recorded, refused


def _keep(ledger: journal.Ledger, more: Sequence[Kept]) -> None:
    if more:
        _write(ledger, KEPT_FILE, [*kept(ledger), *more])


def _state(ledger: journal.Ledger) -> Path:
    """This clone's own folder for what sync keeps: under `.git/`, never committed, never swept as derived.

    Files an older fundledger kept in `.cache/` are moved here on first use,
    but never one git tracks: `.cache/` is ignored, so such a file was
    committed by someone (forged entries to record under this clone's name),
    not left by this clone.
    """
    folder = git.state_dir(ledger.path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, old in _OLD_FILES.items():
        legacy = ledger.cache_dir / old
        mine = legacy.is_file() and not legacy.is_symlink() and not git.tracked(ledger.path, legacy)
        if mine and not (folder / name).exists():
            os.replace(legacy, folder / name)
    return folder


def _done_log(ledger: journal.Ledger) -> Path:
    return _state(ledger) / DONE_LOG


def _read_done(ledger: journal.Ledger) -> dict[str, int]:
    moved = {}
    try:
        lines = _done_log(ledger).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return moved
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():  # a line cut by a crash is not a line
            moved[parts[0]] = int(parts[1])
    return moved


def _write(ledger: journal.Ledger, name: str, items: Sequence[Kept], *, base: int | None = None) -> None:
    """Write a list of kept entries (through tomli-w only) with one rename, so it is whole or as it was.

    `base`: for entries set aside, how many entries the branch they go on top of holds.
    """
    if not items:
        (_state(ledger) / name).unlink(missing_ok=True)
        return
    records = [
        {
            "reason": k.reason,
            "kept_at": k.kept_at or _now(),
            "author": k.author,
            "refs": dict(k.refs),
            "entry": model.to_record(k.entry),
        }
        for k in items
    ]
    _write_table(ledger, name, {"kept": records} if base is None else {"base": base, "kept": records})


def _write_table(ledger: journal.Ledger, name: str, table: dict) -> None:
    target = _state(ledger) / name
    temporary = target.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(tomli_w.dumps(table))
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(target)


def _read_table(ledger: journal.Ledger, name: str) -> dict | None:
    path = _state(ledger) / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as problem:
        raise LedgerError(f"{path} cannot be read ({problem}); nothing was changed") from None


def _read(ledger: journal.Ledger, name: str) -> list[Kept]:
    raw = _read_table(ledger, name)
    if raw is None:
        return []
    try:
        return [
            Kept(kinds.from_record(r["entry"]), r["reason"], r["kept_at"], r.get("author", ""), dict(r.get("refs", {})))
            for r in raw["kept"]
        ]
    except (KeyError, TypeError, ValueError) as problem:
        raise LedgerError(f"{_state(ledger) / name} cannot be read ({problem}); nothing was changed") from None


def _now() -> str:
    return model.format_timestamp(model.now())


# --- the git merge driver ---------------------------------------------------


def setup(ledger: journal.Ledger, command: str) -> None:
    """Register the merge driver for this clone and ask `git pull` to rebase; nothing to commit.

    The attributes that route journal files to the driver go to this clone's
    own `.git/info/attributes`, so setting up a fresh clone makes no commit
    that sync would then have to carry across.
    """
    path = ledger.path
    git.set_config(path, "merge.fundledger.name", "fundledger: replay journal entries instead of conflict markers")
    git.set_config(path, "merge.fundledger.driver", f"{command} merge-driver %O %A %B %P")
    git.set_config(path, "pull.rebase", "true")  # keeps the shared history one line of appends, as audit wants
    git.add_attribute(path, f"{git.prefix(path)}{journal.JOURNAL_DIR}/*.toml merge=fundledger")


def merge_file(ledger: journal.Ledger, name: str, base: bytes, ours: bytes, theirs: bytes, *, rebasing: bool) -> bytes:
    """The merged bytes of journal file `name`: the published side, then the other side's new entries again.

    In a rebase (`git pull` with pull.rebase) "ours" is the remote's side and
    "theirs" the local commit being replayed; in a merge it is the other way
    round. Raises LedgerError with the report when an entry cannot be recorded again.
    """
    published, local = (ours, theirs) if rebasing else (theirs, ours)
    path = ledger.journal_dir / name
    parsed = {key: [b.entry for b in journal.blocks(ledger, path, data, newest=True)] if data.strip() else []
              for key, data in (("base", base), ("published", published), ("local", local))}  # fmt: skip
    start = len(parsed["base"])
    if [e.hash for e in parsed["local"][:start]] != [e.hash for e in parsed["base"]]:
        raise LedgerError(f"{name}: this clone's side changed entries it had; only appended entries can be merged")
    common, moved = _moved_by_rebase(parsed["base"], parsed["published"], name)
    mine = parsed["local"][start:]
    if not mine:
        return published
    later = [n for n in ledger.journal_names() if n > name]
    if later:
        raise LedgerError(f"{name}: newer journal files exist ({', '.join(later)}); run `fundledger sync` instead")
    earlier = {other: (ledger.journal_dir / other).read_bytes() for other in ledger.journal_names() if other < name}
    books = journal.books_from_files(ledger, {**earlier, name: published}, "the merged")
    new: list[Entry] = []
    refused: list[Kept] = []
    waiting = set_aside(parsed["base"][common:] + mine, {})[start - common :]
    states: dict[str, bytes] = {}
    for item in waiting:
        try:
            again = writer.seal(books, [_again(item, moved)], states)[0]
        except (Refused, BadInput) as problem:
            refused.append(_kept(item, str(problem), moved))
            continue
        moved[item.entry.hash] = again.id
        new.append(again)
    if refused:
        _keep(ledger, refused)
        lines = "; ".join(f"#{k.entry.id} {k.entry.kind} {model.subject(k.entry)}: {k.reason}" for k in refused)
        raise LedgerError(f"cannot replay {len(refused)} entr{'y' if len(refused) == 1 else 'ies'} ({lines}); "
                          f"kept in {kept_path(ledger)}; run `git rebase --abort` or `git merge --abort`")  # fmt: skip
    for recorded, data in states.items():  # beside the merge, for a first read: `git add states/` commits them
        journal.write_state(ledger, recorded, data)
    return journal.joined(published, new)


def _moved_by_rebase(base: list[Entry], published: list[Entry], name: str) -> tuple[int, dict[str, int]]:
    """Entries of `base` that the published side holds again under new ids (an earlier commit of this rebase).

    The published side must start with what `base` shares with it; the rest
    of `base` must be there as the same events recorded again, and then a
    reference to one of them follows it to its new id.
    """
    common = _common(base, published)
    moved: dict[str, int] = {}
    later = published[common:]
    for entry in base[common:]:
        match = next((again for again in later if _same_event(again, entry) and again.id not in moved.values()), None)
        if match is None:
            raise LedgerError(f"{name}: the published side changed entries it had; only appended entries can be merged")
        moved[entry.hash] = match.id
    return common, moved
