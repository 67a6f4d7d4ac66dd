"""Export: hledger, ledger-cli, beancount and Fava read our files as their users would, and agree to the cent.

The tools run for real. Each exported ledger is checked with
`hledger check -s ordereddates payees`, `ledger --pedantic --strict` (no
warning), `bean-check` and Fava's loader, and its balances per account (and
per day, for hledger) are compared with fundledger's.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from ledger import export, fund, journal, kinds, writer
from ledger.books import Books
from ledger.errors import LedgerError
from ledger.model import Entry
from ledger.text import inert, spreadsheet_safe

from conftest import COALITION, SAMPLE, Runner
from test_properties import PRELUDE, _build, operations

# --- the tools -------------------------------------------------------------


def _need(tool: str, install: str) -> None:
    """Skip where the tool is missing, saying what to install; in CI the tool must be there."""
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI: .ci/run must install it ({install})")
        pytest.skip(f"{tool} is not installed: {install}")


def _need_fava() -> None:
    try:
        import fava.core  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("fava is missing in CI: it is in the test extras (pip install -e '.[test]')")
        pytest.skip("fava is not installed: pip install -e '.[test]'")


def _ours(books: Books) -> dict[str, Decimal]:
    return {account: amount for account, amount in books.balances.items() if amount != 0}


@contextlib.contextmanager
def _file(text: str, suffix: str):
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding="utf-8") as handle:
        handle.write(text)
    try:
        yield handle.name
    finally:
        os.unlink(handle.name)


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), f"{' '.join(args[:4])}: {done.stderr or done.stdout}"
    return done.stdout


def _number(text: str) -> Decimal:
    number, _, currency = text.strip().replace(",", "").partition(" ")
    assert currency in ("EUR", ""), text
    return Decimal(number)


def hledger_balances(text: str) -> dict[str, Decimal]:
    """Balances at cost after `hledger check -s ordereddates payees` passes."""
    with _file(text, ".journal") as path:
        _run("hledger", "-f", path, "check", "-s", "ordereddates", "payees")
        out = _run("hledger", "-f", path, "bal", "-B", "--flat", "--no-total", "-O", "csv")
    rows = list(csv.reader(io.StringIO(out)))[1:]
    return {row[0]: _number(row[1]) for row in rows if _number(row[1]) != 0}


def ledger_balances(text: str) -> dict[str, Decimal]:
    """Balances at cost, summed from ledger-cli's register under `--pedantic --strict`, which must warn of nothing."""
    with _file(text, ".ledger") as path:
        out = _run(
            "ledger", "-f", path, "--pedantic", "--strict", "-B", "reg",
            "--format", "%(account)\t%(quantity(scrub(display_amount)))\n",
        )  # fmt: skip
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for line in out.splitlines():
        account, _, number = line.partition("\t")
        balances[account] += Decimal(number)
    return {account: amount for account, amount in balances.items() if amount != 0}


def beancount_balances(text: str) -> dict[str, Decimal]:
    from beancount import loader
    from beancount.core import realization

    entries, errors, _ = loader.load_string(text)
    assert not errors, [str(e.message) for e in errors]
    opened = {e.account: e.meta["fundledger_account"] for e in entries if type(e).__name__ == "Open"}
    balances = {}
    for real in realization.iter_children(realization.realize(entries)):
        if real.account in opened:
            amount = real.balance.get_currency_units("EUR").number
            if amount != 0:
                balances[opened[real.account]] = amount
    return balances


def bean_check(text: str) -> None:
    _need("bean-check", "pip install -e '.[test]'")
    with _file(text, ".beancount") as path:
        _run("bean-check", path)


def fava_ledger(text: str):
    """Fava's own loader on the file, which must report no error."""
    import decimal

    from fava.core import FavaLedger

    # Fava runs in a process of its own, with Python's default decimal context, not the trapping one
    # ledger.money installs in this (test) process.
    with _file(text, ".beancount") as path, decimal.localcontext(decimal.Context()):
        ledger = FavaLedger(path)
        errors = ledger.errors  # beancount's, and those of Fava's options, budgets, extensions and ingest
    assert not errors, [str(e.message) for e in errors]
    return ledger


def hledger_daily(text: str) -> dict[tuple[str, dt.date], Decimal]:
    """(account, day) -> the balance at the end of that day, at cost, for each day something moved."""
    with _file(text, ".journal") as path:
        out = _run("hledger", "-f", path, "bal", "-B", "-D", "-H", "--flat", "-O", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    days = [dt.date.fromisoformat(day) for day in rows[0][1:]]
    return {
        (row[0], day): _number(value)
        for row in rows[1:]
        if row[0] != "total"
        for day, value in zip(days, row[1:], strict=True)
    }


def ledger_daily(text: str) -> dict[tuple[str, dt.date], Decimal]:
    """(account, day) -> ledger-cli's balance at cost at the end of each day something moved (zeros left out)."""
    with _file(text, ".ledger") as path:
        out = _run(
            "ledger", "-f", path, "--pedantic", "--strict", "-B", "reg", "--date-format", "%Y-%m-%d",
            "--format", "%(date)\t%(account)\t%(quantity(scrub(display_amount)))\n",
        )  # fmt: skip
    moves: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in out.splitlines():
        day, account, number = line.split("\t")
        moves[dt.date.fromisoformat(day)][account] += Decimal(number)
    running: dict[str, Decimal] = defaultdict(Decimal)
    found = {}
    for day in sorted(moves):
        for account, amount in moves[day].items():
            running[account] += amount
        found.update({(account, day): amount for account, amount in running.items() if amount})
    return found


def beancount_daily(text: str, days: list[dt.date]) -> dict[tuple[str, dt.date], Decimal]:
    """(fundledger account, day) -> beancount's balance at the end of each of `days` (zeros left out)."""
    from beancount import loader
    from beancount.core import realization

    entries, errors, _ = loader.load_string(text)
    assert not errors
    opened = {e.account: e.meta["fundledger_account"] for e in entries if type(e).__name__ == "Open"}
    found = {}
    for day in days:
        real = realization.realize([e for e in entries if e.date <= day])
        for account in realization.iter_children(real):
            amount = account.balance.get_currency_units("EUR").number
            if account.account in opened and amount:
                found[opened[account.account], day] = amount
    return found


def daily(books: Books, days: list[dt.date]) -> dict[tuple[str, dt.date], Decimal]:
    """The same from our entries on each of `days`, summed by hand here (not by the code under test)."""
    moves: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for entry in books.entries:
        for posting in entry.postings:
            moves[entry.date][posting.account] += posting.amount
    running: dict[str, Decimal] = defaultdict(Decimal)
    out = {}
    for day in sorted({*days, *moves}):
        for account, amount in moves.get(day, {}).items():
            running[account] += amount
        if day in days:
            out.update({(account, day): amount for account, amount in running.items()})
    return out


# --- the ledgers -----------------------------------------------------------

HOSTILE = 'Invoice 17: first tranche, paid; [2020-01-01] :x: tag:y\n2025-01-01 * "forged"\n  Assets:X  1 EUR @ "'

# A ledger with an entry of every kind, money given in pounds, and hostile text wherever the user types it.
EVERY_KIND = [
    "member join Latvia --date 2025-01-01 --role co-lead",  # 1
    'member join "United Kingdom" --date 2025-01-01',  # 2
    'rate GBP 1.1850 --date 2025-01-01 --source "ECB: reference rate"',  # 3
    'pledge "United Kingdom" £10,000 --year 2025 --date 2025-01-10 --due 2025-06-30 --split drones=£4,000',  # 4
    'contribute "United Kingdom" £9,975 --pledge 4 --date 2025-02-01',  # 5
    "contribute Latvia 100k --date 2025-02-01",  # 6
    'earmark training 60k --date 2025-02-02 --purpose "Operator training: phase 1, [B]"',  # 7
    "package radios 50k --envelope training=30k --envelope unallocated --date 2025-03-01",  # 8
    'interest 123.45 --date 2025-03-31 --memo "Q1 interest"',  # 9
    "charge 25 --envelope training --date 2025-03-31",  # 10
    "fee 1,500 --date 2025-06-30",  # 11
    'write-off 4 --reason "£25 lost: bank charge" --date 2025-07-01',  # 12
    'amend radios +10k --envelope training --reason "Two more launchers" --date 2025-07-02',  # 13
    ["pay", "radios", "45k", "--supplier", "ACME: Ltd; (Riga) | 2", "--invoice", "R-1, part", "--date", "2025-08-01",
     "--memo", HOSTILE, "--source", "=HYPERLINK(\"http://x\")"],  # 14
    'amend radios --close --reason "Came in under budget" --date 2025-09-01',  # 15
    "member apply Belgium --date 2025-04-11",  # 16
    'member approve Belgium --by Latvia --date 2025-04-20',  # 17
    'member approve Belgium --by "United Kingdom" --date 2025-04-21',  # 18
    'contribute Belgium "1,000,000" --date 2025-05-01 --memo "-5 +6 @x"',  # 19
    'member join "Côte d’Ivoire" --date 2025-05-02',  # 20
    "member leave Belgium --date 2025-10-01",  # 21
    'reverse 9 --reason "Interest: booked twice, [sic]" --date 2025-10-02',  # 22
    "close 2025 --date 2026-01-05",  # 23
    'reopen 23 --reason "Auditor adjustment: AJE-3" --date 2026-01-06',  # 24
    'contribute Latvia 1k --date 2025-12-31 --memo "Adjustment for 2025"',  # 25
    "close 2025Q1 --date 2026-01-07",  # 26: stands, so beancount asserts its balances
    'pledge Latvia 5k --year 2026 --date 2026-01-08 --instalment 2026-03-31=2k --instalment 2026-06-30=3k',  # 27
    ["supplier", "add", "ACME: Ltd; (Riga) | 2", "--country", "LV", "--date", "2026-01-09"],  # 28
    "package cams 20k --envelope unallocated --date 2026-01-10",  # 29
    ["contract", "cams", "ACME: Ltd; (Riga) | 2", "15k", "--ref", "C-1", "--item", "camera", "--quantity", "10",
     "--date", "2026-01-11"],  # 30
    "pay cams 5k --contract C-1 --date 2026-01-12",  # 31
    'amend cams +1k --contract C-1 --reason "Spare: lenses" --date 2026-01-13',  # 32
    'deliver cams --item camera --quantity 4 --contract C-1 --recipient "Unit: A [1]" --date 2026-01-14',  # 33
    "rate SEK 0.0900 --date 2026-01-14",  # 34
    ["contract", "cams", "ACME: Ltd; (Riga) | 2", "30k SEK", "--ref", "K-2", "--date", "2026-01-14"],  # 35: €2,700
    "pay cams '10k SEK' --contract K-2 --date 2026-01-14",  # 36: at 0.0900, no difference
    "rate SEK 0.0950 --date 2026-01-15",  # 37
    "pay cams '20k SEK' --contract K-2 --date 2026-01-15",  # 38: €1,900 for €1,800 of contract: a €100 loss
    "officer add Alice --key {keys}/alice.pub --role approver --date 2026-01-15",  # 39
    "officer add Bob --key {keys}/bob.pub --role approver --date 2026-01-15",  # 40
    "propose policy fee --approvals 1 --date 2026-01-16",  # 41
    "approve 41 --date 2026-01-16",  # 42, and 43 books the policy
    "propose pay cams 1k --contract C-1 --date 2026-01-17",  # 44
    'reject 44 --reason "Not yet: wait for delivery" --date 2026-01-17',  # 45
]  # fmt: skip


def _every_kind(path: Path) -> Books:
    run = Runner(path)
    journal.init(path, "Every kind: fund, [1]; x:y", "EUR", "United Kingdom")
    keys = path.parent / "keys"
    keys.mkdir()
    for name in ("alice", "bob"):  # the rules check a key's form; signatures are the audit's (test_four_eyes)
        (keys / f"{name}.pub").write_text(f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{name * 8} {name}\n")
    for command in EVERY_KIND:
        run(command.format(keys=keys) if isinstance(command, str) else command)
    ledger = journal.open_ledger(path)
    writer.record(
        ledger, lambda b: fund.repair(b, "journal/2026-0001.toml", 10, b"torn", fund.Note(dt.date(2026, 1, 9)))
    )
    day = dt.date(2026, 1, 10)  # a bank statement's balances, as an import keeps them (its text forged on purpose)
    writer.record(ledger, lambda b: fund.statement(b, 'S-1"; x', "LV80 BANK 0000 4351 9500 1", "camt.053", "EUR", 2,
                                                   fund.Note(day), closing=(day, Decimal("-12.30"))))  # fmt: skip
    return journal.hold(journal.load(ledger))


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory) -> Books:
    return _every_kind(tmp_path_factory.mktemp("every") / "fund")


@pytest.fixture(scope="module")
def sample() -> Books:
    return journal.hold(journal.load(journal.open_ledger(SAMPLE)))


@pytest.fixture(scope="module")
def worked_example(tmp_path_factory) -> Books:
    """The fictional procurement example of the README and issue 2."""
    path = tmp_path_factory.mktemp("worked") / "fund"
    journal.init(path, "Test fund", "EUR", "United Kingdom")
    run = Runner(path)
    for command in COALITION:
        run(command)
    return journal.hold(journal.load(journal.open_ledger(path)))


@pytest.fixture(scope="module", params=["sample", "worked_example", "every_kind"])
def books(request) -> Books:
    return request.getfixturevalue(request.param)


def test_the_every_kind_ledger_holds_every_kind(every_kind):
    """When a kind is added, record one here: every test below then checks each format carries it."""
    assert {entry.kind for entry in every_kind.entries} == set(kinds.NAMES)


# --- random ledgers, with the new kinds and money in pounds ------------------

days = st.integers(min_value=0, max_value=400).map(lambda n: dt.date(2024, 2, 1) + dt.timedelta(days=n))
more_operations = st.one_of(
    operations,
    st.tuples(st.just("gbp-pledge"), st.sampled_from(["1k", "2,500.50", "10k"]), days),
    st.tuples(st.just("gbp-contribute"), st.sampled_from(["1k", "333.33", "2,500.50"]), st.booleans(), days),
    st.tuples(st.just("write-off"), st.integers(1, 30), st.booleans(), days),
    st.tuples(st.just("interest"), st.sampled_from(["0.01", "12.34", "1k"]), days),
    st.tuples(st.just("charge"), st.sampled_from(["0.01", "25", "1k"]), days),
    st.tuples(st.just("fee"), st.sampled_from(["1", "150", "5k"]), days),
    st.tuples(
        st.just("amend"), st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(["+1k", "-0.01", "-1k", ""]), days
    ),
)
RANDOM_PRELUDE = [*PRELUDE, ("rate", dt.date(2024, 2, 1))]


def _build_more(op):
    kind, day = op[0], op[-1]
    note = fund.Note(day, memo=f"random {kind}: a, b")
    if kind == "rate":
        return lambda b: fund.rate(b, "GBP", "1.1850", note)
    if kind == "gbp-pledge":
        return lambda b: fund.pledge(b, "United Kingdom", f"£{op[1]}", 2025, [], note)
    if kind == "gbp-contribute":

        def against(b):  # the latest pound pledge, if asked and there is one
            pounds = [p.id for p in b.pledges.values() if p.currency == "GBP"] if op[2] else []
            return fund.contribute(b, "United Kingdom", f"£{op[1]}", note, pledge_id=pounds[-1] if pounds else None)

        return against
    if kind == "write-off":
        return lambda b: fund.write_off(b, op[1], "random", note, withdrawn=op[2])
    if kind in ("interest", "charge", "fee"):
        return lambda b: getattr(fund, kind)(b, op[1], note)
    if kind == "amend":
        return lambda b: fund.amend(
            b,
            op[1],
            note,
            "random",
            change=op[2],
            sources=["unallocated"] if op[2].startswith("+") else [],
            close=not op[2],
        )
    return _build(op)


def _random_books(ops) -> Books:
    with tempfile.TemporaryDirectory() as folder:
        ledger = journal.init(Path(folder) / "fund", "Random fund", "EUR", "United Kingdom")
        for op in RANDOM_PRELUDE + ops:
            with contextlib.suppress(LedgerError):
                writer.record(ledger, _build_more(op))
        return journal.hold(journal.load(ledger))  # the folder goes when this block ends


random_ledgers = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.generate],
)


# --- hledger and ledger-cli --------------------------------------------------


class TestHledgerAndLedger:
    """One journal serves hledger and ledger-cli: strict checks pass and balances agree to the cent."""

    def test_checks_pass_and_balances_agree(self, books):
        _need("hledger", "apt-get install hledger")
        _need("ledger", "apt-get install ledger")
        text = export.as_hledger(books)
        assert hledger_balances(text) == _ours(books)
        assert ledger_balances(text) == _ours(books)

    def test_balances_agree_on_every_day(self, books):
        _need("hledger", "apt-get install hledger")
        _need("ledger", "apt-get install ledger")
        text = export.as_hledger(books)
        theirs = hledger_daily(text)
        mine = daily(books, sorted({day for _, day in theirs}))
        assert len(theirs) > 100
        assert {key: value for key, value in theirs.items() if value} == {k: v for k, v in mine.items() if v}
        ledgers = ledger_daily(text)
        assert ledgers == {k: v for k, v in daily(books, sorted({day for _, day in ledgers})).items() if v}

    def test_every_entry_is_a_transaction_tagged_with_its_id_in_date_order(self, books):
        _need("hledger", "apt-get install hledger")
        with _file(export.as_hledger(books), ".journal") as path:
            printed = json.loads(_run("hledger", "-f", path, "print", "-O", "json"))
            tags = set(_run("hledger", "-f", path, "tags").split())
        ids = [int(dict(t["ttags"])["id"]) for t in printed]
        assert sorted(ids) == [e.id for e in books.entries]
        assert ids == [e.id for e in sorted(books.entries, key=lambda e: (e.date, e.id))]
        # Only the tags fundledger writes: no memo, source or reason made one.
        assert tags <= {"id", "kind", "hash", "Payee", *export._TAGGED}

    def test_payees_are_members_suppliers_or_the_fund(self, every_kind):
        _need("hledger", "apt-get install hledger")
        with _file(export.as_hledger(every_kind), ".journal") as path:
            payees = set(_run("hledger", "-f", path, "payees").splitlines())
            ledger_payees = set(_run("ledger", "-f", path, "payees").splitlines()) if shutil.which("ledger") else payees
        assert ledger_payees <= payees  # ledger-cli leaves out transactions without postings (membership events)
        assert payees == {
            "Latvia", "United Kingdom", "Belgium", "Côte d’Ivoire", "ACME꞉ Ltd； (Riga) ｜ 2",
            "Every kind꞉ fund, ［1］； x꞉y",
        }  # fmt: skip

    def test_rates_are_prices_and_money_given_is_a_cost(self, every_kind):
        _need("hledger", "apt-get install hledger")
        with _file(export.as_hledger(every_kind), ".journal") as path:
            prices = _run("hledger", "-f", path, "prices")
            given = _run("hledger", "-f", path, "bal", "united-kingdom", "-N")
            in_pounds = _run("hledger", "-f", path, "bal", "-X", "GBP", "income:contributions:latvia", "-N")
        assert "P 2025-01-01 GBP 1.1850 EUR" in prices
        # The pledge was £10,000 (income, in pounds as given); the receivable got £9,975 and £25 written off: none left.
        # In pounds as given: the £10,000 pledged, its £25 written off; the receivable, £9,975 + £25 later, is empty.
        assert given.split() == [
            "25.00", "GBP", "expenses:write-offs:united-kingdom", "-10,000.00", "GBP", "income:contributions:united-kingdom",
            "-0.01", "EUR", "income:exchange-differences:united-kingdom",
        ]  # fmt: skip
        # Latvia's €100,000 + €1,000 + €5,000 pledged, at the latest rate, 1.1850: 106,000 / 1.1850 = £89,451.476...
        assert in_pounds.split()[:2] == ["-89,451.48", "GBP"]

    def test_a_currency_without_decimals_is_read_as_whole_units(self, run):
        _need("hledger", "apt-get install hledger")
        _need("ledger", "apt-get install ledger")
        run("member join Japan --date 2025-01-01")
        run("contribute Japan ¥1,234,567 --rate 0.0061 --date 2025-04-02")
        text = export.as_hledger(journal.load(journal.open_ledger(run.path)))
        with _file(text, ".journal") as path:
            shown = _run("hledger", "-f", path, "bal", "japan", "-N").split()
            ledger_shown = _run("ledger", "-f", path, "--pedantic", "--strict", "bal", "japan").split()
        # Not -1234567,000 JPY (hledger reading `1,000 JPY` as a decimal comma).
        assert shown[:2] == ledger_shown[:2] == ["-1234567", "JPY"]
        # 1,234,567 × 0.0061 = 7,530.8587 -> €7,530.86
        assert ledger_balances(text) == hledger_balances(text) == {
            "assets:fund:unallocated": Decimal("7530.86"), "income:contributions:japan": Decimal("-7530.86"),
        }  # fmt: skip

    def test_ledger_cli_reads_dates_and_order_as_hledger(self, every_kind):
        _need("ledger", "apt-get install ledger")
        with _file(export.as_hledger(every_kind), ".ledger") as path:
            out = _run("ledger", "-f", path, "--pedantic", "--strict", "reg", "--format", "%(date)\n")
        days = out.split()
        assert days == sorted(days)

    @pytest.mark.slow
    @random_ledgers
    @given(st.lists(more_operations, min_size=5, max_size=30))
    def test_random_ledgers(self, ops):
        _need("hledger", "apt-get install hledger")
        _need("ledger", "apt-get install ledger")
        books = _random_books(ops)
        text = export.as_hledger(books)
        assert hledger_balances(text) == _ours(books) == ledger_balances(text)


# --- beancount and Fava ------------------------------------------------------


class TestBeancountAndFava:
    """bean-check and Fava accept the file; events, prices, payees and typed metadata are there."""

    def test_bean_check_fava_and_balances(self, books):
        _need_fava()
        text = export.as_beancount(books)
        bean_check(text)
        fava = fava_ledger(text)
        assert beancount_balances(text) == _ours(books)
        assert fava.options["render_commas"] and fava.options["operating_currency"] == [books.currency]
        assert fava.fava_options.invert_income_liabilities_equity

    def test_favas_events_and_commodities_pages_have_the_fund(self, every_kind):
        _need_fava()
        fava = fava_ledger(export.as_beancount(every_kind))
        assert fava.prices.commodity_pairs(["EUR"]) == [("GBP", "EUR"), ("SEK", "EUR")]
        assert fava.prices.get_price(("GBP", "EUR")) == Decimal("1.1850")
        described = [e.description for e in fava.all_entries_by_type.Event]
        assert "Belgium approved by Latvia" in described and "Côte d’Ivoire joined (member)" in described

    def test_balances_agree_on_every_day(self, books):
        days = sorted({entry.date for entry in books.entries})
        mine = {key: value for key, value in daily(books, days).items() if value}
        assert beancount_daily(export.as_beancount(books), days) == mine

    def test_every_entry_is_there_once(self, books):
        from beancount import loader

        entries, errors, _ = loader.load_string(export.as_beancount(books))
        assert not errors
        ids = sorted(e.meta["fundledger_id"] for e in entries if "fundledger_id" in e.meta)
        assert ids == [e.id for e in books.entries]

    def test_events_prices_payees_and_metadata(self, every_kind):
        from beancount import loader

        entries, errors, _ = loader.load_string(export.as_beancount(every_kind))
        assert not errors
        by_id = {e.meta["fundledger_id"]: e for e in entries if "fundledger_id" in e.meta}
        events = [(e.type, e.description) for e in entries if type(e).__name__ == "Event"]
        assert ("membership", "Belgium applied to join") in events and ("membership", "Belgium left") in events
        assert ("period", "2025 closed (2025-01-01 to 2025-12-31)") in events
        prices = [(p.date.isoformat(), p.currency, p.amount.number) for p in entries if type(p).__name__ == "Price"]
        assert ("2025-01-01", "GBP", Decimal("1.1850")) in prices
        assert by_id[5].payee == "United Kingdom" and by_id[14].payee == "ACME: Ltd; (Riga) | 2"
        assert by_id[11].payee == "United Kingdom"  # the fee goes to the manager
        assert (by_id[5].meta["given"].number, by_id[5].meta["given"].currency) == (Decimal("9975.00"), "GBP")
        assert by_id[4].meta["year"] == 2025 and by_id[4].meta["due"] == dt.date(2025, 6, 30)
        assert by_id[7].meta["purpose"] == "Operator training: phase 1, [B]"
        assert by_id[14].meta["memo"] == HOSTILE.replace("\n", "\\n")

    def test_a_standing_close_is_asserted_and_a_reopened_one_is_not(self, every_kind):
        from beancount import loader

        entries, errors, _ = loader.load_string(export.as_beancount(every_kind))
        assert not errors  # the assertions hold: bean-check would say otherwise
        asserted = {e.meta.get("fundledger_close") for e in entries if type(e).__name__ == "Balance"}
        assert asserted == {26}

    def test_member_accounts_keep_the_members_names(self, every_kind):
        text = export.as_beancount(every_kind)
        assert "Income:Contributions:United-Kingdom " in text and "Income:Contributions:Côte-d-Ivoire" not in text
        assert export.beancount_account("income:contributions:cote-d-ivoire", {"cote-d-ivoire": "Côte-d-Ivoire"}) == (
            "Income:Contributions:Côte-d-Ivoire"
        )
        assert export.member_component("Côte d’Ivoire") == "Côte-d-Ivoire"
        assert export.member_component("Україна") == "Україна"
        assert export.member_component("united kingdom") == "United-kingdom"

    def test_account_names(self):
        assert export.beancount_account("assets:fund:earmarked:industrial-cooperation") == (
            "Assets:Fund:Earmarked:Industrial-cooperation"
        )
        assert export.beancount_account("expenses:packages:2025-recon") == "Expenses:Packages:2025-recon"

    def test_members_in_any_script_pass_bean_check(self, run):
        for name in ["Україна", "日本", "Côte d’Ivoire", "Ελλάδα", "São Tomé and Príncipe"]:
            run(["member", "join", name, "--date", "2025-01-01"])
            run(["contribute", name, "1k", "--date", "2025-01-02"])
        books = journal.load(journal.open_ledger(run.path))
        text = export.as_beancount(books)
        bean_check(text)
        assert beancount_balances(text) == _ours(books)

    @pytest.mark.slow
    @random_ledgers
    @given(st.lists(more_operations, min_size=5, max_size=30))
    def test_random_ledgers(self, ops):
        books = _random_books(ops)
        assert beancount_balances(export.as_beancount(books)) == _ours(books)


# --- CSV ------------------------------------------------------------------------


class TestCsv:
    """One row per posting, every entry, by date; nothing a spreadsheet could run."""

    def _rows(self, books):
        return list(csv.DictReader(io.StringIO(export.as_csv(books), newline="")))

    def test_columns_rows_and_order(self, books):
        rows = self._rows(books)
        assert tuple(rows[0]) == export.CSV_COLUMNS
        assert len(rows) == sum(len(e.postings) or 1 for e in books.entries)
        assert {int(r["id"]) for r in rows} == {e.id for e in books.entries}
        assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
        assert sum(Decimal(r["amount"]) for r in rows if r["amount"]) == 0

    def test_balances_agree(self, books):
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for row in self._rows(books):
            if row["account"]:
                sums[row["account"]] += Decimal(row["amount"])
        assert {a: v for a, v in sums.items() if v} == _ours(books)

    def test_member_earmark_package_supplier_and_money_given(self, every_kind):
        rows = self._rows(every_kind)
        paid = [r for r in rows if r["id"] == "14"]
        assert {(r["package"], r["supplier"]) for r in paid} == {("radios", "ACME: Ltd; (Riga) | 2")}
        given = {r["account"]: (r["amount_given"], r["currency_given"], r["rate"]) for r in rows if r["id"] == "5"}
        assert given["assets:receivable:united-kingdom:drones"] == ("-3990.00", "GBP", "1.1850")
        assert given["assets:fund:earmarked:drones"] == ("", "GBP", "1.1850")
        assert {r["earmark"] for r in rows if r["id"] == "10"} == {"training"}
        assert {r["member"] for r in rows if r["id"] == "12"} == {"United Kingdom"}
        assert [r["kind"] for r in rows if r["id"] == "1"] == ["join"]

    def test_formulas_are_neutralised_and_amounts_are_not(self, every_kind):
        rows = self._rows(every_kind)
        assert {r["source"] for r in rows if r["id"] == "14"} == {'\'=HYPERLINK("http://x")'}
        assert {r["memo"] for r in rows if r["id"] == "19"} == {"'-5 +6 @x"}
        assert any(r["amount"].startswith("-") for r in rows)  # a negative amount stays a number
        for text in ["=1+1", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx"]:
            assert spreadsheet_safe(text) == "'" + text
        assert spreadsheet_safe("Invoice 17") == "Invoice 17"


# --- JSON -----------------------------------------------------------------------


def recheck_chain(document: dict) -> str:
    """The hash chain re-checked from the export alone, as docs/FORMAT.md says (no fundledger code)."""
    import hashlib

    prev = "0" * 64
    for entry in document["entries"]:
        body = {key: value for key, value in entry.items() if key != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert entry["prev"] == prev, f"entry #{entry['id']} does not follow the one before"
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == entry["hash"], f"entry #{entry['id']} was changed"
        prev = entry["hash"]
    return prev


class TestJson:
    """A documented object whose chain anyone can re-check."""

    def test_the_chain_rechecks_from_the_export_alone(self, books):
        document = json.loads(export.as_json(books))
        assert (document["format"], document["version"], document["complete"]) == ("fundledger-export", 1, True)
        assert document["ledger"] == {"name": books.name, "currency": books.currency, "manager": books.manager}
        assert recheck_chain(document) == document["seal"] == books.seal
        assert document["count"] == len(document["entries"]) == books.count

    def test_a_changed_entry_is_caught(self, every_kind):
        document = json.loads(export.as_json(every_kind))
        document["entries"][13]["postings"][0]["amount"] = "45000.01"
        with pytest.raises(AssertionError, match="#14 was changed"):
            recheck_chain(document)

    def test_entries_are_as_the_journal_holds_them(self, coalition):
        books = journal.load(journal.open_ledger(coalition.path))
        data = json.loads(export.as_json(books))["entries"]
        assert [e["id"] for e in data] == list(range(1, 11))
        printed = coalition.json("contribute Latvia 1k --date 2025-05-01 --dry-run")
        assert set(data[4]) <= set(printed) | {"pledge"}

    def test_as_of_says_when_the_chain_is_not_whole(self, coalition):
        out = coalition("export --format json --as-of 2025-02-10").stdout
        document = json.loads(out)
        assert [e["id"] for e in document["entries"]] == [1, 2, 4, 5, 6]
        assert document["complete"] is False


def test_an_empty_ledger_exports_in_every_format(empty):
    _need("hledger", "apt-get install hledger")
    _need("ledger", "apt-get install ledger")
    books = journal.load(journal.open_ledger(empty))
    assert hledger_balances(export.as_hledger(books)) == {} == ledger_balances(export.as_hledger(books))
    bean_check(export.as_beancount(books))
    assert export.as_csv(books) == ",".join(export.CSV_COLUMNS) + "\r\n"
    assert json.loads(export.as_json(books))["entries"] == []


# --- hostile text, generated -------------------------------------------------------

texts = st.text(min_size=1, max_size=40)


def _books_with_text(name: str, text: str) -> Books:
    """A fund whose name is `name` and where every field a user types holds `text`, built in memory."""
    books = Books("EUR", name, "United Kingdom")
    note = fund.Note(dt.date(2025, 1, 2), memo=text, source=text)
    for build in [
        lambda b: fund.join(b, "Latvia", "member", fund.Note(dt.date(2025, 1, 1))),
        lambda b: fund.contribute(b, "Latvia", "1000", note),
        lambda b: fund.earmark(b, "drones", "500", note, purpose=text),
        lambda b: fund.package(b, "p", "400", ["drones"], note),
        lambda b: fund.pay(b, "p", "100", note, supplier=text, invoice=text),
        lambda b: fund.reverse(b, 5, f"mistake {text}", note),
        lambda b: fund.interest(b, "1", note),
    ]:
        writer.seal(books, [build(books)])
    return books


class TestHostileText:
    """Whatever a user types, each tool sees exactly the entries and tags fundledger wrote, and the text as text."""

    @pytest.mark.slow
    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @example("Fund: [1], x:y", 'Invoice 17: paid; [2020-01-01] :x:\r\n2025-01-01 * "forged"\n  a  1 EUR')
    @example("0", "\r")
    @example("=cmd", "-5")
    @given(texts, texts)
    def test_no_text_adds_anything(self, name, text):
        _need("hledger", "apt-get install hledger")
        _need("ledger", "apt-get install ledger")
        books = _books_with_text(name, text)
        journal_text = export.as_hledger(books)
        assert hledger_balances(journal_text) == _ours(books) == ledger_balances(journal_text)
        with _file(journal_text, ".journal") as path:
            printed = json.loads(_run("hledger", "-f", path, "print", "-O", "json"))
            tags = set(_run("hledger", "-f", path, "tags").split())
        assert [int(dict(t["ttags"])["id"]) for t in printed] == [e.id for e in books.entries]
        assert tags <= {"id", "kind", "hash", "Payee", *export._TAGGED}

        from beancount import loader

        entries, errors, _ = loader.load_string(export.as_beancount(books))
        assert not errors, [str(e.message) for e in errors]
        ours = [e for e in entries if type(e).__name__ in ("Transaction", "Event")]
        assert [e.meta["fundledger_id"] for e in ours] == [e.id for e in books.entries]
        assert {e.meta["memo"] for e in ours if "memo" in e.meta} == {inert(text)}
        assert ours[4].payee == inert(text)

        rows = list(csv.DictReader(io.StringIO(export.as_csv(books), newline="")))
        assert len(rows) == sum(len(e.postings) or 1 for e in books.entries)
        assert {r["memo"] for r in rows if r["memo"]} == {spreadsheet_safe(text)}

        document = json.loads(export.as_json(books))
        assert recheck_chain(document) == books.seal and document["ledger"]["name"] == name


# --- every kind, every format ---------------------------------------------------


class TestEveryKind:
    """An exporter that meets a kind it does not handle refuses, so a new kind cannot vanish from a format."""

    @pytest.mark.parametrize("fmt", export.FORMATS)
    def test_every_entry_of_every_kind_is_in_every_format(self, every_kind, fmt):
        text = export.export(every_kind, fmt)
        for entry in every_kind.entries:
            assert entry.hash in text, f"{entry.kind} entry #{entry.id} is not in the {fmt} export"

    @pytest.mark.parametrize("fmt", export.FORMATS)
    def test_a_kind_no_exporter_knows_is_refused(self, sample, fmt, monkeypatch):
        stranger = kinds.Kind("stranger", (), None, None, None, "")
        monkeypatch.setitem(kinds.REGISTRY, "stranger", stranger)  # type: ignore[index]
        entry = Entry(99, dt.date(2025, 1, 1), dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "stranger", hash="x" * 64)
        books = Books("EUR", "F")
        books.store.append(entry)
        with pytest.raises(ValueError, match="'stranger', which the exporters do not handle"):
            export.export(books, fmt)

    def test_every_kind_that_moves_no_money_has_an_event(self):
        quiet = {name for name, kind in kinds.REGISTRY.items() if not kind.moves_money}
        assert quiet == set(export.EVENTS)


# --- streaming ------------------------------------------------------------------


class TestStreaming:
    """Each entry is read once from the journal and written by date in batches: the bytes of the books in memory."""

    @pytest.mark.parametrize("fmt", export.FORMATS)
    def test_read_from_the_journal_in_small_batches_the_same_bytes(self, coalition, fmt, monkeypatch):
        ledger = journal.open_ledger(coalition.path)
        in_memory = export.export(journal.hold(journal.load(ledger)), fmt)
        monkeypatch.setattr(export, "_BATCH", 2)  # batches that end everywhere: mid-day, on a backdated entry
        books = journal.load(ledger)
        assert export.export(books, fmt) == in_memory
        assert books.store._all is None, "the entries were all held in memory"

    def test_entries_by_date_then_id_though_recorded_out_of_date(self, coalition):
        text = export.export(journal.load(journal.open_ledger(coalition.path)), "hledger")
        found = [(day, int(entry_id)) for day, entry_id in re.findall(r"^(\S+) \*.*\n    ; id: (\d+)$", text, re.M)]
        assert found == sorted(found) and [i for _, i in found] != sorted(i for _, i in found)
        assert len(found) == len(COALITION)

    def test_a_refused_export_writes_no_file(self, coalition, tmp_path, monkeypatch):
        monkeypatch.delitem(export.EVENTS, "apply")  # Belgium's application (#3): an entry no exporter handles now
        out = tmp_path / "fund.journal"
        with pytest.raises(ValueError, match="entry #3 is of kind 'apply'"):
            coalition(f"export -o {out}")
        assert not out.exists()


# --- the command ----------------------------------------------------------------


def test_cli_writes_file_and_as_of(coalition, tmp_path):
    out = tmp_path / "x.csv"
    result = coalition(f"export --format csv --as-of 2025-02-10 -o {out}")
    assert "Wrote 5 entries" in result.stderr
    ids = {row["id"] for row in csv.DictReader(out.open())}
    assert ids == {"1", "2", "4", "5", "6"}


def test_the_cli_offers_every_export_format():
    from ledger.cli import EXPORT_FORMATS

    assert EXPORT_FORMATS == export.FORMATS


def test_no_line_is_too_long_for_ledger_cli(tmp_path):
    """ledger-cli refuses a line of more than 4,096 bytes: a long memo and a close of many accounts are cut."""
    books = Books("EUR", "Long lines")
    day = dt.date(2024, 1, 2)
    writer.seal(books, [fund.join(books, "Latvia", "member", fund.Note(day))])
    writer.seal(books, [fund.contribute(books, "Latvia", "1M", fund.Note(day, "ä" * 5000))])
    for number in range(300):
        writer.seal(books, [fund.earmark(books, f"envelope-with-a-long-name-{number:04d}", "1k", fund.Note(day))])
    writer.seal(books, [fund.close(books, "2024", fund.Note(dt.date(2025, 1, 2)))])
    text = export.export(books, "hledger")
    assert max(len(line.encode()) for line in text.splitlines()) <= 4096
    assert "ä" * 1000 in text and text.count("envelope-with-a-long-name-") >= 600  # declared, and in the close
    assert ("ä" * 5000) in "".join(  # the memo is cut, and all of it is there, line after line
        line.removeprefix("    ; memo = ").removeprefix("    ;   ") for line in text.splitlines() if "ä" in line
    )
    _need("ledger", "apt-get install ledger")
    journal_file = tmp_path / "long.journal"
    journal_file.write_text(text)
    done = subprocess.run(["ledger", "-f", str(journal_file), "balance"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
