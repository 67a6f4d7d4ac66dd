"""Everything fundledger asks of git lives here, run as `git` subprocesses.

The history is read with one streaming `git log --raw` process (blob ids,
no diffs) and the blobs with one `git cat-file --batch`, never one process
per commit, so an audit of a hundred thousand commits stays quick; `git log
-p` diffs only from the first commit that blob ids cannot prove.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import LedgerError

_SEP = "\x00"
_COMMIT_MARK = "\x00COMMIT\x00"
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class GitError(LedgerError):
    """git refused or failed; the message is git's own first line."""


def inside_work_tree(path: Path) -> bool:
    """Whether `path` lies inside a git work tree."""
    try:
        done = _git(path, "rev-parse", "--is-inside-work-tree", check=False)
    except FileNotFoundError:
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def init(path: Path) -> None:
    """Make `path` a new git repository."""
    _git(path, "init", "--quiet")


def commit_paths(path: Path, files: Sequence[Path], message: str, *, author: str | None = None) -> str:
    """Commit exactly `files` (and nothing else the user has staged) with `message`; return the commit id.

    The author is the user's git identity (or `author`, "Name <email>", for
    an entry replayed by `sync`, so its recorder stays its recorder), and git
    signs the commit where it is set to. Raises GitError with git's reason
    when it refuses.
    """
    names = [os.path.relpath(f, path) for f in files]
    _git(path, "add", "--", *names)
    who = [f"--author={author}"] if author else []
    _git(path, "commit", "--quiet", *who, "--only", "-F", "-", "--", *names, stdin=message)
    return _git(path, "rev-parse", "HEAD").stdout.strip()


def commit_contents(path: Path, file: Path, contents: bytes, message: str) -> str:
    """Commit `file` as holding `contents` (a prefix of what the work tree holds, say), and nothing else.

    Made in an index of its own, from HEAD's tree, so nothing the user
    staged goes with it and the work tree is not touched; through `git
    commit`, so hooks and signing apply as to any other commit. Afterwards
    the real index holds `file` as HEAD does. Returns the commit id; raises
    GitError with git's reason when it refuses.
    """
    name = os.path.relpath(file, path)
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=path, input=contents, capture_output=True,
                          check=False)  # fmt: skip
    if blob.returncode != 0:
        raise GitError(blob.stderr.decode("utf-8", "replace").strip() or "git hash-object failed")
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if _git(path, "rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0:
            _git(path, "read-tree", "HEAD", env=index)  # else the first commit: an empty index to start from
        _git(path, "update-index", "--add", "--cacheinfo", f"100644,{blob.stdout.decode().strip()},{name}", env=index)
        _git(path, "commit", "--quiet", "-F", "-", stdin=message, env=index)
    _git(path, "reset", "--quiet", "--", name, check=False)
    return _git(path, "rev-parse", "HEAD").stdout.strip()


# --- sharing: fetch, push, the remote's journal ---------------------------


def fetch(path: Path, remote: str, branch: str) -> str | None:
    """Fetch `branch` of `remote`; the commit it points at, or None when the remote has no such branch yet."""
    done = _git(path, "fetch", "--quiet", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}", check=False)
    if done.returncode != 0:
        if "couldn't find remote ref" in (done.stderr + done.stdout):
            return None
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(reason[0] if reason else "git fetch failed")
    return resolve(path, f"refs/remotes/{remote}/{branch}")


def push(path: Path, remote: str, branch: str) -> bool:
    """Push HEAD to `branch` of `remote`, never forcing; False when the remote moved on first (a lost race)."""
    done = _git(path, "push", "--quiet", "--porcelain", remote, f"HEAD:refs/heads/{branch}", check=False)
    if done.returncode == 0:
        return True
    text = done.stdout + done.stderr
    if "rejected" in text or "fetch first" in text or "non-fast-forward" in text:
        return False
    reason = done.stderr.strip().splitlines()
    raise GitError(reason[0] if reason else "git push failed")


def files_at(path: Path, rev: str, folder: str) -> dict[str, bytes]:
    """The files under `folder` (relative to the repository's top) in commit `rev`: name -> bytes, in one process."""
    listing = _git(path, "ls-tree", "--full-tree", "-r", "-z", rev, "--", folder).stdout
    blobs = []
    for item in listing.split("\0"):
        if item:
            meta, name = item.split("\t", 1)
            blobs.append((name, meta.split()[2]))
    if not blobs:
        return {}
    top = _git(path, "rev-parse", "--show-toplevel").stdout.strip()
    done = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=top,
        input="".join(f"{sha}\n" for _, sha in blobs).encode(),
        capture_output=True,
        check=True,
    )
    found, at = {}, 0
    out = done.stdout
    for name, _ in blobs:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        found[name] = out[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
    return found


def is_ancestor(path: Path, older: str, newer: str) -> bool:
    return _git(path, "merge-base", "--is-ancestor", older, newer, check=False).returncode == 0


def reset_hard(path: Path, rev: str) -> None:
    """Make the branch, index and files `rev`; only ever called once the entries it drops are kept elsewhere."""
    _git(path, "reset", "--quiet", "--hard", rev)


def authors(path: Path, revs: str, pathspec: str) -> dict[str, str]:
    """Entry hash -> "Name <email>" of the commit that added it, for the commits in `revs` (one process)."""
    done = _git(path, "log", "--format=%x00%an <%ae>", "-p", "--unified=0", revs, "--", pathspec, check=False)
    found: dict[str, str] = {}
    who = ""
    for line in done.stdout.splitlines():
        if line.startswith("\0"):
            who = line[1:]
        elif line.startswith('+hash = "'):
            found.setdefault(line[len('+hash = "') : -1], who)
    return found


def changed_outside(path: Path, revs: str, *folders: str) -> list[str]:
    """Files anywhere in the repository, under none of `folders` (from its top), that the commits in `revs` change."""
    done = _git(path, "log", "--format=", "--name-only", revs, check=False)
    inside = tuple(folder.rstrip("/") + "/" for folder in folders)
    return sorted({line for line in done.stdout.splitlines() if line.strip() and not line.startswith(inside)})


def rebasing(path: Path) -> bool:
    """Whether a rebase is in progress (a `git pull` that rebases runs merge drivers inside one)."""
    for name in ("rebase-merge", "rebase-apply"):
        where = _git(path, "rev-parse", "--git-path", name).stdout.strip()
        if (path / where).exists():
            return True
    return False


def set_config(path: Path, key: str, value: str) -> None:
    _git(path, "config", "--local", key, value)


def state_dir(path: Path) -> Path:
    """This clone's own folder for fundledger's state (never committed, never derived): under the git dir.

    A ledger in a folder of a larger repository gets a folder of its own there.
    """
    git_dir = Path(_git(path, "rev-parse", "--absolute-git-dir").stdout.strip())
    return git_dir / "fundledger" / prefix(path).strip("/")


def committed_bytes(path: Path, file: Path) -> bytes | None:
    """`file` as the commit HEAD holds it; None outside git or when HEAD does not hold it."""
    if not inside_work_tree(path):
        return None
    name = os.path.relpath(file, path)
    done = subprocess.run(["git", "cat-file", "blob", f"HEAD:./{name}"], cwd=path, capture_output=True, check=False)
    return done.stdout if done.returncode == 0 else None


def committed_size(path: Path, file: Path) -> int | None:
    """How many bytes `file` has in the commit HEAD names; None outside git or when HEAD does not hold it."""
    if not inside_work_tree(path):
        return None
    name = os.path.relpath(file, path)
    done = _git(path, "cat-file", "-s", f"HEAD:./{name}", check=False)
    return int(done.stdout) if done.returncode == 0 and done.stdout.strip().isdigit() else None


def signing_key(path: Path) -> str | None:
    """The public SSH key this clone signs commits with ("ssh-ed25519 AAAA…"), if it signs with one."""
    if _git(path, "config", "gpg.format", check=False).stdout.strip() != "ssh":
        return None
    key = _git(path, "config", "user.signingkey", check=False).stdout.strip()
    if key.startswith("key::"):
        return " ".join(key[5:].split()[:2])
    if not key:
        return None
    public = Path(key if key.endswith(".pub") else key + ".pub").expanduser()
    try:
        return " ".join(public.read_text(encoding="utf-8").split()[:2])
    except OSError:
        return None


def signer(path: Path, text: str, pathspec: str, allowed_signers: Path) -> tuple[str, str] | None:
    """(git's %G?, the signer's principal in `allowed_signers`) of the oldest commit that added `text`."""
    done = _git(
        path, "-c", f"gpg.ssh.allowedSignersFile={allowed_signers.resolve()}", "log", "--reverse", "-S", text,
        "--format=%G?%x00%GS", "--", pathspec, check=False,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    if not lines:
        return None
    status, _, principal = lines[0].partition("\0")
    return status, principal


def tracked(path: Path, file: Path) -> bool:
    """Whether git tracks `file` (it is in the index): someone's commit put it there."""
    if not inside_work_tree(path):
        return False
    done = _git(path, "ls-files", "--error-unmatch", "--", os.path.relpath(file, path), check=False)
    return done.returncode == 0


def add_attribute(path: Path, line: str) -> None:
    """Add `line` to this clone's own attributes (`info/attributes` in the git dir), once."""
    where = Path(_git(path, "rev-parse", "--absolute-git-dir").stdout.strip()) / "info" / "attributes"
    where.parent.mkdir(parents=True, exist_ok=True)
    text = where.read_text(encoding="utf-8") if where.exists() else ""
    if line not in text.splitlines():
        where.write_text(text + ("" if text.endswith("\n") or not text else "\n") + line + "\n", encoding="utf-8")


def uncommitted(path: Path, pathspecs: Sequence[str]) -> list[str]:
    """Paths below `path` that differ from HEAD or are untracked (git status --porcelain).

    GitError, naming the file, when git's index is locked: a git process is
    running, or was killed and left its lock (a sync interrupted during its
    reset can also leave the journal half changed; that is not the user's).
    """
    return [name for _, name in _status(path, pathspecs)]


def new_files(path: Path, pathspecs: Sequence[str]) -> list[str]:
    """Paths below `path` that HEAD does not have: untracked, or added to the index only (a commit refused)."""
    return [name for code, name in _status(path, pathspecs) if code == "??" or code[0] == "A"]


def _status(path: Path, pathspecs: Sequence[str]) -> list[tuple[str, str]]:
    """(two-letter status, path) of each path below `path` that differs from HEAD (git status --porcelain)."""
    check_unlocked(path)
    done = _git(path, "status", "--porcelain", "--untracked-files=all", "--", *pathspecs, check=False)
    if done.returncode != 0:
        if _LOCKED in done.stderr:
            raise GitError(_locked_message(_index_lock(path)))
        return []
    return [(line[:2], line[3:]) for line in done.stdout.splitlines() if line.strip()]


def check_unlocked(path: Path) -> None:
    """GitError when the repository's index lock file exists (a git process running, or killed part-way)."""
    lock = _index_lock(path)
    if lock is not None and lock.exists():
        raise GitError(_locked_message(lock))


_LOCKED = "index.lock"


def _index_lock(path: Path) -> Path | None:
    """Where git keeps the index lock of the repository holding `path` (worktrees have their own)."""
    done = _git(path, "rev-parse", "--git-path", "index.lock", check=False)
    return path / done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def _locked_message(lock: Path | None) -> str:
    where = str(lock.resolve()) if lock is not None else ".git/index.lock"
    return (
        f"git's index is locked by {where}: another git process is running here, or one was killed "
        "part-way (an interrupted sync or commit); if no git is running, remove that file and try again"
    )


def prefix(path: Path) -> str:
    """The folder's path inside its repository ('' at the top, else 'ledgers/fund/')."""
    return _git(path, "rev-parse", "--show-prefix").stdout.strip()


def resolve(path: Path, rev: str) -> str:
    """The full commit id `rev` names; GitError when it names none."""
    done = _git(path, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if done.returncode != 0:
        raise GitError(f"{rev!r} is not a commit of this repository")
    return done.stdout.strip()


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str
    signature: str = ""  # git's %G?: G good, B bad, U unknown validity, N none, E cannot check, ...
    signer: str = ""  # git's %GS: the principal allowed_signers gives the signing key
    subject: str = ""  # the first line of its message

    @property
    def who(self) -> str:
        return f"{self.author} <{self.email}>"


@dataclass
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    added: list[str] = field(default_factory=list)


@dataclass
class FileChange:
    path: str  # relative to the repository's top
    status: str = "modified"  # added, deleted, modified, binary
    hunks: list[Hunk] = field(default_factory=list)


def history(
    path: Path, *, allowed_signers: Path | None = None, start: str | None = None
) -> Iterator[tuple[Commit, list[FileChange]]]:
    """Every commit touching `path`, oldest first along the first-parent line, with its zero-context diff.

    One `git log -p` process streams it all. With `allowed_signers`, git
    checks each commit's SSH signature against that file. With `start` (a
    commit id), only that commit and those after it on the line.
    """
    fields = ["%H", "%an", "%ae", "%aI", "%G?" if allowed_signers else "", "%GS" if allowed_signers else "", "%s"]
    config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers.resolve()}"] if allowed_signers else []
    command = [
        "git", *config, "-c", "core.quotepath=off", "log", "--reverse", "--first-parent",
        "--diff-merges=first-parent", "--no-renames", "--no-color", "--no-ext-diff", "-p", "--unified=0",
        "--format=%x00COMMIT%x00" + "%x00".join(fields), *_from(path, start), "--", ".",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    commit: Commit | None = None
    changes: list[FileChange] = []
    current: FileChange | None = None
    hunk: Hunk | None = None
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode("utf-8", "surrogateescape").rstrip("\n")
        if line.startswith(_COMMIT_MARK):
            if commit is not None:
                yield commit, changes
            sha, author, email, date, signature, signer_, subject = (line[len(_COMMIT_MARK) :].split(_SEP) + [""] * 7)[:7]
            commit = Commit(sha, author, email, date, signature, signer_, subject)
            changes, current, hunk = [], None, None
        elif line.startswith("diff --git "):
            current = FileChange(path=_b_path(line))
            changes.append(current)
            hunk = None
        elif current is None:
            continue
        elif line.startswith("new file mode"):
            current.status = "added"
        elif line.startswith("deleted file mode"):
            current.status = "deleted"
        elif line.startswith("Binary files"):
            current.status = "binary"
        elif match := _HUNK.match(line):
            a, b, c, d = match.groups()
            hunk = Hunk(int(a), 1 if b is None else int(b), int(c), 1 if d is None else int(d))
            current.hunks.append(hunk)
        elif hunk is not None and line.startswith("+") and not line.startswith("+++ "):
            hunk.added.append(line[1:])
    if commit is not None:
        yield commit, changes
    process.wait()
    if process.returncode not in (0, None):
        error = process.stderr.read().decode("utf-8", "replace").strip() if process.stderr else ""
        if "does not have any commits" not in error:
            raise GitError(f"git log failed: {error.splitlines()[0] if error else process.returncode}")


@dataclass(frozen=True)
class RawChange:
    path: str  # relative to the repository's top
    status: str  # git's letter: A added, M modified, D deleted, T type changed
    blob: str  # the file's new blob id (zeros when deleted)


def history_raw(path: Path, *, allowed_signers: Path | None = None) -> Iterator[tuple[Commit, list[RawChange]]]:
    """Every commit touching `path`, oldest first along the first-parent line, with the blob ids it wrote.

    Like `history`, but `git log --raw`: no diff is made, so a long history
    streams in a fraction of the time (the audit reads the blobs instead,
    see `ledger.audit`). Read as it comes: memory stays flat.
    """
    fields = ["%H", "%an", "%ae", "%aI", "%G?" if allowed_signers else "", "%GS" if allowed_signers else "", "%s"]
    config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers.resolve()}"] if allowed_signers else []
    command = [
        "git", *config, "-c", "core.quotepath=off", "log", "--reverse", "--first-parent",
        "--diff-merges=first-parent", "--no-renames", "--raw", "--no-abbrev", "-z",
        "--format=%x01COMMIT%x00" + "%x00".join(fields) + "%x00", "--", ".",
    ]  # fmt: skip
    mark = b"\x01COMMIT\0"
    with subprocess.Popen(command, cwd=path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        pending = b""
        while chunk := process.stdout.read(1 << 20):
            records = (pending + chunk).split(mark)
            pending = records.pop()
            yield from (_raw_commit(record) for record in records if record)
        if pending:
            yield _raw_commit(pending)
        error = process.stderr.read().decode("utf-8", "replace").strip()
        process.wait()
    if process.returncode != 0 and "does not have any commits" not in error:
        raise GitError(f"git log failed: {error.splitlines()[0] if error else process.returncode}")


def _raw_commit(record: bytes) -> tuple[Commit, list[RawChange]]:
    parts = record.decode("utf-8", "surrogateescape").split("\0")
    sha, author, email, date, signature, signer_, subject = parts[:7]
    changes, rest = [], [p for p in parts[7:] if p.strip("\n")]
    for meta, name in zip(rest[0::2], rest[1::2], strict=False):
        fields_ = meta.strip("\n").lstrip(":").split()
        changes.append(RawChange(name, fields_[4][:1], fields_[3]))
    return Commit(sha, author, email, date, signature, signer_, subject), changes


def count_commits(path: Path) -> int:
    """How many commits `history` and `history_raw` walk (for a progress bar)."""
    done = _git(path, "rev-list", "--count", "--first-parent", "HEAD", "--", ".", check=False)
    return int(done.stdout) if done.returncode == 0 and done.stdout.strip().isdigit() else 0


class Blobs:
    """Blobs read by id from one `git cat-file --batch` process, as many as asked at a time.

    Use as a context manager. The ids of a batch are all written before any
    blob is read back, so a batch's ids must fit in a pipe (a few thousand).
    """

    def __init__(self, path: Path) -> None:
        top = _git(path, "rev-parse", "--show-toplevel").stdout.strip()
        self._process = subprocess.Popen(["git", "cat-file", "--batch"], cwd=top, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip

    def read(self, blobs: Sequence[str]) -> list[bytes | None]:
        """Each blob's bytes, in the order asked; None for an id that names no blob."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write("".join(f"{blob}\n" for blob in blobs).encode())
        stdin.flush()
        found: list[bytes | None] = []
        for _ in blobs:
            header = stdout.readline().split()
            if len(header) != 3:
                if not header:
                    raise GitError("git cat-file stopped answering")
                found.append(None)  # "<id> missing"
                continue
            data = stdout.read(int(header[2]) + 1)[:-1]
            found.append(data if header[1] == b"blob" else None)
        return found

    def __enter__(self) -> Blobs:
        return self

    def __exit__(self, *_exc) -> None:
        # Both pipes closed before waiting: a git left writing a blob no one reads stops instead of hanging.
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
        self._process.wait()


def _from(path: Path, start: str | None) -> list[str]:
    """The revision range of the first-parent line from `start` (included) to HEAD."""
    if start is None:
        return []
    parent = _git(path, "rev-parse", "--verify", "--quiet", f"{start}^", check=False).stdout.strip()
    return [f"{parent}..HEAD"] if parent else ["HEAD"]


def commits_adding(path: Path, text: str, pathspec: str, allowed_signers: Path | None = None) -> list[Commit]:
    """The commits (oldest first) that changed how often `text` occurs under `pathspec` (git log -S)."""
    config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers.resolve()}"] if allowed_signers else []
    sign = "%G?" if allowed_signers else ""
    done = _git(
        path,
        *config,
        "log",
        "--reverse",
        "-S",
        text,
        f"--format=%H%x00%an%x00%ae%x00%aI%x00{sign}",
        "--",
        pathspec,
        check=False,
    )
    commits = []
    for line in done.stdout.splitlines():
        parts = (line.split(_SEP) + [""] * 5)[:5]
        commits.append(Commit(*parts))
    return commits


def _b_path(line: str) -> str:
    # "diff --git a/journal/2025.toml b/journal/2025.toml"; names never hold " b/" (no spaces in ours).
    return line.rsplit(" b/", 1)[-1]


def _git(
    path: Path, *args: str, check: bool = True, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, input=stdin, check=False,
                          env={**os.environ, **env} if env else None)  # fmt: skip
    if check and done.returncode != 0:
        if _LOCKED + "': File exists" in done.stderr:
            raise GitError(_locked_message(_index_lock(path)))
        reason = (done.stderr or done.stdout).strip().splitlines()
        raise GitError(reason[0] if reason else f"git {args[0]} failed")
    return done


def messages_with(path: Path, line: str) -> list[tuple[str, str]]:
    """(commit id, message) of each commit touching `path` whose message has exactly `line` as a line, newest first."""
    done = _git(path, "log", "--fixed-strings", f"--grep={line}", "--format=%H%x00%B%x1e", "--", ".", check=False)
    found = []
    for record in done.stdout.split("\x1e"):
        sha, _, message = record.strip("\n").partition("\x00")
        if sha and line in message.splitlines():
            found.append((sha, message))
    return found
