"""Time `fundledger audit` on a ledger whose history has N commits, one entry each.

    python benchmarks/audit.py [N] [--keep PATH]

The history is written with `git fast-import` (one process, deltified pack),
so building it does not take as long as N real `fundledger` commits would;
the journal bytes are exactly what fundledger writes. Prints the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger import fund, journal, writer
from ledger.books import Books

MEMBERS = ["United Kingdom", "Latvia", "Norway", "Sweden", "Denmark", "Poland", "Netherlands", "Canada"]


def operations(n: int):
    """A realistic stream of builders: members first, then contributions, earmarks, packages, payments."""
    start = dt.date(2024, 2, 1)
    for member in MEMBERS:
        yield lambda b, m=member: fund.join(b, m, "member", fund.Note(start))
    i = 0
    while True:
        i += 1
        day = start + dt.timedelta(days=i // 20)
        note = fund.Note(day, memo=f"Bank reference {i:08d}", source="benchmark")
        member = MEMBERS[i % len(MEMBERS)]
        step = i % 10
        if step < 6:
            yield lambda b, m=member, n=note: fund.contribute(b, m, "250k", n)
        elif step == 6:
            yield lambda b, n=note: fund.earmark(b, "drones", "500k", n)
        elif step == 7:
            yield lambda b, n=note, k=i: fund.package(b, f"pkg-{k}", "400k", ["drones"], n)
        else:
            yield lambda b, n=note, k=i - step + 7: fund.pay(b, f"pkg-{k}", "100k", n)


def build(path: Path, n: int) -> None:
    ledger = journal.init(path, "Benchmark fund", "EUR", "United Kingdom")
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=path, stdin=subprocess.PIPE)
    out = importer.stdin
    stamp = 1_735_689_600

    def commit(files: dict[str, bytes], message: str) -> None:
        nonlocal stamp
        stamp += 60
        who = f"Finance Officer <officer@fund.example> {stamp} +0000\n".encode()
        msg = message.encode()
        out.write(b"commit refs/heads/main\nauthor " + who + b"committer " + who)
        out.write(b"data %d\n%s\n" % (len(msg), msg))
        for name, data in files.items():
            out.write(b"M 100644 inline %s\ndata %d\n" % (name.encode(), len(data)))
            out.write(data + b"\n")

    commit(
        {"ledger.toml": (path / "ledger.toml").read_bytes(), ".gitignore": (path / ".gitignore").read_bytes()}, "init"
    )
    books = Books("EUR", ledger.settings.name, ledger.settings.manager)
    parts: dict[str, bytearray] = {}
    made = 0
    for build_entry in operations(n):
        if made == n:
            break
        try:
            entry = writer.seal(books, [build_entry(books)])[0]  # the fold: every rule, then applied
        except Exception:  # an operation the books cannot take now (no cash yet): skip it
            continue
        data = journal.entry_bytes(entry)
        name = journal.next_file([(k, len(v)) for k, v in parts.items()], entry.recorded_at.year, len(data) + 2)
        content = parts.setdefault(name, bytearray())
        content += (journal.SEPARATOR if content else b"") + data
        commit({f"journal/{name}": bytes(content)}, f"fundledger: #{entry.id} {entry.kind}")
        made += 1
        if made % 1000 == 0:
            print(f"  {made} commits written", file=sys.stderr)
    out.close()
    importer.wait()
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=path, check=True)
    print(f"journal: {sum(map(len, parts.values())):,} bytes in {len(parts)} files, {made} entries")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="build the ledger here and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp()) / "ledger"
    began = time.perf_counter()
    build(folder, args.n)
    print(f"built {args.n} commits in {time.perf_counter() - began:.1f} s")
    command = [sys.executable, "-m", "ledger", "--ledger", str(folder), "audit", "--json"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        timings.append(time.perf_counter() - began)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    print(
        f"fundledger audit on {args.n:,} commits: best {min(timings):.2f} s, worst {max(timings):.2f} s (3 runs, clean)"
    )


if __name__ == "__main__":
    main()
