"""Money: what amounts are read, what is refused, how they print and split."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import money
from ledger.errors import BadInput


class TestParse:
    """Every form the issue names is read to the same exact amount."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("30000000", "30000000.00"),
            ("30000000.00", "30000000.00"),
            ("30,000,000", "30000000.00"),
            ("30_000_000", "30000000.00"),
            ("30M", "30000000.00"),
            ("2.5k", "2500.00"),
            ("1.2bn", "1200000000.00"),
            ("€30M", "30000000.00"),
            ("30M EUR", "30000000.00"),
            ("EUR 1,234.56", "1234.56"),
            ("0.01", "0.01"),
            (" 7 ", "7.00"),
        ],
    )
    def test_accepted(self, text, expected):
        amount = money.parse_amount(text, "EUR")
        assert amount == Decimal(expected)
        assert money.to_text(amount, "EUR") == expected

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("0", "must be more than zero"),
            ("0.00", "must be more than zero"),
            ("-5", "is negative"),
            ("NaN", "cannot read amount"),
            ("Infinity", "cannot read amount"),
            ("1e6", "cannot read amount"),
            ("1.000,00", "cannot read amount"),
            ("30,00", "cannot read amount"),
            ("1.001", "more decimal places than EUR has (2)"),
            ("0.000001k", "more decimal places"),
            ("£5", "is in GBP, but this entry is in EUR"),
            ("5 USD", "is in USD, but this entry is in EUR"),
            ("5 XYZ", "unknown currency"),
            ("5x", "unknown suffix"),
            ("", "cannot read amount"),
            ("١٠", "cannot read amount"),
            ("1,000_000", "cannot read amount"),
            ("2000000000000000", "too large"),
        ],
    )
    def test_refused(self, text, message):
        with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
            money.parse_amount(text, "EUR")

    def test_zero_place_currency_refuses_cents(self):
        assert money.parse_amount("1500", "JPY") == Decimal(1500)
        with pytest.raises(BadInput, match="JPY has \\(0\\)"):
            money.parse_amount("1500.5", "JPY")

    def test_float_is_a_type_error(self):
        with pytest.raises(TypeError):
            money.parse_amount(1.5, "EUR")
        with pytest.raises(TypeError):
            money.to_text(1.5, "EUR")

    @given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e14"), places=2))
    def test_round_trip_through_text(self, amount):
        assert money.parse_amount(money.to_text(amount, "EUR"), "EUR") == amount
        assert money.parse_amount(money.format_money(amount, "EUR"), "EUR") == amount


class TestFormat:
    def test_symbol_separators_and_places(self):
        assert money.format_money(Decimal("30000000"), "EUR") == "€30,000,000.00"
        assert money.format_money(Decimal("-1234.5"), "EUR") == "-€1,234.50"
        assert money.format_money(Decimal("100"), "NOK") == "100.00 NOK"


class TestAllocate:
    def test_leftover_cents_go_to_largest_remainders(self):
        shares = money.allocate(Decimal("100.00"), {"a": Decimal(50), "b": Decimal(50), "c": Decimal(50)}, "EUR")
        assert shares == {"a": Decimal("33.34"), "b": Decimal("33.33"), "c": Decimal("33.33")}

    @given(
        st.dictionaries(
            st.sampled_from(["a", "b", "c", "d"]),
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1e9"), places=2),
            min_size=1,
        ),
        st.data(),
    )
    def test_shares_add_up_and_stay_within_weights(self, weights, data):
        whole = sum(weights.values())
        total = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=whole, places=2))
        shares = money.allocate(total, weights, "EUR")
        assert sum(shares.values()) == total
        assert all(Decimal(0) < shares[k] <= weights[k] for k in shares)
        assert all(share.as_tuple().exponent == -2 for share in shares.values())
