"""The long versions of the reliability tests; prints the rows docs/RELIABILITY.md keeps.

    python benchmarks/stress.py --writers 8 --entries 100    # concurrent writers only: under half a minute
    python benchmarks/stress.py --trials 2000 --writers 0    # crash trials only: minutes, with a progress line

Runs writers at once into one ledger and, when asked (--trials N), kills
recording children with SIGKILL at random moments; checks after each that
every entry reported as recorded is there, whole, once, in order and chained.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import fund, journal, writer
from ledger.errors import TornWrite


def setup(path: Path) -> journal.Ledger:
    ledger = journal.init(path, "Stress fund", "EUR")
    writer.record(ledger, lambda b: fund.join(b, "Latvia", "member", fund.Note(dt.date(2024, 2, 1))))
    return ledger


def record_forever(ledger, count: int, tag: str, report_fd: int | None) -> None:
    note = fund.Note(dt.date(2024, 3, 1))
    try:
        for i in range(count):
            entry = writer.record(
                ledger, lambda b, i=i: fund.contribute(b, "Latvia", "1k", note.__class__(note.date, f"{tag}-{i}"))
            ).entry
            if report_fd is not None:
                os.write(report_fd, f"{entry.id} {entry.hash}\n".encode())
    finally:
        os._exit(0)


def kills(trials: int, seed: int) -> dict:
    ledger = setup(Path(tempfile.mkdtemp()) / "fund")
    rng = random.Random(seed)
    reported: dict[int, str] = {}
    torn = lost = 0
    for trial in range(trials):
        if trial % 50 == 0 or trial == trials - 1:  # progress on stderr, so the table on stdout stays clean
            print(f"\rcrash trials: {trial + 1}/{trials}", end="", file=sys.stderr, flush=True)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            record_forever(ledger, 10_000, f"k{trial}", write_fd)
        os.close(write_fd)
        time.sleep(rng.uniform(0, 0.05))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(read_fd) as lines:
            for line in lines.read().splitlines():
                if line.count(" ") == 1:
                    entry_id, entry_hash = line.split()
                    reported[int(entry_id)] = entry_hash
        try:
            books = journal.load(ledger)
        except TornWrite as tail:
            torn += 1
            journal.cut_unfinished_tail(ledger, tail)
            books = journal.load(ledger)
        hashes = {e.id: e.hash for e in books.entries}
        lost += sum(1 for i, h in reported.items() if hashes.get(i) != h)
    print(file=sys.stderr)
    return {"trials": trials, "entries reported": len(reported), "torn tails cut": torn, "reported entries lost": lost}


def writers(count: int, each: int) -> dict:
    ledger = setup(Path(tempfile.mkdtemp()) / "fund")
    began = time.perf_counter()
    children = []
    for w in range(count):
        pid = os.fork()
        if pid == 0:
            record_forever(ledger, each, f"w{w}", None)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    seconds = time.perf_counter() - began
    books = journal.load(ledger)
    memos = [e.memo for e in books.entries[1:]]
    expected = {f"w{w}-{i}" for w in range(count) for i in range(each)}
    ok = sorted(memos) == sorted(expected) and [e.id for e in books.entries] == list(range(1, len(books.entries) + 1))
    return {
        "writers": count,
        "entries each": each,
        "entries": len(memos),
        "all present once, in order": ok,
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", "--kills", dest="trials", type=int, default=0,
                        help="crash trials: children killed with SIGKILL (default 0: none; 2000 takes minutes)")  # fmt: skip
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers (0: none)")
    parser.add_argument("--entries", type=int, default=100, help="entries each writer records")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| test | outcome |\n|---|---|", flush=True)
    if args.trials:
        crash = kills(args.trials, args.seed)
        print(
            f"| SIGKILL at random moments | {crash['trials']} kills, {crash['entries reported']} entries reported "
            f"recorded, {crash['reported entries lost']} lost, {crash['torn tails cut']} torn tails cut |",
            flush=True,
        )
    if not args.writers:
        return
    print(f"{args.writers} writers × {args.entries} entries …", file=sys.stderr, flush=True)
    many = writers(args.writers, args.entries)
    print(
        f"| concurrent writers | {many['writers']} × {many['entries each']} = {many['entries']} entries, "
        f"all present once and in order: {many['all present once, in order']}, {many['seconds']} s |"
    )


if __name__ == "__main__":
    main()
