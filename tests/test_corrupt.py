"""A journal block that cannot be read is one `corrupt:` line naming the file and the entry, never a traceback.

Issue 13 item 8: `id = 1000000e999999999999999994` made every load die with
a `decimal.InvalidOperation` traceback. Here is a catalogue of such blocks
(numbers Python cannot hold, wrong types for every field, NUL, bytes that
are not UTF-8, odd table shapes, deep nesting, odd date-times), each put in
the middle of a real journal (a whole entry after it) and at its end; every
command that reads the journal must refuse it in one line and leave the
journal's bytes as they were.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger import journal
from ledger.cli import main

from conftest import Runner, snapshot

ZEROS = "0" * 64
# An entry of the shape fundledger writes, but with a hash of zeros: never a whole entry, even when left as it is.
BASE = f"""[[entry]]
id = 4
date = 2025-02-01
recorded_at = 2025-06-01 12:00:00+00:00
kind = "contribute"
memo = "Treasury transfer"
source = ""
member = "Latvia"
pledge = 2
postings = [
    {{ account = "assets:fund:unallocated", amount = "1000.00", currency = "EUR" }},
    {{ account = "income:contributions:latvia", amount = "-1000.00", currency = "EUR" }},
]
prev = "{ZEROS}"
hash = "{ZEROS}"
"""


def setting(field: str, value: str) -> str:
    """BASE with `field = value` (in place of the field's line, or added before `prev`)."""
    line = re.compile(rf"^{re.escape(field)} = .*$", re.MULTILINE)
    if line.search(BASE):
        return line.sub(lambda _: f"{field} = {value}", BASE, count=1)
    return BASE.replace("prev = ", f"{field} = {value}\nprev = ", 1)


def posting(field: str, value: str) -> str:
    """BASE with the first posting's `field` set to `value` (or added)."""
    first = '{ account = "assets:fund:unallocated", amount = "1000.00", currency = "EUR" }'
    pairs = dict(pair.split(" = ", 1) for pair in first[2:-2].split(", "))
    pairs[field] = value
    return BASE.replace(first, "{ " + ", ".join(f"{k} = {v}" for k, v in pairs.items()) + " }", 1)


def nested(depth: int, opening: str = "[", closing: str = "]", inner: str = "") -> str:
    return opening * depth + inner + closing * depth


HUGE = "9" * 5000  # more digits than Python turns into an int (sys.get_int_max_str_digits)
HUGE_EXPONENT = "1000000e999999999999999994"  # the exponent Decimal cannot hold: issue 13 item 8

# The value of a field in every TOML type (and a few Python cannot hold); each one is wrong somewhere.
VALUES = {
    "bool": "true",
    "int": "7",
    "negative": "-1",
    "int64-overflow": str(2**63),
    "hex-beyond-int64": "0x" + "f" * 4000,
    "huge-int": HUGE,
    "string": '"7"',
    "float": "1.5",
    "exponent": "1e5",
    "huge-exponent": HUGE_EXPONENT,
    "tiny-exponent": "-1.5e-999999999999999999999",
    "inf": "inf",
    "nan": "nan",
    "date": "2025-01-01",
    "datetime-utc": "2025-01-01 12:00:00+00:00",
    "datetime-offset": "2025-01-01T12:00:00+01:00",
    "datetime-local": "2025-01-01T12:00:00",
    "time": "12:00:00",
    "empty-array": "[]",
    "mixed-array": '[1, "a", 1.5]',
    "array-of-tables": "[{ a = 1 }]",
    "inline-table": '{ a = "1" }',
    "empty-table": "{}",
}
FIELDS = [
    "id",
    "date",
    "recorded_at",
    "kind",
    "memo",
    "source",
    "member",
    "pledge",
    "split",
    "postings",
    "prev",
    "hash",
]

CATALOGUE: dict[str, str | bytes] = {
    # The reported example, on its own and in an entry.
    "issue-13-8-alone": f"[[entry]]\nid = {HUGE_EXPONENT}\n",
    "issue-13-8-in-an-entry": setting("id", HUGE_EXPONENT),
    **{f"{field}={name}": setting(field, value) for field in FIELDS for name, value in VALUES.items()},
    **{f"posting-amount={name}": posting("amount", value) for name, value in VALUES.items()},
    **{f"posting-currency={name}": posting("currency", value) for name, value in VALUES.items()},
    **{f"posting-account={name}": posting("account", value) for name, value in VALUES.items()},
    # Amounts that are decimal strings, but not ones an amount can be.
    "amount-40-digits": posting("amount", '"1234567890123456789012345678901234567890.00"'),
    "amount-5000-digits": posting("amount", f'"{HUGE}.00"'),
    "amount-exponent-text": posting("amount", '"1e999999999999999999999"'),
    "amount-three-places": posting("amount", '"1000.000"'),
    "posting-extra-field": posting("extra", "1"),
    "posting-not-a-table": setting("postings", "[1, 2]"),
    "postings-empty-tables": setting("postings", "[{}, {}]"),
    "split-int": setting("split", "{ drones = 1 }"),
    "split-huge-exponent": setting("split", f"{{ drones = {HUGE_EXPONENT} }}"),
    "split-nested": setting("split", '{ drones = { a = "1" } }'),
    "split-table-huge-int": BASE + f"\n[entry.split]\ndrones = {HUGE}\n",
    "postings-table-huge-exponent": BASE.split("postings = [")[0] + f'prev = "{ZEROS}"\nhash = "{ZEROS}"\n'
    f'\n[[entry.postings]]\naccount = "a"\namount = {HUGE_EXPONENT}\ncurrency = "EUR"\n',
    # Kinds: unknown, missing, and of types a kind cannot be looked up as.
    "kind-unknown": setting("kind", '"steal"'),
    "kind-missing": BASE.replace('kind = "contribute"\n', ""),
    "kind-nested-list": setting("kind", nested(300)),
    "field-unknown": setting("colour", '"red"'),
    "id-missing": BASE.replace("id = 4\n", ""),
    "hash-missing": BASE.replace(f'hash = "{ZEROS}"\n', ""),
    # NUL, in every place it can be.
    "nul-in-memo": setting("memo", '"a\x00b"'),
    "nul-escaped-in-memo": setting("memo", '"a\\u0000b"'),
    "nul-in-key": setting("me\x00mo", '"a"'),
    "nul-line": BASE.replace("source", "\x00\nsource", 1),
    "nul-after-header": "[[entry]]\x00\nid = 4\n",
    # Surrogates and code points TOML does not allow.
    "surrogate-escape": setting("memo", '"\\ud800"'),
    "beyond-unicode-escape": setting("memo", '"\\U00110000"'),
    # Bytes that are not UTF-8.
    "invalid-utf8-ff": setting("memo", '"a@b"').encode().replace(b"@", b"\xff"),
    "invalid-utf8-latin1": setting("memo", '"caf@"').encode().replace(b"@", b"\xe9"),
    "invalid-utf8-overlong": setting("memo", '"@"').encode().replace(b"@", b"\xc0\xaf"),
    "invalid-utf8-encoded-surrogate": setting("memo", '"@"').encode().replace(b"@", b"\xed\xa0\x80"),
    "invalid-utf8-truncated": setting("memo", '"@"').encode().replace(b"@", b"\xe2\x82"),
    "invalid-utf8-in-key": setting("m@", '"a"').encode().replace(b"@", b"\xfe"),
    # Table shapes: a bare [entry], the header alone, other tables, a second entry in one block.
    "bare-entry-table": "[entry]\n" + BASE.split("\n", 1)[1],
    "bare-entry-table-after-header": BASE + "\n[entry]\nid = 5\n",
    "header-alone": "[[entry]]\n",
    "header-twice": "[[entry]]\n[[entry]]\n",
    "other-table": BASE + "\n[other]\nx = 1\n",
    "other-array-table": BASE + "\n[[other]]\nx = 1\n",
    "dotted-entry-key": BASE + "entry.id = 5\n",
    "deep-postings-table": BASE.replace("postings = [", "p = [", 1) + "\n[[entry.postings.deep]]\nx = 1\n",
    "entry-split-twice": BASE + '\n[entry.split]\na = "1.00"\n\n[entry.split]\nb = "1.00"\n',
    "bom-before-header": "\ufeff" + BASE,
    "crlf-header": BASE.replace("\n", "\r\n"),
    "lone-cr": BASE.replace("source", "\rsource", 1),
    # Nesting deeper than tomllib can follow, and just shallow enough for it.
    "deep-array-memo": setting("memo", nested(5000)),
    "deep-array-postings": setting("postings", nested(5000)),
    "deep-inline-table": setting("split", nested(3000, "{ a = ", " }", "1")),
    "deep-array-table-mixed": setting("memo", nested(2000, "[{ a = ", " }]", "1")),
    "shallow-array-memo": setting("memo", nested(300)),
    "shallow-array-postings": setting("postings", nested(300)),
    "shallow-inline-split": setting("split", nested(300, "{ a = ", " }", '"1"')),
    # Date-times: offsets, fractions, local times, out of range.
    "recorded-at-offset": setting("recorded_at", "2025-06-01 12:00:00+01:00"),
    "recorded-at-negative-zero": setting("recorded_at", "2025-06-01 12:00:00-00:00"),
    "recorded-at-fraction": setting("recorded_at", "2025-06-01 12:00:00.5+00:00"),
    "recorded-at-max": setting("recorded_at", "9999-12-31 23:59:59-23:59"),
    "recorded-at-min": setting("recorded_at", "0001-01-01 00:00:00+23:59"),
    "recorded-at-hour-24": setting("recorded_at", "2025-06-01 24:00:00+00:00"),
    "date-year-zero": setting("date", "0000-01-01"),
    "date-february-30": setting("date", "2025-02-30"),
    "date-far": setting("date", "9999-12-31"),
    # Numbers and text of odd sizes.
    "id-zero": setting("id", "0"),
    "id-binary": setting("id", "0b" + "1" * 100),
    "id-underscored-huge": setting("id", "1_" + "0" * 5000),
    "year-huge": BASE.replace('kind = "contribute"', 'kind = "pledge"').replace("pledge = 2", f"year = {HUGE}"),
    "memo-long-line": setting("memo", '"' + "x" * 200_000 + '"'),
    "memo-controls": setting("memo", '"\\u001b[31m\\b\\r"'),
}


def _bytes(block: str | bytes) -> bytes:
    return block if isinstance(block, bytes) else block.encode("utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A ledger with a few whole entries, written through the CLI (and its read cache, as a user's has)."""
    path = tmp_path_factory.mktemp("corrupt") / "fund"
    journal.init(path, "Test fund", "EUR", "United Kingdom")
    run = Runner(path)
    for command in (
        "member join Latvia --date 2024-02-01 --role co-lead",
        "pledge Latvia 30M --year 2025 --split drones=20M --date 2025-01-15",
        'contribute Latvia 30M --pledge 2 --date 2025-02-01 --memo "Treasury transfer"',
        "earmark training 2M --date 2025-02-11",
    ):
        run(command)
    run("balance")
    return path


def _one_journal_file(path: Path) -> Path:
    (only,) = (path / "journal").glob("*.toml")
    return only


# balance reads with the fast reader (once through the cache, once without), verify with tomllib only.
COMMANDS = [(["balance"], None), (["balance"], {"FUNDLEDGER_CACHE": "off"}), (["verify"], None)]


def refused_in_one_line(path: Path, name: str, offset: int | None) -> None:
    before = snapshot(path)
    for args, env in COMMANDS:
        result = CliRunner().invoke(main, ["--ledger", str(path), *args], env=env, catch_exceptions=False)
        lines = result.stderr.splitlines()
        assert result.exit_code == 1, (args, result.output)
        assert len(lines) == 1, (args, result.stderr[:2000])
        assert lines[0].startswith(f"corrupt: journal/{name} "), (args, lines[0][:500])
        if offset is not None:
            assert f" byte {offset}" in lines[0], (args, lines[0][:500])
        assert "Traceback" not in result.output
    assert snapshot(path) == before


# End to end (three commands each) on every fourth block of the catalogue and its first ones: the command line
# only turns parse_entry's ValueError into one line, and `test_parse_entry_says_value_error_only` holds every
# block of the catalogue to that.
END_TO_END = sorted({*list(CATALOGUE)[::4], *list(CATALOGUE)[:12]}, key=list(CATALOGUE).index)


@pytest.mark.parametrize("where", ["middle", "last"])
@pytest.mark.parametrize("case", END_TO_END)
def test_hostile_block_is_one_corrupt_line(template, tmp_path, case, where):
    path = tmp_path / "fund"
    shutil.copytree(template, path)
    file = _one_journal_file(path)
    data, block = file.read_bytes(), _bytes(CATALOGUE[case])
    if where == "middle":  # before the last entry, which stays whole after it
        at = data.rindex(b"\n[[entry]]\n") + 1
        file.write_bytes(data[:at] + block + (b"" if block.endswith(b"\n") else b"\n") + b"\n" + data[at:])
    else:  # appended as fundledger appends: after a blank line
        at = len(data) + 1
        file.write_bytes(data + b"\n" + block)
    # A block that starts with its own header is named by its own byte; one that does not joins the entry before.
    refused_in_one_line(path, file.name, at if block.startswith(b"[[entry]]\n") else None)


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_parse_entry_says_value_error_only(case):
    """Fast reader or tomllib, whatever the bytes: ValueError with a message, never another exception."""
    block = _bytes(CATALOGUE[case])
    for fast in (True, False):
        with pytest.raises(ValueError) as raised:
            journal.parse_entry(block, fast=fast)
        message = str(raised.value)
        assert message and "\n" not in message, (case, message[:500])


def test_the_reported_example(template, tmp_path):
    """Issue 13 item 8, as reported: the block in a journal; one line, the file and the entry's byte."""
    path = tmp_path / "fund"
    shutil.copytree(template, path)
    file = _one_journal_file(path)
    data = file.read_bytes()
    file.write_bytes(data + b"\n[[entry]]\nid = 1000000e999999999999999994\n\n" + data[data.index(b"[[entry]]") :])
    result = CliRunner().invoke(main, ["--ledger", str(path), "balance"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr == (
        f"corrupt: journal/{file.name} at byte {len(data) + 1}: "
        "not readable TOML (a number with too many digits or too large an exponent)\n"
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("id=hex-beyond-int64", "field 'id' is an integer out of range (more than 64 bits)"),
        ("pledge=int64-overflow", "field 'pledge' is an integer out of range (more than 64 bits)"),
        ("posting-amount=hex-beyond-int64", "posting amount (int) is not a decimal string"),
        ("posting-account=hex-beyond-int64", "posting account (int) is not text"),
        ("posting-currency=hex-beyond-int64", "posting currency (int) is not text"),
        ("amount-40-digits", "amount '1234567890123456789012345678901234567890.00' is at or beyond the limit: "
                             "amounts stay below 1,000,000,000,000,000"),
        ("deep-array-memo", "not readable TOML (arrays or tables nested too deeply)"),
        ("id=huge-int", "not readable TOML (a number with too many digits or too large an exponent)"),
    ],
)
def test_numbers_python_cannot_print_are_named_not_shown(case, message):
    """An int of thousands of digits (TOML's hex takes one past int()'s limit) is too long to print or hash."""
    for fast in (True, False):
        with pytest.raises(ValueError) as raised:
            journal.parse_entry(_bytes(CATALOGUE[case]), fast=fast)
        assert str(raised.value) == message


# Whole entries of the journal, mangled with the characters that make numbers, nesting and bad bytes.
_MANGLE = [b"e", b"E", b"9" * 40, b"e99999999999999999999", b".", b"[", b"{ a = ", b"\x00", b"\xff", b"\xed\xa0\x80"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.integers(0, 3),
    st.lists(st.tuples(st.integers(0, 10_000), st.booleans(), st.sampled_from(_MANGLE)), min_size=1, max_size=4),
)
@example(2, [(5, False, b"999999e999999999999999999")])  # `id = 999999e9999999999999999993`: the reported shape
def test_mangled_entries_are_read_or_refused_with_value_error(template, number, edits):
    data = _one_journal_file(template).read_bytes()
    starts = [m.start() for m in re.finditer(rb"^\[\[entry\]\]\n", data, re.MULTILINE)] + [len(data)]
    block = data[starts[number] : starts[number + 1]]
    for at, replace, piece in edits:
        at = 10 + at % max(1, len(block) - 10)  # after the header, which keeps it one block
        block = block[:at] + piece + block[at + (len(piece) if replace else 0) :]
    for fast in (True, False):
        try:
            journal.parse_entry(block, fast=fast)
        except ValueError as problem:
            assert str(problem) and "\n" not in str(problem)


def test_audit_names_an_appended_block_with_a_huge_id(tmp_path, git_env):
    """`audit` reads each commit's new blocks with parse_entry, and takes the id of a broken one from its text."""
    path = tmp_path / "fund"
    assert CliRunner().invoke(main, ["init", str(path), "--name", "F", "--currency", "EUR"]).exit_code == 0
    run = Runner(path)
    run("member join Latvia --date 2024-02-01 --role co-lead")
    file = _one_journal_file(path)
    file.write_bytes(file.read_bytes() + b"\n" + setting("id", HUGE).encode())
    subprocess.run(["git", "commit", "-qam", "by hand"], cwd=path, check=True)
    result = run("audit --json", ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "not readable TOML" in result.stdout
