#!/bin/bash
# The million-entry figures of docs/PERFORMANCE.md ("A million entries"), run on demand:
#
#   python benchmarks/generate.py /tmp/fund-1m 1000000        # about an hour
#   python -m ledger --ledger /tmp/fund-1m export --format hledger -o /tmp/fund-1m.journal
#   benchmarks/million.sh /tmp/fund-1m /tmp/fund-1m.journal
#   WARM=1 benchmarks/million.sh /tmp/fund-1m                 # only the warm questions, on the cache as it is
#
# Three first reads from the last close's state (the cache thrown away each time), one first read of every entry
# (which writes the whole cache), then the best of RUNS (5) warm runs of each question, then ledger-cli's month
# register on the export for comparison. Each line: seconds, peak memory, the command.
set -u
L=${1:?the ledger folder}
E=${2:-}
RUNS=${RUNS:-5}
cd "$(dirname "$0")/.."
# What a user's installed copy does: modules compiled once. With PYTHONDONTWRITEBYTECODE set (as on our
# machines), a module changed since its .pyc was written is compiled again at every start, 0.2-0.4 s of each.
unset PYTHONDONTWRITEBYTECODE
python -m compileall -q ledger
F="python -m ledger --ledger $L"
t() { /usr/bin/time -f "%e s %M KB  $*" "$@" > /dev/null; }
best() {  # the best of RUNS runs: the machine is shared, and the best is the least disturbed
    for i in $(seq "$RUNS"); do t "$@" 2>&1; done | sort -n | head -1
}
if [ -z "${WARM:-}" ]; then
    for i in 1 2 3; do rm -rf "$L/.cache"; t $F report summary; done
    t $F report members
fi
best $F report summary
best $F balance
best $F report summary --period 2028Q1
best $F report statement Latvia --period 2028Q1
best $F report statement Norway --period 2030Q4
# A package of about 400 entries (the generated fund has no member of a few hundred): its register.
P=$(python - "$L" <<'PY'
import sys
from pathlib import Path
from ledger import journal
books = journal.load(journal.open_ledger(Path(sys.argv[1])), use_cache=True)
sizes = sorted((len(ids), name) for name, ids in books.index.ids["package"].items())
print(min(sizes, key=lambda size: abs(size[0] - 400))[1])
PY
)
echo "package $P"
best $F report register --package "$P"
best $F report register --from 2028-01-01 --to 2028-01-31
t $F export --format hledger --as-of 2024-12-31 -o /tmp/million-as-of.journal
if [ -n "$E" ] && command -v ledger > /dev/null; then
    t ledger -f "$E" reg -b 2028-01-01 -e 2028-02-01
fi
