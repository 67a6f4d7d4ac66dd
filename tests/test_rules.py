"""Every refusal in ledger/rules.py, each rule called alone on a tiny ledger written in the test.

The model is beancount's ops/validation_test.py: a case is a few lines of
ledger, one entry, the one rule it breaks and the exact words of the
refusal. `CASES` is the catalogue; `test_kinds.py` checks that every kind of
entry has at least one refusal in it.

A ledger is written one event a line, like the command that records it,
with its date as the last word before any options. The n-th line is entry
#n, built by the operation in `ledger.fund` and folded in with
`writer.seal` (every rule checked), so a ledger that breaks a rule fails
the test before the case runs:

    join Latvia 2024-01-01 [--role co-lead]
    apply Belgium 2024-01-01
    approve Belgium 2024-01-02 --by Latvia | --decision "council 1/24"
    leave Latvia 2024-06-01
    rate GBP 1.15 2024-01-01
    pledge Latvia 100 2024-01-05 [--year 2025] [--split drones=50]...
    contribute Latvia 100 2024-02-01 [--pledge 3] [--split drones=50]...
    earmark drones 50 2024-02-02 [--envelope training]
    package recon 50 2024-02-03 --envelope drones [--envelope unallocated=10]...
    pay recon 20 2024-02-04
    reverse 5 2024-02-05 [--reason "paid twice"]
    repair journal/2024.toml 0 2024-02-06

The entry under test is built the same way (`cmd`), or by hand (`forge`,
`edit`) to reach what no operation builds: forged postings, wrong accounts
or currencies, bad fields. Unless the builder placed it in the chain itself
(the hash and sequence cases), it is sealed as the next entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shlex
import textwrap
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

import pytest

from ledger import fold, fund, kinds, rules, state, writer
from ledger.books import Books
from ledger.errors import Refused
from ledger.model import Entry, Posting

STAMP = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)

Build = Callable[[Books], Entry]
Rule = Callable[[Books, Entry], None]


# --- the little ledger language ------------------------------------------------


def _opt(options: dict[str, list[str]], name: str, default=None):
    return options[name][-1] if options.get(name) else default


OPERATIONS: dict[str, Callable[[Books, list[str], dict[str, list[str]], fund.Note], Entry]] = {
    "join": lambda b, a, o, n: fund.join(b, a[0], _opt(o, "role", "member"), n),
    "apply": lambda b, a, o, n: fund.apply(b, a[0], n),
    "approve": lambda b, a, o, n: fund.approve(b, a[0], n, by=_opt(o, "by", ""), decision=_opt(o, "decision", "")),
    "leave": lambda b, a, o, n: fund.leave(b, a[0], n),
    "rate": lambda b, a, o, n: fund.rate(b, a[0], a[1], n),
    "pledge": lambda b, a, o, n: fund.pledge(b, a[0], a[1], int(_opt(o, "year", n.date.year)), o["split"], n),
    "contribute": lambda b, a, o, n: fund.contribute(
        b, a[0], a[1], n, pledge_id=int(o["pledge"][-1]) if o["pledge"] else None, splits=o["split"]
    ),
    "earmark": lambda b, a, o, n: fund.earmark(b, a[0], a[1], n, source=_opt(o, "envelope", "unallocated")),
    "package": lambda b, a, o, n: fund.package(b, a[0], a[1], o["envelope"], n),
    "pay": lambda b, a, o, n: fund.pay(
        b, a[0], a[1], n, invoice=_opt(o, "invoice", ""), contract=_opt(o, "contract", ""),
        supplier=_opt(o, "supplier", ""),
    ),
    "reverse": lambda b, a, o, n: fund.reverse(b, int(a[0]), _opt(o, "reason", "recorded by mistake"), n),
    "repair": lambda b, a, o, n: fund.repair(b, a[0], int(a[1]), b"[[entry]]\nid = ", n),
    "interest": lambda b, a, o, n: fund.interest(b, a[0], n, envelope=_opt(o, "envelope", "unallocated")),
    "charge": lambda b, a, o, n: fund.charge(b, a[0], n, envelope=_opt(o, "envelope", "unallocated")),
    "fee": lambda b, a, o, n: fund.fee(b, a[0], n, envelope=_opt(o, "envelope", "unallocated")),
    "write-off": lambda b, a, o, n: fund.write_off(
        b, int(a[0]), _opt(o, "reason", "never paid"), n, withdrawn="withdrawn" in o
    ),
    "amend": lambda b, a, o, n: fund.amend(
        b, a[0], n, _opt(o, "reason", "changed"), change=a[1] if len(a) > 1 else "", sources=o["envelope"],
        close="close" in o,
    ),
    "close": lambda b, a, o, n: fund.close(b, a[0], n),
    "supplier": lambda b, a, o, n: fund.supplier(b, a[0], _opt(o, "country", "SE"), n),
    "contract": lambda b, a, o, n: fund.contract(
        b, a[0], a[1], a[2], _opt(o, "ref", "C-1"), n, item=_opt(o, "item", ""),
        quantity=int(_opt(o, "quantity")) if _opt(o, "quantity") else None,
    ),
    "officer": lambda b, a, o, n: fund.officer(b, a[0], _opt(o, "key", KEYS[a[0]]), o["role"] or ["approver"], n),
    "policy": lambda b, a, o, n: fund.policy(b, a[0], int(_opt(o, "approvals", "1")), n, above=_opt(o, "above", "")),
    "approve-proposal": lambda b, a, o, n: fund.approve_proposal(b, int(a[0]), n),
    "approve-only": lambda b, a, o, n: fund.approve_proposal(b, int(a[0]), n)[0],  # its booking not yet made
    "reject": lambda b, a, o, n: fund.reject(b, int(a[0]), _opt(o, "reason", "no"), n),
    "amend-contract": lambda b, a, o, n: fund.amend_contract(
        b, a[0], n, _opt(o, "reason", "changed"), change=a[1] if len(a) > 1 else "", close="close" in o
    ),
    "deliver": lambda b, a, o, n: fund.deliver(
        b, a[0], _opt(o, "item", "drone"), int(_opt(o, "quantity", "1")), n, contract=_opt(o, "contract", "")
    ),
    "reopen": lambda b, a, o, n: fund.reopen(b, int(a[0]), _opt(o, "reason", "adjustment"), n),
    "statement": lambda b, a, o, n: fund.statement(
        b, a[0], _opt(o, "account", "LV80BANK0000435195001"), "camt.053", "EUR", 3, n,
        **{w: _balance(_opt(o, w)) for w in ("opening", "closing") if _opt(o, w)},
    ),
}


def _balance(text: str) -> tuple[dt.date, Decimal]:
    """`AMOUNT@DAY`, a balance as the bank states it."""
    amount, day = text.split("@")
    return dt.date.fromisoformat(day), Decimal(amount)


KEYS = {  # made up: the rules check a key's form; only the audit checks signatures made with one
    "Alice": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAliceAliceAliceAliceAliceAliceAliceAlice",
    "Bob": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBobBobBobBobBobBobBobBobBobBobBobBobBob",
}


def build(books: Books, line: str):
    """The entry one line of the little language stands for, against `books` (not sealed, not checked).

    `propose LINE` is the proposal of LINE's entry; `approve-proposal ID` the approval, and with it the entry
    it books when it is the last one needed (a list).
    """
    if line.startswith("propose "):
        inner = build(books, line.removeprefix("propose "))
        return fund.propose(books, inner, fund.Note(inner.date))
    kind, *words = shlex.split(line)
    args: list[str] = []
    options: dict[str, list[str]] = defaultdict(list)
    words_left = iter(words)
    for word in words_left:
        if word in ("--withdrawn", "--close"):  # flags
            options[word[2:]].append("yes")
        elif word.startswith("--"):
            options[word[2:]].append(next(words_left))
        else:
            args.append(word)
    *args, day = args
    return OPERATIONS[kind](books, args, options, fund.Note(dt.date.fromisoformat(day)))


def ledger(text: str, currency: str = "EUR") -> Books:
    """Books holding the events of `text`, one a line, each checked by every rule as it is folded in."""
    books = Books(currency)
    for line in textwrap.dedent(text).splitlines():
        if line.strip():
            built = build(books, line)
            writer.seal(books, built if isinstance(built, list) else [built])
    return books


def test_the_little_language_builds_the_books_it_says():
    books = ledger(
        """
        join Latvia 2024-01-01 --role co-lead
        join Estonia 2024-01-01
        apply Belgium 2024-01-02
        approve Belgium 2024-01-03 --decision "council 1/24"
        rate GBP 1.15 2024-01-01
        pledge Latvia 100 2024-01-05 --year 2025 --split drones=60
        contribute Latvia 30 2024-02-01 --pledge 6 --split drones=30
        contribute Estonia 50 2024-02-01
        earmark training 20 2024-02-02
        package recon 40 2024-02-03 --envelope drones=30 --envelope unallocated
        pay recon 10 2024-02-04
        reverse 11 2024-02-05 --reason "paid twice"
        leave Estonia 2024-03-01
        """
    )
    assert books.last_id == 13
    assert books.members["Latvia"].role == "co-lead" and books.members["Estonia"].status == "left"
    assert books.members["Belgium"].status == "active"
    assert books.pledges[6].year == 2025 and books.pledges[6].outstanding("drones") == Decimal("30.00")
    assert books.balance("assets:fund:unallocated") == Decimal("20.00")  # 50 - 20 training - 10 for recon
    assert books.packages["recon"].paid == 0 and books.reversed_by == {11: 12}


# --- building the entry under test -----------------------------------------------


def cmd(line: str) -> Build:
    """The entry an operation builds for `line` (the first, for an approval that books its proposal)."""

    def first(books: Books) -> Entry:
        built = build(books, line)
        return built[0] if isinstance(built, list) else built

    return first


def P(account: str, amount: str, currency: str = "EUR") -> Posting:
    return Posting(account, Decimal(amount), currency)


def forge(kind: str, day: str, *postings: Posting, **data) -> Build:
    """An entry written by hand: any postings, any fields."""
    return lambda books: Entry(0, dt.date.fromisoformat(day), STAMP, kind, tuple(postings), data=data)


def edit(line: str, *postings: Posting, drop: tuple[str, ...] = (), **data) -> Build:
    """The entry an operation builds for `line`, then changed: its postings (if any are given) and fields."""

    def changed(books: Books) -> Entry:
        entry = build(books, line)
        fields = {k: v for k, v in entry.data.items() if k not in drop} | data
        return dataclasses.replace(entry, postings=tuple(postings) or entry.postings, data=fields)

    return changed


def placed(line: str, *, ahead: int = 1, prev: str | None = None, **changes) -> Build:
    """The entry for `line` sealed at `ahead` places after the last entry, after `prev`; then `changes`."""

    def seal(books: Books) -> Entry:
        entry = build(books, line).sealed(books.last_id + ahead, books.seal if prev is None else prev)
        return dataclasses.replace(entry, **changes)

    return seal


# --- the rules as `fold.check` calls them -------------------------------------------


def postings(books: Books, entry: Entry) -> None:
    rules.check_postings(books, entry, kinds.REGISTRY[entry.kind].moves_money)


def allowed(books: Books, entry: Entry) -> None:
    rules.check_allowed(books, entry, kinds.REGISTRY[entry.kind].accounts(books, entry))


# --- ledgers used by several cases ----------------------------------------------------

LATVIA = "join Latvia 2024-01-01"

FUNDED = """
join Latvia 2024-01-01
contribute Latvia 100 2024-02-01
"""

PACKAGED = """
join Latvia 2024-01-01
contribute Latvia 100 2024-02-01
package recon 50 2024-03-01 --envelope unallocated
"""

PLEDGED = """
join Latvia 2024-01-01
pledge Latvia 100 2024-03-01 --split drones=50
"""

CONTRACTED = """
join Latvia 2024-01-01
contribute Latvia 100 2024-02-01
package recon 50 2024-03-01 --envelope unallocated
supplier ACME 2024-03-01
contract recon ACME 10 2024-03-02
"""

# Two approvers: from here on, what the default policy lists is proposed and approved.
OFFICERS = """
join Latvia 2024-01-01
contribute Latvia 100 2024-02-01
officer Alice 2024-02-01 --role approver
officer Bob 2024-02-01 --role approver
"""

APPLIED = """
join Latvia 2024-01-01
apply Belgium 2024-02-01
"""

# The United Kingdom pledges £100 at 1.15 (€115.00, #3); the pound is at 1.20 from March (#4).
POUNDS = """
join "United Kingdom" 2024-01-01
rate GBP 1.15 2024-01-01
pledge "United Kingdom" £100 2024-02-01
rate GBP 1.20 2024-03-01
"""
UK = "United Kingdom"
GIFT_IN_POUNDS = 'contribute "United Kingdom" £100 2024-02-01'
PLEDGE_IN_POUNDS = 'pledge "United Kingdom" £100 2024-02-01'


def pounds(**data):
    """A pound pledge of the United Kingdom (£100 at 1.15), its fields changed."""
    return edit(PLEDGE_IN_POUNDS, **data)


CASES: list[tuple[str, str, str, Build, Rule, str]] = [
    # --- every entry: the chain ---------------------------------------------------------
    ("*", "hash-does-not-match-content", FUNDED,
     placed("contribute Latvia 5 2024-03-01", memo="edited after sealing"), rules.check_hash,
     "entry #3 has a hash that does not match its content"),
    ("*", "id-out-of-sequence", FUNDED,
     placed("contribute Latvia 5 2024-03-01", ahead=2), rules.check_sequence,
     "entry #4 is out of sequence: the next id is 3"),
    ("*", "prev-does-not-chain", FUNDED,
     placed("contribute Latvia 5 2024-03-01", prev="ab" * 32), rules.check_sequence,
     "entry #3 does not chain to entry #2 (prev abababababab…)"),
    # --- every entry: its postings --------------------------------------------------------
    ("*", "a-kind-that-moves-no-money-has-postings", LATVIA,
     forge("join", "2024-02-01", P("assets:fund:unallocated", "10.00"), P("income:contributions:latvia", "-10.00"),
           member="Estonia", role="member"), postings,
     "a join entry has no postings"),
    ("*", "a-kind-that-moves-money-has-none", PACKAGED,
     forge("pay", "2024-03-02", package="recon"), postings,
     "a pay entry needs postings"),
    ("*", "posting-in-another-currency", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:unallocated", "10.00", "GBP"),
          P("income:contributions:latvia", "-10.00", "GBP")), postings,
     "posting to assets:fund:unallocated is in GBP; this ledger keeps EUR"),
    ("*", "zero-posting", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:earmarked:drones", "0.00"),
          P("assets:fund:unallocated", "10.00"), P("income:contributions:latvia", "-10.00")), postings,
     "posting to assets:fund:earmarked:drones is zero"),
    ("*", "unbalanced", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:unallocated", "10.00"),
          P("income:contributions:latvia", "-9.99")), postings,
     "entry does not balance: its EUR postings sum to 0.01"),
    # --- every entry: accounts of the chart, for what the ledger knows ---------------------
    ("*", "account-outside-the-chart", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:unallocated", "5.00"), P("assets:fund:petty-cash", "5.00"),
          P("income:contributions:latvia", "-10.00")), rules.check_accounts,
     "account 'assets:fund:petty-cash' is not known to this ledger"),
    ("*", "earmark-account-not-a-name", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:earmarked:Drones", "10.00"),
          P("income:contributions:latvia", "-10.00")), rules.check_accounts,
     "account 'assets:fund:earmarked:Drones' is not known to this ledger"),
    ("*", "earmark-account-too-deep", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:earmarked:drones:night", "10.00"),
          P("income:contributions:latvia", "-10.00")), rules.check_accounts,
     "account 'assets:fund:earmarked:drones:night' is not known to this ledger"),
    ("*", "committed-to-an-unknown-package", FUNDED,
     edit("earmark drones 10 2024-03-01", P("assets:fund:committed:ghost", "10.00"),
          P("assets:fund:unallocated", "-10.00")), rules.check_accounts,
     "account 'assets:fund:committed:ghost' is not known to this ledger"),
    ("*", "expense-of-an-unknown-package", PACKAGED,
     edit("pay recon 10 2024-03-02", P("expenses:packages:ghost", "10.00"),
          P("assets:fund:committed:recon", "-10.00")), rules.check_accounts,
     "account 'expenses:packages:ghost' is not known to this ledger"),
    ("*", "receivable-of-an-unknown-member", LATVIA,
     edit("pledge Latvia 10 2024-02-01", P("assets:receivable:estonia", "10.00"),
          P("income:contributions:latvia", "-10.00")), rules.check_accounts,
     "account 'assets:receivable:estonia' is not known to this ledger"),
    ("*", "receivable-part-not-a-name", LATVIA,
     edit("pledge Latvia 10 2024-02-01", P("assets:receivable:latvia:Drones", "10.00"),
          P("income:contributions:latvia", "-10.00")), rules.check_accounts,
     "account 'assets:receivable:latvia:Drones' is not known to this ledger"),
    ("*", "contributions-of-an-unknown-member", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:unallocated", "10.00"),
          P("income:contributions:estonia", "-10.00")), rules.check_accounts,
     "account 'income:contributions:estonia' is not known to this ledger"),
    ("*", "exchange-differences-of-an-unknown-member", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:fund:unallocated", "10.00"),
          P("income:exchange-differences:estonia", "-10.00")), rules.check_accounts,
     "account 'income:exchange-differences:estonia' is not known to this ledger"),
    # --- every entry: no envelope below zero on any day -------------------------------------
    ("*", "payment-exceeds-what-the-package-has-left", PACKAGED,
     cmd("pay recon 60 2024-03-02"), rules.check_envelopes,
     "package recon has €50.00 left to pay; payment of €60.00 exceeds it"),
    ("*", "backdated-entry-exceeds-the-lowest-balance-from-its-day-on",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     earmark drones 80 2024-03-01
     contribute Latvia 100 2024-04-01
     """,
     cmd("earmark training 30 2024-02-15"), rules.check_envelopes,
     "unallocated cash is €20.00 from 2024-02-15 on; earmark of €30.00 exceeds it"),
    ("*", "package-exceeds-its-earmark",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     earmark drones 50 2024-02-02
     """,
     cmd("package radar 60 2024-03-01 --envelope drones"), rules.check_envelopes,
     "earmark drones has €50.00 available; package of €60.00 exceeds it"),
    ("*", "receipt-exceeds-a-pledged-part", PLEDGED,
     cmd("contribute Latvia 60 2024-03-02 --pledge 2 --split drones=60"), rules.check_envelopes,
     "Latvia has €50.00 pledged for drones and not yet received; receipt of €60.00 exceeds it"),
    ("*", "receipt-exceeds-the-unearmarked-pledge",
     """
     join Latvia 2024-01-01
     pledge Latvia 100 2024-03-01
     """,
     cmd("contribute Latvia 150 2024-03-02 --pledge 2"), rules.check_envelopes,
     "Latvia has €100.00 pledged and not yet received; receipt of €150.00 exceeds it"),
    ("*", "reversal-takes-back-cash-already-earmarked",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     earmark drones 100 2024-02-02
     """,
     cmd("reverse 2 2024-02-03"), rules.check_envelopes,
     "unallocated cash is €0.00; reversal of #2 of €100.00 exceeds it"),
    # --- join ---------------------------------------------------------------------------
    ("join", "name-with-a-digit", LATVIA,
     forge("join", "2024-02-01", member="Latvia 2", role="member"), rules.check_join,
     "member name 'Latvia 2' is not allowed: character '2' is not a letter, space, hyphen, apostrophe or dot"),
    ("join", "name-with-outer-spaces", LATVIA,
     forge("join", "2024-02-01", member=" Estonia", role="member"), rules.check_join,
     "member name ' Estonia' is not allowed: 1 to 64 characters, no outer or double spaces"),
    ("join", "name-not-starting-with-a-letter", LATVIA,
     forge("join", "2024-02-01", member="'Estonia", role="member"), rules.check_join,
     "member name \"'Estonia\" is not allowed: it must start with a letter"),
    ("join", "name-too-like-a-member", LATVIA,
     forge("join", "2024-02-01", member="LATVIA", role="member"), rules.check_join,
     "member name 'LATVIA' is too like 'Latvia'; use that name"),
    ("join", "role-not-a-name", LATVIA,
     cmd("join Estonia 2024-02-01 --role 'Co Lead'"), rules.check_join,
     "role name 'Co Lead' is not allowed: use lower-case letters, digits and single hyphens, at most 64 characters "
     "(for example 'co-lead')"),
    ("join", "already-a-member", LATVIA,
     cmd("join Latvia 2024-05-01"), rules.check_join,
     "Latvia is already a member (since 2024-01-01)"),
    ("join", "an-applicant-is-approved-not-joined", APPLIED,
     cmd("join Belgium 2024-03-01"), rules.check_join,
     "Belgium has applied; admit it with `member approve`, not `member join`"),
    ("join", "rejoins-before-it-left",
     """
     join Latvia 2024-01-01
     leave Latvia 2024-06-01
     """,
     cmd("join Latvia 2024-05-01"), rules.check_join,
     "Latvia left on 2024-06-01; it cannot rejoin before that"),
    # --- apply ----------------------------------------------------------------------------
    ("apply", "name-too-like-a-member", LATVIA,
     forge("apply", "2024-02-01", member="latvia"), rules.check_apply,
     "member name 'latvia' is too like 'Latvia'; use that name"),
    ("apply", "name-with-double-spaces", LATVIA,
     forge("apply", "2024-02-01", member="United  Kingdom"), rules.check_apply,
     "member name 'United  Kingdom' is not allowed: 1 to 64 characters, no outer or double spaces"),
    ("apply", "already-a-member", LATVIA,
     cmd("apply Latvia 2024-02-01"), rules.check_apply,
     "Latvia is already a member"),
    ("apply", "already-an-applicant", APPLIED,
     cmd("apply Belgium 2024-03-01"), rules.check_apply,
     "Belgium is already an applicant"),
    # --- approve ----------------------------------------------------------------------------
    ("approve", "a-member-that-did-not-apply", LATVIA,
     cmd("approve Estonia 2024-02-01 --decision 'council 1/24'"), rules.check_approve,
     "Estonia has no pending application; record `member apply` first"),
    ("approve", "an-active-member", APPLIED,
     cmd("approve Latvia 2024-02-01 --decision 'council 1/24'"), rules.check_approve,
     "Latvia has no pending application; record `member apply` first"),
    ("approve", "before-it-applied", APPLIED,
     cmd("approve Belgium 2024-01-15 --decision 'council 1/24'"), rules.check_approve,
     "Belgium applied on 2024-02-01; it cannot be approved before that"),
    ("approve", "neither-by-nor-decision", APPLIED,
     cmd("approve Belgium 2024-02-02"), rules.check_approve,
     "an approval names either the approving member (--by) or a collective decision (--decision)"),
    ("approve", "both-by-and-decision", APPLIED,
     cmd("approve Belgium 2024-02-02 --by Latvia --decision 'council 1/24'"), rules.check_approve,
     "an approval names either the approving member (--by) or a collective decision (--decision)"),
    ("approve", "by-someone-not-a-member", APPLIED,
     cmd("approve Belgium 2024-02-02 --by Estonia"), rules.check_approve,
     "Estonia is not an active member on 2024-02-02, so it cannot approve Belgium"),
    ("approve", "by-a-member-that-left",
     """
     join Latvia 2024-01-01
     join Estonia 2024-01-01
     leave Estonia 2024-01-20
     apply Belgium 2024-02-01
     """,
     cmd("approve Belgium 2024-02-02 --by Estonia"), rules.check_approve,
     "Estonia is not an active member on 2024-02-02, so it cannot approve Belgium"),
    ("approve", "by-the-same-member-twice",
     """
     join Latvia 2024-01-01
     join Estonia 2024-01-01
     apply Belgium 2024-02-01
     approve Belgium 2024-02-02 --by Latvia
     """,
     cmd("approve Belgium 2024-02-03 --by Latvia"), rules.check_approve,
     "Latvia already approved Belgium on 2024-02-02"),
    # --- leave -----------------------------------------------------------------------------
    ("leave", "an-applicant", APPLIED,
     cmd("leave Belgium 2024-03-01"), rules.check_leave,
     "Belgium is not an active member, so it cannot leave"),
    ("leave", "not-a-member", LATVIA,
     cmd("leave Estonia 2024-03-01"), rules.check_leave,
     "Estonia is not an active member, so it cannot leave"),
    ("leave", "before-it-joined", "join Latvia 2024-02-01",
     cmd("leave Latvia 2024-01-15"), rules.check_leave,
     "Latvia joined on 2024-02-01; it cannot leave before that"),
    ("leave", "before-its-last-receipt", FUNDED,
     cmd("leave Latvia 2024-01-15"), rules.check_leave,
     "Latvia has entries dated on or after 2024-01-15 (#2); it cannot leave before them"),
    ("leave", "on-the-day-of-its-pledge", PLEDGED,
     cmd("leave Latvia 2024-03-01"), rules.check_leave,
     "Latvia has entries dated on or after 2024-03-01 (#2); it cannot leave before them"),
    ("leave", "name-too-like-a-member", LATVIA,
     forge("leave", "2024-03-01", member="latvia"), rules.check_leave,
     "member name 'latvia' is too like 'Latvia'; use that name"),
    # --- pledge ------------------------------------------------------------------------------
    ("pledge", "not-a-member", LATVIA,
     cmd("pledge Estonia 100 2024-02-01"), rules.check_pledge,
     "Estonia is not a member of this fund; record `member join` first"),
    ("pledge", "an-applicant", APPLIED,
     cmd("pledge Belgium 100 2024-02-05"), rules.check_pledge,
     "Belgium is not an active member on 2024-02-05: its application is not yet approved"),
    ("pledge", "after-it-left",
     """
     join Latvia 2024-01-01
     leave Latvia 2024-06-01
     """,
     cmd("pledge Latvia 100 2024-06-01"), rules.check_pledge,
     "Latvia is not an active member on 2024-06-01: it left on 2024-06-01"),
    ("pledge", "before-it-joined", "join Latvia 2024-02-01",
     cmd("pledge Latvia 100 2024-01-15"), rules.check_pledge,
     "Latvia is not an active member on 2024-01-15: it became a member on 2024-02-01"),
    ("pledge", "year-too-early", LATVIA,
     cmd("pledge Latvia 100 2024-02-01 --year 1899"), rules.check_pledge,
     "pledge year 1899 is not a year"),
    ("pledge", "year-too-late", LATVIA,
     cmd("pledge Latvia 100 2024-02-01 --year 3000"), rules.check_pledge,
     "pledge year 3000 is not a year"),
    ("pledge", "split-not-an-earmark-name", LATVIA,
     edit("pledge Latvia 100 2024-02-01 --split drones=50", split={"Drones": "50.00"}), rules.check_pledge,
     "earmark name 'Drones' is not allowed: use lower-case letters, digits and single hyphens, at most 64 characters "
     "(for example 'drones')"),
    ("pledge", "may-debit-only-its-members-receivable",
     """
     join Latvia 2024-01-01
     join Estonia 2024-01-01
     """,
     edit("pledge Latvia 10 2024-02-01", P("assets:receivable:estonia", "10.00"),
          P("income:contributions:latvia", "-10.00")), allowed,
     "a pledge entry cannot debit assets:receivable:estonia"),
    ("pledge", "may-credit-only-its-members-contributions",
     """
     join Latvia 2024-01-01
     join Estonia 2024-01-01
     """,
     edit("pledge Latvia 10 2024-02-01", P("assets:receivable:latvia", "10.00"),
          P("income:contributions:estonia", "-10.00")), allowed,
     "a pledge entry cannot credit income:contributions:estonia"),
    # --- pledge and contribute in another currency: exactly the conversion -------------------
    ("pledge", "in-another-currency-without-its-rate", POUNDS,
     pounds(drop=("rate",)), rules.check_pledge,
     "an entry in another currency needs its original_amount, original_currency and rate"),
    ("pledge", "in-the-funds-own-currency", POUNDS,
     pounds(original_currency="EUR"), rules.check_pledge,
     "'EUR' is not another currency this fund can take"),
    ("pledge", "in-an-unknown-currency", POUNDS,
     pounds(original_currency="XYZ"), rules.check_pledge,
     "'XYZ' is not another currency this fund can take"),
    ("pledge", "rate-unreadable", POUNDS,
     pounds(rate="1,15"), rules.check_pledge,
     "cannot read rate '1,15': write it as a plain decimal such as 1.1850 (a dot, no sign)"),
    ("pledge", "rate-zero", POUNDS,
     pounds(rate="0.00"), rules.check_pledge,
     "rate '0.00' must be more than zero"),
    ("pledge", "rate-not-plain", POUNDS,
     pounds(rate="01.15"), rules.check_pledge,
     "rate '01.15' is not written as a plain decimal"),
    ("pledge", "amount-given-unreadable", POUNDS,
     pounds(original_amount="100"), rules.check_pledge,
     "the amount given is not readable: amount '100' does not have exactly 2 places for GBP"),
    ("pledge", "amount-given-zero", POUNDS,
     pounds(original_amount="0.00"), rules.check_pledge,
     "the amounts given in GBP must be more than zero and the split within the total"),
    ("pledge", "split-beyond-the-amount-given", POUNDS,
     pounds(split={"drones": "150.00"}), rules.check_pledge,
     "the amounts given in GBP must be more than zero and the split within the total"),
    ("pledge", "postings-not-the-conversion", POUNDS,
     edit(PLEDGE_IN_POUNDS, P("assets:receivable:united-kingdom", "116.00"),
          P("income:contributions:united-kingdom", "-116.00")), rules.check_pledge,
     "the postings are not the conversion of £100.00 at 1.15: expected assets:receivable:united-kingdom 115.00, "
     "income:contributions:united-kingdom -115.00"),
    ("contribute", "gift-postings-not-the-conversion", POUNDS,
     edit(GIFT_IN_POUNDS, P("assets:fund:unallocated", "110.00"), P("income:contributions:united-kingdom", "-110.00")),
     rules.check_contribute,
     "the postings are not the conversion of £100.00 at 1.15: expected assets:fund:unallocated 115.00, "
     "income:contributions:united-kingdom -115.00"),
    ("contribute", "receipt-postings-not-the-conversion", POUNDS,
     edit('contribute "United Kingdom" £40 2024-03-01 --pledge 3', P("assets:fund:unallocated", "46.00"),
          P("assets:receivable:united-kingdom", "-46.00")), rules.check_contribute,
     # £40 at 1.20 is €48.00; it relieves the receivable of 40/100 of €115.00, €46.00: a gain of €2.00.
     "the postings are not the conversion of £40.00 at 1.20: expected assets:fund:unallocated 48.00, "
     "assets:receivable:united-kingdom -46.00, income:exchange-differences:united-kingdom -2.00"),
    ("contribute", "receipt-in-the-funds-currency-against-a-pound-pledge", POUNDS,
     forge("contribute", "2024-03-01", P("assets:fund:unallocated", "46.00"),
           P("assets:receivable:united-kingdom", "-46.00"), member=UK, pledge=3), rules.check_contribute,
     "pledge #3 is in GBP; a receipt against it is in GBP too"),
    ("contribute", "receipt-in-dollars-against-a-pound-pledge", POUNDS,
     forge("contribute", "2024-03-01", P("assets:fund:unallocated", "40.00"),
           P("assets:receivable:united-kingdom", "-40.00"), member=UK, pledge=3,
           original_amount="40.00", original_currency="USD", rate="1.00"), rules.check_contribute,
     "pledge #3 is in GBP; a receipt against it cannot be in USD"),
    ("contribute", "receipt-in-pounds-against-a-euro-pledge",
     """
     join "United Kingdom" 2024-01-01
     rate GBP 1.15 2024-01-01
     pledge "United Kingdom" 100 2024-02-01
     """,
     forge("contribute", "2024-03-01", P("assets:fund:unallocated", "46.00"),
           P("assets:receivable:united-kingdom", "-46.00"), member=UK, pledge=3,
           original_amount="40.00", original_currency="GBP", rate="1.15"), rules.check_contribute,
     "pledge #3 is in EUR; a receipt against it cannot be in GBP"),
    ("contribute", "receipt-in-pounds-for-a-part-the-pledge-has-not", POUNDS,
     forge("contribute", "2024-03-01", P("assets:fund:earmarked:training", "36.00"),
           P("assets:receivable:united-kingdom:training", "-36.00"), member=UK, pledge=3,
           split={"training": "30.00"}, original_amount="30.00", original_currency="GBP", rate="1.20"),
     rules.check_contribute,
     "pledge #3 has no training part"),
    ("contribute", "receipt-in-pounds-beyond-the-pledge", POUNDS,
     cmd('contribute "United Kingdom" £150 2024-03-01 --pledge 3'), rules.check_contribute,
     "pledge #3 of United Kingdom has £100.00 outstanding; receipt of £150.00 exceeds it "
     "(record the excess as a contribution of its own, without --pledge)"),
    ("contribute", "receipt-in-pounds-may-not-credit-contributions", POUNDS,
     edit('contribute "United Kingdom" £40 2024-03-01 --pledge 3', P("assets:fund:unallocated", "48.00"),
          P("income:contributions:united-kingdom", "-48.00")), allowed,
     "a contribute entry cannot credit income:contributions:united-kingdom"),
    # --- contribute ----------------------------------------------------------------------------
    ("contribute", "not-a-member", LATVIA,
     cmd("contribute Estonia 10 2024-02-01"), rules.check_contribute,
     "Estonia is not a member of this fund; record `member join` first"),
    ("contribute", "after-it-left",
     """
     join Latvia 2024-01-01
     leave Latvia 2024-06-01
     """,
     cmd("contribute Latvia 10 2024-07-01"), rules.check_contribute,
     "Latvia is not an active member on 2024-07-01: it left on 2024-06-01"),
    ("contribute", "against-an-entry-that-is-not-a-pledge", FUNDED,
     cmd("contribute Latvia 10 2024-03-01 --pledge 2"), rules.check_contribute,
     "#2 is not a pledge"),
    ("contribute", "against-someone-elses-pledge",
     """
     join Latvia 2024-01-01
     join Estonia 2024-01-01
     pledge Latvia 100 2024-03-01
     """,
     cmd("contribute Estonia 10 2024-03-02 --pledge 3"), rules.check_contribute,
     "pledge #3 is Latvia's, not Estonia's"),
    ("contribute", "against-a-reversed-pledge",
     """
     join Latvia 2024-01-01
     pledge Latvia 100 2024-03-01
     reverse 2 2024-03-02 --reason "pledged twice"
     """,
     cmd("contribute Latvia 10 2024-03-03 --pledge 2"), rules.check_contribute,
     "pledge #2 was reversed by #3"),
    ("contribute", "dated-before-its-pledge", PLEDGED,
     cmd("contribute Latvia 10 2024-02-01 --pledge 2"), rules.check_contribute,
     "pledge #2 was made on 2024-03-01; a receipt against it cannot be dated before"),
    ("contribute", "beyond-what-the-pledge-has-outstanding",
     """
     join Latvia 2024-01-01
     pledge Latvia 100 2024-03-01
     contribute Latvia 30 2024-03-02 --pledge 2
     """,
     cmd("contribute Latvia 80 2024-03-03 --pledge 2"), rules.check_contribute,
     "pledge #2 of Latvia has €70.00 outstanding; receipt of €80.00 exceeds it "
     "(record the excess as a contribution of its own, without --pledge)"),
    ("contribute", "for-a-part-the-pledge-has-not", PLEDGED,
     edit("contribute Latvia 10 2024-03-02 --pledge 2", P("assets:fund:earmarked:training", "10.00"),
          P("assets:receivable:latvia:training", "-10.00")), rules.check_contribute,
     "pledge #2 has no training part"),
    ("contribute", "unearmarked-when-the-pledge-is-all-earmarked",
     """
     join Latvia 2024-01-01
     pledge Latvia 100 2024-03-01 --split drones=100
     """,
     edit("contribute Latvia 10 2024-03-02 --pledge 2", P("assets:fund:unallocated", "10.00"),
          P("assets:receivable:latvia", "-10.00")), rules.check_contribute,
     "pledge #2 has no unearmarked part"),
    ("contribute", "beyond-an-earmarked-part", PLEDGED,
     cmd("contribute Latvia 60 2024-03-02 --pledge 2 --split drones=60"), rules.check_contribute,
     "pledge #2 of Latvia has €50.00 outstanding for drones; receipt of €60.00 exceeds it"),
    ("contribute", "beyond-the-unearmarked-part", PLEDGED,
     edit("contribute Latvia 60 2024-03-02 --pledge 2", P("assets:fund:unallocated", "60.00"),
          P("assets:receivable:latvia", "-60.00")), rules.check_contribute,
     "pledge #2 of Latvia has €50.00 outstanding; receipt of €60.00 exceeds it"),
    ("contribute", "against-a-pledge-may-not-credit-contributions", PLEDGED,
     edit("contribute Latvia 10 2024-03-02 --pledge 2", P("assets:fund:unallocated", "10.00"),
          P("income:contributions:latvia", "-10.00")), allowed,
     "a contribute entry cannot credit income:contributions:latvia"),
    ("contribute", "may-not-debit-a-receivable", LATVIA,
     edit("contribute Latvia 10 2024-02-01", P("assets:receivable:latvia", "10.00"),
          P("income:contributions:latvia", "-10.00")), allowed,
     "a contribute entry cannot debit assets:receivable:latvia"),
    # --- rate ----------------------------------------------------------------------------------
    ("rate", "unknown-currency", "",
     cmd("rate XYZ 1.15 2024-01-01"), rules.check_rate,
     "unknown currency 'XYZ': use an ISO 4217 code such as GBP, NOK or PLN"),
    ("rate", "the-funds-own-currency", "",
     cmd("rate EUR 1 2024-01-01"), rules.check_rate,
     "EUR is this fund's own currency; a rate is for another currency"),
    ("rate", "rate-unreadable", "",
     forge("rate", "2024-01-01", currency="GBP", rate="-1.15"), rules.check_rate,
     "cannot read rate '-1.15': write it as a plain decimal such as 1.1850 (a dot, no sign)"),
    ("rate", "rate-zero", "",
     forge("rate", "2024-01-01", currency="GBP", rate="0"), rules.check_rate,
     "rate '0' must be more than zero"),
    ("rate", "rate-not-plain", "",
     forge("rate", "2024-01-01", currency="GBP", rate=" 1.15"), rules.check_rate,
     "rate ' 1.15' is not written as a plain decimal"),
    # --- earmark ----------------------------------------------------------------------------------
    ("earmark", "name-not-allowed", FUNDED,
     edit("earmark drones 10 2024-03-01", earmark="Night Drones"), rules.check_earmark,
     "earmark name 'Night Drones' is not allowed: use lower-case letters, digits and single hyphens, "
     "at most 64 characters (for example 'night-drones')"),
    ("earmark", "name-reserved", FUNDED,
     edit("earmark drones 10 2024-03-01", earmark="unallocated"), rules.check_earmark,
     "earmark name 'unallocated' is reserved for the fund's free cash"),
    ("earmark", "funded-from-itself",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     earmark drones 50 2024-02-02
     """,
     cmd("earmark drones 10 2024-03-01 --envelope drones"), rules.check_earmark,
     "earmark drones cannot be funded from itself"),
    ("earmark", "may-debit-only-its-own-envelope", FUNDED,
     edit("earmark drones 10 2024-03-01", P("assets:fund:earmarked:training", "10.00"),
          P("assets:fund:unallocated", "-10.00")), allowed,
     "a earmark entry cannot debit assets:fund:earmarked:training"),
    ("earmark", "may-credit-only-cash", FUNDED,
     edit("earmark drones 10 2024-03-01", P("assets:fund:earmarked:drones", "10.00"),
          P("income:contributions:latvia", "-10.00")), allowed,
     "a earmark entry cannot credit income:contributions:latvia"),
    # --- package ----------------------------------------------------------------------------------
    ("package", "name-not-allowed", FUNDED,
     edit("package recon 10 2024-03-01 --envelope unallocated", package="Recon_Drones"), rules.check_package,
     "package name 'Recon_Drones' is not allowed: use lower-case letters, digits and single hyphens, "
     "at most 64 characters (for example 'recon-drones')"),
    ("package", "name-taken", PACKAGED,
     cmd("package recon 10 2024-03-02 --envelope unallocated"), rules.check_package,
     "package recon already exists (#3); choose another name"),
    ("package", "name-of-a-cancelled-package",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     package recon 50 2024-03-01 --envelope unallocated
     reverse 3 2024-03-02 --reason "ordered elsewhere"
     """,
     cmd("package recon 10 2024-03-03 --envelope unallocated"), rules.check_package,
     "package recon already exists (#3); choose another name"),
    ("package", "may-debit-only-its-own-commitment", PACKAGED,
     edit("package radar 10 2024-03-02 --envelope unallocated", P("assets:fund:committed:recon", "10.00"),
          P("assets:fund:unallocated", "-10.00")), allowed,
     "a package entry cannot debit assets:fund:committed:recon"),
    ("package", "may-credit-only-cash", PACKAGED,
     edit("package radar 10 2024-03-02 --envelope unallocated", P("assets:fund:committed:radar", "10.00"),
          P("income:contributions:latvia", "-10.00")), allowed,
     "a package entry cannot credit income:contributions:latvia"),
    # --- pay ----------------------------------------------------------------------------------
    ("pay", "no-such-package", FUNDED,
     cmd("pay ghost 10 2024-03-01"), rules.check_pay,
     "there is no package 'ghost'; record it with `package` first"),
    ("pay", "cancelled-package",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     package recon 50 2024-03-01 --envelope unallocated
     reverse 3 2024-03-02 --reason "ordered elsewhere"
     """,
     cmd("pay recon 10 2024-03-03"), rules.check_pay,
     "package recon was cancelled by #4"),
    ("pay", "dated-before-its-package", PACKAGED,
     cmd("pay recon 10 2024-02-15"), rules.check_pay,
     "package recon dates from 2024-03-01; a payment cannot be dated before"),
    ("pay", "may-debit-only-its-packages-expense", PACKAGED,
     edit("pay recon 10 2024-03-02", P("assets:fund:unallocated", "10.00"), P("assets:fund:committed:recon", "-10.00")),
     allowed,
     "a pay entry cannot debit assets:fund:unallocated"),
    ("pay", "may-credit-only-its-packages-commitment", PACKAGED,
     edit("pay recon 10 2024-03-02", P("expenses:packages:recon", "10.00"), P("assets:fund:unallocated", "-10.00")),
     allowed,
     "a pay entry cannot credit assets:fund:unallocated"),
    # --- reverse --------------------------------------------------------------------------------
    ("reverse", "no-such-entry", FUNDED,
     cmd("reverse 9 2024-03-01"), rules.check_reverse,
     "there is no entry #9 to reverse (the newest is #2)"),
    ("reverse", "a-reversal",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     reverse 2 2024-02-02
     """,
     cmd("reverse 3 2024-03-01"), rules.check_reverse,
     "#3 is itself a reversal; record the original event again instead"),
    ("reverse", "a-membership-entry", FUNDED,
     cmd("reverse 1 2024-03-01"), rules.check_reverse,
     "#1 is a membership entry; record `member leave` instead of reversing it"),
    ("reverse", "a-repair",
     """
     join Latvia 2024-01-01
     repair journal/2024.toml 120 2024-02-01
     """,
     cmd("reverse 2 2024-03-01"), rules.check_reverse,
     "#2 records a repair of the journal; it cannot be undone"),
    ("reverse", "a-rate", "rate GBP 1.15 2024-01-01",
     cmd("reverse 1 2024-03-01"), rules.check_reverse,
     "#1 is a rate entry, which moves no money: record a new one instead"),
    ("reverse", "already-reversed",
     """
     join Latvia 2024-01-01
     contribute Latvia 100 2024-02-01
     reverse 2 2024-02-02
     """,
     cmd("reverse 2 2024-03-01"), rules.check_reverse,
     "#2 was already reversed by #3"),
    ("reverse", "without-a-reason", FUNDED,
     cmd("reverse 2 2024-03-01 --reason '  '"), rules.check_reverse,
     "a reversal needs a reason"),
    ("reverse", "dated-before-what-it-reverses", FUNDED,
     cmd("reverse 2 2024-01-15"), rules.check_reverse,
     "#2 is dated 2024-02-01; its reversal cannot be dated before"),
    ("reverse", "not-the-opposite", FUNDED,
     edit("reverse 2 2024-03-01", P("income:contributions:latvia", "90.00"), P("assets:fund:unallocated", "-90.00")),
     rules.check_reverse,
     "a reversal of #2 must post exactly the opposite of its postings"),
    ("reverse", "a-pledge-with-receipts",
     """
     join Latvia 2024-01-01
     pledge Latvia 100 2024-03-01 --split drones=50
     contribute Latvia 30 2024-03-02 --pledge 2 --split drones=30
     """,
     cmd("reverse 2 2024-03-03"), rules.check_reverse,
     "pledge #2 has €30.00 received against it; reverse those receipts first"),
    ("reverse", "may-debit-only-what-was-credited", FUNDED,
     edit("reverse 2 2024-03-01", P("assets:fund:unallocated", "100.00"), P("income:contributions:latvia", "-100.00")),
     allowed,
     "a reverse entry cannot debit assets:fund:unallocated"),
    ("reverse", "of-no-entry-may-post-nothing", FUNDED,
     edit("reverse 9 2024-03-01", P("income:contributions:latvia", "100.00"), P("assets:fund:unallocated", "-100.00")),
     allowed,
     "a reverse entry cannot debit income:contributions:latvia"),
    # --- repair -----------------------------------------------------------------------------------
    ("repair", "cut-before-the-start", LATVIA,
     edit("repair journal/2024.toml 0 2024-02-01", offset=-1), rules.check_repair,
     "a repair records where its cut began (0 or more) and how many bytes it removed (1 or more)"),
    ("repair", "removed-no-bytes", LATVIA,
     edit("repair journal/2024.toml 0 2024-02-01", removed_bytes=0), rules.check_repair,
     "a repair records where its cut began (0 or more) and how many bytes it removed (1 or more)"),
    ("repair", "digest-not-hex", LATVIA,
     edit("repair journal/2024.toml 0 2024-02-01", removed_sha256="not a digest"), rules.check_repair,
     "a repair records the SHA-256 of the bytes it removed, as 64 hex digits"),
    ("repair", "digest-in-capitals", LATVIA,
     edit("repair journal/2024.toml 0 2024-02-01", removed_sha256=hashlib.sha256(b"x").hexdigest().upper()),
     rules.check_repair,
     "a repair records the SHA-256 of the bytes it removed, as 64 hex digits"),
    ("repair", "digest-of-nothing", LATVIA,
     edit("repair journal/2024.toml 0 2024-02-01", removed_sha256=hashlib.sha256(b"").hexdigest()),
     rules.check_repair,
     "a repair that removed nothing is no repair"),
    # --- a real year: interest, charges, fees --------------------------------------------
    ("interest", "into-an-unknown-earmark", FUNDED, cmd("interest 1 2024-03-01 --envelope nothing"), rules.check_interest,
     "there is no earmark 'nothing'; name one this fund has, or unallocated"),
    ("interest", "into-an-unknown-package", FUNDED, cmd("interest 1 2024-03-01 --envelope package:nothing"),
     rules.check_interest, "there is no package 'nothing'; record it with `package` first"),
    ("interest", "into-a-bad-earmark-name", FUNDED, cmd("interest 1 2024-03-01 --envelope Drones"), rules.check_interest,
     "earmark name 'Drones' is not allowed: use lower-case letters, digits and single hyphens, at most 64 "
     "characters (for example 'drones')"),
    ("interest", "credits-contributions", FUNDED,
     edit("interest 1 2024-03-01", P("assets:fund:unallocated", "1.00"), P("income:contributions:latvia", "-1.00")),
     allowed, "a interest entry cannot credit income:contributions:latvia"),
    ("charge", "beyond-its-envelope", FUNDED, cmd("charge 101 2024-03-01"), rules.check_envelopes,
     "unallocated cash is €100.00; charge of €101.00 exceeds it"),
    ("charge", "from-a-closed-package", PACKAGED + "amend recon 2024-03-02 --close\n",
     cmd("charge 1 2024-03-03 --envelope package:recon"), rules.check_charge,
     "package recon is closed; it holds no money"),
    ("fee", "from-an-unknown-earmark", FUNDED, cmd("fee 1 2024-03-01 --envelope nothing"), rules.check_fee,
     "there is no earmark 'nothing'; name one this fund has, or unallocated"),
    ("fee", "debits-the-wrong-expense", FUNDED,
     edit("fee 1 2024-03-01", P("expenses:bank-charges", "1.00"), P("assets:fund:unallocated", "-1.00")),
     allowed, "a fee entry cannot debit expenses:bank-charges"),
    # --- a real year: closing what is left of a pledge ----------------------------------------
    ("write_off", "not-a-pledge", PLEDGED, cmd("write-off 1 2024-04-01"), rules.check_write_off,
     "#1 is not a pledge"),
    ("write_off", "reversed-pledge", PLEDGED + "reverse 2 2024-03-02\n", cmd("write-off 2 2024-04-01"),
     rules.check_write_off, "pledge #2 was reversed by #3"),
    ("write_off", "closed-twice", PLEDGED + "write-off 2 2024-04-01\n", cmd("write-off 2 2024-04-02"),
     rules.check_write_off, "pledge #2 was already closed by #3"),
    ("write_off", "no-reason", PLEDGED, cmd('write-off 2 2024-04-01 --reason " "'), rules.check_write_off,
     "a write-off needs a reason"),
    ("write_off", "before-the-pledge", PLEDGED, cmd("write-off 2 2024-02-01"), rules.check_write_off,
     "pledge #2 was made on 2024-03-01; it cannot be closed before"),
    ("write_off", "nothing-outstanding", PLEDGED + "contribute Latvia 100 2024-03-02 --pledge 2\n",
     cmd("write-off 2 2024-04-01"), rules.check_write_off, "pledge #2 has nothing outstanding to close"),
    ("write_off", "more-than-outstanding", PLEDGED, edit("write-off 2 2024-04-01", amount="150.00"),
     rules.check_write_off,
     "pledge #2 of Latvia has €100.00 outstanding; a write-off closes exactly that, not 150.00 EUR"),
    ("write_off", "releases-the-wrong-parts", PLEDGED,
     edit("write-off 2 2024-04-01", P("assets:receivable:latvia", "-100.00"),
          P("expenses:write-offs:latvia", "100.00")), rules.check_write_off,
     "a write-off of pledge #2 must release exactly what its receivable still holds"),
    # --- a real year: amending a package ---------------------------------------------------
    ("amend", "unknown-package", FUNDED, cmd("amend nothing +1 2024-03-01 --envelope unallocated"), rules.check_amend,
     "there is no package 'nothing'; record it with `package` first"),
    ("amend", "closed-package", PACKAGED + "amend recon 2024-03-02 --close\n",
     cmd("amend recon +1 2024-03-03 --envelope unallocated"), rules.check_amend,
     "package recon is closed; it cannot be amended"),
    ("amend", "no-reason", PACKAGED, cmd('amend recon +1 2024-03-02 --envelope unallocated --reason ""'),
     rules.check_amend, "an amendment needs a reason"),
    ("amend", "before-the-package", PACKAGED, cmd("amend recon +1 2024-02-02 --envelope unallocated"),
     rules.check_amend, "package recon dates from 2024-03-01; an amendment cannot be dated before"),
    ("amend", "close-releases-less", PACKAGED + "pay recon 20 2024-03-02\n",
     edit("amend recon 2024-03-03 --close", P("assets:fund:committed:recon", "-10.00"),
          P("assets:fund:unallocated", "10.00")), rules.check_amend,
     "closing package recon releases exactly what is not paid (€30.00), not €10.00"),
    ("amend", "below-what-is-paid", PACKAGED + "pay recon 20 2024-03-02\n", cmd("amend recon -31 2024-03-03"),
     rules.check_amend, "package recon has €30.00 not yet paid; a decrease of €31.00 would go below what is paid"),
    ("amend", "gives-back-elsewhere", PACKAGED + "earmark drones 10 2024-03-01\n",
     edit("amend recon -5 2024-03-02", P("assets:fund:committed:recon", "-5.00"),
          P("assets:fund:earmarked:drones", "5.00")), rules.check_amend,
     "what package recon gives back goes to where it came from, in proportion: unallocated €5.00"),
    # --- a real year: closing a period --------------------------------------------------------
    ("*", "dated-in-a-closed-period", FUNDED + "close 2024Q1 2024-04-02\n", cmd("contribute Latvia 5 2024-03-31"),
     rules.check_open_period,
     "2024-03-31 is in 2024Q1, closed by #3 on 2024-04-02: nothing may be dated in it; "
     "date the correction after 2024-03-31, in the open period"),
    ("close", "not-a-period", FUNDED, forge("close", "2024-04-02", period="2024H1", start="2024-01-01",
     end="2024-06-30", balances={}, seal=""), rules.check_close,
     "period '2024H1' is not a year (2024), a quarter (2025Q1) or a month (2025-03)"),
    ("close", "no-month-13", FUNDED, forge("close", "2025-01-02", period="2024-13", start="2024-12-01",
     end="2024-12-31", balances={}, seal=""), rules.check_close, "period '2024-13': there is no month 13"),
    ("close", "wrong-bounds", FUNDED, edit("close 2024Q1 2024-04-02", end="2024-03-30"), rules.check_close,
     "period 2024Q1 runs from 2024-01-01 to 2024-03-31"),
    ("close", "not-over", FUNDED, cmd("close 2024Q1 2024-03-31"), rules.check_close,
     "2024Q1 is not over until 2024-03-31; a close is dated after the period"),
    ("close", "overlaps", FUNDED + "close 2024-02 2024-04-02\n", cmd("close 2024Q1 2024-04-03"), rules.check_close,
     "2024-02 is already closed (#3), and overlaps 2024Q1"),
    ("close", "balances-that-are-not-the-books", FUNDED,
     edit("close 2024Q1 2024-04-02", balances={"assets:fund:unallocated": "99.00"}), rules.check_close,
     "a close of 2024Q1 must hold every account's balance on 2024-03-31 and its seal"),
    ("close", "a-state-that-is-not-the-books", FUNDED, edit("close 2024Q1 2024-04-02", state="sha256:" + "0" * 64,
     state_layout=state.LAYOUT), rules.check_close,
     "a close of 2024Q1 must record the state of the books before it (ledger.state)"),
    ("close", "a-state-that-is-no-digest", FUNDED, edit("close 2024Q1 2024-04-02", state="../x", state_layout="0" * 12),
     rules.check_close, "a close's state is sha256:<64 hex digits>, beside its state_layout (12 hex digits)"),
    ("reopen", "not-a-close", FUNDED, cmd("reopen 2 2024-04-03"), rules.check_reopen, "#2 is not a close"),
    ("reopen", "twice", FUNDED + "close 2024Q1 2024-04-02\nreopen 3 2024-04-03\n", cmd("reopen 3 2024-04-04"),
     rules.check_reopen, "2024Q1 was already reopened by #4"),
    ("reopen", "no-reason", FUNDED + "close 2024Q1 2024-04-02\n", cmd('reopen 3 2024-04-03 --reason ""'),
     rules.check_reopen, "a reopening needs a reason"),
    ("reverse", "a-close", FUNDED + "close 2024Q1 2024-04-02\n", cmd("reverse 3 2024-04-03"), rules.check_reverse,
     "#3 closes a period; record `reopen 3 --reason …` instead"),
    ("reverse", "a-reopening", FUNDED + "close 2024Q1 2024-04-02\nreopen 3 2024-04-03\n",
     cmd("reverse 4 2024-04-04"), rules.check_reverse, "#4 reopens a period; close it again with `close` instead"),
    ("pay", "the-same-invoice-twice", PACKAGED + "pay recon 10 2024-03-02 --invoice A-1\n",
     cmd("pay recon 10 2024-03-03 --invoice A-1"), rules.check_pay,
     "invoice A-1 was already paid by #4 on 2024-03-02; to pay it again, say why with --again"),
    ("pay", "to-a-closed-package", PACKAGED + "amend recon 2024-03-02 --close\n", cmd("pay recon 1 2024-03-03"),
     rules.check_pay, "package recon was closed by #4; it has nothing left to pay"),
    ("pledge", "due-before-it-is-made", LATVIA, edit("pledge Latvia 100 2024-03-01", due="2024-02-01"),
     rules.check_pledge, "a pledge made on 2024-03-01 cannot fall due on 2024-02-01, before it"),
    ("pledge", "due-that-is-no-day", LATVIA, edit("pledge Latvia 100 2024-03-01", due="soon"),
     rules.check_pledge, "due date 'soon' is not a day (YYYY-MM-DD)"),
    ("pledge", "due-and-instalments", LATVIA,
     edit("pledge Latvia 100 2024-03-01", due="2024-06-01", instalments={"2024-06-01": "100.00"}),
     rules.check_pledge, "a pledge has a due date or instalments, not both"),
    ("pledge", "instalments-that-do-not-add-up", LATVIA,
     edit("pledge Latvia 100 2024-03-01", instalments={"2024-06-01": "60.00"}), rules.check_pledge,
     "the instalments add up to €60.00, the pledge is €100.00"),
    ("pledge", "instalment-before-the-pledge", LATVIA,
     edit("pledge Latvia 100 2024-03-01", instalments={"2024-02-01": "100.00"}), rules.check_pledge,
     "an instalment falls due on or after the pledge (2024-03-01) and is more than zero"),
    # --- what the money bought: suppliers, contracts, deliveries -------------------------------
    ("supplier", "named-twice", LATVIA + "\nsupplier ACME 2024-01-02\n", cmd("supplier acme 2024-01-03"),
     rules.check_supplier, "supplier ACME is already named (since 2024-01-02)"),
    ("supplier", "a-name-with-a-control-character", LATVIA, edit("supplier ACME 2024-01-03", supplier="A\x07B"),
     rules.check_supplier, "supplier name 'A\\x07B' is not allowed: 1 to 128 printable characters, single spaces"),
    ("supplier", "no-country-code", LATVIA, cmd("supplier ACME 2024-01-03 --country Sweden"), rules.check_supplier,
     "country 'SWEDEN' is not an ISO 3166 code of two capital letters, such as SE"),
    ("contract", "unknown-supplier", PACKAGED + "supplier ACME 2024-03-01\n", cmd("contract recon ACNE 10 2024-03-02"),
     rules.check_contract, "'ACNE' is not a supplier of this fund; did you mean 'ACME'?"),
    ("contract", "no-supplier-named-yet", PACKAGED, cmd("contract recon ACME 10 2024-03-02"), rules.check_contract,
     "'ACME' is not a supplier of this fund; name it first with `supplier add 'ACME' --country CC`"),
    ("contract", "unknown-package", PACKAGED + "supplier ACME 2024-03-01\n", cmd("contract nothing ACME 10 2024-03-02"),
     rules.check_contract, "there is no package 'nothing'; record it with `package` first"),
    ("contract", "closed-package", PACKAGED + "supplier ACME 2024-03-01\namend recon 2024-03-02 --close\n",
     cmd("contract recon ACME 10 2024-03-03"), rules.check_contract, "package recon is closed; it takes no contract"),
    ("contract", "reference-twice", PACKAGED + "supplier ACME 2024-03-01\ncontract recon ACME 10 2024-03-02\n",
     cmd("contract recon ACME 10 2024-03-03"), rules.check_contract, "contract C-1 already exists (#5)"),
    ("contract", "before-the-package", PACKAGED + "supplier ACME 2024-01-02\n", cmd("contract recon ACME 10 2024-02-02"),
     rules.check_contract, "package recon dates from 2024-03-01; a contract cannot be dated before"),
    ("contract", "before-its-supplier-was-named", PACKAGED + "supplier ACME 2024-03-05\n",
     cmd("contract recon ACME 10 2024-03-02"), rules.check_contract,
     "supplier ACME was named on 2024-03-05, after 2024-03-02: name it on or before the day"),
    ("contract", "kronor-not-converted-at-its-rate", PACKAGED + "supplier ACME 2024-03-01\nrate SEK 0.1 2024-03-01\n",
     edit("contract recon ACME '100 SEK' 2024-03-02", rate="0.2"), rules.check_contract,
     "the postings are not the conversion of 100.00 SEK at 0.2: expected "
     "assets:fund:committed:recon:c-1 20.00, assets:fund:committed:recon -20.00"),
    ("pay", "an-exchange-loss-the-package-cannot-cover",
     PACKAGED + "supplier ACME 2024-03-01\nrate SEK 0.1 2024-03-01\ncontract recon ACME '500 SEK' 2024-03-02\n"
     "rate SEK 0.11 2024-03-03\n", cmd("pay recon '100 SEK' 2024-03-04 --contract C-1"), rules.check_envelopes,
     "package recon has €0.00 not under contract; exchange loss of €1.00 exceeds it"),
    ("contract", "quantity-without-item", PACKAGED + "supplier ACME 2024-03-01\n",
     edit("contract recon ACME 10 2024-03-02", quantity=5), rules.check_contract,
     "a contract states an item and its quantity together, or neither"),
    ("contract", "no-quantity", PACKAGED + "supplier ACME 2024-03-01\n",
     cmd("contract recon ACME 10 2024-03-02 --item drone --quantity 0"), rules.check_contract,
     "a contract's quantity is a whole number more than zero"),
    ("contract", "beyond-what-is-uncontracted", PACKAGED + "supplier ACME 2024-03-01\n",
     cmd("contract recon ACME 51 2024-03-02"), rules.check_envelopes,
     "package recon has €50.00 left to pay; contract of €51.00 exceeds it"),
    ("pay", "beyond-the-contract", PACKAGED + "supplier ACME 2024-03-01\ncontract recon ACME 10 2024-03-02\n",
     cmd("pay recon 11 2024-03-03 --contract C-1"), rules.check_envelopes,
     "contract C-1 has €10.00 left to pay; payment of €11.00 exceeds it"),
    ("pay", "an-unknown-contract", PACKAGED, cmd("pay recon 1 2024-03-03 --contract X-9"), rules.check_pay,
     "there is no contract 'X-9'; record it with `contract` first"),
    ("pay", "another-suppliers-contract", PACKAGED + "supplier ACME 2024-03-01\nsupplier Other 2024-03-01\n"
     "contract recon ACME 10 2024-03-02\n", cmd("pay recon 1 2024-03-03 --contract C-1 --supplier Other"),
     rules.check_pay, "contract C-1 is with ACME, not Other"),
    ("pay", "an-unknown-supplier", PACKAGED + "supplier ACME 2024-03-01\n",
     cmd("pay recon 1 2024-03-03 --supplier ACMEE"), rules.check_pay,
     "'ACMEE' is not a supplier of this fund; did you mean 'ACME'?"),
    ("deliver", "unknown-package", PACKAGED, cmd("deliver nothing 2024-03-03"), rules.check_deliver,
     "there is no package 'nothing'; record it with `package` first"),
    ("deliver", "before-the-package", PACKAGED, cmd("deliver recon 2024-02-03"), rules.check_deliver,
     "package recon dates from 2024-03-01; a delivery cannot be dated before"),
    ("deliver", "beyond-the-contract", PACKAGED + "supplier ACME 2024-03-01\n"
     "contract recon ACME 10 2024-03-02 --item drone --quantity 5\ndeliver recon 2024-03-03 --contract C-1 --quantity 4\n",
     cmd("deliver recon 2024-03-04 --contract C-1 --quantity 2"), rules.check_deliver,
     "contract C-1 is for 5 drone; 4 were delivered, so 2 more exceeds it"),
    ("deliver", "another-packages-contract", PACKAGED + "supplier ACME 2024-03-01\n"
     "package other 10 2024-03-01 --envelope unallocated\ncontract other ACME 10 2024-03-02\n",
     cmd("deliver recon 2024-03-04 --contract C-1"), rules.check_deliver, "contract C-1 is package other's, not recon's"),
    ("deliver", "a-bad-value", PACKAGED, edit("deliver recon 2024-03-04", value="lots"), rules.check_deliver,
     "value 'lots' is not an amount in EUR"),
    ("deliver", "nothing-delivered", PACKAGED, edit("deliver recon 2024-03-04", quantity=0), rules.check_deliver,
     "a delivery names its item and a quantity more than zero"),
    ("amend_contract", "unknown-contract", PACKAGED, cmd("amend-contract X-9 +1 2024-03-02"), rules.check_amend_contract,
     "there is no contract 'X-9'; record it with `contract` first"),
    ("amend_contract", "another-packages", CONTRACTED, edit("amend-contract C-1 +1 2024-03-03", package="other"),
     rules.check_amend_contract, "contract C-1 is package recon's, not other's"),
    ("amend_contract", "closed", CONTRACTED + "amend-contract C-1 2024-03-03 --close\n",
     cmd("amend-contract C-1 +1 2024-03-04"), rules.check_amend_contract, "contract C-1 is closed; it cannot be amended"),
    ("amend_contract", "no-reason", CONTRACTED, cmd('amend-contract C-1 +1 2024-03-03 --reason ""'),
     rules.check_amend_contract, "an amendment needs a reason"),
    ("amend_contract", "before-the-contract", CONTRACTED, cmd("amend-contract C-1 +1 2024-03-01"),
     rules.check_amend_contract, "contract C-1 dates from 2024-03-02; an amendment cannot be dated before"),
    ("amend_contract", "close-gives-back-less", CONTRACTED + "pay recon 4 2024-03-03 --contract C-1\n",
     edit("amend-contract C-1 2024-03-04 --close", P("assets:fund:committed:recon:c-1", "-1.00"),
          P("assets:fund:committed:recon", "1.00")), rules.check_amend_contract,
     "closing contract C-1 gives back exactly what is not paid (€6.00), not €1.00"),
    ("amend_contract", "below-what-is-paid", CONTRACTED + "pay recon 4 2024-03-03 --contract C-1\n",
     cmd("amend-contract C-1 -7 2024-03-04"), rules.check_amend_contract,
     "contract C-1 has €6.00 not yet paid; a decrease of €7.00 would go below what is paid"),
    ("amend", "a-package-with-open-contracts", CONTRACTED, cmd("amend recon 2024-03-04 --close"), rules.check_amend,
     "package recon has contracts not yet paid in full (C-1); close those first"),
    # --- bank statements kept for reconciliation ------------------------------------------------
    ("statement", "no-id", FUNDED, cmd('statement "" 2024-03-31 --closing 5.00@2024-03-31'), rules.check_statement,
     "a bank statement is recorded under the bank's id for it, and this one has none"),
    ("statement", "a-control-character", FUNDED, cmd('statement "S\x1b[2J" 2024-03-31 --closing 5.00@2024-03-31'),
     rules.check_statement, "a statement's id is at most 64 printable characters, not 'S\\x1b[2J'"),
    ("statement", "a-long-account", FUNDED, cmd(f"statement S-1 2024-03-31 --closing 5.00@2024-03-31 --account {'A' * 65}"),
     rules.check_statement, f"a statement's account is at most 64 printable characters, not {'A' * 64!r}"),
    ("statement", "no-balance", FUNDED, cmd("statement S-1 2024-03-31"), rules.check_statement,
     "statement 'S-1' states no balance; a statement is recorded for its balances"),
    ("statement", "half-a-balance", FUNDED, edit("statement S-1 2024-03-31 --closing 5.00@2024-03-31",
     drop=("closing_date",)), rules.check_statement, "the statement's closing balance needs both an amount and a day"),
    ("statement", "an-inexact-balance", FUNDED, edit("statement S-1 2024-03-31 --closing 5.00@2024-03-31",
     closing="5.5"), rules.check_statement,
     "the statement's closing balance ('5.5' on '2024-03-31') is not an amount and a day"),
    ("statement", "an-unknown-currency", FUNDED, edit("statement S-1 2024-03-31 --closing 5.00@2024-03-31",
     currency="ZZZ"), rules.check_statement,
     "unknown currency 'ZZZ' for statement 'S-1': use an ISO 4217 code such as EUR"),
    ("statement", "closes-before-it-opens", FUNDED,
     cmd("statement S-1 2024-03-31 --opening 1.00@2024-03-31 --closing 5.00@2024-03-01"), rules.check_statement,
     "statement 'S-1' closes on 2024-03-01, before it opens (2024-03-31)"),
    ("statement", "recorded-twice", FUNDED + "statement S-1 2024-03-31 --closing 5.00@2024-03-31\n",
     cmd("statement S-1 2024-04-01 --closing 5.00@2024-03-31"), rules.check_statement,
     "statement 'S-1' of account LV80BANK0000435195001 was already recorded as #3; reverse that import "
     "(`reverse --batch`) to import it again"),
    # --- names that are misspelt -------------------------------------------------------------
    ("package", "from-a-misspelt-earmark", FUNDED + "earmark drones 10 2024-02-02\n",
     cmd("package recon 5 2024-03-01 --envelope drone"), rules.check_package,
     "there is no earmark 'drone'; did you mean 'drones'?"),
    ("earmark", "from-an-earmark-never-made", FUNDED, cmd("earmark training 5 2024-03-01 --envelope drones"),
     rules.check_earmark, "there is no earmark 'drones'; take money from one this fund has"),
    ("pay", "a-misspelt-package", PACKAGED, cmd("pay recn 5 2024-03-02"), rules.check_pay,
     "there is no package 'recn'; did you mean 'recon'?"),
    ("contribute", "a-misspelt-member", LATVIA, cmd("contribute Latvai 5 2024-03-02"), rules.check_contribute,
     "Latvai is not a member of this fund; did you mean 'Latvia'?"),
    ("fee", "from-a-misspelt-earmark", FUNDED + "earmark drones 10 2024-02-02\n", cmd("fee 1 2024-03-01 --envelope dornes"),
     rules.check_fee, "there is no earmark 'dornes'; did you mean 'drones'?"),
    # --- four eyes --------------------------------------------------------------------------
    ("officer", "a-bad-key", LATVIA, cmd('officer Alice 2024-01-02 --key "ssh-dss AAAA"'), rules.check_officer,
     "an officer's key is an SSH public key, as in a .pub file (ssh-ed25519 AAAA…)"),
    ("officer", "no-such-role", LATVIA, edit("officer Alice 2024-01-02", roles=["treasurer"]), rules.check_officer,
     "an officer's roles are one or more of recorder, approver, auditor"),
    ("officer", "a-name-with-a-control-character", LATVIA, edit("officer Alice 2024-01-02", officer="A\x07"),
     rules.check_officer, "officer name 'A\\x07' is not allowed: 1 to 128 printable characters, single spaces"),
    ("officer", "anothers-key", LATVIA + "\nofficer Alice 2024-01-02\n",
     cmd(f'officer Bob 2024-01-03 --key "{KEYS["Alice"]}"'), rules.check_officer,
     "that key is another officer's; each officer signs with a key of their own"),
    ("policy", "no-such-kind", LATVIA, cmd("policy payment 2024-01-02"), rules.check_policy,
     "'payment' is not a kind of entry"),
    ("policy", "too-many-approvals", LATVIA, edit("policy pay 2024-01-02", approvals=6), rules.check_policy,
     "a policy asks for 0 to 5 approvals"),
    ("policy", "a-bad-threshold", LATVIA, edit("policy pay 2024-01-02", above="lots"), rules.check_policy,
     "'lots' is not an amount in EUR"),
    ("*", "unproposed-once-two-approvers", PACKAGED + "officer Alice 2024-03-01\nofficer Bob 2024-03-01\n",
     cmd("pay recon 5 2024-03-02"), rules.check_four_eyes,
     "a pay entry needs another officer to approve it: record it with `fundledger propose pay …`, "
     "then `fundledger approve ID`"),
    ("*", "not-what-was-proposed", OFFICERS + "propose package recon 50 --envelope unallocated 2024-03-01\n"
     "approve-only 5 2024-03-02\n", cmd("package recon 49 2024-03-01 --envelope unallocated"),
     rules.check_four_eyes, "proposal #5 was approved by #6: the next entry is the package it proposed, exactly"),
    ("proposal", "what-the-rules-refuse", OFFICERS, cmd("propose pay nothing 5 2024-03-02"), rules.check_proposal,
     "there is no package 'nothing'; record it with `package` first"),
    ("proposal", "unreadable", OFFICERS, forge("proposal", "2024-03-02", proposed="{", needed=1), rules.check_proposal,
     "the proposed entry cannot be read: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ("proposal", "a-proposal-of-a-proposal", OFFICERS,
     forge("proposal", "2024-03-02", proposed='{"date":"2024-03-02","kind":"reject","memo":"","postings":[],'
           '"proposal":1,"reason":"x","source":""}', needed=1), rules.check_proposal,
     "a reject is not proposed; it is recorded"),
    ("proposal", "too-few-approvals", OFFICERS + "propose policy earmark 2024-02-02 --approvals 2\n"
     "approve-proposal 5 2024-02-03\n",
     edit("propose earmark drones 5 2024-03-02", needed=1), rules.check_proposal,
     "a earmark of this size needs 2 approval(s)"),
    ("approval", "not-a-proposal", OFFICERS, cmd("approve-proposal 1 2024-03-02"), rules.check_approval,
     "#1 is not a proposal"),
    ("approval", "before-the-proposal", OFFICERS + "propose earmark drones 5 2024-03-02\n",
     cmd("approve-proposal 5 2024-03-01"), rules.check_approval,
     "proposal #5 was made on 2024-03-02; it cannot be approved before"),
    ("approval", "a-rejected-proposal", OFFICERS + "propose earmark drones 5 2024-03-02\nreject 5 2024-03-03\n",
     cmd("approve-proposal 5 2024-03-04"), rules.check_approval, "proposal #5 is rejected (#6)"),
    ("approval", "while-a-booking-waits", OFFICERS + "propose earmark drones 5 2024-03-02\n"
     "propose earmark drones 6 2024-03-02\napprove-only 5 2024-03-03\n", cmd("approve-proposal 6 2024-03-04"),
     rules.check_approval, "proposal #5 was approved: the next entry is what it proposed"),
    ("reject", "not-a-proposal", OFFICERS, cmd("reject 2 2024-03-02"), rules.check_reject, "#2 is not a proposal"),
    ("reject", "no-reason", OFFICERS + "propose earmark drones 5 2024-03-02\n",
     cmd('reject 5 2024-03-03 --reason " "'), rules.check_reject, "a rejection needs a reason"),
    ("reject", "twice", OFFICERS + "propose earmark drones 5 2024-03-02\nreject 5 2024-03-03\n",
     cmd("reject 5 2024-03-04"), rules.check_reject, "proposal #5 is rejected"),
    ("reverse", "an-approval", OFFICERS + "propose earmark drones 5 2024-03-02\nreject 5 2024-03-03\n",
     cmd("reverse 6 2024-03-04"), rules.check_reverse,
     "#6 is a reject entry; it is not reversed (reject a proposal, or record anew)"),
    ("reverse", "a-supplier", LATVIA + "\nsupplier ACME 2024-01-02\n", cmd("reverse 2 2024-01-03"), rules.check_reverse,
     "#2 names a supplier; a name is not undone"),
    ("pledge", "instalment-that-is-no-day", LATVIA,
     edit("pledge Latvia 100 2024-03-01", instalments={"June": "100.00"}), rules.check_pledge,
     "instalment June = '100.00' is not a date and an amount in EUR"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "case", "text", "entry", "rule", "message"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES]
)
def test_refusal(kind, case, text, entry, rule, message):
    books = ledger(text)
    built = entry(books)
    if not built.hash:
        built = built.sealed(books.last_id + 1, books.seal)
    assert kind == "*" or built.kind == kind, "a case of a kind's rule refuses an entry of that kind"
    with pytest.raises(Refused) as caught:
        rule(books, built)
    assert str(caught.value) == message


def test_case_ids_are_unique_within_their_kind():
    ids = [(kind, case) for kind, case, *_ in CASES]
    assert len(ids) == len(set(ids))


def test_every_kind_has_a_case_and_no_case_names_an_unknown_kind():
    assert {kind for kind, *_ in CASES} == {*kinds.NAMES, "*"}


# --- the order `fold.check` runs the rules in: the first broken one speaks ------------------


def refusal(text: str, entry: Build, **options) -> str:
    """What `fold.check` says of `entry` on top of the ledger `text`."""
    books = ledger(text)
    built = entry(books)
    if not built.hash:
        built = built.sealed(books.last_id + 1, books.seal)
    with pytest.raises(Refused) as caught:
        fold.check(books, built, **options)
    return str(caught.value)


FIRST_IN_THE_FOLD = [c for c in CASES if c[4] in (rules.check_hash, rules.check_sequence) or
                     (c[0] != "*" and c[4] is kinds.REGISTRY[c[0]].rule)]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "case", "text", "entry", "rule", "message"),
    FIRST_IN_THE_FOLD,
    ids=[f"{c[0]}:{c[1]}" for c in FIRST_IN_THE_FOLD],
)
def test_the_chain_and_then_the_kinds_own_rule_speak_first(kind, case, text, entry, rule, message):
    """Nothing the fold checks before a kind's rule (the chain) hides its refusal."""
    assert refusal(text, entry) == message


def test_the_hash_is_checked_before_the_sequence():
    assert refusal(FUNDED, placed("contribute Latvia 5 2024-03-01", ahead=2, memo="edited")) == (
        "entry #4 has a hash that does not match its content"
    )


def test_a_hash_the_reader_has_checked_is_not_checked_again():
    """`hashed=True`: the journal reader checked it; the sequence is what is left to say."""
    assert refusal(FUNDED, placed("contribute Latvia 5 2024-03-01", ahead=2, memo="edited"), hashed=True) == (
        "entry #4 is out of sequence: the next id is 3"
    )


def test_the_sequence_is_checked_before_the_kinds_rule():
    assert refusal(FUNDED, placed("pay ghost 10 2024-03-01", ahead=2)) == (
        "entry #4 is out of sequence: the next id is 3"
    )


def test_a_payment_to_an_unknown_package_names_the_package_not_its_accounts():
    """The kind's rule runs before the chart is checked, so the refusal names the event."""
    assert refusal(FUNDED, cmd("pay ghost 10 2024-03-01")) == (
        "there is no package 'ghost'; record it with `package` first"
    )


def test_an_entry_must_balance_before_its_accounts_are_looked_at():
    entry = edit("contribute Latvia 10 2024-03-01", P("assets:fund:petty-cash", "10.00"),
                 P("income:contributions:latvia", "-9.00"))  # fmt: skip
    assert refusal(FUNDED, entry) == "entry does not balance: its EUR postings sum to 1.00"


def test_an_unknown_account_is_named_before_the_accounts_a_kind_may_touch():
    entry = edit(
        "pay recon 10 2024-03-02", P("expenses:packages:recon", "10.00"), P("assets:fund:petty-cash", "-10.00")
    )
    assert refusal(PACKAGED, entry) == "account 'assets:fund:petty-cash' is not known to this ledger"


def test_the_accounts_a_kind_may_touch_come_before_the_envelopes():
    """Crediting unallocated cash by €60 would take it below zero too; the wrong account is what is said."""
    entry = edit(
        "pay recon 60 2024-03-02", P("expenses:packages:recon", "60.00"), P("assets:fund:unallocated", "-60.00")
    )
    assert refusal(PACKAGED, entry) == "a pay entry cannot credit assets:fund:unallocated"


def test_the_envelopes_come_last():
    assert refusal(PACKAGED, cmd("pay recon 60 2024-03-02")) == (
        "package recon has €50.00 left to pay; payment of €60.00 exceeds it"
    )


def test_a_receipt_beyond_its_pledge_is_told_by_the_pledge_not_the_receivable():
    """The contribute rule's words (with the hint) come before the envelope's, which says the same less well."""
    assert refusal(PLEDGED, cmd("contribute Latvia 60 2024-03-02 --pledge 2 --split drones=60")) == (
        "pledge #2 of Latvia has €50.00 outstanding for drones; receipt of €60.00 exceeds it"
    )


# --- what the rules accept ------------------------------------------------------------------


@pytest.mark.parametrize(
    "account",
    [
        "assets:fund:unallocated",
        "assets:fund:earmarked:drones",  # an earmark comes to be when money is first set aside for it
        "assets:fund:committed:recon",
        "expenses:packages:recon",
        "assets:receivable:latvia",
        "assets:receivable:latvia:drones",
        "income:contributions:latvia",
        "income:exchange-differences:latvia",
    ],
)
def test_accounts_the_ledger_knows(account):
    books = ledger(PACKAGED)
    entry = build(books, "contribute Latvia 10 2024-03-02")
    entry = dataclasses.replace(entry, postings=(P(account, "10.00"), P("income:contributions:latvia", "-10.00")))
    rules.check_accounts(books, entry.sealed(books.last_id + 1, books.seal))


def test_a_package_entry_knows_the_package_it_creates():
    books = ledger(FUNDED)
    entry = build(books, "package radar 10 2024-03-01 --envelope unallocated").sealed(books.last_id + 1, books.seal)
    rules.check_accounts(books, entry)
    pay = dataclasses.replace(entry, kind="pay", data={"package": "radar"})
    with pytest.raises(Refused, match="'assets:fund:committed:radar' is not known"):
        rules.check_accounts(books, pay)


def test_a_receipt_in_pounds_may_book_an_exchange_loss():
    """At 1.10 the £40 received is worth €44.00 but relieves €46.00: the €2.00 loss is a debit."""
    books = ledger(POUNDS + "rate GBP 1.10 2024-04-01\n")
    entry = build(books, 'contribute "United Kingdom" £40 2024-04-01 --pledge 3')
    assert {p.account: str(p.amount) for p in entry.postings} == {
        "assets:fund:unallocated": "44.00",
        "assets:receivable:united-kingdom": "-46.00",
        "income:exchange-differences:united-kingdom": "2.00",
    }
    writer.seal(books, [entry])  # every rule, and the exchange account on the debit side


# --- bugs: refusals the rules should make or say otherwise (ledger/ is not changed here) -------------


def test_a_member_that_left_cannot_apply_before_it_left():
    books = ledger(
        """
        join Latvia 2024-01-01
        leave Latvia 2024-06-01
        """
    )
    entry = build(books, "apply Latvia 2024-03-01").sealed(books.last_id + 1, books.seal)
    with pytest.raises(Refused, match="left on 2024-06-01"):
        fold.check(books, entry)


def test_a_pledge_dated_before_a_since_departed_member_joined_says_when_it_joined():
    books = ledger(
        """
        join Latvia 2024-02-01
        leave Latvia 2024-06-01
        """
    )
    entry = build(books, "pledge Latvia 100 2024-01-15").sealed(books.last_id + 1, books.seal)
    with pytest.raises(Refused) as caught:
        rules.check_pledge(books, entry)
    assert str(caught.value) == "Latvia is not an active member on 2024-01-15: it became a member on 2024-02-01"


def test_a_receipt_against_an_earmarked_part_goes_to_that_earmark():
    books = ledger(
        """
        join Latvia 2024-01-01
        pledge Latvia 100 2024-03-01 --split drones=100
        """
    )
    entry = edit("contribute Latvia 50 2024-03-02 --pledge 2", P("assets:fund:unallocated", "50.00"),
                 P("assets:receivable:latvia:drones", "-50.00"))(books)  # fmt: skip
    with pytest.raises(Refused):
        fold.check(books, entry.sealed(books.last_id + 1, books.seal))


def test_a_pledges_split_is_the_split_of_its_postings():
    books = ledger(LATVIA)
    entry = edit("pledge Latvia 100 2024-03-01", split={"drones": "60.00"})(books)
    with pytest.raises(Refused):
        fold.check(books, entry.sealed(books.last_id + 1, books.seal))
