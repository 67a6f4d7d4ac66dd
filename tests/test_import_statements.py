"""Bank statements end to end (issue 18): every shipped example, matching, reconciliation, undo by batch.

One ledger in git is built for the module (members, a pledge, a package, a
DKK rate, €1M of cash at the end of February 2025); each test imports into a
copy of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger import importer, journal
from ledger.cli import main

from conftest import Runner, snapshot

EXAMPLES = Path(__file__).resolve().parent.parent / "ledgers" / "examples"
CAMT = EXAMPLES / "camt053-statement.xml"
MT940 = EXAMPLES / "mt940-statement.sta"
BANK_MAP = EXAMPLES / "bank.map.toml"
KINDS = ["contribute", "contribute", "pay", "pay", "charge", "interest"]
SETUP = [
    'member join "United Kingdom" --date 2024-02-01',
    "member join Latvia --date 2024-02-01",
    "member join Denmark --date 2024-02-01",
    "pledge Latvia 3M --year 2025 --date 2025-01-15",  # entry 4
    'contribute "United Kingdom" 1M --date 2025-01-20',
    "package recon-drones-2025-03 800k --envelope unallocated --date 2025-01-25",
    "rate DKK 0.1340 --date 2025-02-01",
]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The example fund before its March 2025 statement, in git, built once; tests take copies."""
    home = tmp_path_factory.mktemp("home")
    (home / "gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for role in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{role}_NAME", "Finance Officer")
            patch.setenv(f"GIT_{role}_EMAIL", "officer@fund.example")
        path = home / "fund"
        done = CliRunner().invoke(main, ["init", str(path), "--name", "Example fund", "--currency", "EUR"])
        assert done.exit_code == 0, done.output
        run = Runner(path)
        for command in SETUP:
            run(command)
        yield path


@pytest.fixture
def fund(base, tmp_path, monkeypatch) -> Runner:
    path = tmp_path / "fund"
    shutil.copytree(base, path, symlinks=True)
    monkeypatch.chdir(tmp_path)  # the unmatched rows' CSV lands here by default
    return Runner(path)


def books(run: Runner):
    return journal.load(journal.open_ledger(run.path))


def plan_json(run: Runner, command: str, exit_code: int = 0) -> dict:
    result = run(command + " --dry-run --json", ok=False)
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def one_line(result, prefix: str = "refused: ") -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


class TestShippedExamples:
    """Each example statement under ledgers/examples/ imports end to end."""

    @pytest.mark.parametrize("statement", [CAMT, MT940], ids=["camt053", "mt940"])
    def test_the_march_statement_books_every_row_as_what_it_is(self, fund, statement):
        plan = plan_json(fund, f"import {statement} --map {BANK_MAP}")
        assert [r["status"] for r in plan["rows"]] == ["record"] * 6
        assert [r["entry"]["kind"] for r in plan["rows"]] == KINDS
        assert [r["what"] for r in plan["rows"]] == [
            "contribute Latvia, pledge #4",
            "contribute United Kingdom",
            "pay recon-drones-2025-03",
            "pay recon-drones-2025-03",
            "charge",
            "interest",
        ]
        assert plan["reconciliation"]["opening"] == {
            "day": "2025-02-28", "bank": "1000000.00", "books": "1000000.00", "difference": "0.00"
        }  # fmt: skip
        result = fund(f"import {statement} --map {BANK_MAP}")
        assert result.stdout.splitlines()[0] == (
            "Recorded 6 entries (#8-#13) and the statement's balances (#14), batch 8; skipped 0 already recorded."
        )
        assert "closing balance after 2025-03-31: bank €2,548,209.06, books €2,548,209.06: reconciled" in result.stdout
        after = books(fund)
        assert after.pledges[4].total_outstanding == 1_500_000
        assert after.packages["recon-drones-2025-03"].paid == 203_000
        assert str(after.balance("expenses:bank-charges")) == "25.50"
        assert str(after.balance("income:interest")) == "-1234.56"
        freight = after.entries[10]
        assert (freight.kind, freight.get("supplier"), freight.source) == ("pay", "Acme Logistics", "OUT-2025-0312")
        assert str(importer.cash_on(after, dt.date(2025, 3, 31))) == "2548209.06"

    def test_the_same_statement_twice_in_two_formats_records_nothing_the_second_time(self, fund):
        fund(f"import {CAMT} --map {BANK_MAP}")
        before = snapshot(fund.path)
        again = fund(f"import {MT940} --map {BANK_MAP}")
        assert again.stdout.splitlines()[0] == "Recorded 0 entries; skipped 6 already recorded."
        again = fund(f"import {CAMT} --map {BANK_MAP}")
        assert again.stdout.splitlines()[0] == "Recorded 0 entries; skipped 6 already recorded."
        assert snapshot(fund.path) == before

    def test_the_format_is_recognised_from_the_content_not_the_name(self, fund, tmp_path):
        disguised = tmp_path / "statement.csv"
        disguised.write_bytes(CAMT.read_bytes())
        assert plan_json(fund, f"import {disguised} --map {BANK_MAP}")["format"] == "camt.053"
        disguised = tmp_path / "statement.xml"
        disguised.write_bytes(MT940.read_bytes())
        assert plan_json(fund, f"import {disguised} --map {BANK_MAP}")["format"] == "mt940"
        enveloped = tmp_path / "swift.fin"  # in its SWIFT envelope: {1:...}{2:...}{4: ... -}
        body = MT940.read_text().rstrip().removesuffix("-")
        enveloped.write_text(
            f"{{1:F01BANKLV2XAXXX0000000000}}{{2:O9401200250401BANKLV2XAXXX0000000000}}{{4:\n{body}-}}\n"
        )
        plan = plan_json(fund, f"import {enveloped} --map {BANK_MAP}")
        assert plan["format"] == "mt940" and [r["entry"]["kind"] for r in plan["rows"]] == KINDS

    def test_swedbank_style_csv(self, fund):
        mapping = EXAMPLES / "swedbank-style.map.toml"
        plan = plan_json(fund, f"import {EXAMPLES / 'swedbank-style.csv'} --map {mapping}")
        statuses = [(r["row"], r["status"]) for r in plan["rows"]]
        assert statuses == [(2, "skip"), (3, "record"), (4, "record"), (5, "record"), (6, "record"), (7, "record"),
                            (8, "skip"), (9, "skip")]  # fmt: skip
        assert plan["rows"][0]["reason"] == "left out: Record type is '10'"
        latvia, _, denmark, pay, charge = (r["entry"] for r in plan["rows"][1:6])
        assert latvia["postings"][0]["amount"] == "1500000.00" and latvia["pledge"] == 4
        assert (denmark["original_amount"], denmark["original_currency"], denmark["rate"]) == (
            "200000.00",
            "DKK",
            "0.1340",
        )
        assert denmark["postings"][0]["amount"] == "26800.00"
        assert (pay["kind"], pay["package"], charge["kind"]) == ("pay", "recon-drones-2025-03", "charge")
        result = fund(f"import {EXAMPLES / 'swedbank-style.csv'} --map {mapping}")
        assert result.stdout.splitlines()[0] == (
            "Recorded 5 entries (#8-#12), batch 8; skipped 0 already recorded, left out 3."
        )

    def test_windows_1252_with_debit_and_credit_columns_and_a_description_to_pull_apart(self, fund):
        mapping = EXAMPLES / "sparkasse-cp1252.map.toml"
        plan = plan_json(fund, f"import {EXAMPLES / 'sparkasse-cp1252.csv'} --map {mapping}")
        entries = [r["entry"] for r in plan["rows"]]
        assert [(e["kind"], e["source"]) for e in entries] == [
            ("contribute", "LV-2025-0042"),
            ("pay", "OUT-2025-0311"),
            ("charge", "CHG-2025-03"),
        ]
        assert entries[0]["member"] == "Latvia" and entries[1]["supplier"] == "NORDIC INTERCEPTOR SYSTEMS AB"
        assert "Drohnenkoalition" in entries[0]["memo"] and "Überweisung" in entries[1]["memo"]

    @pytest.mark.parametrize(
        ("message", "statement", "fmt"),
        [("BkToCstmrAcctRpt", "Rpt", "camt.052"), ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "camt.054")],
    )
    def test_camt_052_and_054_share_the_statement_structure(self, fund, tmp_path, message, statement, fmt):
        text = CAMT.read_text().replace("BkToCstmrStmt", message).replace("<Stmt>", f"<{statement}>")
        text = text.replace("</Stmt>", f"</{statement}>").replace("camt.053.001.02", fmt + ".001.02")
        if fmt == "camt.054":  # a notification states no balances
            start, end = text.index("      <Bal>"), text.rindex("</Bal>") + len("</Bal>\n")
            text = text[:start] + text[end:]
        (tmp_path / "n.xml").write_text(text)
        plan = plan_json(fund, f"import {tmp_path / 'n.xml'} --map {BANK_MAP}")
        assert plan["format"] == fmt
        assert [r["entry"]["kind"] for r in plan["rows"]] == KINDS
        assert (plan["reconciliation"] is None) == (fmt == "camt.054")


class TestMatching:
    """Money in meets the member's open pledge; money out the package its text names; the rest is listed."""

    def test_no_match_books_receipts_unpledged(self, fund):
        plan = plan_json(fund, f"import {CAMT} --map {BANK_MAP} --no-match")
        assert plan["rows"][0]["what"] == "contribute Latvia" and "pledge" not in plan["rows"][0]["entry"]

    def test_a_receipt_beyond_what_the_pledge_has_outstanding_is_not_matched_to_it(self, fund, tmp_path):
        (tmp_path / "s.xml").write_text(CAMT.read_text().replace("1500000.00", "3500000.00"))
        mapping = tmp_path / "m.toml"
        mapping.write_text(BANK_MAP.read_text().replace("reconcile = true", "reconcile = false"))
        plan = plan_json(fund, f"import {tmp_path / 's.xml'} --map {mapping}")
        assert plan["rows"][0]["what"] == "contribute Latvia"

    def test_unmatched_rows_block_the_import_and_say_why(self, fund):
        mapping = fund.path.parent / "m.toml"
        mapping.write_text(BANK_MAP.read_text().split("[[rules]]")[0])  # no rule for the freight
        before = snapshot(fund.path)
        result = fund(f"import {CAMT} --map {mapping} --dry-run --json", ok=False)
        assert result.exit_code == 1  # a dry run that would refuse says so, as the import would
        row = json.loads(result.stdout)["rows"][3]
        assert row["status"] == "unmatched" and row["reason"].startswith(
            "money out whose reference names no open package"
        )
        line = one_line(fund(f"import {CAMT} --map {mapping}", ok=False))
        assert line.startswith(
            "refused: 1 row(s) refused, first row 4: money out whose reference names no open package"
        )
        assert line.endswith("; nothing was recorded")
        assert snapshot(fund.path) == before

    def test_record_matched_records_the_rest_and_writes_the_unmatched_rows(self, fund, tmp_path):
        mapping = tmp_path / "m.toml"
        mapping.write_text(BANK_MAP.read_text().split("[[rules]]")[0])
        result = fund(f"import {CAMT} --map {mapping} --record-matched --unmatched {tmp_path / 'left.csv'}")
        lines = result.stdout.splitlines()
        assert lines[0] == (
            "Recorded 5 entries (#8-#12) and the statement's balances (#13), batch 8; skipped 0 already recorded."
        )
        assert f"1 row(s) not recorded, written to {tmp_path / 'left.csv'}." in lines
        assert any(line.startswith("the statement closes at €2,548,209.06 on 2025-03-31") for line in lines)
        with open(tmp_path / "left.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [(r["row"], r["direction"], r["amount"], r["payer"], r["reference"]) for r in rows] == [
            ("4", "debit", "3000.00", "ACME LOGISTICS SIA", "OUT-2025-0312")
        ]
        # fixed, the unmatched rows are imported from that CSV; the whole statement then has nothing left to record
        result = fund(f"import {tmp_path / 'left.csv'} --map {EXAMPLES / 'unmatched.map.toml'}")
        assert result.stdout.splitlines()[0] == "Recorded 1 entries (#14-#14), batch 14; skipped 0 already recorded."
        again = fund(f"import {CAMT} --map {BANK_MAP}")
        assert again.stdout.splitlines()[0] == "Recorded 0 entries; skipped 6 already recorded."
        assert "closing balance after 2025-03-31: bank €2,548,209.06, books €2,548,209.06: reconciled" in again.stdout

    def test_a_payment_that_paid_its_package_in_full_is_still_skipped_the_second_time(self, fund, tmp_path):
        fund("package small-pack 1000 --envelope unallocated --date 2025-02-01")
        (tmp_path / "m.toml").write_text(
            '[columns]\ndate = "Date"\nmember = "Payee"\namount = "Amount"\nreference = "Ref"\nmemo = "Text"\n'
        )
        (tmp_path / "s.csv").write_text(
            "Date,Payee,Amount,Ref,Text\n2025-03-01,Maker,-1000.00,P-1,small-pack in full\n"
        )
        command = f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'}"
        assert fund(command).stdout.strip() == "Recorded 1 entries (#9-#9), batch 9; skipped 0 already recorded."
        assert books(fund).packages["small-pack"].status == "paid"
        assert fund(command).stdout.strip() == "Recorded 0 entries; skipped 1 already recorded."

    def test_money_out_naming_a_contract_pays_that_contract_in_its_currency(self, fund, tmp_path):
        """A debit whose text holds a contract's reference pays that contract (and so its package and supplier),
        in euros or in the contract's own currency: 100k SEK at 0.0950 against a contract signed at 0.0900."""
        for command in ['supplier add "Nordic AB" --country SE --date 2025-01-26',
                        "contract recon-drones-2025-03 'Nordic AB' 200k --ref NAB-7 --date 2025-01-27",
                        "rate SEK 0.0900 --date 2025-01-27",
                        "contract recon-drones-2025-03 'Nordic AB' '300k SEK' --ref NAB-8 --date 2025-01-28",
                        "rate SEK 0.0950 --date 2025-03-01"]:  # fmt: skip
            fund(command)
        (tmp_path / "m.toml").write_text(
            '[columns]\ndate = "Date"\nmember = "Payee"\namount = "Amount"\ncurrency = "Cur"\nreference = "Ref"\n'
            'memo = "Text"\n'
        )
        (tmp_path / "s.csv").write_text(
            "Date,Payee,Amount,Cur,Ref,Text\n"
            "2025-03-02,NORDIC AB,-50000.00,EUR,B-1,Milestone 1 nab-7\n"
            "2025-03-03,NORDIC AB,-100000.00,SEK,B-2,Invoice 12 NAB-8\n"
        )
        command = f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'}"
        rows = plan_json(fund, command)["rows"]
        assert [r["what"] for r in rows] == [
            "pay recon-drones-2025-03, contract NAB-7", "pay recon-drones-2025-03, contract NAB-8",
        ]  # fmt: skip
        fund(command)
        held = books(fund)
        assert held.contract("NAB-7").paid == D("50000.00") and held.contract("NAB-8").original_paid == D("100000.00")
        # a third of NAB-8's €27,000.00 relieved (€9,000.00) for €9,500.00 paid: the €500.00 loss is the package's
        assert held.packages["recon-drones-2025-03"].paid == D("59500.00")

    def test_a_payment_rule_never_takes_money_in(self, fund, tmp_path):
        mapping = tmp_path / "m.toml"
        mapping.write_text(
            BANK_MAP.read_text().replace('direction = "debit"\n', "").replace("reconcile = true", "reconcile = false")
        )
        (tmp_path / "s.xml").write_text(CAMT.read_text().replace("Central fund top-up", "FREIGHT-12 refund"))
        rows = plan_json(fund, f"import {tmp_path / 's.xml'} --map {mapping}")["rows"]
        assert rows[1]["what"] == "contribute United Kingdom" and rows[3]["what"] == "pay recon-drones-2025-03"


class TestReconciliation:
    """camt and MT940 balances agree with the books' cash, or the statement is refused with the difference."""

    def test_a_statement_that_does_not_reconcile_is_refused_with_the_difference(self, fund):
        before = snapshot(fund.path)
        statement = EXAMPLES / "camt053-does-not-reconcile.xml"
        line = one_line(fund(f"import {statement} --map {BANK_MAP} --dry-run", ok=False))
        assert line == (
            "refused: the statement opens at €1,100,000.00 after 2025-02-28; the books' cash then is "
            "€1,000,000.00, a difference of €100,000.00: record what is missing before importing (or set "
            "reconcile = false for a fund with several accounts); nothing would be recorded (dry run)"
        )
        one_line(fund(f"import {statement} --map {BANK_MAP} --record-matched", ok=False))
        assert snapshot(fund.path) == before

    def test_a_closing_balance_the_rows_do_not_reach_is_refused(self, fund, tmp_path):
        (tmp_path / "s.sta").write_text(
            MT940.read_text().replace(":62F:C250331EUR2548209,06", ":62F:C250331EUR2548209,16")
        )
        line = one_line(fund(f"import {tmp_path / 's.sta'} --map {BANK_MAP}", ok=False))
        assert "the statement closes at €2,548,209.16 on 2025-03-31; with its rows the books' cash would be " in line
        assert "a difference of €0.10; nothing was recorded" in line

    def test_reconcile_false_for_a_fund_with_several_accounts(self, fund, tmp_path):
        mapping = tmp_path / "m.toml"
        mapping.write_text(BANK_MAP.read_text().replace("reconcile = true", "reconcile = false"))
        plan = plan_json(fund, f"import {EXAMPLES / 'camt053-does-not-reconcile.xml'} --map {mapping}")
        assert plan["reconciliation"] is None and plan["problems"] == []

    def test_a_statement_for_another_account_is_refused(self, fund, tmp_path):
        mapping = tmp_path / "m.toml"
        mapping.write_text(BANK_MAP.read_text().replace("LV80BANK0000435195001", "DE89 3704 0044 0532 0130 00"))
        line = one_line(fund(f"import {CAMT} --map {mapping}", ok=False))
        assert line.startswith(
            "refused: the statement is for account LV80BANK0000435195001; the mapping names DE89370400440532013000"
        )

    def test_a_statement_read_from_standard_input(self, fund):
        """`import -` reads the statement from a pipe, its format recognised from the content as from a file."""
        piped = fund.cli.invoke(main, ["--ledger", str(fund.path), "import", "-", "--map", str(BANK_MAP)], input=CAMT.read_bytes())
        assert piped.exit_code == 0, piped.output
        assert piped.stdout.startswith("Recorded 6 entries")
        again = fund.cli.invoke(main, ["--ledger", str(fund.path), "import", "-", "--map", str(BANK_MAP)], input=CAMT.read_bytes())
        assert again.stdout.startswith("Recorded 0 entries; skipped 6 already recorded.")

    def test_the_ledger_names_its_bank_accounts(self, fund):
        """ledger.toml's bank_accounts hold every statement to the fund's own accounts, whatever the mapping."""
        settings = fund.path / "ledger.toml"
        original = settings.read_text()
        settings.write_text(original.replace("[settings]", 'bank_accounts = ["DE89 3704 0044 0532 0130 00"]\n\n[settings]'))
        before = snapshot(fund.path)
        line = one_line(fund(f"import {CAMT}", ok=False))
        assert line.startswith(
            "refused: the statement is for account LV80BANK0000435195001, not one of the fund's (DE89370400440532013000)"
        )
        assert snapshot(fund.path) == before
        settings.write_text(original.replace("[settings]", 'bank_accounts = ["LV81BANK0000435195001"]\n\n[settings]'))
        assert one_line(fund(f"import {CAMT}", ok=False), "error: ").startswith(
            "error: ledger.toml's bank account 'LV81BANK0000435195001' is not a valid IBAN"
        )
        settings.write_text(original.replace("[settings]", 'bank_accounts = ["LV80BANK0000435195001"]\n\n[settings]'))
        assert "Recorded 6 entries" in fund(f"import {CAMT} --map {BANK_MAP}").stdout

    def test_an_iban_with_wrong_check_digits_is_refused(self, fund, tmp_path):
        mapping = tmp_path / "m.toml"
        mapping.write_text(BANK_MAP.read_text().replace("LV80BANK", "LV81BANK"))
        line = one_line(fund(f"import {CAMT} --map {mapping}", ok=False), "error: ")
        assert "account 'LV81BANK0000435195001' is not a valid IBAN" in line


class TestUndoByBatch:
    """Every import is a batch; `reverse --batch` undoes it in one commit; its rows may then be imported again."""

    def test_reverse_a_batch_then_import_the_statement_again(self, fund):
        fund(f"import {CAMT} --map {BANK_MAP}")
        dry = fund('reverse --batch 8 --reason "Imported with the wrong mapping" --dry-run')
        # The six rows and the statement's balances (#14): withdrawn with them, so `report reconcile` drops it.
        assert dry.stdout.strip() == "Would record 7 entries (#15-#21): reverse batch 8."
        done = fund('reverse --batch 8 --reason "Imported with the wrong mapping" --date 2025-04-02')
        assert done.stdout.strip() == "Recorded 7 entries (#15-#21): reverse batch 8."
        after = books(fund)
        assert [e.get("reverses") for e in after.entries[-7:]] == list(range(8, 15))
        assert after.statements[14].reversed_by == 21
        assert after.pledges[4].total_outstanding == 3_000_000
        import subprocess

        log = subprocess.run(["git", "log", "--format=%s", "-2"], cwd=fund.path, capture_output=True, text=True)
        assert log.stdout.splitlines()[0] == "fundledger: reverse 7 entries batch 8 (#15-#21)"
        again = fund(f"import {CAMT} --map {BANK_MAP}")
        assert again.stdout.splitlines()[0] == (
            "Recorded 6 entries (#22-#27) and the statement's balances (#28), batch 22; skipped 0 already recorded."
        )
        assert "closing balance after 2025-03-31: bank €2,548,209.06, books €2,548,209.06: reconciled" in again.stdout

    def test_a_batch_is_reversed_once_and_only_an_import_is_a_batch(self, fund):
        fund(f"import {CAMT} --map {BANK_MAP}")
        fund('reverse --batch 8 --reason "wrong"')
        before = snapshot(fund.path)
        line = one_line(fund('reverse --batch 8 --reason "again"', ok=False))
        assert line == "refused: every entry of batch 8 (#8-#14) is already reversed"
        line = one_line(fund('reverse --batch 5 --reason "not an import"', ok=False))
        assert line.startswith("refused: no import batch 5")
        assert snapshot(fund.path) == before
        usage = fund('reverse 8 --batch 8 --reason "both"', ok=False)
        assert usage.exit_code == 2

    def test_outside_git_there_are_no_batches(self, run):
        line = one_line(run('reverse --batch 1 --reason "x"', ok=False), "error: ")
        assert line == "error: batches are found in the ledger's git history, and this ledger is not kept in git"


class TestReconcileCommand:
    """`fundledger reconcile FILE...`: each statement's balances beside the books', read only."""

    def test_before_and_after_the_import(self, fund):
        statements = f"{CAMT} {EXAMPLES / 'camt053-does-not-reconcile.xml'}"
        result = fund(f"reconcile {CAMT} --map {BANK_MAP} --json", ok=False)
        assert result.exit_code == 1  # the closing balance is not in the books yet
        (check,) = json.loads(result.stdout)
        assert (check["recorded"], check["missing"], check["reconciled"]) == (0, 6, False)
        assert check["closing"] == {"day": "2025-03-31", "bank": "2548209.06", "books": "1000000.00",
                                    "difference": "1548209.06"}  # fmt: skip
        fund(f"import {CAMT} --map {BANK_MAP}")
        snap = snapshot(fund.path)
        result = fund(f"reconcile {statements} --map {BANK_MAP} --json", ok=False)
        assert result.exit_code == 1 and result.stderr.strip() == "1 of 2 statement(s) do not agree with the books"
        good, bad = json.loads(result.stdout)
        assert (good["reconciled"], good["recorded"], good["missing"], good["id"]) == (True, 6, 0, "STMT-2025-03")
        assert (bad["reconciled"], bad["opening"]["difference"]) == (False, "100000.00")
        assert fund(f"reconcile {MT940} --map {BANK_MAP}").exit_code == 0
        table = fund(f"reconcile {CAMT} --map {BANK_MAP}").stdout
        assert "€2,548,209.06   €2,548,209.06   reconciled" in table and "6 of 6 rows" in table
        assert snapshot(fund.path) == snap


class TestWithoutAMapping:
    def test_mt940_names_members_in_its_free_text(self, fund):
        plan = plan_json(fund, f"import {MT940}", exit_code=1)
        what = {r["row"]: (r["status"], r["what"] or r["reason"]) for r in plan["rows"]}
        assert what[1] == ("record", "contribute Latvia, pledge #4")  # "REPUBLIC OF LATVIA TREASURY …"
        assert what[2][0] == "unmatched" and what[2][1].startswith("money in from no one the row names")
        assert what[3] == ("record", "pay recon-drones-2025-03")
        assert what[4][0] == "unmatched"
        assert what[5] == ("record", "charge") and what[6] == ("record", "interest")


class TestCamtStructure:
    """What camt entries hold beyond one booked transaction each."""

    def test_pending_entries_are_left_out_and_a_batch_entry_splits_into_its_transactions(self, fund, tmp_path):
        text = CAMT.read_text().replace("<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>", 1)
        batch = """<NtryDtls>
          <TxDtls><Refs><AcctSvcrRef>B-1</AcctSvcrRef></Refs><AmtDtls><TxAmt><Amt Ccy="EUR">100000.00</Amt></TxAmt></AmtDtls>
            <RltdPties><Dbtr><Nm>HM TREASURY</Nm></Dbtr></RltdPties></TxDtls>
          <TxDtls><Refs><AcctSvcrRef>B-2</AcctSvcrRef></Refs><Amt Ccy="EUR">150000.00</Amt>
            <RltdPties><Dbtr><Pty><Nm>REPUBLIC OF LATVIA TREASURY</Nm></Pty></Dbtr></RltdPties></TxDtls>
        </NtryDtls>"""
        start = text.index("<NtryDtls>", text.index("GB-2025-0107"))
        end = text.index("</NtryDtls>", start) + len("</NtryDtls>")
        (tmp_path / "s.xml").write_text(text[:start] + batch + text[end:])
        mapping = tmp_path / "m.toml"
        mapping.write_text(BANK_MAP.read_text().replace("reconcile = true", "reconcile = false"))
        rows = plan_json(fund, f"import {tmp_path / 's.xml'} --map {mapping}")["rows"]
        assert rows[0]["status"] == "skip" and rows[0]["reason"] == "status PDNG: only booked entries are imported"
        assert [(r["what"], r["entry"]["source"]) for r in rows[1:3]] == [
            ("contribute United Kingdom", "B-1"),
            ("contribute Latvia, pledge #4", "B-2"),
        ]

    def test_an_entry_with_no_reference_is_known_by_the_statement_and_its_place(self, fund, tmp_path):
        text = (
            CAMT.read_text().replace("<AcctSvcrRef>CHG-2025-03</AcctSvcrRef>", "").replace("<NtryRef>5</NtryRef>", "")
        )
        (tmp_path / "s.xml").write_text(text)
        rows = plan_json(fund, f"import {tmp_path / 's.xml'} --map {BANK_MAP}")["rows"]
        assert rows[4]["entry"]["source"] == "STMT-2025-03/5"

    def test_statements_of_two_accounts_in_one_file_are_refused(self, fund, tmp_path):
        text = CAMT.read_text()
        stmt = text[text.index("<Stmt>") : text.index("</Stmt>") + len("</Stmt>")]
        other = stmt.replace("LV80BANK0000435195001", "DE89370400440532013000")
        (tmp_path / "s.xml").write_text(text.replace(stmt, stmt + other))
        line = one_line(fund(f"import {tmp_path / 's.xml'}", ok=False), "error: ")
        assert line.endswith("holds statements of 2 accounts; import one account's at a time")

    def test_invalid_utf8_in_xml_is_one_line(self, fund, tmp_path):
        (tmp_path / "s.xml").write_bytes(CAMT.read_bytes().replace(b"Central fund", b"Central \xff fund"))
        assert "is not well-formed XML" in one_line(fund(f"import {tmp_path / 's.xml'}", ok=False), "error: ")


class TestForeignPledges:
    def test_a_receipt_in_a_pledge_s_own_currency_settles_it(self, fund, tmp_path):
        fund("rate GBP 1.1850 --date 2025-01-01")
        fund('pledge "United Kingdom" £100k --year 2025 --date 2025-01-02')  # entry 9
        (tmp_path / "m.toml").write_text(
            '[columns]\ndate = "Date"\nmember = "Payer"\namount = "Amount"\ncurrency = "Currency"\nreference = "Ref"\n'
        )
        (tmp_path / "s.csv").write_text(
            "Date,Payer,Amount,Currency,Ref\n2025-03-01,United Kingdom,40000.00,GBP,GB-1\n"
            "2025-03-02,United Kingdom,70000.00,GBP,GB-2\n"
        )
        rows = plan_json(fund, f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'}")["rows"]
        assert [r["what"] for r in rows] == ["contribute United Kingdom, pledge #9", "contribute United Kingdom"]
        assert rows[0]["entry"]["original_amount"] == "40000.00" and rows[0]["entry"]["original_currency"] == "GBP"


def test_an_unmatched_file_that_cannot_be_written_refuses_before_recording(fund, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(BANK_MAP.read_text().split("[[rules]]")[0])
    before = snapshot(fund.path)
    target = tmp_path / "no-such-folder" / "left.csv"
    line = one_line(fund(f"import {CAMT} --map {mapping} --record-matched --unmatched {target}", ok=False), "error: ")
    assert line.startswith(f"error: cannot write the unmatched rows to {target}: No such file or directory")
    assert line.endswith("; nothing was recorded")
    assert snapshot(fund.path) == before


def test_mt940_with_german_structured_details(fund, tmp_path):
    """?32-?33 is the payer, EREF+ the reference when field 61 has none, SVWZ+ the text; :25: may be BLZ/account."""
    (tmp_path / "s.sta").write_text(
        ":20:STARTUMSE\n:25:37040044/0532013000\n:28C:00001/001\n:60F:C250228EUR1000000,00\n"
        ":61:2503030303CR500,00N051NONREF\n"
        ":86:166?00GUTSCHRIFT?109075?20EREF+LV-2025-0042?21SVWZ+Drone coalition Q1?30BANKLV2X"
        "?31LV80BANK0000435195001?32REPUBLIC OF LATVIA TREAS?33URY\n:62F:C250331EUR1000500,00\n-\n"
    )
    plan = plan_json(fund, f"import {tmp_path / 's.sta'}")
    assert plan["statement"] == {"id": "STARTUMSE", "account": "0532013000"}
    (row,) = plan["rows"]
    assert row["what"] == "contribute Latvia, pledge #4"  # the member's own name, as words of the payer's
    assert (row["entry"]["source"], row["entry"]["memo"]) == ("LV-2025-0042", "Drone coalition Q1")
    assert plan["reconciliation"]["closing"]["difference"] == "0.00"


class TestReportReconcile:
    """`report reconcile`: every statement an import recorded, its balances beside the books' cash, as the books
    stand (or stood, --as-of); a reversed import's statement is withdrawn and may be imported again."""

    def test_each_imported_statement_beside_the_books(self, fund):
        assert json.loads(fund("report reconcile --json").stdout)["rows"] == []
        fund(f"import {CAMT} --map {BANK_MAP}")
        report = json.loads(fund("report reconcile --json").stdout)
        assert [(r["statement"], r["entry"], r["balance"], r["date"], r["bank"], r["books"], r["state"])
                for r in report["rows"]] == [
            ("STMT-2025-03", 14, "opening", "2025-02-28", "1000000.00", "1000000.00", "reconciled"),
            ("STMT-2025-03", 14, "closing", "2025-03-31", "2548209.06", "2548209.06", "reconciled"),
        ]  # fmt: skip
        assert report["totals"] == {"statements": 1, "differing": 0}
        # money booked later but dated inside the statement: the bank never saw it, and the report says so
        fund("contribute Latvia 1000 --date 2025-03-15")
        rows = json.loads(fund("report reconcile --json").stdout)["rows"]
        assert [(r["balance"], r["books"], r["difference"], r["state"]) for r in rows] == [
            ("opening", "1000000.00", "0.00", "reconciled"),
            ("closing", "2549209.06", "-1000.00", "differs"),
        ]
        assert "differs" in fund("report reconcile").stdout
        # as of a day before the import's statement was recorded there is none to show
        early = json.loads(fund("report reconcile --as-of 2025-03-30 --json").stdout)
        assert early["rows"] == []

    def test_a_reversed_import_withdraws_its_statement_and_it_may_come_again(self, fund):
        fund(f"import {CAMT} --map {BANK_MAP}")
        fund('reverse --batch 8 --reason "wrong mapping" --date 2025-04-02')
        rows = json.loads(fund("report reconcile --json").stdout)["rows"]
        assert {r["state"] for r in rows} == {"withdrawn by #21"}
        fund(f"import {CAMT} --map {BANK_MAP}")
        report = json.loads(fund("report reconcile --json").stdout)
        assert [r["state"] for r in report["rows"]] == ["withdrawn by #21"] * 2 + ["reconciled"] * 2
        assert report["totals"] == {"statements": 1, "differing": 0}

    def test_importing_it_again_records_it_once(self, fund):
        dry = json.loads(fund(f"import {CAMT} --map {BANK_MAP} --dry-run --json").stdout)
        assert (dry["kept"]["id"], dry["kept"]["kind"], dry["kept"]["closing"]) == (14, "statement", "2548209.06")
        assert "statement STMT-2025-03's balances kept as #14 (`report reconcile`)" in fund(
            f"import {CAMT} --map {BANK_MAP} --dry-run"
        ).stdout
        fund(f"import {CAMT} --map {BANK_MAP}")
        again = fund(f"import {CAMT} --map {BANK_MAP}")
        assert again.stdout.splitlines()[0] == "Recorded 0 entries; skipped 6 already recorded."
        assert "statement STMT-2025-03 was recorded already (#14)" in again.stdout
        assert json.loads(fund(f"import {CAMT} --map {BANK_MAP} --dry-run --json").stdout)["kept"] is None
        assert sum(e.kind == "statement" for e in books(fund).entries) == 1

    def test_a_period_is_refused_not_ignored(self, fund):
        result = fund("report reconcile --period 2025", ok=False)
        assert result.exit_code == 2 and "--period" in result.stderr
