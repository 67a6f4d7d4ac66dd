"""The closed set of entry kinds: each declared once, with every part it needs.

A kind's declaration says which fields its entries carry, which of them
name other entries (sync moves them to new ids, render shows them as
`#id`), whether it moves money (and between which accounts), the rule that
checks it, how it is applied to the books, the operation in `ledger.fund`
that builds it and the command that records it. Everything that handles
entries dispatches through this table, never on a name built from a string,
so a kind that lacks a part fails closed (`fold` refuses it) and the suite's
`test_kinds.py` names the part that is missing.

To add a kind: declare it here, write its operation (`fund`), its rule and
accounts (`rules`), its apply (`books`) and its command (`cli`), then its
refusals in `tests/test_rules.py` and its fields in docs/FORMAT.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ledger import books, fund, model, rules
from ledger.books import Books
from ledger.model import Entry


@dataclass(frozen=True)
class Field:
    name: str
    type: type
    required: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    fields: tuple[Field, ...]
    rule: Callable[[Books, Entry], None] | None
    apply: Callable[[Books, Entry], None] | None
    operation: Callable[..., Entry] | None
    command: str  # the fundledger command that records it ("member join", "pay"); "" for none
    moves_money: bool = False
    accounts: Callable[[Books, Entry], rules.Accounts] | None = None  # for one that moves money
    refs: tuple[str, ...] = ()  # fields holding the id of another entry
    creates: str = ""  # a field naming a thing this entry brings into being (a package)
    uses: tuple[str, ...] = ()  # fields naming a thing another entry brought into being

    def missing(self) -> list[str]:
        """The parts this kind lacks; a kind with any missing is refused."""
        absent = [part for part in ("rule", "apply", "operation") if getattr(self, part) is None]
        if self.moves_money and self.accounts is None:
            absent.append("accounts")
        if not self.moves_money and self.accounts is not None:
            absent.append("no accounts (it moves no money)")
        named = {f.name for f in self.fields}
        absent += [f"refs field {name}" for name in (*self.refs, *self.uses) if name not in named]
        if self.creates and self.creates not in named:
            absent.append(f"creates field {self.creates}")
        return absent


# Days inside an entry's own fields are ISO text ("2025-06-30"), so the canonical form the chain hashes
# (docs/FORMAT.md) needs no rule for them beyond the entry's own `date` and `recorded_at`.
# Money given or pledged in another currency than the fund's: the amount as given, its currency, and the
# rate (fund currency per unit) it was converted at. The postings are in the fund's currency.
_ORIGINAL = (Field("original_amount", str), Field("original_currency", str), Field("rate", str))

REGISTRY: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind("join", (Field("member", str, True), Field("role", str, True)),
             rules.check_join, books.apply_join, fund.join, "member join"),
        Kind("apply", (Field("member", str, True),),
             rules.check_apply, books.apply_apply, fund.apply, "member apply"),
        Kind("approve", (Field("member", str, True), Field("by", str), Field("decision", str)),
             rules.check_approve, books.apply_approve, fund.approve, "member approve"),
        Kind("leave", (Field("member", str, True),),
             rules.check_leave, books.apply_leave, fund.leave, "member leave"),
        Kind("pledge", (Field("member", str, True), Field("year", int, True), Field("split", dict), *_ORIGINAL,
                        Field("due", str), Field("instalments", dict)),
             rules.check_pledge, books.apply_pledge, fund.pledge, "pledge",
             moves_money=True, accounts=rules.accounts_pledge),
        Kind("contribute", (Field("member", str, True), Field("pledge", int), Field("split", dict), *_ORIGINAL),
             rules.check_contribute, books.apply_contribute, fund.contribute, "contribute",
             moves_money=True, accounts=rules.accounts_contribute, refs=("pledge",)),
        Kind("earmark", (Field("earmark", str, True), Field("purpose", str)),
             rules.check_earmark, books.apply_earmark, fund.earmark, "earmark",
             moves_money=True, accounts=rules.accounts_earmark),
        Kind("package", (Field("package", str, True),),
             rules.check_package, books.apply_package, fund.package, "package",
             moves_money=True, accounts=rules.accounts_package, creates="package"),
        Kind("pay", (Field("package", str, True), Field("supplier", str), Field("invoice", str), Field("again", str),
                     Field("contract", str), *_ORIGINAL),
             rules.check_pay, books.apply_pay, fund.pay, "pay",
             moves_money=True, accounts=rules.accounts_pay, uses=("package", "contract")),
        Kind("reverse", (Field("reverses", int, True), Field("reason", str, True)),
             rules.check_reverse, books.apply_reverse, fund.reverse, "reverse",
             moves_money=True, accounts=rules.accounts_reverse, refs=("reverses",)),
        Kind("repair", (Field("file", str, True), Field("offset", int, True), Field("removed_bytes", int, True),
                        Field("removed_sha256", str, True)),
             rules.check_repair, books.apply_repair, fund.repair, "repair"),
        Kind("rate", (Field("currency", str, True), Field("rate", str, True)),
             rules.check_rate, books.apply_rate, fund.rate, "rate"),
        Kind("interest", (Field("envelope", str, True),),
             rules.check_interest, books.apply_interest, fund.interest, "interest",
             moves_money=True, accounts=rules.accounts_interest),
        Kind("charge", (Field("envelope", str, True),),
             rules.check_charge, books.apply_charge, fund.charge, "charge",
             moves_money=True, accounts=rules.accounts_charge),
        Kind("fee", (Field("envelope", str, True),),
             rules.check_fee, books.apply_fee, fund.fee, "fee",
             moves_money=True, accounts=rules.accounts_fee),
        Kind("write_off", (Field("pledge", int, True), Field("reason", str, True), Field("withdrawn", bool),
                           Field("amount", str, True), Field("currency", str, True)),
             rules.check_write_off, books.apply_write_off, fund.write_off, "write-off",
             moves_money=True, accounts=rules.accounts_write_off, refs=("pledge",)),
        Kind("amend", (Field("package", str, True), Field("reason", str, True), Field("close", bool)),
             rules.check_amend, books.apply_amend, fund.amend, "amend",
             moves_money=True, accounts=rules.accounts_amend, uses=("package",)),
        Kind("close", (Field("period", str, True), Field("start", str, True), Field("end", str, True),
                       Field("balances", dict, True), Field("seal", str, True), Field("state", str),
                       Field("state_layout", str)),
             rules.check_close, books.apply_close, fund.close, "close"),
        Kind("reopen", (Field("close", int, True), Field("reason", str, True)),
             rules.check_reopen, books.apply_reopen, fund.reopen, "reopen", refs=("close",)),
        Kind("supplier", (Field("supplier", str, True), Field("country", str, True), Field("number", str)),
             rules.check_supplier, books.apply_supplier, fund.supplier, "supplier add", creates="supplier"),
        Kind("contract", (Field("package", str, True), Field("supplier", str, True), Field("contract", str, True),
                          Field("item", str), Field("quantity", int), *_ORIGINAL),
             rules.check_contract, books.apply_contract, fund.contract, "contract",
             moves_money=True, accounts=rules.accounts_contract, uses=("package", "supplier"), creates="contract"),
        Kind("amend_contract", (Field("contract", str, True), Field("package", str, True), Field("reason", str, True),
                                Field("close", bool)),
             rules.check_amend_contract, books.apply_amend_contract, fund.amend_contract, "amend",
             moves_money=True, accounts=rules.accounts_amend_contract, uses=("package", "contract")),
        Kind("officer", (Field("officer", str, True), Field("key", str, True), Field("roles", list, True)),
             rules.check_officer, books.apply_officer, fund.officer, "officer add"),
        Kind("policy", (Field("target", str, True), Field("approvals", int, True), Field("above", str)),
             rules.check_policy, books.apply_policy, fund.policy, "policy"),
        Kind("proposal", (Field("proposed", str, True), Field("needed", int, True)),
             rules.check_proposal, books.apply_proposal, fund.propose, "propose"),
        Kind("approval", (Field("proposal", int, True),),
             rules.check_approval, books.apply_approval, fund.approve_proposal, "approve", refs=("proposal",)),
        Kind("reject", (Field("proposal", int, True), Field("reason", str, True)),
             rules.check_reject, books.apply_reject, fund.reject, "reject", refs=("proposal",)),
        Kind("deliver", (Field("package", str, True), Field("item", str, True), Field("quantity", int, True),
                         Field("contract", str), Field("to", str), Field("value", str)),
             rules.check_deliver, books.apply_deliver, fund.deliver, "deliver", uses=("package", "contract")),
        Kind("statement", (Field("statement", str, True), Field("account", str), Field("format", str),
                           Field("currency", str, True), Field("rows", int), Field("opening", str),
                           Field("opening_date", str), Field("closing", str), Field("closing_date", str)),
             rules.check_statement, books.apply_statement, fund.statement, "import"),
    )
}  # fmt: skip

NAMES = tuple(REGISTRY)
rules.KIND_NAMES = NAMES  # the policy rule names kinds; rules cannot import this module, which imports it
# Every field of any kind that names another entry: what sync renumbers and render shows as `#id`.
REFS = frozenset(name for kind in REGISTRY.values() for name in kind.refs)


class UnknownKind(ValueError):
    """An entry of a kind this version does not know: written by a newer fundledger, or forged."""

    def __init__(self, kind: Any, entry_id: Any) -> None:
        self.kind, self.entry_id = kind, entry_id
        plain_id = isinstance(entry_id, int) and not isinstance(entry_id, bool) and 0 < entry_id < 2**63
        which = f"entry #{entry_id}" if plain_id else "an entry"
        if not isinstance(kind, str):
            super().__init__(f"{which} has a kind that is not text ({type(kind).__name__})")
            return
        super().__init__(
            f"{which} is of kind {kind[:64]!r}, which this version of fundledger does not know; "
            "it may have been written by a newer fundledger: upgrade to read this journal"
        )


def get(name: str) -> Kind | None:
    return REGISTRY.get(name)


def refs_of(entry: Entry) -> tuple[str, ...]:
    """The fields of this entry that name another entry by id: its own kind's, never another kind's field of
    the same name (an amendment's `close = true` is no reference, a reopening's `close = 4` is)."""
    kind = REGISTRY.get(entry.kind)
    return kind.refs if kind else ()


def from_record(record: Mapping[str, Any]) -> Entry:
    """An entry from a parsed TOML table, its shape checked against its kind's fields.

    ValueError says what is wrong; `UnknownKind` (a ValueError) when the kind is not in the registry.
    """
    if not isinstance(record, Mapping):
        raise ValueError("an entry must be a table")
    kind = REGISTRY.get(record.get("kind")) if isinstance(record.get("kind"), str) else None
    if kind is None:
        raise UnknownKind(record.get("kind"), record.get("id"))
    own = _OWN.get(kind.name)
    if own is None or own[0] is not kind.fields:
        own = _OWN[kind.name] = (kind.fields, {f.name: (f.type, f.required) for f in kind.fields})
    return model.from_record(record, own[1])


_OWN: dict[str, tuple[Any, dict[str, tuple[type, bool]]]] = {}  # kind -> (its fields, as model.from_record takes them)
