"""A git process killed part-way leaves `.git/index.lock`; fundledger names it instead of blaming the journal (issue 21, item 13).

Real git repositories throughout.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger import git
from ledger.cli import main

from conftest import Runner, snapshot


def run_git(path: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def shared(tmp_path, git_env) -> Runner:
    """A ledger with a member and an entry, committed, pushed to a bare remote."""
    remote = tmp_path / "remote.git"
    run_git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(remote))
    path = tmp_path / "fund"
    result = CliRunner().invoke(main, ["init", str(path), "--name", "Fund", "--currency", "EUR"])
    assert result.exit_code == 0, result.output
    run = Runner(path)
    run("member join Latvia --date 2024-02-01")
    run_git(path, "remote", "add", "origin", str(remote))
    run_git(path, "push", "--quiet", "-u", "origin", "main")
    run("contribute Latvia 1k --date 2025-01-01")
    return run


def lock_of(path: Path) -> Path:
    return path / run_git(path, "rev-parse", "--git-path", "index.lock").strip()


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    return lines[0]


class TestAStaleIndexLock:
    def test_sync_names_the_lock_not_uncommitted_changes(self, shared):
        lock = lock_of(shared.path)
        lock.touch()
        before = snapshot(shared.path)
        line = one_line(shared("sync", ok=False))
        assert line.startswith("error: ") and "index.lock" in line and "not committed" not in line
        assert "remove" in line and "killed" in line
        assert snapshot(shared.path) == before
        lock.unlink()
        shared("sync")
        assert run_git(shared.path, "status", "--porcelain") == ""

    def test_even_when_a_killed_reset_left_the_journal_changed(self, shared):
        journal_file = next((shared.path / "journal").glob("*.toml"))
        journal_file.write_bytes(journal_file.read_bytes() + b"\n")  # what a reset cut short could leave
        lock_of(shared.path).touch()
        line = one_line(shared("sync", ok=False))
        assert "index.lock" in line and "not committed" not in line

    def test_uncommitted_raises_git_error_naming_it(self, shared):
        lock = lock_of(shared.path)
        lock.touch()
        with pytest.raises(git.GitError, match=r"index\.lock"):
            git.uncommitted(shared.path, ["journal"])
        lock.unlink()
        assert git.uncommitted(shared.path, ["journal"]) == []

    def test_in_a_folder_of_a_larger_repository(self, tmp_path, git_env):
        top = tmp_path / "office"
        run_git(tmp_path, "init", "--quiet", "-b", "main", str(top))
        folder = top / "ledgers" / "fund"
        folder.mkdir(parents=True)
        (folder / "x").write_text("x\n")
        (top / ".git" / "index.lock").touch()
        with pytest.raises(git.GitError, match=r"index\.lock"):
            git.uncommitted(folder, ["."])

    def test_a_commit_it_blocks_says_so(self, shared):
        lock_of(shared.path).touch()
        result = shared("contribute Latvia 2k --date 2025-01-02")
        warning = result.stderr.strip()
        assert warning.startswith("warning: entry #3 is recorded but not committed")
        assert "index.lock" in warning and "killed" in warning and len(warning.splitlines()) == 1
