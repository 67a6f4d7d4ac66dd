"""Exact money: the one place that reads, checks and formats amounts.

Every amount in fundledger is a `Decimal` with no more places than its
currency has. Nothing here rounds what a user typed: input with too many
places is refused. The only roundings are deliberate ones (`convert`,
`share`, `allocate`, `prorate`), each in a context of its own.

All other money arithmetic is exact or an error: importing this module sets
the thread's decimal context to `CONTEXT`, which traps a result that would be
rounded (and invalid operations, overflow and floats mixed with decimals). No
sum of amounts below `LIMIT` ever comes near its precision; a journal that
would make one is refused first (`check_within_limit`, `check_balances`).
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal, localcontext

from ledger.errors import BadInput, Refused

# ISO 4217 minor units for the currencies a coalition's members pay in, and a
# few more. A currency missing here is refused rather than guessed at.
PLACES: dict[str, int] = {
    "AUD": 2,
    "BGN": 2,
    "BHD": 3,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HUF": 2,
    "ISK": 0,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "NOK": 2,
    "NZD": 2,
    "OMR": 3,
    "PLN": 2,
    "RON": 2,
    "SEK": 2,
    "TND": 3,
    "TRY": 2,
    "UAH": 2,
    "USD": 2,
}

SYMBOLS: dict[str, str] = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY", "₴": "UAH", "zł": "PLN"}
_SYMBOL_OF = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥", "UAH": "₴"}

# Far above any fund, far below where the money context's 34 digits would round: every amount, typed or
# converted, and every account's balance stays below it.
LIMIT = Decimal(10) ** 15

_ALWAYS = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow, decimal.FloatOperation]
# Money arithmetic: exact, or an exception. 34 digits hold a balance below LIMIT to a thousandth with room
# for sums of billions of them; a result that needs more is trapped (Rounded, Inexact), never rounded.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN, traps=[*_ALWAYS, decimal.Inexact, decimal.Rounded])
# The deliberate roundings (a conversion, a share, a split): wide enough that a product is exact before
# its one rounding to the currency's places.
ROUNDING = Context(prec=80, rounding=ROUND_HALF_EVEN, traps=_ALWAYS)
decimal.setcontext(CONTEXT.copy())


def rounding():
    """A context for a computation whose result is rounded on purpose (a percentage, a bar's length)."""
    return localcontext(ROUNDING)


_SUFFIXES: dict[str, int] = {
    "k": 3,
    "K": 3,
    "m": 6,
    "M": 6,
    "mn": 6,
    "bn": 9,
    "B": 9,
}

# Digits with an optional fraction. Groups are either all commas in threes
# (30,000,000) or all underscores in threes (30_000_000), never mixed.
_NUMBER = re.compile(
    r"(?P<int>\d{1,3}(?:,\d{3})+|\d{1,3}(?:_\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<suffix>[a-zA-Z]*)",
    re.ASCII,
)


def check_currency(code: str) -> str:
    """Return `code` if it is a currency we know, else refuse it."""
    if code not in PLACES:
        raise BadInput(f"unknown currency {code!r}: use an ISO 4217 code such as EUR, GBP or NOK")
    return code


def places(currency: str) -> int:
    """How many decimal places `currency` has (EUR 2, JPY 0)."""
    return PLACES[check_currency(currency)]


def parse_amount(text: str, currency: str) -> Decimal:
    """Read a positive amount typed by a user, in `currency`.

    Accepts 30000000, 30000000.00, 30,000,000, 30_000_000, 30M, 2.5k,
    1.2bn, €30M and 30M EUR. Refuses zero, negatives, NaN, Infinity,
    exponents, European decimal commas and more places than the currency has.
    """
    if not isinstance(text, str):
        raise TypeError(f"amounts are read from text, not {type(text).__name__}")
    raw = text
    text = text.strip()
    given, text = _strip_currency(text)
    if given is not None and given != currency:
        raise BadInput(f"amount {raw!r} is in {given}, but this entry is in {currency}")
    text = text.strip()
    if text.startswith(("-", "−", "(")):
        raise BadInput(f"amount {raw!r} is negative: amounts are positive; to undo an entry, use `reverse`")
    if text.startswith("+"):
        text = text[1:]
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise BadInput(
            f"cannot read amount {raw!r}: write it like 30000000.00, 30,000,000 or 30M "
            "(a dot for decimals, commas only between thousands)"
        )
    suffix = match["suffix"]
    if suffix and suffix not in _SUFFIXES:
        raise BadInput(f"cannot read amount {raw!r}: unknown suffix {suffix!r} (use k, M or bn)")
    digits = match["int"].replace(",", "").replace("_", "")
    fraction = f".{match['frac']}" if match["frac"] else ""
    # Built from its text with the suffix as an exponent: exact however many digits were typed.
    number = Decimal(f"{digits}{fraction}E{_SUFFIXES[suffix] if suffix else 0}")
    return check_amount(number, currency, raw)


def check_amount(number: Decimal, currency: str, shown: str | None = None) -> Decimal:
    """Return `number` normalised to the currency's places if it is a valid amount."""
    if not isinstance(number, Decimal):
        raise TypeError(f"money is Decimal, never {type(number).__name__}")
    shown = shown if shown is not None else str(number)
    if not number.is_finite():
        raise BadInput(f"amount {shown!r} is not a number")
    if number <= 0:
        raise BadInput(f"amount {shown!r} must be more than zero")
    if number >= LIMIT:
        raise BadInput(f"amount {shown!r} is too large: amounts stay below {LIMIT:,}")
    with localcontext(ROUNDING):  # rounded only to see whether that changes it
        exact = number.quantize(_quantum(currency), rounding=ROUND_DOWN)
    if exact != number:
        raise BadInput(f"amount {shown!r} has more decimal places than {currency} has ({places(currency)})")
    return exact


def check_within_limit(amount: Decimal, currency: str, what: str = "the amount is") -> Decimal:
    """Return `amount` if it is below `LIMIT` either way; else refuse it: "<what> €X, at or beyond the limit ..."

    Typed amounts are refused at LIMIT when they are read (`check_amount`);
    this is for what is computed from them: a conversion, a balance.
    """
    if not -LIMIT < amount < LIMIT:
        raise Refused(
            f"{what} {format_money(amount, currency)}, at or beyond the limit: "
            f"amounts and balances stay below {format_money(LIMIT, currency)}"
        )
    return amount


def check_balances(balance_of: Callable[[str], Decimal | None], postings: Iterable) -> None:
    """Refuse postings that would bring an account's balance to `LIMIT` or beyond (either way).

    `balance_of(account)` is the balance before them (None for an account
    not yet used); `postings` have `account`, `amount` and `currency`.
    """
    moved: dict[tuple[str, str], Decimal] = {}
    for posting in postings:
        key = (posting.account, posting.currency)
        moved[key] = moved.get(key, Decimal(0)) + posting.amount
    for (account, currency), delta in moved.items():
        check_within_limit((balance_of(account) or Decimal(0)) + delta, currency, f"this would bring {account} to")


_STORED = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def parse_stored(text: object, currency: str) -> Decimal:
    """Read an amount as the journal stores it: a signed decimal string with exact places."""
    if not isinstance(text, str):
        raise ValueError(f"amount {text!r} is not a decimal string")
    stored = _STORED.fullmatch(text)
    if stored is None:
        raise ValueError(f"amount {text!r} is not a decimal string")
    number = Decimal(text)
    # The regex allows only digits after the point, so the exponent is minus their number (0 without a point).
    fraction = stored[1]
    if (len(fraction) - 1 if fraction else 0) != places(currency):
        raise ValueError(f"amount {text!r} does not have exactly {places(currency)} places for {currency}")
    if not -LIMIT < number < LIMIT:
        raise ValueError(f"amount {text!r} is at or beyond the limit: amounts stay below {LIMIT:,}")
    return number


def to_text(number: Decimal, currency: str) -> str:
    """The plain decimal string of an amount, with exactly the currency's places ("30000000.00")."""
    if not isinstance(number, Decimal):
        raise TypeError(f"money is Decimal, never {type(number).__name__}")
    return str(number.quantize(_quantum(currency)))


def format_money(number: Decimal, currency: str) -> str:
    """An amount for people: symbol, thousands separators, the currency's places ("€30,000,000.00")."""
    text = f"{number.quantize(_quantum(currency), context=_wide_enough(number)).copy_abs():,}"
    symbol = _SYMBOL_OF.get(currency)
    body = f"{symbol}{text}" if symbol else f"{text} {currency}"
    return f"-{body}" if number < 0 else body


def allocate(total: Decimal, weights: dict[str, Decimal], currency: str) -> dict[str, Decimal]:
    """Split `total` pro rata to `weights`, exact to the cent.

    Each share is rounded down to the currency's places; the cents left over
    go one at a time to the largest remainders (ties to the first key), so the
    shares always add up to `total` and no share exceeds its own weight when
    `total` does not exceed the sum of the weights.
    """
    whole = sum(weights.values(), Decimal(0))
    if whole <= 0:
        raise ValueError("cannot allocate against nothing")
    quantum = _quantum(currency)
    shares: dict[str, Decimal] = {}
    remainders: dict[str, Decimal] = {}
    with localcontext(ROUNDING):  # one pass, one context switch: this runs for every move between envelopes
        for key, weight in weights.items():
            exact = total * weight / whole
            share = shares[key] = exact.quantize(quantum, rounding=ROUND_DOWN)
            remainders[key] = exact - share
    left = total - sum(shares.values(), Decimal(0))
    by_remainder = sorted(weights, key=remainders.__getitem__, reverse=True)
    for key in by_remainder:
        if left <= 0:
            break
        if shares[key] < weights[key]:
            shares[key] += quantum
            left -= quantum
    if left != 0:  # only when total exceeds the weights; callers refuse that first
        raise ValueError("allocation could not place every cent")
    return {key: share for key, share in shares.items() if share > 0}


# An exchange rate: how many units of the fund's currency one unit of another is worth.
_RATE = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,12})?", re.ASCII)


def parse_rate(text: str) -> Decimal:
    """Read an exchange rate such as 1.1850 or 0.0921: a positive plain decimal, at most 12 places."""
    if not isinstance(text, str):
        raise TypeError(f"rates are read from text, not {type(text).__name__}")
    if not _RATE.fullmatch(text.strip()):
        raise BadInput(f"cannot read rate {text!r}: write it as a plain decimal such as 1.1850 (a dot, no sign)")
    rate = Decimal(text.strip())
    if rate <= 0:
        raise BadInput(f"rate {text!r} must be more than zero")
    return rate


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """`amount` times `rate`, rounded once, half to even, to `currency`'s places: the one rounding of a conversion."""
    if not isinstance(amount, Decimal) or not isinstance(rate, Decimal):
        raise TypeError("money and rates are Decimal, never float")
    with localcontext(ROUNDING):  # the product is exact before its one rounding
        return (amount * rate).quantize(_quantum(currency), rounding=ROUND_HALF_EVEN)


def share(whole: Decimal, part: Decimal, of: Decimal, currency: str) -> Decimal:
    """`whole * part / of`, rounded once, half to even, to `currency`'s places (`whole` when `part` is all of it)."""
    if part == of:
        return whole
    with localcontext(ROUNDING):
        return (whole * part / of).quantize(_quantum(currency), rounding=ROUND_HALF_EVEN)


def split_currency(text: str) -> tuple[str | None, str]:
    """The currency an amount is written in (from its symbol or code), if any, and the amount without it."""
    given, rest = _strip_currency(text.strip())
    return given, rest.strip()


def prorate(total: Decimal, weights: dict, currency: str) -> dict:
    """Split `total` in proportion to `weights` (which may be in another currency), exact to the cent.

    Like `allocate`, shares are rounded down and the cents left over go to
    the largest remainders, but a share may exceed its weight (a pound
    weight may carry more than a pound of euros).
    """
    whole = sum(weights.values(), Decimal(0))
    if whole <= 0:
        raise ValueError("cannot prorate against nothing")
    quantum = _quantum(currency)
    shares: dict = {}
    remainders: dict = {}
    with localcontext(ROUNDING):
        for key, weight in weights.items():
            exact = total * weight / whole
            share = shares[key] = exact.quantize(quantum, rounding=ROUND_DOWN)
            remainders[key] = exact - share
    left = total - sum(shares.values(), Decimal(0))
    for key in sorted(weights, key=remainders.__getitem__, reverse=True):
        if left <= 0:
            break
        shares[key] += quantum
        left -= quantum
    return shares


_QUANTA = {code: Decimal(f"1E-{digits}") for code, digits in PLACES.items()}


def _quantum(currency: str) -> Decimal:
    """The smallest unit of `currency`: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    return _QUANTA[check_currency(currency)]


def _wide_enough(number: Decimal) -> Context | None:
    """None (the money context) for any amount below LIMIT; for a larger one (shown in a refusal), enough digits."""
    if not number.is_finite() or number.adjusted() + 8 <= CONTEXT.prec:
        return None
    context = CONTEXT.copy()
    context.prec = number.adjusted() + 8
    return context


def _strip_currency(text: str) -> tuple[str | None, str]:
    """Split a leading symbol or code, or a trailing code, off an amount."""
    for symbol, code in SYMBOLS.items():
        if text.startswith(symbol):
            return code, text[len(symbol) :]
        if text.endswith(symbol):
            return code, text[: -len(symbol)]
    if match := re.fullmatch(r"([A-Z]{3})\s*(.*)", text):
        return check_currency(match[1]), match[2]
    if match := re.fullmatch(r"(.*?)\s*([A-Z]{3})", text):
        return check_currency(match[2]), match[1]
    return None, text
