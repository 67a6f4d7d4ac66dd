"""Two or three recorders, one fund: clones that record at the same time converge through a shared remote.

Real git throughout: a bare repository in a temporary folder is the remote,
each clone records through the CLI under its own git identity, and syncs.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger import git as gitting
from ledger import journal, state
from ledger import sync as syncing
from ledger.cli import main

from conftest import Runner, build_with_git, built_once, copy_ledger

pytestmark = pytest.mark.slow  # clones of a real git remote recording and syncing: half a second a test

NAMES = ["London Officer", "Riga Deputy", "Oslo Clerk"]


def git(path: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True)
    assert not ok or done.returncode == 0, done.stderr
    return done


class Clone(Runner):
    """A clone of the shared fund, recording as one person."""

    def __init__(self, path: Path, who: str) -> None:
        super().__init__(path)
        self.who = who
        self.env = {f"GIT_{role}_{part}": value for role in ("AUTHOR", "COMMITTER")
                    for part, value in (("NAME", who), ("EMAIL", f"{who.split()[0].lower()}@fund.example"))}  # fmt: skip

    def __call__(self, command, *, ok: bool = True, env: dict | None = None):
        return super().__call__(command, ok=ok, env={**self.env, **(env or {})})

    def journal_bytes(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in (self.path / "journal").glob("*.toml")}

    def entries(self):
        return journal.hold(journal.load(journal.open_ledger(self.path), use_cache=False)).entries


FOLDERS = ["london", "riga", "oslo"]


def _share_fund(top: Path) -> None:
    """In `top`: the bare remote and the three clones of `fund`."""
    top.mkdir()
    remote = top / "remote.git"
    git(top, "init", "--quiet", "--bare", "-b", "main", str(remote))
    first = top / FOLDERS[0]
    result = CliRunner().invoke(main, ["init", str(first), "--name", "Shared fund", "--currency", "EUR"])
    assert result.exit_code == 0, result.output
    london = Clone(first, NAMES[0])
    london('member join "United Kingdom" --date 2024-02-01 --role co-lead')
    london("member join Latvia --date 2024-02-01 --role co-lead")
    london("contribute Latvia 10M --date 2024-03-01")
    git(first, "remote", "add", "origin", str(remote))
    git(first, "push", "--quiet", "-u", "origin", "main")
    for name, folder in zip(NAMES[1:], FOLDERS[1:], strict=True):
        git(top, "clone", "--quiet", str(remote), folder)
        Clone(top / folder, name)("git-setup")


@pytest.fixture(scope="session")
def fund_built(tmp_path_factory, _cache_key_home):
    with built_once(tmp_path_factory, "shared", build_with_git(_share_fund)) as folder:
        yield folder


@pytest.fixture
def fund(tmp_path, git_env, fund_built) -> list[Clone]:
    """A bare remote holding a fund with two members and €10M unallocated; three clones of it.

    Made once per test run; each test copies the four repositories into its own tmp_path and points
    every clone's origin at its own copy of the remote.
    """
    for folder in ["remote.git", *FOLDERS]:
        copy_ledger(fund_built / folder, tmp_path / folder)
    clones = []
    for name, folder in zip(NAMES, FOLDERS, strict=True):
        config = tmp_path / folder / ".git" / "config"
        text = config.read_text().replace(str(fund_built), str(tmp_path))
        assert f"\turl = {tmp_path / 'remote.git'}\n" in text and str(fund_built) not in text
        config.write_text(text)
        clones.append(Clone(tmp_path / folder, name))
    return clones


def audit_clean(clone: Clone) -> None:
    data = clone.json("audit")
    assert data["clean"], data["findings"]
    assert clone("verify").exit_code == 0


def test_two_clones_that_recorded_at_once_converge(fund):
    london, riga, _ = fund
    london('contribute "United Kingdom" 5M --date 2025-01-10 --memo "from London"')
    riga("contribute Latvia 2M --date 2025-01-11 --memo 'from Riga'")
    assert london.json("sync")["pushed"] == 1
    synced = riga.json("sync")
    assert synced["fetched"] == 1 and synced["replayed"] == [{"was": 4, "now": 5}] and synced["pushed"] == 1
    london("sync")
    assert london.journal_bytes() == riga.journal_bytes()
    mine = [e for e in riga.entries() if e.memo == "from Riga"]
    assert [e.id for e in mine] == [5]
    # The recorder stays the recorder: the commit that added #5 is Riga's.
    author = git(riga.path, "log", "-1", "--format=%an", "-S", mine[0].hash, "--", "journal").stdout.strip()
    assert author == "Riga Deputy"
    for clone in (london, riga):
        audit_clean(clone)


def test_an_entry_the_other_side_made_impossible_is_kept_with_its_reason(fund):
    london, riga, _ = fund
    london("earmark drones 10M --date 2025-01-01")
    london("sync")
    riga("sync")
    london("package london-drones 10M --envelope drones --date 2025-02-01")  # both spend the same €10M
    riga("package riga-drones 10M --envelope drones --date 2025-02-02")
    london("sync")
    synced = riga.json("sync")
    assert synced["replayed"] == [] and len(synced["kept"]) == 1
    assert "earmark drones has €0.00 available" in synced["kept"][0]["reason"]
    kept = riga.json("kept")
    assert kept[0]["entry"]["package"] == "riga-drones"
    assert riga.journal_bytes() == london.journal_bytes()  # the refused entry is nowhere in the journal
    # Once there is money again, the kept entry is recorded from the kept file.
    riga("contribute Latvia 10M --date 2025-02-01")  # dated before the kept package's day, so it covers it
    riga("earmark drones 10M --date 2025-02-01")
    assert "recorded kept" in riga("kept --record").output
    assert riga.json("kept") == []
    riga("sync")
    london("sync")
    assert london.journal_bytes() == riga.journal_bytes()
    assert "riga-drones" in london.json("report packages")["rows"][1]["package"]
    audit_clean(london)


def test_references_to_replayed_entries_follow_their_new_ids(fund):
    london, riga, _ = fund
    riga("pledge Latvia 3M --year 2025 --date 2025-01-01")  # #4 here
    riga("contribute Latvia 1M --pledge 4 --date 2025-01-02")  # #5
    riga('reverse 5 --reason "bounced" --date 2025-01-03')  # #6
    london("contribute Latvia 1k --date 2025-01-01")  # #4 on the remote
    london("sync")
    riga("sync")
    entries = {e.kind: e for e in riga.entries()[4:]}
    assert entries["contribute"].get("pledge") == entries["pledge"].id == 5
    assert entries["reverse"].get("reverses") == entries["contribute"].id == 6
    audit_clean(riga)


def test_a_push_that_loses_a_race_is_retried(fund, monkeypatch):
    london, riga, _ = fund
    london("contribute Latvia 1k --date 2025-01-01 --memo first")
    riga("contribute Latvia 2k --date 2025-01-01 --memo second")
    real_push = gitting.push
    raced = []

    def push_after_london(path, remote, branch):
        if path == riga.path and not raced:
            raced.append(True)
            london("sync")  # London publishes between Riga's fetch and Riga's push
        return real_push(path, remote, branch)

    monkeypatch.setattr(gitting, "push", push_after_london)
    synced = riga.json("sync")
    assert synced["attempts"] == 2 and synced["pushed"] == 1
    london("sync")
    assert london.journal_bytes() == riga.journal_bytes()
    assert [e.memo for e in london.entries()[3:]] == ["first", "second"]


def test_a_close_recorded_again_on_the_other_clone_s_entries_keeps_a_state_of_those_books(fund):
    london, riga, _ = fund
    london("contribute Latvia 1k --date 2024-06-01 --memo London")  # after the month Riga closes
    london("sync")
    riga("close 2024-03 --date 2024-05-02")
    synced = riga.json("sync")
    assert synced["replayed"] == [{"was": 4, "now": 5}] and synced["kept"] == []
    london("sync")
    for clone in (london, riga):
        books = journal.load(journal.open_ledger(clone.path))
        recorded = books.entry(5).get("state")
        where = state.path(clone.path, recorded)
        assert state.digest(where.read_bytes()) == recorded
        assert json.loads(where.read_bytes())["books"]["v"]["count"] == 4  # the books after London's entry
        assert clone.json("verify")["states"] == {"ok": [5], "missing": [], "other": []}
        audit_clean(clone)


def test_a_close_git_pull_records_again_has_its_state_committed_by_the_next_record(fund):
    london, riga, _ = fund
    london("contribute Latvia 1k --date 2024-06-01")
    london("sync")
    riga("close 2024-03 --date 2024-05-02")
    assert git(riga.path, "pull", "--quiet", ok=False).returncode == 0
    books = journal.load(journal.open_ledger(riga.path), use_cache=False)
    named = "states/" + state.path(riga.path, books.entry(5).get("state")).name
    assert named in git(riga.path, "status", "--porcelain", "--untracked-files=all").stdout  # written, not committed
    riga("contribute Latvia 2k --date 2024-06-02")
    assert named in git(riga.path, "show", "--name-only", "--format=", "HEAD").stdout.split()
    assert riga.json("verify")["states"]["ok"] == [5]


def test_git_pull_replays_instead_of_leaving_conflict_markers(fund):
    london, riga, _ = fund
    london("contribute Latvia 1k --date 2025-01-01 --memo London")
    london("sync")
    riga("contribute Latvia 2k --date 2025-01-02 --memo Riga")
    pulled = git(riga.path, "pull", "--quiet", ok=False)
    assert pulled.returncode == 0, pulled.stderr
    assert "<<<<<<<" not in "".join(p.decode() for p in riga.journal_bytes().values())
    assert [e.memo for e in riga.entries()[3:]] == ["London", "Riga"]
    git(riga.path, "push", "--quiet")
    london("sync")
    assert london.journal_bytes() == riga.journal_bytes()
    audit_clean(london)


def test_git_pull_that_cannot_replay_fails_and_leaves_the_clone_as_it_was(fund):
    london, riga, _ = fund
    london("earmark drones 10M --date 2025-01-01")
    london("sync")
    riga("sync")
    london("package a 10M --envelope drones --date 2025-02-01")
    london("sync")
    riga("package b 10M --envelope drones --date 2025-02-01")
    before = riga.journal_bytes()
    head = git(riga.path, "rev-parse", "HEAD").stdout
    pulled = git(riga.path, "pull", ok=False)
    assert pulled.returncode != 0
    assert "cannot replay 1 entry" in pulled.stdout + pulled.stderr
    git(riga.path, "rebase", "--abort")
    assert riga.journal_bytes() == before and git(riga.path, "rev-parse", "HEAD").stdout == head
    assert "earmark drones has €0.00 available" in riga.json("kept")[0]["reason"]


def test_fifty_rounds_of_three_clones_recording_and_syncing_in_random_order(fund):
    """At the end every clone holds the same journal; every entry accepted anywhere is in it exactly once,
    unless it was refused on replay, and then it is in its clone's kept file with the reason."""
    rng = random.Random(20251126)
    accepted: dict[str, int] = {}  # memo -> clone that recorded it
    for round_number in range(50):
        index = rng.randrange(3)
        clone = fund[index]
        if rng.random() < 0.3:
            clone("sync")
            continue
        memo = f"c{index}-r{round_number}"
        day = f"2025-{1 + round_number // 28:02d}-{1 + round_number % 28:02d}"
        command = rng.choice([
            f'contribute Latvia {rng.randrange(1, 4)}M --date {day} --memo "{memo}"',
            f'earmark drones {rng.randrange(1, 6)}M --date {day} --memo "{memo}"',
            f'package p{round_number} {rng.randrange(1, 4)}M --envelope drones --date {day} --memo "{memo}"',
        ])  # fmt: skip
        if clone(command, ok=False).exit_code == 0:
            accepted[memo] = index
    for _ in range(2):
        for clone in fund:
            clone("sync")
    journals = [clone.journal_bytes() for clone in fund]
    assert journals[0] == journals[1] == journals[2]
    memos = [e.memo for e in fund[0].entries()]
    kept = {k["entry"]["memo"]: k["reason"] for clone in fund for k in clone.json("kept")}
    for memo in accepted:
        assert memos.count(memo) + (memo in kept) == 1, memo
    assert all(reason for reason in kept.values())
    assert len(accepted) > 20 and kept  # the run raced for the same earmark at least once
    audit_clean(fund[0])


def test_sync_refuses_uncommitted_journal_changes(fund):
    london = fund[0]
    london("contribute Latvia 1k --date 2025-01-01 --no-commit")
    result = london("sync", ok=False)
    assert result.exit_code == 1 and "not committed" in result.output


def test_a_sync_that_died_half_way_loses_nothing(fund, monkeypatch):
    london, riga, _ = fund
    london("contribute Latvia 1k --date 2025-01-01 --memo London")
    london("sync")
    riga("contribute Latvia 2k --date 2025-01-02 --memo Riga")

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(syncing, "record_again", dies)
    with pytest.raises(KeyboardInterrupt):
        syncing.sync(journal.open_ledger(riga.path))
    assert "Riga" not in [e.memo for e in riga.entries()]  # reset to the remote, Riga's entry set aside
    monkeypatch.undo()
    riga("sync")
    assert [e.memo for e in riga.entries()[3:]] == ["London", "Riga"]


def test_a_ledger_in_a_folder_of_a_larger_repository(tmp_path, git_env):
    """The ledger need not be the repository: sync reads the remote's journal under the ledger's folder, and
    never drops a commit of this clone that changes anything else."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(remote))
    top = tmp_path / "office"
    git(tmp_path, "init", "--quiet", "-b", "main", str(top))
    (top / "README").write_text("the office\n")
    git(top, "add", "README")
    git(top, "commit", "--quiet", "-m", "start")
    made = CliRunner().invoke(main, ["init", str(top / "books"), "--name", "Fund", "--currency", "EUR"])
    assert made.exit_code == 0 and "run `fundledger git-setup`" in made.output  # someone else's repository
    assert not (top / "books" / ".gitattributes").exists()
    london = Clone(top / "books", NAMES[0])
    london("git-setup")
    london("member join Latvia --date 2024-02-01")
    git(top, "remote", "add", "origin", str(remote))
    git(top, "push", "--quiet", "-u", "origin", "main")
    git(tmp_path, "clone", "--quiet", str(remote), "riga")
    riga = Clone(tmp_path / "riga" / "books", NAMES[1])
    riga("git-setup")
    london("contribute Latvia 1k --date 2025-01-01 --memo London")
    london("sync")
    riga("contribute Latvia 2k --date 2025-01-02 --memo Riga")
    (tmp_path / "riga" / "README").write_text("changed in Riga\n")
    git(tmp_path / "riga", "commit", "--quiet", "-am", "notes")
    refused = riga("sync", ok=False)
    assert refused.exit_code == 1 and "change more than the journal" in refused.output
    git(tmp_path / "riga", "reset", "--quiet", "--hard", "HEAD~1")  # the notes go; the entry stays
    riga("sync")
    assert [e.memo for e in riga.entries()[1:]] == ["London", "Riga"]
    audit_clean(riga)


def test_a_remote_that_moved_on_without_new_entries_is_caught_up_with(fund):
    """Someone pushed a commit that is not an entry (a README): sync still puts this clone's entries on top."""
    london, riga, _ = fund
    (london.path / "README").write_text("how we keep the books\n")
    git(london.path, "add", "README")
    git(london.path, "commit", "--quiet", "-m", "notes")
    git(london.path, "push", "--quiet")
    riga("contribute Latvia 2k --date 2025-01-02 --memo Riga")
    synced = riga.json("sync")
    assert synced["pushed"] == 1 and synced["attempts"] == 1
    assert (riga.path / "README").exists()
    london("sync")
    assert london.journal_bytes() == riga.journal_bytes()


def test_a_field_another_kind_uses_as_a_reference_is_not_one_here(run):
    """Found by review: an amendment's `close = true` equals 1 in Python, so sync took it for a reference to
    entry #1 and would have recorded it again as `close = <#1's new id>`; only a kind's own refs are references."""
    for command in (
        "member join Latvia --date 2024-02-01", "contribute Latvia 100 --date 2024-02-01",
        "package q 50 --envelope unallocated --date 2024-02-02", 'amend q --close --reason done --date 2024-02-03',
    ):  # fmt: skip
        run(command)
    entries = journal.load(journal.open_ledger(run.path)).entries
    assert entries[0].id == 1 and entries[-1].get("close") is True
    kept = syncing.set_aside(entries, {})
    assert kept[-1].refs == {"after:package": entries[2].hash}
    again = syncing._again(kept[-1], {e.hash: e.id + 10 for e in entries})
    assert again.get("close") is True
    panel = run("show 4").stdout
    assert "#True" not in panel and "True" in panel
