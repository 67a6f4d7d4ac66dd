"""The closed registry of entry kinds: every kind has every part, and a kind missing one fails closed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from pathlib import Path

import click
import pytest

from ledger import fold, fund, journal, kinds, model, rules, writer
from ledger.books import Books
from ledger.cli import main
from ledger.errors import CorruptJournal, Refused

from test_rules import CASES

FORMAT = (Path(__file__).resolve().parent.parent / "docs" / "FORMAT.md").read_text(encoding="utf-8")


def _command(path: str) -> click.Command | None:
    command: click.Command | None = main
    for word in path.split():
        command = command.commands.get(word) if isinstance(command, click.Group) else None
    return command


@pytest.mark.parametrize("name", kinds.NAMES)
class TestEveryKindHasEveryPart:
    """A kind is one declaration, one operation, one rule, one apply, one command, its refusals and its docs."""

    def test_declared_whole(self, name):
        kind = kinds.REGISTRY[name]
        assert kind.missing() == []
        assert kind.name == name and len({f.name for f in kind.fields}) == len(kind.fields)
        assert not {f.name for f in kind.fields} & set(model.COMMON_FIELDS)

    def test_its_rule_and_accounts_live_in_rules_and_its_apply_in_books(self, name):
        kind = kinds.REGISTRY[name]
        assert kind.rule.__module__ == "ledger.rules" and kind.rule.__name__ == f"check_{name}"
        assert kind.apply.__module__ == "ledger.books" and kind.apply.__name__ == f"apply_{name}"
        if kind.moves_money:
            assert kind.accounts.__name__ == f"accounts_{name}"

    def test_its_operation_builds_it(self, name):
        kind = kinds.REGISTRY[name]
        assert kind.operation.__module__ == "ledger.fund"
        assert "note" in inspect.signature(kind.operation).parameters

    def test_a_command_records_it_and_its_help_shows_an_example(self, name):
        command = _command(kinds.REGISTRY[name].command)
        assert command is not None, f"no `fundledger {kinds.REGISTRY[name].command}`"
        assert "Example" in (command.help or "")

    def test_its_refusals_are_in_the_catalogue(self, name):
        assert any(kind == name for kind, *_ in CASES), f"tests/test_rules.py has no refusal of a {name} entry"

    def test_its_fields_are_documented(self, name):
        row = next((line for line in FORMAT.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"docs/FORMAT.md has no row for kind {name}"
        for field in kinds.REGISTRY[name].fields:
            if field.name not in ("original_amount", "original_currency", "rate") or name == "rate":
                assert f"`{field.name}`" in row, f"docs/FORMAT.md does not document {name}'s field {field.name}"


def test_references_are_read_from_the_registry():
    assert {"pledge", "reverses", "close", "proposal"} == kinds.REFS


def test_every_rule_in_rules_is_used_by_the_fold_or_a_kind():
    """A `check_` function no kind names and the fold never calls would be a rule that never runs."""
    generic = {
        "check_hash", "check_sequence", "check_open_period", "check_four_eyes", "check_postings", "check_limit",
        "check_accounts",
        "check_allowed",
        "check_envelopes",
    }
    named = {kind.rule.__name__ for kind in kinds.REGISTRY.values()}
    present = {name for name, _ in inspect.getmembers(rules, inspect.isfunction) if name.startswith("check_")}
    assert present == generic | named
    source = inspect.getsource(fold.check)
    assert all(f"rules.{name}" in source for name in generic)


# --- a kind missing a part is refused, when recorded and when read ------------------

DELIVERY = kinds.Kind(
    "delivery",
    (kinds.Field("package", str, True), kinds.Field("items", str, True)),
    rule=lambda books, entry: None,
    apply=None,  # forgotten
    operation=lambda books, note: None,
    command="deliver",
)


def _delivery(note_day=dt.date(2025, 1, 2)) -> model.Entry:
    return model.Entry(0, note_day, model.now(), "delivery", data={"package": "p", "items": "40 drones"})


def test_a_kind_without_an_apply_is_refused_when_recorded(empty, monkeypatch):
    monkeypatch.setitem(kinds.REGISTRY, "delivery", DELIVERY)
    ledger = journal.open_ledger(empty)
    before = list((empty / "journal").iterdir())
    with pytest.raises(Refused, match="delivery kind has no apply: it can be neither recorded nor read"):
        writer.record(ledger, lambda books: _delivery())
    assert list((empty / "journal").iterdir()) == before


def test_a_kind_without_an_apply_is_refused_when_read(run, monkeypatch):
    run("member join Latvia --date 2024-01-01")
    monkeypatch.setitem(kinds.REGISTRY, "delivery", dataclasses.replace(DELIVERY, apply=lambda books, entry: None))
    ledger = journal.open_ledger(run.path)
    writer.record(ledger, lambda books: _delivery())  # a complete kind records
    monkeypatch.setitem(kinds.REGISTRY, "delivery", DELIVERY)
    with pytest.raises(CorruptJournal, match=r"entry #2 .*delivery kind has no apply"):
        journal.load(ledger, use_cache=False)


def test_every_part_missing_is_named():
    bare = kinds.Kind("x", (), None, None, None, "", moves_money=True, refs=("pledge",))
    assert bare.missing() == ["rule", "apply", "operation", "accounts", "refs field pledge"]


def test_an_entry_of_a_kind_this_version_does_not_know_says_to_upgrade(run):
    """Written by a newer fundledger: reported as that, never as an unfinished write that repair may cut."""
    run("member join Latvia --date 2024-01-01")
    books = journal.load(journal.open_ledger(run.path))
    newer = _delivery().sealed(2, books.seal)
    path = next((run.path / "journal").iterdir())
    with open(path, "ab") as handle:
        handle.write(b"\n" + journal.entry_bytes(newer))
    before = path.read_bytes()
    result = run("balance", ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "entry #2 is of kind 'delivery', which this version of fundledger does not know; "
        "it may have been written by a newer fundledger: upgrade to read this journal"
    )
    assert "unfinished" not in result.stderr
    repaired = run("repair --yes", ok=False)
    assert repaired.exit_code == 1 and "upgrade" in repaired.stderr
    assert path.read_bytes() == before


def test_the_fold_refuses_an_unknown_kind():
    entry = _delivery().sealed(1, model.GENESIS)
    with pytest.raises(Refused, match="of kind 'delivery', which this version"):
        fold.fold(Books("EUR"), entry)


def test_operations_exist_for_the_registry_only():
    """Every public builder in fund belongs to a kind (no entry is built that no kind declares)."""
    builders = {kind.operation for kind in kinds.REGISTRY.values()}
    public = {
        function
        for name, function in inspect.getmembers(fund, inspect.isfunction)
        if function.__module__ == "ledger.fund"
        and not name.startswith("_")
        and inspect.signature(function).return_annotation in ("Entry", model.Entry, "list[Entry]")
    }
    assert public == builders
