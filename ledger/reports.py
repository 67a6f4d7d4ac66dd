"""Reports: pure functions from the books to plain data. Nothing here prints or formats.

Every tabular report is a `Report`: its columns (with the kind of value in
each, so a renderer knows how to show it) and its rows (dicts keyed by the
columns' snake_case names, amounts as `Decimal`). The summary dashboard has
a shape of its own, `Summary`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger import model, money
from ledger.books import ZERO, Books
from ledger.model import Entry


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text, money, date, int, share, account, list
    optional: bool = False  # a narrow terminal may leave it out of the table (never out of JSON or CSV)


@dataclass(frozen=True)
class Report:
    report: str
    title: str
    ledger: str
    currency: str
    as_of: dt.date | None
    seal: str
    entries: int
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    totals: dict[str, Any] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # row keys for the table only, left out of JSON and CSV


def _report(books: Books, name: str, title: str, columns, rows, as_of, totals=None, hidden=()) -> Report:
    return Report(
        report=name,
        title=title,
        ledger=books.name,
        currency=books.currency,
        as_of=as_of,
        seal=books.seal,
        entries=books.count,
        columns=tuple(columns),
        rows=tuple(rows),
        totals=totals or {},
        hidden=tuple(hidden),
    )


# A member with this role stands for several states the sources do not name: listed, not counted.
AGGREGATE_ROLE = "aggregate"


@dataclass(frozen=True)
class EarmarkBar:
    earmark: str
    allocated: Decimal
    committed: Decimal
    paid: Decimal
    available: Decimal
    pledged_outstanding: Decimal


@dataclass(frozen=True)
class Summary:
    """The fund's dashboard: headline figures, earmark bars, open packages, member counts."""

    ledger: str
    manager: str
    currency: str
    as_of: dt.date | None
    entries: int
    seal: str
    contributions: Decimal
    exchange_differences: Decimal  # gains (+) or losses (-) on receipts against pledges in other currencies
    received: Decimal
    outstanding: Decimal
    unallocated: Decimal
    earmarked: Decimal
    committed: Decimal
    paid: Decimal
    cash: Decimal
    members_active: int
    members_pending: int
    earmarks: tuple[EarmarkBar, ...]
    open_packages: tuple[dict[str, Any], ...]


def summary_report(books: Books, as_of: dt.date | None = None) -> Summary:
    contributions = -books.subtotal(model.CONTRIBUTIONS)
    exchange = -books.subtotal(model.EXCHANGE)
    outstanding = books.subtotal(model.RECEIVABLE)
    day = as_of or dt.date.max
    counted = [m for m in books.members.values() if m.role != AGGREGATE_ROLE]
    bars = tuple(
        EarmarkBar(
            row["earmark"],
            row["allocated"],
            row["committed"],
            row["paid"],
            row["available"],
            row["pledged_outstanding"],
        )
        for row in earmarks_report(books, as_of).rows
    )
    return Summary(
        ledger=books.name,
        manager=books.manager,
        currency=books.currency,
        as_of=as_of,
        entries=books.count,
        seal=books.seal,
        contributions=contributions,
        exchange_differences=exchange,
        received=contributions + exchange - outstanding,
        outstanding=outstanding,
        unallocated=books.balance(model.UNALLOCATED),
        earmarked=books.subtotal(model.EARMARKED),
        committed=books.subtotal(model.COMMITTED),
        paid=books.subtotal(model.PACKAGE_EXPENSES),
        cash=books.subtotal("assets:fund"),
        members_active=sum(1 for m in counted if m.is_active(day)),
        members_pending=sum(1 for m in counted if m.status == "pending"),
        earmarks=bars,
        open_packages=tuple(row for row in packages_report(books, as_of).rows if row["status"] == "open"),
    )


def balance_report(books: Books, as_of: dt.date | None = None) -> Report:
    """The account tree with balances; a parent shows the total of everything below it."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for account, amount in books.balances.items():
        parts = account.split(":")
        for depth in range(1, len(parts) + 1):
            totals[":".join(parts[:depth])] += amount
    rows = [
        {"account": account, "currency": books.currency, "balance": amount}
        for account, amount in sorted(totals.items(), key=lambda pair: _tree_key(pair[0]))
    ]
    columns = (Column("account", "Account", "account"), Column("balance", "Balance", "money"))
    total = sum(books.balances.values(), ZERO)
    return _report(books, "balance", "Balances", columns, rows, as_of, {"balance": total})


def contributors_report(books: Books, as_of: dt.date | None = None, *, original: bool = False) -> Report:
    """Per member: pledged, received, outstanding, and its share of all that was received.

    Received is the cash, in the fund's currency: what was given or pledged,
    plus exchange gains (less losses) on receipts in other currencies, less
    what is outstanding. With `original`, also what each member gave in the
    currencies it gave it in.
    """
    received_by: dict[str, Decimal] = {}
    rows = []
    for member in books.members.values():
        given = -books.subtotal(model.contributions(member.slug)) - books.subtotal(model.exchange(member.slug))
        outstanding = books.subtotal(model.receivable(member.slug))
        received_by[member.name] = given - outstanding
        pledged = sum((p.amount for p in books.pledges.values() if p.member == member.name and not p.reversed_by), ZERO)
        row = {
            "member": member.name,
            "status": member.status,
            "pledged": pledged,
            "received": given - outstanding,
            "outstanding": outstanding,
        }
        if original:
            row["given_as"] = {currency: amount for currency, amount in sorted(member.given.items()) if amount}
        rows.append(row)
    total = sum(received_by.values(), ZERO)
    for row in rows:
        row["share"] = _percent(row["received"], total)
    rows.sort(key=lambda row: (-row["received"], -row["pledged"], row["member"]))
    columns = (
        Column("member", "Member"),
        Column("status", "Status", optional=True),
        Column("pledged", "Pledged", "money"),
        Column("received", "Received", "money"),
        Column("outstanding", "Outstanding", "money"),
        Column("share", "Share", "share"),
        *([Column("given_as", "Given as", "amounts")] if original else []),
    )
    totals = {key: sum((row[key] for row in rows), ZERO) for key in ("pledged", "received", "outstanding")}
    return _report(books, "contributors", "Contributors", columns, rows, as_of, totals)


def pledges_report(books: Books, as_of: dt.date | None = None, year: int | None = None) -> Report:
    """Each pledge with its split, what has been received against it and what is outstanding."""
    rows = []
    for pledge in books.pledges.values():
        if year is not None and pledge.year != year:
            continue
        status = "reversed" if pledge.reversed_by else ("fulfilled" if pledge.total_outstanding == 0 else "open")
        split = [f"{e or 'not earmarked'} {money.to_text(a, books.currency)}" for e, a in pledge.split.items()]
        rows.append(
            {
                "pledge": pledge.id,
                "member": pledge.member,
                "year": pledge.year,
                "date": pledge.date,
                "split": split,
                "amount": pledge.amount,
                "received": pledge.total_received,
                "outstanding": pledge.total_outstanding,
                "status": status,
                "original": _original_pledge(pledge),
            }
        )
    columns = (
        Column("pledge", "#", "int"),
        Column("member", "Member"),
        Column("year", "Year", "int", optional=True),
        Column("date", "Date", "date", optional=True),
        Column("split", "Split", "list", optional=True),
        Column("amount", "Pledged", "money"),
        Column("received", "Received", "money"),
        Column("outstanding", "Outstanding", "money"),
        Column("status", "Status", optional=True),
        *([Column("original", "In its currency", "original")] if any(row["original"] for row in rows) else []),
    )
    totals = {key: sum((row[key] for row in rows), ZERO) for key in ("amount", "received", "outstanding")}
    title = f"Pledges for {year}" if year is not None else "Pledges"
    return _report(books, "pledges", title, columns, rows, as_of, totals)


def _original_pledge(pledge) -> dict[str, str] | None:
    """A pledge in another currency, followed in it: amounts as text with that currency's places."""
    if not pledge.foreign:
        return None
    c = pledge.currency
    return {
        "currency": c,
        "rate": str(pledge.rate),
        "amount": money.to_text(pledge.original_amount, c),
        "received": money.to_text(pledge.total_original_received, c),
        "outstanding": money.to_text(pledge.total_original_outstanding, c),
    }


def rates_report(books: Books, as_of: dt.date | None = None) -> Report:
    """The exchange rates recorded with `rate` (and how many entries were converted at each), and those typed with --rate."""
    rows = []
    for currency, known in sorted(books.rates.items()):
        for day, rate, entry_id in known:
            source = books.entry(entry_id).source if books.entry(entry_id) else ""
            rows.append(
                {"date": day, "currency": currency, "rate": str(rate), "entry": entry_id, "origin": "recorded",
                 "used_by": books.rate_uses.get(entry_id, 0), "source": source}
            )  # fmt: skip
    for day, currency, rate, entry_id in books.given_rates:
        rows.append(
            {"date": day, "currency": currency, "rate": str(rate), "entry": entry_id, "origin": "given with --rate",
             "used_by": 1, "source": ""}
        )  # fmt: skip
    rows.sort(key=lambda row: (row["currency"], row["date"], row["entry"]))
    columns = (
        Column("date", "Date", "date"),
        Column("currency", "Currency"),
        Column("rate", "Rate", "int"),
        Column("entry", "#", "int"),
        Column("origin", "Origin"),
        Column("used_by", "Used by", "int"),
        Column("source", "Source", optional=True),
    )
    return _report(books, "rates", f"Exchange rates (in {books.currency})", columns, rows, as_of)


def earmarks_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Per earmark: allocated = committed + paid + available, and what is pledged but not yet received.

    A payment on a package drawn from several sources counts against each
    source pro rata to what it gave the package (exact to the cent).
    """
    committed: dict[str, Decimal] = defaultdict(lambda: ZERO)
    paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for package in books.packages.values():
        if package.reversed_by is not None:
            continue
        shares = money.allocate(package.paid, package.sources, books.currency) if package.paid else {}
        for source, amount in package.sources.items():
            paid[source] += shares.get(source, ZERO)
            committed[source] += amount - shares.get(source, ZERO)
    pledged = defaultdict(lambda: ZERO)
    for pledge in books.pledges.values():
        for earmark in pledge.split:
            if earmark is not None:
                pledged[earmark] += pledge.outstanding(earmark)
    rows = []
    for name, earmark in sorted(books.earmarks.items()):
        available = books.balance(model.earmarked(name))
        rows.append(
            {
                "earmark": name,
                "purpose": earmark.purpose,
                "allocated": available + committed[name] + paid[name],
                "committed": committed[name],
                "paid": paid[name],
                "available": available,
                "pledged_outstanding": pledged[name],
            }
        )
    columns = (
        Column("earmark", "Earmark"),
        Column("purpose", "Purpose", optional=True),
        Column("allocated", "Allocated", "money"),
        Column("committed", "Committed", "money"),
        Column("paid", "Paid", "money"),
        Column("available", "Available", "money"),
        Column("pledged_outstanding", "Pledged, not received", "money", optional=True),
    )
    keys = ("allocated", "committed", "paid", "available", "pledged_outstanding")
    totals = {key: sum((row[key] for row in rows), ZERO) for key in keys}
    return _report(books, "earmarks", "Earmarks", columns, rows, as_of, totals)


def packages_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Per package: its date, sources, amount, paid, remaining, and status (open, paid, cancelled)."""
    rows = [
        {
            "package": p.name,
            "memo": p.memo,
            "date": p.date,
            "earmarks": list(p.sources),
            "amount": p.amount,
            "paid": p.paid,
            "remaining": p.remaining,
            "status": p.status,
        }
        for p in sorted(books.packages.values(), key=lambda p: (p.date, p.id))
    ]
    columns = (
        Column("package", "Package"),
        Column("memo", "Memo", optional=True),
        Column("date", "Date", "date", optional=True),
        Column("earmarks", "From", "list", optional=True),
        Column("amount", "Amount", "money"),
        Column("paid", "Paid", "money"),
        Column("remaining", "Remaining", "money"),
        Column("status", "Status"),
    )
    live = [row for row in rows if row["status"] != "cancelled"]
    totals = {key: sum((row[key] for row in live), ZERO) for key in ("amount", "paid", "remaining")}
    return _report(books, "packages", "Packages", columns, rows, as_of, totals)


def members_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Who is a member, since when and in what role; applicants with the approvals recorded so far."""
    order = {"active": 0, "pending": 1, "left": 2}
    rows = []
    for member in sorted(books.members.values(), key=lambda m: (order[m.status], m.joined or m.applied, m.name)):
        missing = books.approvals_missing(member, as_of or dt.date.max) if member.status == "pending" else []
        rows.append(
            {
                "member": member.name,
                "status": member.status,
                "role": member.role,
                "joined": member.joined,
                "applied": member.applied,
                "left": member.left,
                "approvals": sorted(member.approvals),
                "awaiting": missing if member.status == "pending" else [],
                "decision": member.decision,
            }
        )
    columns = (
        Column("member", "Member"),
        Column("status", "Status"),
        Column("role", "Role", optional=True),
        Column("joined", "Since", "date"),
        Column("applied", "Applied", "date", optional=True),
        Column("approvals", "Approved by", "list"),
    )
    return _report(books, "members", "Members", columns, rows, as_of)


@dataclass(frozen=True)
class RegisterFilter:
    account: str | None = None
    member: str | None = None
    earmark: str | None = None
    package: str | None = None
    kind: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None

    def matches(self, entry: Entry, books: Books) -> bool:
        accounts = [p.account for p in entry.postings]
        if self.account and not any(_under(a, self.account) for a in accounts):
            return False
        if self.member:
            found = books.member(self.member)
            names = {entry.get("member"), entry.get("by")}
            if found is None or found.name not in names:
                return False
        if self.earmark and not (
            entry.get("earmark") == self.earmark
            or self.earmark in (entry.get("split") or {})
            or any(
                a.split(":")[-1] == self.earmark and a.startswith(("assets:fund:earmarked", "assets:receivable"))
                for a in accounts
            )
        ):
            return False
        if self.package and entry.get("package") != self.package:
            return False
        if self.kind and entry.kind != self.kind:
            return False
        if self.start and entry.date < self.start:
            return False
        return not (self.end and entry.date > self.end)


def register_report(books: Books, spec: RegisterFilter, as_of: dt.date | None = None) -> Report:
    """The entries, oldest first (by date, then id); with --account, the change and running balance."""
    rows = []
    running = ZERO
    for entry in sorted(books.entries, key=lambda e: (e.date, e.id)):
        if not spec.matches(entry, books):
            continue
        amount = model.size(entry) if entry.postings else None
        given = model.given_as(
            entry
        )  # the rounding in plain sight: the amount given and its rate, beside the converted one
        what = f"{model.subject(entry)}: given as {given}" if given else model.subject(entry)
        row = {**model.to_json(entry), "what": what, "amount": amount}
        if spec.account:
            change = sum((p.amount for p in entry.postings if _under(p.account, spec.account)), ZERO)
            running += change
            row["change"], row["running_balance"] = change, running
        rows.append(row)
    columns = [
        Column("id", "#", "int"),
        Column("date", "Date", "date"),
        Column("kind", "Kind"),
        Column("what", "What"),
        Column("memo", "Memo", optional=True),
    ]
    if spec.account:
        columns += [Column("change", "Change", "money"), Column("running_balance", "Balance", "money")]
    else:
        columns.append(Column("amount", "Amount", "money"))
    title = f"Register of {spec.account}" if spec.account else "Register"
    return _report(books, "register", title, columns, rows, as_of, hidden=("what", "amount"))


def _under(account: str, prefix: str) -> bool:
    return account == prefix or account.startswith(prefix + ":")


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """A share in per cent, rounded once, half-even, to two places (shares are shown, never summed)."""
    if whole == 0:
        return None
    with money.rounding():
        return (part * 100 / whole).quantize(Decimal("0.01"))


_ROOTS = ("assets", "liabilities", "equity", "income", "expenses")


def _tree_key(account: str) -> tuple:
    parts = account.split(":")
    root = _ROOTS.index(parts[0]) if parts[0] in _ROOTS else len(_ROOTS)
    return (root, parts)


# --- what the money bought (issue 16) and a real year's closes and due dates (issue 15) ----------


def funding_report(
    books: Books, as_of: dt.date | None = None, *, member: str | None = None, package: str | None = None
) -> Report:
    """Who funded each package, and how much: what each member's money committed to it (paid or not yet).

    By the tracing rule of docs/FORMAT.md. With `member`, each package that
    member's money went to, and what of its money is not yet spent, per
    envelope (`package` then names the envelope, `status` is `unspent`).
    """
    names = {m.slug: m.name for m in books.members.values()}
    wanted = books.member(member).slug if member and books.member(member) else (model.slug(member) if member else None)
    funding = books.funding
    rows = []
    for name, p in sorted(books.packages.items(), key=lambda item: (item[1].date, item[1].id)):
        if package and name != package:
            continue
        held: dict[str, Decimal] = {}
        for account in books.balances:
            if account == model.committed(name) or account.startswith(model.committed(name) + ":"):
                for owner, amount in funding.of(account).items():
                    held[owner] = held.get(owner, ZERO) + amount
        spent = {o: a for o, a in funding.spent.get(name, {}).items() if a}
        for owner in sorted(set(held) | set(spent)):
            if wanted and owner != wanted:
                continue
            paid, unpaid = spent.get(owner, ZERO), held.get(owner, ZERO)
            rows.append({"package": name, "member": names.get(owner, owner), "amount": paid + unpaid,
                         "paid": paid, "not_yet_paid": unpaid, "status": p.status})  # fmt: skip
    if wanted and not package:
        for account in sorted(books.balances):
            if account == model.UNALLOCATED or account.startswith(model.EARMARKED + ":"):
                share = funding.of(account).get(wanted, ZERO)
                if share:
                    envelope = "unallocated" if account == model.UNALLOCATED else account.rsplit(":", 1)[1]
                    rows.append({"package": envelope, "member": names.get(wanted, wanted), "amount": share,
                                 "paid": ZERO, "not_yet_paid": share, "status": "unspent"})  # fmt: skip
    columns = (
        Column("package", "Package"),
        Column("member", "Member"),
        Column("amount", "Funded", "money"),
        Column("paid", "Paid", "money"),
        Column("not_yet_paid", "Not yet paid", "money", optional=True),
        Column("status", "Status", optional=True),
    )
    totals = {key: sum((row[key] for row in rows), ZERO) for key in ("amount", "paid", "not_yet_paid")}
    return _report(books, "funding", "Who funded what", columns, rows, as_of, totals)


def suppliers_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Per supplier: its country, its contracts, what they are for, what was paid to it, what is left."""
    rows = []
    for supplier in sorted(books.suppliers.values(), key=lambda s: s.name.casefold()):
        contracts = [c for c in books.contracts.values() if c.supplier == supplier.name and c.reversed_by is None]
        contracted = sum((c.amount for c in contracts), ZERO)
        paid = sum((c.paid for c in contracts), ZERO)
        rows.append({"supplier": supplier.name, "country": supplier.country, "number": supplier.number,
                     "contracts": [c.ref for c in contracts], "contracted": contracted, "paid": paid,
                     "remaining": contracted - paid})  # fmt: skip
    columns = (
        Column("supplier", "Supplier"),
        Column("country", "Country", optional=True),
        Column("number", "Registration", optional=True),
        Column("contracts", "Contracts", "list", optional=True),
        Column("contracted", "Contracted", "money"),
        Column("paid", "Paid", "money"),
        Column("remaining", "Remaining", "money"),
    )
    totals = {key: sum((row[key] for row in rows), ZERO) for key in ("contracted", "paid", "remaining")}
    return _report(books, "suppliers", "Suppliers", columns, rows, as_of, totals)


def deliveries_report(books: Books, as_of: dt.date | None = None) -> Report:
    """What was delivered: by package, item, recipient and date (reversed deliveries left out)."""
    rows = [
        {
            "date": d.date, "package": d.package, "item": d.item, "quantity": d.quantity,
            "contract": d.contract or None, "recipient": d.recipient or None, "value": d.value, "entry": d.id,
        }
        for d in sorted(books.deliveries, key=lambda d: (d.date, d.id))
        if d.reversed_by is None
    ]
    columns = (
        Column("date", "Date", "date"),
        Column("package", "Package"),
        Column("item", "Item"),
        Column("quantity", "Quantity", "int"),
        Column("contract", "Contract", optional=True),
        Column("recipient", "To", optional=True),
        Column("value", "Value", "money", optional=True),
    )
    return _report(books, "deliveries", "Deliveries", columns, rows, as_of)


def closes_report(books: Books, as_of: dt.date | None = None) -> Report:
    """The closed periods: when, by which entry, the seal of their end, and whether reopened."""
    rows = [
        {
            "period": c.period, "start": c.start, "end": c.end, "closed": c.date, "close": c.id, "seal": c.seal,
            "seal_shown": c.seal[:12], "reopened_by": c.reopened_by,
        }
        for c in sorted(books.closes.values(), key=lambda c: (c.start, c.id))
    ]
    columns = (
        Column("period", "Period"),
        Column("start", "From", "date", optional=True),
        Column("end", "To", "date"),
        Column("closed", "Closed on", "date"),
        Column("close", "Entry", "int"),
        Column("seal_shown", "Seal of its end"),  # the whole seal is in the JSON and CSV
        Column("reopened_by", "Reopened by", "int", optional=True),
    )
    return _report(books, "closes", "Closed periods", columns, rows, as_of, hidden=("seal_shown",))


def overdue_report(books: Books, as_of: dt.date | None = None) -> Report:
    """Pledges with money fallen due and not received by the day (today by default), with its age."""
    day = as_of or dt.date.today()
    rows = []
    for pledge in sorted(books.pledges.values(), key=lambda p: (p.date, p.id)):
        owed, since = pledge.overdue(day)
        if owed <= 0:
            continue
        age = (day - since).days
        bucket = "0-30" if age <= 30 else "31-90" if age <= 90 else "over 90"
        rows.append({"pledge": pledge.id, "member": pledge.member, "overdue": {pledge.currency: owed},
                     "since": since, "days": age, "bucket": bucket})  # fmt: skip
    columns = (
        Column("pledge", "Pledge", "int"),
        Column("member", "Member"),
        Column("overdue", "Overdue", "amounts"),
        Column("since", "Due since", "date"),
        Column("days", "Days", "int"),
        Column("bucket", "Age", optional=True),
    )
    return _report(books, "overdue", "Overdue pledges", columns, rows, as_of)


def proposals_report(books: Books, as_of: dt.date | None = None, *, everything: bool = False) -> Report:
    """Proposals (open ones unless `everything`): what each would record, how many approvals it has and needs."""
    rows = []
    for proposal in sorted(books.proposals.values(), key=lambda p: p.id):
        if proposal.status != "open" and not everything:
            continue
        proposed = proposal.proposed
        moves = sum((Decimal(p["amount"]) for p in proposed.get("postings", []) if Decimal(p["amount"]) > 0), ZERO)
        subject = " ".join(str(proposed.get(k)) for k in ("member", "package", "contract", "earmark") if proposed.get(k))
        rows.append({"proposal": proposal.id, "date": proposal.date, "kind": proposed["kind"], "subject": subject,
                     "amount": moves if moves else None, "approvals": len(proposal.approvals),
                     "needed": proposal.needed, "status": proposal.status, "booked_as": proposal.booked_as,
                     "proposed": proposed})  # fmt: skip
    columns = (
        Column("proposal", "Proposal", "int"),
        Column("date", "Date", "date", optional=True),
        Column("kind", "Kind"),
        Column("subject", "Of", optional=True),
        Column("amount", "Amount", "money"),
        Column("approvals", "Approved", "int"),
        Column("needed", "Needs", "int"),
        Column("status", "Status"),
    )
    return _report(books, "proposals", "Proposals", columns, rows, as_of)


def approvals_report(books: Books, approvals: list[dict], as_of: dt.date | None = None) -> Report:
    """Who proposed and who approved what, as the audit proved it from the commits' signatures."""
    rows = [
        {"proposal": a["proposal"], "date": dt.date.fromisoformat(a["date"]), "kind": a["kind"],
         "proposer": a["proposer"], "approvers": [name or "(not an officer's signature)" for name in a["approvers"]],
         "status": a["status"], "booked_as": a["booked_as"]}
        for a in approvals
        if as_of is None or dt.date.fromisoformat(a["date"]) <= as_of
    ]
    columns = (
        Column("proposal", "Proposal", "int"),
        Column("date", "Date", "date", optional=True),
        Column("kind", "Kind"),
        Column("proposer", "Proposed by"),
        Column("approvers", "Approved by", "list"),
        Column("status", "Status"),
        Column("booked_as", "Booked as", "int", optional=True),
    )
    return _report(books, "approvals", "Approvals", columns, rows, as_of)
