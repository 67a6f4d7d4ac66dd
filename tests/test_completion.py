"""Tab completion (issue 23): the script for each shell, and the names of the ledger in use."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.shell_completion import ShellComplete
from click.testing import CliRunner

from ledger.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "examples" / "procurement"


def completions(args: list[str], incomplete: str) -> list[str]:
    complete = ShellComplete(main, {}, "fundledger", "_FUNDLEDGER_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete)]


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("completion") / "procurement"
    shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns(".cache"))
    return str(path)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_script_calls_fundledger_back(shell):
    result = CliRunner().invoke(main, ["completion", shell])
    assert result.exit_code == 0 and "_FUNDLEDGER_COMPLETE" in result.output


def test_an_unknown_shell_is_a_usage_error():
    assert CliRunner().invoke(main, ["completion", "powershell"]).exit_code == 2


def test_names_come_from_the_ledger_in_use(ledger):
    at = ["--ledger", ledger]
    assert completions([*at, "report", "funding", "--member"], "e") == ["Eastmark"]
    assert completions([*at, "pay"], "") == ["fpv-drones", "operator-training"]
    assert completions([*at, "report", "register", "--supplier"], "Fjord") == ["Fjord Drone Works AS"]
    assert completions([*at, "report", "register", "--earmark"], "") == ["drones", "training"]
    assert "suppliers" in completions([*at, "report"], "sup")


def test_envelopes_kinds_and_help_complete(ledger):
    at = ["--ledger", ledger]
    assert completions([*at, "package", "p", "1M", "--envelope"], "") == ["drones", "training", "unallocated"]
    assert completions([*at, "charge", "5", "--envelope"], "u") == ["unallocated"]
    assert completions([*at, "report", "register", "--kind"], "pa") == ["package", "pay"]
    assert "--from" not in completions([*at, "package", "p", "1M"], "--")  # a deprecated spelling is not offered


def test_no_ledger_no_names_and_no_error(tmp_path):
    assert completions(["--ledger", str(tmp_path / "none"), "report", "funding", "--member"], "") == []
