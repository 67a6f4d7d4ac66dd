"""The amount limit holds for converted amounts and balances too, and money arithmetic never rounds silently (issue 21, item 11)."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal

import pytest

from ledger import journal, model, money
from ledger.errors import Refused
from ledger.model import Entry, Posting

from conftest import Runner, snapshot

D = Decimal
HUGE_YEN = "¥999,999,999,999,999"
HUGE_RATE = "999999999.123456789012"


@pytest.fixture
def fund(run: Runner) -> Runner:
    run("member join Latvia --date 2024-02-01")
    run("member join Japan --date 2024-02-01")
    return run


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.exit_code == 1
    return lines[0]


class TestConversions:
    def test_a_conversion_beyond_the_limit_is_refused_naming_it(self, fund):
        before = snapshot(fund.path)
        result = fund(f"contribute Japan {HUGE_YEN} --rate {HUGE_RATE} --date 2025-01-01", ok=False)
        line = one_line(result)
        assert line.startswith("refused: ")
        assert "1,000,000,000,000,000" in line
        assert snapshot(fund.path) == before

    def test_a_pledge_converted_beyond_the_limit_is_refused(self, fund):
        result = fund(f"pledge Japan {HUGE_YEN} --year 2025 --rate {HUGE_RATE} --date 2025-01-01", ok=False)
        assert "1,000,000,000,000,000" in one_line(result)

    def test_a_conversion_just_below_the_limit_is_taken(self, fund):
        # ¥999,999,999,999,999 × 1.0000000000010 = 999,999,999,999,999.99... -> €1,000,000,000,000,000.00: refused;
        # × 0.5 = €499,999,999,999,999.50: taken.
        entry = fund.json(f"contribute Japan {HUGE_YEN} --rate 0.5 --date 2025-01-01")
        assert entry["postings"][0]["amount"] == "499999999999999.50"
        result = fund(f"contribute Japan {HUGE_YEN} --rate 1.000000000001 --date 2025-01-01", ok=False)
        assert "1,000,000,000,000,000" in one_line(result)

    def test_the_check_itself(self):
        assert money.check_within_limit(D("999999999999999.99"), "EUR") == D("999999999999999.99")
        assert money.check_within_limit(D("-999999999999999.99"), "EUR") == D("-999999999999999.99")
        for beyond in (D("1000000000000000.00"), D("-1000000000000000.00"), D("1E+24")):
            with pytest.raises(Refused, match="1,000,000,000,000,000"):
                money.check_within_limit(beyond, "EUR")


class TestBalances:
    def test_a_balance_that_would_reach_the_limit_is_refused(self, fund):
        fund("contribute Latvia 999,999,999,999,999 --date 2025-01-01")
        before = snapshot(fund.path)
        line = one_line(fund("contribute Latvia 1 --date 2025-01-02", ok=False))
        assert line.startswith("refused: ")
        assert "1,000,000,000,000,000" in line
        assert snapshot(fund.path) == before
        fund("earmark drones 1M --date 2025-01-02")  # takes from the cash, so the cash can take more again
        fund("contribute Japan 1 --date 2025-01-03")

    def test_check_balances_sums_an_entrys_postings_per_account(self):
        balances = {"assets:fund:unallocated": D("999999999999999.00"), "income:contributions:latvia": D("0.00")}
        near = [
            Posting("assets:fund:unallocated", D("0.50"), "EUR"),
            Posting("assets:fund:unallocated", D("0.49"), "EUR"),
            Posting("income:contributions:latvia", D("-0.99"), "EUR"),
        ]
        money.check_balances(balances.get, near)
        with pytest.raises(Refused, match="assets:fund:unallocated"):
            money.check_balances(balances.get, [*near, Posting("assets:fund:unallocated", D("0.01"), "EUR")])


def _append_unchecked(path, entries) -> None:
    """Write entries as an older fundledger could have, without today's rules."""
    ledger = journal.open_ledger(path)
    books = journal.load(ledger, use_cache=False)
    last_id, seal = books.last_id, books.seal
    for entry in entries:
        entry = entry.sealed(last_id + 1, seal)
        journal.append(ledger, [entry])
        last_id, seal = entry.id, entry.hash


class TestAlreadyRecorded:
    """A journal an older version let grow beyond the limit is reported in one line, never a traceback."""

    @pytest.fixture
    def beyond(self, fund):
        worth = D("999999999123455789012000.88")  # ¥999,999,999,999,999 × 999999999.123456789012, to the cent

        def build():
            return Entry(
                id=0,
                date=dt.date(2025, 1, 1),
                recorded_at=model.now(),
                kind="contribute",
                postings=(
                    Posting(model.UNALLOCATED, worth, "EUR"),
                    Posting(model.contributions("japan"), -worth, "EUR"),
                ),
                data={
                    "member": "Japan",
                    "original_amount": "999999999999999",
                    "original_currency": "JPY",
                    "rate": HUGE_RATE,
                },
            )

        _append_unchecked(fund.path, [build() for _ in range(12)])
        return fund

    @pytest.mark.parametrize("command", ["verify", "balance", "report", "report contributors", "export --format csv"])
    def test_each_command_says_corrupt_in_one_line(self, beyond, command):
        for cache in ("off", "on"):
            line = one_line(beyond(command, ok=False, env={"FUNDLEDGER_CACHE": cache}))
            assert line.startswith("corrupt: "), line
            assert "1,000,000,000,000,000" in line

    def test_recording_on_top_is_refused_too(self, beyond):
        before = snapshot(beyond.path)
        assert one_line(beyond("contribute Latvia 1", ok=False)).startswith("corrupt: ")
        assert snapshot(beyond.path) == before


class TestContext:
    """Money arithmetic traps what would round: an error is loud, never a lost digit."""

    def test_the_money_context_traps_inexact_and_rounded_results(self):
        context = decimal.getcontext()
        for signal in (decimal.Inexact, decimal.Rounded, decimal.Overflow, decimal.InvalidOperation):
            assert context.traps[signal], signal
        assert context.prec >= 34

    def test_a_sum_beyond_the_precision_raises_instead_of_rounding(self):
        with pytest.raises((decimal.Inexact, decimal.Rounded)):
            sum([D("1E+40"), D("0.01")], D(0))

    def test_the_deliberate_roundings_still_round(self):
        assert money.convert(D("1234567"), D("0.0061"), "EUR") == D("7530.86")
        assert money.share(D("100.00"), D("1"), D("3"), "EUR") == D("33.33")
        assert money.allocate(D("100.00"), {"a": D("100.00"), "b": D("200.00")}, "EUR") == {
            "a": D("33.33"),
            "b": D("66.67"),
        }
        assert money.prorate(D("10.00"), {"a": D("1"), "b": D("2")}, "EUR") == {"a": D("3.33"), "b": D("6.67")}

    @pytest.mark.parametrize("text", ["1" * 40, "1" * 40 + "k", "0." + "1" * 40, "€" + "9" * 60 + "bn"])
    def test_typed_amounts_with_too_many_digits_are_refused_not_trapped(self, text):
        with pytest.raises(Exception) as caught:
            money.parse_amount(text, "EUR")
        assert type(caught.value).__name__ == "BadInput"

    def test_stored_amounts_beyond_the_limit_are_not_amounts(self):
        assert money.parse_stored("-999999999999999.99", "EUR") == D("-999999999999999.99")
        with pytest.raises(ValueError, match="1,000,000,000,000,000"):
            money.parse_stored("1000000000000000.00", "EUR")
        with pytest.raises(ValueError):
            money.parse_stored("-" + "9" * 400 + ".00", "EUR")

    def test_percentages_in_reports_still_work(self, fund):
        fund("pledge Latvia 3M --year 2025 --date 2025-01-01")
        fund("contribute Latvia 1M --pledge 3 --date 2025-01-02")
        assert fund("report pledges").exit_code == 0
        assert fund("report").exit_code == 0
