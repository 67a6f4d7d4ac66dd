"""Measure issue 6's table: warm reports, reports after appends, recording, a first read, --help, memory.

    python benchmarks/speed.py [--sizes 10000,100000,1000000] [--work DIR] [--runs 5]

Ledgers are made once with benchmarks/generate.py under --work (default
/tmp/fundledger-bench) and reused by later runs; making the 1,000,000-entry
one takes several minutes. Every figure is a whole `fundledger` process,
timed from outside (the median of --runs runs), with its peak memory from
wait4. When hledger, ledger or beancount (bean-check) is installed, the same
100,000-entry books are exported to their formats and their balance (for
beancount, its check, which is its read) is timed in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
FUNDLEDGER = [sys.executable, "-m", "ledger"]


def timed(command: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall seconds and peak memory (KiB) of one process; it must succeed."""
    began = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or ENV)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return seconds, usage.ru_maxrss


def median(command: list[str], runs: int, env: dict | None = None) -> tuple[float, int]:
    results = [timed(command, env) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def ledger_of(work: Path, size: int) -> Path:
    path = work / f"ledger-{size}"
    if not (path / "ledger.toml").exists():
        shutil.rmtree(path, ignore_errors=True)
        print(f"generating {size:,} entries at {path} ...", file=sys.stderr)
        generate.generate(path, size)
    return path


def report(path: Path, name: str) -> list[str]:
    return [*FUNDLEDGER, "--ledger", str(path), *(["balance"] if name == "balance" else ["report", name])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--work", type=Path, default=Path("/tmp/fundledger-bench"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str]] = []

    def row(what: str, seconds: float, memory: int | None = None) -> None:
        rows.append((what, f"{seconds:.3f} s", f"{memory / 1024:.0f} MiB" if memory else ""))
        print(f"  {what}: {seconds:.3f} s", file=sys.stderr)

    row("`fundledger --help`", *median([*FUNDLEDGER, "--help"], args.runs))
    empty = args.work / "empty"
    shutil.rmtree(empty, ignore_errors=True)
    subprocess.run([*FUNDLEDGER, "init", str(empty), "--name", "E", "--currency", "EUR", "--no-commit"], env=ENV,
                   check=True, capture_output=True)  # fmt: skip
    record = ["contribute", "Latvia", "1k", "--date", "2040-01-01", "--no-commit"]
    subprocess.run([*FUNDLEDGER, "--ledger", str(empty), "member", "join", "Latvia", "--date", "2024-01-01",
                    "--no-commit"], env=ENV, check=True, capture_output=True)  # fmt: skip
    on_empty, _ = median([*FUNDLEDGER, "--ledger", str(empty), *record], args.runs)
    row("record one entry on an empty ledger", on_empty)

    for size in sizes:
        path = ledger_of(args.work, size)
        label = f"{size:,} entries"
        if size == 100_000:
            shutil.rmtree(path / ".cache", ignore_errors=True)
            row(f"first read, no cache ({label}), `report summary`", *timed(report(path, "summary")))
        elif not (path / ".cache" / "books").exists():
            row(f"first read, no cache ({label}), `report summary`", *timed(report(path, "summary")))
        timed(report(path, "summary"))  # the cache is current
        for name in ("summary", "balance"):
            row(f"warm `{'balance' if name == 'balance' else 'report ' + name}` ({label})",
                *median(report(path, name), args.runs))  # fmt: skip
        generate.append(path, 1000)
        row(f"`report summary` after 1,000 entries appended elsewhere ({label})", *timed(report(path, "summary")))
        seconds, memory = median([*FUNDLEDGER, "--ledger", str(path), *record], args.runs)
        row(f"record one entry ({label}); {1000 * (seconds - on_empty):+.0f} ms against empty", seconds, memory)

    compare = args.work / f"ledger-{100_000}"
    if compare.exists():
        others(compare, args.work, row)
    print(f"\n{platform.node()}: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}\n")  # fmt: skip
    print("| what | time | peak memory |\n|---|---|---|")
    for what, seconds, memory in rows:
        print(f"| {what} | {seconds} | {memory} |")


def others(path: Path, work: Path, row) -> None:
    """hledger, ledger and beancount on the same books, through our exporter."""
    n = subprocess.run([*FUNDLEDGER, "--ledger", str(path), "verify", "--json"], env=ENV, capture_output=True)
    entries = n.stdout.decode().split('"entries": ')[1].split(",")[0] if n.returncode == 0 else "?"
    exported = {}
    for fmt, suffix in (("hledger", "journal"), ("beancount", "beancount")):
        target = work / f"export-{entries}.{suffix}"
        subprocess.run([*FUNDLEDGER, "--ledger", str(path), "export", "--format", fmt, "-o", str(target)], env=ENV,
                       check=True, capture_output=True)  # fmt: skip
        exported[fmt] = target
    tools = [
        ("hledger", ["hledger", "-f", str(exported["hledger"]), "balance"]),
        ("ledger", ["ledger", "-f", str(exported["hledger"]), "balance"]),
        ("bean-check", ["bean-check", str(exported["beancount"])]),
    ]
    for tool, command in tools:
        if shutil.which(command[0]) is None and not (Path(sys.executable).parent / command[0]).exists():
            row(f"{tool}: not installed", 0.0)
            continue
        if shutil.which(command[0]) is None:
            command[0] = str(Path(sys.executable).parent / command[0])
        what = f"`{tool if tool == 'bean-check' else tool + ' balance'}` on the same {entries} entries"
        try:
            row(what, *median(command, 3))
        except SystemExit as failed:
            row(f"{what}: failed ({str(failed).splitlines()[-1][:80]})", 0.0)


if __name__ == "__main__":
    main()
