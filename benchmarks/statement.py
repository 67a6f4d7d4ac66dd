"""Write a bank statement of N receipts (a CSV and its map) for a ledger benchmarks/generate.py made.

    python benchmarks/statement.py LEDGER N OUT.csv      # writes OUT.csv and OUT.map.toml
    fundledger --ledger LEDGER import OUT.csv --map OUT.map.toml

Each row is money received from one of the ledger's members, as a bank
writes it (its own name for the member, a day after the ledger's last entry,
1.234,56-style amounts, a reference of its own), so that an import matches
every row to a member and to its open pledge when it has one.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import journal


def write(ledger_path: Path, rows: int, out: Path, seed: int = 3) -> Path:
    """The statement at `out` and its map beside it (`out` with .map.toml); returns the map's path."""
    books = journal.load(journal.open_ledger(ledger_path))
    members = sorted(m.name for m in books.members.values() if m.status == "active")
    day = max(books.latest.values(), default=dt.date(2025, 1, 1)) + dt.timedelta(days=1)
    rng = random.Random(seed)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Value date", "Ordering party", "Amount", "Currency", "Bank reference", "Remittance"])
        for number in range(1, rows + 1):
            cents = rng.randrange(1_000_000, 50_000_000)
            amount = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
            writer.writerow([day.strftime("%d/%m/%Y"), _bank_name(rng.choice(members)), amount, "EUR",
                             f"BENCH-{number:07d}", f"Contribution {number}"])  # fmt: skip
    mapping = out.with_suffix(".map.toml")
    names = "\n".join(f'"{_bank_name(m)}" = "{m}"' for m in members)
    mapping.write_text(
        'kind = "contribute"\ndelimiter = ";"\nencoding = "utf-8"\n\n[columns]\ndate = "Value date"\n'
        'member = "Ordering party"\namount = "Amount"\ncurrency = "Currency"\nreference = "Bank reference"\n'
        'memo = "Remittance"\n\n[formats]\ndate = "%d/%m/%Y"\ndecimal = ","\nthousands = "."\n\n'
        f"[members]\n{names}\n",
        encoding="utf-8",
    )
    return mapping


def _bank_name(member: str) -> str:
    return f"TREASURY OF {member.upper()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ledger", type=Path)
    parser.add_argument("rows", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    mapping = write(args.ledger, args.rows, args.out)
    print(f"{args.rows:,} rows in {args.out}, map in {mapping}")


if __name__ == "__main__":
    main()
