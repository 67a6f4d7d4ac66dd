"""Whose money is where: every envelope of cash keeps how much of it came from each member.

The rule, as pooled multi-donor funds state it (docs/FORMAT.md works an
example by hand):

- Money a member gives is that member's, in the envelope it is received
  into (an earmark of its pledge is its own from the start).
- Money that moves from one envelope to another (an earmark, a package, an
  amendment, a contract) moves pro rata to the members' shares of the
  envelope it leaves, to the cent: each member's share is rounded down and
  the cents left over go one at a time to the largest remainders, ties to
  the member whose account name sorts first. Moving into several envelopes
  at once, they are filled in the order of their account names.
- Money that leaves the fund (a payment, a charge, a fee) leaves pro rata
  too, and is remembered as spent, per package, by member.
- Interest belongs to the members whose money earned it: pro rata to the
  envelope it is paid into (to the fund itself, `(fund)`, if that envelope
  is empty).
- A reversal undoes the money that came in or went out as it was: the
  members a receipt or payment was theirs get it back, or lose it again.

So every envelope's shares add up to its balance, to the cent, always.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

from ledger import model, money
from ledger.model import Entry

ZERO = Decimal(0)
FUND = "(fund)"  # the owner of interest paid into an envelope no member has money in
Owners = dict[str, Decimal]  # member slug -> amount


def _one(table: Mapping[str, Owners], key: str, owner: str) -> Decimal:
    """`table[key][owner]`, zero if there is none. A mark's table, kept flat (`checkpoints._Unflattened`), reads
    that one amount alone."""
    one = getattr(table, "one", None)
    found = one(key, owner) if one is not None else table.get(key, {}).get(owner)
    return found or ZERO


class Funding:
    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.shares: dict[str, Owners] = defaultdict(dict)  # envelope account -> owners
        self.spent: dict[str, Owners] = defaultdict(dict)  # package, or "" for charges and fees elsewhere -> owners
        # entry id -> the envelopes it moved money in (+) or out (-) of, by owner, packed as text (see `_packed`)
        self.flows: dict[int, str] = {}

    def of(self, account: str) -> Owners:
        return {owner: amount for owner, amount in self.shares.get(account, {}).items() if amount}

    def owned(self, account: str, owner: str) -> Decimal:
        """What `owner` holds in the envelope `account` (`of(account)` for one owner; zero for none)."""
        return _one(self.shares, account, owner)

    def spent_by(self, package: str, owner: str) -> Decimal:
        """What of `owner`'s money was spent on `package` (zero for none)."""
        return _one(self.spent, package, owner)

    def flow(self, entry_id: int) -> dict[str, Owners]:
        """What an entry moved, envelope by envelope, owner by owner (in (+) or out (-)); {} if it moved nothing."""
        return _unpacked(self.flows.get(entry_id, ""))

    def move(self, entry: Entry, undone: Entry | None = None) -> None:
        """Follow `entry`'s money between envelopes, member by member (`undone`: the entry a reversal undoes)."""
        changes: dict[str, Decimal] = defaultdict(Decimal)
        for posting in entry.postings:
            if posting.account.startswith(_ENVELOPES):
                changes[posting.account] += posting.amount
        if not changes:
            return
        ordered = sorted(changes.items())
        outs = {account: -amount for account, amount in ordered if amount < 0}
        ins = {account: amount for account, amount in ordered if amount > 0}
        before = self.flow(undone.id) if undone is not None else {}
        flow: dict[str, Owners] = {}
        pool: Owners = {}
        for account, amount in outs.items():
            # Undoing an entry: first the members whose money it put into this envelope.
            taken = self._take(account, amount, {o: a for o, a in before.get(account, {}).items() if a > 0})
            flow[account] = {owner: -share for owner, share in taken.items()}
            _add(pool, taken)
        moved_in = sum(ins.values(), ZERO)
        moved_out = sum(outs.values(), ZERO)
        if moved_in > moved_out:  # money from outside: a receipt, interest, a payment undone
            outside = moved_in - moved_out
            _add(pool, self._from_outside(entry, ins, outside, before))
        elif moved_out > moved_in:  # money leaving the fund: a payment, a charge, a fee, a receipt undone
            leaving = money.allocate(moved_out - moved_in, _sorted(pool), self.currency) if pool else {}
            for owner, share in leaving.items():
                pool[owner] -= share
            if entry.kind != "reverse":
                _add(self.spent[spent_on(entry)], leaving)
        remaining = {owner: share for owner, share in pool.items() if share}
        for number, (account, amount) in enumerate(ins.items()):
            last = number == len(ins) - 1
            given = dict(remaining) if last else money.allocate(amount, _sorted(remaining), self.currency)
            for owner, share in given.items():
                remaining[owner] = remaining.get(owner, ZERO) - share
            _add(self.shares[account], given)
            flow[account] = dict(given)
        if entry.kind == "reverse" and undone is not None and moved_in > moved_out and before:
            _add(self.spent[spent_on(undone)], {o: -a for o, a in _leaving(before).items()})
        self.flows[entry.id] = _packed(flow)

    def _take(self, account: str, amount: Decimal, prefer: Owners) -> Owners:
        """`amount` out of `account`: first from the owners `prefer` names (up to what each holds), the rest pro rata."""
        held = self.shares[account]
        taken: Owners = {}
        for owner, wanted in sorted(prefer.items()):
            part = min(wanted, held.get(owner, ZERO), amount - sum(taken.values(), ZERO))
            if part > 0:
                taken[owner] = part
        rest = amount - sum(taken.values(), ZERO)
        if rest > 0:
            if taken:
                left = {}
                for o, a in held.items():
                    kept = a - taken.get(o, ZERO)
                    if kept > 0:
                        left[o] = kept
            else:
                left = {o: a for o, a in held.items() if a > 0}
            if left:
                _add(taken, money.allocate(min(rest, sum(left.values(), ZERO)), _sorted(left), self.currency))
        short = amount - sum(taken.values(), ZERO)
        if short > 0:  # more than the envelope's owners hold (an older journal): the fund's own
            taken[FUND] = taken.get(FUND, ZERO) + short
        for owner, part in taken.items():
            held[owner] = held.get(owner, ZERO) - part
        return taken

    def _from_outside(self, entry: Entry, ins: dict[str, Decimal], amount: Decimal, before) -> Owners:
        if entry.kind == "contribute":
            return {model.slug(entry.get("member")): amount}
        if entry.kind == "reverse" and before:  # a payment, charge or fee undone: back to whose money it was
            back = _leaving(before)
            if sum(back.values(), ZERO) == amount:
                return back
        target = next(iter(ins))
        owners = self.of(target)
        # Interest may be more than the envelope holds (a cent earning more than a cent): prorate, not allocate,
        # which never gives a share more than its weight.
        return money.prorate(amount, _sorted(owners), self.currency) if owners else {FUND: amount}


def spent_on(entry: Entry) -> str:
    """What money leaving the fund was spent on: a package (a payment, or a charge or fee on it), else ""."""
    if entry.kind == "pay":
        return entry.get("package")
    envelope = entry.get("envelope", "")
    return envelope.removeprefix("package:") if envelope.startswith("package:") else ""


def _packed(flow: dict[str, Owners]) -> str:
    """A flow as one line per envelope: its account, then `owner=amount` for each owner, in order.

    Every entry's flow is kept for as long as the books are (a reversal undoes
    it): as dictionaries of Decimals they were most of a million entries' books
    in memory (about 2 KB an entry) and most of the time to pickle them for the
    read cache; as text a flow takes a tenth of the room and pickles at once.
    Accounts and owners (member slugs, `(fund)`) hold no space, `=` or newline;
    an amount's text reads back as the same Decimal, exponent and all.
    """
    return "\n".join(
        " ".join([envelope, *(f"{owner}={amount}" for owner, amount in owners.items())])
        for envelope, owners in flow.items()
    )


def _unpacked(text: str) -> dict[str, Owners]:
    flow: dict[str, Owners] = {}
    for line in text.split("\n") if text else ():
        envelope, *owners = line.split(" ")
        flow[envelope] = {owner: Decimal(amount) for owner, _, amount in (part.partition("=") for part in owners)}
    return flow


def _leaving(flow: dict[str, Owners]) -> Owners:
    """What left the fund in a recorded flow: its envelopes' outflows less its inflows, by owner."""
    net: Owners = {}
    for owners in flow.values():
        for owner, amount in owners.items():
            net[owner] = net.get(owner, ZERO) - amount
    return {owner: amount for owner, amount in net.items() if amount > 0}


_ENVELOPES = (model.UNALLOCATED, model.EARMARKED + ":", model.COMMITTED + ":")


def _add(into: Owners, more: Owners) -> None:
    for owner, amount in more.items():
        into[owner] = into.get(owner, ZERO) + amount


def _sorted(owners: Owners) -> Owners:
    return {owner: amount for owner, amount in sorted(owners.items()) if amount > 0}  # owners are unique: by name
