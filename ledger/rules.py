"""The rules that protect the fund's money, each a small `check_<rule>` function.

A check takes the books as they stand before an entry and the entry, and
raises `Refused` with one line saying what is wrong and what the numbers are.
Some rules hold for every entry (`check_sequence`, `check_postings`,
`check_accounts`, `check_envelopes`); each kind of entry has one rule of its
own (`check_<kind>`) and, if it moves money, the accounts it may move it
between (`accounts_<kind>`). The registry in `ledger.kinds` pairs each kind
with its parts, and `fold.check` runs them in order, the same when an entry
is recorded and when a journal is read. Rules are the only refusal: the
operations in `ledger.fund` build entries and leave judging them here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from decimal import Decimal

from ledger import exchange, model, money, state
from ledger.books import ZERO, Books, Member, give_back, invoice_key, latest_statement, receivable_parts
from ledger.errors import BadInput, Refused
from ledger.model import Entry
from ledger.text import did_you_mean

Accounts = tuple[tuple[str, ...], tuple[str, ...]]  # (may debit, may credit): accounts or their parents


# --- rules every entry meets -------------------------------------------------


def check_hash(books: Books, entry: Entry) -> None:
    if entry.hash != model.entry_hash(entry):
        raise Refused(f"entry #{entry.id} has a hash that does not match its content")


def check_sequence(books: Books, entry: Entry) -> None:
    if entry.id != books.last_id + 1:
        raise Refused(f"entry #{entry.id} is out of sequence: the next id is {books.last_id + 1}")
    if entry.prev != books.seal:
        raise Refused(f"entry #{entry.id} does not chain to entry #{books.last_id} (prev {entry.prev[:12]}…)")


def check_open_period(books: Books, entry: Entry) -> None:
    """Nothing is dated in a closed period: a report of it gives the same figures forever."""
    close = books.closed_on(entry.date)
    if close is not None:
        raise Refused(
            f"{entry.date} is in {close.period}, closed by #{close.id} on {close.date}: nothing may be dated in it; "
            f"date the correction after {close.end}, in the open period"
        )


def check_four_eyes(books: Books, entry: Entry, proposing: bool = False) -> None:
    """Once a fund names its officers, what its policy lists is booked only after another officer approves it.

    The entry booked must be exactly what was proposed, right after the approval that completes it; who
    proposed and who approved is proven by the signatures on the git commits (`audit`), not here.
    """
    if books.booking is not None and entry.kind not in ("approval", "proposal", "reject"):  # their rules say
        proposal = books.proposals[books.booking]
        if model.proposable(entry) != proposal.proposed:
            raise Refused(
                f"proposal #{proposal.id} was approved by #{proposal.approvals[-1]}: the next entry is the "
                f"{proposal.proposed['kind']} it proposed, exactly"
            )
        return
    if entry.kind in ("approval", "proposal", "reject") or proposing or books.booking is not None:
        return
    needed = books.approvals_needed(entry)
    if needed:
        raise Refused(
            f"a {entry.kind} entry needs {'another officer' if needed == 1 else f'{needed} other officers'} to approve "
            f"it: record it with `fundledger propose {entry.kind} …`, then `fundledger approve ID`"
        )


def check_postings(books: Books, entry: Entry, moves_money: bool) -> None:
    """Amounts are non-zero, in the ledger's currency, and each entry balances per currency."""
    if entry.kind == "reverse":  # a reversal moves money as the entry it undoes did (a delivery moves none)
        undone = books.entry(entry.get("reverses"))
        moves_money = undone is None or bool(undone.postings)
    if not moves_money:
        if entry.postings:
            raise Refused(f"a {entry.kind} entry has no postings")
        return
    if not entry.postings:
        raise Refused(f"a {entry.kind} entry needs postings")
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for posting in entry.postings:
        if posting.currency != books.currency:
            raise Refused(f"posting to {posting.account} is in {posting.currency}; this ledger keeps {books.currency}")
        if posting.amount == 0:
            raise Refused(f"posting to {posting.account} is zero")
        totals[posting.currency] += posting.amount
    for currency, total in totals.items():
        if total != 0:
            raise Refused(f"entry does not balance: its {currency} postings sum to {money.to_text(total, currency)}")


def check_limit(books: Books, entry: Entry) -> None:
    """No account's balance reaches the amount limit, either way: every sum stays exact in Decimal."""
    money.check_balances(books.balance, entry.postings)


def check_accounts(books: Books, entry: Entry) -> None:
    """Every account is one of the chart's, for a known member, earmark name or package."""
    for posting in entry.postings:
        if not _known_account(books, entry, posting.account):
            raise Refused(f"account {posting.account!r} is not known to this ledger")


def check_allowed(books: Books, entry: Entry, allowed: Accounts) -> None:
    """A kind moves money only between the accounts its event concerns."""
    debits, credits = allowed
    for posting in entry.postings:
        may = debits if posting.amount > 0 else credits
        if not any(posting.account == a or posting.account.startswith(a + ":") for a in may):
            side = "debit" if posting.amount > 0 else "credit"
            raise Refused(f"a {entry.kind} entry cannot {side} {posting.account}")


def check_envelopes(books: Books, entry: Entry) -> None:
    """No asset account (an envelope of cash, or a pledge receivable) goes below zero on any day."""
    taken: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for posting in entry.postings:
        if posting.account.startswith("assets:"):
            taken[posting.account] += posting.amount
    for account, change in taken.items():
        if change >= 0:
            continue
        lowest = books.lowest_from(account, entry.date)
        if lowest + change < 0:
            later = books.balance(account) != lowest
            when = f" from {entry.date} on" if later else ""
            have = _describe(books, account, _fmt(books, max(lowest, ZERO)))
            loss = entry.kind == "pay" and entry.get("original_currency") and account.count(":") == 3
            noun = "exchange loss" if loss else _noun(entry)
            raise Refused(f"{have}{when}; {noun} of {_fmt(books, -change)} exceeds it")


# --- membership --------------------------------------------------------------


def check_join(books: Books, entry: Entry) -> None:
    name, member = _membership(books, entry)
    _check_name(lambda role: model.check_key(role, "role"), entry.get("role"))
    if member and member.status == "active":
        raise Refused(f"{name} is already a member (since {member.joined})")
    if member and member.status == "pending":
        raise Refused(f"{name} has applied; admit it with `member approve`, not `member join`")
    if member and member.left and entry.date < member.left:
        raise Refused(f"{name} left on {member.left}; it cannot rejoin before that")


def check_apply(books: Books, entry: Entry) -> None:
    name, member = _membership(books, entry)
    if member and member.status in ("active", "pending"):
        raise Refused(f"{name} is already {'a member' if member.status == 'active' else 'an applicant'}")
    if member and member.left and entry.date < member.left:
        raise Refused(f"{name} left on {member.left}; it cannot apply again before that")


def check_approve(books: Books, entry: Entry) -> None:
    name, member = _membership(books, entry)
    if member is None or member.status != "pending":
        near = did_you_mean(name, [m.name for m in books.members.values() if m.status == "pending"])
        raise Refused(f"{name} has no pending application{near or '; record `member apply` first'}")
    if entry.date < member.applied:
        raise Refused(f"{name} applied on {member.applied}; it cannot be approved before that")
    by, decision = entry.get("by"), entry.get("decision")
    if bool(by) == bool(decision):
        raise Refused("an approval names either the approving member (--by) or a collective decision (--decision)")
    if by:
        approver = books.members.get(by)
        if approver is None or not approver.is_active(entry.date):
            near = did_you_mean(by, [m.name for m in books.active_members(entry.date)]) if approver is None else ""
            raise Refused(f"{by} is not an active member on {entry.date}, so it cannot approve {name}{near}")
        if by in member.approvals:
            raise Refused(f"{by} already approved {name} on {member.approvals[by]}")


def check_leave(books: Books, entry: Entry) -> None:
    name, member = _membership(books, entry)
    if member is None or member.status != "active":
        near = did_you_mean(name, [m.name for m in books.members.values() if m.status == "active"]) if not member else ""
        raise Refused(f"{name} is not an active member, so it cannot leave{near}")
    if entry.date < member.joined:
        raise Refused(f"{name} joined on {member.joined}; it cannot leave before that")
    if member.last_dealing is not None and member.last_dealing >= entry.date:
        later = [
            e.id
            for e in books.entries  # read only to name the entry in the refusal
            if e.get("member") == name and e.kind in ("pledge", "contribute") and e.date >= entry.date
        ]
        raise Refused(f"{name} has entries dated on or after {entry.date} (#{later[0]}); it cannot leave before them")
    for applicant in books.members.values():
        approved = [day for day in applicant.approvals.values() if day >= entry.date]
        if applicant.status == "pending" and approved:
            raise Refused(
                f"{applicant.name}'s application has an approval dated {max(approved)}, on or after {entry.date}; "
                f"{name} cannot leave before it (date the leave later)"
            )


def _membership(books: Books, entry: Entry) -> tuple[str, Member | None]:
    """What every membership entry needs: a proper name, not a near twin of a known member's."""
    name = entry.get("member")
    _check_name(model.check_member_name, name)
    clash = books.member(name)
    if clash is not None and clash.name != name:
        raise Refused(f"member name {name!r} is too like {clash.name!r}; use that name")
    return name, books.members.get(name)


# --- money in -----------------------------------------------------------------


def check_pledge(books: Books, entry: Entry) -> None:
    """An active member pledges for a sensible year, its split named properly, converted exactly."""
    _check_active_member(books, entry)
    year = entry.get("year")
    if not 1900 <= year <= 2999:
        raise Refused(f"pledge year {year} is not a year")
    for earmark in entry.get("split") or {}:
        _check_name(lambda e: model.check_key(e, "earmark"), earmark)
    _check_conversion(books, entry, None)
    _check_schedule(books, entry)


def _check_schedule(books: Books, entry: Entry) -> None:
    """A due date, or instalments that add up to the pledge, none before the pledge's date."""
    due, instalments = entry.get("due"), entry.get("instalments") or {}
    if due and instalments:
        raise Refused("a pledge has a due date or instalments, not both")
    if due:
        try:
            due = dt.date.fromisoformat(due) if len(due) == 10 else None
        except ValueError:
            due = None
        if due is None:
            raise Refused(f"due date {entry.get('due')!r} is not a day (YYYY-MM-DD)")
    if due and due < entry.date:
        raise Refused(f"a pledge made on {entry.date} cannot fall due on {due}, before it")
    if not instalments:
        return
    currency = entry.get("original_currency") or books.currency
    total = ZERO
    for day, amount in instalments.items():
        try:
            when, part = dt.date.fromisoformat(day) if len(day) == 10 else None, money.parse_stored(amount, currency)
            if when is None:
                raise ValueError(day)
        except (ValueError, BadInput):
            raise Refused(f"instalment {day} = {amount!r} is not a date and an amount in {currency}") from None
        if when < entry.date or part <= 0:
            raise Refused(f"an instalment falls due on or after the pledge ({entry.date}) and is more than zero")
        total += part
    pledged = money.parse_stored(entry.get("original_amount"), currency) if entry.get("original_currency") else sum(
        (p.amount for p in entry.postings if p.account.startswith(model.RECEIVABLE + ":")), ZERO
    )
    if total != pledged:
        raise Refused(
            f"the instalments add up to {money.format_money(total, currency)}, "
            f"the pledge is {money.format_money(pledged, currency)}"
        )


def check_contribute(books: Books, entry: Entry) -> None:
    """An active member gives; a receipt against a pledge stays within what the pledge has outstanding."""
    _check_active_member(books, entry)
    promised = None
    if entry.get("pledge"):
        promised = books.pledges.get(entry.get("pledge"))
        if promised is None:
            raise Refused(f"#{entry.get('pledge')} is not a pledge")
        if promised.member != entry.get("member"):
            raise Refused(f"pledge #{promised.id} is {promised.member}'s, not {entry.get('member')}'s")
        if promised.reversed_by is not None:
            raise Refused(f"pledge #{promised.id} was reversed by #{promised.reversed_by}")
        if entry.date < promised.date:
            raise Refused(
                f"pledge #{promised.id} was made on {promised.date}; a receipt against it cannot be dated before"
            )
        _check_within_pledge(books, entry, promised)
    _check_conversion(books, entry, promised)


def _check_within_pledge(books: Books, entry: Entry, promised) -> None:
    """The receipt as a whole, then each part, within what the pledge has outstanding (in its own currency)."""
    given = _given(entry)
    if given is not None and promised.foreign and given.currency == promised.currency:
        total, left, currency = given.amount, promised.total_original_outstanding, promised.currency
    elif given is None and not promised.foreign:
        total = -sum((p.amount for p in entry.postings if p.account.startswith(model.RECEIVABLE + ":")), ZERO)
        left, currency = promised.total_outstanding, books.currency
    else:
        return  # in another currency than the pledge's: the conversion rule says so
    if total > left:
        raise Refused(
            f"pledge #{promised.id} of {promised.member} has {money.format_money(left, currency)} outstanding; "
            f"receipt of {money.format_money(total, currency)} exceeds it "
            "(record the excess as a contribution of its own, without --pledge)"
        )
    if promised.foreign:
        return  # each part: the conversion rule, in the pledge's currency
    relieved = {
        receivable_parts(p.account)[1]: -p.amount for p in entry.postings if p.account.startswith(model.RECEIVABLE + ":")
    }
    cash = {p.account: p.amount for p in entry.postings if p.amount > 0}
    if cash != {(model.earmarked(e) if e else model.UNALLOCATED): amount for e, amount in relieved.items()}:
        raise Refused(
            f"a receipt against pledge #{promised.id} puts each part's money where the pledge meant it: "
            "its earmark, or unallocated cash for the part not earmarked"
        )
    for posting in entry.postings:
        if posting.account.startswith(model.RECEIVABLE + ":"):
            _, earmark = receivable_parts(posting.account)
            if earmark not in promised.split:
                raise Refused(f"pledge #{promised.id} has no {earmark or 'unearmarked'} part")
            part_left = promised.outstanding(earmark)
            if -posting.amount > part_left:
                part = f" for {earmark}" if earmark else ""
                raise Refused(
                    f"pledge #{promised.id} of {promised.member} has {_fmt(books, part_left)} outstanding{part}; "
                    f"receipt of {_fmt(books, -posting.amount)} exceeds it"
                )


def _check_active_member(books: Books, entry: Entry) -> None:
    """Only a member active on the entry's date pledges or contributes."""
    name = entry.get("member")
    member = books.members.get(name)
    if member is None:
        near = did_you_mean(name, [m.name for m in books.members.values()])
        raise Refused(f"{name} is not a member of this fund{near or '; record `member join` first'}")
    if not member.is_active(entry.date):
        raise Refused(f"{name} is not an active member on {entry.date}: {_why_not_active(member, entry.date)}")


def _why_not_active(member: Member, day) -> str:
    """Why a member was not active on `day`: by its periods around that day, not by its status today."""
    ended = [end for start, end in member.periods if end is not None and end <= day]
    later = [start for start, _ in member.periods if start > day]
    if later and not ended:
        return f"it became a member on {min(later)}"
    if ended:
        return f"it left on {max(ended)}" + (f" and became a member again on {min(later)}" if later else "")
    if member.status == "pending":
        return "its application is not yet approved"
    return f"it became a member on {member.joined}"


def _given(entry: Entry) -> model.Given | None:
    try:
        return model.given_as(entry)
    except (ValueError, ArithmeticError, BadInput) as problem:
        raise Refused(f"the amount given is not readable: {problem}") from None


def _check_conversion(books: Books, entry: Entry, promised) -> None:
    """Money given or pledged in another currency is booked at exactly its conversion, and stays in it."""
    fields = [entry.get(name) for name in ("original_amount", "original_currency", "rate")]
    if not any(fields):
        _check_own_split(books, entry)
        if promised is not None and promised.foreign:
            raise Refused(
                f"pledge #{promised.id} is in {promised.currency}; a receipt against it is in {promised.currency} too"
            )
        return
    if not all(fields):
        raise Refused("an entry in another currency needs its original_amount, original_currency and rate")
    currency = entry.get("original_currency")
    if currency not in money.PLACES or currency == books.currency:
        raise Refused(f"{currency!r} is not another currency this fund can take")
    rate = _stored_rate(entry)
    given = _given(entry)
    total, parts = given.amount, given.parts
    if total <= 0 or any(a <= 0 for a in parts.values()):
        raise Refused(f"the amounts given in {currency} must be more than zero and the split within the total")
    slug = model.slug(entry.get("member"))
    if entry.kind == "pledge":
        expected = exchange.pledge(slug, parts, rate, books.currency)
    elif promised is None:
        expected = exchange.gift(slug, parts, rate, books.currency)
    else:
        if promised.currency != currency:
            raise Refused(
                f"pledge #{promised.id} is in {promised.currency}; a receipt against it cannot be in {currency}"
            )
        for earmark in parts:
            if earmark not in promised.original_split:
                raise Refused(f"pledge #{promised.id} has no {earmark or 'unearmarked'} part")
        expected = exchange.receipt(slug, promised, parts, rate, books.currency)
    if _key(expected) != _key(entry.postings):
        raise Refused(
            f"the postings are not the conversion of {money.format_money(total, currency)} at {rate}: "
            f"expected {', '.join(f'{p.account} {money.to_text(p.amount, p.currency)}' for p in expected)}"
        )


def _check_own_split(books: Books, entry: Entry) -> None:
    """In the fund's currency, a pledge's `split` says what its receivable postings hold; a receipt has none."""
    split = entry.get("split")
    if split is None:
        return
    if entry.kind != "pledge":
        raise Refused("a contribution in the fund's currency has no split: its postings say where the money went")
    slug = _slug(books, entry)
    held = {p.account: p.amount for p in entry.postings}
    for earmark, amount in split.items():
        try:
            named = money.parse_stored(amount, books.currency)
        except (BadInput, ValueError):
            named = None
        if named is None or held.get(model.receivable(slug, earmark)) != named:
            raise Refused(f"the pledge's split for {earmark} ({amount!r}) is not what its postings pledge for it")


def check_rate(books: Books, entry: Entry) -> None:
    """A rate is for a known currency other than the fund's, and more than zero."""
    currency = entry.get("currency")
    if currency not in money.PLACES:
        raise Refused(f"unknown currency {currency!r}: use an ISO 4217 code such as GBP, NOK or PLN")
    if currency == books.currency:
        raise Refused(f"{currency} is this fund's own currency; a rate is for another currency")
    _stored_rate(entry)


def _key(postings) -> list:
    return sorted((p.account, p.amount, p.currency) for p in postings)


def _stored_rate(entry: Entry) -> Decimal:
    try:
        rate = money.parse_rate(entry.get("rate"))
    except BadInput as problem:
        raise Refused(str(problem)) from None
    if str(rate) != entry.get("rate"):
        raise Refused(f"rate {entry.get('rate')!r} is not written as a plain decimal")
    return rate


# --- money out ----------------------------------------------------------------


def check_earmark(books: Books, entry: Entry) -> None:
    """An earmark has a proper name and is never funded from itself."""
    name = entry.get("earmark")
    _check_name(lambda e: model.check_key(e, "earmark"), name)
    if any(p.account == model.earmarked(name) for p in entry.postings if p.amount < 0):
        raise Refused(f"earmark {name} cannot be funded from itself")
    _check_sources_known(books, entry)


def check_package(books: Books, entry: Entry) -> None:
    """A package has a name of its own."""
    name = entry.get("package")
    _check_name(lambda p: model.check_key(p, "package"), name)
    if name in books.packages:
        raise Refused(f"package {name} already exists (#{books.packages[name].id}); choose another name")
    _check_sources_known(books, entry)


def check_supplier(books: Books, entry: Entry) -> None:
    """A supplier is named once, in printable text, with the ISO code of its country."""
    name = entry.get("supplier")
    if not name.strip() or name != " ".join(name.split()) or len(name) > 128 or not name.isprintable():
        raise Refused(f"supplier name {name!r} is not allowed: 1 to 128 printable characters, single spaces")
    known = books.supplier(name)
    if known is not None:
        raise Refused(f"supplier {known.name} is already named (since {known.since})")
    if not re.fullmatch(r"[A-Z]{2}", entry.get("country")):
        raise Refused(f"country {entry.get('country')!r} is not an ISO 3166 code of two capital letters, such as SE")


def check_contract(books: Books, entry: Entry) -> None:
    """A contract of an open package with a named supplier, under a reference of its own."""
    package = _open_package(books, entry.get("package"), "a contract")
    _known_supplier(books, entry.get("supplier"), entry.date)
    ref = entry.get("contract")
    _check_name(lambda r: model.check_key(model.slug(r) or r, "contract reference"), ref)
    if books.contract(ref) is not None:
        raise Refused(f"contract {books.contract(ref).ref} already exists (#{books.contract(ref).id})")
    if entry.date < package.date:
        raise Refused(f"package {package.name} dates from {package.date}; a contract cannot be dated before")
    if (entry.get("quantity") is None) != (not entry.get("item")):
        raise Refused("a contract states an item and its quantity together, or neither")
    if entry.get("quantity") is not None and entry.get("quantity") <= 0:
        raise Refused("a contract's quantity is a whole number more than zero")
    given = _foreign_given(books, entry)
    if given is not None:
        expected = exchange.contract(entry.get("package"), ref, given.amount, given.rate, books.currency)
        _check_converted(entry, expected, given)


def _foreign_given(books: Books, entry: Entry) -> model.Given | None:
    """What an entry was given in another currency as (checked whole), or None for one in the fund's."""
    fields = [entry.get(name) for name in ("original_amount", "original_currency", "rate")]
    if not any(fields):
        return None
    if not all(fields):
        raise Refused("an entry in another currency needs its original_amount, original_currency and rate")
    if entry.get("original_currency") not in money.PLACES or entry.get("original_currency") == books.currency:
        raise Refused(f"{entry.get('original_currency')!r} is not another currency this fund can take")
    _stored_rate(entry)
    given = _given(entry)
    if given.amount <= 0:
        raise Refused(f"the amount given in {given.currency} must be more than zero")
    return given


def _check_converted(entry: Entry, expected, given: model.Given) -> None:
    if _key(expected) != _key(entry.postings):
        raise Refused(
            f"the postings are not the conversion of {money.format_money(given.amount, given.currency)} at "
            f"{given.rate}: expected {', '.join(f'{p.account} {money.to_text(p.amount, p.currency)}' for p in expected)}"
        )


def check_deliver(books: Books, entry: Entry) -> None:
    """What arrived for an open package (or one of its contracts), never more than a contract states."""
    package = books.packages.get(entry.get("package"))
    if package is None:
        raise Refused(_no_package(books, entry.get("package")))
    if package.reversed_by is not None:
        raise Refused(f"package {package.name} was cancelled by #{package.reversed_by}")
    if entry.date < package.date:
        raise Refused(f"package {package.name} dates from {package.date}; a delivery cannot be dated before")
    if entry.get("quantity") <= 0 or not entry.get("item", "").strip():
        raise Refused("a delivery names its item and a quantity more than zero")
    if entry.get("value"):
        _stored_amount(books, entry.get("value"), "value ")
    if not entry.get("contract"):
        return
    contract = _contract_of(books, entry)
    if contract.quantity is not None and contract.item == entry.get("item"):
        done = contract.delivered.get(contract.item, 0)
        if done + entry.get("quantity") > contract.quantity:
            raise Refused(
                f"contract {contract.ref} is for {contract.quantity} {contract.item}; {done} were delivered, "
                f"so {entry.get('quantity')} more exceeds it"
            )


def check_statement(books: Books, entry: Entry) -> None:
    """A bank statement an import recorded: the bank's id for it, balances written exactly in a known currency,
    its opening no later than its closing, and not recorded already unless that import was reversed."""
    name, account = entry.get("statement", ""), entry.get("account", "")
    if not name.strip():
        raise Refused("a bank statement is recorded under the bank's id for it, and this one has none")
    for what, text in (("id", name), ("account", account)):
        if len(text) > 64 or not text.isprintable():
            raise Refused(f"a statement's {what} is at most 64 printable characters, not {text[:64]!r}")
    currency = entry.get("currency")
    if currency not in money.PLACES:
        raise Refused(f"unknown currency {currency!r} for statement {name!r}: use an ISO 4217 code such as EUR")
    days = [_statement_balance(entry, which, currency) for which in ("opening", "closing")]
    if days == [None, None]:
        raise Refused(f"statement {name!r} states no balance; a statement is recorded for its balances")
    if None not in days and days[1] < days[0]:
        raise Refused(f"statement {name!r} closes on {days[1]}, before it opens ({days[0]})")
    if entry.get("rows", 0) < 0:
        raise Refused(f"statement {name!r} cannot have {entry.get('rows')} rows")
    prior = latest_statement(books, account, name)
    if prior is not None and prior.reversed_by is None:
        raise Refused(
            f"statement {name!r} of account {account or '(none named)'} was already recorded as #{prior.id}; "
            "reverse that import (`reverse --batch`) to import it again"
        )


def _statement_balance(entry: Entry, which: str, currency: str) -> dt.date | None:
    """The day of a statement's `which` balance (None: it states none), its amount checked as stored money."""
    amount, day = entry.get(which), entry.get(f"{which}_date")
    if amount is None and day is None:
        return None
    if amount is None or day is None:
        raise Refused(f"the statement's {which} balance needs both an amount and a day")
    try:
        money.parse_stored(amount, currency)
        return dt.date.fromisoformat(day)
    except (BadInput, ValueError, TypeError):
        raise Refused(f"the statement's {which} balance ({amount!r} on {day!r}) is not an amount and a day") from None


def _stored_amount(books: Books, text: object, what: str = "") -> None:
    """An optional amount field, written exactly as the journal stores the fund's money, or refused."""
    try:
        money.parse_stored(text, books.currency)
    except (BadInput, ValueError):
        raise Refused(f"{what}{text!r} is not an amount in {books.currency}") from None


def _open_package(books: Books, name: str, what: str):
    package = books.packages.get(name)
    if package is None:
        raise Refused(_no_package(books, name))
    if package.reversed_by is not None or package.closed_by is not None:
        raise Refused(f"package {name} is {package.status}; it takes no {what.split()[-1]}")
    return package


def _known_supplier(books: Books, name: str, day) -> None:
    known = books.supplier(name)
    if known is not None and known.since > day:
        raise Refused(f"supplier {known.name} was named on {known.since}, after {day}: name it on or before the day")
    if known is not None:
        return
    near = did_you_mean(name, (s.name for s in books.suppliers.values()), cutoff=0.6)
    hint = near or f"; name it first with `supplier add {name!r} --country CC`"
    raise Refused(f"{name!r} is not a supplier of this fund{hint}")


def _contract_of(books: Books, entry: Entry):
    contract = books.contract(entry.get("contract"))
    if contract is None:
        raise Refused(_no_contract(books, entry.get("contract")))
    if contract.package != entry.get("package"):
        raise Refused(f"contract {contract.ref} is package {contract.package}'s, not {entry.get('package')}'s")
    if contract.reversed_by is not None:
        raise Refused(f"contract {contract.ref} was cancelled by #{contract.reversed_by}")
    return contract


def check_pay(books: Books, entry: Entry) -> None:
    """A payment goes to an open package (and contract), on or after its date, to a supplier the fund knows."""
    name = entry.get("package")
    package = books.packages.get(name)
    if package is None:
        raise Refused(_no_package(books, name))
    given = _foreign_given(books, entry)
    if entry.get("contract"):
        contract = _contract_of(books, entry)
        if entry.get("supplier") and books.supplier(entry.get("supplier")) is not books.supplier(contract.supplier):
            raise Refused(f"contract {contract.ref} is with {contract.supplier}, not {entry.get('supplier')}")
        if contract.foreign != (given is not None) or (given and given.currency != contract.currency):
            raise Refused(f"contract {contract.ref} is in {contract.currency or books.currency}; "
                          f"a payment against it is in {contract.currency or books.currency} too")  # fmt: skip
        if given is not None:
            expected = exchange.contract_payment(name, contract.ref, contract.remaining, contract.original_left,
                                                 given.amount, given.currency, given.rate, books.currency)  # fmt: skip
            _check_converted(entry, expected, given)
    elif given is not None:
        raise Refused("a payment in another currency is made against a contract in that currency (--contract)")
    elif entry.get("supplier") and books.suppliers:
        _known_supplier(books, entry.get("supplier"), entry.date)
    if package.reversed_by is not None:
        raise Refused(f"package {name} was cancelled by #{package.reversed_by}")
    if entry.date < package.date:
        raise Refused(f"package {name} dates from {package.date}; a payment cannot be dated before")
    if package.closed_by is not None:
        raise Refused(f"package {name} was closed by #{package.closed_by}; it has nothing left to pay")
    if entry.get("invoice") and not entry.get("again", "").strip():
        first = books.invoices.get(invoice_key(entry))
        if first is not None:
            supplier = f" from {entry.get('supplier')}" if entry.get("supplier") else ""
            raise Refused(
                f"invoice {entry.get('invoice')}{supplier} was already paid by #{first[0]} on {first[1]}; "
                "to pay it again, say why with --again"
            )


def check_reverse(books: Books, entry: Entry) -> None:
    """An entry that moved money is reversed at most once, with a reason, by exactly its opposite postings."""
    target_id = entry.get("reverses")
    original = books.entry(target_id)
    if original is None:
        raise Refused(f"there is no entry #{target_id} to reverse (the newest is #{books.last_id})")
    if original.kind == "reverse":
        raise Refused(f"#{target_id} is itself a reversal; record the original event again instead")
    if original.kind in ("join", "apply", "approve", "leave"):
        raise Refused(f"#{target_id} is a membership entry; record `member leave` instead of reversing it")
    if original.kind == "repair":
        raise Refused(f"#{target_id} records a repair of the journal; it cannot be undone")
    if original.kind == "supplier":
        raise Refused(f"#{target_id} names a supplier; a name is not undone")
    if original.kind in ("proposal", "approval", "reject", "officer", "policy"):
        raise Refused(f"#{target_id} is a {original.kind} entry; it is not reversed (reject a proposal, or record anew)")
    if original.kind == "close":
        raise Refused(f"#{target_id} closes a period; record `reopen {target_id} --reason …` instead")
    if original.kind == "reopen":
        raise Refused(f"#{target_id} reopens a period; close it again with `close` instead")
    # A delivery and a bank statement move no money, but they can be undone (a statement with its import's batch).
    if not original.postings and original.kind not in ("deliver", "statement"):
        raise Refused(f"#{target_id} is a {original.kind} entry, which moves no money: record a new one instead")
    if target_id in books.reversed_by:
        raise Refused(f"#{target_id} was already reversed by #{books.reversed_by[target_id]}")
    _check_not_stranded(books, original)
    if not entry.get("reason", "").strip():
        raise Refused("a reversal needs a reason")
    if entry.date < original.date:
        raise Refused(f"#{target_id} is dated {original.date}; its reversal cannot be dated before")
    opposite = sorted((p.account, -p.amount, p.currency) for p in original.postings)
    if sorted((p.account, p.amount, p.currency) for p in entry.postings) != opposite:
        raise Refused(f"a reversal of #{target_id} must post exactly the opposite of its postings")
    if original.kind == "pledge" and books.pledges[target_id].total_received:
        received = _fmt(books, books.pledges[target_id].total_received)
        raise Refused(f"pledge #{target_id} has {received} received against it; reverse those receipts first")


def _check_not_stranded(books: Books, original: Entry) -> None:
    """A reversal that would leave money in a closed package, or deliveries under a cancelled contract, waits."""
    if original.kind == "pay":
        package = books.packages.get(original.get("package"))
        if package is not None and package.closed_by is not None:
            raise Refused(
                f"package {package.name} was closed by #{package.closed_by}; reverse the close first, so that "
                "the money comes back to a package that can pay or give it back"
            )
    if original.kind == "contract":
        contract = books.contract(original.get("contract"))
        if contract is not None and any(contract.delivered.values()):
            raise Refused(f"contract {contract.ref} has deliveries recorded against it; reverse those first")


_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_repair(books: Books, entry: Entry) -> None:
    """A repair names a journal file, where the cut began, and how many bytes with which SHA-256."""
    if not (entry.get("offset") >= 0 and entry.get("removed_bytes") > 0):
        raise Refused("a repair records where its cut began (0 or more) and how many bytes it removed (1 or more)")
    if not _SHA256.fullmatch(entry.get("removed_sha256")):
        raise Refused("a repair records the SHA-256 of the bytes it removed, as 64 hex digits")
    if entry.get("removed_sha256") == hashlib.sha256(b"").hexdigest():
        raise Refused("a repair that removed nothing is no repair")


# --- a real year: interest, charges, fees, write-offs, amendments, closes ------------


# --- four eyes: officers, policy, proposals, approvals ----------------------------------

ROLES = ("recorder", "approver", "auditor")
_SSH_KEY = re.compile(r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}")
KIND_NAMES: tuple[str, ...] = ()  # the registry's kinds, set by ledger.kinds (which imports this module)


def check_officer(books: Books, entry: Entry) -> None:
    """An officer has a name, the SSH public key its commits are signed with, and roles from the three."""
    name = entry.get("officer")
    if not name.strip() or name != " ".join(name.split()) or len(name) > 128 or not name.isprintable():
        raise Refused(f"officer name {name!r} is not allowed: 1 to 128 printable characters, single spaces")
    if not _SSH_KEY.match(entry.get("key")) or not entry.get("key").isprintable():
        raise Refused("an officer's key is an SSH public key, as in a .pub file (ssh-ed25519 AAAA…)")
    roles = entry.get("roles")
    if not roles or not all(isinstance(role, str) and role in ROLES for role in roles):
        raise Refused(f"an officer's roles are one or more of {', '.join(ROLES)}")
    if any(o.key.split()[:2] == entry.get("key").split()[:2] and o.name != name for o in books.officers.values()):
        raise Refused("that key is another officer's; each officer signs with a key of their own")


def check_policy(books: Books, entry: Entry) -> None:
    """A policy names a kind of entry, how many other officers approve it, and perhaps from what amount."""
    if entry.get("target") not in KIND_NAMES:
        raise Refused(f"{entry.get('target')!r} is not a kind of entry{did_you_mean(str(entry.get('target')), KIND_NAMES)}")
    if not 0 <= entry.get("approvals") <= 5:
        raise Refused("a policy asks for 0 to 5 approvals")
    if entry.get("above"):
        _stored_amount(books, entry.get("above"))


def check_proposal(books: Books, entry: Entry) -> None:
    """What is proposed must be an entry the rules would record now; its booking checks them again."""
    import json

    from ledger import fold, kinds  # they import this module

    if books.booking is not None:
        raise Refused(f"proposal #{books.booking} was approved: the next entry is what it proposed")
    try:
        proposed = json.loads(entry.get("proposed"))
        candidate = kinds.from_record(
            {**proposed, "id": entry.id, "date": dt.date.fromisoformat(proposed["date"]),
             "recorded_at": entry.recorded_at, "prev": entry.prev, "hash": "",
             "postings": [{**p} for p in proposed.get("postings", [])]}
        )
    except (ValueError, TypeError, KeyError, AttributeError) as problem:
        raise Refused(f"the proposed entry cannot be read: {problem}") from None
    if candidate.kind in ("proposal", "approval", "reject"):
        raise Refused(f"a {candidate.kind} is not proposed; it is recorded")
    if model.proposable(candidate) != proposed:
        raise Refused("the proposed entry is not written as fundledger writes entries")
    if entry.get("needed") != max(books.approvals_needed(candidate), 1):
        raise Refused(f"a {candidate.kind} of this size needs {max(books.approvals_needed(candidate), 1)} approval(s)")
    fold.check(books, candidate.sealed(books.last_id + 1, books.seal), proposing=True)


def check_approval(books: Books, entry: Entry) -> None:
    """An open proposal is approved, on or after its day; the last approval it needs books it next."""
    proposal = books.proposals.get(entry.get("proposal"))
    if proposal is None:
        raise Refused(f"#{entry.get('proposal')} is not a proposal")
    if proposal.status != "open":
        by = proposal.rejected_by if proposal.rejected_by is not None else proposal.booked_as
        raise Refused(f"proposal #{proposal.id} is {proposal.status} (#{by})")
    if books.booking is not None:
        raise Refused(f"proposal #{books.booking} was approved: the next entry is what it proposed")
    if entry.date < proposal.date:
        raise Refused(f"proposal #{proposal.id} was made on {proposal.date}; it cannot be approved before")
    if len(proposal.approvals) + 1 >= proposal.needed:  # this approval books it: it must be bookable now
        _check_bookable(books, proposal)


def _check_bookable(books: Books, proposal) -> None:
    """The entry a proposal holds passes every rule as the books stand (else approving it would block them)."""
    from ledger import fold, kinds  # they import this module

    proposed = proposal.proposed
    record = {**proposed, "id": books.last_id + 1, "date": dt.date.fromisoformat(proposed["date"]),
              "recorded_at": model.now(), "prev": books.seal, "hash": ""}  # fmt: skip
    candidate = kinds.from_record(record).sealed(books.last_id + 1, books.seal)
    try:
        fold.check(books, candidate, proposing=True)
    except Refused as problem:
        raise Refused(f"proposal #{proposal.id} cannot be booked now: {problem}") from None


def check_reject(books: Books, entry: Entry) -> None:
    """An open proposal is rejected with a reason."""
    proposal = books.proposals.get(entry.get("proposal"))
    if proposal is None:
        raise Refused(f"#{entry.get('proposal')} is not a proposal")
    if proposal.status != "open":
        raise Refused(f"proposal #{proposal.id} is {proposal.status}")
    if not entry.get("reason", "").strip():
        raise Refused("a rejection needs a reason")  # (a proposal approved but not bookable may still be rejected)
    if books.booking is not None and books.booking != proposal.id:
        raise Refused(f"proposal #{books.booking} was approved: the next entry is what it proposed")


def check_interest(books: Books, entry: Entry) -> None:
    """Interest goes into an envelope this fund has."""
    _check_envelope(books, entry.get("envelope"))


def check_charge(books: Books, entry: Entry) -> None:
    """A bank charge comes out of an envelope this fund has (the envelope rule says if it can cover it)."""
    _check_envelope(books, entry.get("envelope"))


def check_fee(books: Books, entry: Entry) -> None:
    """The manager's fee comes out of an envelope this fund has."""
    _check_envelope(books, entry.get("envelope"))


def _check_envelope(books: Books, envelope: str) -> None:
    if envelope == "unallocated":
        return
    if envelope.startswith("package:"):
        name = envelope.removeprefix("package:")
        package = books.packages.get(name)
        if package is None:
            raise Refused(_no_package(books, name))
        if package.reversed_by is not None or package.closed_by is not None:
            raise Refused(f"package {name} is {package.status}; it holds no money")
        return
    _check_name(lambda e: model.check_key(e, "earmark"), envelope)
    if envelope not in books.earmarks:
        near = did_you_mean(envelope, [*books.earmarks, "unallocated"])
        raise Refused(f"there is no earmark {envelope!r}{near or '; name one this fund has, or unallocated'}")


def check_write_off(books: Books, entry: Entry) -> None:
    """What is left of a pledge is closed once, with a reason, for exactly what it has outstanding."""
    promised = books.pledges.get(entry.get("pledge"))
    if promised is None:
        raise Refused(f"#{entry.get('pledge')} is not a pledge")
    if promised.reversed_by is not None:
        raise Refused(f"pledge #{promised.id} was reversed by #{promised.reversed_by}")
    if promised.closed_by is not None:
        raise Refused(f"pledge #{promised.id} was already closed by #{promised.closed_by}")
    if not entry.get("reason", "").strip():
        raise Refused("a write-off needs a reason")
    if entry.date < promised.date:
        raise Refused(f"pledge #{promised.id} was made on {promised.date}; it cannot be closed before")
    left = promised.total_original_outstanding
    if left <= 0:
        raise Refused(f"pledge #{promised.id} has nothing outstanding to close")
    try:
        closed = money.parse_stored(entry.get("amount"), promised.currency)
    except (BadInput, ValueError):
        closed = None
    if closed != left or entry.get("currency") != promised.currency:
        raise Refused(
            f"pledge #{promised.id} of {promised.member} has {money.format_money(left, promised.currency)} "
            f"outstanding; a write-off closes exactly that, not {entry.get('amount')} {entry.get('currency')}"
        )
    expected = {
        model.receivable(_member_slug(books, promised.member), e): -promised.outstanding(e)
        for e in promised.split
        if promised.outstanding(e)
    }
    released = {p.account: p.amount for p in entry.postings if p.account.startswith(model.RECEIVABLE + ":")}
    if released != expected:
        raise Refused(f"a write-off of pledge #{promised.id} must release exactly what its receivable still holds")


def check_amend(books: Books, entry: Entry) -> None:
    """A package is increased, decreased or closed with a reason; what it gives back goes where it came from."""
    name = entry.get("package")
    package = books.packages.get(name)
    if package is None:
        raise Refused(_no_package(books, name))
    if package.reversed_by is not None or package.closed_by is not None:
        raise Refused(f"package {name} is {package.status}; it cannot be amended")
    if not entry.get("reason", "").strip():
        raise Refused("an amendment needs a reason")
    if entry.date < package.date:
        raise Refused(f"package {name} dates from {package.date}; an amendment cannot be dated before")
    _check_sources_known(books, entry)
    change = sum((p.amount for p in entry.postings if p.account == model.committed(name)), ZERO)
    under_contract = {c.ref: c.remaining for c in books.contracts.values() if c.package == name and c.remaining}
    if entry.get("close") and under_contract:
        refs = ", ".join(under_contract)
        raise Refused(f"package {name} has contracts not yet paid in full ({refs}); close those first")
    if entry.get("close") and -change != package.remaining:
        raise Refused(
            f"closing package {name} releases exactly what is not paid ({_fmt(books, package.remaining)}), "
            f"not {_fmt(books, -change)}"
        )
    if change < 0:
        if -change > package.remaining:
            raise Refused(
                f"package {name} has {_fmt(books, package.remaining)} not yet paid; "
                f"a decrease of {_fmt(books, -change)} would go below what is paid"
            )
        expected = give_back(package, -change, books.currency)
        given_back = {
            _source_name(p.account): p.amount for p in entry.postings if p.account != model.committed(name)
        }
        if given_back != expected:
            parts = ", ".join(f"{s} {_fmt(books, a)}" for s, a in expected.items())
            raise Refused(
                f"what package {name} gives back goes to where it came from, in proportion: {parts}"
            )


def check_amend_contract(books: Books, entry: Entry) -> None:
    """A contract grows from its package's money not under contract, or gives back what it does not need."""
    contract = books.contract(entry.get("contract"))
    if contract is None:
        raise Refused(_no_contract(books, entry.get("contract")))
    if contract.package != entry.get("package"):
        raise Refused(f"contract {contract.ref} is package {contract.package}'s, not {entry.get('package')}'s")
    if contract.reversed_by is not None or contract.closed_by is not None:
        raise Refused(f"contract {contract.ref} is {'closed' if contract.closed_by else 'cancelled'}; "
                      "it cannot be amended")  # fmt: skip
    if not entry.get("reason", "").strip():
        raise Refused("an amendment needs a reason")
    if entry.date < contract.date:
        raise Refused(f"contract {contract.ref} dates from {contract.date}; an amendment cannot be dated before")
    change = sum((p.amount for p in entry.postings if p.account == model.contracted(contract.package, contract.ref)), ZERO)
    if entry.get("close") and -change != contract.remaining:
        raise Refused(
            f"closing contract {contract.ref} gives back exactly what is not paid ({_fmt(books, contract.remaining)}), "
            f"not {_fmt(books, -change)}"
        )
    if -change > contract.remaining:
        raise Refused(
            f"contract {contract.ref} has {_fmt(books, contract.remaining)} not yet paid; "
            f"a decrease of {_fmt(books, -change)} would go below what is paid"
        )


def check_close(books: Books, entry: Entry) -> None:
    """A period is closed once it is over, holding every account's balance at its end and the seal of it."""
    try:
        start, end = model.period_bounds(entry.get("period"))
    except ValueError as problem:
        raise Refused(str(problem)) from None
    if (entry.get("start"), entry.get("end")) != (start.isoformat(), end.isoformat()):
        raise Refused(f"period {entry.get('period')} runs from {start} to {end}")
    if entry.date <= end:
        raise Refused(f"{entry.get('period')} is not over until {end}; a close is dated after the period")
    for close in books.closes.values():
        if close.reopened_by is None and close.start <= end and start <= close.end:
            raise Refused(f"{close.period} is already closed (#{close.id}), and overlaps {entry.get('period')}")
    balances, seal = books.balances_on(end)
    recorded = {account: money.parse_stored(amount, books.currency) for account, amount in entry.get("balances").items()}
    if recorded != balances or entry.get("seal") != seal:
        raise Refused(f"a close of {entry.get('period')} must hold every account's balance on {end} and its seal")
    recorded = entry.get("state")
    if recorded is None:
        return
    layout = entry.get("state_layout", "")
    if not state.DIGEST.fullmatch(recorded) or not re.fullmatch(r"[0-9a-f]{12}", layout):
        raise Refused("a close's state is sha256:<64 hex digits>, beside its state_layout (12 hex digits)")
    # A state written by another fundledger (another layout of the books) is neither checked nor ever used.
    if layout == state.LAYOUT and recorded != state.of(books, end):
        raise Refused(f"a close of {entry.get('period')} must record the state of the books before it (ledger.state)")


def check_reopen(books: Books, entry: Entry) -> None:
    """A close is undone only by a reopening that says why."""
    close = books.closes.get(entry.get("close"))
    if close is None:
        raise Refused(f"#{entry.get('close')} is not a close")
    if close.reopened_by is not None:
        raise Refused(f"{close.period} was already reopened by #{close.reopened_by}")
    if not entry.get("reason", "").strip():
        raise Refused("a reopening needs a reason")


# --- the accounts each kind of entry may move money between ---------------------


def accounts_pledge(books: Books, entry: Entry) -> Accounts:
    who = _slug(books, entry)
    return (model.receivable(who),), (model.contributions(who),)


def accounts_contribute(books: Books, entry: Entry) -> Accounts:
    who = _slug(books, entry)
    envelopes = (model.UNALLOCATED, model.EARMARKED)
    source = model.receivable(who) if entry.get("pledge") else model.contributions(who)
    if entry.get("pledge") and entry.get("original_currency"):  # an exchange loss is a debit, a gain a credit
        return (*envelopes, model.exchange(who)), (source, model.exchange(who))
    return envelopes, (source,)


def accounts_earmark(books: Books, entry: Entry) -> Accounts:
    return (model.earmarked(entry.get("earmark")),), (model.UNALLOCATED, model.EARMARKED)


def accounts_package(books: Books, entry: Entry) -> Accounts:
    return (model.committed(entry.get("package")),), (model.UNALLOCATED, model.EARMARKED)


def accounts_pay(books: Books, entry: Entry) -> Accounts:
    package = entry.get("package")
    paid_from = model.contracted(package, entry.get("contract")) if entry.get("contract") else model.committed(package)
    if entry.get("original_currency"):  # an exchange gain goes back to the package, a loss comes from it
        return (model.expense(package), model.committed(package)), (paid_from, model.committed(package))
    return (model.expense(package),), (paid_from,)


def accounts_interest(books: Books, entry: Entry) -> Accounts:
    return (model.cash_account(entry.get("envelope")),), (model.INTEREST,)


def accounts_charge(books: Books, entry: Entry) -> Accounts:
    return (model.BANK_CHARGES,), (model.cash_account(entry.get("envelope")),)


def accounts_fee(books: Books, entry: Entry) -> Accounts:
    return (model.MANAGEMENT_FEE,), (model.cash_account(entry.get("envelope")),)


def accounts_write_off(books: Books, entry: Entry) -> Accounts:
    promised = books.pledges.get(entry.get("pledge"))
    who = _member_slug(books, promised.member) if promised else "?"
    closed = model.contributions(who) if entry.get("withdrawn") else model.write_offs(who)
    return (closed,), (model.receivable(who),)


def accounts_contract(books: Books, entry: Entry) -> Accounts:
    return (model.contracted(entry.get("package"), entry.get("contract")),), (model.committed(entry.get("package")),)


def accounts_amend_contract(books: Books, entry: Entry) -> Accounts:
    both = (model.contracted(entry.get("package"), entry.get("contract")), model.committed(entry.get("package")))
    return both, both


def accounts_amend(books: Books, entry: Entry) -> Accounts:
    envelopes = (model.committed(entry.get("package")), model.UNALLOCATED, model.EARMARKED)
    return envelopes, envelopes


def accounts_reverse(books: Books, entry: Entry) -> Accounts:
    """Exactly the accounts of the entry reversed, each on the other side."""
    original = books.entry(entry.get("reverses"))
    if original is None:
        return (), ()
    debited = tuple(p.account for p in original.postings if p.amount > 0)
    credited = tuple(p.account for p in original.postings if p.amount < 0)
    return credited, debited


# --- helpers ------------------------------------------------------------------


def _no_contract(books: Books, ref: str) -> str:
    near = did_you_mean(ref, [c.ref for c in books.contracts.values()], cutoff=0.6)
    return f"there is no contract {ref!r}{near or '; record it with `contract` first'}"


def _no_package(books: Books, name: str) -> str:
    near = did_you_mean(name, books.packages)
    return f"there is no package {name!r}{near or '; record it with `package` first'}"


def _check_sources_known(books: Books, entry: Entry) -> None:
    """Money taken from an earmark comes from one the fund has (not from a misspelt, empty one)."""
    for posting in entry.postings:
        if posting.amount < 0 and posting.account.startswith(model.EARMARKED + ":"):
            earmark = posting.account.rsplit(":", 1)[1]
            if earmark not in books.earmarks:
                near = did_you_mean(earmark, [*books.earmarks, "unallocated"])
                raise Refused(f"there is no earmark {earmark!r}{near or '; take money from one this fund has'}")


def _member_slug(books: Books, name: str) -> str:
    member = books.members.get(name)
    return member.slug if member else "?"


def _source_name(account: str) -> str:
    return "unallocated" if account == model.UNALLOCATED else account.rsplit(":", 1)[1]


def _slug(books: Books, entry: Entry) -> str:
    member = books.members.get(entry.get("member", ""))
    return member.slug if member else "?"


def _known_account(books: Books, entry: Entry, account: str) -> bool:
    parts = account.split(":")
    members = books.slugs

    def package_known(name: str) -> bool:
        return name in books.packages or (entry.kind == "package" and entry.get("package") == name)

    if account == model.UNALLOCATED:
        return True
    if account.startswith(model.EARMARKED + ":"):
        return len(parts) == 4 and _is_key(parts[3])
    if account.startswith(model.COMMITTED + ":"):
        if len(parts) == 5:  # a contract's envelope
            contract = books.contract(parts[4]) or (entry.get("contract") if entry.kind == "contract" else None)
            return package_known(parts[3]) and contract is not None and model.slug(getattr(contract, "ref", contract)) == parts[4]
        return len(parts) == 4 and package_known(parts[3])
    if account.startswith(model.PACKAGE_EXPENSES + ":"):
        return len(parts) == 3 and package_known(parts[2])
    if account.startswith(model.RECEIVABLE + ":"):
        return len(parts) in (3, 4) and parts[2] in members and (len(parts) == 3 or _is_key(parts[3]))
    if account.startswith((model.CONTRIBUTIONS + ":", model.EXCHANGE + ":", model.WRITE_OFFS + ":")):
        return len(parts) == 3 and parts[2] in members
    return account in (model.INTEREST, model.BANK_CHARGES, model.MANAGEMENT_FEE)


def _describe(books: Books, account: str, amount: str) -> str:
    """What an asset account holds, in words: 'package recon has €5.00 left to pay'."""
    if account == model.UNALLOCATED:
        return f"unallocated cash is {amount}"
    name = account.rsplit(":", 1)[1]
    if account.startswith(model.EARMARKED + ":"):
        return f"earmark {name} has {amount} available"
    if account.startswith(model.COMMITTED + ":") and account.count(":") == 4:
        contract = books.contract(name)
        return f"contract {contract.ref if contract else name} has {amount} left to pay"
    if account.startswith(model.COMMITTED + ":"):
        package = books.packages.get(name)
        if package is not None and any(c.package == name for c in books.contracts.values()):
            return f"package {name} has {amount} not under contract"
        return f"package {name} has {amount} left to pay"
    slug, earmark = receivable_parts(account)
    member = next((m.name for m in books.members.values() if m.slug == slug), slug)
    return f"{member} has {amount} pledged{' for ' + earmark if earmark else ''} and not yet received"


def _noun(entry: Entry) -> str:
    nouns = {
        "pay": "payment",
        "contribute": "receipt",
        "reverse": f"reversal of #{entry.get('reverses')}",
        "amend": "decrease",
        "write_off": "write-off",
    }
    return nouns.get(entry.kind, entry.kind)


def _fmt(books: Books, amount: Decimal) -> str:
    return money.format_money(amount, books.currency)


def _is_key(name: str) -> bool:
    try:
        model.check_key(name, "name")
    except BadInput:
        return False
    return True


def _check_name(check_one, name: str) -> None:
    try:
        check_one(name)
    except BadInput as problem:
        raise Refused(str(problem)) from None
