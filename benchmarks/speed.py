"""Measure issue 22's table: each daily question beside ledger-cli's and hledger's answer on the same books.

    python benchmarks/speed.py [--sizes 10000,100000] [--work DIR] [--runs 3] [--members 10000,20000]
                               [--earmarks 100000]

Ledgers are made once with benchmarks/generate.py under --work (default
/tmp/fundledger-bench) and reused by later runs (a 1,000,000-entry one takes
a quarter of an hour or more to make). Every figure is a whole process, timed
from outside: the best of --runs runs (the machines we measure on are
shared, so the best is the least disturbed), with its peak memory from wait4
(for a pipeline, the largest of its processes). Each size's books are
exported once (`fundledger export --format hledger`, which ledger-cli reads
too) in the same run, and `ledger` and `hledger` answer the same question on
them; the ratio is fundledger's time over the other tool's (below 1: faster).
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402
import statement  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("PYTHONDONTWRITEBYTECODE", None)  # compiling every module on every start is not what users see
FUNDLEDGER = [sys.executable, "-m", "ledger"]
Row = tuple[str, str, str, str, str]  # what, fundledger, ledger-cli, hledger, memory


def timed(command: list[str] | str) -> tuple[float, int]:
    """Wall seconds and peak memory (KiB) of one process (a string: a shell pipeline); it must succeed."""
    argv = ["sh", "-c", command] if isinstance(command, str) else command
    began = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {argv}\n{process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return seconds, usage.ru_maxrss


def best(command: list[str] | str, runs: int) -> tuple[float, int]:
    results = [timed(command) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def imported(path: Path, rows: Path, runs: int) -> tuple[float, int]:
    """`import` of a statement of 5,000 receipts into a warm copy of the ledger, made anew for each run."""
    mapping = statement.write(path, 5000, rows)
    results = []
    for _ in range(runs):
        copy = path.with_name(path.name + "-import")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(path, copy, symlinks=True)
        results.append(timed(fl(copy, "import", str(rows), "--map", str(mapping))))
        shutil.rmtree(copy)
    return min(r[0] for r in results), max(r[1] for r in results)


def ledger_of(work: Path, name: str, size: int, **options) -> Path:
    path = work / name
    if not (path / "ledger.toml").exists():
        shutil.rmtree(path, ignore_errors=True)
        print(f"generating {name} ({size:,} entries) at {path} ...", file=sys.stderr)
        generate.generate(path, size, quiet=True, **options)
    return path


def fl(path: Path, *args: str) -> list[str]:
    return [*FUNDLEDGER, "--ledger", str(path), *args]


def shell(command: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)


def version(tool: str) -> str:
    """The first line `tool --version` prints."""
    return subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.splitlines()[0].strip()


def ratio(ours: float, theirs: float | None) -> str:
    return "" if not theirs else f"{ours / theirs:.2f}×"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fundledger-bench"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--members", default="10000,20000", help="member counts of the many-members rows ('' none)")
    parser.add_argument("--earmarks", default="100000", help="earmark counts of the many-earmarks rows ('' none)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    tools = {tool: shutil.which(tool) for tool in ("ledger", "hledger")}
    rows: list[Row] = []

    def row(what: str, ours: tuple[float, int], ledger: float | None = None, hledger: float | None = None) -> None:
        seconds, memory = ours
        cells = [f"{seconds:.2f} s"]
        cells += [f"{t:.2f} s ({ratio(seconds, t)})" if t else "" for t in (ledger, hledger)]
        rows.append((what, *cells, f"{memory / 1024:.0f} MiB"))  # type: ignore[arg-type]
        print(f"  {what}: {' | '.join(cells)}", file=sys.stderr)

    def other(tool: str, command: str) -> float | None:
        return best(command, args.runs)[0] if tools[tool] else None

    row("`fundledger --help`", best([*FUNDLEDGER, "--help"], args.runs))
    for size in [int(s) for s in args.sizes.split(",") if s]:
        path = ledger_of(args.work, f"ledger-{size}", size)
        n = f"{size:,}"
        books = args.work / f"export-{size}.journal"
        # The read cache current, with every entry read (today's summary may begin at the last close's state).
        subprocess.run(fl(path, "report", "members"), env=ENV, check=True, capture_output=True)
        exported = timed(fl(path, "export", "--format", "hledger", "-o", str(books)))
        j = shlex.quote(str(books))
        row(f"`export --format hledger` ({n} entries; `print`)", exported,
            other("ledger", f"ledger -f {j} print > /dev/null"), other("hledger", f"hledger -f {j} print > /dev/null"))
        shutil.rmtree(path / ".cache", ignore_errors=True)
        first = timed(fl(path, "report", "summary"))
        row(f"first read, no cache, `report summary` ({n}; `balance`)", first,
            other("ledger", f"ledger -f {j} balance"), other("hledger", f"hledger -f {j} balance"))
        shutil.rmtree(path / ".cache", ignore_errors=True)  # a report the last close's state cannot make: every entry
        row(f"first read, no cache, `report register --member Latvia` ({n}; `reg latvia`)",
            timed(fl(path, "report", "register", "--member", "Latvia")),
            other("ledger", f"ledger -f {j} reg latvia"), other("hledger", f"hledger -f {j} reg latvia"))  # fmt: skip
        for name in ("summary", "balance"):
            command = fl(path, "balance") if name == "balance" else fl(path, "report", name)
            row(f"warm `{'balance' if name == 'balance' else 'report summary'}` ({n}; `balance`)",
                best(command, args.runs), other("ledger", f"ledger -f {j} balance"),
                other("hledger", f"hledger -f {j} balance"))  # fmt: skip
        row(f"warm `report register --member Latvia` ({n}; `reg latvia`)",
            best(fl(path, "report", "register", "--member", "Latvia"), args.runs),
            other("ledger", f"ledger -f {j} reg latvia"), other("hledger", f"hledger -f {j} reg latvia"))  # fmt: skip
        month = ("2028-01-01", "2028-01-31")
        row(f"warm `report register --from {month[0]} --to {month[1]}` ({n}; `reg -b -e`)",
            best(fl(path, "report", "register", "--from", month[0], "--to", month[1]), args.runs),
            other("ledger", f"ledger -f {j} reg -b {month[0]} -e 2028-02-01"),
            other("hledger", f"hledger -f {j} reg -b {month[0]} -e 2028-02-01"))  # fmt: skip
        row(f"warm `report register --account assets:fund:unallocated --period 2028-01` ({n})",
            best(fl(path, "report", "register", "--account", "assets:fund:unallocated", "--period", "2028-01"),
                 args.runs))  # fmt: skip
        row(f"warm `report statement Latvia` ({n})", best(fl(path, "report", "statement", "Latvia"), args.runs))
        for what in (["statement", "Latvia"], ["summary"]):  # from the read cache's marks, no longer a replay
            row(f"warm `report {' '.join(what)} --period 2028Q1` ({n})",
                best(fl(path, "report", *what, "--period", "2028Q1"), args.runs))
        row(f"`report register | head -5` ({n}; `reg | head -5`)",
            best(shell(fl(path, "report", "register")) + " | head -5", args.runs),
            other("ledger", f"ledger -f {j} reg | head -5"), other("hledger", f"hledger -f {j} reg | head -5"))
        for fmt in ("json", "csv"):
            row(f"whole `report register --{fmt}` ({n}; whole `reg`)",
                best(shell(fl(path, "report", "register", f"--{fmt}")) + " > /dev/null", 1),
                other("ledger", f"ledger -f {j} reg > /dev/null"), other("hledger", f"hledger -f {j} reg > /dev/null"))
        row(f"`import` of a 5,000-row statement ({n})", imported(path, args.work / f"statement-{size}.csv", args.runs))
    for count in [int(s) for s in args.members.split(",") if s]:
        path = ledger_of(args.work, f"members-{count}", count, members=count)
        shutil.rmtree(path / ".cache", ignore_errors=True)
        row(f"first read, {count:,} members (joins), `report summary`", timed(fl(path, "report", "summary")))
    for count in [int(s) for s in args.earmarks.split(",") if s]:
        path = ledger_of(args.work, f"earmarks-{count}", count + count // 10, earmarks=count)
        shutil.rmtree(path / ".cache", ignore_errors=True)
        row(f"first read, {count:,} earmarks, `report summary`", timed(fl(path, "report", "summary")))
        row(f"warm `report summary`, {count:,} earmarks", best(fl(path, "report", "summary"), args.runs))
    versions = [version(tool) for tool in tools if tools[tool]]
    print(f"\n{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{', '.join(versions)}, {time.strftime('%Y-%m-%d %H:%M %Z')}\n")
    print("| what (entries; the other tools' command) | fundledger | ledger-cli (ratio) | hledger (ratio) | peak memory |")
    print("|---|---|---|---|---|")
    for cells in rows:
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")


if __name__ == "__main__":
    main()
