"""Fixtures: an empty ledger, the issue's worked example, and a CLI runner pointed at a ledger.

Ledgers that many tests start from (the worked example, a git repository of
it, sync's clones) are built once per test run by session fixtures
(`built_once`) and their folders copied into each test's own tmp_path
(`copy_ledger`), so every test still gets a ledger of its own to change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from ledger import journal
from ledger.cli import main


def pytest_configure(config: pytest.Config) -> None:
    """Compile the package once, before any test starts a `fundledger` process.

    With PYTHONDONTWRITEBYTECODE set (as on this project's machines) Python
    never keeps the bytecode of our own modules, so every `fundledger` a test
    runs compiled all of them again: 0.3 s a start instead of 0.12 s, over
    hundreds of processes. Only the controller compiles (xdist workers share it).
    """
    # The same for the test modules pytest rewrites: kept once rewritten (six seconds a worker otherwise).
    sys.dont_write_bytecode = False
    if hasattr(config, "workerinput"):
        return
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parent.parent / "ledger", quiet=2)

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
    'package recon-drones-2025-03 20M --envelope drones --date 2025-03-20 --memo "Tactical reconnaissance drones"',
    'pay recon-drones-2025-03 5M --date 2025-04-01 --memo "Invoice 17, first tranche"',
    'reverse 9 --reason "Invoice 17 paid twice by mistake" --date 2025-04-02',
]


def _temporary_folders_in_memory() -> None:
    """The tests' folders in /dev/shm where it has room, unless TMPDIR says where they go.

    Every record fsyncs its journal file, and the suite records thousands of entries: on a disk that other
    programs keep busy an fsync takes milliseconds, in memory nothing. Nothing the tests check depends on the
    disk (a SIGKILLed writer's bytes are in the page cache either way).
    """
    shm = Path("/dev/shm")
    if os.environ.get("TMPDIR") or not shm.is_dir() or not os.access(shm, os.W_OK | os.X_OK):
        return
    room = os.statvfs(shm)
    if room.f_bavail * room.f_frsize < 2 << 30:  # a container's small /dev/shm: leave it alone
        return
    os.environ["TMPDIR"] = str(shm)  # for pytest's tmp_path, tempfile and the programs the tests run
    tempfile.tempdir = None  # tempfile reads TMPDIR again


_temporary_folders_in_memory()


# Hypothesis, the same here and in CI: new random examples on every run (Hypothesis's own "ci" profile, which it
# loads when CI is set, would derandomize and try the same examples every time), no deadline and no too_slow
# health check (a busy machine must not fail a test for being slow). Each test sets its own max_examples.
# HYPOTHESIS_PROFILE (or --hypothesis-profile) chooses another profile.
for _name in ("default", "ci"):
    settings.register_profile(
        _name,
        settings.get_profile(_name),
        derandomize=False,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or settings.get_current_profile_name())


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


def new_ledger(path: Path) -> Path:
    """A new ledger with no entries (not a git repository), as `empty` makes."""
    journal.init(path, "Test fund", "EUR", "United Kingdom")
    return path


def record_coalition(path: Path) -> None:
    """The worked example, recorded through the CLI into a new ledger at `path`."""
    run = Runner(new_ledger(path))
    for command in COALITION:
        run(command)


def every_file(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, .git and .cache included, byte for byte."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@contextlib.contextmanager
def built_once(tmp_path_factory, name: str, build: Callable[[Path], object]) -> Iterator[Path]:
    """For a session fixture: `build(folder)` in a folder of the test run's own, which tests only copy.

    Session fixtures are set up before any function fixture of the test that first needs them, so what a
    test patches (a clock, PART_BYTES, git settings) never leaks into a folder built once. At the end of the
    run the folder must be as built: a test that changed it instead of its copy fails the run.
    """
    folder = tmp_path_factory.mktemp(name) / name
    build(folder)
    before = every_file(folder)
    yield folder
    assert every_file(folder) == before, f"a test changed the shared folder {folder}, not its own copy"


def copy_ledger(built: Path, to: Path, *, cache: bool = True) -> Path:
    """A copy of a folder built once: hidden files too (.git, .cache), modification times kept.

    The read cache under .cache/ is signed with the run's key (`_cache_key_home`), so a copied cache is
    taken only where the copied journal files still match it, as the builder's own would be;
    `cache=False` leaves .cache/ behind.
    """
    shutil.copytree(built, to, symlinks=True, ignore=None if cache else shutil.ignore_patterns(".cache"))
    return to


@pytest.fixture(scope="session")
def coalition_built(tmp_path_factory, _cache_key_home) -> Iterator[Path]:
    with built_once(tmp_path_factory, "coalition", record_coalition) as folder:
        yield folder


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """A new ledger with no entries (not a git repository)."""
    return new_ledger(tmp_path / "fund")


@pytest.fixture
def run(empty: Path) -> Runner:
    return Runner(empty)


@pytest.fixture
def coalition(run: Runner, coalition_built: Path) -> Runner:
    """The issue's worked example, recorded through the CLI (once per test run; each test gets a copy)."""
    shutil.rmtree(run.path)
    copy_ledger(coalition_built, run.path)
    return run


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="Rewrite tests/golden/ from the current output.")
    parser.addoption(
        "--all", action="store_true", help="Run the slow tests too (the README's test command and CI do)."
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Plain `pytest` runs in under a minute: the tests marked slow (crash trials, races, clones syncing over real
    git, a real browser, PDFs) wait for `pytest --all`, which the README's test command and CI run. Tests named
    on the command line (a file or folder, `-k`, `-m`) run whatever their marks."""
    if config.getoption("--all") or config.getoption("markexpr") or config.getoption("keyword"):
        return
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


FROZEN = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_clock(monkeypatch):
    """Entries recorded at a fixed time, so hashes and seals are the same on every run."""
    from ledger import model

    monkeypatch.setattr(model, "now", lambda: FROZEN)
    return FROZEN


def record_coalition_frozen(path: Path) -> None:
    """The worked example recorded with the clock of `frozen_clock`: the same bytes on every run."""
    from ledger import model

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(model, "now", lambda: FROZEN)
        record_coalition(path)


@pytest.fixture(scope="session")
def coalition_frozen_built(tmp_path_factory, _cache_key_home) -> Iterator[Path]:
    with built_once(tmp_path_factory, "coalition-frozen", record_coalition_frozen) as folder:
        yield folder


SAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "drone-coalition"


def use_git_identity(patch: pytest.MonkeyPatch, config: Path) -> Path:
    """Git as `git_env` sets it up: the Finance Officer's identity and only the given config file."""
    config.write_text("[init]\n\tdefaultBranch = main\n")
    patch.setenv("GIT_CONFIG_GLOBAL", str(config))
    patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        patch.setenv(f"GIT_{role}_NAME", "Finance Officer")
        patch.setenv(f"GIT_{role}_EMAIL", "officer@fund.example")
    return config


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """A git identity of the test's own, and no user or system git config to change what git does."""
    return use_git_identity(monkeypatch, tmp_path / "gitconfig")


def build_with_git(build: Callable[[Path], object]) -> Callable[[Path], object]:
    """`build`, run with the git setup of `git_env` (a config file beside the folder built)."""

    def building(folder: Path):
        with pytest.MonkeyPatch.context() as patch:
            use_git_identity(patch, folder.parent / "gitconfig")
            return build(folder)

    return building


def recorded(folder: Path, commands, *, name: str = "Year fund") -> Runner:
    """A new ledger in `folder` (not a git repository) with `commands` recorded through the CLI, in order."""
    journal.init(folder, name, "EUR", "United Kingdom")
    run = Runner(folder)
    for command in commands:
        run(command)
    return run
