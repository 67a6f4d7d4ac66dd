"""Write a valid ledger of N entries at PATH, directly through the library.

    python benchmarks/generate.py PATH N [--seed S] [--members M] [--earmarks E] [--no-closes | --quarterly]

Twenty members join; then, day after day, members pledge for the year
(split between earmarks), pay what they pledged in instalments, give
without a pledge, the fund sets cash aside in earmarks, commits it to
purchase packages and pays suppliers in instalments; now and then a payment
is reversed. Per 1,000 entries: about 3 pledges of €30M and 3 packages of
€30M, 30 earmarks, 500 receipts, 460 payments, 5 reversals; so, as in a real
fund, the number of pledges, packages and accounts grows far slower than the
number of entries. Every entry is built by `ledger.fund`, checked by every rule
in `ledger.rules` and written with the journal's own bytes and file parts,
so the result is what years of `fundledger` commands would leave (without
the git history: see benchmarks/audit.py for that). Memos carry quotes and
non-ASCII text so that readers meet escapes.

Each year is closed (`fundledger close YEAR`) on the first day of the next
that has an entry, as a fund's books are; `--quarterly` closes each quarter
instead (a first read then reads at most a quarter's entries, docs/PERFORMANCE.md);
`--no-closes` leaves every year open.

`--members M` founds the fund with M members (the twenty above, then
"Member Aaaav" and so on), all of whom then pledge and give; `--earmarks E`
sets 1,000 euros aside in each of E earmarks first ("envelope-000001", ...).
Both count within N: a fund of many members or envelopes, for the benchmarks
that must not slow down with its size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import fund, journal, writer
from ledger.books import Books
from ledger.errors import BadInput, Refused

MEMBERS = [
    "United Kingdom", "Latvia", "Norway", "Sweden", "Denmark", "Poland", "Netherlands", "Canada", "Czechia",
    "Lithuania", "Estonia", "Finland", "Germany", "France", "Italy", "Portugal", "Luxembourg", "Australia",
    "Belgium", "Türkiye",
]  # fmt: skip
EARMARKS = ["drones", "industrial-cooperation", "training", "spares"]


def member_names(count: int) -> list[str]:
    """`count` member names: the twenty of a real coalition, then numbered ones."""
    return MEMBERS[:count] + [f"Member {_letters(number)}" for number in range(len(MEMBERS) + 1, count + 1)]


def _letters(number: int) -> str:
    """A number written in letters (a name has no digits): 21 -> 'Aaaav'."""
    word = ""
    for _ in range(5):
        number, rest = divmod(number, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[rest] + word
    return word.capitalize()


def operations(
    rng: random.Random,
    n: int,
    start: dt.date = dt.date(2024, 2, 1),
    *,
    founding: bool = True,
    members: list[str] = MEMBERS,
    earmarks: int = 0,
    closes: bool = True,
    quarterly: bool = False,
):
    """Builders (books -> entry) in realistic proportions, with the date moving forward from `start`; with
    `closes`, each year (each quarter, with `quarterly`) is closed on the first day of the next that has an
    entry, as a fund's books are."""
    per_day = max(5, n // 3000)  # any size spans about eight years
    for member in members if founding else ():
        yield lambda b, m=member: fund.join(b, m, "co-lead" if m in ("United Kingdom", "Latvia") else "member",
                                            fund.Note(start, "Founding member", "benchmark"))  # fmt: skip
    if earmarks:
        setting = fund.Note(start, "Envelopes for the year", "benchmark")
        yield lambda b: fund.contribute(b, members[0], f"{earmarks}k", setting)
        for number in range(1, earmarks + 1):
            yield lambda b, k=f"envelope-{number:06d}": fund.earmark(b, k, "1k", setting, purpose=f"Envelope {k}")
    pledges: list[tuple[int, str, str]] = []  # (pledge id, member, earmark) still worth paying against
    packages: list[str] = []
    i = 0
    period = _period_of(start, quarterly)
    while True:
        i += 1
        day = start + dt.timedelta(days=1 + i // per_day)
        if closes and _period_of(day, quarterly) > period:
            name = f"{period[0]}Q{period[1]}" if quarterly else str(period[0])
            closing = fund.Note(day, f"Books of {name} closed", "benchmark generator")
            yield lambda b, p=name, n=closing: fund.close(b, p, n)
        period = _period_of(day, quarterly)
        member = rng.choice(members)
        memo = rng.choice(["Bank reference ", 'Transfer "urgent" ', "Paiement reçu – réf. ", "Ref\t"]) + f"{i:08d}"
        note = fund.Note(day, memo, "benchmark generator")
        roll = rng.random()
        if roll < 0.003:
            earmark = rng.choice(EARMARKS[:2])

            def build(b, m=member, n=note, e=earmark, y=day.year):
                entry = fund.pledge(b, m, "30M", y, [f"{e}=20M"], n)
                pledges.append((b.last_id + 1, m, e))
                return entry

            yield build
        elif roll < 0.303 and pledges:
            pledge_id, who, earmark = pledges[rng.randrange(len(pledges))]

            def build(b, p=pledge_id, m=who, e=earmark, n=note):
                if p not in b.pledges or b.pledges[p].total_outstanding < 300_000:
                    pledges.remove((p, m, e))
                    raise Refused("paid in full")
                return fund.contribute(b, m, "300k", n, pledge_id=p)  # settles the parts pro rata

            yield build
        elif roll < 0.50:
            yield lambda b, m=member, n=note: fund.contribute(b, m, f"{rng.randrange(50, 500)}k", n)
        elif roll < 0.53:
            target = rng.choice(EARMARKS)
            yield lambda b, n=note, t=target: fund.earmark(b, t, "3M", n, purpose=f"Envelope for {t}")
        elif roll < 0.533:
            name = f"pkg-{i}"

            def build(b, k=name, n=note):
                source = max(EARMARKS, key=lambda e: b.balance(f"assets:fund:earmarked:{e}"))
                entry = fund.package(b, k, "30M", [source], n)
                packages.append(k)
                return entry

            yield build
        elif roll < 0.995 and packages:
            name = rng.choice(packages[:3])  # the oldest open ones: packages get paid off

            def build(b, k=name, n=note):
                if k not in b.packages or b.packages[k].remaining <= 0:
                    packages.remove(k)
                    raise Refused("paid")
                return fund.pay(b, k, "200k", n, supplier="Supplier Ltd")

            yield build
        elif roll >= 0.995:

            def build(b, n=note):
                for entry in (b.entry(i) for i in range(b.last_id, max(0, b.last_id - 50), -1)):
                    if entry.kind == "pay" and entry.id not in b.reversed_by:
                        packages.insert(0, entry.get("package"))  # owed again: paid off next
                        return fund.reverse(b, entry.id, "Paid twice by the bank", n)
                raise Refused("nothing to reverse")

            yield build


def _period_of(day: dt.date, quarterly: bool) -> tuple[int, int]:
    return (day.year, (day.month - 1) // 3 + 1 if quarterly else 0)


def generate(
    path: Path, n: int, seed: int = 1, *, quiet: bool = False, members: int = 20, earmarks: int = 0,
    closes: bool = True, quarterly: bool = False,
) -> Books:  # fmt: skip
    """Create the ledger at `path` with `n` entries (`members` members, `earmarks` extra earmarks, each year
    closed unless not `closes`); return its books."""
    ledger = journal.init(path, "Benchmark fund", "EUR", "United Kingdom")
    books = Books("EUR", ledger.settings.name, ledger.settings.manager)
    steps = operations(random.Random(seed), n, members=member_names(members), earmarks=earmarks, closes=closes,
                       quarterly=quarterly)  # fmt: skip
    return _write(ledger, books, steps, n, {}, quiet=quiet)


def append(path: Path, n: int, seed: int = 2) -> int:
    """Append `n` entries to the ledger at `path` as a `git pull` would: new bytes, the cache untouched."""
    ledger = journal.open_ledger(path)
    books = journal.load(ledger)
    last = max(books.latest.values(), default=dt.date(2024, 2, 1))
    files = ledger.journal_files()
    parts = {files[-1].name: bytearray(files[-1].read_bytes())} if files else {}
    steps = operations(random.Random(seed), n, last, founding=False)
    _write(ledger, books, steps, books.count + n, parts, quiet=True)
    return n


def _write(ledger, books: Books, steps, n: int, parts: dict[str, bytearray], *, quiet: bool) -> Books:
    gc.disable()  # millions of objects that live to the end: collecting them only costs time
    states: dict[str, bytes] = {}  # each close's state file (ledger.state), by its digest
    for build in steps:
        if books.count == n:
            break
        try:
            entry = writer.seal(books, [build(books)], states)[0]  # the fold: every rule, then applied
        except (Refused, BadInput):  # an operation the books cannot take now: skip it
            continue
        data = journal.entry_bytes(entry)
        name = journal.next_file([(k, len(v)) for k, v in parts.items()][-1:], entry.recorded_at.year, len(data) + 2)
        content = parts.setdefault(name, bytearray())
        content += (journal.SEPARATOR if content else b"") + data
        if not quiet and entry.id % 50_000 == 0:
            print(f"  {entry.id:,} entries", file=sys.stderr)
    for recorded, data in states.items():
        journal.write_state(ledger, recorded, data)
    for name, content in parts.items():
        (ledger.journal_dir / name).write_bytes(content)
    gc.enable()
    return books


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--members", type=int, default=len(MEMBERS), help="members founding the fund (default 20)")
    parser.add_argument("--earmarks", type=int, default=0, help="earmarks set up first (default none)")
    parser.add_argument("--no-closes", dest="closes", action="store_false", help="never close a year")
    parser.add_argument("--quarterly", action="store_true", help="close each quarter, not each year")
    args = parser.parse_args()
    began = time.perf_counter()
    books = generate(args.path, args.n, args.seed, members=args.members, earmarks=args.earmarks, closes=args.closes,
                     quarterly=args.quarterly)  # fmt: skip
    files = sorted((args.path / journal.JOURNAL_DIR).iterdir())
    size = sum(f.stat().st_size for f in files)
    print(
        f"{books.count:,} entries, {size:,} bytes in {len(files)} files at {args.path}, "
        f"written in {time.perf_counter() - began:.1f} s"
    )


if __name__ == "__main__":
    main()
