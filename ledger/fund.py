"""Fund operations: each turns what a user asked for into one entry, against the current books.

These build entries and refuse only what cannot be read or built (an amount
or a split that does not add up, a rate that is missing). Whether the entry
may be recorded (a known member, a pledge that is the member's, enough
money in the envelope) is for the rules in `ledger.rules` alone: an entry
that breaks one is built anyway and refused there, with the rule's message.
Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from ledger import exchange, model, money
from ledger.books import ZERO, Books, Member, give_back
from ledger.errors import BadInput, Refused
from ledger.model import Entry, Posting


@dataclass(frozen=True)
class Note:
    """What every recording command takes: the event's date, a memo and a source."""

    date: dt.date
    memo: str = ""
    source: str = ""


def join(books: Books, name: str, role: str, note: Note) -> Entry:
    return _entry(note, "join", member=_known_or_new(books, name), role=role)


def apply(books: Books, name: str, note: Note) -> Entry:
    return _entry(note, "apply", member=_known_or_new(books, name))


def approve(books: Books, name: str, note: Note, *, by: str = "", decision: str = "") -> Entry:
    data = {"member": _known_or_new(books, name)}
    if by:
        data["by"] = _known_or_new(books, by)
    if decision:
        data["decision"] = decision
    return _entry(note, "approve", **data)


def leave(books: Books, name: str, note: Note) -> Entry:
    return _entry(note, "leave", member=_known_or_new(books, name))


def rate(books: Books, currency: str, text: str, note: Note) -> Entry:
    """An exchange rate: what one unit of `currency` is worth in the fund's currency from `note.date` on."""
    return _entry(note, "rate", currency=currency, rate=str(money.parse_rate(text)))


def pledge(
    books: Books,
    member: str,
    amount: str,
    year: int,
    splits: Sequence[str],
    note: Note,
    *,
    rate_text: str | None = None,
    due: dt.date | None = None,
    instalments: Sequence[str] = (),
) -> Entry:
    """A promise to give: receivable per earmark of the split, the rest not earmarked.

    In another currency (`£10M`) the receivable is its value at the rate of
    the pledge's day (or `rate_text`), and the pledge is followed in pounds.
    It may fall due on a day (`due`) or in dated instalments (`DATE=AMOUNT`,
    in the pledge's own currency).
    """
    who = _member(books, member)
    foreign = _foreign(books, amount, note, rate_text)
    own = foreign[0] if foreign else books.currency
    schedule = {**({"due": due.isoformat()} if due else {}), **_instalments(instalments, own)}
    if foreign:
        currency, rate_used = foreign
        parts = _parts_given(money.parse_amount(amount, currency), parse_splits(splits, currency), "pledge")
        postings = exchange.pledge(who.slug, parts, rate_used, books.currency)
        data = {"member": who.name, "year": year, **_original(parts, currency, rate_used), **schedule}
        return _entry(note, "pledge", postings, **data)
    total = money.parse_amount(amount, books.currency)
    parts = parse_splits(splits, books.currency)
    rest = total - _sum(parts.values(), total, "pledge")
    parts = {**parts, **({None: rest} if rest else {})}
    postings = [Posting(model.receivable(who.slug, e), share, books.currency) for e, share in parts.items()]
    postings.append(Posting(model.contributions(who.slug), -total, books.currency))
    data = {"member": who.name, "year": year}
    named = {e: money.to_text(share, books.currency) for e, share in parts.items() if e is not None}
    if named:
        data["split"] = named
    return _entry(note, "pledge", postings, **data, **schedule)


def _instalments(texts: Sequence[str], currency: str) -> dict[str, dict[str, str]]:
    """`--instalment DATE=AMOUNT` options as the pledge's `instalments` table (empty: none given)."""
    table: dict[str, str] = {}
    for text in texts:
        day, equals, amount = text.partition("=")
        try:
            when = dt.date.fromisoformat(day.strip()) if len(day.strip()) == 10 else None
        except ValueError:
            when = None
        if not equals or when is None:
            raise BadInput(f"--instalment {text!r} must look like DATE=AMOUNT, for example 2025-03-31=10M")
        if when.isoformat() in table:
            raise BadInput(f"--instalment {when} is given twice")
        table[when.isoformat()] = money.to_text(money.parse_amount(amount, currency), currency)
    return {"instalments": table} if table else {}


def contribute(
    books: Books,
    member: str,
    amount: str,
    note: Note,
    *,
    pledge_id: int | None = None,
    splits: Sequence[str] = (),
    rate_text: str | None = None,
) -> Entry:
    """Money received. Against a pledge it settles the pledge's parts; otherwise it is income.

    In another currency (`£10M`) it is booked at the rate of its day (or
    `rate_text`), keeping the amount as given; against a pledge in that
    currency the difference from the pledge's value is an exchange gain or loss.
    """
    who = _member(books, member)
    promised = books.pledges.get(pledge_id) if pledge_id is not None else None
    foreign = _foreign(books, amount, note, rate_text)
    if promised is not None and promised.foreign and not foreign:
        raise BadInput(
            f"pledge #{pledge_id} is in {promised.currency}: write the amount in it, "
            f"such as {money.format_money(promised.total_original_outstanding, promised.currency)}"
        )
    if foreign:
        currency, rate_used = foreign
        total = money.parse_amount(amount, currency)
        named = parse_splits(splits, currency)
        if pledge_id is None:
            parts = _parts_given(total, named, "contribution")
            postings = exchange.gift(who.slug, parts, rate_used, books.currency)
        else:
            if promised is not None and promised.member == who.name and promised.currency != currency:
                raise BadInput(f"pledge #{pledge_id} is in {promised.currency}, not {currency}")
            parts = _against_pledge(books, who.name, pledge_id, total, named)
            if _settles(promised, who.name, parts):
                postings = exchange.receipt(who.slug, promised, parts, rate_used, books.currency)
            else:  # not this member's pledge, or more than it has outstanding: the rules say which
                worth = exchange.value(parts, rate_used, books.currency)
                postings = [Posting(_cash(e), a, books.currency) for e, a in worth.items()]
                postings.append(Posting(model.receivable(who.slug), -sum(worth.values(), ZERO), books.currency))
        data = {"member": who.name, **({"pledge": pledge_id} if pledge_id is not None else {})}
        return _entry(
            note, "contribute", postings, **data, **_original(parts, currency, rate_used)
        )
    total = money.parse_amount(amount, books.currency)
    parts = parse_splits(splits, books.currency)
    if pledge_id is None:
        rest = total - _sum(parts.values(), total, "contribution")
        shares = {**parts, **({None: rest} if rest else {})}
        credit = [Posting(model.contributions(who.slug), -total, books.currency)]
    else:
        shares = _against_pledge(books, who.name, pledge_id, total, parts)
        credit = [Posting(model.receivable(who.slug, e), -share, books.currency) for e, share in shares.items()]
    debit = [Posting(_cash(e), share, books.currency) for e, share in shares.items()]
    data = {"member": who.name, **({"pledge": pledge_id} if pledge_id is not None else {})}
    return _entry(note, "contribute", debit + credit, **data)


def earmark(
    books: Books, name: str, amount: str, note: Note, *, source: str = "unallocated", purpose: str = ""
) -> Entry:
    """Set cash aside for a purpose, from unallocated cash or from another earmark."""
    model.check_key(name, "earmark")
    total = money.parse_amount(amount, books.currency)
    postings = [
        Posting(model.earmarked(name), total, books.currency),
        Posting(model.envelope(_source(source)), -total, books.currency),
    ]
    data = {"earmark": name, **({"purpose": purpose} if purpose else {})}
    return _entry(note, "earmark", postings, **data)


def package(books: Books, name: str, amount: str, sources: Sequence[str], note: Note) -> Entry:
    """Commit cash to a purchase package, from one or more earmarks or unallocated cash.

    Each source is `NAME` or `NAME=AMOUNT`; at most one has no amount, and it takes the rest.
    """
    model.check_key(name, "package")
    total = money.parse_amount(amount, books.currency)
    taken = _sources(books, sources, total, "package")
    postings = [Posting(model.committed(name), total, books.currency)]
    postings += [Posting(model.envelope(source), -part, books.currency) for source, part in taken.items()]
    return _entry(note, "package", postings, package=name)


def pay(
    books: Books,
    name: str,
    amount: str,
    note: Note,
    *,
    supplier: str = "",
    invoice: str = "",
    again: str = "",
    contract: str = "",
) -> Entry:
    """Pay out of what a package (or one of its contracts) has committed; `invoice` guards against paying twice.

    Against a contract in another currency the amount is written in it, and paid at the rate of the day.
    """
    known = books.contract(contract) if contract else None
    if known is not None:
        contract = known.ref
    extra: dict[str, object] = {"supplier": supplier, "invoice": invoice, "again": again, "contract": contract}
    if known is not None and known.foreign:
        foreign = _foreign(books, amount, note, None)
        if foreign is None or foreign[0] != known.currency:
            raise BadInput(f"contract {known.ref} is in {known.currency}: write the amount in it, "
                           f"such as {money.format_money(known.original_left, known.currency)}")  # fmt: skip
        currency, rate_used = foreign
        given = money.parse_amount(amount, currency)
        postings = exchange.contract_payment(name, known.ref, known.remaining, known.original_left, given, currency,
                                             rate_used, books.currency)  # fmt: skip
        extra.update(original_amount=money.to_text(given, currency), original_currency=currency, rate=str(rate_used))
        return _entry(note, "pay", postings, package=name, **{key: value for key, value in extra.items() if value})
    total = money.parse_amount(amount, books.currency)
    paid_from = model.contracted(name, contract) if contract else model.committed(name)
    postings = [Posting(model.expense(name), total, books.currency), Posting(paid_from, -total, books.currency)]
    return _entry(note, "pay", postings, package=name, **{key: value for key, value in extra.items() if value})


def reverse(books: Books, entry_id: int, reason: str, note: Note) -> Entry:
    """Undo an entry by posting exactly its opposite; the original stays as it was."""
    original = books.entry(entry_id)
    postings = [Posting(p.account, -p.amount, p.currency) for p in original.postings] if original else []
    return _entry(note, "reverse", postings, reverses=entry_id, reason=reason)


def repair(books: Books, file: str, offset: int, removed: bytes, note: Note) -> Entry:
    """The record of an unfinished write cut from the end of a journal file."""
    return _entry(
        note,
        "repair",
        file=file,
        offset=offset,
        removed_bytes=len(removed),
        removed_sha256=hashlib.sha256(removed).hexdigest(),
    )


def supplier(books: Books, name: str, country: str, note: Note, *, number: str = "") -> Entry:
    """Name a supplier once, with its country (ISO 3166 code) and, if it has one, its registration number."""
    return _entry(note, "supplier", supplier=" ".join(name.split()), country=country.upper(),
                  **({"number": number} if number else {}))  # fmt: skip


def contract(
    books: Books, package_name: str, supplier_name: str, amount: str, ref: str, note: Note,
    *, item: str = "", quantity: int | None = None,
) -> Entry:  # fmt: skip
    """Commit part of a package to a supplier under reference `ref`: the money moves into the contract's envelope.

    In another currency (`SEK 5M`), its value at the rate of the contract's day moves, and the contract is
    followed in that currency: each payment relieves it of its share, the difference an exchange gain or loss.
    """
    known = books.supplier(supplier_name)
    data: dict[str, object] = {"package": package_name, "supplier": known.name if known else supplier_name,
                               "contract": ref}  # fmt: skip
    foreign = _foreign(books, amount, note, None)
    if foreign:
        currency, rate_used = foreign
        given = money.parse_amount(amount, currency)
        postings = exchange.contract(package_name, ref, given, rate_used, books.currency)
        data.update(original_amount=money.to_text(given, currency), original_currency=currency, rate=str(rate_used))
    else:
        total = money.parse_amount(amount, books.currency)
        postings = [
            Posting(model.contracted(package_name, ref), total, books.currency),
            Posting(model.committed(package_name), -total, books.currency),
        ]
    if item:
        data["item"] = item
    if quantity is not None:
        data["quantity"] = quantity
    return _entry(note, "contract", postings, **data)


def deliver(
    books: Books, package_name: str, item: str, quantity: int, note: Note,
    *, contract: str = "", recipient: str = "", value: str = "",
) -> Entry:  # fmt: skip
    """What arrived for a package: items, how many, for whom; it moves no money."""
    known = books.contract(contract) if contract else None
    data: dict[str, object] = {"package": package_name, "item": item, "quantity": quantity}
    if contract:
        data["contract"] = known.ref if known else contract
    if recipient:
        data["to"] = recipient
    if value:
        data["value"] = money.to_text(money.parse_amount(value, books.currency), books.currency)
    return _entry(note, "deliver", **data)


def statement(
    books: Books, name: str, account: str, fmt: str, currency: str, rows: int, note: Note,
    *, opening: tuple[dt.date, Decimal] | None = None, closing: tuple[dt.date, Decimal] | None = None,
) -> Entry:  # fmt: skip
    """A bank statement an import read: the balances the bank stated, kept so that `report reconcile` can
    hold them beside the books' cash for as long as the books last. It moves no money."""
    data: dict[str, object] = {"statement": name, "account": account.replace(" ", "").upper(), "format": fmt,
                               "currency": currency, "rows": rows}  # fmt: skip
    for which, balance in (("opening", opening), ("closing", closing)):
        if balance is not None:
            data[which], data[f"{which}_date"] = money.to_text(balance[1], currency), balance[0].isoformat()
    return _entry(note, "statement", **data)


def officer(books: Books, name: str, key: str, roles: Sequence[str], note: Note) -> Entry:
    """Name an officer of the fund with the SSH public key its commits are signed with, and its roles."""
    return _entry(note, "officer", officer=" ".join(name.split()), key=" ".join(key.split()[:2]), roles=list(roles))


def policy(books: Books, kind: str, approvals: int, note: Note, *, above: str = "") -> Entry:
    """How many other officers must approve an entry of `kind` (only above `above`, if given)."""
    data: dict[str, object] = {"target": kind, "approvals": approvals}
    if above:
        data["above"] = money.to_text(money.parse_amount(above, books.currency), books.currency)
    return _entry(note, "policy", **data)


def propose(books: Books, entry: Entry, note: Note) -> Entry:
    """A proposal of `entry`: it moves no money until enough other officers approve it."""
    import json

    proposed = json.dumps(model.proposable(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _entry(note, "proposal", proposed=proposed, needed=max(books.approvals_needed(entry), 1))


def approve_proposal(books: Books, proposal_id: int, note: Note) -> list[Entry]:
    """The approval of a proposal and, when it is the last one needed, the entry it books (recorded together)."""
    approval = _entry(note, "approval", proposal=proposal_id)
    proposal = books.proposals.get(proposal_id)
    if proposal is None or len(proposal.approvals) + 1 < proposal.needed or proposal.status != "open":
        return [approval]
    return [approval, _entry_proposed(proposal.proposed)]


def _entry_proposed(proposed: dict) -> Entry:
    """The entry a proposal holds, to be recorded now (its date, memo, source, fields and postings as proposed)."""
    data = {k: v for k, v in proposed.items() if k not in ("kind", "date", "memo", "source", "postings")}
    postings = [Posting(p["account"], Decimal(p["amount"]), p["currency"]) for p in proposed["postings"]]
    note = Note(dt.date.fromisoformat(proposed["date"]), proposed["memo"], proposed["source"])
    return _entry(note, proposed["kind"], postings, **data)


def reject(books: Books, proposal_id: int, reason: str, note: Note) -> Entry:
    """Close a proposal without booking it, saying why."""
    return _entry(note, "reject", proposal=proposal_id, reason=reason)


def interest(books: Books, amount: str, note: Note, *, envelope: str = "unallocated") -> Entry:
    """Bank interest received into an envelope (unallocated, an earmark, or `package:NAME`)."""
    total = money.parse_amount(amount, books.currency)
    postings = [
        Posting(model.cash_account(envelope), total, books.currency),
        Posting(model.INTEREST, -total, books.currency),
    ]
    return _entry(note, "interest", postings, envelope=envelope)


def charge(books: Books, amount: str, note: Note, *, envelope: str = "unallocated") -> Entry:
    """A bank charge, out of an envelope."""
    return _spend(books, "charge", model.BANK_CHARGES, amount, note, envelope)


def fee(books: Books, amount: str, note: Note, *, envelope: str = "unallocated") -> Entry:
    """The manager's fee, out of an envelope."""
    return _spend(books, "fee", model.MANAGEMENT_FEE, amount, note, envelope)


def _spend(books: Books, kind: str, account: str, amount: str, note: Note, envelope: str) -> Entry:
    total = money.parse_amount(amount, books.currency)
    postings = [Posting(account, total, books.currency), Posting(model.cash_account(envelope), -total, books.currency)]
    return _entry(note, kind, postings, envelope=envelope)


def write_off(books: Books, pledge_id: int, reason: str, note: Note, *, withdrawn: bool = False) -> Entry:
    """Close what is left of a pledge: written off by the fund (an expense), or withdrawn by the member."""
    promised = books.pledges.get(pledge_id)
    data: dict[str, object] = {"pledge": pledge_id, "reason": reason}
    if withdrawn:
        data["withdrawn"] = True
    if promised is None:
        return _entry(note, "write_off", (), **data, amount="0", currency=books.currency)
    who = _member(books, promised.member)
    released = {e: promised.outstanding(e) for e in promised.split if promised.outstanding(e)}
    postings = [Posting(model.receivable(who.slug, e), -amount, books.currency) for e, amount in released.items()]
    closed = model.contributions(who.slug) if withdrawn else model.write_offs(who.slug)
    postings.append(Posting(closed, sum(released.values(), ZERO), books.currency))
    left = money.to_text(promised.total_original_outstanding, promised.currency)
    return _entry(note, "write_off", postings, **data, amount=left, currency=promised.currency)


def amend(
    books: Books, name: str, note: Note, reason: str, *, change: str = "", sources: Sequence[str] = (), close: bool = False
) -> Entry:
    """Increase a package (`+1M`, from `sources`), decrease it (`-2M`) or close it, giving back what it does
    not need to the envelopes it came from, in proportion to what each gave it."""
    package = books.packages.get(name)
    data: dict[str, object] = {"package": name, "reason": reason, **({"close": True} if close else {})}
    if close:
        amount = -(package.remaining if package else ZERO)
    else:
        sign, text = (-1, change[1:]) if change.startswith("-") else (1, change.removeprefix("+"))
        amount = sign * money.parse_amount(text, books.currency)
    if amount > 0:
        taken = _sources(books, sources, amount, "amendment")
        postings = [Posting(model.committed(name), amount, books.currency)]
        postings += [Posting(model.envelope(source), -part, books.currency) for source, part in taken.items()]
        return _entry(note, "amend", postings, **data)
    if sources:
        raise BadInput("a decrease gives back to where the money came from; it takes no --envelope")
    back = {}
    if package and -amount <= package.remaining:
        back = give_back(package, -amount, books.currency) if amount else {}
    elif amount:
        back = {"unallocated": -amount}  # more than it has: the rules refuse it, and say how much
    postings = [Posting(model.committed(name), amount, books.currency)] if amount else []
    postings += [Posting(model.envelope(source), part, books.currency) for source, part in back.items()]
    return _entry(note, "amend", postings, **data)


def amend_contract(
    books: Books, ref: str, note: Note, reason: str, *, change: str = "", close: bool = False
) -> Entry:
    """Increase a contract (`+1M`, from what its package has not put under contract), decrease it (`-2M`) or
    close it, giving back to the package what the contract does not need."""
    known = books.contract(ref)
    package = known.package if known else ""
    ref = known.ref if known else ref
    data: dict[str, object] = {"contract": ref, "package": package, "reason": reason, **({"close": True} if close else {})}
    if close:
        amount = -(known.remaining if known else ZERO)
    else:
        sign, text = (-1, change[1:]) if change.startswith("-") else (1, change.removeprefix("+"))
        amount = sign * money.parse_amount(text, books.currency)
    postings = []
    if amount:
        postings = [
            Posting(model.contracted(package, ref), amount, books.currency),
            Posting(model.committed(package), -amount, books.currency),
        ]
    return _entry(note, "amend_contract", postings, **data)


def close(books: Books, period: str, note: Note) -> Entry:
    """Close a period: every account's balance at its end, and the seal a report as of its end prints."""
    try:
        start, end = model.period_bounds(period)
    except ValueError as problem:
        raise BadInput(str(problem)) from None
    balances, seal = books.balances_on(end)
    closing = {account: money.to_text(amount, books.currency) for account, amount in balances.items()}
    # Its `state` (ledger.state) is the writer's to add: it is of the books the close is sealed after.
    return _entry(note, "close", period=period, start=start.isoformat(), end=end.isoformat(), balances=closing, seal=seal)


def reopen(books: Books, close_id: int, reason: str, note: Note) -> Entry:
    """Reopen a closed period, saying why; the audit lists every reopening."""
    return _entry(note, "reopen", close=close_id, reason=reason)


def _sources(books: Books, sources: Sequence[str], total: Decimal, what: str) -> dict[str, Decimal]:
    """`--envelope` options (`NAME` or `NAME=AMOUNT`) that add up to `total`; at most one leaves out its amount."""
    if not sources:
        raise BadInput(f"a {what} needs at least one --envelope (an earmark or 'unallocated')")
    taken: dict[str, Decimal] = {}
    open_ended = []
    for text in sources:
        source, _, part = text.partition("=")
        source = _source(source.strip())
        if source in taken or source in open_ended:
            raise BadInput(f"--envelope {source} is given twice")
        if part:
            taken[source] = money.parse_amount(part, books.currency)
        else:
            open_ended.append(source)
    if len(open_ended) > 1:
        raise BadInput("only one --envelope may leave out its amount; it takes what the others do not")
    named = _sum(taken.values(), total, what)
    if open_ended:
        if named == total:
            raise BadInput(f"--envelope {open_ended[0]} would take nothing: the other sources already cover the {what}")
        taken[open_ended[0]] = total - named
    elif named != total:
        raise BadInput(
            f"the sources add up to {money.format_money(named, books.currency)}, "
            f"the {what} is {money.format_money(total, books.currency)}"
        )
    return taken


def parse_splits(splits: Sequence[str], currency: str) -> dict[str | None, Decimal]:
    """`EARMARK=AMOUNT` options, each earmark once."""
    parts: dict[str | None, Decimal] = {}
    for text in splits:
        name, equals, amount = text.partition("=")
        name = name.strip()
        if not equals or not name or not amount.strip():
            raise BadInput(f"--split {text!r} must look like EARMARK=AMOUNT, for example drones=20M")
        model.check_key(name, "earmark")
        if name in parts:
            raise BadInput(f"--split names earmark {name} twice")
        parts[name] = money.parse_amount(amount, currency)
    return parts


def _against_pledge(
    books: Books, member: str, pledge_id: int, total: Decimal, parts: dict[str | None, Decimal]
) -> dict[str | None, Decimal]:
    """How a receipt settles a pledge: as `--split` says, else pro rata to what is outstanding.

    For a pledge that is not there or not `member`'s, all of it unearmarked: the rules refuse it.
    """
    pledge = books.pledges.get(pledge_id)
    if pledge is None or pledge.member != member:
        return {None: total}
    return _against_pledge_in(pledge, total, parts)


def _settles(promised, member: str, parts: dict[str | None, Decimal]) -> bool:
    """Whether a receipt of `parts` (the pledge's currency) is one the pledge can take, part by part."""
    return (
        promised is not None
        and promised.member == member
        and all(e in promised.original_split and a <= promised.original_outstanding(e) for e, a in parts.items())
    )


def _foreign(books: Books, amount: str, note: Note, rate_text: str | None) -> tuple[str, Decimal] | None:
    """(currency, rate) when `amount` is written in another currency than the fund's; None when it is not."""
    given, _ = money.split_currency(amount)
    if given is None or given == books.currency:
        if rate_text is not None:
            raise BadInput(
                f"--rate is for an amount in another currency (such as £10M); this one is in {books.currency}"
            )
        return None
    if rate_text is not None:
        return given, money.parse_rate(rate_text)
    known = books.rate_on(given, note.date)
    if known is None:
        raise Refused(
            f"no {given} rate on or before {note.date}: record one with "
            f"`fundledger rate {given} RATE --date {note.date}`, or give --rate"
        )
    return given, known[0]


def _parts_given(total: Decimal, named: dict[str | None, Decimal], what: str) -> dict[str | None, Decimal]:
    rest = total - _sum(named.values(), total, what)
    return {**named, **({None: rest} if rest else {})}


def _against_pledge_in(promised, total: Decimal, named: dict[str | None, Decimal]) -> dict[str | None, Decimal]:
    """How a receipt in a pledge's own currency settles its parts: as `--split` says, else pro rata."""
    currency = promised.currency
    if named:
        for earmark in named:
            if earmark not in promised.original_split:
                raise BadInput(
                    f"pledge #{promised.id} has no {earmark} part (it has {_parts(promised.original_split)})"
                )
        given = _sum(named.values(), total, "receipt")
        if given != total:
            raise BadInput(
                f"--split adds up to {money.format_money(given, currency)}, "
                f"the receipt is {money.format_money(total, currency)}"
            )
        return named
    outstanding = {
        e: promised.original_outstanding(e) for e in promised.original_split if promised.original_outstanding(e) > 0
    }
    if total > sum(outstanding.values(), ZERO):
        return {None: total}  # more than it has outstanding: the rules refuse it, and say how much is
    return money.allocate(total, outstanding, currency)


def _original(parts: dict[str | None, Decimal], currency: str, rate_used: Decimal) -> dict[str, object]:
    """The fields that keep what was given as it was given: the amount, its currency, the rate, the named parts."""
    named = {e: money.to_text(a, currency) for e, a in parts.items() if e is not None}
    return {
        **({"split": named} if named else {}),
        "original_amount": money.to_text(sum(parts.values(), ZERO), currency),
        "original_currency": currency,
        "rate": str(rate_used),
    }


def _entry(note: Note, kind: str, postings: Sequence[Posting] = (), **data: object) -> Entry:
    return Entry(
        id=0,
        date=note.date,
        recorded_at=model.now(),
        kind=kind,
        postings=tuple(postings),
        memo=note.memo,
        source=note.source,
        data=data,
    )


def _member(books: Books, name: str):
    """The member `name` means; for a name no member has, a stand-in that the rules refuse."""
    return books.member(name) or Member(name, model.slug(name) or "?")


def _known_or_new(books: Books, name: str) -> str:
    """The recorded spelling of a known member, or a new name checked for safety."""
    found = books.member(name) if model.slug(name) else None
    return found.name if found else model.check_member_name(name)


def _source(name: str) -> str:
    return name if name == "unallocated" else model.check_key(name, "earmark")


def _cash(earmark: str | None) -> str:
    return model.earmarked(earmark) if earmark else model.UNALLOCATED


def _sum(amounts, total: Decimal, what: str) -> Decimal:
    named = sum(amounts, ZERO)
    if named > total:
        raise BadInput(f"the split adds up to more than the {what} ({named} > {total})")
    return named


def _parts(split: dict[str | None, Decimal]) -> str:
    return ", ".join(e or "unearmarked" for e in split)
