"""The audit: check from git's history that nothing recorded was changed, removed or reordered.

Replays the history of the ledger's folder commit by commit: journal files
may only grow at their end, `ledger.toml` never changes once created, and
the entries each commit adds must continue the ids and the chain and pass
every rule. Reports who recorded what and, with an `allowed_signers` file,
each commit's signature.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

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


def run(ledger: journal.Ledger, since: str | None = None) -> Audit:
    """Audit the ledger's history; findings in commits before `since` are left out (they are still replayed).

    First the quick way (`_run_by_blobs`): every commit's journal blob is
    proven to be a prefix of the journal HEAD holds by its blob id alone, so
    no diff is made. Anything that way cannot prove (a file rewritten,
    deleted, grown out of turn, an entry that breaks a rule) is audited again
    the thorough way, diff by diff, which names exactly what happened.
    """
    with tempfile.TemporaryDirectory() as folder:
        quick = _run_by_blobs(ledger, Path(folder))
        return quick if quick is not None else _run(ledger, since, Path(folder))


@dataclass
class _Start:
    """What both ways of auditing start from: empty books, an empty result, and the keys to check commits with."""

    prefix: str
    books: Books
    result: Audit
    known: Path | None  # the allowed_signers git checks signatures against (None: signatures not asked for)
    readable: bool  # whether the journal reads now (if not, its history's findings say why)


def _start(ledger: journal.Ledger, scratch: Path) -> _Start:
    signers = ledger.path / ALLOWED_SIGNERS
    settings = ledger.settings
    try:
        officers, readable = journal.load(ledger).officers, True  # every officer named, to know their commits
    except LedgerError:
        officers, readable = {}, False
    known = _signers_file(signers, officers, scratch) if officers else (signers if signers.is_file() else None)
    books = Books(settings.currency, settings.name, settings.manager)
    return _Start(git.prefix(ledger.path), books, Audit(signatures=[] if signers.is_file() else None), known, readable)


def _run(ledger: journal.Ledger, since: str | None, scratch: Path) -> Audit:
    path = ledger.path
    start = _start(ledger, scratch)
    prefix, books, result, known = start.prefix, start.books, start.result, start.known
    files: dict[str, _File] = {}
    recorded_by: dict[int, str] = {}  # entry id -> who committed it
    signed_by: dict[int, tuple[str, str]] = {}  # entry id -> (git's %G?, the signer's principal)
    settings_seen = False
    since_sha = git.resolve(path, since) if since else None
    reporting = since_sha is None
    for commit, changes in git.history(path, allowed_signers=known):
        result.commits += 1
        found: list[Finding] = []
        first = books.last_id + 1
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
                signed_by.update(dict.fromkeys(range(before + 1, books.last_id + 1), (commit.signature, commit.signer)))
        if books.last_id > first and _ONE_ENTRY.match(commit.subject):
            found.append(_without_own_commit(commit, first, books.last_id))
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
    _reopenings(books, recorded_by, result)
    if books.proposals:
        result.findings += _four_eyes(books, signed_by, result)
    return result


def _run_by_blobs(ledger: journal.Ledger, scratch: Path) -> Audit | None:
    """The audit of a history that only ever appended whole entries, proven by blob ids; None if it did not."""
    path = ledger.path
    start = _start(ledger, scratch)
    if not start.readable:
        return None
    prefix, books, result, known = start.prefix, start.books, start.result, start.known
    try:
        head = git.files_at(path, "HEAD", prefix + journal.JOURNAL_DIR) if git.resolve(path, "HEAD") else {}
    except git.GitError:
        return None
    commits = list(git.history_raw(path, allowed_signers=known))
    sizes = git.blob_sizes(path, sorted({c.blob for _, changes in commits for c in changes if c.status in "AM"}))
    read: dict[str, int] = {}  # journal file -> bytes of it proven so far
    taken: dict[str, int] = {}  # journal file -> how many of its entries were folded
    spans = {name: journal.split_blocks(data)[1] for name, data in head.items()}
    recorded_by: dict[int, str] = {}
    signed_by: dict[int, tuple[str, str]] = {}
    settings_seen = False
    for commit, changes in commits:
        result.commits += 1
        first = books.last_id + 1
        for change in changes:
            name = change.path[len(prefix) :] if change.path.startswith(prefix) else change.path
            if name == journal.SETTINGS_FILE:
                if settings_seen or change.status != "A":
                    return None
                settings_seen = True
                continue
            if not _JOURNAL.fullmatch(name):
                continue
            final = head.get(change.path)
            size = sizes.get(change.blob)
            if change.status not in "AM" or final is None or size is None or size < read.get(name, 0):
                return None
            if name != max([*read, name]) or hashlib.sha1(b"blob %d\0" % size + final[:size]).hexdigest() != change.blob:
                return None
            if final[:size] and not final[:size].endswith(b"\n"):
                return None  # a commit that holds part of an entry: the thorough way names it
            blocks = spans[change.path]
            while taken.get(name, 0) < len(blocks) and blocks[taken.get(name, 0)][0] < size:
                start, end = blocks[taken.get(name, 0)]
                taken[name] = taken.get(name, 0) + 1
                if end > size and final[size:end].strip():
                    return None
                try:
                    entry = journal.parse_entry(final[start:end], fast=True)  # fastparse: proven equal to tomllib
                    fold.fold(books, entry, hashed=True)
                except (ValueError, Refused):
                    return None
                recorded_by[entry.id] = commit.who
                signed_by[entry.id] = (commit.signature, commit.signer)
                result.recorders[commit.who] += 1
            read[name] = size
        if books.last_id > first and _ONE_ENTRY.match(commit.subject):
            return None  # entries with no commit of their own: the thorough way names them
        if result.signatures is not None:
            status = SIGNATURES.get(commit.signature, f"unknown ({commit.signature})")
            result.signatures.append((commit.sha, commit.who, status))
            if status != "good":
                return None
    if any(read.get(name.removeprefix(prefix)) != len(data) for name, data in head.items()):
        return None  # HEAD holds a journal file no commit was seen to write whole
    if git.uncommitted(path, [journal.JOURNAL_DIR, journal.SETTINGS_FILE]):
        return None
    result.entries, result.seal = books.count, books.seal
    _reopenings(books, recorded_by, result)
    if books.proposals:
        found = _four_eyes(books, signed_by, result)
        if found:
            return None
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
    return next((entry for entry in books.entries if entry.hash.startswith(wanted)), None)
