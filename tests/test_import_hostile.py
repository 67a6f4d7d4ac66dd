"""Hostile import mappings and rows, and text that is not Unicode on the command line (issue 21, item 12).

Each is one clear line and a non-zero exit, never a traceback, and nothing is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ledger import importer
from ledger.errors import BadInput

from conftest import snapshot

COLUMNS = '[columns]\ndate = "Date"\nmember = "Member"\namount = "Amount"\nreference = "Ref"\n'
WITH_CURRENCY = COLUMNS + 'currency = "Currency"\n'


@pytest.fixture
def members(run):
    run("member join Latvia --date 2024-02-01")
    run('rate GBP 1.1850 --date 2024-02-01 --source "ECB reference rate"')
    return run


def one_line(result, prefix: str = "error: ") -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), lines[0]
    return lines[0]


HOSTILE_MAPPINGS = [
    ('delimiter = ";;"\n' + COLUMNS, "delimiter must be one character"),
    ('delimiter = ""\n' + COLUMNS, "delimiter must be one character"),
    ("delimiter = 5\n" + COLUMNS, "delimiter must be one character"),
    ('delimiter = "\\""\n' + COLUMNS, "delimiter cannot be"),
    ('delimiter = "\\n"\n' + COLUMNS, "delimiter cannot be"),
    ('encoding = "bogus"\n' + COLUMNS, "unknown encoding 'bogus'"),
    ("encoding = 5\n" + COLUMNS, "encoding must be the name of a text encoding"),
    ('encoding = "rot13"\n' + COLUMNS, "'rot13' is not a text encoding"),
    (COLUMNS + "[members]\nLatvia = 5\n", "[members] maps names in the file to member names: 'Latvia' = 5"),
    ("members = 5\n" + COLUMNS, "[members] must be a table"),
    (COLUMNS + "[formats]\ndate = 5\n", "[formats] date must be a strptime format"),
    (COLUMNS + '[formats]\ndate = "%Y"\n', "[formats] date '%Y' does not read back a whole date"),
    (COLUMNS + '[formats]\ndate = "%Q"\n', "[formats] date '%Q' does not read back a whole date"),
    (COLUMNS + '[formats]\ndate = ""\n', "[formats] date '' does not read back a whole date"),
    (COLUMNS + "[formats]\ndecimal = 5\n", "decimal is '.' or ','"),
    (COLUMNS + '[formats]\nseparator = ","\n', "[formats] has unknown key(s) separator"),
    ("columns = 5\n", "[columns] must be a table"),
    ("formats = 5\n" + COLUMNS, "[formats] must be a table"),
    (COLUMNS + "memo = 5\n", "[columns] memo must be a column name"),
    (COLUMNS.replace('"Ref"', '""'), "[columns] reference must be a column name"),
    ("kind = 5\n" + COLUMNS, "kind must be one of contribute, pledge"),
    ('delimeter = ";"\n' + COLUMNS, "unknown key(s) delimeter"),
]


@pytest.mark.parametrize(("mapping", "message"), HOSTILE_MAPPINGS, ids=[m for _, m in HOSTILE_MAPPINGS])
def test_each_hostile_mapping_is_one_line(members, tmp_path, mapping, message):
    (tmp_path / "m.toml").write_text(mapping)
    (tmp_path / "s.csv").write_text("Date,Member,Amount,Ref\n2025-02-01,Latvia,100,R1\n")
    with pytest.raises(BadInput) as caught:
        importer.load_mapping(tmp_path / "m.toml")
    assert message in str(caught.value)
    before = snapshot(members.path)
    line = one_line(members(f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'}", ok=False))
    assert message in line
    assert snapshot(members.path) == before


def test_good_mapping_values_are_kept(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        'delimiter = "\\t"\nencoding = "latin-1"\n'
        + COLUMNS
        + '[formats]\ndate = "%d.%m.%y"\ndecimal = ","\nthousands = " "\n[members]\n"LATVIJA" = "Latvia"\n'
    )
    mapping = importer.load_mapping(path)
    assert (mapping.delimiter, mapping.encoding, mapping.date_format) == ("\t", "latin-1", "%d.%m.%y")
    assert mapping.members == {"LATVIJA": "Latvia"}


def _plan(run, tmp_path, mapping: str, rows: list[str], header: str = "Date,Member,Amount,Currency,Ref") -> list:
    (tmp_path / "m.toml").write_text(mapping)
    (tmp_path / "s.csv").write_text("\n".join([header, *rows]) + "\n")
    result = run(f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'} --dry-run --json", ok=False)
    rows = json.loads(result.stdout)["rows"]
    # a dry run that would refuse exits 1, as the import would
    assert result.exit_code == (1 if any(r["status"] in ("refused", "unmatched") for r in rows) else 0)
    return rows


class TestCurrencyInTheAmount:
    """A symbol or code in the amount never overrides the row's currency: a disagreement is refused."""

    def test_a_symbol_that_disagrees_with_the_currency_column_is_refused(self, members, tmp_path):
        rows = _plan(
            members, tmp_path, WITH_CURRENCY, ["2025-02-01,Latvia,£100,EUR,R1", '2025-02-01,Latvia,"1,000 GBP",EUR,R2']
        )
        assert [r["status"] for r in rows] == ["refused", "refused"]
        assert rows[0]["reason"] == "amount '£100' is written in GBP, but the row's currency is EUR"
        assert rows[1]["reason"] == "amount '1,000 GBP' is written in GBP, but the row's currency is EUR"

    def test_another_currency_is_booked_at_the_rate_recorded_for_that_day(self, members, tmp_path):
        rows = _plan(members, tmp_path, COLUMNS, ["2025-02-01,Latvia,£100,R1"], header="Date,Member,Amount,Ref")
        assert rows[0]["status"] == "record"
        assert rows[0]["entry"]["original_amount"] == "100.00" and rows[0]["entry"]["rate"] == "1.1850"
        rows = _plan(members, tmp_path, WITH_CURRENCY, ["2025-02-01,Latvia,100,DKK,R1"])
        assert rows[0]["status"] == "refused"
        assert rows[0]["reason"].startswith("no DKK rate on or before 2025-02-01: record one with `fundledger rate DKK")

    def test_a_symbol_that_agrees_is_taken(self, members, tmp_path):
        rows = _plan(
            members, tmp_path, WITH_CURRENCY, ["2025-02-01,Latvia,€100,EUR,R1", "2025-02-01,Latvia,100 EUR,,R2"]
        )
        assert [r["status"] for r in rows] == ["record", "record"]

    def test_an_unknown_code_is_refused(self, members, tmp_path):
        rows = _plan(members, tmp_path, WITH_CURRENCY, ["2025-02-01,Latvia,100 XYZ,EUR,R1"])
        assert rows[0]["status"] == "refused" and "unknown currency 'XYZ'" in rows[0]["reason"]

    def test_the_whole_import_is_refused_and_nothing_written(self, members, tmp_path):
        (tmp_path / "m.toml").write_text(WITH_CURRENCY)
        (tmp_path / "s.csv").write_text("Date,Member,Amount,Currency,Ref\n2025-02-01,Latvia,£100,EUR,R1\n")
        before = snapshot(members.path)
        line = one_line(members(f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'}", ok=False), "refused: ")
        assert "is written in GBP, but the row's currency is EUR" in line
        assert snapshot(members.path) == before


NOT_UTF8 = "x\udced\udca0\udc80"  # what Python makes of the bytes 'x\xed\xa0\x80' in argv


class TestTextThatIsNotUnicode:
    @pytest.mark.parametrize(
        ("command", "option"),
        [
            (["contribute", "Latvia", "100", "--memo", NOT_UTF8], "--memo"),
            (["contribute", "Latvia", "100", "--source", NOT_UTF8], "--source"),
            (["member", "join", NOT_UTF8], "NAME"),
            (["member", "approve", "Latvia", "--decision", NOT_UTF8], "--decision"),
            (["earmark", "drones", "1", "--purpose", NOT_UTF8], "--purpose"),
            (["reverse", "3", "--reason", NOT_UTF8], "--reason"),
        ],
    )
    def test_refused_in_one_line(self, members, command, option):
        members("contribute Latvia 100 --date 2025-01-01")
        before = snapshot(members.path)
        line = one_line(members(command, ok=False))
        assert option in line and "not valid UTF-8" in line
        assert snapshot(members.path) == before

    def test_from_a_real_command_line(self, members):
        before = snapshot(members.path)
        env = {**os.environ, "PYTHONUTF8": "1", "NO_COLOR": "1"}
        args = [sys.executable, "-m", "ledger", "--ledger", str(members.path), "contribute", "Latvia", "100"]
        done = subprocess.run([*args, "--memo", b"x\xed\xa0\x80"], capture_output=True, env=env)
        assert done.returncode == 1
        err = done.stderr.decode("utf-8", "replace").strip()
        assert len(err.splitlines()) == 1 and err.startswith("error: '--memo'") and "Traceback" not in err, err
        assert snapshot(members.path) == before
        # valid UTF-8 in any script is welcome
        done = subprocess.run([*args, "--memo", "Внесок, 日本, Ελλάδα".encode()], capture_output=True, env=env)
        assert done.returncode == 0, done.stderr

    def test_init_refuses_a_name_that_is_not_unicode_and_creates_nothing(self, tmp_path):
        from click.testing import CliRunner

        from ledger.cli import main

        result = CliRunner().invoke(main, ["init", str(tmp_path / "fund"), "--name", NOT_UTF8, "--currency", "EUR"])
        assert one_line(result).startswith("error: '--name' is not valid UTF-8 text")
        assert not (tmp_path / "fund").exists()
