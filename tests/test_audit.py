"""The audit trail, on real git repositories: every tampering is caught and named."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main

from conftest import COALITION, Runner, build_with_git, built_once, copy_ledger


def _record_repo(path: Path) -> None:
    result = CliRunner().invoke(main, ["init", str(path), "--name", "Coalition", "--currency", "EUR"])
    assert result.exit_code == 0, result.output
    run = Runner(path)
    for command in COALITION:
        run(command)


@pytest.fixture(scope="session")
def repo_built(tmp_path_factory, _cache_key_home):
    with built_once(tmp_path_factory, "coalition", build_with_git(_record_repo)) as folder:
        yield folder


@pytest.fixture
def repo(tmp_path, git_env, repo_built) -> Runner:
    """A ledger in its own git repository, with the worked example recorded: one commit per entry.

    Recorded once per test run (as the Finance Officer of `git_env`); each test gets a copy, .git and all.
    """
    return Runner(copy_ledger(repo_built, tmp_path / "coalition"))


def git(path: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=path, check=True, capture_output=True, text=True).stdout


def journal_file(path: Path) -> Path:
    (only,) = (path / "journal").glob("*.toml")
    return only


def entries(path: Path) -> list[str]:
    """The journal split into its entry blocks, each starting with [[entry]]."""
    text = journal_file(path).read_text()
    return ["[[entry]]\n" + block for block in text.split("[[entry]]\n")[1:]]


def write_entries(path: Path, blocks: list[str]) -> None:
    journal_file(path).write_text("".join(blocks))


def audit(run: Runner) -> tuple[int, dict]:
    result = run("audit --json", ok=False)
    return result.exit_code, json.loads(result.stdout)


class TestRecordingCommits:
    def test_each_entry_is_a_commit_with_message_and_trailers(self, repo):
        subjects = git(repo.path, "log", "--format=%s").splitlines()
        assert len(subjects) == 11  # init + 10 entries
        assert subjects[-1] == "fundledger: init Coalition"
        assert "fundledger: #5 contribute Latvia against pledge #4 €30,000,000.00" in subjects
        body = git(repo.path, "log", "-1", "--format=%B")
        assert "Entry-Id: 10\n" in body and "Entry-Kind: reverse\n" in body
        entry_hash = repo.json("report register")["rows"][-1]["hash"]
        assert f"Entry-Hash: {entry_hash}" in git(repo.path, "log", "--format=%B", "--grep", "Entry-Id: 3$")
        assert git(repo.path, "log", "-1", "--format=%an <%ae>").strip() == "Finance Officer <officer@fund.example>"

    def test_only_the_journal_is_committed_not_what_the_user_staged(self, repo):
        (repo.path / "notes.txt").write_text("draft")
        git(repo.path, "add", "notes.txt")
        repo("contribute Latvia 1k --date 2025-05-01")
        assert git(repo.path, "show", "--name-only", "--format=", "HEAD").split() == [
            "journal/" + journal_file(repo.path).name
        ]
        assert "A  notes.txt" in git(repo.path, "status", "--porcelain")

    def test_no_commit_and_setting(self, repo):
        repo("contribute Latvia 1k --date 2025-05-01 --no-commit")
        code, data = audit(repo)
        assert code == 1
        assert data["findings"][0]["message"].endswith("has changes that are not committed")
        assert data["findings"][0]["commit"] is None

    def test_a_refused_commit_leaves_the_entry_recorded_and_says_so(self, repo):
        hook = repo.path / ".git" / "hooks" / "pre-commit"
        hook.write_text("#!/bin/sh\necho 'commits are frozen today' >&2\nexit 1\n")
        hook.chmod(0o755)
        result = repo("contribute Latvia 1k --date 2025-05-01")
        assert result.exit_code == 0
        assert result.stderr.startswith("warning: entry #11 is recorded but not committed (commits are frozen today)")
        assert repo.json("report summary")["entries"] == 11
        code, data = audit(repo)
        assert code == 1 and "not committed" in data["findings"][0]["message"]


class TestEveryEntryItsOwnCommit:
    """An entry git would not commit (a hook refused, --no-commit) gets its own commit once git allows again."""

    def _trailers(self, repo) -> list[str]:
        return git(repo.path, "log", "--format=%(trailers:key=Entry-Id,valueonly)").split()

    def test_a_refused_commit_is_made_by_the_next_record_on_its_own(self, repo):
        hook = repo.path / ".git" / "hooks" / "pre-commit"
        hook.write_text("#!/bin/sh\nexit 1\n")
        hook.chmod(0o755)
        first = repo("contribute Latvia 1k --date 2025-05-01")
        assert "entry #11 is recorded but not committed" in first.stderr
        second = repo("contribute Latvia 2k --date 2025-05-01")
        assert "entries #11-#12 are recorded but not committed" in second.stderr
        assert audit(repo)[0] == 1  # uncommitted changes, named
        hook.unlink()
        (repo.path / "notes.txt").write_text("draft")
        git(repo.path, "add", "notes.txt")
        third = repo("contribute Latvia 3k --date 2025-05-01")
        assert third.stderr == ""
        assert self._trailers(repo)[:3] == ["13", "12", "11"]
        for entry_id in (11, 12, 13):  # each commit adds exactly its own entry
            sha = git(repo.path, "log", "--format=%H", "--grep", f"^Entry-Id: {entry_id}$").split()
            assert len(sha) == 1
            added = git(repo.path, "show", "--format=", "--unified=0", sha[0], "--", "journal")
            assert added.count("+[[entry]]") == 1 and f"+id = {entry_id}\n" in added
        assert "A  notes.txt" in git(repo.path, "status", "--porcelain")  # the user's staging left alone
        assert git(repo.path, "status", "--porcelain", "--", "journal") == ""
        code, data = audit(repo)
        assert code == 0, data["findings"]

    def test_no_commit_entries_are_committed_one_by_one_later(self, repo):
        repo("contribute Latvia 1k --date 2025-05-01 --no-commit")
        repo("contribute Latvia 2k --date 2025-05-01 --no-commit")
        repo("contribute Latvia 3k --date 2025-05-01")
        assert self._trailers(repo)[:4] == ["13", "12", "11", "10"]
        assert audit(repo)[0] == 0

    def test_the_first_commit_of_a_repository_too(self, tmp_path, git_env):
        """No commit yet (init --no-commit): an entry left uncommitted still gets the first commit of its own."""
        done = CliRunner().invoke(main, ["init", str(tmp_path / "f"), "--name", "F", "--currency", "EUR", "--no-commit"])
        assert done.exit_code == 0, done.output
        run = Runner(tmp_path / "f")
        run("member join Latvia --date 2024-01-01 --no-commit")
        assert run("member join Estonia --date 2024-01-01").stderr == ""
        assert git(run.path, "log", "--format=%s").splitlines() == ["fundledger: #2 join Estonia", "fundledger: #1 join Latvia"]

    def test_audit_names_entries_another_entrys_commit_holds(self, repo):
        """A history made before this fix (or by hand): one entry's commit that holds the ones before it too."""
        repo("contribute Latvia 1k --date 2025-05-01 --no-commit")
        repo("contribute Latvia 2k --date 2025-05-01 --no-commit")
        git(repo.path, "commit", "-q", "-am", "fundledger: #12 contribute Latvia €2,000.00\n\nEntry-Id: 12\n")
        code, data = audit(repo)
        assert code == 1
        (finding,) = data["findings"]
        assert finding["message"].startswith(
            "entry #11 has no commit of its own: the commit of #12 holds it (a commit git refused"
        )
        assert finding["entry"] == 11


class TestAudit:
    def test_clean_history_passes(self, repo):
        for day in range(1, 21):
            repo(f"contribute 'United Kingdom' {day}k --date 2025-05-{day:02d}")
        code, data = audit(repo)
        assert code == 0, data["findings"]
        assert data["clean"] is True
        assert data["commits"] == 31 and data["entries"] == 30
        assert data["recorders"] == [{"recorder": "Finance Officer <officer@fund.example>", "entries": 30}]
        assert "clean: 31 commits, 30 entries" in repo("audit").stdout

    def _tamper(self, repo, change, message="tamper"):
        blocks = entries(repo.path)
        change(blocks)
        write_entries(repo.path, blocks)
        git(repo.path, "commit", "-qam", message)
        return git(repo.path, "rev-parse", "HEAD").strip()

    def test_an_amount_edited_in_an_old_entry(self, repo):
        def edit(blocks):
            blocks[5] = blocks[5].replace('"5000000.00"', '"6000000.00"')

        sha = self._tamper(repo, edit)
        code, data = audit(repo)
        assert code == 1
        (finding,) = data["findings"]
        assert finding["entry"] == 6 and finding["commit"] == sha
        assert finding["author"] == "Finance Officer <officer@fund.example>"
        assert "was rewritten" in finding["message"] and "entry #6" in finding["message"]

    def test_an_entry_deleted(self, repo):
        sha = self._tamper(repo, lambda blocks: blocks.pop(6))
        code, data = audit(repo)
        assert code == 1 and data["findings"][0]["commit"] == sha and data["findings"][0]["entry"] == 7

    def test_two_entries_swapped(self, repo):
        def swap(blocks):
            blocks[2], blocks[3] = blocks[3], blocks[2]

        sha = self._tamper(repo, swap)
        code, data = audit(repo)
        assert code == 1 and data["findings"][0]["commit"] == sha and data["findings"][0]["entry"] == 3

    def test_an_entry_inserted_in_the_middle(self, repo):
        sha = self._tamper(repo, lambda blocks: blocks.insert(4, blocks[5]))
        code, data = audit(repo)
        assert code == 1 and data["findings"][0]["commit"] == sha
        assert data["findings"][0]["entry"] == 4 or "inserted" in data["findings"][0]["message"]

    def test_an_entry_appended_by_hand_with_a_wrong_hash(self, repo):
        def append(blocks):
            forged = blocks[-1].replace("id = 10\n", "id = 11\n")
            blocks.append("\n" + forged)

        sha = self._tamper(repo, append)
        code, data = audit(repo)
        assert code == 1
        (finding,) = data["findings"]
        assert finding["commit"] == sha and finding["entry"] == 11
        assert "does not match its hash" in finding["message"]

    def test_ledger_toml_currency_changed(self, repo):
        settings = repo.path / "ledger.toml"
        settings.write_text(settings.read_text().replace('"EUR"', '"GBP"'))
        git(repo.path, "commit", "-qam", "switch currency")
        sha = git(repo.path, "rev-parse", "HEAD").strip()
        result = repo("audit --json", ok=False)
        assert result.exit_code == 1
        messages = {f["message"]: f["commit"] for f in json.loads(result.stdout)["findings"]}
        assert messages.get("ledger.toml changed after the commit that created it") == sha

    def test_a_journal_edit_left_uncommitted(self, repo):
        path = journal_file(repo.path)
        path.write_text(path.read_text().replace('"2000000.00"', '"2500000.00"'))
        result = repo("audit", ok=False)
        assert result.exit_code == 1
        assert "working tree" in result.stdout and "not committed" in result.stdout

    def test_since_reports_only_later_commits(self, repo):
        def edit(blocks):
            blocks[5] = blocks[5].replace('"5000000.00"', '"6000000.00"')

        self._tamper(repo, edit)
        head = git(repo.path, "rev-parse", "HEAD").strip()
        repo_code = repo(f"audit --since {head} --json", ok=False)
        assert repo_code.exit_code == 0
        assert json.loads(repo_code.stdout)["findings"] == []
        assert repo("audit --since HEAD~1 --json", ok=False).exit_code == 1


class TestSeal:
    def test_verify_seal_of_an_earlier_report(self, repo):
        seal = repo.json("report summary")["seal"]
        repo("contribute Latvia 1k --date 2025-05-01")
        result = repo(f"verify --seal {seal[:16]}")
        assert f"seal {seal[:16]} is entry #10 of 2025-04-02" in result.stdout

    def test_a_rewritten_history_passes_audit_but_loses_the_seal(self, repo):
        seal = repo.json("report summary")["seal"]
        # Rewrite: drop the last two commits and record something else in their place, as a force-push would.
        git(repo.path, "reset", "--hard", "-q", "HEAD~2")
        repo("pay recon-drones-2025-03 1M --date 2025-04-01")
        repo("contribute Latvia 1k --date 2025-05-01")
        code, data = audit(repo)
        assert code == 0, data["findings"]  # on its own terms the rewritten history is clean
        result = repo(f"verify --seal {seal}", ok=False)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"refused: seal {seal} is not in this journal")

    def test_show_gives_provenance(self, repo):
        data = json.loads(repo("show 9 --json").stdout)
        assert data["id"] == 9 and data["provenance"]["reversed_by"] == 10
        assert data["provenance"]["author"] == "Finance Officer <officer@fund.example>"
        subject = git(repo.path, "log", "-1", "--format=%s", data["provenance"]["commit"])
        assert subject.startswith("fundledger: #9 pay")
        assert "reversed by #10" in repo("show 9").stdout


def _key(tmp_path: Path, name: str) -> Path:
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key


def signed_ledger(tmp_path: Path, git_env: Path) -> tuple[Runner, Path]:
    """A ledger whose commits are signed by the officer's key (the one allowed_signers lists), with a member;
    returns it and a stranger's key."""
    good, stranger = _key(tmp_path, "good"), _key(tmp_path, "stranger")
    git_env.write_text(
        f"[init]\n\tdefaultBranch = main\n[gpg]\n\tformat = ssh\n[user]\n\tsigningkey = {good}\n"
        "[commit]\n\tgpgsign = true\n"
    )
    path = tmp_path / "signed"
    assert CliRunner().invoke(main, ["init", str(path), "--name", "S", "--currency", "EUR"]).exit_code == 0
    public = (tmp_path / "good.pub").read_text().split()
    (path / "allowed_signers").write_text(f"officer@fund.example {public[0]} {public[1]}\n")
    git(path, "add", "allowed_signers")
    git(path, "commit", "-qm", "allowed signers")
    run = Runner(path)
    run("member join Latvia --date 2024-02-01")
    return run, stranger


def commit_by_a_stranger_and_unsigned(run: Runner, stranger: Path) -> tuple[str, str]:
    """A commit signed by a key that allowed_signers does not list, then one not signed at all: their shas."""
    run("contribute Latvia 1M --date 2024-03-01 --no-commit")
    git(run.path, "-c", f"user.signingkey={stranger}", "commit", "-qam", "signed by a stranger")
    stranger_sha = git(run.path, "rev-parse", "HEAD").strip()
    run("contribute Latvia 2M --date 2024-03-02 --no-commit")
    git(run.path, "-c", "commit.gpgsign=false", "commit", "-qam", "not signed")
    return stranger_sha, git(run.path, "rev-parse", "HEAD").strip()


@pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed (apt-get install openssh-client)"
)
class TestSignatures:
    def test_signed_unsigned_and_unknown_keys(self, tmp_path, git_env):
        run, stranger = signed_ledger(tmp_path, git_env)
        code, data = audit(run)
        assert code == 0, data["findings"]
        assert {s["status"] for s in data["signatures"]} == {"good"}
        stranger_sha, unsigned_sha = commit_by_a_stranger_and_unsigned(run, stranger)
        code, data = audit(run)
        assert code == 1
        found = {f["commit"]: f["message"] for f in data["findings"]}
        assert found == {stranger_sha: "signature: key not allowed", unsigned_sha: "commit is unsigned"}


class TestTheQuickWay:
    """A clean history is proven by blob ids alone; the quick audit and the thorough one say the same."""

    def test_same_result_both_ways_on_a_clean_history(self, repo):
        import tempfile

        from ledger import audit as auditing
        from ledger import journal

        ledger = journal.open_ledger(repo.path)
        with tempfile.TemporaryDirectory() as folder:
            quick = auditing._run_by_blobs(ledger, Path(folder))
            thorough = auditing._run(ledger, None, Path(folder))
        assert quick is not None
        assert (quick.commits, quick.entries, quick.seal, dict(quick.recorders), quick.findings) == (
            thorough.commits, thorough.entries, thorough.seal, dict(thorough.recorders), thorough.findings,
        )  # fmt: skip

    def test_a_rewritten_history_is_left_to_the_thorough_way(self, repo):
        import tempfile

        from ledger import audit as auditing
        from ledger import journal

        path = journal_file(repo.path)
        path.write_text(path.read_text().replace('memo = ""', 'memo = "x"', 1))
        git(repo.path, "commit", "-qam", "an edit")
        with tempfile.TemporaryDirectory() as folder:
            assert auditing._run_by_blobs(journal.open_ledger(repo.path), Path(folder)) is None
        assert audit(repo)[0] == 1


class TestOneWalk:
    """The quick way reads each commit's blobs and hands over to diffs only at the first commit that needs them:
    whatever the history, the same audit as diffs from the first commit."""

    @staticmethod
    def both_ways(run: Runner, monkeypatch, since: str | None = None) -> tuple:
        import tempfile

        from ledger import audit as auditing
        from ledger import git as gitting
        from ledger import journal

        starts = []
        history = gitting.history

        def watched(path, **options):
            starts.append(options.get("start"))
            return history(path, **options)

        ledger = journal.open_ledger(run.path)
        with tempfile.TemporaryDirectory() as folder:
            thorough = auditing._run(ledger, since, Path(folder))
        monkeypatch.setattr(gitting, "history", watched)
        walked = auditing.run(ledger, since)

        def seen(result):
            return (result.findings, result.commits, result.entries, result.seal, dict(result.recorders),
                    result.signatures, result.reopenings, result.approvals)  # fmt: skip

        assert seen(walked) == seen(thorough)
        return walked, starts

    def test_a_clean_history_makes_no_diff(self, repo, monkeypatch):
        walked, starts = self.both_ways(repo, monkeypatch)
        assert walked.clean and starts == []

    def test_an_old_line_rewritten_put_back_then_entries_recorded_after_it(self, repo, monkeypatch):
        repo("contribute Latvia 1k --date 2025-05-01")
        path = journal_file(repo.path)
        path.write_text(path.read_text().replace('memo = "Treasury transfer LV-2025-001"', 'memo = "x"', 1))
        git(repo.path, "commit", "-qam", "an edit")
        rewrite = git(repo.path, "rev-parse", "HEAD").strip()
        git(repo.path, "revert", "--no-edit", "HEAD")  # the bytes put back: a rewrite all the same
        repo("contribute Latvia 2k --date 2025-05-02")
        repo("contribute Latvia 3k --date 2025-05-03")
        walked, starts = self.both_ways(repo, monkeypatch)
        assert "rewritten: line" in walked.findings[0].message and walked.findings[0].commit == rewrite
        assert starts == [rewrite], "the diffs start at the rewrite, not at the first commit"

    def test_since_after_a_rewrite(self, repo, monkeypatch):
        path = journal_file(repo.path)
        path.write_text(path.read_text().replace('memo = "Treasury transfer LV-2025-001"', 'memo = "x"', 1))
        git(repo.path, "commit", "-qam", "an edit")
        git(repo.path, "revert", "--no-edit", "HEAD")
        since = git(repo.path, "rev-parse", "HEAD").strip()
        repo("contribute Latvia 2k --date 2025-05-02")
        self.both_ways(repo, monkeypatch, since=since)

    def test_a_journal_file_renamed(self, repo, monkeypatch):
        old = journal_file(repo.path)
        git(repo.path, "mv", f"journal/{old.name}", "journal/2026-0009.toml")
        git(repo.path, "commit", "-qm", "renamed")
        walked, _ = self.both_ways(repo, monkeypatch)
        assert any("was deleted" in f.message for f in walked.findings)

    def test_a_journal_file_deleted_and_written_again(self, repo, monkeypatch):
        path = journal_file(repo.path)
        kept = path.read_bytes()
        git(repo.path, "rm", "-q", f"journal/{path.name}")
        git(repo.path, "commit", "-qm", "gone")
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(kept)
        git(repo.path, "add", f"journal/{path.name}")
        git(repo.path, "commit", "-qm", "back")
        walked, starts = self.both_ways(repo, monkeypatch)
        assert any("was deleted" in f.message for f in walked.findings) and len(starts) == 1

    def test_a_rewrite_merged_from_a_side_branch(self, repo, monkeypatch):
        git(repo.path, "checkout", "-qb", "side")
        path = journal_file(repo.path)
        path.write_text(path.read_text().replace('memo = "Treasury transfer LV-2025-001"', 'memo = "x"', 1))
        git(repo.path, "commit", "-qam", "an edit on a branch")
        git(repo.path, "checkout", "-q", "main")
        (repo.path / "README").write_text("the fund\n")
        git(repo.path, "add", "README")
        git(repo.path, "commit", "-qm", "a readme")
        git(repo.path, "merge", "-q", "--no-ff", "--no-edit", "side")
        walked, starts = self.both_ways(repo, monkeypatch)
        assert len(walked.findings) == 1 and "rewritten" in walked.findings[0].message and len(starts) == 1

    def test_binary_content_and_a_last_line_left_open(self, repo, monkeypatch):
        path = journal_file(repo.path)
        path.write_bytes(path.read_bytes() + b"# note without its newline")
        git(repo.path, "commit", "-qam", "open line")
        path.write_bytes(path.read_bytes() + b"\n")
        git(repo.path, "commit", "-qam", "closed")
        path.write_bytes(path.read_bytes() + b"\0\n")
        git(repo.path, "commit", "-qam", "binary")
        walked, starts = self.both_ways(repo, monkeypatch)
        assert walked.findings and len(starts) == 1

    def test_two_entries_in_one_commit_and_text_that_is_no_entry(self, repo, monkeypatch):
        repo("contribute Latvia 1k --date 2025-05-01 --no-commit")
        repo("contribute Latvia 2k --date 2025-05-02 --no-commit")
        path = journal_file(repo.path)
        git(repo.path, "commit", "-qam", "fundledger: #12 contribute Latvia")
        path.write_bytes(path.read_bytes() + b"\nnot an entry = 1\n")
        git(repo.path, "commit", "-qam", "stray text")
        walked, starts = self.both_ways(repo, monkeypatch)
        assert [f.entry for f in walked.findings][:1] == [11] and starts == []


    def test_commits_signed_by_a_stranger_or_not_at_all_need_no_diff(self, tmp_path, git_env, monkeypatch):
        run, stranger = signed_ledger(tmp_path, git_env)
        commit_by_a_stranger_and_unsigned(run, stranger)
        walked, starts = self.both_ways(run, monkeypatch)
        assert len(walked.findings) == 2 and starts == []


def test_a_seal_too_short_is_bad_input_not_a_rewritten_history(repo):
    result = repo("verify --seal 3f1e9a", ok=False)
    assert result.exit_code == 1 and result.stderr == (
        "error: seal '3f1e9a' is too short to prove anything: give 12 or more of its hex digits, as reports print it\n"
    )
    assert "rewritten" not in result.output
    assert repo("verify --seal xyz123456789abc", ok=False).stderr.startswith("error: seal 'xyz123456789abc' is not a seal")
