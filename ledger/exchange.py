"""Money in other currencies: the postings, in the fund's currency, of a gift, a pledge or a receipt.

One function per event computes its postings from what was given (the
amount per earmark in its own currency) and the rate; `ledger.fund` builds
entries with them and `ledger.rules` checks recorded entries against them,
so an entry's postings are always exactly its conversion.

Each conversion rounds once, half to even, to the fund currency's places:
the total is converted, then spread over the earmarks in proportion, with
the leftover cents given out explicitly. A receipt against a pledge in
another currency relieves the receivable of the pledge's value for what was
received (all that is left of it, when the pledge is paid in full), and the
difference from what the receipt is worth on its own day is an exchange
gain or loss of the member's: every entry balances to the cent and nothing
stays on a receivable once its pledge is paid.
"""

from __future__ import annotations

from decimal import Decimal

from ledger import model, money
from ledger.books import ZERO, Pledge
from ledger.errors import Refused
from ledger.model import Posting

Parts = dict[str | None, Decimal]  # earmark (None: not earmarked) -> amount in the given currency


def cash(earmark: str | None) -> str:
    return model.earmarked(earmark) if earmark else model.UNALLOCATED


def value(parts: Parts, rate: Decimal, currency: str) -> Parts:
    """What each part is worth in `currency` at `rate`: the total converted once, then spread."""
    total = money.convert(sum(parts.values(), ZERO), rate, currency)
    money.check_within_limit(total, currency, f"converted at {rate}, this comes to")
    worth = money.prorate(total, parts, currency)
    if any(amount <= 0 for amount in worth.values()):
        raise Refused(f"at rate {rate} a part of this amount is worth less than the smallest unit of {currency}")
    return worth


def gift(slug: str, parts: Parts, rate: Decimal, currency: str) -> list[Posting]:
    """A contribution with no pledge: cash per earmark, credited to the member's contributions."""
    worth = value(parts, rate, currency)
    postings = [Posting(cash(e), amount, currency) for e, amount in worth.items()]
    return [*postings, Posting(model.contributions(slug), -sum(worth.values(), ZERO), currency)]


def pledge(slug: str, parts: Parts, rate: Decimal, currency: str) -> list[Posting]:
    """A pledge: a receivable per earmark at the pledge day's rate, credited to the member's contributions."""
    worth = value(parts, rate, currency)
    postings = [Posting(model.receivable(slug, e), amount, currency) for e, amount in worth.items()]
    return [*postings, Posting(model.contributions(slug), -sum(worth.values(), ZERO), currency)]


def receipt(slug: str, promised: Pledge, parts: Parts, rate: Decimal, currency: str) -> list[Posting]:
    """Money received against a pledge in another currency, at the receipt day's rate."""
    for earmark, amount in parts.items():
        left = promised.original_outstanding(earmark)
        if amount > left:
            part = f" for {earmark}" if earmark else ""
            raise Refused(
                f"pledge #{promised.id} of {promised.member} has {money.format_money(left, promised.currency)} "
                f"outstanding{part}; receipt of {money.format_money(amount, promised.currency)} exceeds it"
            )
    worth = value(parts, rate, currency)
    relief = {e: _relief(promised, e, amount, currency) for e, amount in parts.items()}
    if any(amount <= 0 for amount in relief.values()):
        raise Refused(f"this receipt is too small to take a {currency} cent off pledge #{promised.id}")
    postings = [Posting(cash(e), amount, currency) for e, amount in worth.items()]
    postings += [Posting(model.receivable(slug, e), -amount, currency) for e, amount in relief.items()]
    difference = sum(worth.values(), ZERO) - sum(relief.values(), ZERO)
    if difference:
        postings.append(Posting(model.exchange(slug), -difference, currency))  # a gain is a credit
    return postings


def _relief(promised: Pledge, earmark: str | None, amount: Decimal, currency: str) -> Decimal:
    """What a receipt of `amount` (the pledge's currency) takes off the part's value (the fund's currency).

    Its share of the value still owed, rounded once; all of it when the part
    is paid in full; and never all of it while some of the part is still
    owed, so a pledge's value reaches zero exactly when the pledge does.
    """
    owed, left = promised.outstanding(earmark), promised.original_outstanding(earmark)
    relief = money.share(owed, amount, left, currency)
    if amount < left:
        relief = min(relief, owed - Decimal(1).scaleb(-money.places(currency)))
    return relief


def contract(package: str, ref: str, amount: Decimal, rate: Decimal, currency: str) -> list[Posting]:
    """A contract in another currency: its value at the contract day's rate moves into its envelope."""
    worth = money.convert(amount, rate, currency)
    if worth <= 0:
        raise Refused(f"at rate {rate} this contract is worth less than the smallest unit of {currency}")
    return [Posting(model.contracted(package, ref), worth, currency),
            Posting(model.committed(package), -worth, currency)]  # fmt: skip


def contract_payment(
    package: str, ref: str, owed: Decimal, left: Decimal, amount: Decimal, own: str, rate: Decimal, currency: str
) -> list[Posting]:
    """A payment of `amount` (the contract's currency) against a contract with `left` of it still to pay, whose
    envelope holds `owed` (the fund's currency), at the payment day's rate.

    `own` is the contract's currency. The expense is what the payment costs today; the contract's envelope
    is relieved of its share of what it holds (all of it when the contract is paid in full); the difference
    is an exchange gain or loss, taken from (or given back to) the package's money not under contract.
    """
    if amount > left:
        raise Refused(f"contract {ref} has {money.format_money(left, own)} left to pay; "
                      f"payment of {money.format_money(amount, own)} exceeds it")  # fmt: skip
    worth = money.convert(amount, rate, currency)
    relief = money.share(owed, amount, left, currency)
    postings = [Posting(model.expense(package), worth, currency), Posting(model.contracted(package, ref), -relief, currency)]
    if worth != relief:
        postings.append(Posting(model.committed(package), relief - worth, currency))  # a loss is a credit
    return postings
