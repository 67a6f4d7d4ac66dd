"""The audit: check from git's history that nothing recorded was changed, removed or reordered.

Replays the history of the ledger's folder commit by commit: journal files
may only grow at their end, `ledger.toml` never changes once created, and
the entries each commit adds must continue the ids and the chain and pass
every rule. Reports who recorded what and, with an `allowed_signers` file,
each commit's signature.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ledger import fold, git, journal, model
from ledger.books import Books
from ledger.errors import Refused
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


def run(ledger: journal.Ledger, since: str | None = None) -> Audit:
    """Audit the ledger's history; findings in commits before `since` are left out (they are still replayed)."""
    path = ledger.path
    signers = path / ALLOWED_SIGNERS
    prefix = git.prefix(path)
    settings = ledger.settings
    books = Books(settings.currency, settings.name, settings.manager)
    result = Audit(signatures=[] if signers.is_file() else None)
    files: dict[str, _File] = {}
    recorded_by: dict[int, str] = {}  # entry id -> who committed it
    settings_seen = False
    since_sha = git.resolve(path, since) if since else None
    reporting = since_sha is None
    for commit, changes in git.history(path, allowed_signers=signers if signers.is_file() else None):
        result.commits += 1
        found: list[Finding] = []
        for change in changes:
            name = change.path[len(prefix) :] if change.path.startswith(prefix) else change.path
            if name == journal.SETTINGS_FILE:
                if settings_seen:
                    found.append(_finding(commit, f"{name} changed after the commit that created it"))
                settings_seen = True
            elif _JOURNAL.fullmatch(name):
                before = books.last_id
                found += _journal_change(commit, name, change, files, books, result)
                recorded_by.update(dict.fromkeys(range(before + 1, books.last_id + 1), commit.who))
        if result.signatures is not None:
            status = SIGNATURES.get(commit.signature, f"unknown ({commit.signature})")
            result.signatures.append((commit.sha, commit.who, status))
            if status != "good":
                found.append(
                    _finding(commit, f"commit is {status}" if status == "unsigned" else f"signature: {status}")
                )
        if reporting:
            result.findings += found
        reporting = reporting or commit.sha == since_sha
    for name in git.uncommitted(path, [journal.JOURNAL_DIR, journal.SETTINGS_FILE]):
        result.findings.append(Finding(f"{name[len(prefix):] if name.startswith(prefix) else name} has changes "
                                       "that are not committed"))  # fmt: skip
    result.entries = books.count
    result.seal = books.seal
    for close in books.closes.values():
        if close.reopened_by is not None:
            reopening = books.entry(close.reopened_by)
            who = recorded_by.get(close.reopened_by, "")
            result.reopenings.append(
                (close.period, close.id, reopening.id, reopening.date.isoformat(), reopening.get("reason"), who)
            )
    return result


def _journal_change(commit: Commit, name: str, change, files: dict[str, _File], books: Books, result: Audit) -> list:
    state = files.setdefault(name, _File())
    if change.status == "deleted":
        first = state.starts[0][1] if state.starts else None
        return [_finding(commit, f"{name} was deleted", first)]
    if change.status == "binary":
        return [_finding(commit, f"{name} was replaced by binary content")]
    if state.broken:
        return []
    newest = max(files)
    if name != newest:
        return [_finding(commit, f"{name} grew, but only the newest journal file ({newest}) may")]
    appended: list[str] = []
    for hunk in change.hunks:
        if hunk.old_count or hunk.old_start != state.lines:
            state.broken = True
            line = hunk.old_start if hunk.old_count else hunk.old_start + 1
            entry = state.entry_at(line)
            what = "changed or removed" if hunk.old_count else "had lines inserted before its end"
            where = f" (in entry #{entry})" if entry else ""
            return [_finding(commit, f"{name} was rewritten: line {line}{where} {what}", entry)]
        appended += hunk.added
    first_line = state.lines + 1
    state.lines += len(appended)
    return _added_entries(commit, name, appended, first_line, state, books, result)


def _added_entries(commit, name, lines: list[str], first_line: int, state: _File, books: Books, result) -> list:
    """The entries in the lines a commit appended, read with the journal's own block reader and folded in."""
    data = "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")
    before, spans = journal.split_blocks(data)
    if not journal.blank(data) and (not spans or not journal.blank(before)):
        return [_finding(commit, f"{name} gained text that is not an entry at line {first_line}")]
    found = []
    for start, end in spans:
        line = first_line + data.count(b"\n", 0, start)
        chunk = data[start:end]
        try:
            entry = journal.parse_entry(chunk)
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


def _finding(commit: Commit, message: str, entry: int | None = None) -> Finding:
    return Finding(message, entry, commit.sha, commit.who, commit.date)


def verify_seal(books: Books, seal: str) -> model.Entry | None:
    """The entry whose hash is `seal`, if the journal holds it (the chain up to it was checked on load)."""
    wanted = seal.strip().lower()
    if len(wanted) < 12:
        return None
    return next((entry for entry in books.entries if entry.hash.startswith(wanted)), None)
