"""Nothing lost, nothing forged, round two (issue 21): the slow attacks, with other processes and kills.

SETUP2 as in test_round_two.py. The figures these tests print (with `-s`) are the ones docs/RELIABILITY.md
reports: rounds and entries acknowledged vs present for recording during sync; kills and what each left
for an import killed at random moments.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_round_two import audit_clean, build_setup2, copy_setup2, git, statement

from ledger import journal
from ledger.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup2_template(tmp_path_factory) -> Path:
    return build_setup2(tmp_path_factory.mktemp("setup2"))


RECORDS = 8  # contributions recorded in b by another process while b syncs
MIN_ROUNDS = 3  # a's record-and-sync, then b's sync: at least this many, and until the recorder is done


def test_recording_while_sync_runs_in_the_same_clone_loses_nothing(setup2_template, tmp_path, git_env):
    fund = copy_setup2(setup2_template, tmp_path / "w")
    a, b = fund.a, fund.b
    env = {**os.environ, **b.env}
    acknowledged: list[str] = []
    refused: list[str] = []

    def recorder() -> None:
        for number in range(RECORDS):
            memo = f"b-{number:02d}"
            done = subprocess.run(
                [sys.executable, "-m", "ledger", "contribute", "Latvia", "1", "--date", "2025-02-01", "--memo", memo],
                cwd=b.path, capture_output=True, text=True, env=env,
            )  # fmt: skip
            (acknowledged if done.returncode == 0 else refused).append(memo if not done.returncode else done.stderr)

    thread = threading.Thread(target=recorder)
    thread.start()
    rounds = replayed = 0
    try:
        while thread.is_alive() or rounds < MIN_ROUNDS:
            a(f"contribute Estonia 1 --date 2025-02-01 --memo a-{rounds:02d}")
            a("sync")
            synced = b.json("sync")  # while the recorder's processes wait for, or hold, b's lock
            replayed += len(synced["replayed"])  # the recorder's entries, recorded again on top of a's
            rounds += 1
    finally:
        thread.join()
    assert refused == [] and len(acknowledged) == RECORDS
    assert replayed > 0  # the syncs did set aside and record again entries the recorder had just recorded
    for clone in (b, a, b):
        clone("sync")
    assert a.journal_bytes() == b.journal_bytes()
    memos = [e.memo for e in b.entries()]
    kept = {k["entry"]["memo"]: k["reason"] for k in b.json("kept")}
    for memo in acknowledged:
        assert memos.count(memo) + (memo in kept) == 1, memo
    assert all(kept.values())
    present = sum(memos.count(memo) for memo in acknowledged)
    print(f"\nrecording during sync: {rounds} rounds, {len(acknowledged)} acknowledged, {present} present once, "
          f"{len(kept)} kept, {replayed} replayed by the syncs")  # fmt: skip
    for clone in (a, b):
        audit_clean(clone)


# Each trial is a whole import killed and recovered (about half a second): 8 by default, FUNDLEDGER_TRIALS for
# more (docs/RELIABILITY.md's figures are from 20 a run).
KILL_TRIALS = max(8, int(os.environ.get("FUNDLEDGER_TRIALS", "0")) // 10)
KILL_ROWS = 40
KILL_PART_BYTES = 16 * 1024  # small parts, so that some imports start a new one and some do not


def _session_alive(sid: int) -> bool:
    """Whether a process of session `sid` is still running (the git a killed importer had started)."""
    for item in os.scandir("/proc"):
        if not item.name.isdigit():
            continue
        try:
            with open(f"/proc/{item.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            return True
    return False


def _import_killed(path: Path, csv: Path, mapping: Path, env: dict, *, after_write: bool, delay: float) -> str:
    """Run `fundledger import` in a forked child and SIGKILL it `delay` seconds after it starts, or after it
    begins its write; return what happened to it. Git processes the child started finish on their own,
    as they would after the importer crashed, and are waited for."""
    ready, announce = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: an importer that says when it is about to write
        try:
            os.setsid()
            os.close(ready)
            real_append = journal.append

            def append(ledger, entries):
                os.write(announce, b"w")
                return real_append(ledger, entries)

            journal.append = append
            CliRunner().invoke(main, ["--ledger", str(path), "import", str(csv), "--map", str(mapping)], env=env)
        finally:
            os._exit(0)
    os.close(announce)
    if after_write:
        os.read(ready, 1)  # b"" if it ended without writing
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(ready)
    while _session_alive(pid):
        time.sleep(0.002)
    return "killed" if os.WIFSIGNALED(status) else "finished first"


def test_sigkill_during_import_leaves_none_or_all_of_the_rows(setup2_template, tmp_path, git_env, monkeypatch):
    monkeypatch.setattr(journal, "PART_BYTES", KILL_PART_BYTES)
    rng = random.Random(20261129)
    outcomes: Counter = Counter()
    for trial in range(KILL_TRIALS):
        fund = copy_setup2(setup2_template, tmp_path / f"t{trial:02d}")
        a = fund.a
        for part in range(trial % 3):  # grow the newest file, so the import sometimes fits in it and sometimes not
            a(f"import {statement(fund.root, 12, tag=f'P{trial}-{part}')[0]} --map {fund.root / 'map.toml'}")
        csv, mapping = statement(fund.root, KILL_ROWS, tag=f"T{trial:02d}")
        after_write = trial % 2 == 1
        delay = rng.uniform(0, 0.03) if after_write else rng.uniform(0, 0.12)
        how = _import_killed(a.path, csv, mapping, {**a.env}, after_write=after_write, delay=delay)
        sources = [e.source for e in a.entries() if e.source.startswith(f"T{trial:02d}-")]
        assert len(sources) in (0, KILL_ROWS), (trial, len(sources))
        assert a("verify").exit_code == 0
        left = git(a.path, "status", "--porcelain", "--", "journal").stdout.strip()
        if how == "finished first":
            outcome = "finished before the kill"
        elif not sources:
            outcome = "killed before its write: none" + (", an empty new part left" if left else "")
        elif left:
            outcome = "killed after its write, before its commit: all, not committed"
        else:
            outcome = "killed during or after its commit: all, committed"
        outcomes[outcome] += 1
        # Importing again records what is missing, or nothing: rows already there stay uncommitted, and
        # audit names their file as not committed (never an entry out of sequence) until the next record.
        a(f"import {csv} --map {mapping}")
        sources = [e.source for e in a.entries() if e.source.startswith(f"T{trial:02d}-")]
        assert sorted(sources) == sorted(set(sources)) and len(sources) == KILL_ROWS, trial
        left = git(a.path, "status", "--porcelain", "--", "journal").stdout.strip()
        findings = [f["message"] for f in json.loads(a("audit --json", ok=False).stdout)["findings"]]
        assert not any("out of sequence" in f for f in findings), (trial, findings)
        assert all("not committed" in f for f in findings), (trial, findings)
        assert bool(findings) == bool(left), (trial, findings, left)
        a(f"contribute Latvia 1 --date 2025-03-01 --memo after-{trial}")  # commits what the kill left
        audit_clean(a)
    print(f"\nimport killed at random moments: {KILL_TRIALS} trials, {dict(outcomes)}")
    assert sum(outcomes.values()) == KILL_TRIALS
