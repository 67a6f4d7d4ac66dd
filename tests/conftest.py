"""Fixtures: an empty ledger, the issue's worked example, and a CLI runner pointed at a ledger."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger import journal
from ledger.cli import main

# The worked example of issue 2, command by command; ids are 1..10 in this order.
COALITION = [
    'member join "United Kingdom" --date 2024-02-01 --role co-lead',
    "member join Latvia --date 2024-02-01 --role co-lead",
    "member apply Belgium --date 2025-04-11",
    "pledge Latvia 30M --year 2025 --split drones=20M --split industrial-cooperation=10M --date 2025-01-15 "
    "--source https://example.org/lv",
    'contribute Latvia 30M --pledge 4 --date 2025-02-01 --memo "Treasury transfer LV-2025-001"',
    'contribute "United Kingdom" "€5,000,000" --date 2025-02-10',
    'earmark training 2M --date 2025-02-11 --purpose "Operator training"',
    'package recon-drones-2025-03 20M --from drones --date 2025-03-20 --memo "Tactical reconnaissance drones"',
    'pay recon-drones-2025-03 5M --date 2025-04-01 --memo "Invoice 17, first tranche"',
    'reverse 9 --reason "Invoice 17 paid twice by mistake" --date 2025-04-02',
]


@pytest.fixture(autouse=True, scope="session")
def _cache_key_home(tmp_path_factory):
    """The read cache's key lives in a folder of the test run's own, never the user's ~/.cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    patch.undo()


class Runner:
    """Runs `fundledger --ledger PATH ...` in-process and keeps the result."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cli = CliRunner()

    def __call__(self, command: str | list[str], *, ok: bool = True, env: dict | None = None):
        args = shlex.split(command) if isinstance(command, str) else command
        result = self.cli.invoke(main, ["--ledger", str(self.path), *args], env=env, catch_exceptions=False)
        if ok and result.exit_code != 0:
            raise AssertionError(f"fundledger {command} failed ({result.exit_code}): {result.output}")
        return result

    def json(self, command: str):
        return json.loads(self(command + " --json").stdout)


def snapshot(path: Path) -> dict[str, bytes]:
    """Every file of a ledger but its derived .cache, byte for byte."""
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and ".cache" not in p.relative_to(path).parts and ".git" not in p.relative_to(path).parts
    }


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """A new ledger with no entries (not a git repository)."""
    path = tmp_path / "fund"
    journal.init(path, "Test fund", "EUR", "United Kingdom")
    return path


@pytest.fixture
def run(empty: Path) -> Runner:
    return Runner(empty)


@pytest.fixture
def coalition(run: Runner) -> Runner:
    """The issue's worked example, recorded through the CLI."""
    for command in COALITION:
        run(command)
    return run


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden/ from the current output.")


@pytest.fixture
def frozen_clock(monkeypatch):
    """Entries recorded at a fixed time, so hashes and seals are the same on every run."""
    import datetime as dt

    from ledger import model

    stamp = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(model, "now", lambda: stamp)
    return stamp


SAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "drone-coalition"


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """A git identity of the test's own, and no user or system git config to change what git does."""
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Finance Officer")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "officer@fund.example")
    return config
