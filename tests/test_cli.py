"""The commands, as a user types them: the worked example, every refusal, ledger discovery."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ledger import journal
from ledger.cli import main

from conftest import COALITION, Runner, snapshot


class TestWorkedExample:
    """The issue's session, from `init` to `balance`."""

    def test_init_creates_a_git_repository_with_settings_and_gitignore(self, tmp_path):
        result = CliRunner().invoke(
            main,
            [
                "init",
                str(tmp_path / "coalition"),
                "--name",
                "Drone Coalition central fund",
                "--currency",
                "EUR",
                "--manager",
                "United Kingdom",
            ],
        )
        assert result.exit_code == 0, result.output
        folder = tmp_path / "coalition"
        assert (folder / ".git").is_dir()
        assert ".cache/" in (folder / ".gitignore").read_text()
        ledger = journal.open_ledger(folder)
        assert ledger.settings.currency == "EUR"
        assert ledger.settings.manager == "United Kingdom"

    def test_ids_are_the_ones_the_commands_print(self, run):
        ids = [run.json(command)["id"] for command in COALITION]
        assert ids == list(range(1, 11))

    def test_balance_after_the_example(self, coalition):
        rows = {row["account"]: row["balance"] for row in coalition.json("balance")["rows"]}
        assert rows["assets:fund:earmarked:industrial-cooperation"] == "10000000.00"
        assert rows["assets:fund:earmarked:training"] == "2000000.00"
        assert rows["assets:fund:earmarked:drones"] == "0.00"
        assert rows["assets:fund:unallocated"] == "3000000.00"
        assert rows["assets:fund:committed:recon-drones-2025-03"] == "20000000.00"
        assert rows["assets:fund"] == "35000000.00"
        assert rows["income:contributions"] == "-35000000.00"
        assert rows["expenses:packages:recon-drones-2025-03"] == "0.00"

    def test_pledge_json_carries_split_and_postings(self, coalition):
        entry = json.loads(coalition("reverse 10 --reason x --dry-run --json", ok=False).stdout or "{}") or None
        assert entry is None  # a reversal cannot be reversed: nothing printed on stdout
        pledge = coalition.json("pledge Latvia 1M --year 2026 --split drones=400k --date 2025-05-01")
        assert pledge["kind"] == "pledge" and pledge["id"] == 11
        assert pledge["split"] == {"drones": "400000.00"}
        assert {p["account"]: p["amount"] for p in pledge["postings"]} == {
            "assets:receivable:latvia:drones": "400000.00",
            "assets:receivable:latvia": "600000.00",
            "income:contributions:latvia": "-1000000.00",
        }

    def test_panel_shows_id_and_memo(self, coalition):
        out = coalition("contribute Latvia 1k --date 2025-05-01 --memo 'Bank ref 42'").stdout
        assert "#11 contribute" in out
        assert "Bank ref 42" in out

    def test_contribution_against_pledge_is_pro_rata(self, run):
        for command in COALITION[:4]:
            run(command)
        entry = run.json("contribute Latvia 3M --pledge 4 --date 2025-02-01")
        debits = {p["account"]: p["amount"] for p in entry["postings"] if not p["amount"].startswith("-")}
        assert debits == {
            "assets:fund:earmarked:drones": "2000000.00",
            "assets:fund:earmarked:industrial-cooperation": "1000000.00",
        }

    def test_pro_rata_rounding_keeps_every_cent(self, run):
        for command in COALITION[:2]:
            run(command)
        run("pledge Latvia 3 --year 2025 --split a=1 --split b=1 --split c=1 --date 2025-01-01")
        entry = run.json("contribute Latvia 1 --pledge 3 --date 2025-01-02")
        debits = sorted(p["amount"] for p in entry["postings"] if not p["amount"].startswith("-"))
        assert debits == ["0.33", "0.33", "0.34"]

    def test_contribution_split_without_pledge(self, run):
        run(COALITION[0])
        entry = run.json('contribute "united kingdom" 5M --split drones=2M --date 2025-01-01')
        assert entry["member"] == "United Kingdom"
        debits = {p["account"]: p["amount"] for p in entry["postings"] if not p["amount"].startswith("-")}
        assert debits == {"assets:fund:earmarked:drones": "2000000.00", "assets:fund:unallocated": "3000000.00"}

    def test_package_from_two_sources(self, coalition):
        entry = coalition.json("package fpv-2025-06 3M --envelope training=1M --envelope unallocated --date 2025-06-01")
        credits = {p["account"]: p["amount"] for p in entry["postings"] if p["amount"].startswith("-")}
        assert credits == {"assets:fund:earmarked:training": "-1000000.00", "assets:fund:unallocated": "-2000000.00"}

    def test_membership_approval_by_every_active_member(self, coalition):
        coalition("member approve Belgium --by Latvia --date 2025-04-20")
        refused = coalition("contribute Belgium 1M --date 2025-04-21", ok=False)
        assert "not an active member on 2025-04-21" in refused.stderr
        coalition('member approve Belgium --by "United Kingdom" --date 2025-04-22')
        assert coalition.json("contribute Belgium 1M --date 2025-04-22")["member"] == "Belgium"

    def test_membership_by_decision(self, coalition):
        coalition('member approve Belgium --decision "Decision 2025/7" --date 2025-04-20')
        assert coalition.json("pledge Belgium 1M --year 2025 --date 2025-04-20")["id"] == 12

    def test_leave_stops_contributions(self, coalition):
        coalition("member leave Latvia --date 2025-06-01")
        refused = coalition("contribute Latvia 1M --date 2025-06-01", ok=False)
        assert refused.stderr.strip() == "refused: Latvia is not an active member on 2025-06-01: it left on 2025-06-01"

    def test_dry_run_writes_nothing(self, coalition):
        before = snapshot(coalition.path)
        entry = coalition.json("contribute Latvia 1M --date 2025-05-01 --dry-run")
        assert entry["dry_run"] is True and entry["id"] == 11
        assert snapshot(coalition.path) == before

    def test_date_defaults_to_today(self, coalition):
        assert coalition.json("contribute Latvia 1k")["date"] == dt.date.today().isoformat()


# The error catalogue: a command on the worked example, the exact line it prints, and nothing written.
REFUSALS = [
    (
        "pay recon-drones-2025-03 21M --date 2025-04-03",
        "refused: package recon-drones-2025-03 has €20,000,000.00 left to pay; payment of €21,000,000.00 exceeds it",
    ),
    (
        "earmark more 3000000.01 --date 2025-04-03",
        "refused: unallocated cash is €3,000,000.00; earmark of €3,000,000.01 exceeds it",
    ),
    (
        "package big 10000000.01 --envelope industrial-cooperation --date 2025-04-03",
        "refused: earmark industrial-cooperation has €10,000,000.00 available; package of €10,000,000.01 exceeds it",
    ),
    (
        "earmark more 1M --date 2025-02-05",
        "refused: unallocated cash is €0.00 from 2025-02-05 on; earmark of €1,000,000.00 exceeds it",
    ),
    (
        "contribute Latvia 1 --pledge 4 --date 2025-04-03",
        "refused: pledge #4 of Latvia has €0.00 outstanding; receipt of €1.00 exceeds it "
        "(record the excess as a contribution of its own, without --pledge)",
    ),
    (
        "contribute Belgium 1M --date 2025-04-12",
        "refused: Belgium is not an active member on 2025-04-12: its application is not yet approved",
    ),
    (
        "contribute Latvia 1M --date 2024-01-31",
        "refused: Latvia is not an active member on 2024-01-31: it became a member on 2024-02-01",
    ),
    ("pledge Norway 1M --year 2025", "refused: Norway is not a member of this fund; record `member join` first"),
    ("reverse 9 --reason again --date 2025-04-03", "refused: #9 was already reversed by #10"),
    (
        "reverse 10 --reason again --date 2025-04-03",
        "refused: #10 is itself a reversal; record the original event again instead",
    ),
    ("reverse 99 --reason x", "refused: there is no entry #99 to reverse (the newest is #10)"),
    (
        "reverse 4 --reason x --date 2025-04-03",
        "refused: pledge #4 has €30,000,000.00 received against it; reverse those receipts first",
    ),
    ("reverse 8 --reason x --date 2025-04-03", None),  # allowed: nothing paid (the payment was reversed)
    ("reverse 1 --reason x", "refused: #1 is a membership entry; record `member leave` instead of reversing it"),
    ("reverse 5 --reason x --date 2025-01-01", "refused: #5 is dated 2025-02-01; its reversal cannot be dated before"),
    ("pay nothing-here 1M", "refused: there is no package 'nothing-here'; record it with `package` first"),
    (
        "pay recon-drones-2025-03 1M --date 2025-03-19",
        "refused: package recon-drones-2025-03 dates from 2025-03-20; a payment cannot be dated before",
    ),
    (
        "package recon-drones-2025-03 1M --envelope unallocated",
        "refused: package recon-drones-2025-03 already exists (#8); choose another name",
    ),
    ("member join Latvia --date 2025-01-01", "refused: Latvia is already a member (since 2024-02-01)"),
    ("member join Belgium", "refused: Belgium has applied; admit it with `member approve`, not `member join`"),
    ("member approve Norway --by Latvia", "refused: Norway has no pending application; record `member apply` first"),
    (
        "member approve Belgium --by Latvia --date 2025-04-10",
        "refused: Belgium applied on 2025-04-11; it cannot be approved before that",
    ),
    (
        "member approve Belgium --by Belgium --date 2025-04-12",
        "refused: Belgium is not an active member on 2025-04-12, so it cannot approve Belgium",
    ),
    (
        "member leave Latvia --date 2025-01-01",
        "refused: Latvia has entries dated on or after 2025-01-01 (#4); it cannot leave before them",
    ),
    (
        "earmark ../etc 1",
        "error: earmark name '../etc' is not allowed: use lower-case letters, digits and single "
        "hyphens, at most 64 characters (for example 'etc')",
    ),
    (
        "earmark Drones 1",
        "error: earmark name 'Drones' is not allowed: use lower-case letters, digits and single "
        "hyphens, at most 64 characters (for example 'drones')",
    ),
    ("earmark unallocated 1", "error: earmark name 'unallocated' is reserved for the fund's free cash"),
    ("earmark x 0", "error: amount '0' must be more than zero"),
    ("earmark x 1.001", "error: amount '1.001' has more decimal places than EUR has (2)"),
    (
        "earmark x 1e6",
        "error: cannot read amount '1e6': write it like 30000000.00, 30,000,000 or 30M "
        "(a dot for decimals, commas only between thousands)",
    ),
    (
        "earmark x NaN",
        "error: cannot read amount 'NaN': write it like 30000000.00, 30,000,000 or 30M "
        "(a dot for decimals, commas only between thousands)",
    ),
    ("earmark x £5", "error: amount '£5' is in GBP, but this entry is in EUR"),
    ("earmark x -- -5", "error: amount '-5' is negative: amounts are positive; to undo an entry, use `reverse`"),
    (
        "member join 'A/B'",
        "error: member name 'A/B' is not allowed: character '/' is not a letter, space, hyphen, apostrophe or dot",
    ),
    (
        "member join ':x'",
        "error: member name ':x' is not allowed: character ':' is not a letter, space, hyphen, apostrophe or dot",
    ),
    (
        "pledge Latvia 1M --year 2025 --split drones=2M",
        "error: the split adds up to more than the pledge (2000000.00 > 1000000.00)",
    ),
    (
        "pledge Latvia 1M --year 2025 --split drones",
        "error: --split 'drones' must look like EARMARK=AMOUNT, for example drones=20M",
    ),
    (
        "package p 1M --envelope a --envelope b",
        "error: only one --envelope may leave out its amount; it takes what the others do not",
    ),
    ("package p 1M --envelope training=500k", "error: the sources add up to €500,000.00, the package is €1,000,000.00"),
    ("contribute Latvia 1M --pledge 3", "refused: #3 is not a pledge"),
    ("contribute 'United Kingdom' 1M --pledge 4", "refused: pledge #4 is Latvia's, not United Kingdom's"),
]


class TestRefusals:
    """Each refusal is one exact line on stderr, exit status 1, and every file left byte for byte."""

    @pytest.mark.parametrize(("command", "message"), REFUSALS, ids=[c for c, _ in REFUSALS])
    def test_refused_and_nothing_written(self, coalition, command, message):
        before = snapshot(coalition.path)
        result = coalition(command, ok=False)
        if message is None:
            assert result.exit_code == 0, result.output
            return
        assert result.exit_code == 1
        assert result.stderr.strip() == message
        assert result.stdout == ""
        assert snapshot(coalition.path) == before

    def test_the_issues_own_example(self, coalition):
        coalition("pay recon-drones-2025-03 5M --date 2025-04-03")
        before = snapshot(coalition.path)
        result = coalition("pay recon-drones-2025-03 16M --date 2025-04-03", ok=False)
        assert result.stderr.strip() == (
            "refused: package recon-drones-2025-03 has €15,000,000.00 left to pay; payment of €16,000,000.00 exceeds it"
        )
        assert snapshot(coalition.path) == before

    def test_usage_errors_exit_2(self, coalition):
        before = snapshot(coalition.path)
        assert coalition("pledge Latvia 1M", ok=False).exit_code == 2  # --year missing
        bad_date = coalition("contribute Latvia 1M --date 2025-13-01", ok=False)  # bad input, like an amount
        assert bad_date.exit_code == 1
        assert bad_date.stderr == "error: --date '2025-13-01' is not a date: there is no month 13\n"
        negative = coalition("earmark training -5M", ok=False)  # not click's "No such option '-5'"
        assert negative.exit_code == 1 and negative.stderr.startswith("error: '-5M' is negative: amounts are positive")
        assert coalition("earmark training 5M -x", ok=False).exit_code == 2  # a real unknown option
        assert coalition("member approve Belgium", ok=False).exit_code == 2
        assert snapshot(coalition.path) == before


class TestDates:
    """Days as people type them (issue 23): ISO, single digits, today, yesterday, -3d; impossible days named."""

    @pytest.mark.parametrize(
        ("text", "days_ago"), [("today", 0), ("yesterday", 1), ("-3d", 3), ("-0d", 0), ("TODAY", 0)]
    )
    def test_relative_days(self, coalition, text, days_ago):
        entry = coalition.json(f"contribute Latvia 1k --date {text}")
        assert entry["date"] == (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()

    def test_single_digit_month_and_day(self, coalition):
        assert coalition.json("contribute Latvia 1k --date 2025-3-5")["date"] == "2025-03-05"

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("2025-02-30", "'2025-02-30' is not a date: there is no 30 February in 2025"),
            ("2024-02-30", "'2024-02-30' is not a date: there is no 30 February in 2024"),
            ("2025-13-01", "'2025-13-01' is not a date: there is no month 13"),
            ("soon", "'soon' is not a date: write it as YYYY-MM-DD (2025-03-20), today, yesterday or -3d"),
        ],
    )
    def test_impossible_days_are_named(self, coalition, text, message):
        result = coalition(["contribute", "Latvia", "1k", "--date", text], ok=False)
        assert result.exit_code == 1 and result.stderr == f"error: --date {message}\n"


class TestDiscovery:
    """--ledger, then FUNDLEDGER_DIR, then the nearest ledger.toml upward."""

    def test_env_var(self, coalition):
        result = CliRunner().invoke(main, ["balance", "--json"], env={"FUNDLEDGER_DIR": str(coalition.path)})
        assert result.exit_code == 0
        assert json.loads(result.stdout)["entries"] == 10

    def test_nearest_folder_upward(self, coalition, monkeypatch):
        inner = coalition.path / "journal"
        monkeypatch.chdir(inner)
        monkeypatch.delenv("FUNDLEDGER_DIR", raising=False)
        result = CliRunner().invoke(main, ["balance", "--json"])
        assert result.exit_code == 0
        assert json.loads(result.stdout)["entries"] == 10

    def test_no_ledger_is_one_clear_line(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("FUNDLEDGER_DIR", raising=False)
        result = CliRunner().invoke(main, ["balance"])
        assert result.exit_code == 1
        assert result.stderr.startswith("error: no ledger here: no ledger.toml in ")
        assert len(result.stderr.strip().splitlines()) == 1

    def test_ledger_option_not_a_ledger(self, tmp_path):
        result = Runner(tmp_path)("balance", ok=False)
        assert result.exit_code == 1
        assert "is not a ledger: it has no ledger.toml" in result.stderr
        assert list(tmp_path.iterdir()) == []

    def test_init_refuses_a_non_empty_folder(self, coalition):
        before = snapshot(coalition.path)
        result = CliRunner().invoke(main, ["init", str(coalition.path), "--name", "x", "--currency", "EUR"])
        assert result.exit_code == 1
        assert "already exists and is not an empty folder" in result.stderr
        assert snapshot(coalition.path) == before

    def test_init_refuses_an_unknown_currency(self, tmp_path):
        result = CliRunner().invoke(main, ["init", str(tmp_path / "f"), "--name", "x", "--currency", "EURO"])
        assert result.exit_code == 1
        assert not (tmp_path / "f").exists()


class TestHelp:
    """Every command has help text with an example."""

    def _commands(self, group, prefix=()):
        for name, command in group.commands.items():
            if hasattr(command, "commands"):
                yield from self._commands(command, (*prefix, name))
            else:
                yield (*prefix, name)

    def test_every_command_has_an_example(self):
        for path in self._commands(main):
            result = CliRunner().invoke(main, [*path, "--help"])
            assert result.exit_code == 0, path
            assert "Example" in result.output, f"fundledger {' '.join(path)} --help has no example"

    def test_python_dash_m(self, coalition):
        import subprocess
        import sys

        done = subprocess.run(
            [sys.executable, "-m", "ledger", "--ledger", str(coalition.path), "balance", "--json"],
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["report"] == "balance"


def test_hand_edited_journal_is_reported_with_entry_and_rule(coalition):
    path = next((coalition.path / "journal").iterdir())
    text = path.read_text()
    path.write_text(text.replace('amount = "5000000.00"', 'amount = "6000000.00"', 1))
    result = coalition("balance", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("corrupt: ")
    assert "entry #6 does not match its hash" in result.stderr


def test_rules_recheck_on_load_names_the_rule(empty: Path):
    """A journal whose chain is intact but which breaks a rule is refused on load, naming the entry."""
    from ledger import fold, fund, model
    from ledger.books import Books

    books = Books("EUR")
    note = fund.Note(__import__("datetime").date(2025, 1, 1))
    join = fund.join(books, "Latvia", "member", note).sealed(1, model.GENESIS)
    fold.fold(books, join)
    bad = fund.earmark(books, "drones", "5M", note).sealed(2, join.hash)  # no cash to earmark
    with open(empty / "journal" / "2025-0001.toml", "wb") as handle:
        handle.write(journal.entry_bytes(join) + b"\n" + journal.entry_bytes(bad))
    result = Runner(empty)("balance", ok=False)
    offset = len(journal.entry_bytes(join)) + 1
    assert result.stderr.strip() == (
        f"corrupt: journal/2025-0001.toml: entry #2 (byte {offset}) breaks a rule: unallocated cash is €0.00; "
        "earmark of €5,000,000.00 exceeds it"
    )


class TestExitCodes:
    """One policy: 0 done, 1 refused, 2 usage, 130 interrupted; a closed pipe is not an error."""

    def test_fundledger_alone_prints_its_help_and_succeeds(self):
        result = CliRunner().invoke(main, [])
        assert result.exit_code == 0 and "Usage:" in result.stdout and "Commands:" in result.stdout

    def test_interrupted_exits_130(self, coalition, monkeypatch):
        from ledger import reports

        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(reports, "balance_report", interrupted)
        result = coalition("balance", ok=False)
        assert result.exit_code == 130 and "interrupted" in result.stderr

    def test_a_reader_that_went_away_is_not_an_error(self, run):
        """More than a pipe holds (a 300 KB memo), read by `head -c 10`: exit 0, nothing on stderr."""
        import subprocess
        import sys

        run(["member", "join", "Latvia", "--date", "2024-01-01", "--memo", "x" * 300_000])
        done = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m ledger --ledger {run.path} show 1 --json | head -c 10; "
             "exit ${PIPESTATUS[0]}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stdout, done.stderr) == (0, '{\n  "id": ', "")


def test_quiet_prints_only_the_new_entrys_id_for_scripts(tmp_path):
    """`-q` on a recording command prints the id and nothing else; with --json it is a usage error."""
    from conftest import Runner

    done = CliRunner().invoke(main, ["init", str(tmp_path / "f"), "--name", "F", "--currency", "EUR", "--no-commit"])
    assert done.exit_code == 0, done.output
    run = Runner(tmp_path / "f")
    assert run("member join Latvia --date 2024-01-01 --no-commit -q").stdout == "1\n"
    assert run("contribute Latvia 1M --date 2024-02-01 --no-commit --quiet").stdout == "2\n"
    both = run("contribute Latvia 1M --date 2024-02-01 --no-commit -q --json", ok=False)
    assert both.exit_code == 2 and "choose one of --quiet and --json" in both.stderr


def test_init_json_says_what_was_created(tmp_path):
    result = CliRunner().invoke(
        main, ["init", str(tmp_path / "f"), "--name", "Fund", "--currency", "eur", "--no-commit", "--json"]
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created.pop("new_repository") in (True, False)  # whether tmp_path sits inside a work tree varies
    assert created == {"path": str(tmp_path / "f"), "name": "Fund", "currency": "EUR", "manager": "", "committed": False}
    assert (tmp_path / "f" / "ledger.toml").is_file()


class TestFilterNames:
    """A report filter naming nothing the books hold is refused with the closest name, never "nothing to show"."""

    @pytest.mark.parametrize(
        ("command", "message"),
        [
            ("report register --earmark trainin", "refused: there is no earmark 'trainin'; did you mean 'training'?"),
            ("report register --member Latvai", "refused: there is no member 'Latvai'; did you mean 'Latvia'?"),
            (
                "report register --package recon-drones-2025-3",
                "refused: there is no package 'recon-drones-2025-3'; did you mean 'recon-drones-2025-03'?",
            ),
            ("report register --account assets:fnd", "refused: there is no account 'assets:fnd'; did you mean 'assets:fund'?"),
            ("report register --supplier Nobody", "refused: there is no supplier 'Nobody'; `fundledger report suppliers` lists them"),
            ("report funding --member Latvai", "refused: there is no member 'Latvai'; did you mean 'Latvia'?"),
            ("report funding --package recon", "refused: there is no package 'recon'; `fundledger report packages` lists them"),
            ("report statement Latvai", "refused: there is no member 'Latvai'; did you mean 'Latvia'?"),
        ],
    )  # fmt: skip
    def test_unknown_name_is_refused_with_a_suggestion(self, coalition, command, message):
        result = coalition(command, ok=False)
        assert (result.exit_code, result.stderr.strip(), result.stdout) == (1, message, "")

    @pytest.mark.parametrize(
        "command",
        ["report register --account assets", "report register --account assets:fund:earmarked:drones",
         "report register --member latvia", "report register --earmark training --kind earmark",
         "report register --account income:contributions:latvia"],
    )  # fmt: skip
    def test_known_names_and_account_prefixes_pass(self, coalition, command):
        assert "nothing to show" not in coalition(command).stdout

    def test_an_account_with_a_trailing_colon_is_its_parent(self, coalition):
        with_colon = coalition.json("report register --account assets:fund:")
        assert with_colon["rows"] and with_colon == coalition.json("report register --account assets:fund")

    def test_an_earmark_known_only_from_a_pledge_split_passes(self, coalition):
        coalition("pledge Latvia 1M --year 2025 --split demining=1M --date 2025-05-01")
        assert coalition("report register --earmark demining --json").exit_code == 0

    @pytest.mark.parametrize(
        ("command", "message"),
        [
            ("member leave Latvai", "refused: Latvai is not an active member, so it cannot leave; did you mean 'Latvia'?"),
            ("member approve Belgum --by Latvia", "refused: Belgum has no pending application; did you mean 'Belgium'?"),
            ("policy payy --approvals 1", "refused: 'payy' is not a kind of entry; did you mean 'pay'?"),
        ],
    )  # fmt: skip
    def test_recording_commands_suggest_too(self, coalition, command, message):
        result = coalition(f"{command} --date 2025-05-01", ok=False)
        assert (result.exit_code, result.stderr.strip()) == (1, message)

    def test_kind_is_a_choice_that_suggests(self, coalition):
        result = coalition("report register --kind payy", ok=False)
        assert result.exit_code == 2
        assert "'payy' is not a kind; did you mean 'pay'?" in result.stderr

    def test_report_name_suggests(self, coalition):
        result = coalition("report registr", ok=False)
        assert result.exit_code == 2
        assert "'registr' is not a report; did you mean 'register'?" in result.stderr

    @pytest.mark.parametrize("command", ["report --json --csv", "report members --csv --json", "balance --json --csv"])
    def test_two_formats_are_a_usage_error(self, coalition, command):
        result = coalition(command, ok=False)
        assert result.exit_code == 2 and "choose one of --json and --csv" in result.stderr and result.stdout == ""


class TestRenamedOptions:
    """--from and --to mean days; the envelope and the recipient have their own options, old spellings warn."""

    def test_envelope_options(self, coalition):
        entry = coalition.json("package p 1M --envelope training=500k --envelope unallocated --date 2025-05-01")
        assert {p["account"] for p in entry["postings"] if p["amount"].startswith("-")} == {
            "assets:fund:earmarked:training", "assets:fund:unallocated"}  # fmt: skip
        assert coalition("earmark spare 1k --envelope training --date 2025-05-01 -q").stdout == "12\n"
        assert coalition("charge 25 --envelope spare --date 2025-05-01 -q").stderr == ""

    @pytest.mark.parametrize(
        ("old", "new", "command"),
        [
            ("--from", "--envelope", "package p 1M --from training --date 2025-05-01"),
            ("--from", "--envelope", "earmark spare 1k --from training --date 2025-05-01"),
            ("--from", "--envelope", "charge 25 --from training --date 2025-05-01"),
            ("--from", "--envelope", "fee 25 --from training --date 2025-05-01"),
            ("--to", "--envelope", "interest 25 --to training --date 2025-05-01"),
            ("--from", "--envelope", "amend recon-drones-2025-03 +1k --from training --reason r --date 2025-05-01"),
        ],
    )
    def test_old_spelling_still_works_and_warns_once(self, coalition, old, new, command):
        result = coalition(command + " --json")
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith(f"warning: {old} is deprecated for {command.split()[0]}; write {new}")
        postings = {p["account"] for p in json.loads(result.stdout)["postings"]}
        assert any("training" in account for account in postings)

    @pytest.mark.parametrize("command", ["earmark x 1 --envelope unallocatd", "interest 1 --envelope unalocated",
                                         "package p 1 --envelope unallocatd"])  # fmt: skip
    def test_a_misspelt_unallocated_is_suggested(self, coalition, command):
        result = coalition(command + " --date 2025-05-01", ok=False)
        assert result.exit_code == 1 and result.stderr.endswith("; did you mean 'unallocated'?\n")

    def test_old_and_new_spelling_together_is_a_usage_error(self, coalition):
        result = coalition("package p 1M --from training --envelope unallocated --date 2025-05-01", ok=False)
        assert result.exit_code == 2 and "give --envelope only" in result.stderr

    def test_package_needs_an_envelope(self, coalition):
        result = coalition("package p 1M --date 2025-05-01", ok=False)
        assert result.exit_code == 2 and "Missing option '--envelope'" in result.stderr

    def test_no_recording_command_takes_from_or_to_in_its_help(self):
        for name, command in main.commands.items():
            if getattr(command.callback, "records", False):
                shown = {opt for p in command.params if not getattr(p, "hidden", False) for opt in p.opts}
                assert not shown & {"--from", "--to"}, name


class TestHelpCommand:
    """`fundledger help COMMAND` prints the same full help as `COMMAND --help`; `help` alone the top level's."""

    @pytest.mark.parametrize("words", [[], ["report"], ["member", "join"], ["package"], ["help"]])
    def test_same_as_dash_dash_help(self, words):
        runner = CliRunner()
        shown = runner.invoke(main, ["help", *words], prog_name="fundledger")
        assert shown.exit_code == 0
        assert shown.stdout == runner.invoke(main, [*words, "--help"], prog_name="fundledger").stdout
        assert shown.stdout.startswith(f"Usage: fundledger {' '.join(words)}".rstrip() + " [OPTIONS]")

    @pytest.mark.parametrize(
        ("words", "message"),
        [
            (["reprot"], "fundledger has no command 'reprot'; did you mean 'report'?"),
            (["member", "jion"], "fundledger member has no sub-command 'jion'; did you mean 'join'?"),
            (["pay", "extra"], "fundledger pay has no sub-command 'extra'"),
        ],
    )
    def test_unknown_command_is_a_usage_error(self, words, message):
        result = CliRunner().invoke(main, ["help", *words])
        assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_git_setup_json_says_what_it_set(tmp_path, git_env):
    """`git-setup --json` prints the merge driver, the rebase setting and the attributes line it wrote."""
    import subprocess

    done = CliRunner().invoke(main, ["init", str(tmp_path / "f"), "--name", "F", "--currency", "EUR"])
    assert done.exit_code == 0, done.output
    result = CliRunner().invoke(main, ["--ledger", str(tmp_path / "f"), "git-setup", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pull_rebase"] is True and data["attributes"] == "journal/*.toml merge=fundledger"
    config = subprocess.run(["git", "config", "merge.fundledger.driver"], cwd=tmp_path / "f", capture_output=True,
                            text=True, check=True).stdout.strip()  # fmt: skip
    assert data["merge_driver"] == config


class TestConventions:
    """docs/CLI.md's promises, checked over every command, so a new one cannot forget them."""

    # Commands whose output is not a result to parse: a script, help, git's driver, a file format, a wrapper.
    NO_JSON = frozenset({"completion", "help", "merge-driver", "export", "propose"})

    def _commands(self, group=main, prefix=()):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from self._commands(command, (*prefix, name))
            else:
                yield " ".join((*prefix, name)), command

    def test_every_yes_has_a_short_y(self):
        for name, command in self._commands():
            for param in command.params:
                if "--yes" in param.opts:
                    assert "-y" in param.opts, name

    def test_every_command_that_prints_a_result_takes_json(self):
        for name, command in self._commands():
            if name in self.NO_JSON:
                continue
            assert any("--json" in p.opts for p in command.params), f"fundledger {name} has no --json"

    def test_every_recording_command_takes_quiet(self):
        for name, command in self._commands():
            if getattr(command.callback, "records", False):
                assert any("--quiet" in p.opts and "-q" in p.opts for p in command.params), name


class TestWriteOutput:
    """A file written in pieces takes its name only once whole: an error half way leaves the old one."""

    def test_an_error_half_way_leaves_the_earlier_file_whole(self, tmp_path):
        from ledger import cli

        target = tmp_path / "export.json"
        target.write_text("previous complete export\n")

        def pieces():
            yield '{"format": "fundledger-export", "entries": [\n'
            raise ValueError("the journal changed while it was read")

        with pytest.raises(ValueError, match="changed while"):
            cli.write_output(str(target), pieces())
        assert target.read_text() == "previous complete export\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]

    def test_a_read_error_making_a_piece_is_not_called_a_write_error(self, tmp_path):
        from ledger import cli

        target = tmp_path / "export.json"

        def pieces():
            yield "{"
            raise FileNotFoundError(2, "No such file or directory", "journal/2025-0001.toml")

        with pytest.raises(FileNotFoundError):
            cli.write_output(str(target), pieces())
        assert not target.exists() and list(tmp_path.iterdir()) == []

    def test_written_whole_through_a_link_and_to_a_device(self, tmp_path, capsys):
        from ledger import cli

        real = tmp_path / "real.txt"
        real.write_text("old")
        link = tmp_path / "link.txt"
        link.symlink_to(real)
        cli.write_output(str(link), iter(["new ", "text"]))
        assert link.is_symlink() and real.read_text() == "new text"
        cli.write_output(os.devnull, iter(["nothing"]))
        assert Path(os.devnull).exists() and not Path(os.devnull).is_file()
        assert "Wrote" in capsys.readouterr().err


class TestRun:
    """`fundledger` as its own process (`ledger.cli.run`): the command's exit status, and a cheap exit."""

    @pytest.mark.parametrize(
        ("argv", "status"),
        [(["--version"], 0), (["--ledger", "/nonexistent/fund", "balance"], 1), (["report", "nosuch"], 2)],
    )
    def test_run_exits_as_the_command_did_and_freezes_what_is_left(self, monkeypatch, argv, status):
        import gc
        import sys

        from ledger import cli

        frozen = []
        monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
        monkeypatch.setattr(sys, "argv", ["fundledger", *argv])
        with pytest.raises(SystemExit) as ended:
            cli.run()
        assert (ended.value.code or 0) == status
        assert frozen == [True]
