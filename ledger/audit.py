"""The audit: check from git's history that nothing recorded was changed, removed or reordered.

Replays the history of the ledger's folder commit by commit: journal files
may only grow at their end, `ledger.toml` never changes once created, and
the entries each commit adds must continue the ids and the chain and pass
every rule. Reports who recorded what and, with an `allowed_signers` file,
each commit's signature.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger import fold, git, journal, model
from ledger.books import Books
from ledger.errors import LedgerError, Refused
from ledger.git import Commit

ALLOWED_SIGNERS = "allowed_signers"
# git's %G? letters. With an allowed_signers file, a good signature by a key the file does not list is
# "U" (valid signature, unknown signer), so U means the key is not allowed.
SIGNATURES = {
    "G": "good",
    "U": "key not allowed",
    "B": "bad",
    "N": "unsigned",
    "E": "cannot be checked",
    "X": "expired",
    "Y": "expired key",
    "R": "revoked key",
}
_JOURNAL = re.compile(r"journal/[0-9]{4}-[0-9]{4}\.toml")
# The subject the writer gives a commit of one entry ("fundledger: #42 contribute …"); several are "… N entries …".
_ONE_ENTRY = re.compile(r"fundledger: #[0-9]+ ")


@dataclass(frozen=True)
class Finding:
    message: str
    entry: int | None = None
    commit: str | None = None
    author: str = ""
    date: str = ""


@dataclass
class Audit:
    findings: list[Finding] = field(default_factory=list)
    commits: int = 0
    entries: int = 0
    recorders: Counter = field(default_factory=Counter)
    signatures: list[tuple[str, str, str]] | None = None  # (commit, author, status)
    seal: str = model.GENESIS
    # Closed periods opened again, which an auditor wants to see even when nothing else is wrong:
    # (period, close id, reopening id, its date, its reason, who recorded it).
    reopenings: list[tuple[str, int, int, str, str, str]] = field(default_factory=list)
    # Four eyes: each proposal, who proposed it and who approved it, proven by the commits' signatures.
    approvals: list[dict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


@dataclass
class _File:
    lines: int = 0
    starts: list[tuple[int, int]] = field(default_factory=list)  # (first line, entry id)
    broken: bool = False

    def entry_at(self, line: int) -> int | None:
        found = None
        for start, entry_id in self.starts:
            if start <= line:
                found = entry_id
        return found


def run(ledger: journal.Ledger, since: str | None = None, tick: Callable[[int], None] | None = None) -> Audit:
    """Audit the ledger's history; findings in commits before `since` are left out (they are still replayed).

    One walk of the history, commit by commit (`_Walk`), the quick way
    first: `git log --raw` names the blobs each commit wrote, and where a
    journal file's new blob begins with the whole of its previous one (both
    read with `git cat-file`), the bytes it appends are what a diff would
    show, so they are parsed and folded with no diff made. From the first
    commit that does more than append (a file rewritten, shortened, or
    re-added, text git calls binary, a file that no longer ends its last
    line), the rest of the history is read the thorough way, diff by diff
    (`git log -p` from that commit on), which names the line that changed.
    Both ways give the same findings. `tick(n)` hears of each commit replayed.
    """
    with tempfile.TemporaryDirectory() as folder:
        walk = _Walk(ledger, since, _start(ledger, Path(folder)))
        rest = walk.by_blobs(tick or _quiet)
        if rest is not None:
            walk.by_diffs(rest, tick or _quiet)
        return walk.finish()


def _run_by_blobs(ledger: journal.Ledger, scratch: Path) -> Audit | None:
    """The audit made the quick way alone; None if some commit needs the thorough way."""
    walk = _Walk(ledger, None, _start(ledger, scratch))
    return walk.finish() if walk.by_blobs(_quiet) is None else None


def _run(ledger: journal.Ledger, since: str | None, scratch: Path) -> Audit:
    """The audit made the thorough way alone, diff by diff from the first commit: what the quick way must equal."""
    walk = _Walk(ledger, since, _start(ledger, scratch))
    walk.by_diffs(None, _quiet)
    return walk.finish()


def steps(ledger: journal.Ledger) -> int:
    """How many commits `run` replays (what its `tick`s count up to)."""
    return git.count_commits(ledger.path)


def _quiet(_steps: int) -> None:
    pass


@dataclass
class _Start:
    """What the audit starts from: empty books, an empty result, and the keys to check commits with."""

    prefix: str
    books: Books
    result: Audit
    known: Path | None  # the allowed_signers git checks signatures against (None: signatures not asked for)


def _start(ledger: journal.Ledger, scratch: Path) -> _Start:
    signers = ledger.path / ALLOWED_SIGNERS
    settings = ledger.settings
    try:
        officers = journal.load(ledger).officers  # every officer named, to know their commits
    except LedgerError:
        officers = {}  # the journal does not read now: its history's findings say why
    known = _signers_file(signers, officers, scratch) if officers else (signers if signers.is_file() else None)
    books = Books(settings.currency, settings.name, settings.manager)
    return _Start(git.prefix(ledger.path), books, Audit(signatures=[] if signers.is_file() else None), known)


# Commits whose blobs are asked of `git cat-file` at once: their ids fit in a pipe, their bytes in 2 MiB.
_BATCH = 16
_GIT_BINARY = 8000  # git calls a file binary when a NUL byte is in its first 8000 bytes (and diffs no lines of it)


class _Walk:
    """One replay of the history: the books, each journal file's lines and entries, who recorded what."""

    def __init__(self, ledger: journal.Ledger, since: str | None, start: _Start) -> None:
        self.path, self.prefix, self.known = ledger.path, start.prefix, start.known
        self.books, self.result = start.books, start.result
        self.files: dict[str, _File] = {}
        self.recorded_by: dict[int, str] = {}  # entry id -> who committed it
        self.signed_by: dict[int, tuple[str, str]] = {}  # entry id -> (git's %G?, the signer's principal)
        self.settings_seen = False
        self.since_sha = git.resolve(self.path, since) if since else None
        self.reporting = self.since_sha is None
        # The newest journal file's bytes as the last commit that touched it left them (the quick way's only
        # copy of the journal: files before it may no longer change, so their bytes are never needed again).
        self.newest: tuple[str, bytes] | None = None

    # --- the quick way ----------------------------------------------------

    def by_blobs(self, tick: Callable[[int], None]) -> str | None:
        """Replay the commits by their blobs; the id of the first that only diffs can show, if any."""
        commits = git.history_raw(self.path, allowed_signers=self.known)
        try:
            with git.Blobs(self.path) as blobs:
                for batch in iter(lambda: list(itertools.islice(commits, _BATCH)), []):
                    wanted = sorted({c.blob for _, changes in batch for c in changes
                                     if c.status in "AM" and _JOURNAL.fullmatch(self._name(c.path))})  # fmt: skip
                    read = dict(zip(wanted, blobs.read(wanted), strict=True))
                    for commit, changes in batch:
                        added = self._appends(changes, read)
                        if added is None:
                            return commit.sha
                        self._replay(commit, changes, lambda c, name, change, a=added: self._blob_change(c, name, change, a))
                    tick(len(batch))
        finally:
            commits.close()  # stops git log when the thorough way takes over
        return None

    def _appends(self, changes: list[git.RawChange], read: dict[str, bytes | None]) -> dict[str, bytes] | None:
        """The bytes each journal change appends to its file, where a diff would show exactly that; None if any
        change is one the thorough way must read (checked before anything is replayed, so it starts clean)."""
        names, added = set(self.files), {}
        for change in changes:
            name = self._name(change.path)
            if not _JOURNAL.fullmatch(name):
                continue
            names.add(name)
            if change.status == "D":
                continue  # a finding, the same either way
            if change.status not in "AM":
                return None
            state = self.files.get(name)
            if (state is not None and state.broken) or name != max(names):
                continue  # nothing read (broken), or a finding that needs no bytes (grown out of turn)
            if state is None:
                before = b""
            elif self.newest is not None and self.newest[0] == name:
                before = self.newest[1]
            else:
                return None  # a file deleted and written again: its line count is the diff's to tell
            data = read.get(change.blob)
            if data is None or not data.startswith(before) or b"\0" in data[:_GIT_BINARY]:
                return None
            if data and not data.endswith(b"\n"):
                return None  # a last line left open: the next append changes it, which a diff names
            added[name] = data
        return added

    def _blob_change(self, commit: Commit, name: str, change: git.RawChange, added: dict[str, bytes]) -> list:
        status = {"D": "deleted", "A": "added"}.get(change.status, "modified")
        if name in added:
            data = added[name]
            before = len(self.newest[1]) if self.newest is not None and self.newest[0] == name else 0
            self.newest = (name, data)
            return _journal_change(commit, name, status, self.files, self.books, self.result, lambda _: data[before:])
        if self.newest is not None and self.newest[0] == name:
            self.newest = None
        return _journal_change(commit, name, status, self.files, self.books, self.result, lambda _: b"")

    # --- the thorough way -------------------------------------------------

    def by_diffs(self, start: str | None, tick: Callable[[int], None]) -> None:
        """Replay the commits from `start` on (None: from the first), diff by diff."""

        def diff_change(commit: Commit, name: str, change: git.FileChange) -> list:
            return _journal_change(commit, name, change.status, self.files, self.books, self.result,
                                   lambda state: _hunks_appended(commit, name, change, state))  # fmt: skip

        for commit, changes in git.history(self.path, allowed_signers=self.known, start=start):
            self._replay(commit, changes, diff_change)
            tick(1)

    # --- both ---------------------------------------------------------------

    def _name(self, path: str) -> str:
        return path[len(self.prefix) :] if path.startswith(self.prefix) else path

    def _replay(self, commit: Commit, changes: list, journal_change: Callable[[Commit, str, Any], list]) -> None:
        """One commit: its journal changes (read by `journal_change`), ledger.toml, its entries' own commits, its
        signature."""
        books, result = self.books, self.result
        result.commits += 1
        found: list[Finding] = []
        first = books.last_id + 1
        for change in changes:
            name = self._name(change.path)
            if name == journal.SETTINGS_FILE:
                if self.settings_seen:
                    found.append(_finding(commit, f"{name} changed after the commit that created it"))
                self.settings_seen = True
            elif _JOURNAL.fullmatch(name):
                before = books.last_id
                found += journal_change(commit, name, change)
                new = range(before + 1, books.last_id + 1)
                self.recorded_by.update(dict.fromkeys(new, commit.who))
                self.signed_by.update(dict.fromkeys(new, (commit.signature, commit.signer)))
        if books.last_id > first and _ONE_ENTRY.match(commit.subject):
            found.append(_without_own_commit(commit, first, books.last_id))
        if result.signatures is not None:
            status = SIGNATURES.get(commit.signature, f"unknown ({commit.signature})")
            result.signatures.append((commit.sha, commit.who, status))
            if status != "good":
                found.append(
                    _finding(commit, f"commit is {status}" if status == "unsigned" else f"signature: {status}")
                )
        if self.reporting:
            result.findings += found
        self.reporting = self.reporting or commit.sha == self.since_sha

    def finish(self) -> Audit:
        """The result, once every commit is replayed: uncommitted changes, the reopenings, four eyes."""
        result, books, prefix = self.result, self.books, self.prefix
        for name in git.uncommitted(self.path, [journal.JOURNAL_DIR, journal.SETTINGS_FILE]):
            result.findings.append(Finding(f"{name[len(prefix):] if name.startswith(prefix) else name} has changes "
                                           "that are not committed"))  # fmt: skip
        result.entries = books.count
        result.seal = books.seal
        _reopenings(books, self.recorded_by, result)
        if books.proposals:
            result.findings += _four_eyes(books, self.signed_by, result)
        return result


def _reopenings(books: Books, recorded_by: dict[int, str], result: Audit) -> None:
    for close in books.closes.values():
        if close.reopened_by is not None:
            reopening = books.entry(close.reopened_by)
            who = recorded_by.get(close.reopened_by, "")
            result.reopenings.append(
                (close.period, close.id, reopening.id, reopening.date.isoformat(), reopening.get("reason"), who)
            )


def own_proposal(ledger: journal.Ledger, books: Books, proposal_id: int) -> str | None:
    """The officer this clone signs as, if it is the one whose signed commit made proposal `proposal_id`."""
    mine = git.signing_key(ledger.path) if books.officers and git.inside_work_tree(ledger.path) else None
    proposal = books.entry(proposal_id)
    if mine is None or proposal is None or proposal.kind != "proposal":
        return None
    me = next((o for o in books.officers.values() if o.key.split()[:2] == mine.split()[:2]), None)
    if me is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        found = git.signer(ledger.path, proposal.hash, journal.JOURNAL_DIR,
                           _signers_file(ledger.path / ALLOWED_SIGNERS, books.officers, Path(folder)))  # fmt: skip
    return me.name if found == ("G", _principal(me.name)) else None


def _signers_file(listed: Path, officers: dict, scratch: Path) -> Path:
    """allowed_signers for git: each officer's keys (every key it ever had, from the journal's officer entries)
    under its officer name, then the fund's own file less any line that names an officer: only the journal,
    where a change of officer is itself approved, says which key is whose."""
    lines = [f"{_principal(o.name)} {key}" for o in officers.values() for key in o.keys]
    if listed.is_file():
        lines += [line for line in listed.read_text(encoding="utf-8").splitlines() if not _names_officer(line)]
    made = scratch / "allowed_signers"
    made.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return made


def _principal(name: str) -> str:
    return "officer-" + model.slug(name)


def _names_officer(line: str) -> bool:
    """Whether an allowed_signers line claims an officer's name (principals come first, comma-separated)."""
    principals = line.strip().split(" ", 1)[0] if line.strip() and not line.lstrip().startswith("#") else ""
    return any(p.strip('"').startswith("officer-") for p in principals.split(","))


def _four_eyes(books: Books, signed_by: dict[int, tuple[str, str]], result: Audit) -> list[Finding]:
    """Every approval proven: signed by an officer's key, an approver then, not the proposer, the list unchanged."""
    officer_of = {_principal(o.name): o for o in books.officers.values()}
    officer_entries = sorted(o.id for o in books.officers.values())
    found = []

    def who(entry_id: int):
        status, principal = signed_by.get(entry_id, ("", ""))
        return officer_of.get(principal) if status == "G" else None

    for proposal in sorted(books.proposals.values(), key=lambda p: p.id):
        proposer = who(proposal.id)
        approvers = []
        for approval_id in proposal.approvals:
            approver = who(approval_id)
            approvers.append(approver.name if approver else None)
            if approver is None:
                found.append(Finding(f"entry #{approval_id} approves proposal #{proposal.id}, but its commit is not "
                                     "signed by an officer's key", approval_id))  # fmt: skip
                continue
            if "approver" not in approver.roles_on(approval_id):
                found.append(Finding(f"entry #{approval_id}: {approver.name} approved proposal #{proposal.id} "
                                     "without the approver role", approval_id))  # fmt: skip
            if proposer is not None and approver.name == proposer.name:
                found.append(Finding(f"entry #{approval_id}: {approver.name} approved their own proposal "
                                     f"#{proposal.id}", approval_id))  # fmt: skip
            changed = [o for o in officer_entries if proposal.id < o < approval_id]
            if changed:
                found.append(Finding(f"entry #{approval_id} approves proposal #{proposal.id} after the officer list "
                                     f"changed under it (#{changed[0]})", approval_id))  # fmt: skip
        if proposer is None:
            found.append(Finding(f"proposal #{proposal.id}'s commit is not signed by an officer's key", proposal.id))
        if len(set(approvers)) < len(approvers):
            found.append(Finding(f"proposal #{proposal.id} counts one officer's approval twice", proposal.id))
        result.approvals.append({
            "proposal": proposal.id, "kind": proposal.proposed["kind"], "date": proposal.date.isoformat(),
            "proposer": proposer.name if proposer else None, "approvers": approvers,
            "status": proposal.status, "booked_as": proposal.booked_as,
        })  # fmt: skip
    return found


def _journal_change(commit: Commit, name: str, status: str, files: dict[str, _File], books: Books, result: Audit,
                    appended: Callable[[_File], bytes | Finding]) -> list:  # fmt: skip
    """One commit's change to a journal file; `appended(state)` is the bytes it adds at the file's end, or the
    finding of a change that is not an append."""
    state = files.setdefault(name, _File())
    if status == "deleted":
        first = state.starts[0][1] if state.starts else None
        return [_finding(commit, f"{name} was deleted", first)]
    if status == "binary":
        return [_finding(commit, f"{name} was replaced by binary content")]
    if state.broken:
        return []
    newest = max(files)
    if name != newest:
        return [_finding(commit, f"{name} grew, but only the newest journal file ({newest}) may")]
    data = appended(state)
    if isinstance(data, Finding):
        return [data]
    first_line = state.lines + 1
    state.lines += data.count(b"\n")
    return _added_entries(commit, name, data, first_line, state, books, result)


def _hunks_appended(commit: Commit, name: str, change: git.FileChange, state: _File) -> bytes | Finding:
    """The lines a diff adds after the file's last line, or the finding of a hunk that changes or inserts."""
    appended: list[str] = []
    for hunk in change.hunks:
        if hunk.old_count or hunk.old_start != state.lines:
            state.broken = True
            line = hunk.old_start if hunk.old_count else hunk.old_start + 1
            entry = state.entry_at(line)
            what = "changed or removed" if hunk.old_count else "had lines inserted before its end"
            where = f" (in entry #{entry})" if entry else ""
            return _finding(commit, f"{name} was rewritten: line {line}{where} {what}", entry)
        appended += hunk.added
    return "".join(line + "\n" for line in appended).encode("utf-8", "surrogateescape")


def _added_entries(commit, name, data: bytes, first_line: int, state: _File, books: Books, result) -> list:
    """The entries in the bytes a commit appended, read with the journal's own block reader and folded in."""
    before, spans = journal.split_blocks(data)
    if not journal.blank(data) and (not spans or not journal.blank(before)):
        return [_finding(commit, f"{name} gained text that is not an entry at line {first_line}")]
    found = []
    for start, end in spans:
        line = first_line + data.count(b"\n", 0, start)
        chunk = data[start:end]
        try:
            entry = journal.parse_entry(chunk, fast=True)  # fastparse: proven equal to tomllib, errors included
        except ValueError as problem:
            state.broken = True
            return [*found, _finding(commit, f"{name} line {line}: {problem}", journal.entry_id_of(chunk))]
        state.starts.append((line, entry.id))
        try:
            fold.fold(books, entry, hashed=True)
        except Refused as problem:
            state.broken = True
            return [*found, _finding(commit, f"entry #{entry.id} breaks a rule: {problem}", entry.id)]
        result.recorders[commit.who] += 1
    return found


def _without_own_commit(commit: Commit, first: int, last: int) -> Finding:
    """A commit of one entry that adds several: those before its own were recorded with no commit of their own."""
    if last == first + 1:
        what = f"entry #{first} has no commit of its own: the commit of #{last} holds it"
    else:
        what = f"entries #{first}-#{last - 1} have no commit of their own: the commit of #{last} holds them"
    return _finding(commit, f"{what} (a commit git refused, a kill before the commit, or --no-commit)", first)


def _finding(commit: Commit, message: str, entry: int | None = None) -> Finding:
    return Finding(message, entry, commit.sha, commit.who, commit.date)


def verify_seal(books: Books, seal: str) -> model.Entry | None:
    """The entry whose hash is `seal`, if the journal holds it (the chain up to it was checked on load)."""
    wanted = seal.strip().lower()
    if len(wanted) < 12:
        return None
    found = next((entry_id for entry_id, hash_ in books.hashes() if hash_.startswith(wanted)), None)
    return books.entry(found) if found is not None else None
